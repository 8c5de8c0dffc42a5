-- api.dispatch: the one SQL call the gateway makes per HTTP request.  It
-- parses the request once, routes it by the route table, authenticates,
-- counts it against the rate limits, calls the operation's handler through
-- orders.api_call (generated from the route table), writes the audit row
-- and returns status, headers and body: the gateway only relays.  No
-- setting carries anything: every step takes arguments and returns values.

CREATE FUNCTION orders.url_decode(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
	SELECT coalesce(convert_from(string_agg(
		CASE WHEN m[1] IS NOT NULL THEN decode(substr(m[1], 2), 'hex')
			 ELSE convert_to(m[2], 'UTF8') END, ''::bytea ORDER BY n), 'UTF8'), '')
	FROM regexp_matches(replace(p_text, '+', ' '), '(%[0-9A-Fa-f]{2})|([^%]+|%)', 'g')
		 WITH ORDINALITY AS t(m, n)
$$;
COMMENT ON FUNCTION orders.url_decode(text) IS
'internal: decodes a URL query component (%XX escapes as UTF-8, + as space); invalid UTF-8 is an error';

-- Is a Content-Type application/x-www-form-urlencoded (any case,
-- parameters such as charset after a ";" ignored)?
CREATE FUNCTION orders.is_form_content_type(p_content_type text) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT coalesce(lower(btrim(split_part(p_content_type, ';', 1), E' \t')) = 'application/x-www-form-urlencoded', false)
$$;
COMMENT ON FUNCTION orders.is_form_content_type(text) IS
'internal: whether a Content-Type is application/x-www-form-urlencoded (any case, parameters ignored)';

CREATE FUNCTION orders.query_params(p_query text) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, orders AS $$
	SELECT coalesce(jsonb_object_agg(name, value ORDER BY n DESC), '{}')
	FROM (SELECT orders.url_decode(split_part(pair, '=', 1)) AS name,
				 orders.url_decode(substr(pair, length(split_part(pair, '=', 1)) + 2)) AS value, n
		  FROM regexp_split_to_table(ltrim(coalesce(p_query, ''), '?'), '&') WITH ORDINALITY AS t(pair, n)
		  WHERE pair <> '') AS p
$$;
COMMENT ON FUNCTION orders.query_params(text) IS
'internal: a query string (a=1&b=x%20y) as a JSON object of strings; for a repeated name the first value wins';

-- A form body (application/x-www-form-urlencoded) as a JSON object of
-- strings.  Unlike a query string, a field may not be given twice: RFC 6749
-- section 3.2 forbids it for the token request (the only form the API
-- takes), and which of two client_secret values counts must never be a
-- guess.
CREATE FUNCTION orders.form_params(p_body text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	repeated text;
BEGIN
	SELECT f.name INTO repeated
	FROM (SELECT orders.url_decode(split_part(pair, '=', 1)) AS name
		  FROM regexp_split_to_table(coalesce(p_body, ''), '&') AS t(pair)
		  WHERE pair <> '') AS f
	GROUP BY f.name HAVING count(*) > 1
	ORDER BY f.name LIMIT 1;
	IF repeated IS NOT NULL THEN
		RAISE EXCEPTION 'form field "%" is given more than once', left(repeated, 40)
			USING ERRCODE = 'OR100';
	END IF;
	RETURN orders.query_params(p_body);
END
$$;
COMMENT ON FUNCTION orders.form_params(text) IS
'internal: a form body (a=1&b=x%20y) as a JSON object of strings; a field given twice is invalid_input (OR100) naming it';

-- orders.api_call(operation, client, api key, auth method, parameters,
-- body): converts the operation's parameters by their types in the route
-- table, calls its handler and answers any error it raises from the error
-- catalog (the subtransaction of the EXCEPTION block rolls the handler's
-- writes back).  Generated from orders.api_operations: one branch per
-- operation, each a static call whose plan PL/pgSQL caches, instead of a
-- dynamic EXECUTE per request.  Used by api.dispatch and by the PostgREST
-- functions alike.
CREATE FUNCTION orders.api_call_source() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $gen$
	SELECT format($f$CREATE OR REPLACE FUNCTION orders.api_call(p_operation text, p_client bigint,
	p_api_key_id bigint, p_auth_method text, p_params jsonb, p_body jsonb)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $body$
BEGIN
	CASE p_operation
%s
	ELSE
		RETURN orders.api_error('no_match');
	END CASE;
EXCEPTION WHEN OTHERS THEN
	RETURN orders.api_error_from(p_operation, SQLSTATE, SQLERRM);
END
$body$$f$,
		string_agg(format(E'\tWHEN %L THEN\n%s\t\tRETURN orders.%I(%s);',
						  o.operation, g.guards, o.handler, g.args),
				   E'\n' ORDER BY o.operation))
	FROM orders.api_operations o,
	LATERAL (
		SELECT coalesce(string_agg(CASE WHEN p.type IS NULL THEN CASE p.source
					WHEN 'client' THEN E'\t\tIF p_client IS NULL THEN RETURN orders.api_unauthorized(); END IF;\n'
					WHEN 'key' THEN E'\t\tIF p_auth_method IS DISTINCT FROM ''key'' THEN RETURN orders.api_unauthorized(); END IF;\n'
					END END, '' ORDER BY n), '') AS guards,
			   coalesce(string_agg(CASE
					WHEN p.source = 'client' THEN 'p_client'
					WHEN p.source = 'key' AND p.type IS NULL THEN 'p_api_key_id'
					WHEN p.source = 'key' THEN 'CASE WHEN p_auth_method = ''key'' THEN p_api_key_id END'
					WHEN p.source = 'body' AND p.type = 'object' THEN
						format('orders.api_object_param(%L, p_body->%L)', p.name, p.name)
					WHEN p.source = 'body' AND p.type = 'string' THEN
						format('orders.api_body_string(%L, p_body->%L)', p.name, p.name)
					WHEN p.source = 'body' AND p.type = 'array' THEN
						format('orders.api_body_string_array(%L, p_body->%L)', p.name, p.name)
					WHEN p.source = 'body' AND p.type = 'boolean' THEN
						format('orders.api_body_boolean(%L, p_body->%L)', p.name, p.name)
					WHEN p.source = 'header' AND p.type = 'string' THEN
						format('p_params->>%L', p.name)
					WHEN p.source IN ('query', 'path') AND p.type = 'integer' THEN
						format('orders.api_integer_param(%L, p_params->>%L, %s)', p.name, p.name, p.minimum)
					WHEN p.source IN ('query', 'path') AND p.type = 'id' THEN
						format('orders.api_id_param(%L, p_params->>%L)', p.name, p.name)
					WHEN p.source IN ('query', 'path') AND p.type = 'timestamp' THEN
						format('orders.api_timestamp_param(%L, p_params->>%L)', p.name, p.name)
					WHEN p.source IN ('query', 'path') AND p.type = 'string' THEN
						format('p_params->>%L', p.name)
					END, ', ' ORDER BY n), '') AS args
		FROM unnest(o.parameters) WITH ORDINALITY AS p(name, source, type, minimum, n)
	) g
$gen$;
COMMENT ON FUNCTION orders.api_call_source() IS
'internal: the source of orders.api_call, generated from the route table orders.api_operations';

DO $$
DECLARE
	bad record;
BEGIN
	-- A parameter the generator does not know would become a NULL argument.
	SELECT o.operation, p.name INTO bad
	FROM orders.api_operations o, unnest(o.parameters) p
	WHERE NOT ((p.source IN ('client', 'key') AND (p.type IS NULL OR p.type = 'optional'))
			   OR (p.source = 'body' AND p.type IN ('object', 'string', 'array', 'boolean'))
			   OR (p.source = 'header' AND p.type = 'string')
			   OR (p.source IN ('query', 'path') AND p.type IN ('integer', 'id', 'string', 'timestamp')))
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'route table: parameter % of operation % has an unknown source or type',
			bad.name, bad.operation;
	END IF;
	EXECUTE orders.api_call_source();
END $$;
COMMENT ON FUNCTION orders.api_call(text, bigint, bigint, text, jsonb, jsonb) IS
'internal: calls the handler of an operation with its parameters converted by the route table; errors become answers from the error catalog (generated by orders.api_call_source())';

CREATE FUNCTION orders.api_dispatch(p_method text, p_path text, p_query text,
	p_headers jsonb, p_body text)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	req_method text := upper(coalesce(p_method, ''));
	req_path text := coalesce(p_path, '');
	req_headers jsonb;
	op orders.api_operations;
	path_names text[];			-- the route's path parameters, in path order
	path_values text[];
	order_id bigint;
	params jsonb;
	payload jsonb;
	unknown_param text;
	client bigint;
	r orders.api_response;
BEGIN
	-- Header names lower-case (HTTP's are case-insensitive).
	SELECT coalesce(jsonb_object_agg(lower(h.key), h.value), '{}') INTO req_headers
	FROM jsonb_each_text(CASE WHEN jsonb_typeof(p_headers) = 'object'
							  THEN p_headers ELSE '{}' END) AS h;

	-- Route.
	SELECT * INTO op FROM orders.api_operations o
	WHERE req_path ~ o.path_pattern AND o.method = req_method;
	IF NOT FOUND THEN
		r := coalesce((SELECT orders.api_error('method_not_allowed',
									format('Method %s is not allowed on %s', req_method, p_path),
									jsonb_build_object('Allow', string_agg(o.method, ', ' ORDER BY o.method)))
					   FROM orders.api_operations o WHERE req_path ~ o.path_pattern
					   HAVING count(*) > 0),
					  orders.api_error('no_match'));
	ELSE
		path_names := ARRAY(SELECT p.name FROM unnest(op.parameters) p WHERE p.source = 'path'
							ORDER BY position('{' || p.name || '}' IN op.path));
		IF cardinality(path_names) > 0 THEN
			path_values := regexp_match(req_path, op.path_pattern);
		END IF;
		-- the order a call concerns, for the audit row
		IF op.path LIKE '/api/v1/orders/{%' AND path_values[1] ~ '^[0-9]{1,18}$' THEN
			order_id := path_values[1]::bigint;
		END IF;
		-- Authenticate, then count the request against the client's limits.
		r := orders.api_authenticate(req_headers);
		client := orders.current_client_id();
		IF r.status IS NULL AND client IS NOT NULL THEN
			r := orders.api_rate_limit('client', client);
		END IF;
	END IF;

	-- Parse the query string and the body.
	IF r.status IS NULL THEN
		BEGIN
			params := orders.query_params(p_query);
		EXCEPTION WHEN character_not_in_repertoire THEN
			r := orders.api_invalid('query string is not valid UTF-8');
		END;
	END IF;
	IF r.status IS NULL THEN
		SELECT k INTO unknown_param FROM jsonb_object_keys(params) AS k
		WHERE k NOT IN (SELECT p.name FROM unnest(op.parameters) p WHERE p.source = 'query')
		ORDER BY k LIMIT 1;
		IF unknown_param IS NOT NULL THEN
			r := orders.api_invalid(format('unknown query parameter "%s"', unknown_param));
		END IF;
	END IF;
	IF r.status IS NULL AND req_method IN ('POST', 'PATCH') THEN
		-- A form (the OAuth 2.0 token request) is read like a query
		-- string: an object of strings.  Anything else must be JSON.
		IF orders.is_form_content_type(req_headers->>'content-type') THEN
			BEGIN
				payload := orders.form_params(p_body);
			EXCEPTION
				WHEN character_not_in_repertoire THEN
					r := orders.api_invalid('request body is not valid UTF-8 form data');
				WHEN SQLSTATE 'OR100' THEN
					r := orders.api_invalid(SQLERRM);
			END;
		ELSE
			BEGIN
				payload := nullif(btrim(p_body), '')::jsonb;
			EXCEPTION WHEN invalid_text_representation THEN
				r := orders.api_invalid('request body is not valid JSON');
			END;
		END IF;
	END IF;

	-- Call.
	IF r.status IS NULL THEN
		FOR i IN 1 .. coalesce(cardinality(path_names), 0) LOOP
			params := params || jsonb_build_object(path_names[i], path_values[i]);
		END LOOP;
		-- The headers the route declares as parameters (the token
		-- endpoint's Authorization: Basic).
		params := params || coalesce((SELECT jsonb_object_agg(p.name, req_headers->p.name)
									  FROM unnest(op.parameters) p
									  WHERE p.source = 'header' AND req_headers ? p.name), '{}');
		r := orders.api_call(op.operation, client, orders.current_api_key_id(),
							 orders.current_auth_method(), params, payload);
	END IF;

	PERFORM orders.api_audit_write(coalesce(op.operation, 'unrouted'), coalesce(r.order_id, order_id), r.status);
	r.headers := '{"Content-Type": "application/json; charset=utf-8"}' || r.headers;
	RETURN r;
END
$$;
COMMENT ON FUNCTION orders.api_dispatch(text, text, text, jsonb, text) IS
'internal: the body of api.dispatch: parse, route, authenticate, rate-limit, call, audit';

-- The contract's parameter names; PL/pgSQL cannot have an input and an
-- output column of the same name, SQL can.
CREATE FUNCTION api.dispatch(method text, path text, query text, headers jsonb, body text)
RETURNS TABLE (status integer, headers jsonb, body text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	SELECT r.status, r.headers, r.body::text FROM orders.api_dispatch($1, $2, $3, $4, $5) r
$$;
COMMENT ON FUNCTION api.dispatch(text, text, text, jsonb, text) IS
'the gateway''s one call per HTTP request: routes /api/v1/... by the route table, authenticates, applies rate limits, calls the operation''s handler and returns status, headers (a JSON object of strings) and body; every failure becomes the reference''s error body, and every call is audited';
