-- Rate limits in shared memory (the regression cluster preloads orders):
-- per client a minute limit and a burst limit, per order an hourly read
-- limit; over a limit, 429 with Retry-After and RateLimit-* headers.
-- Waiting times depend on the clock: they are checked as ranges.
\set SHOW_CONTEXT never
SELECT orders.rate_limit_reset() >= 0 AS reset;
SELECT enabled, capacity FROM orders.rate_limit_status();

SELECT orders.admin_create_client('api-rate A') AS a \gset
SELECT orders.admin_create_client('api-rate B') AS b \gset
SELECT key_id AS a_key, secret AS a_secret FROM orders.admin_issue_api_key(:a) \gset
SELECT key_id AS b_key, secret AS b_secret FROM orders.admin_issue_api_key(:b) \gset
SELECT json_build_object('X-API-Key', :'a_key', 'X-API-Secret', :'a_secret') AS ha \gset
SELECT json_build_object('X-API-Key', :'b_key', 'X-API-Secret', :'b_secret') AS hb \gset
SELECT orders.admin_put_product('{"id": 70401, "name": "Rate Card", "currency": "USD", "denominations": [5]}');
SELECT orders.admin_fund_wallet(:a, 'USD', 50);
SELECT status FROM api.dispatch('POST', '/api/v1/orders', NULL, :'ha',
	'{"data": {"productId": 70401, "quantity": 1, "denomination": 5, "poNumber": "rate-1"}}');
SELECT status FROM api.dispatch('POST', '/api/v1/orders', NULL, :'ha',
	'{"data": {"productId": 70401, "quantity": 1, "denomination": 5, "poNumber": "rate-2"}}');
SELECT id AS o1 FROM orders.orders WHERE client_id = :a AND po_number = 'rate-1' \gset
SELECT id AS o2 FROM orders.orders WHERE client_id = :a AND po_number = 'rate-2' \gset

-- The 429 response, with its headers checked for shape and range.
CREATE FUNCTION pg_temp.req(p text, h jsonb)
RETURNS TABLE (status integer, body text, "limit" text, remaining text, retry_after_ok boolean, reset_ok boolean)
LANGUAGE sql AS $$
	SELECT d.status, CASE WHEN d.status <> 200 THEN d.body END,
		   d.headers->>'RateLimit-Limit', d.headers->>'RateLimit-Remaining',
		   (d.headers->>'Retry-After')::integer BETWEEN 1 AND (d.headers->>'RateLimit-Reset')::integer,
		   (d.headers->>'RateLimit-Reset')::integer BETWEEN 1 AND 3600
	FROM api.dispatch('GET', p, NULL, h, NULL) d
$$;

-- Burst: 3 requests per 10 seconds.
SET orders.rate_limit_burst = 3;
SET orders.rate_limit_burst_seconds = 10;
SELECT g AS request, r.* FROM generate_series(1, 4) g, pg_temp.req('/api/v1/products' || left(g::text, 0), :'ha') r;
SELECT * FROM pg_temp.req('/api/v1/products', :'ha');
SELECT (d.headers->>'Retry-After')::integer BETWEEN 1 AND 4 AS burst_retry_after,
	   (d.headers->>'RateLimit-Reset')::integer BETWEEN 7 AND 10 AS burst_reset
FROM api.dispatch('GET', '/api/v1/products', NULL, :'ha', NULL) d;
-- Another client has its own budget; anonymous requests are not counted.
SELECT * FROM pg_temp.req('/api/v1/products', :'hb');
SELECT g AS request, d.status FROM generate_series(1, 25) g, api.dispatch('GET', '/api/v1/health' || left(g::text, 0), NULL, '{}', NULL) d
WHERE d.status <> 200;

-- The minute limit, when it binds first.
SELECT orders.rate_limit_reset() > 0 AS reset;
SET orders.rate_limit_burst = 0;
SET orders.rate_limit_per_minute = 2;
SELECT g AS request, r.* FROM generate_series(1, 3) g, pg_temp.req('/api/v1/products' || left(g::text, 0), :'ha') r;
SELECT (d.headers->>'Retry-After')::integer BETWEEN 25 AND 30 AS minute_retry_after
FROM api.dispatch('GET', '/api/v1/products', NULL, :'ha', NULL) d;

-- Per order: 2 detail reads an hour.  Another client's probes of an order
-- are 404 and cost that order nothing.
SELECT orders.rate_limit_reset() > 0 AS reset;
SET orders.rate_limit_per_minute = 0;
SET orders.rate_limit_order_reads_per_hour = 2;
SELECT g AS request, r.* FROM generate_series(1, 3) g, pg_temp.req('/api/v1/orders/' || :o1 || left(g::text, 0), :'hb') r;
SELECT g AS request, r.* FROM generate_series(1, 3) g, pg_temp.req('/api/v1/orders/' || :o1 || left(g::text, 0), :'ha') r;
SELECT (d.headers->>'Retry-After')::integer BETWEEN 1700 AND 1800 AS order_retry_after
FROM api.dispatch('GET', '/api/v1/orders/' || :o1, NULL, :'ha', NULL) d;
SELECT * FROM pg_temp.req('/api/v1/orders/' || :o2, :'ha');
-- Listing is not a detail read.
SELECT status FROM api.dispatch('GET', '/api/v1/orders', NULL, :'ha', NULL);

-- Refusals are counted and audited; a reset forgets every bucket.
SELECT denied >= 5 AS denied_counted, table_full FROM orders.rate_limit_status();
SELECT operation, status, count(*) FROM orders.api_audit
WHERE client_id = :a AND status = 429 GROUP BY 1, 2 ORDER BY 1;
SELECT orders.rate_limit_reset() > 0 AS reset;
SELECT * FROM pg_temp.req('/api/v1/orders/' || :o1, :'ha');

-- The limits are for superusers to set, and the API role cannot reach the
-- buckets (it could drain another client's budget).
SET ROLE orders_api;
SET orders.rate_limit_burst = 1000000;
SELECT orders.rate_limit_take('client', :b);
SELECT orders.rate_limit_reset();
RESET ROLE;
SELECT orders.rate_limit_take('galaxy', 1);
RESET orders.rate_limit_burst;
RESET orders.rate_limit_per_minute;
RESET orders.rate_limit_order_reads_per_hour;
SHOW orders.rate_limit_burst;
SHOW orders.rate_limit_per_minute;
SHOW orders.rate_limit_order_reads_per_hour;
