-- The API adapter's plumbing: the response value every handler returns,
-- the error catalog, the route table and the conversion of request
-- parameters.  Data flows through arguments and return values only: a
-- handler takes the authenticated client and its parsed parameters and
-- returns status, headers and body (errors included).  PostgREST's
-- request.* / response.* settings and SQLSTATE PGRST exist only at the
-- PostgREST boundary (schema/81_api_auth.sql: api.pre_request and
-- orders.postgrest_reply), never between the project's own functions.
-- Everything here lives in schema orders and is granted to nobody:
-- PostgREST publishes every function of schema api the role may execute.

CREATE SCHEMA api;
COMMENT ON SCHEMA api IS
'the REST API, version 1: one function per operation, publishable by PostgREST unchanged (docs/api.md, docs/postgrest.conf)';
REVOKE ALL ON SCHEMA api FROM PUBLIC;

-- What a handler returns.  order_id: the order the call concerned (the
-- audit row names it), not part of the HTTP answer.
CREATE TYPE orders.api_response AS (
	status		integer,
	headers		jsonb,
	body		jsonb,
	order_id	bigint
);
COMMENT ON TYPE orders.api_response IS
'internal: an HTTP answer of the API as a value: status, headers (a JSON object of strings), body (JSON), and the order it concerned (for the audit)';

CREATE FUNCTION orders.api_ok(p_body jsonb, p_status integer DEFAULT 200,
	p_headers jsonb DEFAULT '{}', p_order_id bigint DEFAULT NULL)
RETURNS orders.api_response
LANGUAGE sql IMMUTABLE AS $$
	SELECT ROW(p_status, p_headers, p_body, p_order_id)::orders.api_response
$$;
-- No SET clause: the body is fully qualified, and a SET would keep the
-- planner from inlining the call of every successful request.
COMMENT ON FUNCTION orders.api_ok(jsonb, integer, jsonb, bigint) IS
'internal: a successful answer (status 200 unless given)';

-- The error catalog: one table in C (src/error_catalog.c).
CREATE FUNCTION orders.error_catalog(
	OUT name text, OUT sqlstate text, OUT http_status integer, OUT error text,
	OUT message text, OUT meaning text, OUT raised_by text)
RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'error_catalog' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION orders.error_catalog() IS
'the project''s errors (src/error_catalog.c): SQLSTATE (NULL: an answer of the API only), HTTP status and error code of the API''s answer, its fixed message (NULL: the raised message), meaning; docs/errors.md is rendered from it';

-- An error answer of the catalog, by name.  p_message replaces the
-- catalog's message (or gives it, where the catalog has none).
CREATE FUNCTION orders.api_error(p_name text, p_message text DEFAULT NULL,
	p_headers jsonb DEFAULT '{}', p_order_id bigint DEFAULT NULL)
RETURNS orders.api_response
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT ROW(e.http_status, p_headers,
			   jsonb_build_object('error', e.error, 'message', coalesce(p_message, e.message)),
			   p_order_id)::orders.api_response
	FROM orders.error_catalog() e WHERE e.name = p_name
$$;
COMMENT ON FUNCTION orders.api_error(text, text, jsonb, bigint) IS
'internal: the answer of the error catalog entry p_name, body {"error", "message"} (p_message, else the catalog''s message)';

CREATE FUNCTION orders.api_unauthorized() RETURNS orders.api_response
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_error('unauthorized', p_headers => '{"WWW-Authenticate": "Bearer"}')
$$;
COMMENT ON FUNCTION orders.api_unauthorized() IS
'internal: 401 unauthorized with WWW-Authenticate: Bearer';

CREATE FUNCTION orders.api_invalid(p_message text) RETURNS orders.api_response
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_error('invalid_input', p_message)
$$;
COMMENT ON FUNCTION orders.api_invalid(text) IS
'internal: 400 bad_request; the message names the field and what was wrong';

-- Operations: the one route table.  It drives dispatch (the generated
-- orders.api_call, schema/85_api_dispatch.sql), the grants
-- (schema/96_api_security.sql) and is checked against docs/openapi.yaml
-- (sql/rest_routes.sql).  The PostgREST function of an operation is
-- api.<operation>.
CREATE TYPE orders.api_parameter AS (
	name		text,
	source		text,	-- query, path, body, header; client: the authenticated client; key: its API key
	type		text,	-- integer (>= minimum), id (an integer > 0), string, timestamp (RFC 3339), object;
					-- of the body also array (of strings), boolean;
					-- client / key: NULL (required: 401 without) or optional (NULL without)
	minimum		bigint
);
COMMENT ON TYPE orders.api_parameter IS
'internal: a parameter of an API operation: where it comes from (query, path, body, header, or the authenticated client / key), its type (integer, id, string, timestamp, object; a body member also array of strings, boolean; optional for a client / key the operation does without) and minimum';

CREATE TABLE orders.api_operations (
	operation	text PRIMARY KEY CHECK (operation ~ '^[a-z_]+$'),
	method		text NOT NULL CHECK (method IN ('GET', 'POST', 'PATCH', 'DELETE')),
	path		text NOT NULL,			-- as in OpenAPI: /api/v1/orders/{id}
	path_pattern text NOT NULL GENERATED ALWAYS AS
		('^' || regexp_replace(path, '\{[a-z_]+\}', '([^/]*)', 'g') || '$') STORED,
	openapi_id	text NOT NULL UNIQUE,	-- the operationId in docs/openapi.yaml
	handler		text NOT NULL,			-- a function of schema orders returning orders.api_response
	parameters	orders.api_parameter[] NOT NULL DEFAULT '{}',	-- the handler's arguments, in order
	failure_message text NOT NULL,		-- the message of a 500
	description	text NOT NULL,			-- the comment of api.<operation>
	-- the release whose scripts made the row; NULL for a route an operator
	-- adds (pg_dump keeps those only)
	shipped_in	text CHECK (shipped_in ~ '^[0-9]+\.[0-9]+$'),
	UNIQUE (method, path)
);
COMMENT ON TABLE orders.api_operations IS
'the route table of the REST API: method, path, handler and its parameters, the message of a 500; drives dispatch and grants, checked against docs/openapi.yaml';
INSERT INTO orders.api_operations (operation, method, path, openapi_id, handler, parameters, failure_message, description, shipped_in) VALUES
	('create_order', 'POST', '/api/v1/orders', 'placeOrder', 'handle_create_order',
	 ARRAY[('client', 'client', NULL, NULL), ('data', 'body', 'object', NULL)]::orders.api_parameter[],
	 'Failed to place order',
	 'POST /api/v1/orders (reference 003): body {"data": {productId, quantity, denomination, email, tag, poNumber, notifyReceiverEmail, notifyAdminEmail, topupData}}; 201 and the placeOrder envelope for a new order, 200 for a replay of the same poNumber and parameters, 409 for the same poNumber with other parameters', '1.0'),
	('list_orders', 'GET', '/api/v1/orders', 'listOrders', 'handle_list_orders',
	 ARRAY[('client', 'client', NULL, NULL), ('page', 'query', 'integer', 1), ('limit', 'query', 'integer', 1),
		   ('status', 'query', 'string', NULL), ('product_id', 'query', 'integer', 1),
		   ('placed_from', 'query', 'timestamp', NULL), ('placed_to', 'query', 'timestamp', NULL),
		   ('po_number', 'query', 'string', NULL)]::orders.api_parameter[],
	 'Failed to list orders',
	 'GET /api/v1/orders (reference 004): page (>= 1, default 1), limit (1-100, default 10), status (any case), product_id, placed_from (inclusive) and placed_to (exclusive) as RFC 3339 date-times, po_number (the order with that poNumber: at most one); newest first; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches', '1.0'),
	('order_details', 'GET', '/api/v1/orders/{id}', 'getOrderDetails', 'handle_order_details',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1)]::orders.api_parameter[],
	 'Failed to retrieve order',
	 'GET /api/v1/orders/{id} (reference 002): the order with its vouchers decrypted once delivered; 400 for an id that is not an integer > 0, 404 not_found for an unknown id and for another client''s order alike, 429 past the per-order read limit', '1.0'),
	('products', 'GET', '/api/v1/products', 'listProducts', 'handle_products',
	 ARRAY[('client', 'client', NULL, NULL)]::orders.api_parameter[],
	 'Failed to retrieve products',
	 'GET /api/v1/products: the active products of the catalog with denominations, limits, discount and live delivery_time (INSTANT: deliverable from stock now)', '1.0'),
	('charges', 'POST', '/api/v1/charges', 'getCharges', 'handle_charges',
	 ARRAY[('client', 'client', NULL, NULL), ('data', 'body', 'object', NULL)]::orders.api_parameter[],
	 'Failed to compute charges',
	 'POST /api/v1/charges: body {"data": {productId, denomination, quantity}}; what placing that order would charge now (orderTotal, rawOrderTotal, orderDiscount, rawOrderDiscount, discountPercent, currencyCode, currencyValue, amountCharged) and its live deliveryTime', '1.0'),
	('token', 'POST', '/api/v1/auth/token', 'issueAccessToken', 'handle_token',
	 ARRAY[('client', 'client', 'optional', NULL), ('api_key', 'key', 'optional', NULL),
		   ('grant_type', 'body', 'string', NULL), ('client_id', 'body', 'string', NULL),
		   ('client_secret', 'body', 'string', NULL), ('scope', 'body', 'string', NULL),
		   ('authorization', 'header', 'string', NULL)]::orders.api_parameter[],
	 'Failed to issue access token',
	 'POST /api/v1/auth/token: a short-lived HS256 access token {access_token, token_type, expires_in, expires_at} for X-API-Key + X-API-Secret, or by the OAuth 2.0 client-credentials grant (form body grant_type=client_credentials with client_id and client_secret, or HTTP Basic; scope orders; errors as RFC 6749 section 5.2)', '1.0'),
	('health', 'GET', '/api/v1/health', 'apiHealth', 'handle_health', '{}',
	 'Health check failed',
	 'GET /api/v1/health: {"status": "ok", "database": "ok", "version", "rate_limits": "on"|"off"} (off: orders is not in shared_preload_libraries)', '1.0');
-- pg_dump keeps the routes an operator adds (a configuration table), not
-- the ones the install and update scripts ship (shipped_in names their
-- release).  After restoring a database with routes of its own, regenerate
-- dispatch: DO $$ BEGIN EXECUTE orders.api_call_source(); END $$
-- (docs/api.md).
SELECT pg_catalog.pg_extension_config_dump('orders.api_operations', 'WHERE shipped_in IS NULL');

-- An error of a handler or of the core functions it calls, as an answer:
-- SQLSTATEs of the catalog with their own message, anything else (or a
-- catalog entry whose status is 500) a 500 whose message names the
-- operation only.  A generic SQLSTATE (say 22P02) may come from a bug
-- anywhere with a message quoting internals: the client learns nothing of
-- it, the log gets SQLSTATE and message (never the detail, which may quote
-- values).
CREATE FUNCTION orders.api_error_from(p_operation text, p_sqlstate text, p_message text)
RETURNS orders.api_response
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	e record;
BEGIN
	SELECT * INTO e FROM orders.error_catalog() c WHERE c.sqlstate = p_sqlstate;
	IF FOUND AND e.http_status < 500 THEN
		RETURN orders.api_error(e.name, coalesce(e.message, p_message));
	END IF;
	RAISE WARNING 'api operation % failed: SQLSTATE %: %', p_operation, p_sqlstate, p_message;
	RETURN orders.api_error('internal_error',
		coalesce((SELECT o.failure_message FROM orders.api_operations o WHERE o.operation = p_operation),
				 'Internal error'));
END
$$;
COMMENT ON FUNCTION orders.api_error_from(text, text, text) IS
'internal: the answer to an error raised under an operation: catalogued SQLSTATEs with their message, anything else 500 internal_error naming the operation (logged as a WARNING with SQLSTATE and message)';

-- Parameters arrive as text (query string, path, PostgREST's arguments)
-- or JSON (the body), and are converted once, by the types of the route
-- table.  A bad value raises invalid_input (OR100) naming the parameter:
-- the caller (orders.api_call) answers it from the catalog.
CREATE FUNCTION orders.api_integer_param(p_name text, p_value text, p_min bigint)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_value IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_value !~ '^\s*[+-]?[0-9]{1,18}\s*$' OR btrim(p_value)::bigint < p_min THEN
		RAISE EXCEPTION '%: must be an integer >= %', p_name, p_min USING ERRCODE = 'OR100';
	END IF;
	RETURN btrim(p_value)::bigint;
END
$$;
COMMENT ON FUNCTION orders.api_integer_param(text, text, bigint) IS
'internal: a parameter that must be an integer >= p_min; invalid_input (OR100) naming it otherwise; NULL stays NULL';

CREATE FUNCTION orders.api_id_param(p_name text, p_value text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_value IS NULL OR p_value !~ '^[0-9]{1,18}$' OR p_value::bigint = 0 THEN
		RAISE EXCEPTION '%: must be an integer > 0', p_name USING ERRCODE = 'OR100';
	END IF;
	RETURN p_value::bigint;
END
$$;
COMMENT ON FUNCTION orders.api_id_param(text, text) IS
'internal: an id (digits only, > 0); invalid_input (OR100) naming it otherwise';

-- RFC 3339 date-time (section 5.6): a full date, T, a time, and a Z or
-- numeric offset, so the value never depends on the session's TimeZone.
CREATE FUNCTION orders.api_timestamp_param(p_name text, p_value text) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_value IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$' THEN
		BEGIN
			RETURN p_value::timestamptz;
		EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
			NULL;	-- e.g. 2026-02-30: the error below
		END;
	END IF;
	RAISE EXCEPTION '%: must be an RFC 3339 date-time such as 2026-01-31T00:00:00Z, got "%"',
		p_name, left(p_value, 40) USING ERRCODE = 'OR100';
END
$$;
COMMENT ON FUNCTION orders.api_timestamp_param(text, text) IS
'internal: a parameter that must be an RFC 3339 date-time with a Z or offset; invalid_input (OR100) naming it otherwise; NULL stays NULL';

CREATE FUNCTION orders.api_object_param(p_name text, p_value jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF jsonb_typeof(p_value) IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION '%: is required and must be a JSON object', p_name USING ERRCODE = 'OR100';
	END IF;
	RETURN p_value;
END
$$;
COMMENT ON FUNCTION orders.api_object_param(text, jsonb) IS
'internal: a member of the request body that must be a JSON object; invalid_input (OR100) naming it otherwise';

-- Optional members of the request body (absent or null: NULL); the handler
-- decides which are required.
CREATE FUNCTION orders.api_body_string(p_name text, p_value jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_value IS NULL OR jsonb_typeof(p_value) = 'null' THEN
		RETURN NULL;
	ELSIF jsonb_typeof(p_value) <> 'string' THEN
		RAISE EXCEPTION '%: must be a string', p_name USING ERRCODE = 'OR100';
	END IF;
	RETURN p_value #>> '{}';
END
$$;
COMMENT ON FUNCTION orders.api_body_string(text, jsonb) IS
'internal: a member of the request body that must be a JSON string if given; invalid_input (OR100) naming it otherwise; absent or null: NULL';

CREATE FUNCTION orders.api_body_string_array(p_name text, p_value jsonb) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_value IS NULL OR jsonb_typeof(p_value) = 'null' THEN
		RETURN NULL;
	ELSIF jsonb_typeof(p_value) <> 'array'
		  OR EXISTS (SELECT 1 FROM jsonb_array_elements(p_value) e WHERE jsonb_typeof(e) <> 'string') THEN
		RAISE EXCEPTION '%: must be an array of strings', p_name USING ERRCODE = 'OR100';
	END IF;
	RETURN ARRAY(SELECT e FROM jsonb_array_elements_text(p_value) WITH ORDINALITY AS t(e, n) ORDER BY n);
END
$$;
COMMENT ON FUNCTION orders.api_body_string_array(text, jsonb) IS
'internal: a member of the request body that must be a JSON array of strings if given; invalid_input (OR100) naming it otherwise; absent or null: NULL';

CREATE FUNCTION orders.api_body_boolean(p_name text, p_value jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_value IS NULL OR jsonb_typeof(p_value) = 'null' THEN
		RETURN NULL;
	ELSIF jsonb_typeof(p_value) <> 'boolean' THEN
		RAISE EXCEPTION '%: must be true or false', p_name USING ERRCODE = 'OR100';
	END IF;
	RETURN p_value::boolean;
END
$$;
COMMENT ON FUNCTION orders.api_body_boolean(text, jsonb) IS
'internal: a member of the request body that must be a JSON boolean if given; invalid_input (OR100) naming it otherwise; absent or null: NULL';

-- Rate limit of a scope (client or order): NULL when the request passes,
-- else the 429 answer with Retry-After and the RateLimit-* headers.
CREATE FUNCTION orders.api_rate_limit(p_scope text, p_id bigint) RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	r record;
BEGIN
	r := orders.rate_limit_take(p_scope, p_id);
	IF r.allowed THEN
		RETURN NULL;
	END IF;
	RETURN orders.api_error('rate_limit_exceeded', p_headers =>
		jsonb_build_object('Retry-After', r.retry_after::text,
						   'RateLimit-Limit', r."limit"::text,
						   'RateLimit-Remaining', r.remaining::text,
						   'RateLimit-Reset', r.reset_seconds::text));
END
$$;
COMMENT ON FUNCTION orders.api_rate_limit(text, bigint) IS
'internal: counts a request against the client''s or order''s rate limits; NULL when it passes, else 429 rate_limit_exceeded with Retry-After and RateLimit-* headers';
