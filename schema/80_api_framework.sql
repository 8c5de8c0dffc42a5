-- The API schema (version 1) and its plumbing: requests read the way
-- PostgREST passes them (request.* settings), responses and errors written
-- the way PostgREST reads them (response.status, response.headers, SQLSTATE
-- PGRST).  The plumbing lives in schema orders and is granted to nobody:
-- PostgREST publishes every function of schema api the role may execute.

CREATE SCHEMA api;
COMMENT ON SCHEMA api IS
'the REST API, version 1: one function per operation, publishable by PostgREST unchanged (docs/api.md, docs/postgrest.conf)';
REVOKE ALL ON SCHEMA api FROM PUBLIC;

-- A request setting as PostgREST leaves it.  After a transaction that set
-- it, a setting reads back as '' rather than NULL: both mean absent.
CREATE FUNCTION orders.request_setting(p_name text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT nullif(current_setting(p_name, true), '')
$$;
COMMENT ON FUNCTION orders.request_setting(text) IS
'internal: a request.* setting, NULL when unset or empty';

CREATE FUNCTION orders.request_headers() RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	h jsonb;
BEGIN
	h := orders.request_setting('request.headers')::jsonb;
	RETURN CASE WHEN jsonb_typeof(h) = 'object' THEN h ELSE '{}' END;
EXCEPTION WHEN invalid_text_representation THEN
	RETURN '{}';
END
$$;
COMMENT ON FUNCTION orders.request_headers() IS
'internal: request.headers (lower-case names) as a JSON object, {} when absent or not an object';

-- Errors.  Real PostgREST turns SQLSTATE PGRST into an HTTP response: the
-- message is the body, the detail gives status and headers.
CREATE FUNCTION orders.api_error_body(p_error text, p_message text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT jsonb_build_object('error', p_error, 'message', p_message)::text
$$;
COMMENT ON FUNCTION orders.api_error_body(text, text) IS
'internal: the reference''s error body {"error": ..., "message": ...}';

CREATE FUNCTION orders.api_raise(p_status integer, p_error text, p_message text,
	p_headers jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
BEGIN
	RAISE SQLSTATE 'PGRST' USING
		MESSAGE = orders.api_error_body(p_error, p_message),
		DETAIL = jsonb_build_object('status', p_status, 'headers', p_headers)::text;
END
$$;
COMMENT ON FUNCTION orders.api_raise(integer, text, text, jsonb) IS
'internal: raises an API error the PostgREST way (SQLSTATE PGRST, message = JSON body, detail = {"status", "headers"})';

CREATE FUNCTION orders.api_unauthorized() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_raise(401, 'unauthorized', 'Invalid or expired access token',
							'{"WWW-Authenticate": "Bearer"}')
$$;
COMMENT ON FUNCTION orders.api_unauthorized() IS 'internal: raises 401 unauthorized';

CREATE FUNCTION orders.api_not_found() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_raise(404, 'not_found', 'No Matching Result Found!')
$$;
COMMENT ON FUNCTION orders.api_not_found() IS 'internal: raises 404 not_found';

CREATE FUNCTION orders.api_invalid(p_message text) RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_raise(400, 'bad_request', p_message)
$$;
COMMENT ON FUNCTION orders.api_invalid(text) IS
'internal: raises 400 bad_request; the message names the field and what was wrong';

-- Operations: what the routes call, what a failure says.
CREATE TABLE orders.api_operations (
	operation	text PRIMARY KEY,
	method		text NOT NULL CHECK (method IN ('GET', 'POST')),
	path_pattern text NOT NULL,		-- anchored regular expression; group 1: the id
	failure_message text NOT NULL	-- the message of a 500
);
COMMENT ON TABLE orders.api_operations IS
'the routes of the REST API (method, anchored path pattern) and the message of each operation''s internal error';
INSERT INTO orders.api_operations VALUES
	('create_order', 'POST', '^/api/v1/orders$', 'Failed to place order'),
	('list_orders', 'GET', '^/api/v1/orders$', 'Failed to list orders'),
	('order_details', 'GET', '^/api/v1/orders/([^/]*)$', 'Failed to retrieve order'),
	('products', 'GET', '^/api/v1/products$', 'Failed to retrieve products'),
	('charges', 'POST', '^/api/v1/charges$', 'Failed to compute charges'),
	('token', 'POST', '^/api/v1/auth/token$', 'Failed to issue access token'),
	('health', 'GET', '^/api/v1/health$', 'Health check failed');

-- How errors of the internal functions (schema orders) become HTTP errors
-- (the table of the money branch's docs/errors.md).
-- Only the project's own SQLSTATEs (class OR) are listed: their messages
-- are written for clients (they name the field).  A generic SQLSTATE (say
-- 22P02) may come from a bug anywhere, with a message quoting internals:
-- anything not listed is a 500 whose message says nothing of the cause.
CREATE TABLE orders.api_error_map (
	sqlstate	text PRIMARY KEY CHECK (sqlstate ~ '^[0-9A-Z]{5}$'),
	status		integer NOT NULL CHECK (status BETWEEN 400 AND 599),
	error		text NOT NULL,
	note		text NOT NULL
);
COMMENT ON TABLE orders.api_error_map IS
'SQLSTATEs of the internal functions mapped to HTTP status and error code; the internal message becomes the API message';
INSERT INTO orders.api_error_map VALUES
	('OR100', 400, 'bad_request', 'invalid input; the message names the field'),
	('OR101', 404, 'not_found', 'a referenced row (e.g. productId) does not exist'),
	('OR102', 409, 'conflict', 'poNumber already used with other parameters'),
	('OR103', 422, 'order_refused', 'refused: insufficient balance, product unavailable, no wallet or rate'),
	('OR104', 409, 'conflict', 'refund already made'),
	('OR001', 409, 'conflict', 'illegal status transition'),
	('OR002', 409, 'conflict', 'illegal sub-status');

CREATE FUNCTION orders.api_fail(p_operation text, p_sqlstate text, p_message text)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	m orders.api_error_map;
BEGIN
	SELECT * INTO m FROM orders.api_error_map WHERE sqlstate = p_sqlstate;
	IF FOUND THEN
		PERFORM orders.api_raise(m.status, m.error, p_message);
	END IF;
	-- Unknown: log what happened (SQLSTATE and message only: no detail,
	-- which may quote values) and tell the client nothing of it.
	RAISE WARNING 'api operation % failed: SQLSTATE %: %', p_operation, p_sqlstate, p_message;
	PERFORM orders.api_raise(500, 'internal_error',
		coalesce((SELECT failure_message FROM orders.api_operations WHERE operation = p_operation),
				 'Internal error'));
END
$$;
COMMENT ON FUNCTION orders.api_fail(text, text, text) IS
'internal: re-raises an error of an operation as an API error: mapped SQLSTATEs with their message, anything else 500 internal_error (logged as a WARNING)';

-- Responses.
CREATE FUNCTION orders.api_respond(p_status integer, p_headers jsonb DEFAULT '{}')
RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog AS $$
	SELECT set_config('response.status', p_status::text, true),
		   set_config('response.headers',
					  coalesce((SELECT jsonb_agg(jsonb_build_object(key, value) ORDER BY ord)
								FROM jsonb_each_text(p_headers) WITH ORDINALITY AS h(key, value, ord)),
							   '[]')::text,
					  true)
$$;
COMMENT ON FUNCTION orders.api_respond(integer, jsonb) IS
'internal: sets response.status and response.headers (a JSON array of one-key objects) the PostgREST way';

-- The end of a successful operation: its response status and headers,
-- and its audit row.
CREATE FUNCTION orders.api_succeed(p_operation text, p_status integer DEFAULT 200,
	p_headers jsonb DEFAULT '{}', p_order_id bigint DEFAULT NULL) RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_respond(p_status, p_headers);
	SELECT orders.api_audit_write(p_operation, p_order_id, p_status);
$$;
COMMENT ON FUNCTION orders.api_succeed(text, integer, jsonb, bigint) IS
'internal: sets the response status and headers of a successful operation and writes its audit row';

CREATE FUNCTION orders.api_require_client() RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	c bigint := orders.current_client_id();
BEGIN
	IF c IS NULL THEN
		PERFORM orders.api_unauthorized();
	END IF;
	RETURN c;
END
$$;
COMMENT ON FUNCTION orders.api_require_client() IS
'internal: the authenticated client, or 401 unauthorized';

-- Rate limit of a scope (client or order): passes, or raises 429 with
-- Retry-After and the RateLimit-* headers.
CREATE FUNCTION orders.api_rate_limit(p_scope text, p_id bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	r record;
BEGIN
	r := orders.rate_limit_take(p_scope, p_id);
	IF NOT r.allowed THEN
		PERFORM orders.api_raise(429, 'rate_limit_exceeded', 'Too many requests. Please try again later.',
			jsonb_build_object('Retry-After', r.retry_after::text,
							   'RateLimit-Limit', r."limit"::text,
							   'RateLimit-Remaining', r.remaining::text,
							   'RateLimit-Reset', r.reset_seconds::text));
	END IF;
END
$$;
COMMENT ON FUNCTION orders.api_rate_limit(text, bigint) IS
'internal: counts a request against the client''s or order''s rate limits; 429 rate_limit_exceeded with Retry-After and RateLimit-* headers when over';
