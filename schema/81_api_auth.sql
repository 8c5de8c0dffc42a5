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
'internal: authenticates a request from its headers (lower-case names: X-API-Key + X-API-Secret, or Authorization: Bearer); NULL when authenticated or anonymous, 401 on bad credentials';

-- POST /api/v1/auth/token: exchange the key and secret of this request for
-- an access token.  A token cannot be exchanged for a longer-lived one:
-- the route gives this handler the API key only when the request was
-- authenticated by key and secret.
CREATE FUNCTION orders.handle_token(p_client bigint, p_api_key_id bigint)
RETURNS orders.api_response
LANGUAGE sql VOLATILE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_ok(orders.issue_access_token(p_client, p_api_key_id), 200,
						 '{"Cache-Control": "no-store"}')
$$;
COMMENT ON FUNCTION orders.handle_token(bigint, bigint) IS
'internal: POST /api/v1/auth/token for a client authenticated by an API key: a short-lived HS256 access token {access_token, token_type, expires_in, expires_at}';

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
