-- The authenticated client lives in backend memory: only the
-- authentication functions set it, nothing an API session can SET or call
-- changes it, and row-level security built on it keeps clients apart.
\set SHOW_CONTEXT never
SET orders.rate_limit_per_minute = 0;
SET orders.rate_limit_burst = 0;

SELECT orders.admin_create_client('api-security A') AS a \gset
SELECT orders.admin_create_client('api-security B') AS b \gset
SELECT key_id AS a_key, secret AS a_secret FROM orders.admin_issue_api_key(:a) \gset
SELECT key_id AS b_key, secret AS b_secret FROM orders.admin_issue_api_key(:b) \gset
INSERT INTO orders.products (id, name, currency, denominations) VALUES (70101, 'Security Card', 'USD', '{10}');
-- Two orders of A, one of B (bare rows: no money needed to test visibility).
INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity)
VALUES (:a, 'sec-a-1', 70101, 10, 1), (:a, 'sec-a-2', 70101, 10, 1), (:b, 'sec-b-1', 70101, 10, 1);
INSERT INTO orders.order_items (client_id, order_id)
SELECT client_id, id FROM orders.orders WHERE po_number LIKE 'sec-%';
SELECT id AS a_order FROM orders.orders WHERE po_number = 'sec-a-1' \gset

-- Nobody is authenticated to begin with.
SELECT orders.current_client_id() IS NULL AS anonymous;

-- 1. The identity cannot be set from an API session.
BEGIN;
SET LOCAL ROLE orders_api;
SELECT orders.set_current_client(:a, 1, 'key');            -- not granted
ROLLBACK;
BEGIN;
SET LOCAL ROLE orders_api;
SELECT orders.authenticate_key(:'a_key', :'a_secret');      -- not granted either
ROLLBACK;
BEGIN;
SET LOCAL ROLE orders_api;
-- A setting named like it, or forged JWT claims, change nothing.
SELECT set_config('orders.current_client_id', :'a', true) IS NOT NULL AS set;
SELECT set_config('request.jwt.claims', json_build_object('role', 'orders_api', 'client_id', :a)::text, true) IS NOT NULL AS set;
SELECT api.pre_request();
SELECT orders.current_client_id() IS NULL AS still_anonymous;
SELECT count(*) AS visible_orders FROM orders.orders;
ROLLBACK;

-- Even a role that was granted the setter cannot use it, nor can a
-- SECURITY DEFINER function of its own: only the extension owner's can.
CREATE ROLE api_security_intruder;
GRANT EXECUTE ON FUNCTION orders.set_current_client(bigint, bigint, text) TO api_security_intruder;
GRANT USAGE ON SCHEMA orders TO api_security_intruder;
SET ROLE api_security_intruder;
SELECT orders.set_current_client(:a, 1, 'key');
CREATE FUNCTION pg_temp.impersonate(c bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER AS $$ SELECT orders.set_current_client(c, 1, 'key') $$;
SELECT pg_temp.impersonate(:a);
RESET ROLE;
DROP FUNCTION pg_temp.impersonate(bigint);
REVOKE ALL ON SCHEMA orders FROM api_security_intruder;
REVOKE ALL ON FUNCTION orders.set_current_client(bigint, bigint, text) FROM api_security_intruder;
DROP ROLE api_security_intruder;

-- 2. The identity is transactional: gone at commit and at rollback, undone
-- with an aborted subtransaction, kept by a released one.
BEGIN;
SELECT orders.set_current_client(:a, 1, 'key');
SELECT orders.current_client_id() = :a AS is_a, orders.current_auth_method();
SAVEPOINT s1;
SELECT orders.set_current_client(:b, 2, 'token');
SELECT orders.current_client_id() = :b AS is_b, orders.current_auth_method();
ROLLBACK TO SAVEPOINT s1;
SELECT orders.current_client_id() = :a AS back_to_a;
SAVEPOINT s2;
SELECT orders.set_current_client(:b, 2, 'token');
RELEASE SAVEPOINT s2;
SELECT orders.current_client_id() = :b AS kept_b;
SAVEPOINT s3;
SELECT 1 / 0;
ROLLBACK TO SAVEPOINT s3;
SELECT orders.current_client_id() = :b AS still_b;
COMMIT;
SELECT orders.current_client_id() IS NULL AS cleared_at_commit;
BEGIN;
SELECT orders.set_current_client(:a, 1, 'key');
ROLLBACK;
SELECT orders.current_client_id() IS NULL AS cleared_at_rollback;
SELECT orders.set_current_client(:a, 0, 'key');
SELECT orders.set_current_client(:a, 1, 'password');

-- 3. Row-level security, as the API role, after authenticating the way
-- PostgREST does (request.headers + api.pre_request()).
BEGIN;
SET LOCAL ROLE orders_api;
SELECT set_config('request.headers', json_build_object('x-api-key', :'b_key', 'x-api-secret', :'b_secret')::text, true) IS NOT NULL AS set;
SELECT api.pre_request();
SELECT orders.current_client_id() = :b AS authenticated_as_b;
SELECT count(*) AS b_sees_orders FROM orders.orders;
SELECT count(*) AS b_sees_items FROM orders.order_items;
SELECT count(*) AS b_sees_a_order FROM orders.orders WHERE id = :a_order;
SELECT count(*) AS b_sees_a_rows FROM orders.orders WHERE client_id = :a;
UPDATE orders.orders SET tag = 'mine' WHERE id = :a_order;
ROLLBACK;
BEGIN;
SET LOCAL ROLE orders_api;
SELECT set_config('request.headers', json_build_object('x-api-key', :'a_key', 'x-api-secret', :'a_secret')::text, true) IS NOT NULL AS set;
SELECT api.pre_request();
SELECT count(*) AS a_sees_orders FROM orders.orders;
SELECT count(*) AS a_sees_other_clients FROM orders.orders WHERE client_id <> :a;
ROLLBACK;

-- Write policies hold even for a role that was granted UPDATE and DELETE.
CREATE ROLE api_security_writer IN ROLE orders_api;
GRANT UPDATE, DELETE ON orders.orders TO api_security_writer;
BEGIN;
SET LOCAL ROLE api_security_writer;
SELECT set_config('request.headers', json_build_object('x-api-key', :'b_key', 'x-api-secret', :'b_secret')::text, true) IS NOT NULL AS set;
SELECT api.pre_request();
-- B's writes reach none of A's rows (row counts), and A's order is still
-- there, untagged, seen by the owner inside the same transaction (after
-- the ROLLBACK it would be so whatever the writes did).
WITH u AS (UPDATE orders.orders SET tag = 'taken' WHERE id = :a_order RETURNING 1)
SELECT count(*) AS b_updated_a_rows FROM u;
WITH d AS (DELETE FROM orders.orders WHERE id = :a_order RETURNING 1)
SELECT count(*) AS b_deleted_a_rows FROM d;
RESET ROLE;
SELECT count(*) AS a_order_still_there, bool_and(tag IS NULL) AS a_order_untagged
FROM orders.orders WHERE id = :a_order;
SET LOCAL ROLE api_security_writer;
-- B cannot move its own rows to A either.
UPDATE orders.orders SET client_id = :a WHERE client_id = :b;
ROLLBACK;
REVOKE ALL ON orders.orders FROM api_security_writer;
DROP ROLE api_security_writer;

-- Every client-owned table has row-level security and the isolation policy.
SELECT c.oid::regclass AS unprotected_table
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'client_id'
WHERE c.relnamespace = 'orders'::regnamespace AND c.relkind IN ('r', 'p')
  AND (NOT c.relrowsecurity
	   OR NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'client_isolation'));
SELECT count(*) > 5 AS several_client_tables
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'client_id'
WHERE c.relnamespace = 'orders'::regnamespace AND c.relkind = 'r';

-- 4. Privileges.  Nothing of schemas orders and api is executable by PUBLIC
-- but the support functions of the enum types (schema/96_api_security.sql):
-- they are counted, and nothing else is listed.
SELECT count(*) AS enum_type_support_functions
FROM pg_proc p JOIN pg_type t ON t.typnamespace = p.pronamespace AND t.typtype = 'b' AND t.typelem = 0
WHERE p.pronamespace = 'orders'::regnamespace
  AND p.proname ~ ('^' || t.typname || '_(in|out|recv|send|eq|ne|lt|le|gt|ge|cmp|hash|hash_extended|smaller|larger)$')
  AND EXISTS (SELECT 1 FROM aclexplode(p.proacl) x WHERE x.grantee = 0 AND x.privilege_type = 'EXECUTE');
SELECT p.oid::regprocedure AS public_function
FROM pg_proc p
WHERE p.pronamespace IN ('orders'::regnamespace, 'api'::regnamespace)
  AND NOT EXISTS (SELECT 1 FROM pg_type t
				  WHERE t.typnamespace = p.pronamespace AND t.typtype = 'b' AND t.typelem = 0
					AND p.proname ~ ('^' || t.typname || '_(in|out|recv|send|eq|ne|lt|le|gt|ge|cmp|hash|hash_extended|smaller|larger)$'))
  AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) x
									WHERE x.grantee = 0 AND x.privilege_type = 'EXECUTE'));
-- The API role executes no internal function that takes a client id, nor
-- any of the identity, credential, rate-limit and audit internals: it goes
-- through schema api.
SELECT p.oid::regprocedure AS internal_function_executable_by_api
FROM pg_proc p
WHERE p.pronamespace = 'orders'::regnamespace
  AND has_function_privilege('orders_api', p.oid, 'EXECUTE')
  AND (p.proargnames && ARRAY['p_client_id', 'client_id']
	   OR p.proname IN ('set_current_client', 'authenticate_key', 'authenticate_token',
						'issue_access_token', 'rate_limit_take', 'rate_limit_reset', 'jwt_sign',
						'server_secret', 'api_secret_hash', 'api_audit_write', 'api_authenticate'));
SELECT p.oid::regprocedure AS api_function, p.prosecdef AS security_definer,
	   array_to_string(p.proconfig, ',') AS config
FROM pg_proc p WHERE p.pronamespace = 'api'::regnamespace ORDER BY p.proname;
-- Secrets and credentials are unreadable by the API, vendor and admin roles.
SELECT r.role, t.tbl, has_table_privilege(r.role, t.tbl, 'SELECT') AS can_read
FROM (VALUES ('orders_api'), ('orders_vendor'), ('orders_admin'), ('orders_authenticator')) r(role),
	 (VALUES ('orders.server_secrets'), ('orders.api_keys')) t(tbl)
ORDER BY 1, 2;
SET ROLE orders_api;
SELECT * FROM orders.server_secrets;
SELECT * FROM orders.api_keys;
RESET ROLE;
