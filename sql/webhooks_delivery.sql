-- Webhooks (issue 13), the delivery contract: events from the outbox,
-- orders.webhook_claim / orders.webhook_report as the daemon calls them,
-- signatures checked independently (pgcrypto's hmac), ordering per
-- (endpoint, order), retries on the schedule, lease expiry, stale reports,
-- disabling after the failure window, the sender role's privileges.
-- Ids and times differ from run to run: output shows event types, order
-- poNumbers and booleans.
\set suite 'webhooks delivery'
\set funds 1000
\i sql/fulfilment_helpers.psql
SET orders.rate_limit_per_minute = 0;
SET orders.rate_limit_burst = 0;
SET orders.webhook_allow_private_addresses = on;	-- the receiver is local
SET orders.webhook_retry_schedule = '10 seconds, 20 seconds';
-- An API answer with its times, message ids and ids masked.
CREATE FUNCTION pg_temp.shown(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT regexp_replace(regexp_replace(regexp_replace(t, '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z', '<time>', 'g'),
						  'msg_[0-9a-f]{32}', 'msg_<id>', 'g'), '"id": [0-9]+', '"id": #', 'g')
$$;
SELECT pg_temp.products('[{"id": 6801, "name": "Hook Card", "denominations": [10], "limit": 5}]');
INSERT INTO orders.products (id, name, currency, kind, min_denomination, max_denomination, denomination_step)
VALUES (6802, 'Hook Topup', 'USD', 'TOPUP', 5, 50, 5);
SELECT key_id AS a_key, secret AS a_secret FROM orders.admin_issue_api_key(:client) \gset
SELECT json_build_object('X-API-Key', :'a_key', 'X-API-Secret', :'a_secret') AS ha \gset
-- Earlier suites' outbox rows (their clients have no endpoint) are
-- queued, without any delivery (the daemon queues 1000 rows a call).
SELECT orders.webhook_enqueue(1000000) AS deliveries_of_earlier_suites;
SELECT count(*) AS unqueued FROM orders.order_events WHERE webhooks_queued_at IS NULL;

-- The endpoint, subscribed to every event; its secret kept for checking.
SELECT d.body::jsonb->>'id' AS w, d.body::jsonb->>'secret' AS s1
FROM api.dispatch('POST', '/api/v1/webhooks', NULL, :'ha',
	json_build_object('url', 'http://127.0.0.1:9/hook',
					  'eventTypes', orders.webhook_subscribable_types())::text) d \gset

-- What a claim hands to the daemon, kept; shown as event type, order
-- poNumber and attempt.  As the daemon does: the fan-out first (its own
-- call), then the claim.
CREATE TEMP TABLE claims AS SELECT * FROM orders.webhook_claim('suite', 0) LIMIT 0;
CREATE FUNCTION pg_temp.claim(n integer DEFAULT 100, lease interval DEFAULT '30 seconds')
RETURNS TABLE (event text, po text, attempt integer) LANGUAGE sql AS $$
	SELECT orders.webhook_enqueue();
	WITH c AS (INSERT INTO claims SELECT * FROM orders.webhook_claim('suite', n, lease) RETURNING *)
	SELECT c.body::jsonb->>'type', o.po_number, c.attempt
	FROM c LEFT JOIN orders.orders o ON o.id = (c.body::jsonb #>> '{data,id}')::bigint
	ORDER BY c.delivery_id
$$;
-- Success for every delivery of the last claim.
CREATE FUNCTION pg_temp.ack_all() RETURNS integer LANGUAGE sql AS $$
	SELECT count(orders.webhook_report(c.delivery_id, c.attempt, 200, 3, NULL))::integer
	FROM claims c JOIN orders.webhook_deliveries d ON d.id = c.delivery_id AND d.attempt = c.attempt
	WHERE d.status = 'pending' AND d.leased_by IS NOT NULL
$$;
-- Standard Webhooks' signature, written separately: base64 of
-- HMAC-SHA256(base64-decoded secret after whsec_, id.timestamp.body).
CREATE FUNCTION pg_temp.expected_signature(secret text, c claims) RETURNS text LANGUAGE sql AS $$
	SELECT 'v1,' || encode(public.hmac(convert_to(c.webhook_id || '.' || c.webhook_timestamp || '.' || c.body, 'UTF8'),
									  decode(substr(secret, 7), 'base64'), 'sha256'), 'base64')
$$;

-- 1. Events of two orders: each claim gives, per order, only the first
-- delivery whose predecessors all ended; acknowledging them lets the next
-- ones through.  A delivered order and a cancelled (refunded) one.
SELECT pg_temp.place(:client, 6801, 2, 10, 'd-1') AS o1 \gset
SELECT pg_temp.place(:client, 6801, 1, 10, 'd-2') AS o2 \gset
SELECT pg_temp.answer(cancel_order(:client, :o2, 'changed my mind'));
SELECT job_id AS j1, lease_token AS t1 FROM claim_vendor_jobs('hooks', 10, '{6801}') \gset
SELECT pg_temp.answer(report_vendor_order_created(:j1, :'t1', 'VND-H1'));
SELECT pg_temp.answer(report_vouchers_fetched(:j1, :'t1', sandbox_vouchers(:j1, 1, 2)));
SELECT * FROM pg_temp.claim();
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT * FROM pg_temp.claim();
-- The outbox rows are queued for webhooks, each delivered once; their
-- acknowledgement is left to orders.acknowledge_events's consumers.
SELECT count(*) FILTER (WHERE e.webhooks_queued_at IS NULL) AS unqueued,
	   count(*) FILTER (WHERE e.acknowledged_at IS NOT NULL) AS acknowledged, count(*) AS outbox_rows
FROM orders.order_events e WHERE e.order_id IN (:o1, :o2);
SELECT count(*) AS deliveries, count(DISTINCT d.event_id) AS events, bool_and(d.status = 'succeeded') AS all_succeeded
FROM orders.webhook_deliveries d WHERE d.order_id IN (:o1, :o2);
-- The body: id (the webhook-id), type, timestamp and the order as the
-- details show it, at that event's status, without vouchers.
SELECT c.body::jsonb->>'type' AS type, c.body::jsonb->>'id' = c.webhook_id AS id_is_webhook_id,
	   (c.body::jsonb->>'timestamp') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$' AS rfc3339,
	   (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(c.body::jsonb->'data') k) AS data_keys,
	   c.body::jsonb #>> '{data,status}' AS status
FROM claims c WHERE (c.body::jsonb #>> '{data,id}')::bigint = :o1 ORDER BY c.delivery_id;
-- No code, PIN or URL of the delivered vouchers in any body: the code
-- nowhere in the text, the PIN (4 digits: as a substring it can occur by
-- chance in an id or a time) as no string value anywhere in the JSON.
SELECT count(*) AS bodies_with_a_voucher
FROM claims c, orders.order_items i
JOIN orders.inventory_units u ON u.id = i.unit_id
WHERE i.order_id = :o1
  AND (strpos(c.body, orders.vault_decrypt(u.card_number_enc, u.id, 'card_number')) > 0
	   OR EXISTS (SELECT 1 FROM jsonb_path_query(c.body::jsonb, 'strict $.**') v
				  WHERE jsonb_typeof(v) = 'string'
					AND v #>> '{}' = orders.vault_decrypt(u.pin_code_enc, u.id, 'pin_code')));
-- Signatures: one (no rotation yet), each verified separately; the
-- timestamp is the claim's, in unix seconds; the URL is the endpoint's.
SELECT count(*) AS claims, bool_and(c.webhook_signature = pg_temp.expected_signature(:'s1', c)) AS signatures_valid,
	   bool_and(c.webhook_timestamp BETWEEN extract(epoch FROM now()) - 60 AND extract(epoch FROM now()) + 1) AS timestamps_now,
	   bool_and(c.url = 'http://127.0.0.1:9/hook') AS urls, bool_and(c.webhook_id ~ '^msg_[0-9a-f]{32}$') AS webhook_ids
FROM claims c;
-- A signature does not verify with another secret or another body.
SELECT c.webhook_signature = pg_temp.expected_signature(orders.webhook_new_secret(), c) AS other_secret,
	   c.webhook_signature = pg_temp.expected_signature(:'s1', ROW(c.delivery_id, c.attempt, c.url, c.webhook_id,
			c.webhook_timestamp, c.webhook_signature, c.body || ' ')::claims) AS other_body
FROM claims c ORDER BY c.delivery_id LIMIT 1;

-- 2. Rotation: both secrets sign during the grace period, then the new one.
SELECT d.body::jsonb->>'secret' AS s2
FROM api.dispatch('POST', '/api/v1/webhooks/' || :w || '/rotate-secret', NULL, :'ha', NULL) d \gset
TRUNCATE claims;
SELECT status FROM api.dispatch('POST', '/api/v1/webhooks/' || :w || '/test', NULL, :'ha', NULL);
SELECT * FROM pg_temp.claim();
SELECT array_length(string_to_array(c.webhook_signature, ' '), 1) AS signatures,
	   split_part(c.webhook_signature, ' ', 1) = pg_temp.expected_signature(:'s2', c) AS first_new,
	   split_part(c.webhook_signature, ' ', 2) = pg_temp.expected_signature(:'s1', c) AS second_old
FROM claims c;
SELECT pg_temp.ack_all() AS acknowledged;
UPDATE orders.webhook_endpoints SET previous_secret_until = now() - interval '1 second' WHERE id = :w;
TRUNCATE claims;
SELECT status FROM api.dispatch('POST', '/api/v1/webhooks/' || :w || '/test', NULL, :'ha', NULL);
SELECT * FROM pg_temp.claim();
SELECT c.webhook_signature = pg_temp.expected_signature(:'s2', c) AS only_new
FROM claims c;
SELECT pg_temp.ack_all() AS acknowledged;

-- 3. Retries on the schedule (here 10 s, 20 s, then given up), with the
-- same webhook-id; every attempt recorded.
TRUNCATE claims;
SELECT (body::jsonb)->>'id' AS t_delivery FROM api.dispatch('POST', '/api/v1/webhooks/' || :w || '/test', NULL, :'ha', NULL) \gset
SELECT * FROM pg_temp.claim();
SELECT orders.webhook_report(:t_delivery, 1, 500, 35, 'HTTP 500');
SELECT status, attempt, leased_by IS NULL AS free,
	   next_attempt_at - now() BETWEEN interval '9 seconds' AND interval '11 seconds' AS in_10s_with_jitter
FROM orders.webhook_deliveries WHERE id = :t_delivery;
SELECT * FROM pg_temp.claim();		-- not due yet
UPDATE orders.webhook_deliveries SET next_attempt_at = now() WHERE id = :t_delivery;	-- time passes
SELECT * FROM pg_temp.claim();
SELECT orders.webhook_report(:t_delivery, 2, NULL, 5000, 'connection refused');
SELECT status, attempt,
	   next_attempt_at - now() BETWEEN interval '18 seconds' AND interval '22 seconds' AS in_20s_with_jitter
FROM orders.webhook_deliveries WHERE id = :t_delivery;
UPDATE orders.webhook_deliveries SET next_attempt_at = now() WHERE id = :t_delivery;
SELECT * FROM pg_temp.claim();
SELECT orders.webhook_report(:t_delivery, 3, 404, 12, 'HTTP 404');
SELECT status, attempt, completed_at IS NOT NULL AS completed FROM orders.webhook_deliveries WHERE id = :t_delivery;
SELECT count(DISTINCT webhook_id) AS webhook_ids, count(*) AS claims FROM claims WHERE delivery_id = :t_delivery;
SELECT pg_temp.shown(d.body) AS deliveries_page
FROM api.dispatch('GET', '/api/v1/webhooks/' || :w || '/deliveries', 'limit=1', :'ha', NULL) d;
-- A bad schedule is an error naming the setting.
SET orders.webhook_retry_schedule = '10 seconds, soon';
SELECT pg_temp.try('SELECT count(*) FROM orders.webhook_claim(''suite'')');
SET orders.webhook_retry_schedule = '10 seconds, 20 seconds';

-- 4. Ordering and giving up: the order's next event waits for the failing
-- one, and goes once it is given up.
SET orders.webhook_retry_schedule = '';
TRUNCATE claims;
SELECT pg_temp.place(:client, 6801, 1, 10, 'd-3') AS o3 \gset
SELECT * FROM pg_temp.claim();
SELECT orders.webhook_report(c.delivery_id, c.attempt, 500, 9, 'HTTP 500') FROM claims c;
SELECT d.status, e.type FROM orders.webhook_deliveries d JOIN orders.webhook_events e ON e.id = d.event_id
WHERE d.order_id = :o3 ORDER BY d.id;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SET orders.webhook_retry_schedule = '10 seconds, 20 seconds';

-- 5. A lease that runs out: the delivery is claimed again (next attempt,
-- same webhook-id); the report of the lost attempt is ignored.
TRUNCATE claims;
SELECT (body::jsonb)->>'id' AS l_delivery FROM api.dispatch('POST', '/api/v1/webhooks/' || :w || '/test', NULL, :'ha', NULL) \gset
SELECT * FROM pg_temp.claim(100, '30 seconds');
SELECT * FROM pg_temp.claim();		-- leased: not claimable
UPDATE orders.webhook_deliveries SET lease_until = now() - interval '1 second' WHERE id = :l_delivery;
SELECT * FROM pg_temp.claim();
SELECT count(DISTINCT webhook_id) AS webhook_ids, count(*) AS claims FROM claims WHERE delivery_id = :l_delivery;
SELECT orders.webhook_report(:l_delivery, 1, 200, 4, NULL);	-- stale
SELECT status, attempt, leased_by IS NOT NULL AS still_leased FROM orders.webhook_deliveries WHERE id = :l_delivery;
SELECT orders.webhook_report(:l_delivery, 2, 204, 4, NULL);
SELECT orders.webhook_report(:l_delivery, 2, 500, 4, 'late duplicate');	-- ignored too
SELECT status, attempt FROM orders.webhook_deliveries WHERE id = :l_delivery;
SELECT attempt, finished_at IS NOT NULL AS reported, http_status, error
FROM orders.webhook_attempts WHERE delivery_id = :l_delivery ORDER BY attempt;
SELECT jsonb_path_query(d.body::jsonb, '$[0].attempts[*].error') AS listed_errors
FROM api.dispatch('GET', '/api/v1/webhooks/' || :w || '/deliveries', 'limit=1', :'ha', NULL) d;
-- A lease lost on the last allowed attempt: given up by the next claim.
SET orders.webhook_retry_schedule = '';
TRUNCATE claims;
SELECT (body::jsonb)->>'id' AS g_delivery FROM api.dispatch('POST', '/api/v1/webhooks/' || :w || '/test', NULL, :'ha', NULL) \gset
SELECT * FROM pg_temp.claim();
UPDATE orders.webhook_deliveries SET lease_until = now() - interval '1 second' WHERE id = :g_delivery;
SELECT * FROM pg_temp.claim();
SELECT status, attempt FROM orders.webhook_deliveries WHERE id = :g_delivery;
SET orders.webhook_retry_schedule = '10 seconds, 20 seconds';

-- 6. Disabling: failing continuously for longer than
-- orders.webhook_disable_after; the client sees why, and an
-- endpoint.disabled event waits in its deliveries.
SET orders.webhook_disable_after = '1h';
UPDATE orders.webhook_endpoints SET failing_since = NULL WHERE id = :w;
TRUNCATE claims;
SELECT status FROM api.dispatch('POST', '/api/v1/webhooks/' || :w || '/test', NULL, :'ha', NULL);
SELECT * FROM pg_temp.claim();
SELECT orders.webhook_report(c.delivery_id, c.attempt, 503, 20, 'HTTP 503') FROM claims c;
SELECT failing_since IS NOT NULL AS failing, disabled_at IS NULL AS enabled FROM orders.webhook_endpoints WHERE id = :w;
UPDATE orders.webhook_endpoints SET failing_since = now() - interval '61 minutes' WHERE id = :w;	-- time passes
TRUNCATE claims;
SELECT status FROM api.dispatch('POST', '/api/v1/webhooks/' || :w || '/test', NULL, :'ha', NULL);
SELECT * FROM pg_temp.claim();
SELECT orders.webhook_report(c.delivery_id, c.attempt, NULL, 10000, 'timeout') FROM claims c;
SELECT pg_temp.shown(d.body) AS endpoint
FROM api.dispatch('GET', '/api/v1/webhooks/' || :w, NULL, :'ha', NULL) d;
SELECT e.type, d.status, e.body::jsonb #>> '{data,disabledReason}' LIKE 'every delivery failed since %' AS reason
FROM orders.webhook_deliveries d JOIN orders.webhook_events e ON e.id = d.event_id
WHERE d.endpoint_id = :w ORDER BY d.id DESC LIMIT 1;
-- Disabled: nothing claimed (even what is due), no new deliveries.
UPDATE orders.webhook_deliveries SET next_attempt_at = now() WHERE endpoint_id = :w AND status = 'pending';
SELECT * FROM pg_temp.claim();
SELECT pg_temp.place(:client, 6801, 1, 10, 'd-4') AS o4 \gset
SELECT * FROM pg_temp.claim();
SELECT count(*) AS deliveries_of_d4 FROM orders.webhook_deliveries WHERE order_id = :o4;
-- Enabled again: the waiting deliveries go, the endpoint.disabled event too.
SELECT status FROM api.dispatch('PATCH', '/api/v1/webhooks/' || :w, NULL, :'ha', '{"enabled": true}');
TRUNCATE claims;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT failing_since IS NULL AS not_failing, disabled_at IS NULL AS enabled FROM orders.webhook_endpoints WHERE id = :w;
RESET orders.webhook_disable_after;

-- 7. Top-ups: the recharge events come with the order's.
TRUNCATE claims;
SELECT pg_temp.place(:client, 6802, 1, 10, 't-1', '9876543210') AS o5 \gset
SELECT job_id AS j5, lease_token AS t5, recharge_ids[1] AS r5 FROM claim_vendor_jobs('hooks', 10, '{6802}') \gset
SELECT pg_temp.answer(report_recharge_submitted(:j5, :'t5', :r5, 'OP-H1'));
SELECT pg_temp.answer(report_recharge_result(:r5, 'OP-H1', 'recharged'));
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT * FROM pg_temp.claim();
-- Only subscribed types: an endpoint of recharge.succeeded alone.
SELECT status FROM api.dispatch('PATCH', '/api/v1/webhooks/' || :w, NULL, :'ha', '{"eventTypes": ["recharge.succeeded"]}');
SELECT pg_temp.place(:client, 6801, 1, 10, 'd-5') AS o6 \gset
SELECT pg_temp.answer(cancel_order(:client, :o6, 'test'));
SELECT * FROM pg_temp.claim();

-- 8. A client without endpoints: its events cost no webhook row.
SELECT orders.admin_create_client('webhooks delivery, no endpoint') AS c2 \gset
SELECT orders.fund_wallet(:c2, 'USD', 100) IS NOT NULL AS funded;
SELECT pg_temp.place(:c2, 6801, 1, 10, 'n-1') AS o7 \gset
SELECT * FROM pg_temp.claim();
SELECT count(*) AS queued_events FROM orders.order_events WHERE order_id = :o7 AND webhooks_queued_at IS NOT NULL;
SELECT (SELECT count(*) FROM orders.webhook_events WHERE client_id = :c2) AS events,
	   (SELECT count(*) FROM orders.webhook_deliveries WHERE client_id = :c2) AS deliveries;

-- 9. Waking the daemon: maintenance notifies orders_webhooks when
-- something is due (the NOTIFY itself reaches listeners at commit).
SELECT status FROM api.dispatch('POST', '/api/v1/webhooks/' || :w || '/test', NULL, :'ha', NULL);
SELECT orders.webhook_announce() AS notified;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT orders.webhook_announce() AS notified_when_idle;

-- 10. A message that cannot be signed (its secret no longer decrypts:
-- here a damaged ciphertext) fails its attempt, which is retried; the
-- claim goes on with the others.
SELECT d.body::jsonb->>'id' AS w2 FROM api.dispatch('POST', '/api/v1/webhooks', NULL, :'ha',
	'{"url": "http://127.0.0.1:9/other", "eventTypes": ["order.failed"]}') d \gset
UPDATE orders.webhook_endpoints
SET secret = set_byte(secret, length(secret) - 1, get_byte(secret, length(secret) - 1) # 1)
WHERE id = :w2;
SELECT status FROM api.dispatch('POST', '/api/v1/webhooks/' || :w2 || '/test', NULL, :'ha', NULL);
SELECT status FROM api.dispatch('POST', '/api/v1/webhooks/' || :w || '/test', NULL, :'ha', NULL);
TRUNCATE claims;
SET client_min_messages = error;	-- the WARNING names the endpoint's id
SELECT * FROM pg_temp.claim();
RESET client_min_messages;
SELECT c.url FROM claims c;
SELECT d.status, d.attempt, d.leased_by IS NULL AS free, d.next_attempt_at > now() AS retried_later,
	   a.http_status, a.error
FROM orders.webhook_deliveries d JOIN orders.webhook_attempts a ON a.delivery_id = d.id
WHERE d.endpoint_id = :w2;
SELECT pg_temp.ack_all() AS acknowledged;
SELECT status FROM api.dispatch('DELETE', '/api/v1/webhooks/' || :w2, NULL, :'ha', NULL);

-- 11. Bad arguments are errors naming them, and change nothing.
SELECT pg_temp.try('SELECT count(*) FROM orders.webhook_claim('''', 1)');
SELECT pg_temp.try('SELECT count(*) FROM orders.webhook_claim(''s'', 0)');
SELECT pg_temp.try('SELECT count(*) FROM orders.webhook_claim(''s'', 1, ''0 seconds'')');
SELECT pg_temp.try('SELECT count(*) FROM orders.webhook_claim(''s'', 1, ''2 hours'')');
SELECT pg_temp.try('SELECT orders.webhook_report(1, 1, 42, 1, NULL)');
SELECT pg_temp.try('SELECT orders.webhook_report(1, 1, 200, -1, NULL)');
SELECT pg_temp.try('SELECT orders.webhook_report(NULL, 1, 200, 1, NULL)');
SELECT pg_temp.try('SELECT orders.webhook_report(999999999, 1, 200, 1, NULL)');

-- 12. The sender role: EXECUTE on the two functions, nothing else of its
-- own (beyond what PUBLIC has), no table.
SELECT p.oid::regprocedure AS sender_may_execute
FROM pg_proc p
WHERE p.pronamespace IN ('orders'::regnamespace, 'api'::regnamespace)
  AND has_function_privilege('orders_webhook_sender', p.oid, 'EXECUTE')
  AND NOT EXISTS (SELECT 1 FROM aclexplode(p.proacl) x WHERE x.grantee = 0 AND x.privilege_type = 'EXECUTE')
ORDER BY 1;
SELECT c.oid::regclass AS sender_table
FROM pg_class c WHERE c.relnamespace = 'orders'::regnamespace
  AND has_table_privilege('orders_webhook_sender', c.oid, 'SELECT, INSERT, UPDATE, DELETE');
SELECT rolcanlogin, rolinherit FROM pg_roles WHERE rolname = 'orders_webhook_sender';
SELECT p.proname, p.prosecdef, p.proconfig FROM pg_proc p
WHERE p.oid IN ('orders.webhook_claim'::regproc, 'orders.webhook_report'::regproc) ORDER BY 1;
BEGIN;
SELECT status FROM api.dispatch('POST', '/api/v1/webhooks/' || :w || '/test', NULL, :'ha', NULL);
SET LOCAL ROLE orders_webhook_sender;
SELECT count(*) AS claimed_as_sender FROM orders.webhook_claim('sender-role', 10);
SELECT pg_temp.try('SELECT count(*) FROM orders.webhook_endpoints');
ROLLBACK;

-- The default schedule retries over about three days (issue 13), with
-- growing delays.
RESET orders.webhook_retry_schedule;
SELECT cardinality(d) AS retries,
	   (SELECT sum(x) FROM unnest(d) x) BETWEEN interval '2.5 days' AND interval '3.5 days' AS about_three_days,
	   (SELECT bool_and(d[i] <= d[i + 1]) FROM generate_series(1, cardinality(d) - 1) i) AS never_shorter
FROM orders.webhook_retry_delays() d;

-- An endpoint receives the events that happen once it is registered, not
-- those still waiting in the outbox from before (an order cancelled before
-- the new endpoint exists, another one after).
SELECT pg_temp.place(:client, 6801, 1, 10, 'd-before') AS ob \gset
SELECT pg_temp.answer(cancel_order(:client, :ob, 'before the endpoint'));
SELECT d.body::jsonb->>'id' AS wn
FROM api.dispatch('POST', '/api/v1/webhooks', NULL, :'ha',
	json_build_object('url', 'http://127.0.0.1:9/late', 'eventTypes', '["order.cancelled"]'::json)::text) d \gset
SELECT pg_temp.place(:client, 6801, 1, 10, 'd-after') AS oa \gset
SELECT pg_temp.answer(cancel_order(:client, :oa, 'after the endpoint'));
SELECT orders.webhook_enqueue(1000000) > 0 AS queued;
SELECT o.po_number, count(d.id) AS deliveries_to_the_new_endpoint
FROM orders.orders o LEFT JOIN orders.webhook_deliveries d ON d.order_id = o.id AND d.endpoint_id = :wn
WHERE o.id IN (:ob, :oa) GROUP BY o.po_number ORDER BY 1;
SELECT status FROM api.dispatch('DELETE', '/api/v1/webhooks/' || :wn, NULL, :'ha', NULL);

-- 13. Ordering across fan-out rounds: an event queued while an earlier
-- one of its order is still pending (here in flight) waits for it, though
-- it is the first of its own round; each end (success, a lease lost on
-- the last attempt) lets the next one through.
SELECT d.body::jsonb->>'id' AS wh FROM api.dispatch('POST', '/api/v1/webhooks', NULL, :'ha',
	json_build_object('url', 'http://127.0.0.1:9/heads',
					  'eventTypes', '["order.placed", "order.pending", "order.cancelled", "order.refunded"]'::json)::text) d \gset
TRUNCATE claims;
SELECT pg_temp.place(:client, 6801, 1, 10, 'h-1') AS oh \gset
SELECT * FROM pg_temp.claim();
SELECT pg_temp.answer(cancel_order(:client, :oh, 'second round'));
SELECT * FROM pg_temp.claim();
SELECT e.type, d.status, d.head, d.leased_by IS NOT NULL AS leased
FROM orders.webhook_deliveries d JOIN orders.webhook_events e ON e.id = d.event_id
WHERE d.order_id = :oh ORDER BY d.id;
SELECT pg_temp.ack_all() AS acknowledged;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SET orders.webhook_retry_schedule = '';
SELECT * FROM pg_temp.claim();
UPDATE orders.webhook_deliveries d SET lease_until = now() - interval '1 second'
WHERE d.order_id = :oh AND d.status = 'pending' AND d.leased_by IS NOT NULL;
SELECT * FROM pg_temp.claim();		-- gives the lost one up
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SET orders.webhook_retry_schedule = '10 seconds, 20 seconds';
SELECT e.type, d.status, d.attempt
FROM orders.webhook_deliveries d JOIN orders.webhook_events e ON e.id = d.event_id
WHERE d.order_id = :oh ORDER BY d.id;

-- 14. Two consumers of the outbox: the fan-out has its own position
-- (webhooks_queued_at).  Events acknowledged by orders.acknowledge_events
-- before the fan-out saw them are delivered all the same; events the
-- fan-out queued stay unacknowledged for the other consumers.
TRUNCATE claims;
SELECT pg_temp.place(:client, 6801, 1, 10, 'q-1') AS oq1 \gset
SELECT orders.acknowledge_events(array(SELECT e.id FROM orders.order_events e
									   WHERE e.order_id = :oq1 ORDER BY e.id)) AS acknowledged_first;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT pg_temp.place(:client, 6801, 1, 10, 'q-2') AS oq2 \gset
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
SELECT o.po_number, count(*) AS events, count(e.acknowledged_at) AS acknowledged,
	   count(e.webhooks_queued_at) AS queued,
	   (SELECT count(*) FROM orders.unacknowledged_events(10000) u WHERE u.order_id = o.id) AS listed_unacknowledged
FROM orders.order_events e JOIN orders.orders o ON o.id = e.order_id
WHERE e.order_id IN (:oq1, :oq2) GROUP BY o.id, o.po_number ORDER BY 1;
-- Each position is set once.
SELECT pg_temp.try(format($$UPDATE orders.order_events SET webhooks_queued_at = now() WHERE order_id = %s RETURNING 1$$, :oq2));
SELECT pg_temp.try(format($$UPDATE orders.order_events SET acknowledged_at = now(), webhooks_queued_at = now() WHERE order_id = %s RETURNING 1$$, :oq2));

-- 15. Retention: events whose deliveries all ended more than
-- orders.webhook_retention (30 days) ago go with their deliveries and
-- attempts, a batch per maintenance round, oldest first; an event with a
-- delivery still pending stays, and so does everything younger.
SELECT (orders.webhook_policy()).retention AS default_retention;
SELECT pg_temp.try('SET orders.webhook_retention = ''1h''');
TRUNCATE claims;
SELECT pg_temp.place(:client, 6801, 1, 10, 'r-1') AS or1 \gset
SELECT * FROM pg_temp.claim();		-- order.placed in flight; order.pending waits
SELECT max(id) AS old_event, array_agg(id) FILTER (WHERE order_id = :oh) AS h_events
FROM orders.webhook_events \gset
SELECT array_agg(d.id) AS h_deliveries FROM orders.webhook_deliveries d WHERE d.order_id = :oh \gset
SELECT count(*) > 0 AS h_attempts_before FROM orders.webhook_attempts WHERE delivery_id = ANY (:'h_deliveries');
-- 31 days pass for everything so far; then one more event, young.
UPDATE orders.webhook_events SET created_at = created_at - interval '31 days' WHERE id <= :old_event;
UPDATE orders.webhook_deliveries SET completed_at = completed_at - interval '31 days'
WHERE event_id <= :old_event AND status <> 'pending';
SELECT status FROM api.dispatch('POST', '/api/v1/webhooks/' || :wh || '/test', NULL, :'ha', NULL);
SELECT (orders.run_maintenance()->>'webhook_events_purged')::integer > 0 AS purged;
SELECT (SELECT count(*) FROM orders.webhook_events WHERE id = ANY (:'h_events')) AS h_events_left,
	   (SELECT count(*) FROM orders.webhook_deliveries WHERE id = ANY (:'h_deliveries')) AS h_deliveries_left,
	   (SELECT count(*) FROM orders.webhook_attempts WHERE delivery_id = ANY (:'h_deliveries')) AS h_attempts_left;
-- left: the old events with a pending delivery (r-1's), and the young one
-- (the webhook.test event just sent)
SELECT e.type, o.po_number, e.id > :old_event AS young,
	   bool_or(d.status = 'pending') AS pending
FROM orders.webhook_events e LEFT JOIN orders.orders o ON o.id = e.order_id
LEFT JOIN orders.webhook_deliveries d ON d.event_id = e.id
GROUP BY e.id, e.type, o.po_number ORDER BY e.id;
SELECT orders.webhook_purge() AS purged_again;
SELECT pg_temp.try('SELECT orders.webhook_purge(0)');
-- Once r-1's deliveries ended long enough ago, its events go too.
SELECT pg_temp.ack_all() AS acknowledged;
TRUNCATE claims;
SELECT * FROM pg_temp.claim();
SELECT pg_temp.ack_all() AS acknowledged;
UPDATE orders.webhook_deliveries SET completed_at = completed_at - interval '31 days' WHERE order_id = :or1;
SELECT orders.webhook_purge() AS purged_r1;
SELECT count(*) AS r1_events_left FROM orders.webhook_events WHERE order_id = :or1;
SELECT status FROM api.dispatch('DELETE', '/api/v1/webhooks/' || :wh, NULL, :'ha', NULL);
