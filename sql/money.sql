-- Money: wallets, the append-only ledger that moves them, verify_ledger,
-- refunds exactly once, and pricing (quote) with its rounding.
\set SHOW_CONTEXT never
\set VERBOSITY default
SET search_path = orders, public;

-- Fixed client ids (far above what other suites get from the identity)
-- keep the messages stable; try() shows an error's SQLSTATE and message
-- with order and wallet ids masked.
INSERT INTO clients (id, name) OVERRIDING SYSTEM VALUE
VALUES (4201, 'money client a'), (4202, 'money client b'), (4203, 'money client c'),
	   (4204, 'money client yen');
\set ca 4201
\set cb 4202
\set cc 4203
\set cy 4204
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'ok';
EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ' ' || regexp_replace(SQLERRM, '(order|wallet) [0-9]+', '\1 N', 'g');
END $$;

-- Funding opens the wallet and appends a FUNDING entry with the balance after it.
SELECT fund_wallet(:ca, 'USD', 100.00, 'initial') > 0 AS funded;
SELECT fund_wallet(:ca, 'USD', 0.50) > 0 AS funded;
SELECT currency, balance, is_default FROM wallets WHERE client_id = :ca;
SELECT kind, amount, balance_after, note FROM ledger_entries WHERE client_id = :ca ORDER BY id;

-- Bad funding changes nothing.
SELECT fund_wallet(:ca, 'USD', 0);
SELECT fund_wallet(:ca, 'USD', -5);
SELECT fund_wallet(:ca, 'USD', 1.005);
SELECT fund_wallet(:ca, 'XXX', 10);
SELECT fund_wallet(-1, 'USD', 10);
SELECT count(*) AS entries FROM ledger_entries WHERE client_id = :ca;

-- The default wallet: at most one per client.
SELECT open_wallet(:ca, 'EUR', true) > 0 AS opened;
SELECT open_wallet(:ca, 'USD', true) = open_wallet(:ca, 'USD') AS same_wallet;
SELECT currency, balance, is_default FROM wallets WHERE client_id = :ca ORDER BY currency;

-- A balance moves only through the ledger, never below zero.
SELECT pg_temp.try($$UPDATE orders.wallets SET balance = 1000 WHERE client_id = 4201 AND currency = 'USD'$$);
INSERT INTO wallets (client_id, currency, balance) VALUES (:cb, 'USD', 50);
INSERT INTO ledger_entries (client_id, wallet_id, kind, amount, note)
SELECT :ca, id, 'ADJUSTMENT', -100.51, 'too much' FROM wallets WHERE client_id = :ca AND currency = 'USD';
INSERT INTO ledger_entries (client_id, wallet_id, kind, amount, note)
SELECT :ca, id, 'ADJUSTMENT', -100.50, 'all of it' FROM wallets WHERE client_id = :ca AND currency = 'USD';
SELECT balance FROM wallets WHERE client_id = :ca AND currency = 'USD';
-- The CHECK holds even when the guarding trigger is bypassed.
\set VERBOSITY terse
BEGIN;
ALTER TABLE wallets DISABLE TRIGGER wallet_guard;
UPDATE wallets SET balance = -1 WHERE client_id = :ca AND currency = 'USD';
ROLLBACK;
\set VERBOSITY default
SELECT fund_wallet(:ca, 'USD', 100) > 0 AS funded;
-- A ledger entry names a wallet of its own client.
SELECT pg_temp.try($$INSERT INTO orders.ledger_entries (client_id, wallet_id, kind, amount)
	SELECT 4202, id, 'FUNDING', 5 FROM orders.wallets WHERE client_id = 4201 AND currency = 'USD'$$);
-- Kinds and signs.
\set VERBOSITY terse
INSERT INTO ledger_entries (client_id, wallet_id, kind, amount)
SELECT :ca, id, 'FUNDING', -5 FROM wallets WHERE client_id = :ca AND currency = 'USD';
INSERT INTO ledger_entries (client_id, wallet_id, kind, amount)
SELECT :ca, id, 'GIFT', 5 FROM wallets WHERE client_id = :ca AND currency = 'USD';
\set VERBOSITY default

-- The ledger is append-only, for everybody.
UPDATE ledger_entries SET amount = 1000 WHERE client_id = :ca;
DELETE FROM ledger_entries WHERE client_id = :ca;
TRUNCATE ledger_entries;
SET session_replication_role = replica;
DELETE FROM ledger_entries WHERE client_id = :ca;
RESET session_replication_role;

-- verify_ledger: none now; it names a wallet whose balance was changed
-- behind the ledger's back (guard switched off on purpose).
SELECT * FROM verify_ledger();
BEGIN;
ALTER TABLE wallets DISABLE TRIGGER wallet_guard;
UPDATE wallets SET balance = balance + 1 WHERE client_id = :ca AND currency = 'USD';
SELECT currency, balance, ledger_sum FROM verify_ledger();
ROLLBACK;
SELECT count(*) AS mismatches FROM verify_ledger();

-- Restoring a dump (docs/releases.md, "Backups"): restore_begin refuses a
-- database that holds orders already; restore_end refuses books that do
-- not add up, and leaves the triggers off then.
SELECT pg_temp.try('SELECT orders.restore_begin()');
BEGIN;
ALTER TABLE wallets DISABLE TRIGGER wallet_guard;
UPDATE wallets SET balance = balance + 1 WHERE client_id = :ca AND currency = 'USD';
SELECT pg_temp.try('SELECT orders.restore_end()');
SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'wallets'::regclass AND tgname = 'wallet_guard';
ROLLBACK;

-- Refunds: exactly once per order, at most what was charged.
INSERT INTO products (id, name, currency, denominations, order_quantity_limit)
VALUES (4201, 'Money Card', 'USD', '{10,25}', 3);
SELECT (create_order(:ca, p_product_id => 4201, p_quantity => 2, p_denomination => 25,
					 p_email => NULL, p_tag => NULL, p_po_number => 'money-1')).replayed;
SELECT id AS o1 FROM orders.orders WHERE client_id = :ca AND po_number = 'money-1' \gset
SELECT balance FROM wallets WHERE client_id = :ca AND currency = 'USD';
SELECT pg_temp.try('SELECT orders.refund_order(' || :o1 || ', 50.01)');
SELECT pg_temp.try('SELECT orders.refund_order(' || :o1 || ', 0)');
SELECT pg_temp.try('SELECT orders.refund_order(' || :o1 || ', 0.001)');
SELECT pg_temp.try('SELECT orders.refund_order(-1)');
SELECT refund_order(:o1, 20.00, 'one item failed') > 0 AS refunded;
SELECT pg_temp.try('SELECT orders.refund_order(' || :o1 || ')');
SELECT kind, amount, balance_after, note FROM ledger_entries WHERE order_id = :o1 ORDER BY id;
-- The constraint, not only the function, refuses a second refund.
\set VERBOSITY terse
INSERT INTO ledger_entries (client_id, wallet_id, kind, amount, order_id)
SELECT client_id, wallet_id, 'REFUND', 1, order_id FROM ledger_entries WHERE order_id = :o1 AND kind = 'DEBIT';
INSERT INTO ledger_entries (client_id, wallet_id, kind, amount, order_id)
SELECT client_id, wallet_id, 'DEBIT', -1, order_id FROM ledger_entries WHERE order_id = :o1 AND kind = 'DEBIT';
\set VERBOSITY default
SELECT count(*) AS mismatches FROM verify_ledger();

-- Pricing.  Half-up rounding to the charge currency's minor unit, raw
-- amounts exact; quote = what create charges.
INSERT INTO products (id, name, currency, min_denomination, max_denomination,
					  denomination_step, order_quantity_limit, discount_percent)
VALUES (4202, 'Money Range', 'USD', 0.01, 500, 0.01, 10, 2.50),
	   (4203, 'Money Euro', 'EUR', 1, 100, 1, 10, 0),
	   (4204, 'Money Yen', 'JPY', 100, 10000, 1, 10, 3.33),
	   (4205, 'Money Pound', 'GBP', 5, 50, 5, 1, 0);
INSERT INTO fx_rates (base, quote, rate) VALUES ('EUR', 'USD', 1.0837), ('JPY', 'USD', 0.006655);
-- 2.5% of 0.01 x 3 = 0.00075: rounds to 0.00; 2.5% of 0.18 = 0.0045 -> 0.00;
-- 2.5% of 0.20 = 0.005 -> 0.01 (half up); 2.5% of 0.02 x 7 = 0.0035 -> 0.00.
SELECT d, q, quote(:ca, 4202, d, q)
FROM (VALUES (0.01, 3), (0.18, 1), (0.20, 1), (0.02, 7), (19.90, 1), (0.30, 1)) v(d, q);
-- Client b has only a USD wallet, its default: EUR products are converted.
SELECT open_wallet(:cb, 'USD', true) > 0 AS opened, fund_wallet(:cb, 'USD', 100) > 0 AS funded;
-- Conversion: 7 EUR x 1.0837 = 7.5859 USD -> 7.59; 3 EUR x 1.0837 = 3.2511 -> 3.25;
-- 5 EUR = 5.4185 -> 5.42 (half up at the third decimal).
SELECT d, q, quote(:cb, 4203, d, q) FROM (VALUES (7, 1), (3, 1), (5, 1)) v(d, q);
-- A client of its own with a default wallet in JPY (minor unit 0).
SELECT fund_wallet(:cy, 'JPY', 100000) > 0 AS funded;
-- 1234 JPY x 3.33% = 41.0922 -> 41; 150 JPY x 3 = 450, 3.33% = 14.985 -> 15.
SELECT d, q, quote(:cy, 4204, d, q) FROM (VALUES (1234, 1), (150, 3)) v(d, q);
-- A per-client discount replaces the product's.
INSERT INTO client_discounts VALUES (:cy, 4204, 10);
SELECT quote(:cy, 4204, 1234, 1);
-- No wallet in the currency, no default wallet, no rate: refused.
SELECT quote(:cc, 4202, 1, 1);
SELECT quote(:cy, 4203, 5, 1);
SELECT quote(:cb, 4205, 5, 1);
-- Quote checks the order line like create does.
SELECT quote(:ca, 4202, 0.005, 1);
SELECT quote(:ca, 4202, 600, 1);
SELECT quote(:ca, 4202, 1, 11);
SELECT quote(:ca, 4202, 1, 0);
SELECT quote(:ca, 4999, 1, 1);
-- What create charges is what quote said, field for field.
SELECT quote(:cb, 4203, 7, 2) AS q \gset
SELECT (create_order(:cb, p_product_id => 4203, p_quantity => 2, p_denomination => 7,
					 p_email => NULL, p_tag => NULL, p_po_number => 'money-fx')).response
	#> '{data,placeOrder,data}' AS r \gset
SELECT key, q -> key AS quoted, r -> key AS charged
FROM (SELECT :'q'::jsonb AS q, :'r'::jsonb AS r) v, jsonb_object_keys(q) key
WHERE key NOT IN ('productId', 'denomination', 'quantity')
ORDER BY key;
SELECT kind, amount FROM ledger_entries
WHERE order_id = (SELECT id FROM orders.orders WHERE client_id = :cb AND po_number = 'money-fx');
SELECT balance FROM wallets WHERE client_id = :cb;
SELECT count(*) AS mismatches FROM verify_ledger();

-- Privileges: the API role cannot call the internal functions (they take
-- any client id) nor touch money; the admin role moves money only through
-- the functions made for it.
SET ROLE orders_api;
SELECT pg_temp.try($$SELECT orders.create_order(4201, '{}'::jsonb)$$) AS api_create,
	   pg_temp.try('SELECT orders.quote(4201, 4202, 1, 1)') AS api_quote,
	   pg_temp.try('SELECT orders.list_orders(4201)') AS api_list,
	   pg_temp.try('SELECT orders.order_details(4201, 1)') AS api_details,
	   pg_temp.try($$SELECT orders.fund_wallet(4201, 'USD', 1)$$) AS api_fund,
	   pg_temp.try('SELECT count(*) FROM orders.wallets') AS api_wallets;
SELECT orders.delivery_time(4202, 1, 1) AS api_delivery_time;
RESET ROLE;
SET ROLE orders_admin;
SELECT orders.fund_wallet(4203, 'USD', 7) > 0 AS admin_funded;
SELECT pg_temp.try($$INSERT INTO orders.ledger_entries (client_id, wallet_id, kind, amount)
	SELECT 4203, id, 'FUNDING', 1 FROM orders.wallets WHERE client_id = 4203$$) AS admin_insert,
	   pg_temp.try('SELECT orders.create_order(4203, ''{}''::jsonb)') AS admin_create;
SELECT count(*) AS mismatches FROM orders.verify_ledger();
RESET ROLE;
