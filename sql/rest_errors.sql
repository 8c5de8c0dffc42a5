-- The error catalog (src/error_catalog.c, orders.error_catalog()): one
-- source for SQLSTATE, HTTP status, error code and message, used by the
-- API to answer errors and rendered into docs/errors.md.
\set SHOW_CONTEXT never

SELECT name, sqlstate, http_status, error, message FROM orders.error_catalog();
-- Names and SQLSTATEs are unique; SQLSTATEs are of the project's class OR.
SELECT name, count(*) FROM orders.error_catalog() GROUP BY 1 HAVING count(*) > 1;
SELECT sqlstate, count(*) FROM orders.error_catalog() WHERE sqlstate IS NOT NULL GROUP BY 1 HAVING count(*) > 1;
SELECT name, sqlstate FROM orders.error_catalog() WHERE sqlstate !~ '^OR[0-9A-Z]{3}$';

-- Every SQLSTATE of class OR that a function of the extension raises is in
-- the catalog (the C codes are the catalog's own macros).
SELECT DISTINCT m[1] AS uncatalogued_sqlstate
FROM pg_proc p, regexp_matches(p.prosrc, '''(OR[0-9A-Z]{3})''', 'g') m
WHERE p.pronamespace IN ('orders'::regnamespace, 'api'::regnamespace)
EXCEPT SELECT sqlstate FROM orders.error_catalog()
ORDER BY 1;

-- The API answers a raised error from the catalog: a client error with its
-- status, code and the raised message; a catalogued 500 or an unknown
-- SQLSTATE with the operation's failure message only (and a WARNING).
SELECT e.sqlstate, r.status = e.http_status AS status_ok, r.body->>'error' = e.error AS error_ok,
	   r.body->>'message' AS message
FROM orders.error_catalog() e, orders.api_error_from('charges', e.sqlstate, 'field: what was wrong') r
WHERE e.sqlstate IS NOT NULL AND e.http_status < 500
ORDER BY 1;
SELECT * FROM orders.api_error_from('charges', 'OR003', 'table orders.api_audit is append-only');
SELECT * FROM orders.api_error_from('list_orders', '22P02', 'invalid input syntax for type integer: "x"');
-- Answers of the API itself, by name.
SELECT * FROM orders.api_error('no_match');
SELECT * FROM orders.api_unauthorized();
SELECT * FROM orders.api_error('rate_limit_exceeded', p_headers => '{"Retry-After": "3"}');
-- Through dispatch, end to end: a catalogued code raised by the core
-- (OR101, an unknown product) and an API answer (405).
SELECT orders.admin_create_client('api-errors A') AS a \gset
SELECT key_id AS a_key, secret AS a_secret FROM orders.admin_issue_api_key(:a) \gset
SELECT status, body FROM api.dispatch('POST', '/api/v1/charges', NULL,
	json_build_object('X-API-Key', :'a_key', 'X-API-Secret', :'a_secret')::jsonb,
	'{"data": {"productId": 79997, "denomination": 5}}');
SELECT status, body FROM api.dispatch('PUT', '/api/v1/products', NULL, '{}', NULL);
