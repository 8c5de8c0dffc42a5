-- The reference implementation, part 1: schema, types and tables.
--
-- What a capable team would build without the orders extension: plain
-- tables, native enum status columns, PL/pgSQL functions, pgcrypto for the
-- codes.  It lives in schema ref of the benchmark database, beside orders,
-- and mirrors orders' data shapes and indexes so that both are measured on
-- the same work (docs/benchmarks.md).  Installed by bench/run.sh after
-- CREATE EXTENSION orders; not part of the extension.

CREATE SCHEMA ref;
COMMENT ON SCHEMA ref IS
'benchmark baseline: the order engine as plain tables and PL/pgSQL (bench/reference/)';

-- Native enums with the same labels, in the same order, as orders' C types
-- (read from the extension so that the two never drift).
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['order_status', 'order_sub_status', 'inventory_status',
							  'delivery_type'] LOOP
		EXECUTE format('CREATE TYPE ref.%I AS ENUM (%s)', t,
					   (SELECT string_agg(quote_literal(l), ', ')
						  FROM orders.labels(format('orders.%I', t)::regtype) AS l));
	END LOOP;
END
$$;
COMMENT ON TYPE ref.order_status IS 'primary order status (native enum)';
COMMENT ON TYPE ref.order_sub_status IS 'order sub-status (native enum)';
COMMENT ON TYPE ref.inventory_status IS 'state of one voucher unit (native enum)';
COMMENT ON TYPE ref.delivery_type IS 'delivery format of a voucher (native enum)';

CREATE TABLE ref.clients (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ref.clients IS 'API clients';

-- Currencies (with the minor unit amounts are rounded to) as the engine
-- knows them.
CREATE TABLE ref.currencies (
	code		char(3) PRIMARY KEY,
	minor_unit	smallint NOT NULL CHECK (minor_unit BETWEEN 0 AND 2)
);
INSERT INTO ref.currencies SELECT code, minor_unit FROM orders.currencies;
COMMENT ON TABLE ref.currencies IS 'ISO 4217 currencies and their minor units';

CREATE TABLE ref.products (
	id			bigint PRIMARY KEY CHECK (id > 0),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	kind		text NOT NULL DEFAULT 'GIFT_CARD' CHECK (kind IN ('GIFT_CARD', 'TOPUP')),
	currency	char(3) NOT NULL REFERENCES ref.currencies,
	delivery_type ref.delivery_type NOT NULL DEFAULT 'CODE_WITH_PIN',
	denominations numeric(14, 2)[],		-- a fixed list, or
	min_denomination numeric(14, 2),	-- a range with a step
	max_denomination numeric(14, 2),
	denomination_step numeric(14, 2),
	order_quantity_limit integer NOT NULL DEFAULT 1 CHECK (order_quantity_limit > 0),
	discount_percent numeric(5, 2) NOT NULL DEFAULT 0
		CHECK (discount_percent >= 0 AND discount_percent < 100),
	vendor_logo text NOT NULL DEFAULT '',
	active		boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE ref.products IS 'the catalog';

CREATE TABLE ref.fx_rates (
	base		char(3) NOT NULL REFERENCES ref.currencies,
	quote		char(3) NOT NULL REFERENCES ref.currencies,
	rate		numeric(20, 10) NOT NULL CHECK (rate > 0),
	PRIMARY KEY (base, quote)
);
COMMENT ON TABLE ref.fx_rates IS 'exchange rates: 1 base costs rate quote';

CREATE TABLE ref.client_discounts (
	client_id	bigint NOT NULL REFERENCES ref.clients,
	product_id	bigint NOT NULL REFERENCES ref.products,
	discount_percent numeric(5, 2) NOT NULL,
	PRIMARY KEY (client_id, product_id)
);
COMMENT ON TABLE ref.client_discounts IS 'per-client discount of a product';

CREATE TABLE ref.wallets (
	client_id	bigint NOT NULL REFERENCES ref.clients,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	currency	char(3) NOT NULL REFERENCES ref.currencies,
	balance		numeric(14, 2) NOT NULL DEFAULT 0 CHECK (balance >= 0),
	is_default	boolean NOT NULL DEFAULT false,
	UNIQUE (client_id, currency)
);
CREATE UNIQUE INDEX ON ref.wallets (client_id) WHERE is_default;
COMMENT ON TABLE ref.wallets IS 'one wallet per client and currency; never negative';

CREATE TABLE ref.orders (
	client_id	bigint NOT NULL REFERENCES ref.clients,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	po_number	text NOT NULL CHECK (length(po_number) BETWEEN 1 AND 100),
	product_id	bigint NOT NULL REFERENCES ref.products,
	denomination numeric(14, 2) NOT NULL CHECK (denomination > 0),
	quantity	integer NOT NULL CHECK (quantity > 0),
	status		ref.order_status NOT NULL DEFAULT 'PLACED',
	sub_status	ref.order_sub_status NOT NULL DEFAULT 'INITIAL',
	placed_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	reference_code text NOT NULL UNIQUE
		DEFAULT 'ORD-' || upper(substr(md5(gen_random_uuid()::text), 1, 16)),
	email		text,
	tag			text,
	notify_receiver_email boolean NOT NULL DEFAULT false,
	notify_admin_email boolean NOT NULL DEFAULT false,
	mobile_country_code text,
	mobile_number text,
	charge_currency char(3),
	currency_value numeric(20, 10),
	discount_percent numeric(5, 2),
	raw_order_total numeric,
	order_total numeric(14, 2),
	raw_order_discount numeric,
	order_discount numeric(14, 2),
	amount_charged numeric(14, 2),
	transaction_id bigint,
	UNIQUE (client_id, po_number)
);
-- The order list: newest first, unfiltered or by status or product.
CREATE INDEX orders_by_client_placed_at ON ref.orders (client_id, placed_at DESC, id DESC);
CREATE INDEX orders_by_client_status ON ref.orders (client_id, status, placed_at DESC, id DESC);
CREATE INDEX orders_by_client_product ON ref.orders (client_id, product_id, placed_at DESC, id DESC);
COMMENT ON TABLE ref.orders IS 'orders; (client_id, po_number) is the idempotency key';

CREATE TABLE ref.ledger_entries (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	wallet_id	bigint NOT NULL REFERENCES ref.wallets,
	kind		text NOT NULL CHECK (kind IN ('FUNDING', 'DEBIT', 'REFUND', 'ADJUSTMENT')),
	amount		numeric(14, 2) NOT NULL,
	balance_after numeric(14, 2) NOT NULL,
	order_id	bigint REFERENCES ref.orders,
	note		text,
	actor		text NOT NULL DEFAULT current_user,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON ref.ledger_entries (wallet_id, id);
CREATE UNIQUE INDEX ON ref.ledger_entries (order_id) WHERE kind = 'DEBIT';
CREATE UNIQUE INDEX ON ref.ledger_entries (order_id) WHERE kind = 'REFUND';
COMMENT ON TABLE ref.ledger_entries IS 'append-only wallet movements, with the balance after each';

CREATE TABLE ref.inventory_units (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	product_id	bigint NOT NULL REFERENCES ref.products,
	denomination numeric(14, 2) NOT NULL CHECK (denomination > 0),
	status		ref.inventory_status NOT NULL DEFAULT 'AVAILABLE',
	expires_at	timestamptz NOT NULL,
	-- pgp_sym_encrypt()ed; no plaintext column
	card_number_enc bytea,
	pin_code_enc bytea,
	claim_url_enc bytea,
	reference_enc bytea,
	fingerprint bytea NOT NULL,		-- HMAC of the card number: duplicate detection
	key_id		integer NOT NULL DEFAULT 1,	-- the key version, for rotation
	loaded_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (product_id, fingerprint)
);
CREATE INDEX ON ref.inventory_units (key_id);
-- Allocation: AVAILABLE units of a product and denomination, earliest expiry first.
CREATE INDEX units_available ON ref.inventory_units (product_id, denomination, expires_at, id)
	WHERE status = 'AVAILABLE';
COMMENT ON TABLE ref.inventory_units IS 'voucher units, codes encrypted with pgcrypto';

CREATE TABLE ref.order_items (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_id	bigint NOT NULL REFERENCES ref.orders,
	status		ref.order_status NOT NULL DEFAULT 'PENDING',
	unit_id		bigint UNIQUE REFERENCES ref.inventory_units,
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON ref.order_items (order_id);
COMMENT ON TABLE ref.order_items IS 'one row per unit of an order''s quantity';

CREATE TABLE ref.voucher_reveals (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_id	bigint NOT NULL,
	order_item_id bigint NOT NULL,
	unit_id		bigint NOT NULL,
	revealed_at timestamptz NOT NULL DEFAULT now(),
	revealed_by text NOT NULL
);
CREATE INDEX ON ref.voucher_reveals (client_id, order_id);
COMMENT ON TABLE ref.voucher_reveals IS 'one row per voucher revealed to a client';
