-- Identity: the authenticated client of the transaction (src/identity.c),
-- the credential primitives (src/credentials.c), API keys and the server
-- secrets they are hashed and signed with.  docs/api.md explains the design.

CREATE FUNCTION orders.current_client_id() RETURNS bigint
	AS 'MODULE_PATHNAME', 'identity_current_client_id'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION orders.current_client_id() IS
'the client authenticated in this transaction (backend memory, not a setting), NULL when none; row-level security reads it';

CREATE FUNCTION orders.current_api_key_id() RETURNS bigint
	AS 'MODULE_PATHNAME', 'identity_current_api_key_id'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION orders.current_api_key_id() IS
'orders.api_keys.id of the key the current client authenticated with (directly or through a token), NULL when none';

CREATE FUNCTION orders.current_auth_method() RETURNS text
	AS 'MODULE_PATHNAME', 'identity_current_auth_method'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION orders.current_auth_method() IS
'how the current client authenticated: key (X-API-Key + X-API-Secret) or token (Authorization: Bearer); NULL when none';

CREATE FUNCTION orders.set_current_client(client_id bigint, api_key_id bigint, method text)
RETURNS void
	AS 'MODULE_PATHNAME', 'identity_set_current_client'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION orders.set_current_client(bigint, bigint, text) IS
'internal: makes a client the authenticated one until the end of the (sub)transaction; refuses unless running as the extension owner, i.e. inside an authentication function; granted to nobody';

CREATE FUNCTION orders.clear_current_client() RETURNS void
	AS 'MODULE_PATHNAME', 'identity_clear_current_client'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION orders.clear_current_client() IS
'internal: nobody is authenticated from here to the end of the (sub)transaction (authentication starts with it); refuses unless running as the extension owner; granted to nobody';

-- Credential primitives (OpenSSL).  Internal: granted to nobody.
CREATE FUNCTION orders.hmac_sha256(key bytea, message bytea) RETURNS bytea
	AS 'MODULE_PATHNAME', 'credentials_hmac_sha256' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.hmac_sha256(bytea, bytea) IS 'HMAC-SHA256 of message under key';

CREATE FUNCTION orders.secure_equal(a bytea, b bytea) RETURNS boolean
	AS 'MODULE_PATHNAME', 'credentials_secure_equal' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.secure_equal(bytea, bytea) IS
'constant-time equality (CRYPTO_memcmp) of two byte strings of the same length';

CREATE FUNCTION orders.random_bytes(n integer) RETURNS bytea
	AS 'MODULE_PATHNAME', 'credentials_random_bytes' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION orders.random_bytes(integer) IS 'n (1-1024) bytes from the strong random source';

CREATE FUNCTION orders.base64url_encode(data bytea) RETURNS text
	AS 'MODULE_PATHNAME', 'credentials_base64url_encode' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.base64url_encode(bytea) IS 'base64url (RFC 4648 section 5) without padding';

CREATE FUNCTION orders.base64url_decode(data text) RETURNS bytea
	AS 'MODULE_PATHNAME', 'credentials_base64url_decode' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.base64url_decode(text) IS
'strict base64url decoding: no padding, no white space, canonical trailing bits';

CREATE FUNCTION orders.jwt_sign(claims text, secret bytea) RETURNS text
	AS 'MODULE_PATHNAME', 'credentials_jwt_sign' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.jwt_sign(text, bytea) IS
'compact HS256 JSON Web Token of the claims (a JSON object as text)';

CREATE FUNCTION orders.jwt_verify(token text, secret bytea, OUT header text, OUT payload text)
RETURNS record
	AS 'MODULE_PATHNAME', 'credentials_jwt_verify' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.jwt_verify(text, bytea) IS
'decoded header and payload of a token whose HS256 signature is valid; NULL otherwise (claims are not checked here)';

-- Server secrets: the pepper of the API secret hashes and the token signing
-- key.  Random at installation; no role but the owner can read them.
CREATE TABLE orders.server_secrets (
	name		text PRIMARY KEY CHECK (name IN ('api_key_pepper', 'jwt_secret')),
	value		bytea NOT NULL CHECK (length(value) >= 32),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE orders.server_secrets IS
'the API key pepper and the access-token signing key; readable by the owner only (never granted)';
INSERT INTO orders.server_secrets (name, value) VALUES
	('api_key_pepper', orders.random_bytes(32)),
	('jwt_secret', convert_to(orders.base64url_encode(orders.random_bytes(48)), 'UTF8'));
SELECT pg_catalog.pg_extension_config_dump('orders.server_secrets', '');

-- pg_dump keeps the secrets (a configuration table: API keys and tokens
-- need them), and restoring a dump runs CREATE EXTENSION first, which made
-- new ones: the restored row replaces the new one instead of failing on
-- its name, so the restored keys and tokens keep working.
CREATE FUNCTION orders.server_secret_restore() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	UPDATE orders.server_secrets s SET value = NEW.value, updated_at = NEW.updated_at
	WHERE s.name = NEW.name;
	IF FOUND THEN
		RETURN NULL;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION orders.server_secret_restore() IS
'trigger: a server secret inserted under a name that exists (a restored dump) replaces it';
CREATE TRIGGER server_secret_restore BEFORE INSERT ON orders.server_secrets
	FOR EACH ROW EXECUTE FUNCTION orders.server_secret_restore();

CREATE FUNCTION orders.server_secret(p_name text) RETURNS bytea
LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, orders AS $$
	SELECT value FROM orders.server_secrets WHERE name = p_name
$$;
COMMENT ON FUNCTION orders.server_secret(text) IS 'internal: the value of a server secret';

CREATE TABLE orders.api_keys (
	client_id	bigint NOT NULL REFERENCES orders.clients,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key_id		text NOT NULL UNIQUE CHECK (key_id ~ '^sk_live_[0-9a-f]{24}$'),
	-- HMAC-SHA256(pepper, key_id || ':' || secret): the secret itself is
	-- never stored, and a stolen table is useless without the pepper.
	secret_hash bytea NOT NULL CHECK (length(secret_hash) = 32),
	label		text CHECK (length(label) <= 200),
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz,
	revoked_at	timestamptz
);
CREATE INDEX ON orders.api_keys (client_id);
COMMENT ON TABLE orders.api_keys IS
'API keys of clients: public key id (X-API-Key), keyed hash of the secret, expiry and revocation';
SELECT pg_catalog.pg_extension_config_dump('orders.api_keys', '');
-- and its identity sequence, or a restored database would number new keys
-- from 1 again (duplicate ids).
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('orders.api_keys', 'id'), '');

CREATE FUNCTION orders.api_secret_hash(p_key_id text, p_secret text) RETURNS bytea
LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, orders AS $$
	SELECT orders.hmac_sha256(orders.server_secret('api_key_pepper'),
							  convert_to(p_key_id || ':' || p_secret, 'UTF8'))
$$;
COMMENT ON FUNCTION orders.api_secret_hash(text, text) IS
'internal: the stored form of an API secret, HMAC-SHA256 under the server pepper';

-- Whether a key may be used now.
CREATE FUNCTION orders.api_key_usable(k orders.api_keys) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT k.id IS NOT NULL AND k.revoked_at IS NULL
		AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now())
$$;
COMMENT ON FUNCTION orders.api_key_usable(orders.api_keys) IS
'internal: true when the key exists, is not revoked and has not expired';

-- Authentication.  Both functions run as the owner (so they may set the
-- identity) and are granted to nobody: api.pre_request() calls them.
CREATE FUNCTION orders.authenticate_key(p_key_id text, p_secret text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	k orders.api_keys;
	computed bytea;
BEGIN
	IF p_key_id IS NULL OR p_secret IS NULL
		OR length(p_key_id) > 64 OR length(p_secret) > 256 THEN
		RETURN NULL;
	END IF;
	SELECT * INTO k FROM orders.api_keys WHERE key_id = p_key_id;
	-- Hash and compare even for an unknown key id: the time taken does not
	-- tell whether a key id exists.
	computed := orders.api_secret_hash(p_key_id, p_secret);
	IF NOT orders.secure_equal(computed, coalesce(k.secret_hash,
			set_byte(computed, 0, (get_byte(computed, 0) + 1) % 256)))
		OR NOT orders.api_key_usable(k) THEN
		RETURN NULL;
	END IF;
	PERFORM orders.set_current_client(k.client_id, k.id, 'key');
	RETURN k.client_id;
END
$$;
COMMENT ON FUNCTION orders.authenticate_key(text, text) IS
'internal: verifies an API key id and secret (constant-time) and makes its client the current one; NULL when refused';
