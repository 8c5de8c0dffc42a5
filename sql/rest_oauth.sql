-- The OAuth 2.0 client-credentials grant of POST /api/v1/auth/token
-- (RFC 6749 sections 4.4, 2.3.1, 5.1, 5.2): an API key is the client, its
-- credentials in a form body or as HTTP Basic; through api.dispatch (what
-- the gateway calls, with the request's Content-Type) and through
-- api.token (what PostgREST calls with the form's fields as arguments).
-- Tokens and secrets are never printed.
\set SHOW_CONTEXT never
SET orders.rate_limit_per_minute = 0;
SET orders.rate_limit_burst = 0;

SELECT orders.admin_create_client('api-oauth A') AS a \gset
SELECT key_id AS k, secret AS s FROM orders.admin_issue_api_key(:a, 'oauth') \gset
-- A key whose secret needs the form encoding (":" "+" "%" space, UTF-8).
SELECT orders.admin_import_api_key(:a, 'sk_live_0a0a0a0a0a0a0a0a0a0a0a0a', 'p@ss:w+rd %é/€ 0123', 'odd secret') AS odd_key;

-- Form encoding (application/x-www-form-urlencoded) of a value.
CREATE FUNCTION pg_temp.urlencode(v text) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(CASE WHEN c ~ '^[A-Za-z0-9._~-]$' THEN c
						   ELSE upper(regexp_replace(encode(convert_to(c, 'UTF8'), 'hex'), '(..)', '%\1', 'g')) END,
					  '' ORDER BY n)
	FROM regexp_split_to_table(v, '') WITH ORDINALITY AS t(c, n)
$$;
-- Authorization: Basic for a client id and secret (RFC 6749 section 2.3.1).
CREATE FUNCTION pg_temp.basic(id text, secret text) RETURNS text LANGUAGE sql AS $$
	SELECT 'Basic ' || translate(encode(convert_to(pg_temp.urlencode(id) || ':' || pg_temp.urlencode(secret), 'UTF8'), 'base64'), E'\n', '')
$$;
-- A token request through api.dispatch; the token and its expiry masked.
CREATE FUNCTION pg_temp.token_request(h jsonb, b text, ct text DEFAULT 'application/x-www-form-urlencoded')
RETURNS TABLE (status integer, headers jsonb, body text)
LANGUAGE sql AS $$
	SELECT d.status, d.headers - 'Content-Type',
		   regexp_replace(d.body, '"(access_token|expires_at)": "[^"]*"', '"\1": "<masked>"', 'g')
	FROM api.dispatch('POST', '/api/v1/auth/token', NULL,
					  jsonb_strip_nulls(coalesce(h, '{}') || jsonb_build_object('Content-Type', ct)), b) d
$$;
-- The client a token authenticates (NULL: refused).
CREATE FUNCTION pg_temp.token_client(body text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	client bigint;
BEGIN
	client := orders.authenticate_token(body::jsonb->>'access_token');
	PERFORM orders.clear_current_client();
	RETURN client;
END
$$;
SELECT 'grant_type=client_credentials&client_id=' || pg_temp.urlencode(:'k')
	   || '&client_secret=' || pg_temp.urlencode(:'s') AS body_creds \gset

-- Credentials in the body: the section 5.1 answer, no-store, and a token
-- of the key's client that the API accepts.
SELECT status, headers, body FROM pg_temp.token_request(NULL, :'body_creds');
SELECT pg_temp.token_client(d.body) = :a AS token_of_the_client,
	   (SELECT s.status FROM api.dispatch('GET', '/api/v1/products', NULL,
			jsonb_build_object('Authorization', 'Bearer ' || (d.body::jsonb->>'access_token')), NULL) s) AS products_status
FROM api.dispatch('POST', '/api/v1/auth/token', NULL,
				  '{"Content-Type": "application/x-www-form-urlencoded"}', :'body_creds') d;
-- HTTP Basic, with the optional scope; the media type in any case, with a
-- charset parameter.
SELECT status, body FROM pg_temp.token_request(jsonb_build_object('Authorization', pg_temp.basic(:'k', :'s')),
	'grant_type=client_credentials&scope=orders', 'Application/X-WWW-Form-URLEncoded; charset=UTF-8');
-- A secret with reserved and non-ASCII characters, form-encoded in Basic
-- and in the body; sent without the encoding it is another secret.
SELECT status FROM pg_temp.token_request(
	jsonb_build_object('Authorization', pg_temp.basic('sk_live_0a0a0a0a0a0a0a0a0a0a0a0a', 'p@ss:w+rd %é/€ 0123')),
	'grant_type=client_credentials');
SELECT status FROM pg_temp.token_request(NULL,
	'grant_type=client_credentials&client_id=sk_live_0a0a0a0a0a0a0a0a0a0a0a0a&client_secret='
	|| pg_temp.urlencode('p@ss:w+rd %é/€ 0123'));
SELECT status, body FROM pg_temp.token_request(jsonb_build_object('Authorization', 'Basic '
	|| encode(convert_to('sk_live_0a0a0a0a0a0a0a0a0a0a0a0a:p@ss:w+rd %é/€ 0123', 'UTF8'), 'base64')),
	'grant_type=client_credentials');

-- Errors (section 5.2): each with its code, no-store, and for
-- invalid_client a 401 naming the Basic scheme.
-- a wrong secret, in the body and as Basic; an unknown key
SELECT status, headers, body FROM pg_temp.token_request(NULL,
	'grant_type=client_credentials&client_id=' || :'k' || '&client_secret=wrong-secret-0123456789');
SELECT status, body FROM pg_temp.token_request(jsonb_build_object('Authorization', pg_temp.basic(:'k', 'wrong-secret-0123456789')),
	'grant_type=client_credentials');
SELECT status, body FROM pg_temp.token_request(jsonb_build_object('Authorization', pg_temp.basic('sk_live_ffffffffffffffffffffffff', :'s')),
	'grant_type=client_credentials');
-- no credentials; malformed Basic (not base64, no colon)
SELECT status, body FROM pg_temp.token_request(NULL, 'grant_type=client_credentials');
SELECT status, body FROM pg_temp.token_request('{"Authorization": "Basic !!!"}', 'grant_type=client_credentials');
SELECT status, body FROM pg_temp.token_request('{"Authorization": "Basic bm9jb2xvbg=="}', 'grant_type=client_credentials');
-- grant_type missing, empty, or another grant
SELECT status, headers, body FROM pg_temp.token_request(NULL,
	'client_id=' || :'k' || '&client_secret=' || pg_temp.urlencode(:'s'));
SELECT status, body FROM pg_temp.token_request(jsonb_build_object('Authorization', pg_temp.basic(:'k', :'s')), 'grant_type=');
SELECT status, body FROM pg_temp.token_request(jsonb_build_object('Authorization', pg_temp.basic(:'k', :'s')),
	'grant_type=password&username=u&password=p');
SELECT status, body FROM pg_temp.token_request(jsonb_build_object('Authorization', pg_temp.basic(:'k', :'s')),
	'grant_type=authorization_code&code=x');
-- two client authentication methods: Basic and the body, the key headers
-- and the body
SELECT status, body FROM pg_temp.token_request(jsonb_build_object('Authorization', pg_temp.basic(:'k', :'s')), :'body_creds');
SELECT status, body FROM pg_temp.token_request(jsonb_build_object('X-API-Key', :'k', 'X-API-Secret', :'s'), :'body_creds');
-- a scope that does not exist
SELECT status, body FROM pg_temp.token_request(NULL, :'body_creds' || '&scope=orders%20admin');
-- a form that is not UTF-8: the API's 400
SELECT status, body FROM pg_temp.token_request(NULL, 'grant_type=client_credentials&client_id=%ff');
-- a field given twice (RFC 6749 section 3.2), even with the same value, or
-- spelt once encoded: the API's 400 naming it, no token
SELECT status, body FROM pg_temp.token_request(NULL, :'body_creds' || '&client_secret=other-secret');
SELECT status, body FROM pg_temp.token_request(NULL, 'grant_type=client_credentials&' || :'body_creds');
SELECT status, body FROM pg_temp.token_request(jsonb_build_object('Authorization', pg_temp.basic(:'k', :'s')),
	'grant_type=client_credentials&grant%5Ftype=client_credentials');

-- The key exchange of earlier releases is unchanged (now with Pragma too);
-- without credentials or OAuth parameters it is the API's 401.
SELECT status, headers, body FROM pg_temp.token_request(jsonb_build_object('X-API-Key', :'k', 'X-API-Secret', :'s'), NULL, NULL);
SELECT status, headers, body FROM pg_temp.token_request(NULL, NULL, NULL);
-- Basic credentials are for the token endpoint only: elsewhere the
-- request is anonymous (401).
SELECT d.status, d.body FROM api.dispatch('GET', '/api/v1/products', NULL,
	jsonb_build_object('Authorization', pg_temp.basic(:'k', :'s')), NULL) d;
-- A form sent to a JSON route is read as strings, not JSON objects: 400.
SELECT d.status, d.body FROM api.dispatch('POST', '/api/v1/orders', NULL,
	jsonb_build_object('X-API-Key', :'k', 'X-API-Secret', :'s', 'Content-Type', 'application/x-www-form-urlencoded'),
	'data=%7B%7D') d;
-- The media type test itself.
SELECT t, orders.is_form_content_type(t) AS form
FROM unnest(ARRAY['application/x-www-form-urlencoded', ' APPLICATION/x-www-form-urlencoded ;charset=utf-8',
				  E'application/x-www-form-urlencoded\t', 'application/json', 'application/x-www-form-urlencodedx',
				  'multipart/form-data; boundary=x', '', NULL]) t;
-- Basic credentials: each part form-decoded, the secret may hold ":".
SELECT h, (orders.basic_credentials(h)).client_id, (orders.basic_credentials(h)).client_secret IS NOT NULL AS has_secret
FROM unnest(ARRAY['Basic ' || encode('a%3Ab:c:d', 'base64'), 'basic ' || encode('x+y:', 'base64'),
				  'Basic ' || encode('\xff3a78'::bytea, 'base64'), 'Basic', 'Bearer abc', 'Basic YQ']) h;

-- PostgREST: POST /rpc/token with a form body; PostgREST passes the form's
-- fields as named text arguments, the Authorization: Basic header in
-- request.headers (it reads only Bearer tokens itself).
CREATE FUNCTION pg_temp.postgrest_settings(headers jsonb) RETURNS void
LANGUAGE sql AS $$
	SELECT set_config('role', 'orders_api', true), set_config('request.jwt.claims', '{"role":"orders_api"}', true),
		   set_config('request.method', 'POST', true), set_config('request.path', '/rpc/token', true),
		   set_config('request.headers', headers::text, true)
$$;
BEGIN;
SELECT pg_temp.postgrest_settings('{"content-type": "application/x-www-form-urlencoded"}');
SELECT api.pre_request();
SELECT api.token(grant_type => 'client_credentials', client_id => :'k', client_secret => :'s')::text AS ptok \gset
SELECT current_setting('response.status', true) AS status, current_setting('response.headers', true) AS headers;
COMMIT;
SELECT pg_temp.token_client(:'ptok') = :a AS token_of_the_client;
BEGIN;
SELECT pg_temp.postgrest_settings(jsonb_build_object('authorization', pg_temp.basic(:'k', :'s')));
SELECT api.pre_request();
SELECT api.token(grant_type => 'client_credentials', scope => 'orders')::text AS ptok \gset
COMMIT;
SELECT pg_temp.token_client(:'ptok') = :a AS token_of_the_client;
-- errors are PGRST with the status and headers in the detail
CREATE FUNCTION pg_temp.pgrst_error(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	m text;
	d text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN SQLSTATE 'PGRST' THEN
	GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
	RETURN format('body %s detail %s', m, d);
END
$$;
BEGIN;
SELECT pg_temp.postgrest_settings(jsonb_build_object('authorization', pg_temp.basic(:'k', 'wrong-secret-0123456789')));
SELECT api.pre_request();
SELECT pg_temp.pgrst_error($$SELECT api.token(grant_type => 'client_credentials')$$) AS answer;
ROLLBACK;
BEGIN;
SELECT pg_temp.postgrest_settings('{}');
SELECT api.pre_request();
SELECT pg_temp.pgrst_error($$SELECT api.token(grant_type => 'refresh_token')$$) AS answer;
ROLLBACK;
