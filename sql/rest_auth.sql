-- API keys and access tokens: the primitives against published test
-- vectors, then keys (issue, list, revoke, expire) and tokens (exchange,
-- use, tampering, expiry, revocation) through api.dispatch.
\set SHOW_CONTEXT never
SET orders.rate_limit_per_minute = 0;
SET orders.rate_limit_burst = 0;

-- HMAC-SHA256: RFC 4231 test case 2.
SELECT encode(orders.hmac_sha256('Jefe', 'what do ya want for nothing?'), 'hex') AS rfc4231_case2;
SELECT orders.hmac_sha256('', 'x');
-- Constant-time equality.
SELECT orders.secure_equal('\x0102', '\x0102') AS same, orders.secure_equal('\x0102', '\x0103') AS differ,
	   orders.secure_equal('\x0102', '\x010203') AS other_length;
-- base64url: RFC 4648 vectors, strict decoding.
SELECT v, orders.base64url_encode(convert_to(v, 'UTF8')) AS encoded,
	   convert_from(orders.base64url_decode(orders.base64url_encode(convert_to(v, 'UTF8'))), 'UTF8') = v AS round_trip
FROM unnest(ARRAY['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar']) v;
SELECT orders.base64url_encode('\xfbff'::bytea) AS url_safe;
SELECT orders.base64url_decode('Zm9v=');
SELECT orders.base64url_decode('Zm9');
SELECT orders.base64url_decode('Zm9=');
SELECT orders.base64url_decode('Zh');
SELECT orders.base64url_decode('Z');
-- HS256: the jwt.io example token verifies with its secret, not with another.
SELECT * FROM orders.jwt_verify(
	'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
	'your-256-bit-secret');
SELECT orders.jwt_verify(
	'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
	'another-secret') IS NULL AS refused;
-- Our signer, our verifier; malformed tokens are refused, never an error.
SELECT orders.jwt_sign('{"a":1}', 'k');
SELECT left(t, 60) AS token, orders.jwt_verify(t, 'k') IS NULL AS refused
FROM unnest(ARRAY['', '.', '..', 'a.b', 'a.b.c.d', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhIjoxfQ.',
				  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhIjoxfQ.AAAA', 'e y.J.z', repeat('a', 5000)]) t;

-- Keys.
SELECT orders.admin_create_client('api-auth A') AS a \gset
SELECT orders.admin_create_client('api-auth A');
SELECT orders.admin_create_client('');
SELECT key_id AS k1, secret AS s1 FROM orders.admin_issue_api_key(:a, 'primary') \gset
SELECT key_id AS k2, secret AS s2 FROM orders.admin_issue_api_key(:a, 'rotation', now() + interval '1 day') \gset
SELECT :'k1' ~ '^sk_live_[0-9a-f]{24}$' AS key_id_format, length(:'s1') AS secret_length, :'s1' <> :'s2' AS distinct_secrets;
SELECT orders.admin_issue_api_key(999999999);
SELECT orders.admin_issue_api_key(:a, 'past', now() - interval '1 second');
SELECT label, state, expires_at IS NOT NULL AS expires FROM orders.admin_list_api_keys(:a);
-- Only a keyed hash is stored: neither the secret nor its plain SHA-256.
SELECT count(*) AS stored_secrets FROM orders.api_keys
WHERE secret_hash IN (convert_to(:'s1', 'UTF8'), sha256(convert_to(:'s1', 'UTF8')));

CREATE FUNCTION pg_temp.call(m text, p text, h jsonb)
RETURNS TABLE (status integer, body text)
LANGUAGE sql AS $$
	SELECT d.status, regexp_replace(d.body, '"(access_token|expires_at)": "[^"]*"', '"\1": "<masked>"', 'g')
	FROM api.dispatch(m, p, NULL, h, NULL) d
$$;
SELECT json_build_object('X-API-Key', :'k1', 'X-API-Secret', :'s1') AS h1 \gset

-- Tokens: exchange, then use.
SELECT * FROM pg_temp.call('POST', '/api/v1/auth/token', :'h1');
SELECT d.body::jsonb->>'access_token' AS tok FROM api.dispatch('POST', '/api/v1/auth/token', NULL, :'h1', NULL) d \gset
SELECT header, payload::jsonb - 'iat' - 'exp' - 'kid' - 'sub' - 'client_id' AS claims,
	   (payload::jsonb->>'exp')::bigint - (payload::jsonb->>'iat')::bigint AS lifetime,
	   payload::jsonb->>'kid' = :'k1' AS kid_ok, (payload::jsonb->>'client_id')::bigint = :a AS client_ok
FROM orders.jwt_verify(:'tok', (SELECT value FROM orders.server_secrets WHERE name = 'jwt_secret'));
SELECT json_build_object('Authorization', 'Bearer ' || :'tok') AS hb \gset
SELECT status FROM pg_temp.call('GET', '/api/v1/products', :'hb');
SELECT status FROM pg_temp.call('GET', '/api/v1/products', json_build_object('authorization', 'bearer ' || :'tok')::jsonb);
-- A token is not exchanged for another one.
SELECT * FROM pg_temp.call('POST', '/api/v1/auth/token', :'hb');
-- Tampered: another client id in the payload, the signature of another
-- token, alg "none".
SELECT status FROM pg_temp.call('GET', '/api/v1/products', json_build_object('Authorization', 'Bearer ' ||
	split_part(:'tok', '.', 1) || '.' ||
	orders.base64url_encode(convert_to(jsonb_set(convert_from(orders.base64url_decode(split_part(:'tok', '.', 2)), 'UTF8')::jsonb,
												 '{client_id}', to_jsonb(:a + 1000))::text, 'UTF8')) || '.' ||
	split_part(:'tok', '.', 3))::jsonb);
SELECT status FROM pg_temp.call('GET', '/api/v1/products', json_build_object('Authorization', 'Bearer ' ||
	orders.base64url_encode('{"alg":"none","typ":"JWT"}') || '.' || split_part(:'tok', '.', 2) || '.')::jsonb);
-- Signed with the right key but expired, or with alg other than HS256.
SELECT status FROM pg_temp.call('GET', '/api/v1/products', json_build_object('Authorization', 'Bearer ' ||
	orders.jwt_sign(json_build_object('role', 'orders_api', 'client_id', :a, 'kid', :'k1', 'exp', 1000)::text,
					(SELECT value FROM orders.server_secrets WHERE name = 'jwt_secret')))::jsonb);
-- A shorter lifetime applies to new tokens.
SET orders.access_token_lifetime = 60;
SELECT d.body::jsonb->'expires_in' AS expires_in FROM api.dispatch('POST', '/api/v1/auth/token', NULL, :'h1', NULL) d;
RESET orders.access_token_lifetime;
-- A token never outlives its key.
SELECT (d.body::jsonb->>'expires_in')::integer BETWEEN 1 AND 900 AS capped
FROM api.dispatch('POST', '/api/v1/auth/token', NULL,
	json_build_object('X-API-Key', :'k2', 'X-API-Secret', :'s2')::jsonb, NULL) d;

-- Revoking a key refuses the key and every token issued for it.
SELECT orders.admin_revoke_api_key(:'k1') IS NOT NULL AS revoked;
SELECT status FROM pg_temp.call('GET', '/api/v1/products', :'h1');
SELECT status FROM pg_temp.call('GET', '/api/v1/products', :'hb');
SELECT orders.admin_revoke_api_key('sk_live_ffffffffffffffffffffffff');
-- Expiring the other key: refused from then on.
SELECT status FROM pg_temp.call('GET', '/api/v1/products', json_build_object('X-API-Key', :'k2', 'X-API-Secret', :'s2')::jsonb);
SELECT orders.admin_expire_api_key(:'k2') IS NOT NULL AS expired;
SELECT status FROM pg_temp.call('GET', '/api/v1/products', json_build_object('X-API-Key', :'k2', 'X-API-Secret', :'s2')::jsonb);
SELECT label, state FROM orders.admin_list_api_keys(:a);
-- Rotating the signing key invalidates outstanding tokens.
SELECT key_id AS k3, secret AS s3 FROM orders.admin_issue_api_key(:a, 'third') \gset
SELECT d.body::jsonb->>'access_token' AS tok3
FROM api.dispatch('POST', '/api/v1/auth/token', NULL, json_build_object('X-API-Key', :'k3', 'X-API-Secret', :'s3')::jsonb, NULL) d \gset
SELECT status FROM pg_temp.call('GET', '/api/v1/products', json_build_object('Authorization', 'Bearer ' || :'tok3')::jsonb);
SELECT length(orders.admin_rotate_jwt_secret()) AS new_secret_length;
SELECT status FROM pg_temp.call('GET', '/api/v1/products', json_build_object('Authorization', 'Bearer ' || :'tok3')::jsonb);
