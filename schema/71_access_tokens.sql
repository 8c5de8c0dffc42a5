-- Access tokens: an API key and secret exchanged for a short-lived HS256
-- JWT (Authorization: Bearer).  The claims carry "role" so that PostgREST,
-- configured with the same secret (docs/postgrest.conf), switches to
-- orders_api; the database verifies the signature itself and never trusts
-- request.jwt.claims, which any session can set_config().

CREATE FUNCTION orders.issue_access_token(p_client_id bigint, p_api_key_id bigint)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	lifetime integer := current_setting('orders.access_token_lifetime')::integer;
	issued bigint := floor(extract(epoch FROM clock_timestamp()))::bigint;
	k orders.api_keys;
	claims jsonb;
BEGIN
	SELECT * INTO k FROM orders.api_keys WHERE id = p_api_key_id AND client_id = p_client_id;
	IF NOT orders.api_key_usable(k) THEN
		RAISE EXCEPTION 'API key % of client % cannot issue a token', p_api_key_id, p_client_id
			USING ERRCODE = 'invalid_authorization_specification';
	END IF;
	-- A token never outlives its key.
	IF k.expires_at IS NOT NULL THEN
		lifetime := least(lifetime, floor(extract(epoch FROM k.expires_at))::bigint - issued);
	END IF;
	claims := jsonb_build_object(
		'role', 'orders_api',
		'aud', 'orders',
		'sub', p_client_id::text,
		'client_id', p_client_id,
		'kid', k.key_id,
		'iat', issued,
		'exp', issued + lifetime);
	RETURN jsonb_build_object(
		'access_token', orders.jwt_sign(claims::text, orders.server_secret('jwt_secret')),
		'token_type', 'Bearer',
		'expires_in', lifetime,
		'expires_at', orders.rfc3339(to_timestamp(issued + lifetime)));
END
$$;
COMMENT ON FUNCTION orders.issue_access_token(bigint, bigint) IS
'internal: signs an access token for a client and one of its usable keys (lifetime orders.access_token_lifetime, never past the key''s expiry)';

CREATE FUNCTION orders.authenticate_token(p_token text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	verified record;
	header jsonb;
	claims jsonb;
	k orders.api_keys;
BEGIN
	IF p_token IS NULL THEN
		RETURN NULL;
	END IF;
	verified := orders.jwt_verify(p_token, orders.server_secret('jwt_secret'));
	IF verified IS NULL THEN
		RETURN NULL;
	END IF;
	BEGIN
		header := verified.header::jsonb;
		claims := verified.payload::jsonb;
	EXCEPTION WHEN invalid_text_representation THEN
		RETURN NULL;
	END;
	IF jsonb_typeof(header) IS DISTINCT FROM 'object' OR header->>'alg' IS DISTINCT FROM 'HS256'
		OR jsonb_typeof(claims) IS DISTINCT FROM 'object'
		OR jsonb_typeof(claims->'exp') IS DISTINCT FROM 'number'
		OR jsonb_typeof(claims->'client_id') IS DISTINCT FROM 'number'
		OR jsonb_typeof(claims->'kid') IS DISTINCT FROM 'string'
		OR (claims->>'exp')::numeric <= extract(epoch FROM clock_timestamp()) THEN
		RETURN NULL;
	END IF;
	-- The key must still be usable: revoking a key kills its tokens.
	SELECT * INTO k FROM orders.api_keys WHERE key_id = claims->>'kid';
	IF NOT orders.api_key_usable(k) OR k.client_id::numeric <> (claims->>'client_id')::numeric THEN
		RETURN NULL;
	END IF;
	PERFORM orders.set_current_client(k.client_id, k.id, 'token');
	RETURN k.client_id;
END
$$;
COMMENT ON FUNCTION orders.authenticate_token(text) IS
'internal: verifies an access token (signature, alg HS256, expiry, key still usable) and makes its client the current one; NULL when refused';
