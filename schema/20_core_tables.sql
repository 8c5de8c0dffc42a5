-- The entities that carry a status.  Every client-owned table leads with
-- client_id, so clients shard cleanly (docs/design.md).  Status columns are
-- guarded by orders.lifecycle_guard (schema/30_lifecycle.sql).

CREATE TABLE orders.clients (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE orders.clients IS 'API clients: the owners of orders and wallets';

CREATE TABLE orders.products (
	id			bigint PRIMARY KEY CHECK (id > 0),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	currency	char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
	delivery_type orders.delivery_type NOT NULL DEFAULT 'CODE_WITH_PIN',
	-- the catalog (schema/50_catalog.sql, docs/orders.md)
	kind		text NOT NULL DEFAULT 'GIFT_CARD' CHECK (kind IN ('GIFT_CARD', 'TOPUP')),
	-- denominations: a fixed list, or a range min..max in steps of step
	-- from min; neither means the product is not orderable yet
	denominations numeric(14, 2)[] CHECK (0 < ALL (denominations)),
	min_denomination numeric(14, 2) CHECK (min_denomination > 0),
	max_denomination numeric(14, 2),
	denomination_step numeric(14, 2) CHECK (denomination_step > 0),
	delivery_mode orders.delivery_mode NOT NULL DEFAULT 'ONLINE',
	classification orders.classification NOT NULL DEFAULT 'CLOSED_LOOP',
	link_type	orders.link_type,
	order_quantity_limit integer NOT NULL DEFAULT 1 CHECK (order_quantity_limit BETWEEN 1 AND 10000),
	discount_percent numeric(5, 2) NOT NULL DEFAULT 0 CHECK (discount_percent >= 0 AND discount_percent < 100),
	vendor_logo text NOT NULL DEFAULT '',
	active		boolean NOT NULL DEFAULT true,
	CHECK (denominations IS NULL OR min_denomination IS NULL),
	CHECK ((min_denomination IS NULL) = (max_denomination IS NULL)
		   AND (min_denomination IS NULL) = (denomination_step IS NULL)),
	CHECK (max_denomination >= min_denomination)
);
COMMENT ON TABLE orders.products IS 'the catalog of products that can be ordered';
-- The catalog is the operator's: pg_dump keeps its rows.
SELECT pg_catalog.pg_extension_config_dump('orders.products', '');

CREATE TABLE orders.orders (
	client_id	bigint NOT NULL REFERENCES orders.clients,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	po_number	text NOT NULL CHECK (length(po_number) BETWEEN 1 AND 100),
	product_id	bigint NOT NULL REFERENCES orders.products,
	denomination numeric(14, 2) NOT NULL CHECK (denomination > 0),
	quantity	integer NOT NULL CHECK (quantity > 0),
	status		orders.order_status NOT NULL DEFAULT 'PLACED',
	sub_status	orders.order_sub_status NOT NULL DEFAULT 'INITIAL',
	placed_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	-- client_seq defaults to the id (a trigger, schema/54_order_listing.sql);
	-- the rest is set by orders.create_order (schema/53_order_create.sql) and
	-- nullable, so that tests of other concerns can insert bare orders
	client_seq	bigint NOT NULL,	-- the place in the client's list: increasing, gaps allowed
	-- ORD- and 16 hex digits: 4 from the minute the order is placed (they
	-- repeat every 45 days), 12 random.  The codes of new orders land next to
	-- each other in the unique index: fully random ones landed on a random
	-- leaf page, which cost a full-page image in the WAL after every
	-- checkpoint, ~8 KB per order on a large table (docs/benchmarks.md).
	reference_code text NOT NULL UNIQUE
		DEFAULT 'ORD-' || upper(lpad(to_hex((floor(extract(epoch FROM now()) / 60)::bigint % 65536)::integer), 4, '0')
								|| substr(md5(gen_random_uuid()::text), 1, 12)),
	request_fingerprint bytea,		-- sha256 of the normalized request
	email		text,
	tag			text,
	notify_receiver_email boolean NOT NULL DEFAULT false,
	notify_admin_email boolean NOT NULL DEFAULT false,
	mobile_country_code text,
	mobile_number text,
	charge_currency char(3),		-- the wallet debited
	currency_value numeric(20, 10),	-- product currency -> charge currency
	discount_percent numeric(5, 2),
	raw_order_total numeric,
	order_total numeric(14, 2),
	raw_order_discount numeric,
	order_discount numeric(14, 2),
	amount_charged numeric(14, 2),
	transaction_id bigint,			-- the DEBIT ledger entry
	UNIQUE (client_id, po_number),
	UNIQUE (client_id, client_seq)
);
COMMENT ON TABLE orders.orders IS 'orders; (client_id, po_number) is the idempotency key';

CREATE TABLE orders.inventory_units (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	product_id	bigint NOT NULL REFERENCES orders.products,
	denomination numeric(14, 2) NOT NULL CHECK (denomination > 0),
	status		orders.inventory_status NOT NULL DEFAULT 'AVAILABLE',
	expires_at	timestamptz NOT NULL,
	-- written and read only through the vault (src/vault*.c): ciphertexts
	-- bound to this row and field; no plaintext column exists.
	card_number_enc bytea,
	pin_code_enc bytea,
	claim_url_enc bytea,
	reference_enc bytea,
	-- keyed HMAC of the card number (of the claim URL for URL-only units),
	-- to refuse a code loaded twice without storing it; and the vault key
	-- the row's values are under (NULL: no values), for rotation.
	fingerprint	bytea,
	key_id		integer,
	loaded_at	timestamptz NOT NULL DEFAULT now(),
	-- where the unit comes from: NULL for stock, else the vendor job whose
	-- vouchers it is (schema/64_inventory.sql); only stock serves a restock.
	-- Its foreign key is added with orders.vendor_jobs (schema/61).
	vendor_job_id bigint
);
COMMENT ON TABLE orders.inventory_units IS 'voucher units, one row a voucher, codes encrypted';

CREATE TABLE orders.order_items (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_id	bigint NOT NULL REFERENCES orders.orders,
	status		orders.order_status NOT NULL DEFAULT 'PENDING',
	-- unique: a unit is linked to at most one item, so no double sale
	unit_id		bigint UNIQUE REFERENCES orders.inventory_units,
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON orders.order_items (order_id);
COMMENT ON TABLE orders.order_items IS 'one row per unit of an order''s quantity';

CREATE TABLE orders.recharges (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_item_id bigint NOT NULL UNIQUE REFERENCES orders.order_items,
	status		orders.recharge_status NOT NULL DEFAULT 'PENDING',
	-- the operator's id of the recharge, from its submission on (fulfilment)
	operator_reference text,
	detail		text,
	updated_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE orders.recharges IS 'mobile top-up recharges, one per top-up item';
