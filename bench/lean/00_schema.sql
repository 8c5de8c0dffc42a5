-- The lean reference, part 1: its tables.
--
-- A plain PL/pgSQL implementation of the core guarantees of an order and
-- nothing else (issue 11): validation, idempotency on (client, poNumber) by
-- a unique index and ON CONFLICT, the wallet debit with its ledger row,
-- allocation of AVAILABLE units with FOR UPDATE SKIP LOCKED, a PL/pgSQL
-- status guard, one event row per status change.  No order items, no
-- outbox delivery, no list counters, no reveal, no pricing beyond
-- denomination x quantity, no currencies.  It is the yardstick of what
-- those guarantees cost when written plainly and competently: the keys and
-- foreign keys they need, no index they do not.  Schema lean of the
-- benchmark database, installed by bench/run.sh; docs/benchmarks.md.

CREATE SCHEMA lean;
COMMENT ON SCHEMA lean IS
'benchmark baseline: the core guarantees of an order only, plain PL/pgSQL (bench/lean/)';

CREATE TYPE lean.order_status AS ENUM ('PENDING', 'PROCESSING', 'DELIVERED', 'FAILED', 'CANCELLED');
COMMENT ON TYPE lean.order_status IS 'status of a lean order (PENDING: paid, waiting for units)';

CREATE TYPE lean.unit_status AS ENUM ('AVAILABLE', 'SOLD', 'BLOCKED');
COMMENT ON TYPE lean.unit_status IS 'status of a lean voucher unit';

CREATE TABLE lean.products (
	id			bigint PRIMARY KEY,
	name		text NOT NULL,
	denominations numeric(14, 2)[] NOT NULL,
	order_quantity_limit integer NOT NULL DEFAULT 1 CHECK (order_quantity_limit > 0),
	active		boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE lean.products IS 'what can be ordered, in which denominations';

-- One wallet per client: the client is its wallet.
CREATE TABLE lean.wallets (
	client_id	bigint PRIMARY KEY,
	balance		numeric(14, 2) NOT NULL CHECK (balance >= 0)
);
COMMENT ON TABLE lean.wallets IS 'the balance of each client';

CREATE TABLE lean.orders (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	client_id	bigint NOT NULL REFERENCES lean.wallets,
	po_number	text NOT NULL,
	product_id	bigint NOT NULL REFERENCES lean.products,
	denomination numeric(14, 2) NOT NULL,
	quantity	integer NOT NULL,
	amount		numeric(14, 2) NOT NULL,
	email		text,
	tag			text,
	status		lean.order_status NOT NULL DEFAULT 'PENDING',
	placed_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (client_id, po_number)		-- the idempotency key
);
COMMENT ON TABLE lean.orders IS 'orders; (client_id, po_number) is the idempotency key';

CREATE TABLE lean.ledger (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	client_id	bigint NOT NULL REFERENCES lean.wallets,
	order_id	bigint REFERENCES lean.orders,
	amount		numeric(14, 2) NOT NULL,
	balance_after numeric(14, 2) NOT NULL,
	at			timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE lean.ledger IS 'every movement of a wallet, with the balance after it';

-- A unit's code is stored encrypted by whoever loads it; nothing here
-- reads it (no reveal).
CREATE TABLE lean.units (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	product_id	bigint NOT NULL REFERENCES lean.products,
	denomination numeric(14, 2) NOT NULL,
	status		lean.unit_status NOT NULL DEFAULT 'AVAILABLE',
	expires_at	timestamptz NOT NULL,
	code		bytea NOT NULL,
	order_id	bigint REFERENCES lean.orders
);
-- Allocation: AVAILABLE units of a product and denomination, earliest expiry first.
CREATE INDEX units_available ON lean.units (product_id, denomination, expires_at, id)
	WHERE status = 'AVAILABLE';
COMMENT ON TABLE lean.units IS 'voucher units; a sold unit names its order';

CREATE TABLE lean.order_events (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	-- no foreign key: only the order's own trigger writes these rows, in
	-- the statement that writes the order
	order_id	bigint NOT NULL,
	from_status lean.order_status,
	to_status	lean.order_status NOT NULL,
	at			timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE lean.order_events IS 'one row per status change of an order (its creation included)';
