-- api.dispatch: the one SQL call the gateway makes per HTTP request.  It
-- does what PostgREST does around a function call (request.* settings,
-- pre-request, response.status / response.headers, PGRST errors) and the
-- routing of the reference's paths, so the gateway only relays.

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

CREATE FUNCTION orders.request_cookies(p_cookie_header text) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT coalesce(jsonb_object_agg(btrim(split_part(c, '=', 1)),
									 substr(btrim(c), length(split_part(btrim(c), '=', 1)) + 2)), '{}')
	FROM regexp_split_to_table(coalesce(p_cookie_header, ''), ';') AS c
	WHERE btrim(c) LIKE '_%=%'
$$;
COMMENT ON FUNCTION orders.request_cookies(text) IS
'internal: a Cookie header as the JSON object PostgREST puts in request.cookies';

-- The response headers a function left, as one JSON object.
CREATE FUNCTION orders.response_headers() RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	arr jsonb;
BEGIN
	arr := orders.request_setting('response.headers')::jsonb;
	RETURN coalesce((SELECT jsonb_object_agg(h.key, h.value)
					 FROM jsonb_array_elements(arr) AS e, jsonb_each(e) AS h), '{}');
END
$$;
COMMENT ON FUNCTION orders.response_headers() IS
'internal: response.headers (a JSON array of one-key objects) folded into one JSON object';

-- The HTTP response of a PGRST error (message: body; detail: status and
-- headers), as PostgREST would send it.
CREATE FUNCTION orders.pgrst_response(p_message text, p_detail text,
	OUT status integer, OUT headers jsonb, OUT body text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	d jsonb := p_detail::jsonb;
BEGIN
	status := (d->>'status')::integer;
	headers := coalesce(d->'headers', '{}');
	body := p_message;
END
$$;
COMMENT ON FUNCTION orders.pgrst_response(text, text) IS
'internal: status, headers and body of a PGRST error';

CREATE FUNCTION orders.api_dispatch(p_method text, p_path text, p_query text,
	p_headers jsonb, p_body text)
RETURNS TABLE (status integer, headers jsonb, body text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	req_method text := upper(coalesce(p_method, ''));
	req_headers jsonb;
	op orders.api_operations;
	path_id text;
	unknown_param text;
	params jsonb;
	payload jsonb;
	result jsonb;
	order_id bigint;
	r record;
	err_message text;
	err_detail text;
	json_headers constant jsonb := '{"Content-Type": "application/json; charset=utf-8"}';
BEGIN
	-- The request settings, as PostgREST sets them (header names lower-case).
	SELECT coalesce(jsonb_object_agg(lower(h.key), h.value), '{}') INTO req_headers
	FROM jsonb_each_text(CASE WHEN jsonb_typeof(p_headers) = 'object'
							  THEN p_headers ELSE '{}' END) AS h;
	PERFORM set_config('request.method', req_method, true),
			set_config('request.path', coalesce(p_path, ''), true),
			set_config('request.headers', req_headers::text, true),
			set_config('request.cookies', orders.request_cookies(req_headers->>'cookie')::text, true),
			set_config('request.jwt.claims', '{"role": "orders_api"}', true),
			set_config('response.status', '', true),
			set_config('response.headers', '', true);

	BEGIN
		-- Route.
		SELECT * INTO op FROM orders.api_operations o
		WHERE coalesce(p_path, '') ~ o.path_pattern AND o.method = req_method;
		IF NOT FOUND THEN
			IF EXISTS (SELECT 1 FROM orders.api_operations o WHERE coalesce(p_path, '') ~ o.path_pattern) THEN
				PERFORM orders.api_raise(405, 'method_not_allowed',
					format('Method %s is not allowed on %s', req_method, p_path),
					jsonb_build_object('Allow', (SELECT string_agg(o.method, ', ' ORDER BY o.method)
												 FROM orders.api_operations o
												 WHERE p_path ~ o.path_pattern)));
			END IF;
			PERFORM orders.api_not_found();
		END IF;
		path_id := substring(p_path FROM op.path_pattern);
		IF path_id ~ '^[0-9]{1,18}$' THEN
			order_id := path_id::bigint;
		END IF;

		-- Authenticate (in a block of its own, so that the identity survives
		-- an error of what follows and the audit row names the client).
		PERFORM orders.api_authenticate();
	EXCEPTION WHEN SQLSTATE 'PGRST' THEN
		GET STACKED DIAGNOSTICS err_message = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL;
		r := orders.pgrst_response(err_message, err_detail);
		PERFORM orders.api_audit_write(coalesce(op.operation, 'unrouted'), order_id, r.status);
		RETURN QUERY SELECT r.status, json_headers || r.headers, r.body;
		RETURN;
	END;

	BEGIN
		IF orders.current_client_id() IS NOT NULL THEN
			PERFORM orders.api_rate_limit('client', orders.current_client_id());
		END IF;

		BEGIN
			params := orders.query_params(p_query);
		EXCEPTION WHEN character_not_in_repertoire THEN
			PERFORM orders.api_invalid('query string is not valid UTF-8');
		END;
		SELECT k INTO unknown_param FROM jsonb_object_keys(params) AS k
		WHERE op.operation <> 'list_orders' OR k NOT IN ('page', 'limit', 'status', 'product_id')
		ORDER BY k LIMIT 1;
		IF unknown_param IS NOT NULL THEN
			PERFORM orders.api_invalid(format('unknown query parameter "%s"', unknown_param));
		END IF;
		IF req_method = 'POST' THEN
			BEGIN
				payload := nullif(btrim(p_body), '')::jsonb;
			EXCEPTION WHEN invalid_text_representation THEN
				PERFORM orders.api_invalid('request body is not valid JSON');
			END;
		END IF;

		CASE op.operation
		WHEN 'create_order' THEN
			result := api.create_order(data => payload->'data');
		WHEN 'charges' THEN
			result := api.charges(data => payload->'data');
		WHEN 'list_orders' THEN
			result := api.list_orders(page => params->>'page', "limit" => params->>'limit',
									  status => params->>'status', product_id => params->>'product_id');
		WHEN 'order_details' THEN
			result := api.order_details(id => substring(p_path FROM op.path_pattern));
		WHEN 'products' THEN
			result := api.products();
		WHEN 'token' THEN
			result := api.token();
		WHEN 'health' THEN
			result := api.health();
		END CASE;
		RETURN QUERY SELECT coalesce(orders.request_setting('response.status')::integer, 200),
							json_headers || orders.response_headers(), result::text;
	EXCEPTION
		WHEN SQLSTATE 'PGRST' THEN
			GET STACKED DIAGNOSTICS err_message = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL;
			r := orders.pgrst_response(err_message, err_detail);
			PERFORM orders.api_audit_write(op.operation, order_id, r.status);
			RETURN QUERY SELECT r.status, json_headers || r.headers, r.body;
		WHEN OTHERS THEN
			-- Only the SQLSTATE and message go to the log: a detail may quote
			-- values.  The client learns nothing of the cause.
			GET STACKED DIAGNOSTICS err_message = MESSAGE_TEXT;
			RAISE WARNING 'api.dispatch % %: SQLSTATE %: %', req_method, op.operation, SQLSTATE, err_message;
			PERFORM orders.api_audit_write(op.operation, order_id, 500);
			RETURN QUERY SELECT 500, json_headers,
				orders.api_error_body('internal_error', op.failure_message);
	END;
END
$$;
COMMENT ON FUNCTION orders.api_dispatch(text, text, text, jsonb, text) IS
'internal: the body of api.dispatch';

-- The contract's parameter names; PL/pgSQL cannot have an input and an
-- output column of the same name, SQL can.
CREATE FUNCTION api.dispatch(method text, path text, query text, headers jsonb, body text)
RETURNS TABLE (status integer, headers jsonb, body text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	SELECT * FROM orders.api_dispatch($1, $2, $3, $4, $5)
$$;
COMMENT ON FUNCTION api.dispatch(text, text, text, jsonb, text) IS
'the gateway''s one call per HTTP request: sets request.* as PostgREST would, routes /api/v1/... to the api function, authenticates, applies rate limits, and returns status, headers (a JSON object of strings) and body; every failure becomes the reference''s error body, and is audited';
