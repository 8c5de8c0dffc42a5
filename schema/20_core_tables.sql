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
	delivery_type orders.delivery_type NOT NULL DEFAULT 'CODE_WITH_PIN'
);
COMMENT ON TABLE orders.products IS 'the catalog of products that can be ordered';

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
	UNIQUE (client_id, po_number)
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
	loaded_at	timestamptz NOT NULL DEFAULT now()
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
	updated_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE orders.recharges IS 'mobile top-up recharges, one per top-up item';
