-- Administration of clients and their API keys, for operators
-- (orders_admin): onboarding a customer without writing SQL by hand.
-- SECURITY DEFINER: orders_admin holds no privilege on the tables.
-- Wallet funding and the catalog are wrapped in schema/9x once they exist.

CREATE FUNCTION orders.admin_create_client(p_name text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	new_id bigint;
BEGIN
	IF p_name IS NULL OR length(btrim(p_name)) = 0 OR length(p_name) > 200 THEN
		RAISE EXCEPTION 'client name must be 1 to 200 characters'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO orders.clients (name) VALUES (p_name) RETURNING id INTO new_id;
	RETURN new_id;
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'a client named "%" already exists', p_name
		USING ERRCODE = 'unique_violation';
END
$$;
COMMENT ON FUNCTION orders.admin_create_client(text) IS
'creates an API client (unique name, 1-200 characters) and returns its id';

CREATE FUNCTION orders.admin_issue_api_key(p_client_id bigint, p_label text DEFAULT NULL,
	p_expires_at timestamptz DEFAULT NULL,
	OUT key_id text, OUT secret text, OUT expires_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM orders.clients WHERE id = p_client_id) THEN
		RAISE EXCEPTION 'client % does not exist', p_client_id
			USING ERRCODE = 'foreign_key_violation';
	END IF;
	IF p_expires_at IS NOT NULL AND p_expires_at <= now() THEN
		RAISE EXCEPTION 'expiry % is not in the future', p_expires_at
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	key_id := 'sk_live_' || encode(orders.random_bytes(12), 'hex');
	secret := orders.base64url_encode(orders.random_bytes(32));
	expires_at := p_expires_at;
	INSERT INTO orders.api_keys (client_id, key_id, secret_hash, label, expires_at)
	VALUES (p_client_id, key_id, orders.api_secret_hash(key_id, secret), p_label, p_expires_at);
END
$$;
COMMENT ON FUNCTION orders.admin_issue_api_key(bigint, text, timestamptz) IS
'issues an API key for a client: returns the key id (X-API-Key) and the secret (X-API-Secret); the secret is shown this once and stored only as a keyed hash';

CREATE FUNCTION orders.admin_list_api_keys(p_client_id bigint)
RETURNS TABLE (key_id text, label text, created_at timestamptz, expires_at timestamptz,
			   revoked_at timestamptz, state text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	SELECT k.key_id, k.label, k.created_at, k.expires_at, k.revoked_at,
		   CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
				WHEN k.expires_at <= now() THEN 'expired'
				ELSE 'active' END
	FROM orders.api_keys k
	WHERE k.client_id = p_client_id
	ORDER BY k.created_at, k.id
$$;
COMMENT ON FUNCTION orders.admin_list_api_keys(bigint) IS
'the API keys of a client with their state (active, expired, revoked); never a secret';

CREATE FUNCTION orders.admin_revoke_api_key(p_key_id text) RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	at timestamptz;
BEGIN
	UPDATE orders.api_keys SET revoked_at = coalesce(revoked_at, now())
	WHERE key_id = p_key_id RETURNING revoked_at INTO at;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'API key "%" does not exist', p_key_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN at;
END
$$;
COMMENT ON FUNCTION orders.admin_revoke_api_key(text) IS
'revokes an API key at once (and every token issued for it); idempotent; returns when it was revoked';

CREATE FUNCTION orders.admin_expire_api_key(p_key_id text, p_at timestamptz DEFAULT now())
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	IF p_at IS NULL THEN
		RAISE EXCEPTION 'expiry time must not be null'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE orders.api_keys SET expires_at = p_at WHERE key_id = p_key_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'API key "%" does not exist', p_key_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN p_at;
END
$$;
COMMENT ON FUNCTION orders.admin_expire_api_key(text, timestamptz) IS
'sets when an API key (and its tokens) stops working: now by default, or a later time for a rotation window';

CREATE FUNCTION orders.admin_rotate_jwt_secret() RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	secret text := orders.base64url_encode(orders.random_bytes(48));
BEGIN
	UPDATE orders.server_secrets SET value = convert_to(secret, 'UTF8'), updated_at = now()
	WHERE name = 'jwt_secret';
	RETURN secret;
END
$$;
COMMENT ON FUNCTION orders.admin_rotate_jwt_secret() IS
'replaces the access-token signing key and returns it once (64 characters), for PostgREST''s jwt-secret; tokens signed before stop working';
