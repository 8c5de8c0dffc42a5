-- A shard of the sharded layout (docs/scale-out.md, schema/76_shard.sql):
-- ids by residue class, the identity the router compares, and a client's
-- rows exported, purged and imported back with their ids on one server (the
-- router's move does the same across two).
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET search_path = orders, public;
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'ok';
EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

-- The next id of a residue class.
SELECT shard_next_id(0, 0, 16) AS s0_after_0, shard_next_id(0, 3, 16) AS s3_after_0,
	   shard_next_id(3, 3, 16) AS s3_after_3, shard_next_id(40, 3, 16) AS s3_after_40,
	   shard_next_id(41, 0, 1) AS one_slot;

-- Bad arguments change nothing.
SELECT pg_temp.try('SELECT orders.shard_configure(16, 16)') AS shard_too_big,
	   pg_temp.try('SELECT orders.shard_configure(-1, 16)') AS negative,
	   pg_temp.try('SELECT orders.shard_configure(0, 2000)') AS too_many_slots,
	   pg_temp.try('SELECT orders.shard_configure(NULL, 16)') AS null_shard;
SELECT count(*) FILTER (WHERE increment_by <> 1) AS sequences_changed FROM shard_sequences();

-- Shard 3 of 16 (rolled back: the other suites count ids one by one).
BEGIN;
SELECT shard_configure(3, 16) > 0 AS configured, shard_configure(3, 16) AS again_changes;
SELECT count(*) AS sequences, bool_and(increment_by = 16) AS all_by_16,
	   bool_and(start_value % 16 = 3) AS all_residue_3 FROM shard_sequences();
SELECT admin_create_client('shard client a') % 16 AS client_residue;
SELECT shard, slots, version = '1.1' AS version, length(secrets_digest) AS digest_length FROM shard_identity();
ROLLBACK;
SELECT shard, slots FROM shard_identity();

-- A client with money, keys, a delivered order with a voucher, a pending
-- order whose vendor job is open, and their history.
INSERT INTO clients (id, name) OVERRIDING SYSTEM VALUE VALUES (7601, 'shard mover'), (7602, 'shard stayer');
INSERT INTO products (id, name, currency, denominations, order_quantity_limit)
VALUES (7601, 'Shard Card', 'USD', '{10}', 5);
SELECT fund_wallet(7601, 'USD', 100) > 0 AS funded, fund_wallet(7602, 'USD', 100) > 0 AS funded;
SELECT count(*) AS keys FROM admin_issue_api_key(7601, 'mover key');
SELECT count(*) AS loaded FROM load_inventory(jsonb_build_array(jsonb_build_object(
	'product_id', 7601, 'denomination', 10, 'card_number', 'SHARD-CARD-1', 'pin_code', '7601',
	'expires_at', '2031-01-01T00:00:00Z')));
SELECT (create_order(7601, jsonb_build_object('productId', 7601, 'quantity', 1,
	'denomination', 10, 'poNumber', 'SHARD-1'))).response #>> '{data,placeOrder,data,orderStatus}' AS first_order;
SELECT (create_order(7601, jsonb_build_object('productId', 7601, 'quantity', 1,
	'denomination', 10, 'poNumber', 'SHARD-2'))).response #>> '{data,placeOrder,data,orderStatus}' AS second_order;
SELECT (create_order(7602, jsonb_build_object('productId', 7601, 'quantity', 1,
	'denomination', 10, 'poNumber', 'SHARD-3'))).response #>> '{data,placeOrder,data,orderStatus}' AS stayer_order;

-- An open vendor job: the export refuses (its reports would go to the shard
-- its id names).
SELECT pg_temp.try('SELECT orders.client_export(7601)') AS export_with_open_job;
SELECT pg_temp.try('SELECT orders.client_export(7699)') AS unknown_client;
SELECT admin_cancel_order(id, 'shard test') ->> 'status' AS cancelled FROM orders WHERE po_number = 'SHARD-2';

-- What the client reads before.
CREATE TEMP TABLE before AS
SELECT o.id, order_details(7601, o.id) AS details FROM orders o WHERE o.client_id = 7601;
SELECT count(*) AS orders, count(*) FILTER (WHERE details::text LIKE '%SHARD-CARD-1%') AS with_voucher FROM before;
CREATE TEMP TABLE before_list AS SELECT jsonb_agg(to_jsonb(l)) AS list FROM list_orders(7601) l;

-- A table with client rows the move does not know: refused.
BEGIN;
CREATE TABLE orders.shard_test_extra (client_id bigint);
SELECT pg_temp.try('SELECT orders.client_export(7601)') AS unknown_table;
ROLLBACK;

CREATE TEMP TABLE export AS SELECT client_export(7601) AS doc;
SELECT t.key AS tab, jsonb_array_length(t.value) AS rows
FROM export, jsonb_each(doc -> 'tables') t WHERE jsonb_array_length(t.value) > 0 ORDER BY 1;

-- Here already: refused.
SELECT pg_temp.try(format('SELECT orders.client_import(%L)', doc)) AS import_present FROM export;

-- Purge, then import back.
CREATE TEMP TABLE triggers_before AS
SELECT tgrelid, tgname, tgenabled FROM pg_trigger
WHERE tgrelid IN (SELECT format('orders.%I', tab)::regclass FROM client_tables());
SELECT t.key AS tab, t.value AS purged FROM jsonb_each(client_purge(7601)) t WHERE t.value::int > 0 ORDER BY 1;
SELECT (SELECT count(*) FROM orders WHERE client_id = 7601) AS orders_left,
	   (SELECT count(*) FROM ledger_entries WHERE client_id = 7601) AS ledger_left,
	   (SELECT count(*) FROM clients WHERE id = 7601) AS client_left,
	   (SELECT count(*) FROM orders WHERE client_id = 7602) AS stayer_orders;
SELECT count(*) AS mismatches FROM verify_ledger();

-- Another shard's secrets or vault keys: refused.
SELECT pg_temp.try(format('SELECT orders.client_import(%L)', jsonb_set(doc, '{secrets_digest}', '"00"'))) AS other_secrets,
	   pg_temp.try(format('SELECT orders.client_import(%L)', jsonb_set(doc, '{tables,inventory_units,0,key_id}', '999'))) AS other_vault_key,
	   pg_temp.try(format('SELECT orders.client_import(%L)', jsonb_set(doc, '{vault_key_checks}',
		(SELECT jsonb_object_agg(k, '00') FROM jsonb_object_keys(doc->'vault_key_checks') k)))) AS other_key_same_id,
	   pg_temp.try(format('SELECT orders.client_import(%L)', jsonb_set(doc, '{version}', '"0.9"'))) AS other_version,
	   pg_temp.try('SELECT orders.client_import(''{}'')') AS not_an_export
FROM export;

SELECT t.key AS tab, t.value AS imported FROM export, jsonb_each(client_import(doc)) t WHERE t.value::int > 0 ORDER BY 1;
SELECT count(*) AS mismatches FROM verify_ledger();
SELECT count(*) AS orders,
	   count(*) FILTER (WHERE order_details(7601, b.id) = b.details) AS read_back_identically
FROM before b;
SELECT (SELECT jsonb_agg(to_jsonb(l)) FROM list_orders(7601) l) = list AS list_identical FROM before_list;
SELECT balance FROM wallets WHERE client_id = 7601;
-- The triggers are back as they were: a moved order still obeys its lifecycle.
SELECT left(pg_temp.try(format('UPDATE orders.orders SET status = ''PLACED'' WHERE id = %s', min(id))), 5)
	AS lifecycle_guarded FROM before;
SELECT count(*) AS triggers_changed FROM (
	(SELECT tgrelid, tgname, tgenabled FROM pg_trigger
	 WHERE tgrelid IN (SELECT format('orders.%I', tab)::regclass FROM client_tables())
	 EXCEPT SELECT * FROM triggers_before)
	UNION ALL
	(SELECT * FROM triggers_before
	 EXCEPT SELECT tgrelid, tgname, tgenabled FROM pg_trigger)) d;
SELECT count(*) > 0 AS always_triggers_there FROM triggers_before WHERE tgenabled = 'A';
-- New orders of the client number above its old ones.
SELECT (create_order(7601, jsonb_build_object('productId', 7601, 'quantity', 1,
	'denomination', 10, 'poNumber', 'SHARD-4'))).response #>> '{data,placeOrder,data,orderStatus}' AS after_import;
SELECT (SELECT id FROM orders WHERE po_number = 'SHARD-4' AND client_id = 7601) > max(id) AS numbered_above FROM before;

-- The vault key check: one fingerprint per key, the same every time.
SELECT jsonb_typeof(doc->'vault_key_checks') AS checks, doc->'vault_key_checks' = shard_vault_key_checks() AS stable,
	   (SELECT count(*) FROM jsonb_object_keys(doc->'vault_key_checks')) = (SELECT count(*) FROM vault_keys()) AS one_per_key
FROM export;

-- Metric samples for a router: each series with the router's labels
-- (the series' own win; values left out: they depend on the suites before),
-- rendered as the exposition renders them.
SELECT split_part(sample, ' ', 1) AS series FROM metric_samples('{"shard": "3"}') WHERE metric = 'orders_vendor_jobs' ORDER BY 1;
SELECT count(*) = (SELECT count(*) FROM metrics()) AS one_per_series,
	   bool_and(sample LIKE metric || '{shard="3"%') AS all_labelled
FROM metric_samples('{"shard": "3"}');
SELECT bool_and(position(s.sample IN e.text) > 0 AND position(s.family IN e.text) > 0) AS as_exposed
FROM metric_samples() s, metrics_exposition() e(text);
SELECT pg_temp.try($$SELECT count(*) FROM orders.metric_samples('{"a b": "x"}')$$) AS bad_name,
	   pg_temp.try($$SELECT count(*) FROM orders.metric_samples('{"__name__": "x"}')$$) AS reserved_name,
	   pg_temp.try($$SELECT count(*) FROM orders.metric_samples('{"shard": 3}')$$) AS not_a_string,
	   pg_temp.try($$SELECT count(*) FROM orders.metric_samples('[]')$$) AS not_an_object;
SELECT split_part(min(sample), ' ', 1) AS own_label_wins FROM metric_samples('{"status": "router"}') WHERE metric = 'orders_orders';
-- Who may read them: PL/Proxy runs a router's call as the gateway's login
-- role, a member of orders_authenticator: the samples, nothing else.
SELECT r.role, has_function_privilege(r.role, 'orders.metric_samples(jsonb)', 'EXECUTE') AS samples,
	   has_function_privilege(r.role, 'orders.metrics()', 'EXECUTE') AS metrics,
	   has_function_privilege(r.role, 'orders.shard_vault_key_checks()', 'EXECUTE') AS key_checks
FROM (VALUES ('orders_authenticator'), ('orders_metrics'), ('orders_api'), ('orders_admin')) r(role)
ORDER BY 1;

-- Leave nothing behind for the suites after this one.
SELECT client_purge(7601) IS NOT NULL AS purged, client_purge(7602) IS NOT NULL AS purged;
DELETE FROM products WHERE id = 7601;
SELECT count(*) AS mismatches FROM verify_ledger();
