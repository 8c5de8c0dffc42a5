-- The reference implementation, part 1: schema, types and tables.
--
-- What a capable team would build without the orders extension: plain
-- tables, native enum status columns, PL/pgSQL functions, pgcrypto for the
-- codes.  It lives in schema ref of the benchmark database, beside orders,
-- and stores the same rows so that both are measured on the same work
-- (docs/benchmarks.md).  Installed by bench/run.sh after CREATE EXTENSION
-- orders; not part of the extension.
--
-- The tables take the engine's columns, defaults and checks
-- (LIKE ... INCLUDING DEFAULTS, CONSTRAINTS, IDENTITY), so the two never
-- drift apart.  What is the reference's own: status and other enum
-- columns are native enums; the engine's own design columns for the list
-- (client_seq) and the replay check (request_fingerprint) are dropped, the
-- reference compares columns and counts rows instead; keys, foreign keys
-- and indexes are declared below.

CREATE SCHEMA ref;
COMMENT ON SCHEMA ref IS
'benchmark baseline: the order engine as plain tables and PL/pgSQL (bench/reference/)';

-- ref.<table>: the engine's orders.<table>, its enum columns turned into
-- native enums with the same labels in the same order (created on first
-- use, labels read from the extension), without the columns in p_drop.
CREATE PROCEDURE ref.copy_table(p_table text, p_drop text[] DEFAULT '{}')
LANGUAGE plpgsql AS $$
DECLARE
	c record;
	def text;
BEGIN
	EXECUTE format('CREATE TABLE ref.%I (LIKE orders.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS'
				   ' INCLUDING IDENTITY INCLUDING GENERATED)', p_table, p_table);
	FOR c IN SELECT unnest(p_drop) AS col LOOP
		EXECUTE format('ALTER TABLE ref.%I DROP COLUMN %I', p_table, c.col);
	END LOOP;
	FOR c IN SELECT a.attname, t.typname, pg_get_expr(d.adbin, d.adrelid) AS dflt
			   FROM pg_attribute a
			   JOIN pg_type t ON t.oid = a.atttypid
			   LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
			  WHERE a.attrelid = format('ref.%I', p_table)::regclass AND a.attnum > 0
				AND NOT a.attisdropped AND t.typnamespace = 'orders'::regnamespace
				AND t.typtype = 'b' LOOP
		IF to_regtype(format('ref.%I', c.typname)) IS NULL THEN
			EXECUTE format('CREATE TYPE ref.%I AS ENUM (%s)', c.typname,
						   (SELECT string_agg(quote_literal(l), ', ')
							  FROM orders.labels(format('orders.%I', c.typname)::regtype) AS l));
			EXECUTE format('COMMENT ON TYPE ref.%I IS %L', c.typname,
						   'native enum with the labels of orders.' || c.typname);
		END IF;
		def := replace(c.dflt, '::orders.', '::ref.');
		EXECUTE format('ALTER TABLE ref.%1$I ALTER COLUMN %2$I DROP DEFAULT,'
					   ' ALTER COLUMN %2$I TYPE ref.%3$I USING %2$I::text::ref.%3$I',
					   p_table, c.attname, c.typname);
		IF def IS NOT NULL THEN
			EXECUTE format('ALTER TABLE ref.%I ALTER COLUMN %I SET DEFAULT %s', p_table, c.attname, def);
		END IF;
	END LOOP;
	EXECUTE format('COMMENT ON TABLE ref.%I IS %L', p_table,
				   'the reference''s ' || p_table || ' (the columns of orders.' || p_table || ')');
END
$$;
COMMENT ON PROCEDURE ref.copy_table(text, text[]) IS
'creates ref.<table> with the columns of orders.<table>, enums as native enums';

CALL ref.copy_table('clients');
ALTER TABLE ref.clients ADD PRIMARY KEY (id), ADD UNIQUE (name);

CALL ref.copy_table('currencies');
ALTER TABLE ref.currencies ADD PRIMARY KEY (code);
INSERT INTO ref.currencies SELECT * FROM orders.currencies;

CALL ref.copy_table('products');
ALTER TABLE ref.products ADD PRIMARY KEY (id),
	ADD FOREIGN KEY (currency) REFERENCES ref.currencies;

CALL ref.copy_table('fx_rates');
ALTER TABLE ref.fx_rates ADD PRIMARY KEY (base, quote);

CALL ref.copy_table('client_discounts');
ALTER TABLE ref.client_discounts ADD PRIMARY KEY (client_id, product_id);

CALL ref.copy_table('wallets');
ALTER TABLE ref.wallets ADD PRIMARY KEY (id), ADD UNIQUE (client_id, currency),
	ADD FOREIGN KEY (client_id) REFERENCES ref.clients;
CREATE UNIQUE INDEX ON ref.wallets (client_id) WHERE is_default;

CALL ref.copy_table('orders', '{client_seq, request_fingerprint}');
ALTER TABLE ref.orders ADD PRIMARY KEY (id), ADD UNIQUE (client_id, po_number),
	ADD UNIQUE (reference_code),
	ADD FOREIGN KEY (client_id) REFERENCES ref.clients,
	ADD FOREIGN KEY (product_id) REFERENCES ref.products;
-- The order list: newest first, unfiltered or by status or product.
CREATE INDEX orders_by_client_placed_at ON ref.orders (client_id, placed_at DESC, id DESC);
CREATE INDEX orders_by_client_status ON ref.orders (client_id, status, placed_at DESC, id DESC);
CREATE INDEX orders_by_client_product ON ref.orders (client_id, product_id, placed_at DESC, id DESC);

CALL ref.copy_table('ledger_entries');
ALTER TABLE ref.ledger_entries ADD PRIMARY KEY (id),
	ADD FOREIGN KEY (wallet_id) REFERENCES ref.wallets,
	ADD FOREIGN KEY (order_id) REFERENCES ref.orders;
CREATE INDEX ON ref.ledger_entries (wallet_id, id);
CREATE UNIQUE INDEX ON ref.ledger_entries (order_id) WHERE kind = 'DEBIT';
CREATE UNIQUE INDEX ON ref.ledger_entries (order_id) WHERE kind = 'REFUND';

-- Codes: pgp_sym_encrypt()ed, no plaintext column; the fingerprint is an
-- HMAC of the card number (duplicate detection), key_id the key version.
CALL ref.copy_table('inventory_units');
ALTER TABLE ref.inventory_units ADD PRIMARY KEY (id), ADD UNIQUE (product_id, fingerprint),
	ADD FOREIGN KEY (product_id) REFERENCES ref.products;
CREATE INDEX ON ref.inventory_units (key_id);
-- Allocation: AVAILABLE units of a product and denomination, earliest expiry first.
CREATE INDEX units_available ON ref.inventory_units (product_id, denomination, expires_at, id)
	WHERE status = 'AVAILABLE';

CALL ref.copy_table('order_items');
ALTER TABLE ref.order_items ADD PRIMARY KEY (id), ADD UNIQUE (unit_id),
	ADD FOREIGN KEY (order_id) REFERENCES ref.orders,
	ADD FOREIGN KEY (unit_id) REFERENCES ref.inventory_units;
CREATE INDEX ON ref.order_items (order_id);

CALL ref.copy_table('voucher_reveals');
ALTER TABLE ref.voucher_reveals ADD PRIMARY KEY (id);
CREATE INDEX ON ref.voucher_reveals (client_id, order_id);

CREATE FUNCTION ref.rfc3339(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
COMMENT ON FUNCTION ref.rfc3339(timestamptz) IS 'RFC 3339 UTC text of a time';
