-- The PostgREST boundary.  PostgREST passes a request through settings
-- (request.headers, ...), reads the answer's status and headers from
-- settings (response.status, response.headers) and turns SQLSTATE PGRST
-- into an HTTP error.  Those conventions live here only: api.pre_request
-- reads request.headers once, each api.<operation> function calls the
-- same orders.api_call as api.dispatch and hands its answer to
-- orders.postgrest_reply, which writes response.* or raises PGRST once;
-- the headers a route takes as parameters come from
-- orders.postgrest_header.  Nothing of the project reads them back.

-- An error answer the PostgREST way: the message is the body, the detail
-- gives status and headers.
CREATE FUNCTION orders.postgrest_raise(p_response orders.api_response) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
	RAISE SQLSTATE 'PGRST' USING
		MESSAGE = p_response.body::text,
		DETAIL = jsonb_build_object('status', p_response.status, 'headers', p_response.headers)::text;
END
$$;
COMMENT ON FUNCTION orders.postgrest_raise(orders.api_response) IS
'internal: raises an error answer the PostgREST way (SQLSTATE PGRST, message = JSON body, detail = {"status", "headers"})';

-- The answer of an operation under PostgREST: an error is raised as
-- PGRST (PostgREST rolls the transaction back, audit row included); a
-- success is audited, its status and headers set (response.headers: a
-- JSON array of one-key objects) and its body returned.
CREATE FUNCTION orders.postgrest_reply(p_operation text, p_response orders.api_response)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
BEGIN
	IF p_response.status >= 400 THEN
		PERFORM orders.postgrest_raise(p_response);
	END IF;
	PERFORM orders.api_audit_write(p_operation, p_response.order_id, p_response.status);
	PERFORM set_config('response.status', p_response.status::text, true),
			set_config('response.headers',
					   coalesce((SELECT jsonb_agg(jsonb_build_object(key, value) ORDER BY ord)
								 FROM jsonb_each_text(p_response.headers) WITH ORDINALITY AS h(key, value, ord)),
								'[]')::text,
					   true);
	RETURN p_response.body;
END
$$;
COMMENT ON FUNCTION orders.postgrest_reply(text, orders.api_response) IS
'internal: hands an answer to PostgREST: raises PGRST for an error; for a success writes the audit row, sets response.status and response.headers and returns the body';

-- PostgREST's db-pre-request: called once per request, before the
-- operation, in the request's transaction.  Bad credentials are a 401
-- here; no credentials leave the request anonymous.  Settings read back
-- as '' after a transaction that set them: absent, like NULL.
CREATE FUNCTION api.pre_request() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	headers jsonb;
	r orders.api_response;
BEGIN
	BEGIN
		headers := nullif(current_setting('request.headers', true), '')::jsonb;
	EXCEPTION WHEN invalid_text_representation THEN
		headers := NULL;
	END;
	IF jsonb_typeof(headers) IS DISTINCT FROM 'object' THEN
		headers := '{}';
	END IF;
	r := orders.api_authenticate(headers);
	IF r.status IS NULL AND orders.current_client_id() IS NOT NULL THEN
		r := orders.api_rate_limit('client', orders.current_client_id());
	END IF;
	IF r.status IS NOT NULL THEN
		PERFORM orders.postgrest_raise(r);
	END IF;
END
$$;
COMMENT ON FUNCTION api.pre_request() IS
'PostgREST db-pre-request: authenticates the request from request.headers (401 on bad credentials), then counts it against the client''s rate limits (429)';

-- A request header under PostgREST (request.headers, lower-case names):
-- the headers a route declares as parameters (the token endpoint's
-- Authorization: Basic, which PostgREST leaves to the database: it only
-- reads a Bearer token).  NULL when absent or unreadable.
CREATE FUNCTION orders.postgrest_header(p_name text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
	RETURN nullif(current_setting('request.headers', true), '')::jsonb->>p_name;
EXCEPTION WHEN invalid_text_representation THEN
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.postgrest_header(text) IS
'internal: a header of the PostgREST request (request.headers) by lower-case name; NULL when absent';

-- api.<operation> for each route: its arguments are the route's query and
-- path parameters and body members (text, as PostgREST passes them, for
-- a body member of type string: a form field of a form-urlencoded body;
-- jsonb for an object), its header parameters come from request.headers;
-- the client is the one api.pre_request authenticated.
DO $do$
DECLARE
	o record;
BEGIN
	FOR o IN
		SELECT op.operation, op.description,
			   coalesce(string_agg(format('%I %s', p.name, CASE
							WHEN p.source = 'path' THEN 'text'
							WHEN p.source = 'query' OR p.type = 'string' THEN 'text DEFAULT NULL'
							-- optional body members (webhooks' eventTypes, enabled)
							WHEN p.type IN ('array', 'boolean') THEN 'jsonb DEFAULT NULL'
							ELSE 'jsonb' END),
						', ' ORDER BY n) FILTER (WHERE p.source IN ('query', 'path', 'body')), '') AS args,
			   coalesce('jsonb_build_object(' || string_agg(CASE p.source
							WHEN 'header' THEN format('%L, orders.postgrest_header(%L)', p.name, p.name)
							ELSE format('%L, %I', p.name, p.name) END, ', ' ORDER BY n)
						FILTER (WHERE p.source IN ('query', 'path', 'header')) || ')', '''{}''') AS params,
			   coalesce('jsonb_build_object(' || string_agg(format('%L, %I', p.name, p.name), ', ' ORDER BY n)
						FILTER (WHERE p.source = 'body') || ')', 'NULL') AS body
		FROM orders.api_operations op
		LEFT JOIN LATERAL unnest(op.parameters) WITH ORDINALITY AS p(name, source, type, minimum, n) ON true
		GROUP BY op.operation, op.description
		ORDER BY op.operation
	LOOP
		EXECUTE format($f$CREATE FUNCTION api.%I(%s) RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $body$
	SELECT orders.postgrest_reply(%L, orders.api_call(%L, orders.current_client_id(),
		orders.current_api_key_id(), orders.current_auth_method(), %s, %s))
$body$$f$, o.operation, o.args, o.operation, o.operation, o.params, o.body);
		EXECUTE format('COMMENT ON FUNCTION api.%I IS %L', o.operation, o.description);
	END LOOP;
END $do$;
