-- Authentication of API requests, and the handlers of the token exchange
-- and the health check.

-- Credentials come from the request's headers (lower-case names), never
-- from request.jwt.claims, which any session can set: X-API-Key +
-- X-API-Secret, or Authorization: Bearer <token>.  A good credential makes
-- its client the current one (backend memory, src/identity.c) and answers
-- NULL; a bad one answers 401; none leaves the request anonymous (NULL),
-- and each operation that needs a client says 401 itself.
CREATE FUNCTION orders.api_authenticate(p_headers jsonb) RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	key_id text := nullif(p_headers->>'x-api-key', '');
	secret text := nullif(p_headers->>'x-api-secret', '');
	auth_header text := nullif(p_headers->>'authorization', '');
	client bigint;
BEGIN
	-- Whoever an earlier request of this transaction authenticated, this
	-- one starts anonymous.
	PERFORM orders.clear_current_client();
	IF key_id IS NOT NULL OR secret IS NOT NULL THEN
		client := orders.authenticate_key(key_id, secret);
	ELSIF auth_header IS NOT NULL THEN
		IF auth_header ~* '^bearer +[^ ]+$' THEN
			client := orders.authenticate_token(substring(auth_header FROM '[^ ]+$'));
		ELSIF auth_header ~* '^basic( |$)' THEN
			-- OAuth 2.0 client credentials (RFC 6749 section 2.3.1): only
			-- the token endpoint reads them (orders.handle_token), and
			-- answers their failure the OAuth way.  Elsewhere the request
			-- is anonymous.
			RETURN NULL;
		END IF;
	ELSE
		RETURN NULL;
	END IF;
	IF client IS NULL THEN
		RETURN orders.api_unauthorized();
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.api_authenticate(jsonb) IS
'internal: authenticates a request from its headers (lower-case names: X-API-Key + X-API-Secret, or Authorization: Bearer); NULL when authenticated or anonymous (no credentials, or Authorization: Basic, which only the token endpoint reads), 401 on bad credentials';

-- POST /api/v1/auth/token answers with these headers, success and errors
-- alike (RFC 6749 section 5.1: a token is never cached).
CREATE FUNCTION orders.token_headers() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT '{"Cache-Control": "no-store", "Pragma": "no-cache"}'::jsonb
$$;
COMMENT ON FUNCTION orders.token_headers() IS
'internal: the headers of every answer of the token endpoint: Cache-Control: no-store, Pragma: no-cache (RFC 6749 section 5.1)';

-- An error of the OAuth 2.0 token request (RFC 6749 section 5.2), from the
-- error catalog: body {"error", "error_description"}.  invalid_client
-- names the scheme a client may authenticate with (HTTP Basic).
CREATE FUNCTION orders.oauth_error(p_name text, p_description text DEFAULT NULL)
RETURNS orders.api_response
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT ROW(e.http_status,
			   orders.token_headers() || CASE WHEN e.http_status = 401
					THEN '{"WWW-Authenticate": "Basic realm=\"orders\", charset=\"UTF-8\""}'::jsonb
					ELSE '{}' END,
			   jsonb_build_object('error', e.error, 'error_description', coalesce(p_description, e.message)),
			   NULL)::orders.api_response
	FROM orders.error_catalog() e WHERE e.name = p_name
$$;
COMMENT ON FUNCTION orders.oauth_error(text, text) IS
'internal: an error answer of the OAuth 2.0 token request (RFC 6749 section 5.2) from the error catalog entry p_name: {"error", "error_description"}, no-store, and WWW-Authenticate: Basic on a 401';

-- HTTP Basic client credentials (RFC 6749 section 2.3.1): base64 of
-- client_id ":" client_secret, each form-urlencoded (UTF-8).  NULL when
-- the header is not a well-formed Basic credential.
CREATE FUNCTION orders.basic_credentials(p_authorization text,
	OUT client_id text, OUT client_secret text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	pair text;
BEGIN
	IF p_authorization !~* '^basic +[A-Za-z0-9+/]+=*$' OR length(p_authorization) > 2048 THEN
		RETURN;
	END IF;
	BEGIN
		pair := convert_from(decode(substring(p_authorization FROM '[^ ]+$'), 'base64'), 'UTF8');
		IF pair !~ ':' THEN
			RETURN;
		END IF;
		client_id := orders.url_decode(split_part(pair, ':', 1));
		client_secret := orders.url_decode(substr(pair, strpos(pair, ':') + 1));
	EXCEPTION WHEN invalid_parameter_value OR character_not_in_repertoire OR untranslatable_character THEN
		client_id := NULL;	-- not base64, or not UTF-8
		client_secret := NULL;
	END;
END
$$;
COMMENT ON FUNCTION orders.basic_credentials(text) IS
'internal: the client_id and client_secret of an Authorization: Basic header (RFC 6749 section 2.3.1: each form-urlencoded); NULLs when it is not well-formed';

-- The OAuth 2.0 client-credentials grant (RFC 6749 section 4.4): the
-- client is an API key, authenticated by client_id / client_secret in the
-- form body or by HTTP Basic (exactly one of them), for the one scope
-- "orders" (the whole API); the token is the one the key and secret
-- exchange gives.  Every error is an RFC 6749 section 5.2 answer.
CREATE FUNCTION orders.oauth_client_credentials(p_grant_type text, p_client_id text,
	p_client_secret text, p_scope text, p_authorization text, p_other_credentials boolean)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	basic boolean := coalesce(p_authorization ~* '^basic( |$)', false);
	creds record;
	client bigint;
	limited orders.api_response;
BEGIN
	IF p_grant_type IS NULL OR p_grant_type = '' THEN
		RETURN orders.oauth_error('oauth_invalid_request', 'grant_type: is required (client_credentials)');
	ELSIF p_grant_type <> 'client_credentials' THEN
		RETURN orders.oauth_error('oauth_unsupported_grant_type',
			format('grant_type: only client_credentials is supported, got "%s"', left(p_grant_type, 40)));
	ELSIF p_other_credentials OR (basic AND (p_client_id IS NOT NULL OR p_client_secret IS NOT NULL)) THEN
		RETURN orders.oauth_error('oauth_invalid_request',
			'use one client authentication method: client_id and client_secret in the body, or HTTP Basic');
	END IF;
	IF basic THEN
		creds := orders.basic_credentials(p_authorization);
	ELSE
		SELECT p_client_id AS client_id, p_client_secret AS client_secret INTO creds;
	END IF;
	IF creds.client_id IS NULL OR creds.client_secret IS NULL THEN
		RETURN orders.oauth_error('oauth_invalid_client', CASE WHEN basic
			THEN 'Authorization: Basic: not base64 of client_id:client_secret'
			ELSE 'client_id and client_secret (or HTTP Basic) are required' END);
	END IF;
	-- The one scope: the whole API.  Unknown scopes are refused rather
	-- than silently narrowed (RFC 6749 section 3.3).
	IF EXISTS (SELECT 1 FROM regexp_split_to_table(btrim(coalesce(p_scope, '')), ' +') s
			   WHERE s NOT IN ('', 'orders')) THEN
		RETURN orders.oauth_error('oauth_invalid_scope',
			format('scope: the only scope is "orders", got "%s"', left(p_scope, 60)));
	END IF;
	client := orders.authenticate_key(creds.client_id, creds.client_secret);
	IF client IS NULL THEN
		RETURN orders.oauth_error('oauth_invalid_client');
	END IF;
	-- Counted against the client's limits, as a request authenticated by
	-- its key in the headers is before its handler runs.
	limited := orders.api_rate_limit('client', client);
	IF limited.status IS NOT NULL THEN
		RETURN limited;
	END IF;
	RETURN orders.api_ok(orders.issue_access_token(client, orders.current_api_key_id())
						 || '{"scope": "orders"}', 200, orders.token_headers());
END
$$;
COMMENT ON FUNCTION orders.oauth_client_credentials(text, text, text, text, text, boolean) IS
'internal: the OAuth 2.0 client-credentials grant (RFC 6749 section 4.4): an API key as client (client_id / client_secret in the body, or HTTP Basic), scope "orders"; the access token answer of section 5.1 or an error of section 5.2';

-- POST /api/v1/auth/token: an access token for an API key, by
--   - the project's exchange: X-API-Key + X-API-Secret headers, no body
--     (the route gives this handler the API key only when the request was
--     authenticated by key and secret: a token cannot be exchanged for a
--     longer-lived one), or
--   - the OAuth 2.0 client-credentials grant: a form body
--     (application/x-www-form-urlencoded) with grant_type and the key as
--     client_id / client_secret, or HTTP Basic.
-- Any OAuth parameter or Basic credential makes it an OAuth request.
CREATE FUNCTION orders.handle_token(p_client bigint, p_api_key_id bigint, p_grant_type text,
	p_client_id text, p_client_secret text, p_scope text, p_authorization text)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
BEGIN
	IF p_grant_type IS NOT NULL OR p_client_id IS NOT NULL OR p_client_secret IS NOT NULL
		OR p_scope IS NOT NULL OR p_authorization ~* '^basic( |$)' THEN
		RETURN orders.oauth_client_credentials(p_grant_type, p_client_id, p_client_secret, p_scope,
											   p_authorization, p_client IS NOT NULL);
	END IF;
	IF p_api_key_id IS NULL THEN
		RETURN orders.api_unauthorized();
	END IF;
	RETURN orders.api_ok(orders.issue_access_token(p_client, p_api_key_id), 200, orders.token_headers());
END
$$;
COMMENT ON FUNCTION orders.handle_token(bigint, bigint, text, text, text, text, text) IS
'internal: POST /api/v1/auth/token: a short-lived HS256 access token {access_token, token_type, expires_in, expires_at} for the API key of X-API-Key + X-API-Secret, or by the OAuth 2.0 client-credentials grant (form body grant_type=client_credentials, client_id / client_secret or HTTP Basic; RFC 6749 errors)';

-- GET /api/v1/health: no authentication needed.
CREATE FUNCTION orders.handle_health() RETURNS orders.api_response
LANGUAGE sql VOLATILE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_ok(jsonb_build_object(
			   'status', 'ok',
			   'database', 'ok',
			   'version', (SELECT extversion FROM pg_extension WHERE extname = 'orders'),
			   'rate_limits', CASE WHEN l.enabled THEN 'on' ELSE 'off' END),
		   200, '{"Cache-Control": "no-store"}')
	FROM orders.rate_limit_status() l
$$;
COMMENT ON FUNCTION orders.handle_health() IS
'internal: GET /api/v1/health: {"status": "ok", "database": "ok", "version", "rate_limits": "on"|"off"} (off: orders is not in shared_preload_libraries)';
