-- Webhooks (issue 13), the subscriptions API: registration with a secret
-- shown once and stored encrypted, validation naming the field, reading,
-- changing, deleting (pending deliveries dropped), rotation, the test
-- event, the deliveries list and retry, and one client never reaching
-- another's endpoints.  The delivery contract is sql/webhooks_delivery.sql.
\set SHOW_CONTEXT never
-- Rate limits off but in the last section, which checks them.
SET orders.rate_limit_per_minute = 0;
SET orders.rate_limit_burst = 0;
SET orders.webhook_allow_private_addresses = off;

-- An API call through api.dispatch: "status body", times, message ids,
-- ids (they depend on what earlier files created) and secrets masked.
CREATE FUNCTION pg_temp.masked(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT regexp_replace(regexp_replace(regexp_replace(regexp_replace(t,
		'"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"', '"<time>"', 'g'),
		'msg_[0-9a-f]{32}', 'msg_<id>', 'g'),
		'whsec_[A-Za-z0-9+/=]+', 'whsec_<secret>', 'g'),
		'"id": [0-9]+', '"id": #', 'g')
$$;
CREATE FUNCTION pg_temp.call(method text, path text, headers text, body text DEFAULT NULL,
	query text DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
	SELECT d.status || ' ' || pg_temp.masked(d.body)
	FROM api.dispatch(method, path, query, headers::jsonb, body) d
$$;
CREATE FUNCTION pg_temp.headers(method text, path text, headers text, query text DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$
	SELECT d.status || ' ' || (d.headers - 'Content-Type')::text
	FROM api.dispatch(method, path, query, headers::jsonb, NULL) d
$$;

SELECT orders.admin_create_client('webhooks api A') AS a \gset
SELECT key_id AS a_key, secret AS a_secret FROM orders.admin_issue_api_key(:a) \gset
SELECT json_build_object('X-API-Key', :'a_key', 'X-API-Secret', :'a_secret') AS ha \gset
SELECT orders.admin_create_client('webhooks api B') AS b \gset
SELECT key_id AS b_key, secret AS b_secret FROM orders.admin_issue_api_key(:b) \gset
SELECT json_build_object('X-API-Key', :'b_key', 'X-API-Secret', :'b_secret') AS hb \gset

-- 1. Registration: 201, Location, the endpoint and its secret.
SELECT d.status, d.headers->>'Location' AS location, d.body::jsonb AS created
FROM api.dispatch('POST', '/api/v1/webhooks', NULL, :'ha',
	'{"url": "https://hooks.example.com/orders", "eventTypes": ["order.failed", "order.delivered", "order.failed"], "description": "ERP"}') d \gset
SELECT :status AS status, :'location' ~ '^/api/v1/webhooks/[0-9]+$' AS location_ok,
	   pg_temp.masked(:'created') AS endpoint;
SELECT (:'created'::jsonb)->>'id' AS w1, (:'created'::jsonb)->>'secret' AS secret1 \gset
-- The secret: whsec_ and the base64 of 32 bytes.
SELECT :'secret1' ~ '^whsec_[A-Za-z0-9+/]{43}=$' AS secret_format,
	   length(decode(substr(:'secret1', 7), 'base64')) AS key_bytes;
-- Stored encrypted (the vault's ciphertext of that secret, for that row and
-- field), nowhere in clear: not in the row, not in the audit.
SELECT orders.vault_decrypt(w.secret, w.id, 'webhook_secret') = :'secret1' AS vault_holds_it,
	   position(convert_to(:'secret1', 'UTF8') IN w.secret) = 0
	   AND position(decode(substr(:'secret1', 7), 'base64') IN w.secret) = 0 AS not_in_clear,
	   strpos(to_jsonb(w)::text, :'secret1') = 0 AND strpos(to_jsonb(w)::text, substr(:'secret1', 7)) = 0 AS not_in_row_text
FROM orders.webhook_endpoints w WHERE w.id = :w1;
SELECT count(*) AS audit_rows_with_secret FROM orders.api_audit a WHERE strpos(to_jsonb(a)::text, substr(:'secret1', 7)) > 0;
-- Never shown again: not by GET, not in the list.
SELECT d.status, d.body::jsonb ? 'secret' AS get_shows_secret,
	   strpos(d.body, substr(:'secret1', 7)) > 0 AS get_body_has_it
FROM api.dispatch('GET', '/api/v1/webhooks/' || :w1, NULL, :'ha', NULL) d;
SELECT d.status, strpos(d.body, 'whsec_') > 0 AS list_shows_a_secret
FROM api.dispatch('GET', '/api/v1/webhooks', NULL, :'ha', NULL) d;
-- Two registrations give two different secrets.
SELECT (d.body::jsonb->>'secret') <> :'secret1' AS another_secret
FROM api.dispatch('POST', '/api/v1/webhooks', NULL, :'ha',
	'{"url": "http://hooks.example.com:8080/b?x=1", "eventTypes": ["recharge.succeeded"]}') d;

-- 2. Validation: 400 naming the field, nothing registered.
SELECT count(*) AS endpoints_before FROM orders.webhook_endpoints \gset
SELECT left(b, 90) AS body, pg_temp.call('POST', '/api/v1/webhooks', :'ha', b) AS answer
FROM unnest(ARRAY[
	'{"eventTypes": ["order.delivered"]}',
	'{"url": 42, "eventTypes": ["order.delivered"]}',
	'{"url": "", "eventTypes": ["order.delivered"]}',
	'{"url": "ftp://hooks.example.com/x", "eventTypes": ["order.delivered"]}',
	'{"url": "hooks.example.com/x", "eventTypes": ["order.delivered"]}',
	'{"url": "https://user:pw@hooks.example.com/x", "eventTypes": ["order.delivered"]}',
	'{"url": "https://hooks.example.com:0/x", "eventTypes": ["order.delivered"]}',
	'{"url": "https://hooks.example.com:70000/x", "eventTypes": ["order.delivered"]}',
	'{"url": "https://hooks example.com/x", "eventTypes": ["order.delivered"]}',
	'{"url": "http://127.0.0.1:8080/x", "eventTypes": ["order.delivered"]}',
	'{"url": "http://10.1.2.3/x", "eventTypes": ["order.delivered"]}',
	'{"url": "http://172.16.0.1/x", "eventTypes": ["order.delivered"]}',
	'{"url": "http://192.168.1.1/x", "eventTypes": ["order.delivered"]}',
	'{"url": "http://169.254.169.254/latest/meta-data", "eventTypes": ["order.delivered"]}',
	'{"url": "http://[::1]:8080/x", "eventTypes": ["order.delivered"]}',
	'{"url": "http://[fe80::1]/x", "eventTypes": ["order.delivered"]}',
	'{"url": "http://[::ffff:127.0.0.1]/x", "eventTypes": ["order.delivered"]}',
	'{"url": "http://localhost/x", "eventTypes": ["order.delivered"]}',
	'{"url": "http://0x7f000001/x", "eventTypes": ["order.delivered"]}',
	'{"url": "http://2130706433/x", "eventTypes": ["order.delivered"]}',
	'{"url": "http://metadata.google.internal/x", "eventTypes": ["order.delivered"]}',
	'{"url": "https://hooks.example.com/x"}',
	'{"url": "https://hooks.example.com/x", "eventTypes": "order.delivered"}',
	'{"url": "https://hooks.example.com/x", "eventTypes": []}',
	'{"url": "https://hooks.example.com/x", "eventTypes": ["order.delivered", 7]}',
	'{"url": "https://hooks.example.com/x", "eventTypes": ["order.shipped"]}',
	'{"url": "https://hooks.example.com/x", "eventTypes": ["webhook.test"]}',
	'{"url": "https://hooks.example.com/x", "eventTypes": ["order.delivered"], "description": 5}',
	'{"url": "https://hooks.example.com/x", "eventTypes": ["order.delivered"], "description": "' || repeat('d', 501) || '"}',
	'{"url": "https://hooks.example.com/x", "eventTypes": ["order.delivered"'
]) AS b;
SELECT count(*) - :endpoints_before AS registered_by_bad_requests FROM orders.webhook_endpoints;
-- The operator's setting lets private addresses through (tests, closed networks).
SET orders.webhook_allow_private_addresses = on;
SELECT pg_temp.call('POST', '/api/v1/webhooks', :'ha', '{"url": "http://127.0.0.1:8080/x", "eventTypes": ["order.cancelled"]}') ~ '^201 ' AS loopback_allowed;
SELECT pg_temp.call('POST', '/api/v1/webhooks', :'ha', '{"url": "ftp://127.0.0.1/x", "eventTypes": ["order.cancelled"]}') AS still_http_only;
RESET orders.webhook_allow_private_addresses;
-- A superuser setting: a client cannot turn it on for itself.
SET ROLE orders_api;
SELECT pg_temp.call('GET', '/api/v1/health', NULL) ~ '^200 ' AS api_role;
SET orders.webhook_allow_private_addresses = on;
RESET ROLE;

-- 3. Reading, with paging like the orders list.
SELECT pg_temp.headers('GET', '/api/v1/webhooks', :'ha', 'limit=2&page=2');
SELECT pg_temp.call('GET', '/api/v1/webhooks', :'ha', NULL, 'limit=2&page=2');
SELECT pg_temp.call('GET', '/api/v1/webhooks', :'ha', NULL, 'limit=101');
SELECT pg_temp.call('GET', '/api/v1/webhooks', :'ha', NULL, 'page=0');
SELECT pg_temp.call('GET', '/api/v1/webhooks', :'ha', NULL, 'color=red');
SELECT pg_temp.call('GET', '/api/v1/webhooks/abc', :'ha');
SELECT pg_temp.call('GET', '/api/v1/webhooks/999999', :'ha');
SELECT pg_temp.call('GET', '/api/v1/webhooks', NULL);
SELECT pg_temp.headers('PUT', '/api/v1/webhooks/' || :w1, :'ha');

-- 4. Changing: only what is given; "" clears the description; disabling
-- and enabling.
SELECT pg_temp.call('PATCH', '/api/v1/webhooks/' || :w1, :'ha',
	'{"url": "https://hooks.example.com/v2", "eventTypes": ["order.refunded", "order.cancelled"]}');
SELECT pg_temp.call('PATCH', '/api/v1/webhooks/' || :w1, :'ha', '{"description": "", "enabled": false}');
SELECT pg_temp.call('PATCH', '/api/v1/webhooks/' || :w1, :'ha', '{"enabled": true}');
SELECT pg_temp.call('PATCH', '/api/v1/webhooks/' || :w1, :'ha', '{"enabled": "yes"}');
SELECT pg_temp.call('PATCH', '/api/v1/webhooks/' || :w1, :'ha', '{"url": "http://10.0.0.1/"}');
SELECT pg_temp.call('PATCH', '/api/v1/webhooks/' || :w1, :'ha', '{"eventTypes": []}');
SELECT url, event_types FROM orders.webhook_endpoints WHERE id = :w1;

-- 5. Rotation: a new secret, shown once; the previous one signs for the
-- grace period (orders.webhook_secret_grace), stored encrypted too.
SELECT d.body::jsonb AS rotated FROM api.dispatch('POST', '/api/v1/webhooks/' || :w1 || '/rotate-secret', NULL, :'ha', NULL) d \gset
SELECT pg_temp.masked(:'rotated') AS rotated;
SELECT (:'rotated'::jsonb)->>'secret' AS secret2 \gset
SELECT :'secret2' ~ '^whsec_[A-Za-z0-9+/]{43}=$' AND :'secret2' <> :'secret1' AS new_secret,
	   orders.vault_decrypt(w.secret, w.id, 'webhook_secret') = :'secret2' AS current_is_new,
	   orders.vault_decrypt(w.previous_secret, w.id, 'webhook_previous_secret') = :'secret1' AS previous_is_old,
	   w.previous_secret_until - now() BETWEEN interval '23 hours 59 minutes' AND interval '24 hours' AS grace_24h
FROM orders.webhook_endpoints w WHERE w.id = :w1;
SET orders.webhook_secret_grace = 0;
SELECT (d.body::jsonb) ? 'secret' AS shown, d.body::jsonb->'previousSecretExpiresAt' AS previous_expires
FROM api.dispatch('POST', '/api/v1/webhooks/' || :w1 || '/rotate-secret', NULL, :'ha', NULL) d;
SELECT previous_secret IS NULL AND previous_secret_until IS NULL AS no_previous FROM orders.webhook_endpoints WHERE id = :w1;
RESET orders.webhook_secret_grace;

-- 6. The test event, the deliveries list and retry.
SELECT pg_temp.call('POST', '/api/v1/webhooks/' || :w1 || '/test', :'ha');
SELECT pg_temp.call('POST', '/api/v1/webhooks/' || :w1 || '/test', :'ha');
SELECT pg_temp.headers('GET', '/api/v1/webhooks/' || :w1 || '/deliveries', :'ha', 'limit=1');
SELECT pg_temp.call('GET', '/api/v1/webhooks/' || :w1 || '/deliveries', :'ha', NULL, 'limit=1&page=2');
SELECT min(d.id) AS d1, max(d.id) AS d2 FROM orders.webhook_deliveries d WHERE d.endpoint_id = :w1 \gset
-- Being sent: no retry.  After a failure the retry makes it due now, with
-- the same webhook-id; the attempt is listed.
SELECT count(*) AS claimed FROM orders.webhook_claim('api-suite', 1000) c WHERE c.delivery_id IN (:d1, :d2);
SELECT pg_temp.call('POST', '/api/v1/webhooks/' || :w1 || '/deliveries/' || :d1 || '/retry', :'ha');
SELECT orders.webhook_report(:d1, 1, 503, 120, 'HTTP 503');
SET orders.webhook_retry_schedule = '';
SELECT orders.webhook_report(:d2, 1, NULL, 10000, 'timeout after 10 s');
RESET orders.webhook_retry_schedule;
SELECT id = :d2 AS d2, status, attempt FROM orders.webhook_deliveries WHERE id IN (:d1, :d2) ORDER BY id;
SELECT pg_temp.call('GET', '/api/v1/webhooks/' || :w1 || '/deliveries', :'ha');
SELECT pg_temp.call('POST', '/api/v1/webhooks/' || :w1 || '/deliveries/' || :d2 || '/retry', :'ha');
SELECT status, attempt, next_attempt_at <= now() AS due FROM orders.webhook_deliveries WHERE id = :d2;
SELECT pg_temp.call('POST', '/api/v1/webhooks/' || :w1 || '/deliveries/999999/retry', :'ha');
-- Disabled: no test event, no retry.
SELECT pg_temp.call('PATCH', '/api/v1/webhooks/' || :w1, :'ha', '{"enabled": false}') ~ '^200 ' AS disabled;
SELECT pg_temp.call('POST', '/api/v1/webhooks/' || :w1 || '/test', :'ha');
SELECT pg_temp.call('POST', '/api/v1/webhooks/' || :w1 || '/deliveries/' || :d2 || '/retry', :'ha');
SELECT pg_temp.call('PATCH', '/api/v1/webhooks/' || :w1, :'ha', '{"enabled": true}') ~ '^200 ' AS enabled;

-- 7. Another client reaches none of it: 404 as for an unknown id, and
-- nothing changed.
SELECT w.secret AS w1_cipher, w.updated_at AS w1_updated,
	   (SELECT count(*) FROM orders.webhook_deliveries d WHERE d.endpoint_id = w.id) AS w1_deliveries
FROM orders.webhook_endpoints w WHERE w.id = :w1 \gset
SELECT op, pg_temp.call(m, p, :'hb', body) AS b_answer
FROM (VALUES ('get', 'GET', '/api/v1/webhooks/' || :w1, NULL),
			 ('patch', 'PATCH', '/api/v1/webhooks/' || :w1, '{"url": "https://evil.example.com/"}'),
			 ('rotate', 'POST', '/api/v1/webhooks/' || :w1 || '/rotate-secret', NULL),
			 ('test', 'POST', '/api/v1/webhooks/' || :w1 || '/test', NULL),
			 ('deliveries', 'GET', '/api/v1/webhooks/' || :w1 || '/deliveries', NULL),
			 ('retry', 'POST', '/api/v1/webhooks/' || :w1 || '/deliveries/' || :d1 || '/retry', NULL),
			 ('delete', 'DELETE', '/api/v1/webhooks/' || :w1, NULL)) AS x(op, m, p, body);
SELECT pg_temp.headers('GET', '/api/v1/webhooks', :'hb');
SELECT w.url, w.deleted_at IS NULL AS live, w.secret = :'w1_cipher'::bytea AS same_secret,
	   w.updated_at = :'w1_updated' AS unchanged,
	   (SELECT count(*) FROM orders.webhook_deliveries d WHERE d.endpoint_id = w.id) = :w1_deliveries AS no_new_delivery
FROM orders.webhook_endpoints w WHERE w.id = :w1;
-- With plain SQL the API role sees its own client's rows only
-- (row-level security) and never a secret column.
BEGIN;
SET LOCAL ROLE orders_api;
SELECT set_config('request.headers', json_build_object('x-api-key', :'b_key', 'x-api-secret', :'b_secret')::text, true) IS NOT NULL AS set;
SELECT api.pre_request();
SELECT (SELECT count(*) FROM orders.webhook_endpoints WHERE client_id = :a) AS b_sees_a_endpoints,
	   (SELECT count(*) FROM orders.webhook_deliveries WHERE client_id = :a) AS b_sees_a_deliveries,
	   (SELECT count(*) FROM orders.webhook_events WHERE client_id = :a) AS b_sees_a_events,
	   (SELECT count(*) FROM orders.webhook_attempts WHERE client_id = :a) AS b_sees_a_attempts;
ROLLBACK;
BEGIN;
SET LOCAL ROLE orders_api;
SELECT set_config('request.headers', json_build_object('x-api-key', :'a_key', 'x-api-secret', :'a_secret')::text, true) IS NOT NULL AS set;
SELECT api.pre_request();
SELECT count(*) AS a_sees_own_endpoints FROM orders.webhook_endpoints WHERE client_id = :a;
SAVEPOINT s;
SELECT secret FROM orders.webhook_endpoints;
ROLLBACK TO s;
SELECT previous_secret FROM orders.webhook_endpoints;
ROLLBACK;

-- 8. Deleting: gone for the API, its pending deliveries dropped, its
-- secrets wiped; a report still due for one is ignored.
SELECT count(*) AS claimed FROM orders.webhook_claim('api-suite', 1000) c WHERE c.delivery_id = :d2;
SELECT pg_temp.call('POST', '/api/v1/webhooks/' || :w1 || '/test', :'ha') ~ '^202 ' AS queued;
SELECT pg_temp.call('DELETE', '/api/v1/webhooks/' || :w1, :'ha');
SELECT pg_temp.call('GET', '/api/v1/webhooks/' || :w1, :'ha');
SELECT pg_temp.call('DELETE', '/api/v1/webhooks/' || :w1, :'ha');
SELECT pg_temp.call('GET', '/api/v1/webhooks/' || :w1 || '/deliveries', :'ha');
SELECT status, count(*) FROM orders.webhook_deliveries WHERE endpoint_id = :w1 GROUP BY status ORDER BY status;
SELECT secret IS NULL AND previous_secret IS NULL AS secrets_wiped FROM orders.webhook_endpoints WHERE id = :w1;
SELECT orders.webhook_report(:d2, 2, 200, 5, NULL);
SELECT status FROM orders.webhook_deliveries WHERE id = :d2;
SELECT count(*) AS claimable_of_deleted FROM orders.webhook_claim('api-suite', 1000) c
JOIN orders.webhook_deliveries d ON d.id = c.delivery_id WHERE d.endpoint_id = :w1;

-- 9. At most 20 live endpoints per client.
SELECT count(*) AS live FROM orders.webhook_endpoints WHERE client_id = :a AND deleted_at IS NULL \gset
SELECT count(*) FILTER (WHERE r ~ '^201 ') AS registered, max(r) FILTER (WHERE r !~ '^201 ') AS refused
FROM (SELECT pg_temp.call('POST', '/api/v1/webhooks', :'ha', '{"url": "https://hooks.example.com/n' || n || '", "eventTypes": ["order.failed"]}') AS r
	  FROM generate_series(:live + 1, 21) n) x;

-- 10. PostgREST: the same operations as api.<operation> functions.
BEGIN;
SET LOCAL ROLE orders_api;
SELECT set_config('request.headers', json_build_object('x-api-key', :'b_key', 'x-api-secret', :'b_secret')::text, true) IS NOT NULL AS set;
SELECT api.pre_request();
SELECT pg_temp.masked(api.create_webhook(url => 'https://b.example.com/h', "eventTypes" => '["order.delivered"]', description => NULL)::text) AS created;
SELECT current_setting('response.status') AS status;
SELECT jsonb_array_length(api.list_webhooks()) AS b_endpoints;
ROLLBACK;

-- 11. The client's rate limits count these calls as any other.
SET orders.rate_limit_burst = 3;
SELECT orders.rate_limit_reset() >= 0 AS reset;
SELECT n, left(pg_temp.call('GET', '/api/v1/webhooks', :'hb'), 3) AS status FROM generate_series(1, 4) n;
RESET orders.rate_limit_burst;
