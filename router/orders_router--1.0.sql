-- orders_router 1.0: the router database in front of N shard databases,
-- each running the whole orders extension (docs/scale-out.md).  The
-- gateway (and any plain-SQL caller) calls api.dispatch here exactly as on
-- a single server; a PL/Proxy function with the same signature runs the
-- real api.dispatch on the shard that owns the request's client.
--   - orders_router.shards: the shards, numbered 0..n-1 (PL/Proxy's
--     partitions, read through the cluster configuration functions below).
--   - orders_router.placement: client -> shard (hash of the name by
--     default, or the operator's choice; a move flips it).
--   - orders_router.api_keys: key id -> client, the credential directory
--     that routes a request by its API key or access token.
--   - proxies of the operator and vendor functions: to the client's shard,
--     to the shard an id names, or to all shards, combined.

\echo Use "CREATE EXTENSION orders_router CASCADE" to load this file. \quit

CREATE SCHEMA orders_router;
COMMENT ON SCHEMA orders_router IS 'the router of the orders API: shards, placement, credential directory, proxies';
REVOKE ALL ON SCHEMA orders_router FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA orders_router REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- The roles of the orders extension, by the same names: a login role works
-- on the router as on a shard, and PL/Proxy logs in to the shards as the
-- login role of the session (docs/scale-out.md, "Roles and connections").
DO $$
DECLARE r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['orders_admin', 'orders_vendor', 'orders_api', 'orders_authenticator',
						 'orders_metrics'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
		END IF;
	END LOOP;
END $$;
-- The gateway logs in as a member of orders_authenticator and switches to
-- orders_api for a request, to orders_metrics for a scrape, as on a shard.
GRANT orders_api, orders_metrics TO orders_authenticator;
GRANT USAGE ON SCHEMA orders_router TO orders_admin, orders_vendor, orders_api, orders_authenticator,
	orders_metrics;

-- Ids are unique across shards: shard s numbers its rows with ids where
-- id % id_slots = s (orders.shard_configure on the shard).  The number of
-- slots is the most shards the platform can have.
CREATE FUNCTION orders_router.id_slots() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 16 $$;
COMMENT ON FUNCTION orders_router.id_slots() IS
'the most shards: shard s numbers its rows with ids where id % id_slots() = s';

-- ---- shards and the PL/Proxy cluster "orders" ------------------------------

CREATE TABLE orders_router.shards (
	shard		integer PRIMARY KEY CHECK (shard >= 0 AND shard < orders_router.id_slots()),
	-- libpq connection string; without user=, PL/Proxy logs in as the
	-- session's login role (its password from ~postgres/.pgpass or a trusted socket)
	connstr		text NOT NULL CHECK (connstr <> ''),
	added_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE orders_router.shards IS
'the shard databases, numbered 0..n-1 without gaps (PL/Proxy partitions of cluster "orders"), with their connection strings';

CREATE TABLE orders_router.cluster_version (
	only_row	boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	version		integer NOT NULL DEFAULT 1
);
INSERT INTO orders_router.cluster_version DEFAULT VALUES;
COMMENT ON TABLE orders_router.cluster_version IS
'one row: bumped by every change of orders_router.shards, so PL/Proxy reloads the partitions without a restart';

CREATE FUNCTION orders_router.bump_cluster_version() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	UPDATE orders_router.cluster_version SET version = version + 1;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders_router.bump_cluster_version() IS
'trigger: a change of the shards makes PL/Proxy reload the cluster';
CREATE TRIGGER bump_cluster_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON orders_router.shards
	FOR EACH STATEMENT EXECUTE FUNCTION orders_router.bump_cluster_version();

SELECT pg_catalog.pg_extension_config_dump('orders_router.shards', '');
SELECT pg_catalog.pg_extension_config_dump('orders_router.cluster_version', '');

-- PL/Proxy's cluster configuration API (schema plproxy, by its names).
-- PL/Proxy calls them as the calling role: SECURITY DEFINER, so that role
-- needs no grant on the router's tables.  Connection strings should carry
-- no password (docs/scale-out.md): whoever may route may read them.
CREATE SCHEMA plproxy;
COMMENT ON SCHEMA plproxy IS 'PL/Proxy''s cluster configuration functions (orders_router)';
GRANT USAGE ON SCHEMA plproxy TO orders_admin, orders_vendor, orders_api, orders_authenticator, orders_metrics;

CREATE FUNCTION plproxy.get_cluster_version(p_cluster text) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	IF p_cluster = 'orders' THEN
		RETURN (SELECT version FROM orders_router.cluster_version);
	END IF;
	RAISE EXCEPTION 'unknown PL/Proxy cluster "%"', p_cluster USING ERRCODE = 'undefined_object';
END
$$;
COMMENT ON FUNCTION plproxy.get_cluster_version(text) IS
'PL/Proxy: the version of cluster "orders" (changes with orders_router.shards)';

-- PL/Proxy logs in to a shard as the role that logged in to the router,
-- not as the current role: the gateway switches to orders_api (NOLOGIN)
-- after logging in, and its login role is what exists on every shard
-- (docs/scale-out.md, "Roles and connections").  A connection string that
-- names a user keeps it.
CREATE FUNCTION plproxy.get_cluster_partitions(p_cluster text) RETURNS SETOF text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	IF p_cluster = 'orders' THEN
		-- As the login role of the session (default_user = session_user
		-- would say the same, but PL/Proxy 2.10 reads it only after it
		-- picked the user of its first call).
		RETURN QUERY
			SELECT s.connstr || CASE WHEN s.connstr ~ '(^|\s)user\s*=' THEN '' ELSE
				format(' user=''%s''', replace(replace(session_user::text, '\', '\\'), '''', '\''')) END
			FROM orders_router.shards s ORDER BY s.shard;
		RETURN;
	END IF;
	RAISE EXCEPTION 'unknown PL/Proxy cluster "%"', p_cluster USING ERRCODE = 'undefined_object';
END
$$;
COMMENT ON FUNCTION plproxy.get_cluster_partitions(text) IS
'PL/Proxy: the connection strings of the shards of cluster "orders", in shard order, with user= the session''s login role unless they name one';

-- modular_mapping: any number of shards, and RUN ON n runs on shard n.
-- connection_lifetime: connections to the shards are renewed every ten
-- minutes (a shard restarted or replaced is picked up even when idle
-- connections look alive); a broken one is dropped at its first error and
-- the next call connects again, so a shard that comes back serves at once.
CREATE FUNCTION plproxy.get_cluster_config(p_cluster text, OUT key text, OUT val text)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	VALUES ('modular_mapping', '1'), ('connection_lifetime', '600')
$$;
COMMENT ON FUNCTION plproxy.get_cluster_config(text) IS
'PL/Proxy: options of cluster "orders": modular mapping (RUN ON n is shard n), connections renewed every 600 s';

GRANT EXECUTE ON FUNCTION plproxy.get_cluster_version(text), plproxy.get_cluster_partitions(text),
	plproxy.get_cluster_config(text) TO orders_admin, orders_vendor, orders_api, orders_authenticator,
	orders_metrics;

-- ---- placement and the credential directory ------------------------------

CREATE TABLE orders_router.placement (
	client_id	bigint PRIMARY KEY,
	shard		integer NOT NULL REFERENCES orders_router.shards,
	placed_by	text NOT NULL CHECK (placed_by IN ('hash', 'operator', 'move')),
	-- a moving client: its requests get 503 until the move ends
	frozen		boolean NOT NULL DEFAULT false,
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON orders_router.placement (shard);
COMMENT ON TABLE orders_router.placement IS
'which shard holds each client: hash of its name by default, the operator''s choice, or where a move put it; frozen while it moves';
SELECT pg_catalog.pg_extension_config_dump('orders_router.placement', '');

CREATE TABLE orders_router.api_keys (
	key_id		text PRIMARY KEY,
	client_id	bigint NOT NULL REFERENCES orders_router.placement
);
CREATE INDEX ON orders_router.api_keys (client_id);
COMMENT ON TABLE orders_router.api_keys IS
'credential directory: the client of every API key id (public; secrets stay on the shards), to route a request by its X-API-Key or the kid of its access token';
SELECT pg_catalog.pg_extension_config_dump('orders_router.api_keys', '');

GRANT SELECT ON orders_router.shards, orders_router.placement, orders_router.api_keys TO orders_admin;

-- The shard of a client, for a call made on its behalf: refused while the
-- client moves (57P03, cannot_connect_now: the gateway answers 503 with
-- Retry-After, as for any database that cannot serve now).
CREATE FUNCTION orders_router.client_shard(p_client_id bigint) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	p orders_router.placement;
BEGIN
	SELECT * INTO p FROM orders_router.placement WHERE client_id = p_client_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'client % does not exist', p_client_id USING ERRCODE = 'foreign_key_violation';
	END IF;
	IF p.frozen THEN
		RAISE EXCEPTION 'client % is moving to another shard', p_client_id
			USING ERRCODE = 'cannot_connect_now', HINT = 'Try again in a few seconds.';
	END IF;
	RETURN p.shard;
END
$$;
COMMENT ON FUNCTION orders_router.client_shard(bigint) IS
'the shard of a client; foreign_key_violation for an unknown client, cannot_connect_now (57P03) while it moves';

-- The shard that numbered an id (job, recharge, order): its residue.
CREATE FUNCTION orders_router.id_shard(p_id bigint) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
	SELECT (p_id % orders_router.id_slots())::integer
$$;
COMMENT ON FUNCTION orders_router.id_shard(bigint) IS
'the shard that numbered an id (id % id_slots()): where a vendor job or recharge lives';

-- The key id an access token names (its "kid" claim), read without
-- verifying the token: the shard verifies it.  NULL for anything that is
-- not a decodable JWT payload.
CREATE FUNCTION orders_router.token_key_id(p_token text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
DECLARE
	payload text := split_part(p_token, '.', 2);
BEGIN
	IF payload !~ '^[A-Za-z0-9_-]+$' OR length(payload) > 4096 OR length(payload) % 4 = 1 THEN
		RETURN NULL;
	END IF;
	RETURN convert_from(decode(translate(payload, '-_', '+/') || repeat('=', (4 - length(payload) % 4) % 4),
							   'base64'), 'UTF8')::jsonb->>'kid';
EXCEPTION WHEN data_exception OR character_not_in_repertoire OR untranslatable_character THEN
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders_router.token_key_id(text) IS
'the kid claim of a JWT''s payload, unverified (the shard verifies the token); NULL when it cannot be read';

-- The client_id of an HTTP Basic credential (the OAuth 2.0 token request,
-- RFC 6749 section 2.3.1: base64 of client_id ":" client_secret); NULL for
-- anything that is not one.  Key ids need no form-urlencoding.
CREATE FUNCTION orders_router.basic_key_id(p_credential text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
DECLARE
	pair text;
BEGIN
	IF p_credential !~ '^[A-Za-z0-9+/]+=*$' OR length(p_credential) > 2048 THEN
		RETURN NULL;
	END IF;
	pair := convert_from(decode(p_credential, 'base64'), 'UTF8');
	RETURN CASE WHEN strpos(pair, ':') > 0 THEN split_part(pair, ':', 1) END;
EXCEPTION WHEN data_exception OR character_not_in_repertoire OR untranslatable_character THEN
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders_router.basic_key_id(text) IS
'the client_id (an API key id) of an HTTP Basic credential, unverified (the shard verifies it); NULL when it cannot be read';

-- Where a request goes: by its credential, read as the shard reads it:
-- X-API-Key; else Authorization: Bearer (the token's kid) or Basic (the
-- OAuth client_id); else the client_id of a form body (the OAuth token
-- request); to the shard of the key's client.  A credential the directory
-- does not know goes to the shard its hash picks, and a request without
-- one to the shard the path's hash picks: the shard answers as a single
-- server would (401, or the operation's own answer), so an unknown key
-- looks the same as before.  PL/Proxy maps the hash to a shard (modular
-- mapping); a placed client's shard number maps to itself.  SECURITY
-- DEFINER: the gateway's role reads no table of the router.
CREATE FUNCTION orders_router.request_shard(p_headers jsonb, p_path text, p_body text) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	cred text;
	auth text;
	content_type text;
	client bigint;
BEGIN
	SELECT max(h.value) FILTER (WHERE lower(h.key) = 'x-api-key'),
		   max(h.value) FILTER (WHERE lower(h.key) = 'authorization'),
		   max(h.value) FILTER (WHERE lower(h.key) = 'content-type')
	INTO cred, auth, content_type
	FROM jsonb_each_text(CASE WHEN jsonb_typeof(p_headers) = 'object' THEN p_headers ELSE '{}' END) h;
	cred := nullif(cred, '');
	IF cred IS NULL AND auth ~* '^bearer +[^ ]+$' THEN
		cred := orders_router.token_key_id(substring(auth FROM '[^ ]+$'));
	ELSIF cred IS NULL AND auth ~* '^basic +[^ ]+$' THEN
		cred := orders_router.basic_key_id(substring(auth FROM '[^ ]+$'));
	ELSIF cred IS NULL AND lower(btrim(split_part(content_type, ';', 1), E' \t')) = 'application/x-www-form-urlencoded' THEN
		-- the first client_id, as the shard reads a form
		cred := nullif(substring('&' || p_body FROM '&client_id=([^&]*)'), '');
	END IF;
	IF cred IS NULL THEN
		RETURN hashtext(coalesce(p_path, ''));
	END IF;
	SELECT k.client_id INTO client FROM orders_router.api_keys k WHERE k.key_id = cred;
	IF client IS NULL THEN
		RETURN hashtext(cred);
	END IF;
	RETURN orders_router.client_shard(client);
END
$$;
COMMENT ON FUNCTION orders_router.request_shard(jsonb, text, text) IS
'the shard of an API request: its key''s client''s shard (X-API-Key, the kid of a bearer token, the client_id of HTTP Basic or of a form body); a hash of the unknown key id or of the path otherwise; 57P03 while the client moves';

-- ---- the API ---------------------------------------------------------------

CREATE SCHEMA api;
COMMENT ON SCHEMA api IS 'the REST API on the router: api.dispatch, run on the shard of the request''s client';
REVOKE ALL ON SCHEMA api FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO orders_api, orders_authenticator;

-- PL/Proxy runs the real api.dispatch on the shard.
CREATE FUNCTION orders_router.dispatch_on(p_shard integer, p_method text, p_path text, p_query text,
	p_headers jsonb, p_body text)
RETURNS TABLE (status integer, headers jsonb, body text)
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON p_shard;
	SELECT status, headers, body FROM api.dispatch(p_method, p_path, p_query, p_headers, p_body);
$$;
COMMENT ON FUNCTION orders_router.dispatch_on(integer, text, text, text, jsonb, text) IS
'internal: api.dispatch on shard p_shard (PL/Proxy; a hash maps to a shard by modulo)';

-- PL/Proxy reports a shard it cannot reach (refused, reset, timed out) as
-- internal_error (XX000) with libpq's message; a shard's api.dispatch
-- answers every error of its own as an HTTP answer and raises nothing.  So
-- internal_error here means "the shard cannot serve now": raised again as
-- connection_failure (08006), which the gateway answers 503 with
-- Retry-After, as for a single server that is down.  PL/Proxy drops the
-- broken connection; the next call connects again.
CREATE FUNCTION orders_router.route_dispatch(p_method text, p_path text, p_query text,
	p_headers jsonb, p_body text)
RETURNS TABLE (status integer, headers jsonb, body text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	shard integer := orders_router.request_shard(p_headers, p_path, p_body);
BEGIN
	RETURN QUERY SELECT * FROM orders_router.dispatch_on(shard, p_method, p_path, p_query, p_headers, p_body);
EXCEPTION WHEN internal_error THEN
	RAISE EXCEPTION 'shard unavailable' USING ERRCODE = 'connection_failure', DETAIL = SQLERRM;
END
$$;
COMMENT ON FUNCTION orders_router.route_dispatch(text, text, text, jsonb, text) IS
'internal: api.dispatch on the request''s shard; a shard that cannot be reached raises connection_failure (08006)';

CREATE FUNCTION api.dispatch(method text, path text, query text, headers jsonb, body text)
RETURNS TABLE (status integer, headers jsonb, body text)
LANGUAGE sql VOLATILE SET search_path = pg_catalog AS $$
	SELECT * FROM orders_router.route_dispatch($1, $2, $3, $4, $5)
$$;
COMMENT ON FUNCTION api.dispatch(text, text, text, jsonb, text) IS
'the gateway''s one call per HTTP request, as on a shard: runs api.dispatch on the shard of the request''s client (orders_router.request_shard); 08006 when that shard cannot be reached, 57P03 while the client moves';
REVOKE EXECUTE ON FUNCTION api.dispatch(text, text, text, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.dispatch(text, text, text, jsonb, text),
	orders_router.route_dispatch(text, text, text, jsonb, text),
	orders_router.dispatch_on(integer, text, text, text, jsonb, text),
	orders_router.request_shard(jsonb, text, text), orders_router.client_shard(bigint),
	orders_router.token_key_id(text), orders_router.basic_key_id(text), orders_router.id_slots()
TO orders_api, orders_authenticator;

-- ---- setting up shards -------------------------------------------------------

CREATE FUNCTION orders_router.configure_shard_on(p_shard integer, p_slots integer) RETURNS integer
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON p_shard;
	SELECT orders.shard_configure(p_shard, p_slots);
$$;
COMMENT ON FUNCTION orders_router.configure_shard_on(integer, integer) IS
'internal: orders.shard_configure on shard p_shard (PL/Proxy)';

-- A new shard: the next number, its connection string, and its sequences
-- configured for ids of its residue (in the shard's own transaction: a
-- failure here leaves the router unchanged, the shard configured or not).
CREATE FUNCTION orders_router.add_shard(p_connstr text) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	n integer;
BEGIN
	LOCK TABLE orders_router.shards IN EXCLUSIVE MODE;
	n := (SELECT count(*) FROM orders_router.shards);
	IF n >= orders_router.id_slots() THEN
		RAISE EXCEPTION 'cannot add a shard: the router has % already, the most ids allow', n
			USING ERRCODE = 'program_limit_exceeded';
	END IF;
	IF p_connstr IS NULL OR btrim(p_connstr) = '' THEN
		RAISE EXCEPTION 'connection string of the shard is required' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO orders_router.shards (shard, connstr) VALUES (n, p_connstr);
	PERFORM orders_router.configure_shard_on(n, orders_router.id_slots());
	RETURN n;
END
$$;
COMMENT ON FUNCTION orders_router.add_shard(text) IS
'adds a shard (numbered after the last) by its connection string and configures its id sequences (orders.shard_configure); returns its number';

CREATE FUNCTION orders_router.shard_identities(OUT shard integer, OUT slots integer, OUT version text,
	OUT secrets_digest text, OUT vault_key_ids integer[])
RETURNS SETOF record
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON ALL;
	SELECT * FROM orders.shard_identity();
$$;
COMMENT ON FUNCTION orders_router.shard_identities() IS
'orders.shard_identity() of every shard (PL/Proxy, RUN ON ALL)';

CREATE FUNCTION orders_router.shard_vault_key_checks(OUT shard integer, OUT checks jsonb)
RETURNS SETOF record
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON ALL;
	SELECT (orders.shard_identity()).shard AS shard, orders.shard_vault_key_checks() AS checks;
$$;
COMMENT ON FUNCTION orders_router.shard_vault_key_checks() IS
'orders.shard_vault_key_checks() of every shard: a fingerprint per vault key id, equal where the keys are the same (PL/Proxy, RUN ON ALL)';

-- What keeps the shards from being one platform: each row a problem.
CREATE FUNCTION orders_router.check_shards(OUT shard integer, OUT problem text)
RETURNS SETOF record
LANGUAGE sql VOLATILE SET search_path = pg_catalog AS $$
	WITH i AS (SELECT * FROM orders_router.shard_identities()),
	first AS (SELECT * FROM i ORDER BY shard LIMIT 1),
	v AS (SELECT * FROM orders_router.shard_vault_key_checks())
	SELECT i.shard, p.problem
	FROM i, first f,
	LATERAL (VALUES
		(CASE WHEN i.slots <> orders_router.id_slots() THEN
			format('ids in %s slots, the router expects %s (orders.shard_configure)', i.slots, orders_router.id_slots()) END),
		(CASE WHEN i.version IS DISTINCT FROM f.version THEN
			format('orders %s, shard %s runs %s', i.version, f.shard, f.version) END),
		(CASE WHEN i.secrets_digest IS DISTINCT FROM f.secrets_digest THEN
			format('server secrets differ from shard %s''s', f.shard) END),
		(CASE WHEN i.vault_key_ids IS DISTINCT FROM f.vault_key_ids THEN
			format('vault keys %s, shard %s has %s', i.vault_key_ids, f.shard, f.vault_key_ids) END)
	) AS p(problem)
	WHERE p.problem IS NOT NULL
	UNION ALL
	-- the same key id, another key: a moved voucher or webhook secret
	-- could not be decrypted (orders.client_import refuses the move)
	SELECT c.shard, format('vault key %s differs from shard %s''s key of that id', k.key, f.shard)
	FROM v c JOIN v f ON f.shard = (SELECT x.shard FROM first x), LATERAL jsonb_each_text(c.checks) k
	WHERE f.checks->>k.key IS DISTINCT FROM k.value AND f.checks ? k.key
	UNION ALL
	SELECT i.shard, format('%s shards number their ids as shard %s', count(*), i.shard)
	FROM i GROUP BY i.shard HAVING count(*) > 1
	ORDER BY 1, 2
$$;
COMMENT ON FUNCTION orders_router.check_shards() IS
'what would break keys, tokens, vouchers, webhook secrets or ids across shards: slots, version, server secrets, vault keys (ids, or a key of the same id) that differ; none on a sound platform';

-- ---- clients, keys, money ------------------------------------------------------

CREATE FUNCTION orders_router.create_client_on(p_shard integer, p_name text) RETURNS bigint
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON p_shard;
	SELECT orders.admin_create_client(p_name);
$$;
COMMENT ON FUNCTION orders_router.create_client_on(integer, text) IS
'internal: orders.admin_create_client on shard p_shard (PL/Proxy)';

-- A new client on the shard its name's hash picks, or on p_shard.
CREATE FUNCTION orders_router.admin_create_client(p_name text, p_shard integer DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	n integer := (SELECT count(*) FROM orders_router.shards);
	target integer := coalesce(p_shard, abs(hashtext(coalesce(p_name, '')) % greatest(n, 1)));
	client bigint;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM orders_router.shards s WHERE s.shard = target) THEN
		RAISE EXCEPTION 'shard % does not exist', target USING ERRCODE = 'invalid_parameter_value';
	END IF;
	client := orders_router.create_client_on(target, p_name);
	INSERT INTO orders_router.placement (client_id, shard, placed_by)
	VALUES (client, target, CASE WHEN p_shard IS NULL THEN 'hash' ELSE 'operator' END);
	RETURN client;
END
$$;
COMMENT ON FUNCTION orders_router.admin_create_client(text, integer) IS
'creates an API client on the shard the hash of its name picks (or on p_shard) and places it there; returns its id';

CREATE FUNCTION orders_router.issue_api_key_on(p_client_id bigint, p_label text, p_expires_at timestamptz,
	OUT key_id text, OUT secret text, OUT expires_at timestamptz)
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON orders_router.client_shard(p_client_id);
	SELECT * FROM orders.admin_issue_api_key(p_client_id, p_label, p_expires_at);
$$;
COMMENT ON FUNCTION orders_router.issue_api_key_on(bigint, text, timestamptz) IS
'internal: orders.admin_issue_api_key on the client''s shard (PL/Proxy)';

CREATE FUNCTION orders_router.admin_issue_api_key(p_client_id bigint, p_label text DEFAULT NULL,
	p_expires_at timestamptz DEFAULT NULL, OUT key_id text, OUT secret text, OUT expires_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	SELECT * INTO key_id, secret, expires_at FROM orders_router.issue_api_key_on(p_client_id, p_label, p_expires_at);
	INSERT INTO orders_router.api_keys (key_id, client_id) VALUES (key_id, p_client_id);
END
$$;
COMMENT ON FUNCTION orders_router.admin_issue_api_key(bigint, text, timestamptz) IS
'issues an API key on the client''s shard and enters it in the credential directory; the secret is shown once';

CREATE FUNCTION orders_router.import_api_key_on(p_client_id bigint, p_key_id text, p_secret text,
	p_label text, p_expires_at timestamptz) RETURNS text
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON orders_router.client_shard(p_client_id);
	SELECT orders.admin_import_api_key(p_client_id, p_key_id, p_secret, p_label, p_expires_at);
$$;
COMMENT ON FUNCTION orders_router.import_api_key_on(bigint, text, text, text, timestamptz) IS
'internal: orders.admin_import_api_key on the client''s shard (PL/Proxy)';

CREATE FUNCTION orders_router.admin_import_api_key(p_client_id bigint, p_key_id text, p_secret text,
	p_label text DEFAULT NULL, p_expires_at timestamptz DEFAULT NULL) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	k text := orders_router.import_api_key_on(p_client_id, p_key_id, p_secret, p_label, p_expires_at);
BEGIN
	INSERT INTO orders_router.api_keys (key_id, client_id) VALUES (k, p_client_id);
	RETURN k;
END
$$;
COMMENT ON FUNCTION orders_router.admin_import_api_key(bigint, text, text, text, timestamptz) IS
'registers a key id and secret issued elsewhere on the client''s shard and in the credential directory';

-- The shard of a key, for the operator functions that name one.
CREATE FUNCTION orders_router.key_shard(p_key_id text) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	client bigint := (SELECT k.client_id FROM orders_router.api_keys k WHERE k.key_id = p_key_id);
BEGIN
	IF client IS NULL THEN
		RAISE EXCEPTION 'API key "%" does not exist', p_key_id USING ERRCODE = 'no_data_found';
	END IF;
	RETURN orders_router.client_shard(client);
END
$$;
COMMENT ON FUNCTION orders_router.key_shard(text) IS
'the shard of an API key''s client; no_data_found for a key the directory does not know';

CREATE FUNCTION orders_router.admin_revoke_api_key(p_key_id text) RETURNS timestamptz
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON orders_router.key_shard(p_key_id);
	SELECT orders.admin_revoke_api_key(p_key_id);
$$;
COMMENT ON FUNCTION orders_router.admin_revoke_api_key(text) IS
'orders.admin_revoke_api_key on the key''s shard (PL/Proxy)';

CREATE FUNCTION orders_router.admin_expire_api_key(p_key_id text, p_at timestamptz DEFAULT now())
RETURNS timestamptz
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON orders_router.key_shard(p_key_id);
	SELECT orders.admin_expire_api_key(p_key_id, p_at);
$$;
COMMENT ON FUNCTION orders_router.admin_expire_api_key(text, timestamptz) IS
'orders.admin_expire_api_key on the key''s shard (PL/Proxy)';

CREATE FUNCTION orders_router.admin_list_api_keys(p_client_id bigint)
RETURNS TABLE (key_id text, label text, created_at timestamptz, expires_at timestamptz,
			   revoked_at timestamptz, state text)
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON orders_router.client_shard(p_client_id);
	SELECT * FROM orders.admin_list_api_keys(p_client_id);
$$;
COMMENT ON FUNCTION orders_router.admin_list_api_keys(bigint) IS
'orders.admin_list_api_keys on the client''s shard (PL/Proxy)';

CREATE FUNCTION orders_router.admin_fund_wallet(p_client_id bigint, p_currency text, p_amount numeric,
	p_note text DEFAULT NULL) RETURNS numeric
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON orders_router.client_shard(p_client_id);
	SELECT orders.admin_fund_wallet(p_client_id, p_currency, p_amount, p_note);
$$;
COMMENT ON FUNCTION orders_router.admin_fund_wallet(bigint, text, numeric, text) IS
'orders.admin_fund_wallet on the client''s shard (PL/Proxy): credits its wallet, returns the new balance';

-- ---- catalog and stock ----------------------------------------------------------

-- The catalog is the same on every shard (a reference table): a product is
-- put on all of them; one row per shard, each the product id.
CREATE FUNCTION orders_router.admin_put_product(p_product jsonb) RETURNS SETOF bigint
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON ALL;
	SELECT orders.admin_put_product(p_product);
$$;
COMMENT ON FUNCTION orders_router.admin_put_product(jsonb) IS
'orders.admin_put_product on every shard (the catalog is a reference table); one row per shard';

-- Stock is per shard: the units of one load go to one shard, and serve
-- the clients placed there.
CREATE FUNCTION orders_router.load_inventory(p_shard integer, p_units jsonb)
RETURNS TABLE (entry integer, unit_id bigint, status text)
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON p_shard;
	SELECT entry, unit_id, status::text FROM orders.load_inventory(p_units);
$$;
COMMENT ON FUNCTION orders_router.load_inventory(integer, jsonb) IS
'orders.load_inventory(jsonb) on shard p_shard (stock serves the clients of its shard)';

-- ---- the vendor back-channel ----------------------------------------------------

-- Claims on every shard: up to p_limit jobs from each.
CREATE FUNCTION orders_router.claim_vendor_jobs(p_worker text, p_limit integer DEFAULT 1,
	p_product_ids bigint[] DEFAULT NULL)
RETURNS TABLE (job_id bigint, lease_token uuid, lease_until timestamptz,
	order_id bigint, po_number text, product_id bigint, kind text, denomination numeric,
	items integer, recharge_ids bigint[], phone_code text, phone_number text, attempt integer)
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON ALL;
	SELECT * FROM orders.claim_vendor_jobs(p_worker, p_limit, p_product_ids);
$$;
COMMENT ON FUNCTION orders_router.claim_vendor_jobs(text, integer, bigint[]) IS
'orders.claim_vendor_jobs on every shard (up to p_limit jobs from each); a job''s id names its shard for the reports';

-- A report names its job (or recharge), whose id names its shard.
CREATE FUNCTION orders_router.extend_vendor_lease(p_job_id bigint, p_lease_token uuid) RETURNS timestamptz
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON orders_router.id_shard(p_job_id);
	SELECT orders.extend_vendor_lease(p_job_id, p_lease_token);
$$;
COMMENT ON FUNCTION orders_router.extend_vendor_lease(bigint, uuid) IS
'orders.extend_vendor_lease on the job''s shard';

CREATE FUNCTION orders_router.report_vendor_order_created(p_job_id bigint, p_lease_token uuid,
	p_vendor_reference text) RETURNS jsonb
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON orders_router.id_shard(p_job_id);
	SELECT orders.report_vendor_order_created(p_job_id, p_lease_token, p_vendor_reference);
$$;
COMMENT ON FUNCTION orders_router.report_vendor_order_created(bigint, uuid, text) IS
'orders.report_vendor_order_created on the job''s shard';

CREATE FUNCTION orders_router.report_vouchers_fetched(p_job_id bigint, p_lease_token uuid, p_vouchers jsonb)
RETURNS jsonb
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON orders_router.id_shard(p_job_id);
	SELECT orders.report_vouchers_fetched(p_job_id, p_lease_token, p_vouchers);
$$;
COMMENT ON FUNCTION orders_router.report_vouchers_fetched(bigint, uuid, jsonb) IS
'orders.report_vouchers_fetched on the job''s shard (the vouchers pass through, never logged)';

CREATE FUNCTION orders_router.report_vendor_failure(p_job_id bigint, p_lease_token uuid,
	p_final boolean, p_reason text) RETURNS jsonb
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON orders_router.id_shard(p_job_id);
	SELECT orders.report_vendor_failure(p_job_id, p_lease_token, p_final, p_reason);
$$;
COMMENT ON FUNCTION orders_router.report_vendor_failure(bigint, uuid, boolean, text) IS
'orders.report_vendor_failure on the job''s shard';

CREATE FUNCTION orders_router.report_recharge_submitted(p_job_id bigint, p_lease_token uuid,
	p_recharge_id bigint, p_operator_reference text) RETURNS jsonb
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON orders_router.id_shard(p_job_id);
	SELECT orders.report_recharge_submitted(p_job_id, p_lease_token, p_recharge_id, p_operator_reference);
$$;
COMMENT ON FUNCTION orders_router.report_recharge_submitted(bigint, uuid, bigint, text) IS
'orders.report_recharge_submitted on the job''s shard';

CREATE FUNCTION orders_router.report_recharge_result(p_recharge_id bigint, p_operator_reference text,
	p_status text, p_detail text DEFAULT NULL) RETURNS jsonb
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON orders_router.id_shard(p_recharge_id);
	SELECT orders.report_recharge_result(p_recharge_id, p_operator_reference,
										 p_status::orders.recharge_status, p_detail);
$$;
COMMENT ON FUNCTION orders_router.report_recharge_result(bigint, text, text, text) IS
'orders.report_recharge_result on the recharge''s shard (p_status: a recharge_status label)';

-- ---- every shard: sandbox vendor, maintenance, operator reads ---------------------

CREATE FUNCTION orders_router.sandbox_vendor_rounds(p_limit integer, p_product_ids bigint[])
RETURNS SETOF jsonb
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON ALL;
	SELECT orders.sandbox_vendor_round(p_limit, p_product_ids);
$$;
COMMENT ON FUNCTION orders_router.sandbox_vendor_rounds(integer, bigint[]) IS
'internal: orders.sandbox_vendor_round on every shard (PL/Proxy)';

-- The counts of every shard's round, added up by outcome.
CREATE FUNCTION orders_router.sandbox_vendor_round(p_limit integer DEFAULT 20, p_product_ids bigint[] DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql VOLATILE SET search_path = pg_catalog AS $$
	SELECT coalesce(jsonb_object_agg(key, total), '{}')
	FROM (SELECT e.key, sum(e.value::numeric) AS total
		  FROM orders_router.sandbox_vendor_rounds(p_limit, p_product_ids) r, jsonb_each_text(r) e
		  WHERE jsonb_typeof(r->e.key) = 'number'
		  GROUP BY e.key) t
$$;
COMMENT ON FUNCTION orders_router.sandbox_vendor_round(integer, bigint[]) IS
'orders.sandbox_vendor_round on every shard (up to p_limit jobs each), its counts added up by outcome';

CREATE FUNCTION orders_router.run_maintenance_all() RETURNS SETOF jsonb
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON ALL;
	SELECT jsonb_build_object('shard', (orders.shard_identity()).shard) || orders.run_maintenance();
$$;
COMMENT ON FUNCTION orders_router.run_maintenance_all() IS
'internal: orders.run_maintenance on every shard, each result with its shard number (PL/Proxy)';

CREATE FUNCTION orders_router.run_maintenance() RETURNS jsonb
LANGUAGE sql VOLATILE SET search_path = pg_catalog AS $$
	SELECT coalesce(jsonb_agg(r ORDER BY (r->>'shard')::integer), '[]')
	FROM orders_router.run_maintenance_all() r
$$;
COMMENT ON FUNCTION orders_router.run_maintenance() IS
'orders.run_maintenance on every shard: a JSON array of their results, each with its shard number';

CREATE FUNCTION orders_router.verify_ledger(
	OUT client_id bigint, OUT wallet_id bigint, OUT currency char(3),
	OUT balance numeric, OUT ledger_sum numeric)
RETURNS SETOF record
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON ALL;
	SELECT * FROM orders.verify_ledger();
$$;
COMMENT ON FUNCTION orders_router.verify_ledger() IS
'orders.verify_ledger on every shard: every wallet whose balance differs from its ledger, on any shard; always none';

CREATE FUNCTION orders_router.order_counts_all(OUT shard integer, OUT status text, OUT orders bigint)
RETURNS SETOF record
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON ALL;
	SELECT (orders.shard_identity()).shard AS shard, c.status::text AS status, sum(c.n)::bigint AS orders
	FROM (SELECT status, n FROM orders.order_counts
		  UNION ALL SELECT status, n FROM orders.order_count_deltas) c
	GROUP BY 2 HAVING sum(c.n) <> 0;
$$;
COMMENT ON FUNCTION orders_router.order_counts_all() IS
'orders by status on every shard, from its rolled-up counts and the deltas not rolled up yet (PL/Proxy)';

-- Orders by status on the whole platform, and per shard: the operators'
-- stats.  (Prometheus gets the same, per shard, from orders.metrics_exposition
-- below.)
CREATE FUNCTION orders_router.order_stats(OUT status text, OUT orders bigint, OUT by_shard jsonb)
RETURNS SETOF record
LANGUAGE sql VOLATILE SET search_path = pg_catalog AS $$
	SELECT status, sum(orders)::bigint, jsonb_object_agg(shard::text, orders ORDER BY shard)
	FROM orders_router.order_counts_all() GROUP BY status ORDER BY status
$$;
COMMENT ON FUNCTION orders_router.order_stats() IS
'orders by status over every shard, with the count of each shard';

-- ---- metrics for Prometheus -------------------------------------------------------

-- The series of one shard, each with the label shard="n" (the shard's
-- orders.metric_samples renders them, so that labels are escaped and values
-- written in one place).  PL/Proxy runs it as the session's login role:
-- the gateway's, which the shard lets read the samples (schema/77_metrics.sql).
CREATE FUNCTION orders_router.metric_samples_on(p_shard integer, p_labels jsonb,
	OUT metric text, OUT family text, OUT sample text)
RETURNS SETOF record
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON p_shard;
	SELECT metric, family, sample FROM orders.metric_samples(p_labels);
$$;
COMMENT ON FUNCTION orders_router.metric_samples_on(integer, jsonb) IS
'internal: orders.metric_samples(p_labels) on shard p_shard (PL/Proxy)';

-- Every shard's series, one shard after the other, and whether each
-- answered (orders_router_shard_up): a shard that cannot be reached leaves
-- its series out of the scrape instead of failing it, like its clients'
-- requests leave the other shards' alone.  Any other error (a shard that
-- refuses the call, say) fails the scrape with its SQLSTATE, which the
-- gateway logs.  One round trip per shard: a scrape every 15 s or so.
-- SECURITY DEFINER: the metrics role reads no table of the router (PL/Proxy
-- still logs in to the shards as the session's login role).
CREATE FUNCTION orders_router.shard_metric_samples(OUT shard integer, OUT metric text, OUT family text,
	OUT sample text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	s integer;
	rows text[];
	up integer;
BEGIN
	FOR s IN SELECT x.shard FROM orders_router.shards x ORDER BY x.shard LOOP
		BEGIN
			-- collected before they are returned: a shard failing half way
			-- adds nothing
			SELECT array_agg(ARRAY[m.metric, m.family, m.sample]) INTO rows
			FROM orders_router.metric_samples_on(s, jsonb_build_object('shard', s::text)) m;
			up := 1;
		EXCEPTION WHEN internal_error OR connection_exception THEN
			rows := NULL;
			up := 0;
		END;
		RETURN QUERY SELECT s, rows[i][1], rows[i][2], rows[i][3]
			FROM generate_subscripts(rows, 1) i;
		RETURN QUERY SELECT s, 'orders_router_shard_up',
			E'# HELP orders_router_shard_up 1 if the router read this shard''s metrics in this scrape, 0 if it could not reach it.\n'
			|| E'# TYPE orders_router_shard_up gauge\n',
			format(E'orders_router_shard_up{shard="%s"} %s\n', s, up);
	END LOOP;
END
$$;
COMMENT ON FUNCTION orders_router.shard_metric_samples() IS
'internal: every shard''s metric samples labelled with its shard, and orders_router_shard_up per shard (0 for a shard that cannot be reached, whose series are then absent)';

-- The gateway reads the engine's metrics with orders.metrics_exposition(),
-- on a shard or here: the router has a schema orders for that one function.
CREATE SCHEMA orders;
COMMENT ON SCHEMA orders IS 'on the router: orders.metrics_exposition() only, the shards'' metrics for the gateway''s GET /metrics';
REVOKE ALL ON SCHEMA orders FROM PUBLIC;
GRANT USAGE ON SCHEMA orders TO orders_metrics;

-- Every shard's series in one exposition: one family per metric (# HELP
-- and # TYPE once), its series from every shard told apart by their shard
-- label.  Sums over the shards are Prometheus' job (sum without (shard)).
CREATE FUNCTION orders.metrics_exposition() RETURNS text
LANGUAGE sql VOLATILE SET search_path = pg_catalog AS $$
	SELECT coalesce(string_agg(f.lines, '' ORDER BY f.metric), '')
	FROM (SELECT s.metric, min(s.family) || string_agg(s.sample, '' ORDER BY s.shard, s.sample) AS lines
		  FROM orders_router.shard_metric_samples() s GROUP BY s.metric) f
$$;
COMMENT ON FUNCTION orders.metrics_exposition() IS
'the metrics of every shard in the Prometheus text exposition format, each series labelled with its shard, and orders_router_shard_up; what the gateway connected to the router appends on GET /metrics';
REVOKE EXECUTE ON FUNCTION orders.metrics_exposition(), orders_router.shard_metric_samples(),
	orders_router.metric_samples_on(integer, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orders.metrics_exposition(), orders_router.shard_metric_samples(),
	orders_router.metric_samples_on(integer, jsonb) TO orders_metrics;

-- ---- moving a client ---------------------------------------------------------------

CREATE FUNCTION orders_router.client_export_on(p_shard integer, p_client_id bigint) RETURNS jsonb
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON p_shard;
	SELECT orders.client_export(p_client_id);
$$;
COMMENT ON FUNCTION orders_router.client_export_on(integer, bigint) IS
'internal: orders.client_export on shard p_shard (PL/Proxy)';

CREATE FUNCTION orders_router.client_import_on(p_shard integer, p_rows jsonb) RETURNS jsonb
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON p_shard;
	SELECT orders.client_import(p_rows);
$$;
COMMENT ON FUNCTION orders_router.client_import_on(integer, jsonb) IS
'internal: orders.client_import on shard p_shard (PL/Proxy)';

CREATE FUNCTION orders_router.client_purge_on(p_shard integer, p_client_id bigint) RETURNS jsonb
LANGUAGE plproxy AS $$
	CLUSTER 'orders';
	RUN ON p_shard;
	SELECT orders.client_purge(p_client_id);
$$;
COMMENT ON FUNCTION orders_router.client_purge_on(integer, bigint) IS
'internal: orders.client_purge on shard p_shard (PL/Proxy)';

CREATE FUNCTION orders_router.set_frozen(p_client_id bigint, p_frozen boolean) RETURNS orders_router.placement
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	p orders_router.placement;
BEGIN
	UPDATE orders_router.placement SET frozen = p_frozen, updated_at = now()
	WHERE client_id = p_client_id RETURNING * INTO p;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'client % does not exist', p_client_id USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN p;
END
$$;
COMMENT ON FUNCTION orders_router.set_frozen(bigint, boolean) IS
'freezes a client (its requests get 503 while it moves) or thaws it; returns its placement';

-- Moves a client to another shard (docs/scale-out.md, "Moving a client"):
--   1. freeze it on the router and commit: its requests get 503 with
--      Retry-After from here on, and none reaches a shard;
--   2. export its rows from the source shard, which first waits for its
--      requests in flight (refused while it has open vendor jobs);
--   3. import them on the target shard with their ids (refused unless both
--      shards have the same server secrets and vault keys: nothing is
--      re-encrypted, and its keys and tokens keep working);
--   4. flip the placement and thaw it, commit: its requests go to the
--      target from here on;
--   5. purge its rows from the source.
-- Each shard call commits on its own.  A failure in 2 or 3 thaws the client
-- where it was (an import is all or nothing); a failure in 5 leaves a
-- stale copy on the source that orders_router.purge_moved_client removes.
-- CALL it outside a transaction block (it commits).
-- No SET clause: a procedure with one cannot commit; every name is
-- qualified instead.
CREATE PROCEDURE orders_router.move_client(p_client_id bigint, p_shard integer)
LANGUAGE plpgsql AS $$
DECLARE
	p orders_router.placement;
	rows jsonb;
	failed_state text;
	failed_message text;
	failed_detail text;
	failed_hint text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM orders_router.shards s WHERE s.shard = p_shard) THEN
		RAISE EXCEPTION 'shard % does not exist', p_shard USING ERRCODE = 'invalid_parameter_value';
	END IF;
	p := orders_router.set_frozen(p_client_id, true);
	IF p.shard = p_shard THEN
		RAISE EXCEPTION 'client % is on shard % already', p_client_id, p_shard
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	COMMIT;
	BEGIN
		rows := orders_router.client_export_on(p.shard, p_client_id);
		PERFORM orders_router.client_import_on(p_shard, rows);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS failed_state = RETURNED_SQLSTATE, failed_message = MESSAGE_TEXT,
			failed_detail = PG_EXCEPTION_DETAIL, failed_hint = PG_EXCEPTION_HINT;
	END;
	IF failed_state IS NOT NULL THEN
		PERFORM orders_router.set_frozen(p_client_id, false);
		COMMIT;
		RAISE EXCEPTION 'moving client % to shard % failed: %', p_client_id, p_shard, failed_message
			USING ERRCODE = failed_state, DETAIL = coalesce(failed_detail, ''), HINT = coalesce(failed_hint, '');
	END IF;
	UPDATE orders_router.placement SET shard = p_shard, placed_by = 'move', frozen = false, updated_at = pg_catalog.now()
	WHERE client_id = p_client_id;
	COMMIT;
	PERFORM orders_router.client_purge_on(p.shard, p_client_id);
END
$$;
COMMENT ON PROCEDURE orders_router.move_client(bigint, integer) IS
'moves a client and all its rows, ids unchanged, to shard p_shard: freeze, export, import, flip the placement, purge the source (CALL outside a transaction block)';

CREATE FUNCTION orders_router.purge_moved_client(p_client_id bigint, p_shard integer) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
	IF (SELECT shard FROM orders_router.placement WHERE client_id = p_client_id) IS NOT DISTINCT FROM p_shard THEN
		RAISE EXCEPTION 'client % is placed on shard %: not purging its rows there', p_client_id, p_shard
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN orders_router.client_purge_on(p_shard, p_client_id);
END
$$;
COMMENT ON FUNCTION orders_router.purge_moved_client(bigint, integer) IS
'removes the stale copy of a client from a shard it is not placed on (after a move whose last step failed)';

-- ---- grants ----------------------------------------------------------------------------

-- Operators: everything above but the API; vendor workers: the
-- back-channel.  Both run as themselves on the shards (PL/Proxy logs in as
-- the session's login role), where the orders extension grants them the same.
-- Moving a client calls owner-only functions of the shards: a superuser.
GRANT EXECUTE ON FUNCTION
	orders_router.admin_create_client(text, integer), orders_router.create_client_on(integer, text),
	orders_router.admin_issue_api_key(bigint, text, timestamptz),
	orders_router.issue_api_key_on(bigint, text, timestamptz),
	orders_router.admin_import_api_key(bigint, text, text, text, timestamptz),
	orders_router.import_api_key_on(bigint, text, text, text, timestamptz),
	orders_router.key_shard(text), orders_router.client_shard(bigint), orders_router.id_shard(bigint),
	orders_router.id_slots(),
	orders_router.admin_revoke_api_key(text), orders_router.admin_expire_api_key(text, timestamptz),
	orders_router.admin_list_api_keys(bigint), orders_router.admin_fund_wallet(bigint, text, numeric, text),
	orders_router.admin_put_product(jsonb), orders_router.load_inventory(integer, jsonb),
	orders_router.sandbox_vendor_rounds(integer, bigint[]), orders_router.sandbox_vendor_round(integer, bigint[]),
	orders_router.run_maintenance_all(), orders_router.run_maintenance(),
	orders_router.verify_ledger(), orders_router.order_counts_all(), orders_router.order_stats(),
	orders_router.shard_identities(), orders_router.shard_vault_key_checks(), orders_router.check_shards()
TO orders_admin;
GRANT EXECUTE ON FUNCTION
	orders_router.claim_vendor_jobs(text, integer, bigint[]), orders_router.extend_vendor_lease(bigint, uuid),
	orders_router.report_vendor_order_created(bigint, uuid, text),
	orders_router.report_vouchers_fetched(bigint, uuid, jsonb),
	orders_router.report_vendor_failure(bigint, uuid, boolean, text),
	orders_router.report_recharge_submitted(bigint, uuid, bigint, text),
	orders_router.report_recharge_result(bigint, text, text, text),
	orders_router.id_shard(bigint), orders_router.id_slots()
TO orders_vendor, orders_admin;
