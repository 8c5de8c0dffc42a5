-- Security of the API, applied last so that it covers every table and
-- function the install script created: row-level security on every
-- client-owned table, EXECUTE revoked from PUBLIC everywhere, and the
-- grants of the API and admin roles.

-- Functions are executable by PUBLIC by default, and ALTER DEFAULT
-- PRIVILEGES ... IN SCHEMA cannot take away a global default: revoke
-- explicitly, then grant what each role needs.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA orders FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;

-- The one exception: the support functions of the enum types (I/O,
-- comparison, hashing, min/max; schema/10_enum_types.sql.in).  They are
-- part of the types, like int2's: pure, leakproof, touching no data.
-- Without them any role that may read a status column could not compare
-- it ("WHERE status = 'delivered'" needs EXECUTE on the = function).
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT p.oid::regprocedure
		FROM pg_catalog.pg_proc p
		JOIN pg_catalog.pg_type t
			ON t.typnamespace = p.pronamespace AND t.typtype = 'b' AND t.typelem = 0
		WHERE p.pronamespace = 'orders'::regnamespace
		  AND p.proname ~ ('^' || t.typname || '_(in|out|recv|send|eq|ne|lt|le|gt|ge|cmp|hash|hash_extended|smaller|larger)$')
	LOOP
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f);
	END LOOP;
END $$;

-- Row-level security.  Every table of schema orders with a client_id
-- column is client-owned: orders_api sees and touches only the rows of
-- orders.current_client_id(), which only the authentication functions
-- set.  The internal, admin and vendor functions run as the owner (a
-- superuser, who bypasses row-level security even when it is FORCEd: so
-- FORCE would promise nothing here, and is not used).  Operators and the
-- vendor back-channel, which may be granted reads on these tables, see
-- every row.
DO $$
DECLARE
	t regclass;
BEGIN
	FOR t IN
		SELECT c.oid::regclass
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'client_id' AND NOT a.attisdropped
		WHERE c.relnamespace = 'orders'::regnamespace AND c.relkind IN ('r', 'p')
		ORDER BY c.oid
	LOOP
		EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format($p$CREATE POLICY client_isolation ON %s TO orders_api
			USING (client_id = orders.current_client_id())
			WITH CHECK (client_id = orders.current_client_id())$p$, t);
		EXECUTE format('CREATE POLICY operators ON %s TO orders_admin, orders_vendor USING (true)', t);
		EXECUTE format('COMMENT ON POLICY client_isolation ON %s IS %L', t,
			'orders_api sees and changes only the rows of the authenticated client (orders.current_client_id())');
		EXECUTE format('COMMENT ON POLICY operators ON %s IS %L', t,
			'operators and the vendor back-channel see every row (their writes go through functions)');
	END LOOP;
END $$;

-- The API role reads its own client's orders with plain SQL too (row-level
-- security is the guard); it writes only through the api functions.
-- Wallets and the ledger stay unreadable to it (the money concern's
-- choice, tested there); their policies guard them should that change.
DO $$
DECLARE
	t regclass;
BEGIN
	FOR t IN
		SELECT c.oid::regclass FROM pg_catalog.pg_class c
		WHERE c.relnamespace = 'orders'::regnamespace AND c.relkind IN ('r', 'p')
		  AND c.relname IN ('orders', 'order_items', 'recharges')
	LOOP
		EXECUTE format('GRANT SELECT ON %s TO orders_api', t);
	END LOOP;
END $$;

-- Its own webhooks too (issue 13), except the endpoints' encrypted secrets.
GRANT SELECT (client_id, id, url, event_types, description, previous_secret_until, failing_since,
			  disabled_at, disabled_reason, created_at, updated_at, deleted_at)
	ON orders.webhook_endpoints TO orders_api;
GRANT SELECT ON orders.webhook_events, orders.webhook_deliveries, orders.webhook_attempts TO orders_api;

GRANT USAGE ON SCHEMA api TO orders_api, orders_authenticator;
-- The API role executes the function of every route of the route table
-- (api.<operation>), the pre-request and dispatch.
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
		WHERE p.pronamespace = 'api'::regnamespace
		  AND p.proname IN (SELECT o.operation FROM orders.api_operations o)
	LOOP
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO orders_api', f);
	END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION api.pre_request(), api.dispatch(text, text, text, jsonb, text) TO orders_api;
-- The gateway's login role calls dispatch without switching roles.
GRANT EXECUTE ON FUNCTION api.dispatch(text, text, text, jsonb, text) TO orders_authenticator;
GRANT EXECUTE ON FUNCTION orders.current_client_id() TO orders_api;

GRANT EXECUTE ON FUNCTION
	orders.admin_create_client(text),
	orders.admin_issue_api_key(bigint, text, timestamptz),
	orders.admin_list_api_keys(bigint),
	orders.admin_revoke_api_key(text),
	orders.admin_expire_api_key(text, timestamptz),
	orders.admin_rotate_jwt_secret(),
	orders.admin_import_api_key(bigint, text, text, text, timestamptz),
	orders.admin_fund_wallet(bigint, text, numeric, text),
	orders.admin_put_product(jsonb),
	orders.rate_limit_status(),
	orders.rate_limit_reset()
TO orders_admin;
GRANT SELECT ON orders.api_audit TO orders_admin;
