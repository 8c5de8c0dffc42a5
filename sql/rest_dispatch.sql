-- api.dispatch, the gateway's one call per request: every route, status,
-- header and error body of the reference, through the same functions
-- PostgREST would call.  Generated values (ids, references, times, tokens)
-- are masked in the output and checked separately.
\set SHOW_CONTEXT never
SET orders.rate_limit_per_minute = 0;
SET orders.rate_limit_burst = 0;
SET orders.rate_limit_order_reads_per_hour = 0;
SELECT clock_timestamp() AS t0 \gset

SELECT orders.admin_create_client('api-dispatch A') AS a \gset
SELECT orders.admin_create_client('api-dispatch B') AS b \gset
SELECT key_id AS a_key, secret AS a_secret FROM orders.admin_issue_api_key(:a) \gset
SELECT key_id AS b_key, secret AS b_secret FROM orders.admin_issue_api_key(:b) \gset
SELECT orders.admin_put_product('{"id": 70201, "name": "Dispatch Card", "currency": "USD",
	"denominations": [10, 25], "order_quantity_limit": 5, "discount_percent": 2}');
SELECT orders.admin_put_product('{"id": 70202, "name": "Withdrawn Card", "currency": "USD",
	"denominations": [5], "active": false}');
SELECT orders.admin_fund_wallet(:a, 'usd', 60);
-- One unit in stock for 10.00 (loaded through the vault): that denomination
-- is INSTANT, 25.00 DELAYED.
SELECT count(*) AS loaded FROM orders.load_inventory(jsonb_build_array(jsonb_build_object(
	'product_id', 70201, 'denomination', 10, 'expires_at', '2030-06-30T23:59:59Z',
	'card_number', 'CARD-70201-DISPATCH', 'pin_code', '7020',
	'claim_url', 'https://redeem.example/70201')));

CREATE FUNCTION pg_temp.req(m text, p text, q text, h jsonb, b text DEFAULT NULL)
RETURNS TABLE (status integer, headers jsonb, body text)
LANGUAGE sql AS $$
	SELECT d.status,
		   jsonb_strip_nulls(d.headers - 'Content-Type'
			   || jsonb_build_object('Location', regexp_replace(d.headers->>'Location', '[0-9]+$', '<id>'))),
		   regexp_replace(regexp_replace(d.body,
			   '"(id|orderId|reference_code|transaction_id|placed_at|access_token|expires_at)": ("[^"]*"|[0-9]+)',
			   '"\1": "<masked>"', 'g'), '(order|client) [0-9]+', '\1 <id>', 'g')
	FROM api.dispatch(m, p, q, h, b) d
$$;
SELECT json_build_object('X-API-Key', :'a_key', 'X-API-Secret', :'a_secret') AS ha \gset
SELECT json_build_object('x-api-key', :'b_key', 'x-api-secret', :'b_secret') AS hb \gset

-- Health: no credentials needed; JSON content type on every response.
SELECT * FROM api.dispatch('GET', '/api/v1/health', NULL, '{}', NULL);

-- Routing.
SELECT * FROM pg_temp.req('GET', '/api/v1/nothing', NULL, :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders/', NULL, :'ha');
SELECT * FROM pg_temp.req('DELETE', '/api/v1/orders', NULL, :'ha');
SELECT * FROM pg_temp.req('POST', '/api/v1/products', NULL, :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/products', 'color=red', :'ha');

-- Credentials: missing, wrong, unknown, malformed: all the same 401.
SELECT * FROM pg_temp.req('GET', '/api/v1/products', NULL, '{}');
SELECT * FROM pg_temp.req('GET', '/api/v1/products', NULL,
	json_build_object('X-API-Key', :'a_key', 'X-API-Secret', 'wrong')::jsonb);
SELECT * FROM pg_temp.req('GET', '/api/v1/products', NULL,
	json_build_object('X-API-Key', 'sk_live_000000000000000000000000', 'X-API-Secret', :'a_secret')::jsonb);
SELECT * FROM pg_temp.req('GET', '/api/v1/products', NULL, json_build_object('X-API-Key', :'a_key')::jsonb);
SELECT * FROM pg_temp.req('GET', '/api/v1/products', NULL, '{"Authorization": "Basic Zm9vOmJhcg=="}');
SELECT * FROM pg_temp.req('GET', '/api/v1/products', NULL, '{"Authorization": "Bearer a.b.c"}');

-- The catalog, with live delivery_time (this file's products only: the
-- regression database is shared); a withdrawn product is not listed.
SELECT d.status, d.headers - 'Content-Type' AS headers,
	   (SELECT jsonb_agg(p) FROM jsonb_array_elements(d.body::jsonb) p WHERE p->>'id' LIKE '702__') AS products
FROM api.dispatch('GET', '/api/v1/products', NULL, :'ha', NULL) d;

-- Charges: the quote of an order.
SELECT * FROM pg_temp.req('POST', '/api/v1/charges', NULL, :'ha',
	'{"data": {"productId": 70201, "denomination": "25.00", "quantity": 2}}');
SELECT * FROM pg_temp.req('POST', '/api/v1/charges', NULL, :'ha', '{"data": {"denomination": 25}}');
SELECT * FROM pg_temp.req('POST', '/api/v1/charges', NULL, :'ha', '{"data": {"productId": 79999, "denomination": 25}}');
SELECT * FROM pg_temp.req('POST', '/api/v1/charges', NULL, :'ha', '{"data": {"productId": 70202, "denomination": 5}}');
SELECT * FROM pg_temp.req('POST', '/api/v1/charges', NULL, :'ha', '{"data": {"productId": 70201, "denomination": 25, "quantity": 1e20}}');

-- Place Order: 201 new, 200 replay (same body), 409 other parameters.
SELECT * FROM pg_temp.req('POST', '/api/v1/orders', NULL, :'ha',
	'{"data": {"productId": 70201, "quantity": 1, "denomination": 25, "email": "buyer@example.com",
			   "tag": "t1", "poNumber": "dispatch-po-1", "notifyReceiverEmail": 1, "notifyAdminEmail": 0}}');
SELECT id AS o1 FROM orders.orders WHERE client_id = :a AND po_number = 'dispatch-po-1' \gset
SELECT d.status, d.headers->>'Location' = '/api/v1/orders/' || :o1 AS location_ok,
	   (d.body::jsonb #>> '{data,placeOrder,data,orderId}')::bigint = :o1 AS order_id_ok
FROM api.dispatch('POST', '/api/v1/orders', NULL, :'ha',
	'{"data": {"productId": 70201, "quantity": 1, "denomination": 25, "email": "buyer@example.com",
			   "tag": "t1", "poNumber": "dispatch-po-1", "notifyReceiverEmail": 1, "notifyAdminEmail": 0}}') d;
SELECT * FROM pg_temp.req('POST', '/api/v1/orders', NULL, :'ha',
	'{"data": {"productId": 70201, "quantity": 1, "denomination": 10, "email": "buyer@example.com",
			   "tag": "t1", "poNumber": "dispatch-po-1", "notifyReceiverEmail": 1, "notifyAdminEmail": 0}}');
-- The same poNumber is another client's own key: B gets no conflict, just
-- a refusal for want of money.
SELECT * FROM pg_temp.req('POST', '/api/v1/orders', NULL, :'hb',
	'{"data": {"productId": 70201, "quantity": 1, "denomination": 25, "poNumber": "dispatch-po-1"}}');
SELECT * FROM pg_temp.req('POST', '/api/v1/orders', NULL, :'ha',
	'{"data": {"productId": 70201, "quantity": 1, "denomination": 25, "poNumber": "dispatch-po-2"}}');
-- 11.00 left: refused, nothing written.
SELECT * FROM pg_temp.req('POST', '/api/v1/orders', NULL, :'ha',
	'{"data": {"productId": 70201, "quantity": 1, "denomination": 25, "poNumber": "dispatch-po-3"}}');
SELECT balance FROM orders.wallets WHERE client_id = :a;
SELECT count(*) AS refused_orders_written FROM orders.orders WHERE po_number = 'dispatch-po-3';
-- Invalid input: 400 naming the field.
SELECT * FROM pg_temp.req('POST', '/api/v1/orders', NULL, :'ha', '{"data": {"productId": 70201, "quantity": 1, "denomination": 25}}');
SELECT * FROM pg_temp.req('POST', '/api/v1/orders', NULL, :'ha',
	'{"data": {"productId": 70201, "quantity": 1, "denomination": 25, "poNumber": "x", "email": "not-an-email"}}');
SELECT * FROM pg_temp.req('POST', '/api/v1/orders', NULL, :'ha',
	'{"data": {"productId": 70201, "quantity": 9, "denomination": 25, "poNumber": "x"}}');
SELECT * FROM pg_temp.req('POST', '/api/v1/orders', NULL, :'ha',
	'{"data": {"productId": "one", "quantity": 1, "denomination": 25, "poNumber": "x"}}');
SELECT * FROM pg_temp.req('POST', '/api/v1/orders', NULL, :'ha', '{"order": {}}');
SELECT * FROM pg_temp.req('POST', '/api/v1/orders', NULL, :'ha', '{"data": ');
SELECT * FROM pg_temp.req('POST', '/api/v1/orders', NULL, :'ha', NULL);

-- List Orders (reference 004): pagination headers and their arithmetic.
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', NULL, :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'limit=1&page=2', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'limit=1&page=3', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'status=pending&product_id=70201&limit=50', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'status=Delivered', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'status=shipped', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'page=0', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'limit=101', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'product_id=abc', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'page=99999999999999999999', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'status=%ff', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', NULL, :'hb');
-- A placed-at range (placed_from inclusive, placed_to exclusive, RFC 3339):
-- combined with the other filters and paginated with the same headers; a
-- range before every order matches nothing; bad values are 400s naming the
-- parameter.
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'placed_from=2000-01-01T00:00:00Z&placed_to=2100-01-01T00:00:00%2B02:00&limit=1&page=2', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'placed_from=2000-01-01T00:00:00Z&status=pending&product_id=70201&limit=50', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'placed_to=2000-01-01T00:00:00Z', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'placed_from=yesterday', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'placed_to=2026-02-30T00:00:00Z', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'placed_from=2026-01-01', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'placed_from=2026-01-02T00:00:00Z&placed_to=2026-01-01T00:00:00Z', :'ha');
-- po_number: the reference's note 5 of Place Order (after a 5xx, confirm
-- by poNumber whether the order exists): the order is found alone
-- (X-Total-Count 1), also combined with the other filters; a poNumber
-- without an order (the refused dispatch-po-3), another client's, or an
-- order the other filters exclude: 404 with X-Total-Count 0; bad values
-- (empty, too long, control characters) 400 naming the parameter.
SELECT d.status, d.headers - 'Content-Type' AS headers, (d.body::jsonb->0->>'id')::bigint = :o1 AS the_order,
	   jsonb_array_length(d.body::jsonb) AS n
FROM api.dispatch('GET', '/api/v1/orders', 'po_number=dispatch-po-1', :'ha', NULL) d;
SELECT d.status, (d.body::jsonb->0->>'id')::bigint = :o1 AS the_order
FROM api.dispatch('GET', '/api/v1/orders', 'po_number=dispatch-po-1&status=pending&product_id=70201&placed_from=2000-01-01T00:00:00Z', :'ha', NULL) d;
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'po_number=dispatch-po-3', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'po_number=dispatch-po-1', :'hb');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'po_number=dispatch-po-1&status=delivered', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'po_number=dispatch-po-1&page=2', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'po_number=', :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'po_number=' || repeat('x', 101), :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders', 'po_number=dispatch-po-1%0A', :'ha');
-- The range's rows come from the index on (client_id, placed_at).
BEGIN;
SET LOCAL enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT o.client_seq FROM orders.orders o
WHERE o.client_id = 1 AND o.placed_at >= '2000-01-01Z' AND o.placed_at < '2100-01-01Z';
ROLLBACK;

-- Order Details (reference 002): the owner gets it; everybody else, and
-- unknown ids, the same 404.
SELECT * FROM pg_temp.req('GET', '/api/v1/orders/' || :o1, NULL, :'ha');
SELECT (d.body::jsonb->>'id')::bigint = :o1 AS id_ok,
	   d.body::jsonb->>'reference_code' = (SELECT reference_code FROM orders.orders WHERE id = :o1) AS reference_ok,
	   d.body::jsonb->>'placed_at' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$' AS rfc3339
FROM api.dispatch('GET', '/api/v1/orders/' || :o1, NULL, :'ha', NULL) d;
SELECT * FROM pg_temp.req('GET', '/api/v1/orders/' || :o1, NULL, :'hb');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders/999999999999', NULL, :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders/0', NULL, :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders/abc', NULL, :'ha');
SELECT * FROM pg_temp.req('GET', '/api/v1/orders/-1', NULL, :'ha');

-- Vouchers appear once the order is delivered, and only to its owner:
-- 10.00 is in stock, so that order is INSTANT (the codes are compared, not
-- printed).
SELECT d.status, d.body::jsonb #>> '{data,placeOrder,data,orderStatus}' AS order_status,
	   jsonb_array_length(d.body::jsonb #> '{data,placeOrder,data,vouchers}') AS vouchers
FROM api.dispatch('POST', '/api/v1/orders', NULL, :'ha',
	'{"data": {"productId": 70201, "quantity": 1, "denomination": 10, "poNumber": "dispatch-delivered"}}') d;
SELECT id AS o3 FROM orders.orders WHERE client_id = :a AND po_number = 'dispatch-delivered' \gset
SELECT d.status, d.body::jsonb->>'status' AS order_status,
	   jsonb_array_length(d.body::jsonb->'vouchers') AS vouchers,
	   d.body::jsonb #>> '{vouchers,0,card_number}' = 'CARD-70201-DISPATCH' AS card_ok,
	   d.body::jsonb #>> '{vouchers,0,pin_code}' = '7020' AS pin_ok,
	   d.body::jsonb #>> '{vouchers,0,claim_url}' = 'https://redeem.example/70201' AS url_ok,
	   d.body::jsonb #>> '{vouchers,0,expires_at}' AS expires_at
FROM api.dispatch('GET', '/api/v1/orders/' || :o3, NULL, :'ha', NULL) d;
SELECT * FROM pg_temp.req('GET', '/api/v1/orders/' || :o3, NULL, :'hb');
-- No code in the audit of API calls either.
SELECT count(*) AS codes_in_audit FROM orders.api_audit a
WHERE row_to_json(a)::text LIKE '%CARD-70201%';

-- An unexpected failure is a 500 that says nothing of its cause; the
-- cause goes to the server log only.
ALTER TABLE orders.orders ADD CONSTRAINT api_dispatch_test_failure CHECK (tag IS DISTINCT FROM 'boom');
SELECT * FROM pg_temp.req('POST', '/api/v1/orders', NULL, :'ha',
	'{"data": {"productId": 70201, "quantity": 1, "denomination": 10, "poNumber": "dispatch-boom", "tag": "boom"}}');
ALTER TABLE orders.orders DROP CONSTRAINT api_dispatch_test_failure;

-- Every call left one audit row: client, operation, order, status.
SELECT CASE a.client_id WHEN :a THEN 'A' WHEN :b THEN 'B' END AS client,
	   a.operation, a.order_id = :o1 AS order_o1, a.status, count(*)
FROM orders.api_audit a WHERE a.at >= :'t0'
GROUP BY 1, 2, 3, 4 ORDER BY 2, 1, 4, 3;
SELECT count(*) AS audit_rows_with_secrets FROM orders.api_audit a
WHERE a.at >= :'t0' AND (row_to_json(a)::text LIKE '%' || :'a_secret' || '%' OR row_to_json(a)::text LIKE '%sk_live%');
-- Append-only.
UPDATE orders.api_audit SET status = 200 WHERE at >= :'t0';
DELETE FROM orders.api_audit WHERE at >= :'t0';

-- Several requests in one transaction (a SQL caller may make them): a
-- request without credentials runs anonymous, never as the client an
-- earlier request of the transaction authenticated.
BEGIN;
SELECT d.status FROM api.dispatch('GET', '/api/v1/orders/' || :o1, NULL, :'ha', NULL) d;
SELECT d.status, d.body::jsonb->>'error' AS error
FROM api.dispatch('GET', '/api/v1/orders/' || :o1, NULL, '{}', NULL) d;
SELECT orders.current_client_id() IS NULL AS nobody_authenticated;
ROLLBACK;
