-- The API adapter's single sources: the route table drives dispatch, the
-- PostgREST functions and the grants, and matches docs/openapi.yaml; no
-- setting carries data between the adapter's functions.
\set SHOW_CONTEXT never

-- 1. The route table and docs/openapi.yaml describe the same routes,
-- operation ids and parameters (scripts/openapi-routes.py reads the
-- document; operations the gateway answers itself are marked there).
\set openapi `python3 scripts/openapi-routes.py docs/openapi.yaml`
CREATE FUNCTION pg_temp.route_rows() RETURNS TABLE (method text, path text, operation_id text,
	name text, source text, type text, minimum numeric)
LANGUAGE sql AS $$
	SELECT o.method, o.path, o.openapi_id, NULL, NULL, NULL, NULL FROM orders.api_operations o
	UNION ALL
	SELECT o.method, o.path, o.openapi_id, p.name, p.source,
		   CASE p.type WHEN 'id' THEN 'integer' ELSE p.type END,
		   CASE WHEN p.type IN ('integer', 'id') THEN p.minimum END
	FROM orders.api_operations o, unnest(o.parameters) p
	WHERE p.source IN ('query', 'path', 'body')
$$;
CREATE FUNCTION pg_temp.route_drift(doc jsonb) RETURNS TABLE (only_in text, method text, path text,
	operation_id text, name text, source text, type text, minimum numeric)
LANGUAGE sql AS $$
	WITH d AS (SELECT * FROM jsonb_to_recordset(doc) AS x(method text, path text, operation_id text,
			   name text, source text, type text, minimum numeric)),
		 t AS (SELECT * FROM pg_temp.route_rows())
	(SELECT 'route table', * FROM t EXCEPT SELECT 'route table', * FROM d)
	UNION ALL
	(SELECT 'openapi.yaml', * FROM d EXCEPT SELECT 'openapi.yaml', * FROM t)
	ORDER BY 1, 2, 3, 5
$$;
SELECT count(*) AS documented_rows FROM jsonb_array_elements(:'openapi');
SELECT * FROM pg_temp.route_drift(:'openapi');
-- The check notices a route or a parameter that one side lacks.
SELECT * FROM pg_temp.route_drift((SELECT jsonb_agg(e) FROM jsonb_array_elements(:'openapi') e
								   WHERE e->>'name' IS DISTINCT FROM 'product_id'));
BEGIN;
INSERT INTO orders.api_operations (operation, method, path, openapi_id, handler, failure_message, description)
VALUES ('ping', 'GET', '/api/v1/ping', 'ping', 'handle_health', 'Ping failed', 'GET /api/v1/ping');
SELECT * FROM pg_temp.route_drift(:'openapi');
ROLLBACK;

-- 2. Dispatch is generated from the table: orders.api_call is what
-- orders.api_call_source() makes of it now, and a route added to the table
-- (then regenerated) is served, with its parameters checked and typed.
SELECT p.prosrc = substring(orders.api_call_source() FROM '\$body\$(.*)\$body\$') AS api_call_is_generated
FROM pg_proc p WHERE p.oid = 'orders.api_call'::regproc;
SELECT orders.admin_create_client('api-adapter A') AS a \gset
SELECT key_id AS a_key, secret AS a_secret FROM orders.admin_issue_api_key(:a) \gset
SELECT json_build_object('X-API-Key', :'a_key', 'X-API-Secret', :'a_secret') AS ha \gset
CREATE FUNCTION orders.handle_adapter_test(p_client bigint, p_n bigint, p_word text)
RETURNS orders.api_response LANGUAGE sql AS $$
	SELECT orders.api_ok(jsonb_build_object('n', p_n, 'word', p_word, 'mine', p_client = orders.current_client_id()))
$$;
BEGIN;
INSERT INTO orders.api_operations (operation, method, path, openapi_id, handler, parameters, failure_message, description)
VALUES ('adapter_test', 'GET', '/api/v1/adapter-test/{n}', 'adapterTest', 'handle_adapter_test',
		ARRAY[('client', 'client', NULL, NULL), ('n', 'path', 'integer', 5), ('word', 'query', 'string', NULL)]::orders.api_parameter[],
		'Adapter test failed', 'a test route');
DO $$ BEGIN EXECUTE orders.api_call_source(); END $$;
SELECT status, body FROM api.dispatch('GET', '/api/v1/adapter-test/7', NULL, '{}', NULL);
SELECT status, body FROM api.dispatch('GET', '/api/v1/adapter-test/7', 'word=hi', :'ha', NULL);
SELECT status, body FROM api.dispatch('GET', '/api/v1/adapter-test/3', NULL, :'ha', NULL);
SELECT status, body FROM api.dispatch('GET', '/api/v1/adapter-test/7', 'colour=red', :'ha', NULL);
SELECT status, headers->>'Allow' AS allow FROM api.dispatch('POST', '/api/v1/adapter-test/7', NULL, :'ha', NULL);
ROLLBACK;
DROP FUNCTION orders.handle_adapter_test(bigint, bigint, text);
SELECT status FROM api.dispatch('GET', '/api/v1/adapter-test/7', NULL, :'ha', NULL);

-- 3. PostgREST functions and grants follow the table: one api function per
-- route, with the route's query and path parameters (text) and body
-- members (jsonb), executable by orders_api; nothing else in schema api
-- but dispatch and the pre-request.
SELECT o.operation, p.oid::regprocedure AS api_function,
	   pg_get_function_arguments(p.oid) AS arguments,
	   has_function_privilege('orders_api', p.oid, 'EXECUTE') AS orders_api_may_call
FROM orders.api_operations o LEFT JOIN pg_proc p
	ON p.pronamespace = 'api'::regnamespace AND p.proname = o.operation
ORDER BY o.operation;
SELECT p.oid::regprocedure AS api_function_without_route
FROM pg_proc p
WHERE p.pronamespace = 'api'::regnamespace
  AND p.proname NOT IN (SELECT operation FROM orders.api_operations)
ORDER BY 1;

-- 4. No setting is a channel.  Only the PostgREST boundary touches
-- PostgREST's request.* / response.* settings: api.pre_request reads
-- request.headers, orders.postgrest_header reads the headers a route takes
-- as parameters (for the api.<operation> functions), orders.postgrest_reply
-- writes response.*.
SELECT p.oid::regprocedure AS touches_request_or_response_settings
FROM pg_proc p
WHERE p.pronamespace IN ('orders'::regnamespace, 'api'::regnamespace)
  AND p.prosrc ~* '(current_setting|set_config)\s*\(\s*''(request|response)\.'
ORDER BY 1;
-- Nor does any function write a setting of the project's own (orders.*):
-- those are the operator's, read as settings; data goes through arguments
-- and return values (1.0's store_vendor_vouchers turned
-- orders.restock_on_load off and on around its load: 1.1 marks vendor
-- units in their rows instead).
SELECT p.oid::regprocedure AS writes_an_orders_setting
FROM pg_proc p
WHERE p.pronamespace IN ('orders'::regnamespace, 'api'::regnamespace)
  AND p.prosrc ~* '(set_config\s*\(\s*''orders\.|\mset\s+(local\s+|session\s+)?orders\.)'
ORDER BY 1;
-- Dispatch sets none of them and reads none: settings left by a
-- PostgREST-style caller in the same transaction change nothing.
BEGIN;
SELECT set_config('request.headers', json_build_object('x-api-key', :'a_key', 'x-api-secret', :'a_secret')::text, true) IS NOT NULL AS set,
	   set_config('response.status', '299', true) IS NOT NULL AS set2;
SELECT status, body FROM api.dispatch('GET', '/api/v1/products', NULL, '{}', NULL);
SELECT status, headers - 'Content-Type' AS headers FROM api.dispatch('GET', '/api/v1/health', NULL, '{}', NULL);
SELECT current_setting('response.status', true) AS response_status_untouched,
	   current_setting('response.headers', true) IS NULL AS no_response_headers,
	   current_setting('request.method', true) IS NULL AS no_request_method;
ROLLBACK;
