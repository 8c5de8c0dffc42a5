-- Fulfilment: the sandbox vendor.  Deterministic: the order's poNumber
-- picks a scenario (longest prefix), attempt k plays its outcome k (the
-- last repeats), no scenario is 'ok'; vouchers are derived from the job and
-- attempt.  It drives real jobs through the vendor report functions, so
-- every life of an order can be played without a vendor: ok, partial,
-- transient, final, slow, for vouchers and top-ups.
\set suite 'fulfilment sandbox'
\set funds 1000
\i sql/fulfilment_helpers.psql
SELECT pg_temp.products('[{"id": 6701, "name": "Sandbox Card", "denominations": [10], "limit": 10}, {"id": 6702, "name": "Sandbox Topup", "kind": "TOPUP", "denominations": [5], "limit": 3}]');
INSERT INTO sandbox_vendor_scenarios (po_prefix, outcomes, note) VALUES
	('sbt-', '{ok}', 'fulfilment_sandbox'),
	('sbt-partial-', '{partial,ok}', 'fulfilment_sandbox'),
	('sbt-partial-final-', '{partial,final}', 'fulfilment_sandbox'),
	('sbt-final-', '{final}', 'fulfilment_sandbox'),
	('sbt-flaky-', '{transient,transient,ok}', 'fulfilment_sandbox'),
	('sbt-slow-', '{slow,ok}', 'fulfilment_sandbox');
SELECT po, a AS attempt, sandbox_outcome(po, a)
FROM unnest(ARRAY['sbt-1', 'sbt-partial-1', 'sbt-partial-final-1', 'sbt-flaky-1', 'nothing-1']) po,
	 generate_series(1, 3) a ORDER BY po, a;
SELECT pg_temp.try($$INSERT INTO orders.sandbox_vendor_scenarios VALUES ('sbt-bad-', '{ok,explode}') RETURNING 1$$);
SELECT pg_temp.try($$INSERT INTO orders.sandbox_vendor_scenarios VALUES ('sbt-empty-', '{}') RETURNING 1$$);

-- Vouchers: the same job and attempt give the same vouchers; another
-- attempt, others.  Their shape (the codes themselves are not printed).
SELECT sandbox_vouchers(1, 1, 2) = sandbox_vouchers(1, 1, 2) AS reproducible,
	   sandbox_vouchers(1, 1, 2) <> sandbox_vouchers(1, 2, 2) AS per_attempt,
	   jsonb_array_length(sandbox_vouchers(1, 1, 2)) AS n;
SELECT v->>'card_number' ~ '^SBX[0-9A-F]{13}$' AS card, v->>'pin_code' ~ '^[0-9]{4}$' AS pin,
	   v->>'voucher_reference_number', v->>'expires_at' ~ '^\d{4}-\d\d-\d\dT00:00:00Z$' AS expiry
FROM jsonb_array_elements(sandbox_vouchers(7, 3, 2)) v;

-- One order per scenario, played round after round (time simulated).
SELECT count(pg_temp.place(:client, 6701, 2, 10, po)) AS placed FROM unnest(ARRAY['sbt-ok-1',
	'sbt-partial-1', 'sbt-partial-final-1', 'sbt-final-1', 'sbt-flaky-1', 'sbt-slow-1']) po;
SELECT count(pg_temp.place(:client, 6702, qty, 5, po, phone)) AS placed
FROM (VALUES (1, 'sbt-topup-ok-1', '9000000001'), (1, 'sbt-final-topup-1', '9000000002'),
			 (2, 'sbt-partial-topup-1', '9000000003')) AS t(qty, po, phone);
CREATE FUNCTION pg_temp.round() RETURNS jsonb LANGUAGE sql AS $$
	UPDATE orders.vendor_jobs j SET next_attempt_at = now() - interval '1 second'
	FROM orders.orders o WHERE o.id = j.order_id AND o.product_id IN (6701, 6702) AND j.status = 'QUEUED';
	UPDATE orders.vendor_jobs j SET lease_until = now() - interval '1 second'
	FROM orders.orders o WHERE o.id = j.order_id AND o.product_id IN (6701, 6702) AND j.status = 'LEASED';
	SELECT orders.run_maintenance();
	SELECT orders.sandbox_vendor_round(20, '{6701,6702}');
$$;
SELECT pg_temp.round() AS round_1;
SELECT pg_temp.round() AS round_2;
SELECT pg_temp.round() AS round_3;
SELECT pg_temp.round() AS round_4;
SELECT o.po_number, pg_temp.state(o.id), j.status AS job, j.attempts
FROM orders.orders o JOIN vendor_jobs j ON j.order_id = o.id
WHERE o.client_id = :client ORDER BY o.po_number;
SELECT o.po_number, string_agg(coalesce(a.outcome, 'open'), ', ' ORDER BY a.attempt) AS attempts
FROM orders.orders o JOIN vendor_jobs j ON j.order_id = o.id JOIN vendor_job_attempts a ON a.job_id = j.id
WHERE o.client_id = :client GROUP BY o.po_number ORDER BY o.po_number;
SELECT o.po_number, jsonb_array_length(reveal_vouchers(:client, o.id)) AS readable
FROM orders.orders o WHERE o.product_id = 6701 ORDER BY o.po_number;

-- (With orders.sandbox_vendor on, maintenance plays the sandbox for every
-- product: test/t/050_fulfilment_worker.pl, where nothing else waits.)

-- Who may play it: admins, not vendors.
SET ROLE orders_vendor;
SELECT pg_temp.try($$SELECT orders.sandbox_vendor_round(1, '{6701}')::text$$);
RESET ROLE;

-- Money adds up: each order paid for what it got.
SELECT o.po_number, o.amount_charged, coalesce(sum(e.amount) FILTER (WHERE e.kind = 'REFUND'), 0) AS refunded
FROM orders.orders o LEFT JOIN ledger_entries e ON e.order_id = o.id
WHERE o.client_id = :client GROUP BY o.id ORDER BY o.po_number;
SELECT balance FROM wallets WHERE client_id = :client;
SELECT * FROM verify_ledger();
DELETE FROM sandbox_vendor_scenarios WHERE note = 'fulfilment_sandbox';
