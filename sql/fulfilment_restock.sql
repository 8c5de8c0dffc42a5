-- Fulfilment: restock, expiry and recall.  Loading inventory first serves
-- the items waiting in the vendor queue for that product and denomination,
-- oldest order first, and leaves the rest AVAILABLE.  Units past their
-- expiry become BLOCKED and are never allocated; a vendor recall makes
-- units REVOKED (a delivered one keeps its order DELIVERED: docs).
\set suite 'fulfilment restock'
\set funds 500
\i sql/fulfilment_helpers.psql
SELECT pg_temp.products('[{"id": 6501, "name": "Restock Card", "denominations": [10, 20], "limit": 10}]');
-- Loads n units of 6501 (codes generated, never printed) expiring at
-- "expires"; returns their statuses.
CREATE FUNCTION pg_temp.stock(n integer, denom numeric, expires timestamptz DEFAULT now() + interval '1 year')
RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(l.status::text, ',' ORDER BY l.entry) FROM orders.load_inventory((
		SELECT jsonb_agg(v || jsonb_build_object('product_id', 6501, 'denomination', denom,
												 'expires_at', to_char(expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
		FROM jsonb_array_elements(orders.sandbox_vouchers(-6501, (random() * 1e9)::integer, n)) v)) l
$$;
CREATE FUNCTION pg_temp.pool() RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(string_agg(format('%s %s: %s', denomination, status, n), ', '
		ORDER BY denomination, status), 'empty')
	FROM (SELECT denomination, status, count(*) AS n FROM orders.inventory_units
		  WHERE product_id = 6501 GROUP BY 1, 2) s
$$;

-- Three orders wait (no stock): A (2 x 10), then B (2 x 10), C (1 x 20).
SELECT pg_temp.place(:client, 6501, 2, 10, 'r-a') AS a \gset
SELECT pg_temp.place(:client, 6501, 2, 10, 'r-b') AS b \gset
SELECT pg_temp.place(:client, 6501, 1, 20, 'r-c') AS c \gset
-- 3 units of 10 arrive: A is served first, B gets the third.
SELECT pg_temp.stock(3, 10);
SELECT pg_temp.state(:a) AS a, pg_temp.state(:b) AS b, pg_temp.state(:c) AS c;
SELECT pg_temp.pool();
SELECT order_id = :a AS a, status FROM vendor_jobs WHERE order_id IN (:a, :b) ORDER BY order_id;
-- 2 more: B completes, one stays AVAILABLE and serves a new order at once.
SELECT pg_temp.stock(2, 10);
SELECT pg_temp.state(:b) AS b;
SELECT pg_temp.pool();
SELECT pg_temp.place(:client, 6501, 1, 10, 'r-d') AS d \gset
SELECT pg_temp.state(:d) AS d;
SELECT * FROM pg_temp.history(:b) OFFSET 3;
SELECT seq, event FROM order_events WHERE order_id = :b ORDER BY seq;
SELECT jsonb_array_length(reveal_vouchers(:client, :b)) AS b_vouchers;

-- A job a vendor holds is not served by a restock; once it is back in the
-- queue, maintenance serves it from the units that wait.  (C's job is
-- made to wait for a later retry, so that the vendor claims E's only.)
SELECT pg_temp.place(:client, 6501, 1, 10, 'r-e') AS e \gset
UPDATE vendor_jobs SET next_attempt_at = now() + interval '1 hour' WHERE order_id = :c;
SELECT job_id AS je, lease_token AS te FROM claim_vendor_jobs('rw', 10, '{6501}') \gset
SELECT pg_temp.stock(1, 10);
SELECT pg_temp.state(:e) AS e, pg_temp.pool();
SELECT pg_temp.answer(report_vendor_failure(:je, :'te', false, 'vendor busy'));
SELECT (run_maintenance()->>'items_restocked')::integer >= 1 AS restocked;
SELECT pg_temp.state(:e) AS e, pg_temp.pool();
SELECT status FROM vendor_jobs WHERE id = :je;

-- orders.restock_on_load off: a load leaves waiting items to maintenance.
SELECT pg_temp.place(:client, 6501, 1, 10, 'r-f') AS f \gset
SET orders.restock_on_load = off;
SELECT pg_temp.stock(1, 10);
SELECT pg_temp.state(:f) AS f;
RESET orders.restock_on_load;
SELECT (run_maintenance()->>'items_restocked')::integer >= 1 AS restocked;
SELECT pg_temp.state(:f) AS f;

-- Expiry.  A unit loaded already expired is BLOCKED at once; one that
-- expires later is BLOCKED by maintenance.  Neither ever serves C.
SELECT pg_temp.stock(1, 20, now() - interval '1 day');
SELECT pg_temp.state(:c) AS c, pg_temp.pool();
SET orders.restock_on_load = off;
SELECT pg_temp.stock(1, 20);
RESET orders.restock_on_load;
UPDATE inventory_units SET expires_at = now() - interval '1 second'
WHERE product_id = 6501 AND denomination = 20 AND status = 'AVAILABLE';
SELECT (run_maintenance()->>'units_blocked')::integer >= 1 AS blocked;
SELECT pg_temp.state(:c) AS c, pg_temp.pool();
SELECT pg_temp.place(:client, 6501, 1, 20, 'r-g') AS g \gset
SELECT pg_temp.state(:g) AS g;
SELECT h.from_status, h.to_status, h.reason FROM status_history h
JOIN inventory_units u ON h.entity = 'inventory_unit' AND h.entity_id = u.id
WHERE u.product_id = 6501 AND h.to_status = 'BLOCKED' ORDER BY h.id;
-- A blocked unit is never allocated, whoever tries.
SELECT pg_temp.try($$UPDATE orders.inventory_units SET status = 'ALLOCATED'
	WHERE product_id = 6501 AND status = 'BLOCKED' RETURNING 1$$);

-- Recall.  An AVAILABLE unit leaves the pool; a delivered one is REVOKED
-- but its order stays DELIVERED and is listed for an operator.
SELECT pg_temp.stock(1, 10);
SELECT id AS spare FROM inventory_units WHERE product_id = 6501 AND status = 'AVAILABLE'
ORDER BY id DESC LIMIT 1 \gset
SELECT unit_id AS sold FROM order_items WHERE order_id = :a ORDER BY id LIMIT 1 \gset
SELECT revoked, jsonb_array_length(delivered_units) AS delivered_listed,
	   (delivered_units->0->>'order_id')::bigint = :a AS lists_order_a
FROM (SELECT (r->>'revoked')::integer AS revoked, r->'delivered_units' AS delivered_units
	  FROM revoke_units(ARRAY[:spare, :sold], 'vendor recalled a batch') r) s;
SELECT pg_temp.state(:a) AS a, pg_temp.pool();
SELECT (revoke_units(ARRAY[:spare], 'again')->>'revoked')::integer AS revoked_again;
SELECT pg_temp.try($$SELECT orders.revoke_units(ARRAY[-1], 'x')::text$$);
SELECT pg_temp.try($$SELECT orders.revoke_units('{}', 'x')::text$$);
SELECT pg_temp.try(format($$SELECT orders.revoke_units(ARRAY[%s], '')::text$$, :spare));
SELECT pg_temp.try(format($$UPDATE orders.inventory_units SET status = 'AVAILABLE' WHERE id = %s RETURNING 1$$, :spare));
SET ROLE orders_vendor;
SELECT pg_temp.try(format($$SELECT orders.revoke_units(ARRAY[%s], 'vendor')->>'revoked'$$, :spare));
RESET ROLE;

SELECT pg_temp.try(format($$SELECT orders.admin_cancel_order(%s, 'test cleanup')->>'status'$$, :c));
SELECT balance FROM wallets WHERE client_id = :client;
SELECT * FROM verify_ledger();
