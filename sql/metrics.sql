-- Metrics (schema/77_metrics.sql, docs/metrics.md): every metric of
-- orders.metric_queries is returned, its values move with what this suite
-- does (an order placed, its job claimed, reveals audited, events
-- acknowledged, a rate-limited request), a roll-up of the order counters
-- changes no total, the exposition text is Prometheus' format, and only
-- the metrics role (and the gateway's login role through it) may read them.
\set suite 'metrics'
\set funds 500
\i sql/fulfilment_helpers.psql
SELECT pg_temp.products('[{"id": 7701, "name": "Metrics Card", "denominations": [10], "limit": 10}]');

-- The metrics and their series' labels (values depend on the suites before).
SELECT metric, type, labels FROM orders.metrics() ORDER BY metric, labels::text;

-- A snapshot of every series, to compare with after each step.
CREATE TEMP TABLE before AS SELECT metric, labels, value FROM orders.metrics();
CREATE FUNCTION pg_temp.moved() RETURNS TABLE (metric text, labels jsonb, delta double precision)
LANGUAGE sql AS $$
	SELECT m.metric, m.labels, m.value - b.value
	FROM orders.metrics() m JOIN before b USING (metric, labels)
	WHERE m.value <> b.value
	  AND m.metric NOT LIKE '%age_seconds'	-- time passes: checked apart
	ORDER BY 1, 2::text
$$;
CREATE FUNCTION pg_temp.snapshot() RETURNS void LANGUAGE sql AS $$
	DELETE FROM before;
	INSERT INTO before SELECT metric, labels, value FROM orders.metrics();
$$;

-- An order without stock: PENDING, a queued vendor job, an event.
SELECT pg_temp.place(:client, 7701, 2, 10, 'm-1') AS o1 \gset
SELECT * FROM pg_temp.moved();
SELECT pg_temp.snapshot();

-- The roll-up of the order counters moves rows, not totals.
SELECT orders.roll_up_order_counts() > 0 AS rolled_up;
SELECT * FROM pg_temp.moved();

-- Its job claimed: queued -1, leased +1.
SELECT count(*) AS claimed FROM orders.claim_vendor_jobs('metrics-worker', 1, '{7701}');
SELECT * FROM pg_temp.moved();
SELECT pg_temp.snapshot();

-- Three reveals audited.
INSERT INTO orders.voucher_reveals (client_id, order_id, order_item_id, unit_id, revealed_by)
SELECT :client, :o1, 0, g, 'metrics test' FROM generate_series(1, 3) g;
SELECT * FROM pg_temp.moved();
SELECT pg_temp.snapshot();

-- Every event of the order acknowledged: the outbox shrinks by as many.
WITH a AS (UPDATE orders.order_events SET acknowledged_at = now()
		   WHERE order_id = :o1 AND acknowledged_at IS NULL RETURNING 1)
SELECT count(*) AS acknowledged FROM a;
SELECT * FROM pg_temp.moved();
SELECT pg_temp.snapshot();

-- A rate-limited request: the refusals counter moves by one.
SET orders.rate_limit_burst = 1;
SELECT allowed FROM orders.rate_limit_take('client', -7701);
SELECT allowed FROM orders.rate_limit_take('client', -7701);
RESET orders.rate_limit_burst;
SELECT * FROM pg_temp.moved();

-- Webhooks: an endpoint for every event type; the outbox's events so far
-- are turned into deliveries first.  An order placed: its events become
-- pending deliveries (and stay in the outbox: the webhook fan-out has its
-- own position, they wait for acknowledge_events's consumers); one delivered.
SET orders.webhook_allow_private_addresses = on;
SELECT key_id AS m_key, secret AS m_secret FROM orders.admin_issue_api_key(:client) \gset
SELECT d.status AS endpoint_created, d.body::jsonb->>'id' AS endpoint
FROM api.dispatch('POST', '/api/v1/webhooks', NULL,
	json_build_object('X-API-Key', :'m_key', 'X-API-Secret', :'m_secret')::jsonb,
	json_build_object('url', 'http://127.0.0.1:9/metrics-hook',
					  'eventTypes', orders.webhook_subscribable_types())::text) d \gset
SELECT :endpoint_created AS endpoint_created;
SELECT orders.webhook_enqueue(1000000) >= 0 AS earlier_events_taken;
SELECT pg_temp.snapshot();
SELECT pg_temp.place(:client, 7701, 1, 10, 'm-3') AS o3 \gset
-- the fan-out's backlog: the order's events, until the fan-out takes them
SELECT metric, delta FROM pg_temp.moved() WHERE metric = 'orders_webhook_fanout_pending';
SELECT orders.webhook_enqueue(1000000) AS enqueued;
SELECT * FROM pg_temp.moved();
SELECT pg_temp.snapshot();
SELECT count(orders.webhook_report(c.delivery_id, c.attempt, 200, 3, NULL)) AS delivered
FROM orders.webhook_claim('metrics', 1) c;
SELECT * FROM pg_temp.moved();
-- The one left, due for a day: the oldest there is.
UPDATE orders.webhook_deliveries SET next_attempt_at = now() - interval '1 day'
WHERE order_id = :o3 AND status = 'pending';
SELECT value >= 86400 AND value < 86400 + 3600 AS delivery_age_one_day
FROM orders.metrics() WHERE metric = 'orders_webhook_queue_oldest_age_seconds';
-- The endpoint deleted: its pending delivery is dropped (none left for
-- the suites after this one to claim).
SELECT pg_temp.snapshot();
SELECT d.status AS endpoint_deleted
FROM api.dispatch('DELETE', '/api/v1/webhooks/' || :'endpoint', NULL,
	json_build_object('X-API-Key', :'m_key', 'X-API-Secret', :'m_secret')::jsonb, NULL) d;
SELECT * FROM pg_temp.moved();
SELECT value AS delivery_age_none_due FROM orders.metrics()
WHERE metric = 'orders_webhook_queue_oldest_age_seconds';

-- Ages: a job claimable for a day, an event unacknowledged for an hour
-- (each the oldest there is: other suites' are younger).
SELECT pg_temp.place(:client, 7701, 1, 10, 'm-2') AS o2 \gset
UPDATE orders.vendor_jobs SET next_attempt_at = now() - interval '1 day' WHERE order_id = :o2;
SELECT value >= 86400 AND value < 86400 + 3600 AS job_age_one_day
FROM orders.metrics() WHERE metric = 'orders_vendor_queue_oldest_age_seconds';
UPDATE orders.order_events SET acknowledged_at = now()
WHERE acknowledged_at IS NULL AND order_id <> :o2;
-- created_at cannot be moved (events are facts): read the age in a later
-- transaction instead, and check it against the event's own.
SELECT value = extract(epoch FROM now() - (SELECT min(created_at) FROM orders.order_events
											 WHERE order_id = :o2)) AS event_age_is_the_oldest_events
FROM orders.metrics() WHERE metric = 'orders_outbox_oldest_age_seconds';
UPDATE orders.order_events SET acknowledged_at = now() WHERE acknowledged_at IS NULL;
SELECT metric, value FROM orders.metrics()
WHERE metric IN ('orders_outbox_events', 'orders_outbox_oldest_age_seconds') ORDER BY 1;

-- The exposition text: HELP and TYPE once per metric, then its series
-- (the orders' here, their values replaced: other suites place orders too).
SELECT regexp_replace(line, '^(orders_\w+\{[^}]*\}) [0-9]+$', '\1 <count>') AS line
FROM regexp_split_to_table(orders.metrics_exposition(), E'\n') AS line
WHERE line ~ '^# ' OR line ~ '^orders_orders\{' ORDER BY line COLLATE "C";
SELECT right(orders.metrics_exposition(), 1) = E'\n' AS ends_with_newline;
SELECT orders.metric_labels('{"b": "x\"y", "a": "back\\slash\nnew line"}') AS escaped,
	   orders.metric_labels('{}') AS no_labels,
	   orders.metric_value('Infinity') AS inf, orders.metric_value('-Infinity') AS minus_inf,
	   orders.metric_value('NaN') AS nan, orders.metric_value(1e15) AS big, orders.metric_value(0.5) AS half;

-- A metric is one row; names, types and help are checked.
BEGIN;
INSERT INTO orders.metric_queries (metric, type, help, query)
VALUES ('orders_test_answer', 'gauge', 'The answer.', $$SELECT '{"q": "everything"}'::jsonb, 42$$);
SELECT metric, type, help, labels, value FROM orders.metrics() WHERE metric = 'orders_test_answer';
SELECT line FROM regexp_split_to_table(orders.metrics_exposition(), E'\n') AS line
WHERE line LIKE '%orders_test_answer%';
ROLLBACK;
SELECT pg_temp.try($$INSERT INTO orders.metric_queries VALUES ('orders_things', 'counter', 'x', 'SELECT NULL, 1') RETURNING metric$$);
SELECT pg_temp.try($$INSERT INTO orders.metric_queries VALUES ('orders_things_total', 'gauge', 'x', 'SELECT NULL, 1') RETURNING metric$$);
SELECT pg_temp.try($$INSERT INTO orders.metric_queries VALUES ('Orders-Things', 'gauge', 'x', 'SELECT NULL, 1') RETURNING metric$$);
SELECT pg_temp.try($$INSERT INTO orders.metric_queries VALUES ('orders_things', 'gauge', E'two\nlines', 'SELECT NULL, 1') RETURNING metric$$);

-- Who may read them: the metrics role, and the gateway's login role by
-- switching to it; not the API, vendor or admin roles, not PUBLIC.
SELECT r.role, has_function_privilege(r.role, 'orders.metrics()', 'EXECUTE') AS metrics,
	   has_function_privilege(r.role, 'orders.metrics_exposition()', 'EXECUTE') AS exposition,
	   has_table_privilege(r.role, 'orders.metric_queries', 'SELECT') AS queries,
	   pg_has_role(r.role, 'orders_metrics', 'MEMBER') AS member
FROM (VALUES ('orders_metrics'), ('orders_authenticator'), ('orders_api'), ('orders_vendor'),
			 ('orders_admin')) r(role)
ORDER BY 1;
SET ROLE orders_metrics;
SELECT count(DISTINCT metric) > 0 AS metrics_read FROM orders.metrics();
SELECT orders.metrics_exposition() LIKE '# HELP %' AS exposition_read;
SELECT pg_temp.try('SELECT count(*) FROM orders.orders');
RESET ROLE;
SET ROLE orders_api;
SELECT pg_temp.try('SELECT count(*) FROM orders.metrics()');
RESET ROLE;
