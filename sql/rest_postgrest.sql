-- PostgREST compatibility: each request below is run exactly the way
-- PostgREST runs it (docs/postgrest.conf): one transaction, READ ONLY for
-- GET; one statement of transaction-local settings (search_path, role,
-- request.jwt.claims, request.method, request.path, request.headers with
-- lower-case names, request.cookies: pg_temp.postgrest_settings() below,
-- so that each request reads in a few lines); the db-pre-request function; the
-- function call; response.status and response.headers read back; COMMIT.
-- A PGRST error is what PostgREST turns into the HTTP response: its message
-- is the body, its detail the status and headers.
\set SHOW_CONTEXT never
SET orders.rate_limit_per_minute = 0;
SET orders.rate_limit_burst = 0;
SET orders.rate_limit_order_reads_per_hour = 0;

SELECT orders.admin_create_client('api-postgrest A') AS a \gset
SELECT orders.admin_create_client('api-postgrest B') AS b \gset
SELECT key_id AS a_key, secret AS a_secret FROM orders.admin_issue_api_key(:a) \gset
SELECT key_id AS b_key, secret AS b_secret FROM orders.admin_issue_api_key(:b) \gset
SELECT orders.admin_put_product('{"id": 70301, "name": "PostgREST Card", "currency": "EUR", "denominations": [20]}');
-- A second product for the delivered order, so that a restock of the first
-- (which serves the waiting DELAYED order pgrst-1 first) is not involved.
SELECT orders.admin_put_product('{"id": 70302, "name": "PostgREST Stocked Card", "currency": "EUR", "denominations": [20]}');
SELECT orders.admin_fund_wallet(:a, 'EUR', 100);
SELECT json_build_object('x-api-key', :'a_key', 'x-api-secret', :'a_secret', 'accept', 'application/json') AS ha \gset

-- The one statement of transaction-local settings PostgREST sends before
-- the pre-request function (what it sets, in its order).
CREATE FUNCTION pg_temp.postgrest_settings(method text, path text, headers text,
	claims text DEFAULT '{"role":"orders_api"}') RETURNS void
LANGUAGE sql AS $$
	SELECT set_config('search_path', '"api", "public"', true), set_config('role', 'orders_api', true),
		   set_config('request.jwt.claims', claims, true), set_config('request.method', method, true),
		   set_config('request.path', path, true), set_config('request.headers', headers, true),
		   set_config('request.cookies', '{}', true)
$$;
SELECT json_build_object('x-api-key', :'b_key', 'x-api-secret', :'b_secret') AS hb \gset

-- POST /rpc/create_order  {"data": {...}}
BEGIN;
SELECT pg_temp.postgrest_settings('POST', '/rpc/create_order', :'ha');
SELECT api.pre_request();
SELECT (r #>> '{data,placeOrder,status}') AS api_status, r #>> '{data,placeOrder,data,orderStatus}' AS order_status,
	   r #>> '{data,placeOrder,data,amountCharged}' AS charged
FROM api.create_order(data => '{"productId": 70301, "quantity": 1, "denomination": 20, "poNumber": "pgrst-1"}') r;
SELECT current_setting('response.status', true) AS status,
	   regexp_replace(current_setting('response.headers', true), '[0-9]+"', '<id>"') AS headers;
COMMIT;
SELECT id AS o1 FROM orders.orders WHERE client_id = :a AND po_number = 'pgrst-1' \gset

-- The same request again: a replay, 200.
BEGIN;
SELECT pg_temp.postgrest_settings('POST', '/rpc/create_order', :'ha');
SELECT api.pre_request();
SELECT (r #>> '{data,placeOrder,data,orderId}')::bigint = :o1 AS same_order
FROM api.create_order(data => '{"productId": 70301, "quantity": 1, "denomination": 20, "poNumber": "pgrst-1"}') r;
SELECT current_setting('response.status', true) AS status;
COMMIT;

-- An unknown product from the internal function (SQLSTATE OR101): 404 as
-- PostgREST would send it.
BEGIN;
SELECT pg_temp.postgrest_settings('POST', '/rpc/create_order', :'ha');
SELECT api.pre_request();
SELECT api.create_order(data => '{"productId": 79998, "quantity": 1, "denomination": 20, "poNumber": "pgrst-2"}');
ROLLBACK;

-- GET /rpc/list_orders?limit=1  (READ ONLY)
BEGIN READ ONLY;
SELECT pg_temp.postgrest_settings('GET', '/rpc/list_orders', :'ha');
SELECT api.pre_request();
SELECT jsonb_array_length(r) AS items, r->0->>'status' AS status, r->0->>'amount' AS amount
FROM api.list_orders("limit" => '1') r;
SELECT current_setting('response.status', true) AS status, current_setting('response.headers', true) AS headers;
COMMIT;

-- GET /rpc/list_orders?po_number=pgrst-1  (READ ONLY): the order with that
-- poNumber, alone, with the pagination headers.
BEGIN READ ONLY;
SELECT pg_temp.postgrest_settings('GET', '/rpc/list_orders', :'ha');
SELECT api.pre_request();
SELECT jsonb_array_length(r) AS items, (r->0->>'id')::bigint = :o1 AS the_order
FROM api.list_orders(po_number => 'pgrst-1') r;
SELECT current_setting('response.headers', true) AS headers;
COMMIT;

-- GET /rpc/order_details?id=<o1>  (READ ONLY), by the owner and by B.
BEGIN READ ONLY;
SELECT pg_temp.postgrest_settings('GET', '/rpc/order_details', :'ha');
SELECT api.pre_request();
SELECT r->>'status' AS status, r->>'amount' AS amount, r->'vouchers' AS vouchers
FROM api.order_details(id => :'o1') r;
SELECT current_setting('response.status', true) AS status, current_setting('response.headers', true) AS headers;
COMMIT;
BEGIN READ ONLY;
SELECT pg_temp.postgrest_settings('GET', '/rpc/order_details', :'hb');
SELECT api.pre_request();
SELECT api.order_details(id => :'o1');
ROLLBACK;

-- A delivered order: its vouchers are revealed, and the reveal audited
-- (by the background worker, committed before the codes leave the
-- database), in PostgREST's READ ONLY transaction of a GET as in the
-- read-write one of a POST.
SELECT count(*) AS loaded FROM orders.load_inventory(jsonb_build_array(jsonb_build_object(
	'product_id', 70302, 'denomination', 20, 'expires_at', '2031-01-31T23:59:59Z',
	'card_number', 'CARD-70302-ONE', 'pin_code', '7030')));
SELECT d.status FROM api.dispatch('POST', '/api/v1/orders', NULL,
	json_build_object('X-API-Key', :'a_key', 'X-API-Secret', :'a_secret')::jsonb,
	'{"data": {"productId": 70302, "quantity": 1, "denomination": 20, "poNumber": "pgrst-delivered"}}') d;
SELECT id AS o2, status FROM orders.orders WHERE client_id = :a AND po_number = 'pgrst-delivered' \gset
\echo :status
BEGIN READ ONLY;
SELECT pg_temp.postgrest_settings('GET', '/rpc/order_details', :'ha');
SELECT api.pre_request();
SELECT current_setting('transaction_read_only') AS read_only,
	   r->>'status' AS status, jsonb_array_length(r->'vouchers') AS vouchers,
	   r->'vouchers'->0->>'card_number' = 'CARD-70302-ONE' AS decrypted
FROM api.order_details(id => :'o2') r;
SELECT current_setting('response.status', true) AS status;
COMMIT;
BEGIN;
SELECT pg_temp.postgrest_settings('POST', '/rpc/order_details', :'ha');
SELECT api.pre_request();
SELECT r->>'status' AS status, jsonb_array_length(r->'vouchers') AS vouchers,
	   (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(r->'vouchers'->0) k) AS voucher_fields,
	   r->'vouchers'->0->>'card_number' = 'CARD-70302-ONE' AS decrypted
FROM api.order_details(id => :'o2') r;
SELECT current_setting('response.status', true) AS status;
COMMIT;
-- Three reveals audited: the placeOrder response of an INSTANT order
-- carries its vouchers, then the details by GET (READ ONLY) and by POST.
SELECT count(*) AS reveals_audited FROM orders.voucher_reveals WHERE order_id = :o2;

-- GET /rpc/products and POST /rpc/charges
BEGIN READ ONLY;
SELECT pg_temp.postgrest_settings('GET', '/rpc/products', :'ha');
SELECT api.pre_request();
SELECT p->>'name' AS name, p->>'delivery_time' AS delivery_time FROM jsonb_array_elements(api.products()) p
WHERE p->>'id' = '70301';
SELECT current_setting('response.status', true) AS status;
COMMIT;
BEGIN;
SELECT pg_temp.postgrest_settings('POST', '/rpc/charges', :'ha');
SELECT api.pre_request();
SELECT api.charges(data => '{"productId": 70301, "denomination": 20, "quantity": 1}');
SELECT current_setting('response.status', true) AS status;
COMMIT;

-- POST /rpc/token, then GET /rpc/list_orders with Authorization: Bearer
-- and the claims PostgREST would have verified and set.
BEGIN;
SELECT pg_temp.postgrest_settings('POST', '/rpc/token', :'ha');
SELECT api.pre_request();
SELECT api.token()->>'access_token' AS tok \gset
SELECT current_setting('response.status', true) AS status, current_setting('response.headers', true) AS headers;
COMMIT;
BEGIN READ ONLY;
SELECT pg_temp.postgrest_settings('GET', '/rpc/list_orders',
	json_build_object('authorization', 'Bearer ' || :'tok')::text,
	convert_from(orders.base64url_decode(split_part(:'tok', '.', 2)), 'UTF8'));
SELECT api.pre_request();
SELECT jsonb_array_length(api.list_orders()) AS items;
SELECT current_setting('response.headers', true) AS headers;
COMMIT;

-- GET /rpc/health, anonymous.
BEGIN READ ONLY;
SELECT pg_temp.postgrest_settings('GET', '/rpc/health', '{}');
SELECT api.pre_request();
SELECT api.health() - 'version' AS health;
SELECT current_setting('response.status', true) AS status;
COMMIT;

-- Errors raised in the pre-request (bad credentials) and in functions
-- (anonymous call, invalid input, another client's order), as PGRST.
BEGIN READ ONLY;
SELECT pg_temp.postgrest_settings('GET', '/rpc/list_orders', json_build_object('x-api-key', :'a_key', 'x-api-secret', 'nope')::text);
SELECT api.pre_request();
ROLLBACK;
BEGIN READ ONLY;
SELECT pg_temp.postgrest_settings('GET', '/rpc/list_orders', '{}');
SELECT api.pre_request();
SELECT api.list_orders();
ROLLBACK;
BEGIN READ ONLY;
SELECT pg_temp.postgrest_settings('GET', '/rpc/list_orders', :'ha');
SELECT api.pre_request();
SELECT api.list_orders(page => 'first');
ROLLBACK;

-- After the transaction the settings read back as '' (not NULL): a next
-- request on the same connection without credentials is anonymous.
SELECT current_setting('request.headers', true) AS headers_after, current_setting('response.status', true) AS status_after;
BEGIN READ ONLY;
SELECT set_config('role', 'orders_api', true) \gset ignored_
SELECT api.pre_request();
SELECT orders.current_client_id() IS NULL AS anonymous;
COMMIT;
