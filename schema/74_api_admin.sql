-- Administration of clients and their API keys, for operators
-- (orders_admin): onboarding a customer without writing SQL by hand.
-- SECURITY DEFINER: orders_admin holds no privilege on the tables.
-- Wallet funding and the catalog are wrapped in schema/9x once they exist.

CREATE FUNCTION orders.admin_require_client(p_client_id bigint) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM orders.clients WHERE id = p_client_id) THEN
		RAISE EXCEPTION 'client % does not exist', p_client_id
			USING ERRCODE = 'foreign_key_violation';
	END IF;
END
$$;
COMMENT ON FUNCTION orders.admin_require_client(bigint) IS
'internal: raises foreign_key_violation naming the client id when no such client exists';

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
	PERFORM orders.admin_require_client(p_client_id);
	IF p_expires_at IS NOT NULL AND p_expires_at <= now() THEN
		RAISE EXCEPTION 'expiry must be in the future'
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

-- Money and catalog, for operators: thin wrappers over the internal
-- functions and tables of the orders/money concern.
CREATE FUNCTION orders.admin_fund_wallet(p_client_id bigint, p_currency text, p_amount numeric,
	p_note text DEFAULT NULL) RETURNS numeric
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	PERFORM orders.admin_require_client(p_client_id);
	PERFORM orders.fund_wallet(p_client_id, upper(p_currency), p_amount, p_note);
	RETURN (SELECT balance FROM orders.wallets
			WHERE client_id = p_client_id AND currency = upper(p_currency));
END
$$;
COMMENT ON FUNCTION orders.admin_fund_wallet(bigint, text, numeric, text) IS
'credits a client''s wallet in a currency (opened if missing) through the ledger; returns the new balance';

CREATE FUNCTION orders.admin_put_product(p_product jsonb) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	p orders.products;
	unknown text;
BEGIN
	IF jsonb_typeof(p_product) IS DISTINCT FROM 'object' OR NOT p_product ? 'id' THEN
		RAISE EXCEPTION 'product must be a JSON object with at least "id"'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT k INTO unknown FROM jsonb_object_keys(p_product) k
	WHERE k NOT IN (SELECT attname FROM pg_attribute
					WHERE attrelid = 'orders.products'::regclass AND attnum > 0 AND NOT attisdropped)
	ORDER BY k LIMIT 1;
	IF unknown IS NOT NULL THEN
		RAISE EXCEPTION 'product has no field "%"', unknown
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The fields are the columns of orders.products.';
	END IF;
	-- Fields not given keep their current value (or the default for a new product).
	SELECT * INTO p FROM orders.products WHERE id = (p_product->>'id')::bigint;
	IF NOT FOUND THEN
		INSERT INTO orders.products (id, name, currency)
		VALUES ((p_product->>'id')::bigint, p_product->>'name', p_product->>'currency')
		RETURNING * INTO p;
	END IF;
	p := jsonb_populate_record(p, p_product);
	UPDATE orders.products SET (name, currency, delivery_type, kind, denominations,
		min_denomination, max_denomination, denomination_step, delivery_mode, classification,
		link_type, order_quantity_limit, discount_percent, vendor_logo, active) =
		(p.name, p.currency, p.delivery_type, p.kind, p.denominations, p.min_denomination,
		 p.max_denomination, p.denomination_step, p.delivery_mode, p.classification,
		 p.link_type, p.order_quantity_limit, p.discount_percent, p.vendor_logo, p.active)
	WHERE id = p.id;
	RETURN p.id;
END
$$;
COMMENT ON FUNCTION orders.admin_put_product(jsonb) IS
'creates or updates a catalog product from a JSON object of orders.products columns (id required; omitted fields keep their value); "active": false withdraws it from sale';

-- Importing a key issued elsewhere (a migration from another platform, or
-- the fixed demo credentials of make run): the secret is chosen by the
-- caller, so it must be long enough to resist guessing.
CREATE FUNCTION orders.admin_import_api_key(p_client_id bigint, p_key_id text, p_secret text,
	p_label text DEFAULT NULL, p_expires_at timestamptz DEFAULT NULL) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	PERFORM orders.admin_require_client(p_client_id);
	IF p_key_id IS NULL OR p_key_id !~ '^sk_live_[0-9a-f]{24}$' THEN
		RAISE EXCEPTION 'key id must be sk_live_ followed by 24 lower-case hex digits'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_secret IS NULL OR length(p_secret) NOT BETWEEN 16 AND 256 THEN
		RAISE EXCEPTION 'secret must be 16 to 256 characters'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO orders.api_keys (client_id, key_id, secret_hash, label, expires_at)
	VALUES (p_client_id, p_key_id, orders.api_secret_hash(p_key_id, p_secret), p_label, p_expires_at);
	RETURN p_key_id;
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'API key "%" already exists', p_key_id USING ERRCODE = 'unique_violation';
END
$$;
COMMENT ON FUNCTION orders.admin_import_api_key(bigint, text, text, text, timestamptz) IS
'registers a key id and secret issued elsewhere (migration, demo) for a client; the secret (16-256 characters) is stored only as a keyed hash';
