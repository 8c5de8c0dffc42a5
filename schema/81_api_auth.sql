-- Authentication of API requests, the token exchange and the health check.

-- PostgREST's db-pre-request: called once per request, before the
-- operation, in the request's transaction.  Credentials come from
-- request.headers only (never from request.jwt.claims, which any session
-- can set): X-API-Key + X-API-Secret, or Authorization: Bearer <token>.
-- Bad credentials are a 401 here; no credentials leave the request
-- anonymous, and each operation that needs a client says 401 itself.
CREATE FUNCTION orders.api_authenticate() RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	h jsonb := orders.request_headers();
	key_id text := nullif(h->>'x-api-key', '');
	secret text := nullif(h->>'x-api-secret', '');
	auth_header text := nullif(h->>'authorization', '');
	client bigint;
BEGIN
	IF key_id IS NOT NULL OR secret IS NOT NULL THEN
		client := orders.authenticate_key(key_id, secret);
	ELSIF auth_header IS NOT NULL THEN
		IF auth_header ~* '^bearer +[^ ]+$' THEN
			client := orders.authenticate_token(substring(auth_header FROM '[^ ]+$'));
		END IF;
	ELSE
		RETURN;
	END IF;
	IF client IS NULL THEN
		PERFORM orders.api_unauthorized();
	END IF;
END
$$;
COMMENT ON FUNCTION orders.api_authenticate() IS
'internal: authenticates the request from request.headers (X-API-Key + X-API-Secret, or Authorization: Bearer); 401 on bad credentials, nothing when there are none';

CREATE FUNCTION api.pre_request() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	PERFORM orders.api_authenticate();
	IF orders.current_client_id() IS NOT NULL THEN
		PERFORM orders.api_rate_limit('client', orders.current_client_id());
	END IF;
END
$$;
COMMENT ON FUNCTION api.pre_request() IS
'PostgREST db-pre-request: authenticates the request (401 on bad credentials), then counts it against the client''s rate limits (429)';

-- POST /api/v1/auth/token: exchange the key and secret of this request for
-- an access token.  A token cannot be exchanged for a longer-lived one.
CREATE FUNCTION api.token() RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	client bigint;
	result jsonb;
BEGIN
	client := orders.api_require_client();
	IF orders.current_auth_method() <> 'key' THEN
		PERFORM orders.api_unauthorized();
	END IF;
	result := orders.issue_access_token(client, orders.current_api_key_id());
	PERFORM orders.api_succeed('token', 200, '{"Cache-Control": "no-store"}');
	RETURN result;
EXCEPTION
	WHEN SQLSTATE 'PGRST' THEN RAISE;
	WHEN OTHERS THEN PERFORM orders.api_fail('token', SQLSTATE, SQLERRM);
END
$$;
COMMENT ON FUNCTION api.token() IS
'POST /api/v1/auth/token: exchanges X-API-Key + X-API-Secret for a short-lived HS256 access token {access_token, token_type, expires_in, expires_at}';

-- GET /api/v1/health: no authentication needed.
CREATE FUNCTION api.health() RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	limits record := orders.rate_limit_status();
BEGIN
	PERFORM orders.api_succeed('health', 200, '{"Cache-Control": "no-store"}');
	RETURN jsonb_build_object(
		'status', 'ok',
		'database', 'ok',
		'version', (SELECT extversion FROM pg_extension WHERE extname = 'orders'),
		'rate_limits', CASE WHEN limits.enabled THEN 'on' ELSE 'off' END);
END
$$;
COMMENT ON FUNCTION api.health() IS
'GET /api/v1/health: {"status": "ok", "database": "ok", "version", "rate_limits": "on"|"off"} (off: orders is not in shared_preload_libraries)';
