-- orders 1.0 -> 1.1: ALTER EXTENSION orders UPDATE TO '1.1'.
-- Each change of the database objects between the two versions, in the
-- order of schema/ (docs/releases.md).  test/upgrade/run.sh proves that 1.0
-- plus this script gives the catalog of a fresh 1.1.

\echo Use "ALTER EXTENSION orders UPDATE TO '1.1'" to load this file. \quit

-- The types' comments are generated from src/labels.c (issue 11): every
-- type now lists its labels and aliases the same way.
COMMENT ON TYPE orders.order_sub_status IS
'detailed order sub-status (new labels are appended over time): INITIAL, PROCESSING, PARTIAL, COMPLETED, VENDOR_ORDER_PENDING, VENDOR_ORDER_CREATED, VENDOR_ORDER_FAILED, VENDOR_VOUCHER_FETCHED, INVENTORY_FULFILLED, PENDING_REPROCESS, REPROCESS_EXPIRED, GV_LINK_PENDING, GV_LINK_CLAIMED, GV_LINK_UNCLAIMED, BULK_LIMIT_EXCEEDED, REFUNDED, NOT_REFUNDED, RECONCILED';
COMMENT ON TYPE orders.delivery_time IS
'how fast a voucher is expected: INSTANT, DELAYED; input aliases: REALTIME = INSTANT';
COMMENT ON TYPE orders.delivery_type IS
'delivery format of a voucher: CODE_WITH_PIN, URL';
COMMENT ON TYPE orders.link_type IS
'access model of a redemption URL: PUBLIC, PROTECTED';

-- A request without credentials never runs as the client an earlier
-- request of the same transaction authenticated: authentication starts by
-- clearing the identity (schema/70_identity.sql, schema/81_api_auth.sql).
CREATE FUNCTION orders.clear_current_client() RETURNS void
	AS 'MODULE_PATHNAME', 'identity_clear_current_client'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION orders.clear_current_client() IS
'internal: nobody is authenticated from here to the end of the (sub)transaction (authentication starts with it); refuses unless running as the extension owner; granted to nobody';
REVOKE EXECUTE ON FUNCTION orders.clear_current_client() FROM PUBLIC;

-- GET /api/v1/orders takes a placed-at range (docs/api.md): a parameter
-- type timestamp (RFC 3339) in the route table and its conversion (the
-- route's new parameters and handler follow with po_number, below;
-- orders.list_orders took the range already).
COMMENT ON TYPE orders.api_parameter IS
'internal: a parameter of an API operation: where it comes from (query, path, body, or the authenticated client / key), its type (integer, id, string, timestamp, object) and minimum';
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
REVOKE EXECUTE ON FUNCTION orders.api_timestamp_param(text, text) FROM PUBLIC;


-- Issue 12: the po_number filter of GET /api/v1/orders, the OAuth 2.0
-- client-credentials grant of POST /api/v1/auth/token, and pg_dump keeping
-- the rows an operator adds to the extension's configuration tables.

-- GET /api/v1/orders?po_number=: the order with that poNumber (unique per
-- client: answered from the unique index), combined with the other
-- filters.  list_orders and handle_list_orders take one more argument:
-- dropped and created again (as a fresh 1.1 has them), then what the route
-- table generates.
DROP FUNCTION orders.list_orders(bigint, integer, integer, text, bigint, timestamptz, timestamptz);
CREATE FUNCTION orders.list_orders(
	p_client_id bigint,
	p_page integer DEFAULT 1,
	p_limit integer DEFAULT 10,
	p_status text DEFAULT NULL,
	p_product_id bigint DEFAULT NULL,
	p_placed_from timestamptz DEFAULT NULL,
	p_placed_to timestamptz DEFAULT NULL,
	p_po_number text DEFAULT NULL,
	OUT items jsonb,
	OUT page integer,
	OUT per_page integer,
	OUT total_count bigint,
	OUT total_pages bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	st orders.order_status;
	seqs bigint[];
	skip bigint;		-- matching rows before the page
	blocks refcursor;	-- a filter's block counters, newest block first
	blk bigint;
	blk_rows bigint;
	above bigint := 0;	-- matching rows in the blocks above blk
	below bigint;		-- the page's rows have a client_seq below this
BEGIN
	page := coalesce(p_page, 1);
	per_page := coalesce(p_limit, 10);
	IF page < 1 THEN
		RAISE EXCEPTION 'page: must be an integer >= 1, got %', page USING ERRCODE = 'OR100';
	END IF;
	IF per_page NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'limit: must be an integer from 1 to 100, got %', per_page USING ERRCODE = 'OR100';
	END IF;
	IF p_status IS NOT NULL THEN
		BEGIN
			st := p_status::orders.order_status;
		EXCEPTION WHEN invalid_text_representation THEN
			RAISE EXCEPTION 'status: unknown order status "%"', left(p_status, 40)
				USING ERRCODE = 'OR100',
					  HINT = 'Use one of ' || (SELECT string_agg(l, ', ')
											  FROM orders.labels('orders.order_status') l) || ', in any case.';
		END;
	END IF;
	IF p_product_id <= 0 THEN
		RAISE EXCEPTION 'product_id: must be a positive integer' USING ERRCODE = 'OR100';
	END IF;
	IF p_placed_from >= p_placed_to THEN
		RAISE EXCEPTION 'placed-at range: from (%) must be before to (%)',
			orders.rfc3339(p_placed_from), orders.rfc3339(p_placed_to) USING ERRCODE = 'OR100';
	END IF;
	-- The reference's rules for a poNumber (src/order_money.c,
	-- order_check_request): not blank, at most 100 characters, no control
	-- characters.  A value no order can have is a client's mistake, not an
	-- empty list.
	IF p_po_number IS NOT NULL AND (btrim(p_po_number) = '' OR length(p_po_number) > 100
									OR p_po_number ~ '[[:cntrl:]]') THEN
		RAISE EXCEPTION 'po_number: must be 1 to 100 characters, not blank, without control characters'
			USING ERRCODE = 'OR100';
	END IF;

	IF p_po_number IS NOT NULL THEN
		-- (client_id, po_number) is unique: at most one order, found by that
		-- index (MATERIALIZED: the planner cannot pick another index for
		-- the other filters), which then decide whether it is in the list.
		-- The total is that count (0 or 1), exact without the counters.
		WITH by_po AS MATERIALIZED (
			SELECT o.client_seq, o.status, o.product_id, o.placed_at FROM orders.orders o
			WHERE o.client_id = p_client_id AND o.po_number = p_po_number)
		SELECT array_agg(o.client_seq) INTO seqs
		FROM by_po o
		WHERE (p_placed_from IS NULL OR o.placed_at >= p_placed_from)
		  AND (p_placed_to IS NULL OR o.placed_at < p_placed_to)
		  AND (st IS NULL OR o.status = st)
		  AND (p_product_id IS NULL OR o.product_id = p_product_id);
		total_count := coalesce(cardinality(seqs), 0);
		IF page > 1 THEN
			seqs := NULL;
		END IF;
	ELSIF p_placed_from IS NULL AND p_placed_to IS NULL THEN
		-- The total: the rolled-up counts plus the deltas not rolled up yet,
		-- both read in this statement's snapshot, so exact.
		SELECT coalesce(sum(x.n), 0) INTO total_count
		FROM (SELECT c.n FROM orders.order_counts c
			  WHERE c.client_id = p_client_id AND (st IS NULL OR c.status = st)
				AND (p_product_id IS NULL OR c.product_id = p_product_id)
			  UNION ALL
			  SELECT d.n FROM orders.order_count_deltas d
			  WHERE d.client_id = p_client_id AND (st IS NULL OR d.status = st)
				AND (p_product_id IS NULL OR d.product_id = p_product_id)) x;
		-- The page from the block holding its first row (block counts,
		-- newest block down, stopping there), then the filter's index from
		-- the top of that block, skipping only that block's rows above the
		-- page (at most a block) -- not every matching row before the page.
		skip := (page - 1)::bigint * per_page;
		IF skip < total_count THEN
			-- One query per filter shape, each on its own index.
			IF st IS NULL AND p_product_id IS NULL THEN
				OPEN blocks FOR SELECT x.block, sum(x.n) FROM (
					SELECT c.block, c.n FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id
					UNION ALL
					SELECT d.block, d.n FROM orders.order_count_deltas d
					WHERE d.client_id = p_client_id) x
					GROUP BY x.block ORDER BY x.block DESC;
			ELSIF p_product_id IS NULL THEN
				OPEN blocks FOR SELECT x.block, sum(x.n) FROM (
					SELECT c.block, c.n FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id AND c.status = st
					UNION ALL
					SELECT d.block, d.n FROM orders.order_count_deltas d
					WHERE d.client_id = p_client_id AND d.status = st) x
					GROUP BY x.block ORDER BY x.block DESC;
			ELSIF st IS NULL THEN
				OPEN blocks FOR SELECT x.block, sum(x.n) FROM (
					SELECT c.block, c.n FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id AND c.product_id = p_product_id
					UNION ALL
					SELECT d.block, d.n FROM orders.order_count_deltas d
					WHERE d.client_id = p_client_id AND d.product_id = p_product_id) x
					GROUP BY x.block ORDER BY x.block DESC;
			ELSE
				OPEN blocks FOR SELECT x.block, sum(x.n) FROM (
					SELECT c.block, c.n FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id AND c.status = st AND c.product_id = p_product_id
					UNION ALL
					SELECT d.block, d.n FROM orders.order_count_deltas d
					WHERE d.client_id = p_client_id AND d.status = st AND d.product_id = p_product_id) x
					GROUP BY x.block ORDER BY x.block DESC;
			END IF;
			LOOP
				FETCH blocks INTO blk, blk_rows;
				EXIT WHEN NOT FOUND OR above + blk_rows > skip;
				above := above + blk_rows;
			END LOOP;
			CLOSE blocks;
			-- The page's first row is in block blk (skip < total_count):
			-- skip - above matching rows of that block come before it.
			below := (blk + 1) * orders.order_block_size();
			skip := skip - above;
			IF st IS NULL AND p_product_id IS NULL THEN
				SELECT array_agg(f.client_seq) INTO seqs
				FROM (SELECT o.client_seq FROM orders.orders o
					  WHERE o.client_id = p_client_id AND o.client_seq < below
					  ORDER BY o.client_seq DESC OFFSET skip LIMIT per_page) f;
			ELSIF p_product_id IS NULL THEN
				SELECT array_agg(f.client_seq) INTO seqs
				FROM (SELECT o.client_seq FROM orders.orders o
					  WHERE o.client_id = p_client_id AND o.status = st AND o.client_seq < below
					  ORDER BY o.client_seq DESC OFFSET skip LIMIT per_page) f;
			ELSIF st IS NULL THEN
				SELECT array_agg(f.client_seq) INTO seqs
				FROM (SELECT o.client_seq FROM orders.orders o
					  WHERE o.client_id = p_client_id AND o.product_id = p_product_id AND o.client_seq < below
					  ORDER BY o.client_seq DESC OFFSET skip LIMIT per_page) f;
			ELSE
				SELECT array_agg(f.client_seq) INTO seqs
				FROM (SELECT o.client_seq FROM orders.orders o
					  WHERE o.client_id = p_client_id AND o.status = st AND o.product_id = p_product_id AND o.client_seq < below
					  ORDER BY o.client_seq DESC OFFSET skip LIMIT per_page) f;
			END IF;
		END IF;
	ELSE
		-- Within a placed-at range: counted and walked in the range
		-- (client_seq is not ordered by placed_at: docs/design.md,
		-- "Listing orders").
		SELECT count(*) INTO total_count FROM orders.orders o
		WHERE o.client_id = p_client_id
		  AND (p_placed_from IS NULL OR o.placed_at >= p_placed_from)
		  AND (p_placed_to IS NULL OR o.placed_at < p_placed_to)
		  AND (st IS NULL OR o.status = st)
		  AND (p_product_id IS NULL OR o.product_id = p_product_id);
		SELECT array_agg(f.client_seq) INTO seqs
		FROM (SELECT o.client_seq FROM orders.orders o
			  WHERE o.client_id = p_client_id
				AND (p_placed_from IS NULL OR o.placed_at >= p_placed_from)
				AND (p_placed_to IS NULL OR o.placed_at < p_placed_to)
				AND (st IS NULL OR o.status = st)
				AND (p_product_id IS NULL OR o.product_id = p_product_id)
			  ORDER BY o.client_seq DESC
			  OFFSET (page - 1)::bigint * per_page LIMIT per_page) f;
	END IF;
	SELECT coalesce(jsonb_agg(orders.order_list_item(o, p) ORDER BY o.client_seq DESC), '[]')
	INTO items
	FROM orders.orders o JOIN orders.products p ON p.id = o.product_id
	WHERE o.client_id = p_client_id AND o.client_seq = ANY (seqs);
	total_pages := (total_count + per_page - 1) / per_page;
END
$$;
COMMENT ON FUNCTION orders.list_orders(bigint, integer, integer, text, bigint, timestamptz, timestamptz, text) IS
'a page of the client''s orders (reference 004), newest first, with the totals for X-Total-Count and X-Total-Pages; placed-at range is [from, to); po_number: the order with that poNumber (at most one), if it passes the other filters';
REVOKE EXECUTE ON FUNCTION orders.list_orders(bigint, integer, integer, text, bigint, timestamptz, timestamptz, text) FROM PUBLIC;

UPDATE orders.api_operations
SET parameters = ARRAY[('client', 'client', NULL, NULL), ('page', 'query', 'integer', 1), ('limit', 'query', 'integer', 1),
		   ('status', 'query', 'string', NULL), ('product_id', 'query', 'integer', 1),
		   ('placed_from', 'query', 'timestamp', NULL), ('placed_to', 'query', 'timestamp', NULL),
		   ('po_number', 'query', 'string', NULL)]::orders.api_parameter[],
	description = 'GET /api/v1/orders (reference 004): page (>= 1, default 1), limit (1-100, default 10), status (any case), product_id, placed_from (inclusive) and placed_to (exclusive) as RFC 3339 date-times, po_number (the order with that poNumber: at most one); newest first; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches'
WHERE operation = 'list_orders';

DROP FUNCTION orders.handle_list_orders(bigint, bigint, bigint, text, bigint);
CREATE FUNCTION orders.handle_list_orders(p_client bigint, p_page bigint, p_limit bigint,
	p_status text, p_product_id bigint, p_placed_from timestamptz, p_placed_to timestamptz,
	p_po_number text)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	r record;
	paging jsonb;
BEGIN
	IF p_page > 2147483647 OR p_limit > 2147483647 THEN
		RETURN orders.api_invalid('page and limit: must be integers within range');
	END IF;
	SELECT * INTO r FROM orders.list_orders(
		p_client,
		p_page => coalesce(p_page, 1)::integer,
		p_limit => coalesce(p_limit, 10)::integer,
		p_status => nullif(btrim(p_status), ''),
		p_product_id => p_product_id,
		p_placed_from => p_placed_from,
		p_placed_to => p_placed_to,
		p_po_number => p_po_number);
	paging := jsonb_build_object('X-Page', r.page::text, 'X-Per-Page', r.per_page::text,
								 'X-Total-Count', r.total_count::text,
								 'X-Total-Pages', r.total_pages::text);
	-- The reference answers a list without any match with its 404.
	IF jsonb_array_length(r.items) = 0 THEN
		RETURN orders.api_error('no_match', p_headers => paging);
	END IF;
	RETURN orders.api_ok(r.items, 200, paging);
END
$$;
COMMENT ON FUNCTION orders.handle_list_orders(bigint, bigint, bigint, text, bigint, timestamptz, timestamptz, text) IS
'internal: GET /api/v1/orders (reference 004): newest first; placed_from inclusive, placed_to exclusive; po_number: the order with that poNumber (confirming an order after a 5xx, reference 003 note 5); headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches';
REVOKE EXECUTE ON FUNCTION orders.handle_list_orders(bigint, bigint, bigint, text, bigint, timestamptz, timestamptz, text) FROM PUBLIC;

DROP FUNCTION api.list_orders(text, text, text, text);
CREATE FUNCTION api.list_orders(page text DEFAULT NULL, "limit" text DEFAULT NULL, status text DEFAULT NULL,
	product_id text DEFAULT NULL, placed_from text DEFAULT NULL, placed_to text DEFAULT NULL,
	po_number text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $body$
	SELECT orders.postgrest_reply('list_orders', orders.api_call('list_orders', orders.current_client_id(),
		orders.current_api_key_id(), orders.current_auth_method(), jsonb_build_object('page', page, 'limit', "limit", 'status', status, 'product_id', product_id, 'placed_from', placed_from, 'placed_to', placed_to, 'po_number', po_number), NULL))
$body$;
COMMENT ON FUNCTION api.list_orders(text, text, text, text, text, text, text) IS 'GET /api/v1/orders (reference 004): page (>= 1, default 1), limit (1-100, default 10), status (any case), product_id, placed_from (inclusive) and placed_to (exclusive) as RFC 3339 date-times, po_number (the order with that poNumber: at most one); newest first; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches';
REVOKE EXECUTE ON FUNCTION api.list_orders(text, text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.list_orders(text, text, text, text, text, text, text) TO orders_api;

-- POST /api/v1/auth/token also speaks the OAuth 2.0 client-credentials
-- grant (RFC 6749 section 4.4): a form body reaches the handler as an
-- object of strings (orders.is_form_content_type, api.dispatch), the
-- route table gains body parameters of type string, a header parameter
-- (Authorization: Basic) and an optional client / key; Basic credentials
-- leave a request anonymous (only the token endpoint reads them).
COMMENT ON TYPE orders.api_parameter IS
'internal: a parameter of an API operation: where it comes from (query, path, body, header, or the authenticated client / key), its type (integer, id, string, timestamp, object; optional for a client / key the operation does without) and minimum';

UPDATE orders.api_operations
SET parameters = ARRAY[('client', 'client', 'optional', NULL), ('api_key', 'key', 'optional', NULL),
		   ('grant_type', 'body', 'string', NULL), ('client_id', 'body', 'string', NULL),
		   ('client_secret', 'body', 'string', NULL), ('scope', 'body', 'string', NULL),
		   ('authorization', 'header', 'string', NULL)]::orders.api_parameter[],
	description = 'POST /api/v1/auth/token: a short-lived HS256 access token {access_token, token_type, expires_in, expires_at} for X-API-Key + X-API-Secret, or by the OAuth 2.0 client-credentials grant (form body grant_type=client_credentials with client_id and client_secret, or HTTP Basic; scope orders; errors as RFC 6749 section 5.2)'
WHERE operation = 'token';

CREATE OR REPLACE FUNCTION orders.api_authenticate(p_headers jsonb) RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	key_id text := nullif(p_headers->>'x-api-key', '');
	secret text := nullif(p_headers->>'x-api-secret', '');
	auth_header text := nullif(p_headers->>'authorization', '');
	client bigint;
BEGIN
	-- Whoever an earlier request of this transaction authenticated, this
	-- one starts anonymous.
	PERFORM orders.clear_current_client();
	IF key_id IS NOT NULL OR secret IS NOT NULL THEN
		client := orders.authenticate_key(key_id, secret);
	ELSIF auth_header IS NOT NULL THEN
		IF auth_header ~* '^bearer +[^ ]+$' THEN
			client := orders.authenticate_token(substring(auth_header FROM '[^ ]+$'));
		ELSIF auth_header ~* '^basic( |$)' THEN
			-- OAuth 2.0 client credentials (RFC 6749 section 2.3.1): only
			-- the token endpoint reads them (orders.handle_token), and
			-- answers their failure the OAuth way.  Elsewhere the request
			-- is anonymous.
			RETURN NULL;
		END IF;
	ELSE
		RETURN NULL;
	END IF;
	IF client IS NULL THEN
		RETURN orders.api_unauthorized();
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.api_authenticate(jsonb) IS
'internal: authenticates a request from its headers (lower-case names: X-API-Key + X-API-Secret, or Authorization: Bearer); NULL when authenticated or anonymous (no credentials, or Authorization: Basic, which only the token endpoint reads), 401 on bad credentials';

CREATE FUNCTION orders.token_headers() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT '{"Cache-Control": "no-store", "Pragma": "no-cache"}'::jsonb
$$;
COMMENT ON FUNCTION orders.token_headers() IS
'internal: the headers of every answer of the token endpoint: Cache-Control: no-store, Pragma: no-cache (RFC 6749 section 5.1)';
REVOKE EXECUTE ON FUNCTION orders.token_headers() FROM PUBLIC;

CREATE FUNCTION orders.oauth_error(p_name text, p_description text DEFAULT NULL)
RETURNS orders.api_response
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT ROW(e.http_status,
			   orders.token_headers() || CASE WHEN e.http_status = 401
					THEN '{"WWW-Authenticate": "Basic realm=\"orders\", charset=\"UTF-8\""}'::jsonb
					ELSE '{}' END,
			   jsonb_build_object('error', e.error, 'error_description', coalesce(p_description, e.message)),
			   NULL)::orders.api_response
	FROM orders.error_catalog() e WHERE e.name = p_name
$$;
COMMENT ON FUNCTION orders.oauth_error(text, text) IS
'internal: an error answer of the OAuth 2.0 token request (RFC 6749 section 5.2) from the error catalog entry p_name: {"error", "error_description"}, no-store, and WWW-Authenticate: Basic on a 401';
REVOKE EXECUTE ON FUNCTION orders.oauth_error(text, text) FROM PUBLIC;

CREATE FUNCTION orders.basic_credentials(p_authorization text,
	OUT client_id text, OUT client_secret text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	pair text;
BEGIN
	IF p_authorization !~* '^basic +[A-Za-z0-9+/]+=*$' OR length(p_authorization) > 2048 THEN
		RETURN;
	END IF;
	BEGIN
		pair := convert_from(decode(substring(p_authorization FROM '[^ ]+$'), 'base64'), 'UTF8');
		IF pair !~ ':' THEN
			RETURN;
		END IF;
		client_id := orders.url_decode(split_part(pair, ':', 1));
		client_secret := orders.url_decode(substr(pair, strpos(pair, ':') + 1));
	EXCEPTION WHEN invalid_parameter_value OR character_not_in_repertoire OR untranslatable_character THEN
		client_id := NULL;	-- not base64, or not UTF-8
		client_secret := NULL;
	END;
END
$$;
COMMENT ON FUNCTION orders.basic_credentials(text) IS
'internal: the client_id and client_secret of an Authorization: Basic header (RFC 6749 section 2.3.1: each form-urlencoded); NULLs when it is not well-formed';
REVOKE EXECUTE ON FUNCTION orders.basic_credentials(text) FROM PUBLIC;

CREATE FUNCTION orders.oauth_client_credentials(p_grant_type text, p_client_id text,
	p_client_secret text, p_scope text, p_authorization text, p_other_credentials boolean)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	basic boolean := coalesce(p_authorization ~* '^basic( |$)', false);
	creds record;
	client bigint;
	limited orders.api_response;
BEGIN
	IF p_grant_type IS NULL OR p_grant_type = '' THEN
		RETURN orders.oauth_error('oauth_invalid_request', 'grant_type: is required (client_credentials)');
	ELSIF p_grant_type <> 'client_credentials' THEN
		RETURN orders.oauth_error('oauth_unsupported_grant_type',
			format('grant_type: only client_credentials is supported, got "%s"', left(p_grant_type, 40)));
	ELSIF p_other_credentials OR (basic AND (p_client_id IS NOT NULL OR p_client_secret IS NOT NULL)) THEN
		RETURN orders.oauth_error('oauth_invalid_request',
			'use one client authentication method: client_id and client_secret in the body, or HTTP Basic');
	END IF;
	IF basic THEN
		creds := orders.basic_credentials(p_authorization);
	ELSE
		SELECT p_client_id AS client_id, p_client_secret AS client_secret INTO creds;
	END IF;
	IF creds.client_id IS NULL OR creds.client_secret IS NULL THEN
		RETURN orders.oauth_error('oauth_invalid_client', CASE WHEN basic
			THEN 'Authorization: Basic: not base64 of client_id:client_secret'
			ELSE 'client_id and client_secret (or HTTP Basic) are required' END);
	END IF;
	-- The one scope: the whole API.  Unknown scopes are refused rather
	-- than silently narrowed (RFC 6749 section 3.3).
	IF EXISTS (SELECT 1 FROM regexp_split_to_table(btrim(coalesce(p_scope, '')), ' +') s
			   WHERE s NOT IN ('', 'orders')) THEN
		RETURN orders.oauth_error('oauth_invalid_scope',
			format('scope: the only scope is "orders", got "%s"', left(p_scope, 60)));
	END IF;
	client := orders.authenticate_key(creds.client_id, creds.client_secret);
	IF client IS NULL THEN
		RETURN orders.oauth_error('oauth_invalid_client');
	END IF;
	-- Counted against the client's limits, as a request authenticated by
	-- its key in the headers is before its handler runs.
	limited := orders.api_rate_limit('client', client);
	IF limited.status IS NOT NULL THEN
		RETURN limited;
	END IF;
	RETURN orders.api_ok(orders.issue_access_token(client, orders.current_api_key_id())
						 || '{"scope": "orders"}', 200, orders.token_headers());
END
$$;
COMMENT ON FUNCTION orders.oauth_client_credentials(text, text, text, text, text, boolean) IS
'internal: the OAuth 2.0 client-credentials grant (RFC 6749 section 4.4): an API key as client (client_id / client_secret in the body, or HTTP Basic), scope "orders"; the access token answer of section 5.1 or an error of section 5.2';
REVOKE EXECUTE ON FUNCTION orders.oauth_client_credentials(text, text, text, text, text, boolean) FROM PUBLIC;

DROP FUNCTION orders.handle_token(bigint, bigint);
CREATE FUNCTION orders.handle_token(p_client bigint, p_api_key_id bigint, p_grant_type text,
	p_client_id text, p_client_secret text, p_scope text, p_authorization text)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
BEGIN
	IF p_grant_type IS NOT NULL OR p_client_id IS NOT NULL OR p_client_secret IS NOT NULL
		OR p_scope IS NOT NULL OR p_authorization ~* '^basic( |$)' THEN
		RETURN orders.oauth_client_credentials(p_grant_type, p_client_id, p_client_secret, p_scope,
											   p_authorization, p_client IS NOT NULL);
	END IF;
	IF p_api_key_id IS NULL THEN
		RETURN orders.api_unauthorized();
	END IF;
	RETURN orders.api_ok(orders.issue_access_token(p_client, p_api_key_id), 200, orders.token_headers());
END
$$;
COMMENT ON FUNCTION orders.handle_token(bigint, bigint, text, text, text, text, text) IS
'internal: POST /api/v1/auth/token: a short-lived HS256 access token {access_token, token_type, expires_in, expires_at} for the API key of X-API-Key + X-API-Secret, or by the OAuth 2.0 client-credentials grant (form body grant_type=client_credentials, client_id / client_secret or HTTP Basic; RFC 6749 errors)';
REVOKE EXECUTE ON FUNCTION orders.handle_token(bigint, bigint, text, text, text, text, text) FROM PUBLIC;

CREATE FUNCTION orders.is_form_content_type(p_content_type text) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT coalesce(lower(btrim(split_part(p_content_type, ';', 1), E' \t')) = 'application/x-www-form-urlencoded', false)
$$;
COMMENT ON FUNCTION orders.is_form_content_type(text) IS
'internal: whether a Content-Type is application/x-www-form-urlencoded (any case, parameters ignored)';
REVOKE EXECUTE ON FUNCTION orders.is_form_content_type(text) FROM PUBLIC;

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
REVOKE EXECUTE ON FUNCTION orders.form_params(text) FROM PUBLIC;

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
REVOKE EXECUTE ON FUNCTION orders.postgrest_header(text) FROM PUBLIC;

DROP FUNCTION api.token();
CREATE FUNCTION api.token(grant_type text DEFAULT NULL, client_id text DEFAULT NULL, client_secret text DEFAULT NULL, scope text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $body$
	SELECT orders.postgrest_reply('token', orders.api_call('token', orders.current_client_id(),
		orders.current_api_key_id(), orders.current_auth_method(), jsonb_build_object('authorization', orders.postgrest_header('authorization')), jsonb_build_object('grant_type', grant_type, 'client_id', client_id, 'client_secret', client_secret, 'scope', scope)))
$body$;
COMMENT ON FUNCTION api.token(text, text, text, text) IS 'POST /api/v1/auth/token: a short-lived HS256 access token {access_token, token_type, expires_in, expires_at} for X-API-Key + X-API-Secret, or by the OAuth 2.0 client-credentials grant (form body grant_type=client_credentials with client_id and client_secret, or HTTP Basic; scope orders; errors as RFC 6749 section 5.2)';
REVOKE EXECUTE ON FUNCTION api.token(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.token(text, text, text, text) TO orders_api;

-- pg_dump keeps the rows an operator adds to the configuration tables
-- (the catalog, exchange rates, sandbox scenarios, currencies and routes
-- beyond the shipped ones; docs/releases.md), and a dump restores: the
-- server secrets it carries replace the ones CREATE EXTENSION made.
-- The rows the scripts ship name their release (shipped_in), so that the
-- dumps' conditions need no list of them; 1.0 shipped these.
ALTER TABLE orders.currencies ADD COLUMN shipped_in text CHECK (shipped_in ~ '^[0-9]+\.[0-9]+$');
UPDATE orders.currencies SET shipped_in = '1.0'
WHERE code IN ('USD', 'EUR', 'GBP', 'INR', 'AED', 'AUD', 'CAD', 'CHF', 'CNY', 'HKD', 'SGD', 'SEK',
			   'NOK', 'DKK', 'PLN', 'BRL', 'MXN', 'ZAR', 'NZD', 'SAR', 'THB', 'PHP', 'MYR', 'IDR',
			   'TRY', 'JPY', 'KRW', 'VND', 'CLP', 'HUF');
ALTER TABLE orders.api_operations ADD COLUMN shipped_in text CHECK (shipped_in ~ '^[0-9]+\.[0-9]+$');
UPDATE orders.api_operations SET shipped_in = '1.0'
WHERE operation IN ('create_order', 'list_orders', 'order_details', 'products', 'charges', 'token', 'health');
SELECT pg_catalog.pg_extension_config_dump('orders.currencies', 'WHERE shipped_in IS NULL');
SELECT pg_catalog.pg_extension_config_dump('orders.products', '');
SELECT pg_catalog.pg_extension_config_dump('orders.fx_rates', '');
SELECT pg_catalog.pg_extension_config_dump('orders.sandbox_vendor_scenarios', '');
-- The identity sequences of the configuration tables of 1.0: without them
-- a restored database numbers new API keys and audit rows from 1 again.
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('orders.api_keys', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('orders.api_audit', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump('orders.api_operations', 'WHERE shipped_in IS NULL');

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
REVOKE EXECUTE ON FUNCTION orders.server_secret_restore() FROM PUBLIC;


-- Issue 13: webhooks (issue 13, docs/webhooks.md): endpoints, events from the outbox,
-- the delivery queue and the delivery daemon's contract (schema/05_roles.sql,
-- 66_maintenance.sql, 68_webhooks.sql, 69_webhook_delivery.sql,
-- 80_api_framework.sql, 84_api_webhooks.sql, 85_api_dispatch.sql, 96_api_security.sql).

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'orders_webhook_sender') THEN
		CREATE ROLE orders_webhook_sender NOLOGIN NOINHERIT;
	END IF;
END $$;

-- Webhooks (issue 13, docs/webhooks.md): a client's endpoints, the events
-- produced for them from the outbox and the deliveries of those events,
-- with every attempt.  Delivery itself (HTTP) is a daemon outside the
-- backend; it reaches the queue through two functions only
-- (schema/69_webhook_delivery.sql).  The API of the endpoints is
-- schema/84_api_webhooks.sql.

-- The operator's settings (src/webhook_settings.c).
CREATE FUNCTION orders.webhook_policy(OUT secret_grace interval, OUT disable_after interval,
	OUT allow_private_addresses boolean, OUT retry_schedule text)
	AS 'MODULE_PATHNAME', 'webhook_policy' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.webhook_policy() IS
'the webhook settings: orders.webhook_secret_grace, orders.webhook_disable_after, orders.webhook_allow_private_addresses, orders.webhook_retry_schedule (text; parsed by orders.webhook_retry_delays())';

CREATE FUNCTION orders.webhook_retry_delays() RETURNS interval[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	schedule text := (orders.webhook_policy()).retry_schedule;
	delays interval[];
BEGIN
	BEGIN
		SELECT coalesce(array_agg(btrim(d)::interval ORDER BY n), '{}') INTO delays
		FROM unnest(string_to_array(schedule, ',')) WITH ORDINALITY AS t(d, n)
		WHERE btrim(d) <> '';
	EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
		RAISE EXCEPTION 'orders.webhook_retry_schedule is not a comma-separated list of intervals'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'For example: 5 seconds, 5 minutes, 30 minutes, 2 hours.';
	END;
	IF EXISTS (SELECT 1 FROM unnest(delays) d WHERE d < interval '0') THEN
		RAISE EXCEPTION 'orders.webhook_retry_schedule has a negative interval'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN delays;
END
$$;
COMMENT ON FUNCTION orders.webhook_retry_delays() IS
'the delays before retry 1, 2, ... of a failed webhook delivery (orders.webhook_retry_schedule); after the last the delivery is given up';

-- Signing secrets and signatures (src/webhook_signature.c).
CREATE FUNCTION orders.webhook_new_secret() RETURNS text
	AS 'MODULE_PATHNAME', 'webhook_new_secret' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION orders.webhook_new_secret() IS
'a new webhook signing secret: whsec_ and the base64 of 32 random bytes (owner only)';

CREATE FUNCTION orders.webhook_sign(p_secrets text[], p_msg_id text, p_timestamp bigint, p_body text)
RETURNS text
	AS 'MODULE_PATHNAME', 'webhook_sign' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.webhook_sign(text[], text, bigint, text) IS
'the Standard Webhooks signature header of a message: "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" per secret (NULLs skipped), space-separated; key = base64-decoded part after whsec_ (owner only)';

-- The event types a client may subscribe to: every outbox event, the
-- top-up recharge events derived from them (schema/69_webhook_delivery.sql),
-- the test event and the endpoint's own disabling.
CREATE FUNCTION orders.webhook_event_types() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT ARRAY['order.placed', 'order.pending', 'order.processing', 'order.delivered',
				 'order.partially_delivered', 'order.failed', 'order.cancelled', 'order.refunded',
				 'recharge.submitted', 'recharge.succeeded', 'recharge.failed',
				 'webhook.test', 'endpoint.disabled']
$$;
COMMENT ON FUNCTION orders.webhook_event_types() IS
'the webhook event types: the order events of the outbox, recharge.submitted / succeeded / failed (top-up orders), webhook.test and endpoint.disabled (always sent, never subscribed)';

CREATE TABLE orders.webhook_endpoints (
	client_id	bigint NOT NULL REFERENCES orders.clients,
	id			bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
	url			text NOT NULL CHECK (length(url) <= 2000),
	event_types	text[] NOT NULL CHECK (cardinality(event_types) > 0),
	description	text CHECK (length(description) <= 500),
	-- vault ciphertexts (row id = id) of the whsec_ secret, field
	-- webhook_secret, and of the one it replaced, field
	-- webhook_previous_secret, which signs too until previous_secret_until
	secret		bytea,
	previous_secret bytea,
	previous_secret_until timestamptz,
	-- since when every delivery failed (NULL: the last one succeeded)
	failing_since timestamptz,
	disabled_at	timestamptz,
	disabled_reason text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	-- deleted: kept for the deliveries' history, secrets wiped
	deleted_at	timestamptz,
	CHECK ((deleted_at IS NULL) = (secret IS NOT NULL)),
	CHECK ((previous_secret IS NULL) = (previous_secret_until IS NULL)),
	CHECK ((disabled_at IS NULL) = (disabled_reason IS NULL))
);
CREATE INDEX webhook_endpoints_client ON orders.webhook_endpoints (client_id, id)
	WHERE deleted_at IS NULL;
COMMENT ON TABLE orders.webhook_endpoints IS
'a client''s webhook endpoints: URL, subscribed event types, vault-encrypted signing secrets (current, and previous during the grace period), disabling and deletion';

-- One event for a client: the exact body sent to every endpoint that
-- subscribed (endpoint_id NULL), or to one endpoint (webhook.test,
-- endpoint.disabled).  msg_id is the webhook-id, stable across retries.
CREATE TABLE orders.webhook_events (
	client_id	bigint NOT NULL REFERENCES orders.clients,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	msg_id		text NOT NULL UNIQUE CHECK (msg_id ~ '^msg_[0-9a-f]{32}$'),
	type		text NOT NULL,
	order_id	bigint REFERENCES orders.orders,
	endpoint_id	bigint REFERENCES orders.webhook_endpoints,
	-- the outbox row it came from (no foreign key: the outbox refuses
	-- TRUNCATE itself, with its own error)
	order_event_id bigint,
	body		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE orders.webhook_events IS
'webhook events of a client: type, the order it concerns, the exact JSON body sent, msg_id (the webhook-id header, stable across retries)';

-- A delivery of an event to an endpoint.  pending until it succeeded
-- (a 2xx), failed (given up after the retry schedule) or dropped (its
-- endpoint deleted).  A pending delivery is due at next_attempt_at and
-- free unless a sender's lease on it still runs.  attempt: how many
-- attempts were claimed.
CREATE TABLE orders.webhook_deliveries (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	endpoint_id	bigint NOT NULL REFERENCES orders.webhook_endpoints,
	event_id	bigint NOT NULL REFERENCES orders.webhook_events,
	order_id	bigint,
	status		text NOT NULL DEFAULT 'pending'
				CHECK (status IN ('pending', 'succeeded', 'failed', 'dropped')),
	attempt		integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	leased_by	text,
	lease_until	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now(),
	completed_at timestamptz,
	UNIQUE (endpoint_id, event_id),
	CHECK ((status = 'pending') = (completed_at IS NULL)),
	CHECK ((leased_by IS NULL) = (lease_until IS NULL))
);
CREATE INDEX webhook_deliveries_due ON orders.webhook_deliveries (next_attempt_at, id)
	WHERE status = 'pending';
-- The ordering rule: the pending deliveries of one (endpoint, order).
CREATE INDEX webhook_deliveries_pending_order ON orders.webhook_deliveries (endpoint_id, order_id, id)
	WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON orders.webhook_deliveries (endpoint_id, id);
COMMENT ON TABLE orders.webhook_deliveries IS
'a webhook event to deliver to an endpoint: pending (due at next_attempt_at, leased by a sender or free), succeeded, failed (given up) or dropped (endpoint deleted); attempt = attempts claimed';

-- Every attempt: claimed by a sender, then reported (a lease that ran out
-- leaves an attempt without report).
CREATE TABLE orders.webhook_attempts (
	client_id	bigint NOT NULL,
	delivery_id	bigint NOT NULL REFERENCES orders.webhook_deliveries,
	attempt		integer NOT NULL CHECK (attempt > 0),
	sender		text NOT NULL,
	started_at	timestamptz NOT NULL DEFAULT now(),
	finished_at	timestamptz,
	http_status	integer CHECK (http_status BETWEEN 100 AND 599),
	latency_ms	integer CHECK (latency_ms >= 0),
	error		text CHECK (length(error) <= 300),
	PRIMARY KEY (delivery_id, attempt)
);
COMMENT ON TABLE orders.webhook_attempts IS
'every attempt of a webhook delivery: sender, when, HTTP status (NULL: no HTTP answer), latency, short error';

-- URL validation at registration.  Only http and https, no credentials,
-- a host; a host that is an address literal (or localhost) in a loopback,
-- private, link-local, CGNAT or metadata range is refused unless
-- orders.webhook_allow_private_addresses is on.  Names are checked where
-- they resolve: the daemon re-checks the addresses it connects to.
-- Returns NULL for a good URL, else what is wrong with it.
CREATE FUNCTION orders.webhook_url_problem(p_url text, p_allow_private boolean) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
DECLARE
	parts text[];
	authority text;
	host text;
	port text;
	addr inet;
BEGIN
	IF p_url IS NULL OR btrim(p_url) = '' THEN
		RETURN 'is required';
	ELSIF length(p_url) > 2000 THEN
		RETURN 'must be at most 2000 characters';
	ELSIF p_url ~ '[[:space:][:cntrl:]]' THEN
		RETURN 'must not contain spaces or control characters';
	END IF;
	parts := regexp_match(p_url, '^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([/?#].*)?$');
	IF parts IS NULL THEN
		RETURN 'must be an absolute http or https URL';
	ELSIF lower(parts[1]) NOT IN ('http', 'https') THEN
		RETURN 'must use http or https';
	END IF;
	authority := parts[2];
	IF position('@' IN authority) > 0 THEN
		RETURN 'must not contain credentials';
	END IF;
	IF authority ~ '^\[' THEN
		parts := regexp_match(authority, '^\[([0-9A-Fa-f:.]+)\](:([0-9]*))?$');
	ELSE
		parts := regexp_match(authority, '^([^:]*)(:([0-9]*))?$');
	END IF;
	IF parts IS NULL OR parts[1] = '' THEN
		RETURN 'must have a valid host';
	END IF;
	host := lower(rtrim(parts[1], '.'));
	port := parts[3];
	IF port IS NOT NULL AND port <> '' AND (length(port) > 5 OR port::integer NOT BETWEEN 1 AND 65535) THEN
		RETURN 'must have a port between 1 and 65535';
	END IF;
	IF authority ~ '^\[' OR host ~ '^[0-9]{1,3}(\.[0-9]{1,3}){3}$' THEN
		BEGIN
			addr := host::inet;
		EXCEPTION WHEN invalid_text_representation THEN
			RETURN 'must have a valid host';
		END;
	ELSIF host ~ '^[0-9.]+$' OR host ~ '^0x' OR host !~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$' THEN
		-- decimal, octal or hex address forms, or not a host name
		RETURN 'must have a valid host';
	END IF;
	IF p_allow_private THEN
		RETURN NULL;
	END IF;
	IF host = 'localhost' OR host LIKE '%.localhost' OR host = 'metadata.google.internal' THEN
		RETURN 'must not point to a loopback, private, link-local or metadata address';
	END IF;
	IF addr IS NOT NULL THEN
		-- an IPv4-mapped IPv6 address is checked as the IPv4 one
		IF family(addr) = 6 AND addr << '::ffff:0:0/96'::inet THEN
			addr := regexp_replace(host(addr), '^::ffff:', '')::inet;
		END IF;
		IF addr << ANY (ARRAY['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8',
							  '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.168.0.0/16',
							  '198.18.0.0/15', '224.0.0.0/3',
							  '::/128', '::1/128', 'fc00::/7', 'fe80::/10', 'ff00::/8']::inet[])
		   OR addr = ANY (ARRAY['0.0.0.0', '::', '::1']::inet[]) THEN
			RETURN 'must not point to a loopback, private, link-local or metadata address';
		END IF;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.webhook_url_problem(text, boolean) IS
'what is wrong with a webhook URL (NULL: nothing): http/https only, no credentials, a valid host and port; a loopback, private, link-local or metadata address literal refused unless p_allow_private';

REVOKE EXECUTE ON FUNCTION
	orders.webhook_policy(),
	orders.webhook_retry_delays(),
	orders.webhook_new_secret(),
	orders.webhook_sign(text[], text, bigint, text),
	orders.webhook_event_types(),
	orders.webhook_url_problem(text, boolean)
FROM PUBLIC;

-- Webhook delivery (issue 13, docs/webhooks.md): events from the outbox,
-- and the contract of the delivery daemon.  The daemon (a program outside
-- the backend: a crash or hang in HTTP code never touches PostgreSQL) logs
-- in with a role granted orders_webhook_sender, which may execute two
-- functions only:
--   orders.webhook_claim   due deliveries, leased, each with everything to
--                          send (URL, headers, exact body), signed here so
--                          that the daemon never holds a secret;
--   orders.webhook_report  the result of one attempt.
-- It polls (every second by default) and listens on channel
-- orders_webhooks, which maintenance notifies after its own commit.

-- Events from the outbox.  orders.order_events is written in the status
-- change's own transaction; turning its rows into webhook events adds
-- nothing to that transaction.  Its unacknowledged rows are taken in id
-- order and acknowledged here: a row of a transaction that committed out
-- of id order is still unacknowledged when it becomes visible, so it is
-- taken by a later round, never skipped.  Per order, seq n+1 is written
-- only after seq n committed (the order's row lock), so per order the
-- events (and deliveries) are created in seq order.

-- The order as GET /api/v1/orders/{id} shows it, without vouchers (codes,
-- PINs, URLs: the client fetches them through the audited details call).
CREATE FUNCTION orders.webhook_order_json(o orders.orders) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT orders.order_common_json(o) || jsonb_build_object('discount', orders.money_text(o.order_discount))
$$;
COMMENT ON FUNCTION orders.webhook_order_json(orders.orders) IS
'the order of a webhook event: as order details (reference 002) show it, without vouchers';

-- The recharge event a top-up order's status change announces, if any.
CREATE FUNCTION orders.webhook_recharge_event(p_kind text, p_status orders.order_status,
	p_sub_status orders.order_sub_status) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, orders AS $$
	SELECT CASE WHEN p_kind = 'TOPUP' THEN
		CASE WHEN p_status = 'PROCESSING' AND p_sub_status = 'VENDOR_ORDER_CREATED' THEN 'recharge.submitted'
			 WHEN p_status IN ('DELIVERED', 'PARTIALLY_DELIVERED') THEN 'recharge.succeeded'
			 WHEN p_status = 'FAILED' THEN 'recharge.failed' END END
$$;
COMMENT ON FUNCTION orders.webhook_recharge_event(text, orders.order_status, orders.order_sub_status) IS
'the recharge event of a top-up order entering a status: recharge.submitted (submitted to the operator), recharge.succeeded, recharge.failed; NULL otherwise';

CREATE FUNCTION orders.webhook_body(p_msg_id text, p_type text, p_at timestamptz, p_data jsonb)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT jsonb_build_object('id', p_msg_id, 'type', p_type,
							  'timestamp', orders.rfc3339(p_at), 'data', p_data)::text
$$;
COMMENT ON FUNCTION orders.webhook_body(text, text, timestamptz, jsonb) IS
'the JSON body of a webhook event: {"id": msg_id, "type", "timestamp" (RFC 3339), "data"}';

CREATE FUNCTION orders.webhook_new_msg_id() RETURNS text
LANGUAGE sql VOLATILE SET search_path = pg_catalog AS $$
	SELECT 'msg_' || replace(gen_random_uuid()::text, '-', '')
$$;
COMMENT ON FUNCTION orders.webhook_new_msg_id() IS
'a new webhook message id (the webhook-id header): msg_ and 32 random hex digits';

-- Turns up to p_limit unacknowledged outbox rows into webhook events and
-- deliveries (for the endpoints subscribed to them) and acknowledges them.
-- One caller at a time (an advisory lock; another caller returns 0 at
-- once).  Returns the number of deliveries created.
CREATE FUNCTION orders.webhook_enqueue(p_limit integer DEFAULT 1000) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	created integer;
BEGIN
	-- the key: 'orders.webhook_enqueue' as two int4 (arbitrary, fixed)
	IF NOT pg_try_advisory_xact_lock(1869770099, 1751474795) THEN
		RETURN 0;
	END IF;
	WITH ev AS (
		SELECT e.id, e.client_id, e.order_id, e.event, e.status, e.sub_status, e.created_at
		FROM orders.order_events e
		WHERE e.acknowledged_at IS NULL
		ORDER BY e.id
		LIMIT p_limit
		FOR UPDATE
	), acked AS (
		UPDATE orders.order_events e SET acknowledged_at = now()
		FROM ev WHERE e.id = ev.id
		RETURNING e.id
	), typed AS (
		SELECT ev.id AS order_event_id, ev.client_id, ev.order_id, ev.created_at, t.n, t.type,
			   orders.webhook_order_json(o) || jsonb_build_object('status', ev.status) AS data,
			   orders.webhook_new_msg_id() AS msg_id
		FROM ev
		JOIN orders.orders o ON o.id = ev.order_id
		JOIN orders.products p ON p.id = o.product_id
		CROSS JOIN LATERAL (VALUES (1, ev.event),
			(2, orders.webhook_recharge_event(p.kind, ev.status, ev.sub_status))) AS t(n, type)
		WHERE t.type IS NOT NULL
		  AND EXISTS (SELECT 1 FROM orders.webhook_endpoints w
					  WHERE w.client_id = ev.client_id AND w.deleted_at IS NULL
						AND w.disabled_at IS NULL AND t.type = ANY (w.event_types)
						AND w.created_at <= ev.created_at)
	), made AS (
		INSERT INTO orders.webhook_events (client_id, msg_id, type, order_id, order_event_id, body, created_at)
		SELECT typed.client_id, typed.msg_id, typed.type, typed.order_id, typed.order_event_id,
			   orders.webhook_body(typed.msg_id, typed.type, typed.created_at, typed.data), typed.created_at
		FROM typed
		ORDER BY typed.order_event_id, typed.n
		RETURNING id, client_id, type, order_id, created_at
	)
	-- An endpoint gets the events that happen once it exists, not those
	-- still waiting in the outbox from before it was registered.
	INSERT INTO orders.webhook_deliveries (client_id, endpoint_id, event_id, order_id)
	SELECT made.client_id, w.id, made.id, made.order_id
	FROM made
	JOIN orders.webhook_endpoints w
		ON w.client_id = made.client_id AND w.deleted_at IS NULL AND w.disabled_at IS NULL
		AND made.type = ANY (w.event_types) AND w.created_at <= made.created_at
	ORDER BY made.id, w.id;
	GET DIAGNOSTICS created = ROW_COUNT;
	RETURN created;
END
$$;
COMMENT ON FUNCTION orders.webhook_enqueue(integer) IS
'turns up to p_limit unacknowledged outbox events (in id order) into webhook events and deliveries for the enabled endpoints subscribed to them, and acknowledges them; one caller at a time; returns the deliveries created';

-- An event for one endpoint (webhook.test, endpoint.disabled), delivered
-- outside any order's sequence.  Returns the delivery's id.
CREATE FUNCTION orders.webhook_endpoint_event(p_endpoint orders.webhook_endpoints, p_type text, p_data jsonb)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	msg text := orders.webhook_new_msg_id();
	ev bigint;
	delivery bigint;
BEGIN
	INSERT INTO orders.webhook_events (client_id, msg_id, type, endpoint_id, body)
	VALUES (p_endpoint.client_id, msg, p_type, p_endpoint.id, orders.webhook_body(msg, p_type, now(), p_data))
	RETURNING id INTO ev;
	INSERT INTO orders.webhook_deliveries (client_id, endpoint_id, event_id)
	VALUES (p_endpoint.client_id, p_endpoint.id, ev)
	RETURNING id INTO delivery;
	RETURN delivery;
END
$$;
COMMENT ON FUNCTION orders.webhook_endpoint_event(orders.webhook_endpoints, text, jsonb) IS
'queues an event of one endpoint (webhook.test, endpoint.disabled) outside any order''s sequence; returns its delivery id';

-- The daemon's claim.
CREATE FUNCTION orders.webhook_claim(p_sender text, p_max integer DEFAULT 16,
	p_lease interval DEFAULT '60 seconds')
RETURNS TABLE (delivery_id bigint, attempt integer, url text, webhook_id text,
	webhook_timestamp bigint, webhook_signature text, body text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
#variable_conflict use_column
DECLARE
	max_attempts integer := cardinality(orders.webhook_retry_delays()) + 1;
	ts bigint := floor(extract(epoch FROM now()))::bigint;
	claimed_ids bigint[];
	r record;
	signature text;
BEGIN
	IF p_sender IS NULL OR length(p_sender) NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'sender must be 1 to 100 characters' USING ERRCODE = 'invalid_parameter_value';
	ELSIF p_max IS NULL OR p_max NOT BETWEEN 1 AND 1000 THEN
		RAISE EXCEPTION 'max must be between 1 and 1000, not %', coalesce(p_max::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	ELSIF p_lease IS NULL OR p_lease NOT BETWEEN interval '1 second' AND interval '1 hour' THEN
		RAISE EXCEPTION 'lease must be between 1 second and 1 hour, not %', coalesce(p_lease::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	PERFORM orders.webhook_enqueue();

	-- A lease that ran out on the last allowed attempt (the sender died
	-- with it): given up, like a failed last attempt.
	WITH lost AS (
		SELECT d.id FROM orders.webhook_deliveries d
		WHERE d.status = 'pending' AND d.lease_until <= now() AND d.attempt >= max_attempts
		FOR UPDATE SKIP LOCKED
	)
	UPDATE orders.webhook_deliveries d
	SET status = 'failed', completed_at = now(), leased_by = NULL, lease_until = NULL
	FROM lost WHERE d.id = lost.id;

	WITH due AS (
		SELECT d.id
		FROM orders.webhook_deliveries d
		JOIN orders.webhook_endpoints w ON w.id = d.endpoint_id
		WHERE d.status = 'pending' AND d.next_attempt_at <= now()
		  AND (d.lease_until IS NULL OR d.lease_until <= now())
		  AND w.deleted_at IS NULL AND w.disabled_at IS NULL
		  -- for one (endpoint, order), after every earlier delivery ended
		  AND (d.order_id IS NULL OR NOT EXISTS (
				SELECT 1 FROM orders.webhook_deliveries e
				WHERE e.endpoint_id = d.endpoint_id AND e.order_id = d.order_id
				  AND e.id < d.id AND e.status = 'pending'))
		ORDER BY d.next_attempt_at, d.id
		LIMIT p_max
		FOR UPDATE OF d SKIP LOCKED
	), claimed AS (
		UPDATE orders.webhook_deliveries d
		SET attempt = d.attempt + 1, leased_by = p_sender, lease_until = now() + p_lease
		FROM due WHERE d.id = due.id
		RETURNING d.id, d.client_id, d.attempt
	), attempts AS (
		INSERT INTO orders.webhook_attempts (client_id, delivery_id, attempt, sender)
		SELECT c.client_id, c.id, c.attempt, p_sender FROM claimed c
	)
	SELECT coalesce(array_agg(c.id), '{}') INTO claimed_ids FROM claimed c;

	FOR r IN
		SELECT d.id, d.attempt, d.endpoint_id, w.url, w.secret, w.previous_secret,
			   w.previous_secret_until, ev.msg_id, ev.body
		FROM orders.webhook_deliveries d
		JOIN orders.webhook_endpoints w ON w.id = d.endpoint_id
		JOIN orders.webhook_events ev ON ev.id = d.event_id
		WHERE d.id = ANY (claimed_ids)
		ORDER BY d.id
	LOOP
		-- A secret that cannot be decrypted (its vault key left the key
		-- file, a damaged row) fails that attempt, not the whole claim.
		BEGIN
			signature := orders.webhook_sign(ARRAY[
					orders.vault_decrypt(r.secret, r.endpoint_id, 'webhook_secret'),
					CASE WHEN r.previous_secret_until > now() THEN
						orders.vault_decrypt(r.previous_secret, r.endpoint_id, 'webhook_previous_secret') END],
				r.msg_id, ts, r.body);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'webhook endpoint %: a message could not be signed (SQLSTATE %); its delivery is retried on schedule',
				r.endpoint_id, SQLSTATE;
			PERFORM orders.webhook_report(r.id, r.attempt, NULL, NULL,
				format('not sent: the message could not be signed (SQLSTATE %s)', SQLSTATE));
			CONTINUE;
		END;
		delivery_id := r.id;
		attempt := r.attempt;
		url := r.url;
		webhook_id := r.msg_id;
		webhook_timestamp := ts;
		webhook_signature := signature;
		body := r.body;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION orders.webhook_claim(text, integer, interval) IS
'delivery daemon: first queues new outbox events, then leases up to p_max due deliveries (FOR UPDATE SKIP LOCKED; enabled endpoints only; per endpoint and order only after every earlier delivery succeeded or was given up or dropped; an expired lease is claimable again) for p_lease, counts the attempt and returns what to POST: url, the webhook-id, webhook-timestamp and webhook-signature headers, and the exact body; a message that cannot be signed (its secret undecryptable) is not returned, its attempt reported failed';

-- A failed attempt of an endpoint: it has been failing since the first
-- failure after its last success; past orders.webhook_disable_after it is
-- disabled, with an endpoint.disabled event for the client.  Only a first
-- failure or the disabling writes the endpoint's row (no hot row).
CREATE FUNCTION orders.webhook_endpoint_failed(p_endpoint_id bigint, p_since timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints;
	disable_after interval := (orders.webhook_policy()).disable_after;
BEGIN
	UPDATE orders.webhook_endpoints SET failing_since = p_since
	WHERE id = p_endpoint_id AND failing_since IS NULL;
	UPDATE orders.webhook_endpoints
	SET disabled_at = now(), updated_at = now(),
		disabled_reason = format('every delivery failed since %s (longer than %s s)',
								 orders.rfc3339(failing_since), extract(epoch FROM disable_after)::bigint)
	WHERE id = p_endpoint_id AND failing_since < now() - disable_after
	  AND disabled_at IS NULL AND deleted_at IS NULL
	RETURNING * INTO w;
	IF FOUND THEN
		PERFORM orders.webhook_endpoint_event(w, 'endpoint.disabled',
			jsonb_build_object('endpointId', w.id::text, 'disabledAt', orders.rfc3339(w.disabled_at),
							   'disabledReason', w.disabled_reason));
	END IF;
END
$$;
COMMENT ON FUNCTION orders.webhook_endpoint_failed(bigint, timestamptz) IS
'records a failed attempt of an endpoint: failing since the first failure after its last success; disabled past orders.webhook_disable_after, with an endpoint.disabled event';

CREATE FUNCTION orders.webhook_report(p_delivery_id bigint, p_attempt integer,
	p_http_status integer, p_latency_ms integer, p_error text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	d orders.webhook_deliveries;
	delays interval[];
	started timestamptz;
BEGIN
	IF p_delivery_id IS NULL OR p_attempt IS NULL THEN
		RAISE EXCEPTION 'delivery id and attempt are required' USING ERRCODE = 'invalid_parameter_value';
	ELSIF p_http_status NOT BETWEEN 100 AND 599 THEN
		RAISE EXCEPTION 'http status must be between 100 and 599 (NULL: no HTTP answer), not %', p_http_status
			USING ERRCODE = 'invalid_parameter_value';
	ELSIF p_latency_ms < 0 THEN
		RAISE EXCEPTION 'latency must be >= 0 ms, not %', p_latency_ms USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO d FROM orders.webhook_deliveries WHERE id = p_delivery_id FOR UPDATE;
	-- Not the current attempt (its lease was lost and the delivery claimed
	-- again), already reported, or ended: ignored.
	IF NOT FOUND OR d.status <> 'pending' OR d.attempt <> p_attempt OR d.leased_by IS NULL THEN
		RETURN;
	END IF;
	UPDATE orders.webhook_attempts
	SET finished_at = now(), http_status = p_http_status, latency_ms = p_latency_ms,
		error = left(regexp_replace(p_error, '[[:cntrl:]]', ' ', 'g'), 300)
	WHERE delivery_id = d.id AND attempt = d.attempt
	RETURNING started_at INTO started;

	IF p_http_status BETWEEN 200 AND 299 THEN
		UPDATE orders.webhook_deliveries
		SET status = 'succeeded', completed_at = now(), leased_by = NULL, lease_until = NULL
		WHERE id = d.id;
		UPDATE orders.webhook_endpoints SET failing_since = NULL
		WHERE id = d.endpoint_id AND failing_since IS NOT NULL;
		RETURN;
	END IF;

	delays := orders.webhook_retry_delays();
	IF d.attempt <= cardinality(delays) THEN
		-- the schedule's delay, with +-10 % jitter (senders do not retry in step)
		UPDATE orders.webhook_deliveries
		SET next_attempt_at = now() + delays[d.attempt] * (0.9 + 0.2 * random()),
			leased_by = NULL, lease_until = NULL
		WHERE id = d.id;
	ELSE
		UPDATE orders.webhook_deliveries
		SET status = 'failed', completed_at = now(), leased_by = NULL, lease_until = NULL
		WHERE id = d.id;
	END IF;
	PERFORM orders.webhook_endpoint_failed(d.endpoint_id, coalesce(started, now()));
END
$$;
COMMENT ON FUNCTION orders.webhook_report(bigint, integer, integer, integer, text) IS
'delivery daemon: the result of attempt p_attempt of a delivery (p_http_status NULL: no HTTP answer; p_error a short reason, no secrets); 2xx succeeds, anything else is retried after the next delay of orders.webhook_retry_schedule (+-10 % jitter) or given up after the last; a report of an attempt that is not the current one is ignored';

-- Waking the daemons: after maintenance's commit, when deliveries are due
-- or outbox events wait to be turned into deliveries.  Never in an
-- order's transaction.
CREATE FUNCTION orders.webhook_announce() RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM orders.order_events e WHERE e.acknowledged_at IS NULL)
	   OR EXISTS (SELECT 1 FROM orders.webhook_deliveries d
				  WHERE d.status = 'pending' AND d.next_attempt_at <= now()
					AND (d.lease_until IS NULL OR d.lease_until <= now())) THEN
		PERFORM pg_notify('orders_webhooks', '');
		RETURN true;
	END IF;
	RETURN false;
END
$$;
COMMENT ON FUNCTION orders.webhook_announce() IS
'sends NOTIFY orders_webhooks (delivered at commit) when webhook deliveries are due or outbox events wait to be queued; run by orders.run_maintenance(); returns whether it notified';

REVOKE EXECUTE ON FUNCTION
	orders.webhook_order_json(orders.orders),
	orders.webhook_recharge_event(text, orders.order_status, orders.order_sub_status),
	orders.webhook_body(text, text, timestamptz, jsonb),
	orders.webhook_new_msg_id(),
	orders.webhook_enqueue(integer),
	orders.webhook_endpoint_event(orders.webhook_endpoints, text, jsonb),
	orders.webhook_claim(text, integer, interval),
	orders.webhook_endpoint_failed(bigint, timestamptz),
	orders.webhook_report(bigint, integer, integer, integer, text),
	orders.webhook_announce()
FROM PUBLIC;
GRANT USAGE ON SCHEMA orders TO orders_webhook_sender;
GRANT EXECUTE ON FUNCTION
	orders.webhook_claim(text, integer, interval),
	orders.webhook_report(bigint, integer, integer, integer, text)
TO orders_webhook_sender;

-- Vault rotation re-encrypts the webhook secrets too, and counts them.
CREATE OR REPLACE FUNCTION orders.vault_rotate(p_batch_size integer DEFAULT 1000)
RETURNS TABLE (rotated integer, remaining bigint, newest_key_id integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, orders
AS $$
#variable_conflict use_column
DECLARE
	v_newest integer;
	v_rotated integer;
	v_secrets integer;
BEGIN
	IF p_batch_size IS NULL OR p_batch_size NOT BETWEEN 1 AND 100000 THEN
		RAISE EXCEPTION 'batch size must be between 1 and 100000' USING ERRCODE = '22023';
	END IF;
	SELECT k.key_id INTO v_newest FROM orders.vault_keys() k WHERE k.newest;

	-- The fingerprint is recomputed from the old ciphertext (the SET
	-- expressions see the row before the update).
	WITH batch AS (
		SELECT u.id FROM orders.inventory_units u
		WHERE u.key_id < v_newest
		ORDER BY u.key_id
		LIMIT p_batch_size
		FOR UPDATE SKIP LOCKED
	)
	UPDATE orders.inventory_units u SET
		card_number_enc = orders.vault_reencrypt(u.card_number_enc, u.id, 'card_number'),
		pin_code_enc = orders.vault_reencrypt(u.pin_code_enc, u.id, 'pin_code'),
		claim_url_enc = orders.vault_reencrypt(u.claim_url_enc, u.id, 'claim_url'),
		reference_enc = orders.vault_reencrypt(u.reference_enc, u.id, 'voucher_reference_number'),
		fingerprint = CASE
			WHEN u.card_number_enc IS NOT NULL THEN
				orders.vault_fingerprint_of(u.card_number_enc, u.id, 'card_number')
			WHEN u.claim_url_enc IS NOT NULL THEN
				orders.vault_fingerprint_of(u.claim_url_enc, u.id, 'claim_url')
		END,
		key_id = v_newest
	FROM batch
	WHERE u.id = batch.id;
	GET DIAGNOSTICS v_rotated = ROW_COUNT;

	-- Webhook signing secrets, with what the batch has left (no key_id
	-- column: the key is read from the ciphertext's header).
	IF v_rotated < p_batch_size THEN
		WITH batch AS (
			SELECT w.id FROM orders.webhook_endpoints w
			WHERE orders.vault_key_id(w.secret) < v_newest
			   OR orders.vault_key_id(w.previous_secret) < v_newest
			ORDER BY w.id
			LIMIT p_batch_size - v_rotated
			FOR UPDATE SKIP LOCKED
		)
		UPDATE orders.webhook_endpoints w SET
			secret = orders.vault_reencrypt(w.secret, w.id, 'webhook_secret'),
			previous_secret = orders.vault_reencrypt(w.previous_secret, w.id, 'webhook_previous_secret')
		FROM batch
		WHERE w.id = batch.id;
		GET DIAGNOSTICS v_secrets = ROW_COUNT;
		v_rotated := v_rotated + v_secrets;
	END IF;

	rotated := v_rotated;
	remaining := (SELECT count(*) FROM orders.inventory_units u WHERE u.key_id < v_newest)
		+ (SELECT count(*) FROM orders.webhook_endpoints w
		   WHERE orders.vault_key_id(w.secret) < v_newest
			  OR orders.vault_key_id(w.previous_secret) < v_newest);
	newest_key_id := v_newest;
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION orders.vault_rotate(integer) IS
're-encrypts one batch of units (then of webhook endpoints'' signing secrets) under older vault keys with the newest key; returns how many, how many remain, and the newest key id';
CREATE OR REPLACE FUNCTION orders.vault_key_usage()
RETURNS TABLE (key_id integer, units bigint, in_key_ring boolean, newest boolean)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, orders
AS $$
	SELECT coalesce(u.key_id, k.key_id), coalesce(u.units, 0),
		   k.key_id IS NOT NULL, coalesce(k.newest, false)
	FROM (SELECT x.key_id, count(*) AS units
		  FROM (SELECT i.key_id FROM orders.inventory_units i
				UNION ALL
				SELECT orders.vault_key_id(s.c)
				FROM orders.webhook_endpoints w, LATERAL (VALUES (w.secret), (w.previous_secret)) AS s(c)) x
		  WHERE x.key_id IS NOT NULL GROUP BY x.key_id) u
	FULL JOIN orders.vault_keys() k ON k.key_id = u.key_id
	ORDER BY 1
$$;
COMMENT ON FUNCTION orders.vault_key_usage() IS
'for each vault key id in use or in the key ring: how many units (and webhook signing secrets) are under it; a key with 0 can leave the key file';

-- The API's route table: PATCH and DELETE, several path parameters, and
-- body members of type string, array (of strings) and boolean.
ALTER TABLE orders.api_operations DROP CONSTRAINT api_operations_method_check,
	ADD CONSTRAINT api_operations_method_check CHECK (method IN ('GET', 'POST', 'PATCH', 'DELETE'));
COMMENT ON TYPE orders.api_parameter IS
'internal: a parameter of an API operation: where it comes from (query, path, body, header, or the authenticated client / key), its type (integer, id, string, timestamp, object; a body member also array of strings, boolean; optional for a client / key the operation does without) and minimum';
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
REVOKE EXECUTE ON FUNCTION orders.api_body_string(text, jsonb),
	orders.api_body_string_array(text, jsonb), orders.api_body_boolean(text, jsonb) FROM PUBLIC;

-- The webhooks API (issue 13, docs/webhooks.md): a client registers,
-- reads, changes, deletes its endpoints, rotates their secrets, sends a
-- test event, lists the deliveries and retries one.  Handlers in the style
-- of schema/82_api_orders.sql: the authenticated client and the parsed
-- parameters as arguments, the answer as a value.  A client sees only its
-- own endpoints: another client's id is answered like a missing one (404).
-- The signing secret is in an answer twice only: at registration and at a
-- rotation; it is stored encrypted by the vault (field webhook_secret).

-- An endpoint as the API shows it (never its secret).
CREATE FUNCTION orders.webhook_json(w orders.webhook_endpoints) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT jsonb_build_object(
		'id', w.id,
		'url', w.url,
		'eventTypes', to_jsonb(w.event_types),
		'description', w.description,
		'enabled', w.disabled_at IS NULL,
		'disabledAt', orders.rfc3339(w.disabled_at),
		'disabledReason', w.disabled_reason,
		'failingSince', orders.rfc3339(w.failing_since),
		'previousSecretExpiresAt', CASE WHEN w.previous_secret_until > now()
									   THEN orders.rfc3339(w.previous_secret_until) END,
		'createdAt', orders.rfc3339(w.created_at),
		'updatedAt', orders.rfc3339(w.updated_at))
$$;
COMMENT ON FUNCTION orders.webhook_json(orders.webhook_endpoints) IS
'internal: a webhook endpoint as the API shows it: id, url, eventTypes, description, enabled, disabledAt, disabledReason, failingSince, previousSecretExpiresAt, createdAt, updatedAt (never a secret)';

-- The fields of an endpoint, checked; invalid_input (OR100) naming the
-- field otherwise.  NULL: not given.
CREATE FUNCTION orders.webhook_check_fields(p_url text, p_event_types text[], p_description text)
RETURNS text[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	problem text := orders.webhook_url_problem(p_url, (orders.webhook_policy()).allow_private_addresses);
	unknown text;
BEGIN
	IF p_url IS NOT NULL AND problem IS NOT NULL THEN
		RAISE EXCEPTION 'url: %', problem USING ERRCODE = 'OR100';
	END IF;
	IF p_event_types IS NOT NULL THEN
		IF cardinality(p_event_types) = 0 THEN
			RAISE EXCEPTION 'eventTypes: must name at least one event type' USING ERRCODE = 'OR100';
		END IF;
		SELECT t INTO unknown FROM unnest(p_event_types) t
		WHERE NOT t = ANY (orders.webhook_subscribable_types()) LIMIT 1;
		IF FOUND THEN
			RAISE EXCEPTION 'eventTypes: unknown event type "%" (known: %)', left(unknown, 40),
				array_to_string(orders.webhook_subscribable_types(), ', ') USING ERRCODE = 'OR100';
		END IF;
	END IF;
	IF length(p_description) > 500 THEN
		RAISE EXCEPTION 'description: must be at most 500 characters' USING ERRCODE = 'OR100';
	END IF;
	-- the event types once each, in a stable order
	RETURN ARRAY(SELECT DISTINCT t FROM unnest(p_event_types) t ORDER BY t);
END
$$;
COMMENT ON FUNCTION orders.webhook_check_fields(text, text[], text) IS
'internal: checks an endpoint''s url, eventTypes and description (each NULL: not given), raising invalid_input (OR100) naming the field; returns the event types deduplicated and sorted';

CREATE FUNCTION orders.webhook_subscribable_types() RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, orders AS $$
	SELECT ARRAY(SELECT t FROM unnest(orders.webhook_event_types()) t
				 WHERE t NOT IN ('webhook.test', 'endpoint.disabled'))
$$;
COMMENT ON FUNCTION orders.webhook_subscribable_types() IS
'internal: the event types an endpoint may subscribe to (webhook.test and endpoint.disabled are always sent to the endpoint concerned)';

-- The client's live endpoint, locked; NULL when it has none with that id.
CREATE FUNCTION orders.webhook_of_client(p_client bigint, p_id bigint) RETURNS orders.webhook_endpoints
LANGUAGE sql VOLATILE SET search_path = pg_catalog, orders AS $$
	SELECT w FROM orders.webhook_endpoints w
	WHERE w.id = p_id AND w.client_id = p_client AND w.deleted_at IS NULL
	FOR UPDATE
$$;
COMMENT ON FUNCTION orders.webhook_of_client(bigint, bigint) IS
'internal: the client''s endpoint with that id (not deleted), locked; NULL for an unknown id and another client''s alike';

-- The paging of a list (as GET /api/v1/orders): page >= 1, limit 1 to
-- 100; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages.
CREATE FUNCTION orders.api_paging(p_page bigint, p_limit bigint, p_total bigint) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_page > 1000000 THEN
		RAISE EXCEPTION 'page: must be an integer between 1 and 1000000' USING ERRCODE = 'OR100';
	ELSIF p_limit > 100 THEN
		RAISE EXCEPTION 'limit: must be an integer between 1 and 100' USING ERRCODE = 'OR100';
	END IF;
	RETURN jsonb_build_object('X-Page', p_page::text, 'X-Per-Page', p_limit::text,
							  'X-Total-Count', p_total::text,
							  'X-Total-Pages', ((p_total + p_limit - 1) / p_limit)::text);
END
$$;
COMMENT ON FUNCTION orders.api_paging(bigint, bigint, bigint) IS
'internal: the paging headers of a list (X-Page, X-Per-Page, X-Total-Count, X-Total-Pages); invalid_input (OR100) for a page over 1000000 or a limit over 100';

-- POST /api/v1/webhooks
CREATE FUNCTION orders.handle_create_webhook(p_client bigint, p_url text, p_event_types text[],
	p_description text)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	types text[];
	new_secret text;
	new_id bigint;
	w orders.webhook_endpoints;
BEGIN
	IF p_url IS NULL THEN
		RETURN orders.api_invalid('url: is required');
	ELSIF p_event_types IS NULL THEN
		RETURN orders.api_invalid('eventTypes: is required');
	END IF;
	types := orders.webhook_check_fields(p_url, p_event_types, p_description);
	-- the client's row serialises concurrent registrations for the limit
	PERFORM 1 FROM orders.clients c WHERE c.id = p_client FOR UPDATE;
	IF (SELECT count(*) FROM orders.webhook_endpoints e
		WHERE e.client_id = p_client AND e.deleted_at IS NULL) >= 20 THEN
		RETURN orders.api_error('webhook_limit');
	END IF;
	new_secret := orders.webhook_new_secret();
	new_id := nextval(pg_get_serial_sequence('orders.webhook_endpoints', 'id'));
	INSERT INTO orders.webhook_endpoints (client_id, id, url, event_types, description, secret)
	VALUES (p_client, new_id, p_url, types, p_description,
			orders.vault_encrypt(new_secret, new_id, 'webhook_secret'))
	RETURNING * INTO w;
	RETURN orders.api_ok(orders.webhook_json(w) || jsonb_build_object('secret', new_secret), 201,
		jsonb_build_object('Location', '/api/v1/webhooks/' || w.id));
END
$$;
COMMENT ON FUNCTION orders.handle_create_webhook(bigint, text, text[], text) IS
'internal: POST /api/v1/webhooks: registers an endpoint (url, eventTypes, description); 201 with the endpoint and its signing secret (whsec_..., shown this once), Location; 400 naming a bad field; 422 webhook_limit past 20 endpoints';

-- GET /api/v1/webhooks
CREATE FUNCTION orders.handle_list_webhooks(p_client bigint, p_page bigint, p_limit bigint)
RETURNS orders.api_response
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	page bigint := coalesce(p_page, 1);
	per_page bigint := coalesce(p_limit, 10);
	paging jsonb;
	items jsonb;
BEGIN
	paging := orders.api_paging(page, per_page,
		(SELECT count(*) FROM orders.webhook_endpoints w WHERE w.client_id = p_client AND w.deleted_at IS NULL));
	SELECT coalesce(jsonb_agg(orders.webhook_json(w) ORDER BY w.id), '[]') INTO items
	FROM (SELECT * FROM orders.webhook_endpoints w
		  WHERE w.client_id = p_client AND w.deleted_at IS NULL
		  ORDER BY w.id LIMIT per_page OFFSET (page - 1) * per_page) w;
	RETURN orders.api_ok(items, 200, paging);
END
$$;
COMMENT ON FUNCTION orders.handle_list_webhooks(bigint, bigint, bigint) IS
'internal: GET /api/v1/webhooks: the client''s endpoints, oldest first; page (default 1), limit (1-100, default 10); headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; an empty page is 200 []';

-- GET /api/v1/webhooks/{id}
CREATE FUNCTION orders.handle_get_webhook(p_client bigint, p_id bigint) RETURNS orders.api_response
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints;
BEGIN
	SELECT * INTO w FROM orders.webhook_endpoints e
	WHERE e.id = p_id AND e.client_id = p_client AND e.deleted_at IS NULL;
	IF NOT FOUND THEN
		RETURN orders.api_error('no_match');
	END IF;
	RETURN orders.api_ok(orders.webhook_json(w));
END
$$;
COMMENT ON FUNCTION orders.handle_get_webhook(bigint, bigint) IS
'internal: GET /api/v1/webhooks/{id}: the endpoint (disabledAt and disabledReason when disabled); 404 for an unknown id and another client''s alike';

-- PATCH /api/v1/webhooks/{id}
CREATE FUNCTION orders.handle_update_webhook(p_client bigint, p_id bigint, p_url text,
	p_event_types text[], p_description text, p_enabled boolean)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints := orders.webhook_of_client(p_client, p_id);
	types text[];
BEGIN
	IF w.id IS NULL THEN
		RETURN orders.api_error('no_match');
	END IF;
	types := orders.webhook_check_fields(p_url, p_event_types, p_description);
	UPDATE orders.webhook_endpoints e
	SET url = coalesce(p_url, e.url),
		event_types = CASE WHEN p_event_types IS NOT NULL THEN types ELSE e.event_types END,
		description = CASE WHEN p_description IS NULL THEN e.description ELSE nullif(p_description, '') END,
		-- enabling forgets the failures; disabling by the client says so
		disabled_at = CASE WHEN p_enabled THEN NULL
						   WHEN NOT p_enabled THEN coalesce(e.disabled_at, now()) ELSE e.disabled_at END,
		disabled_reason = CASE WHEN p_enabled THEN NULL
							   WHEN NOT p_enabled THEN coalesce(e.disabled_reason, 'disabled by the client')
							   ELSE e.disabled_reason END,
		failing_since = CASE WHEN p_enabled THEN NULL ELSE e.failing_since END,
		updated_at = now()
	WHERE e.id = w.id
	RETURNING * INTO w;
	RETURN orders.api_ok(orders.webhook_json(w));
END
$$;
COMMENT ON FUNCTION orders.handle_update_webhook(bigint, bigint, text, text[], text, boolean) IS
'internal: PATCH /api/v1/webhooks/{id}: changes the given url, eventTypes, description ("" clears it), enabled (true re-enables a disabled endpoint, its pending deliveries resume); 400 naming a bad field; 404 for an unknown id and another client''s alike';

-- DELETE /api/v1/webhooks/{id}
CREATE FUNCTION orders.handle_delete_webhook(p_client bigint, p_id bigint) RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints := orders.webhook_of_client(p_client, p_id);
	dropped integer;
BEGIN
	IF w.id IS NULL THEN
		RETURN orders.api_error('no_match');
	END IF;
	-- kept for the history of its deliveries, its secrets wiped
	UPDATE orders.webhook_endpoints
	SET deleted_at = now(), updated_at = now(), secret = NULL, previous_secret = NULL,
		previous_secret_until = NULL
	WHERE id = w.id;
	-- its pending deliveries are dropped (a report still due for one is ignored)
	UPDATE orders.webhook_deliveries
	SET status = 'dropped', completed_at = now(), leased_by = NULL, lease_until = NULL
	WHERE endpoint_id = w.id AND status = 'pending';
	GET DIAGNOSTICS dropped = ROW_COUNT;
	RETURN orders.api_ok(jsonb_build_object('id', w.id, 'deleted', true, 'droppedDeliveries', dropped));
END
$$;
COMMENT ON FUNCTION orders.handle_delete_webhook(bigint, bigint) IS
'internal: DELETE /api/v1/webhooks/{id}: deletes the endpoint and drops its pending deliveries; 200 {"id", "deleted": true, "droppedDeliveries"}; 404 for an unknown id and another client''s alike';

-- POST /api/v1/webhooks/{id}/rotate-secret
CREATE FUNCTION orders.handle_rotate_webhook_secret(p_client bigint, p_id bigint)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints := orders.webhook_of_client(p_client, p_id);
	grace interval := (orders.webhook_policy()).secret_grace;
	new_secret text;
BEGIN
	IF w.id IS NULL THEN
		RETURN orders.api_error('no_match');
	END IF;
	new_secret := orders.webhook_new_secret();
	-- the old secret signs too until the grace period ends
	UPDATE orders.webhook_endpoints
	SET previous_secret = CASE WHEN grace > interval '0' THEN
			orders.vault_encrypt(orders.vault_decrypt(w.secret, w.id, 'webhook_secret'),
								 w.id, 'webhook_previous_secret') END,
		previous_secret_until = CASE WHEN grace > interval '0' THEN now() + grace END,
		secret = orders.vault_encrypt(new_secret, w.id, 'webhook_secret'),
		updated_at = now()
	WHERE id = w.id
	RETURNING * INTO w;
	RETURN orders.api_ok(orders.webhook_json(w) || jsonb_build_object('secret', new_secret));
END
$$;
COMMENT ON FUNCTION orders.handle_rotate_webhook_secret(bigint, bigint) IS
'internal: POST /api/v1/webhooks/{id}/rotate-secret: a new signing secret (shown this once); the previous one keeps signing for orders.webhook_secret_grace (previousSecretExpiresAt); 404 for an unknown id and another client''s alike';

-- POST /api/v1/webhooks/{id}/test
CREATE FUNCTION orders.handle_test_webhook(p_client bigint, p_id bigint) RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints := orders.webhook_of_client(p_client, p_id);
	delivery bigint;
BEGIN
	IF w.id IS NULL THEN
		RETURN orders.api_error('no_match');
	ELSIF w.disabled_at IS NOT NULL THEN
		RETURN orders.api_error('webhook_conflict',
			'the endpoint is disabled: enable it first (PATCH with "enabled": true)');
	END IF;
	delivery := orders.webhook_endpoint_event(w, 'webhook.test',
		jsonb_build_object('endpointId', w.id, 'message', 'a test event, sent on request'));
	PERFORM pg_notify('orders_webhooks', '');
	RETURN orders.api_ok((SELECT orders.webhook_delivery_json(d) FROM orders.webhook_deliveries d
						  WHERE d.id = delivery), 202);
END
$$;
COMMENT ON FUNCTION orders.handle_test_webhook(bigint, bigint) IS
'internal: POST /api/v1/webhooks/{id}/test: queues a webhook.test event for the endpoint; 202 with its delivery; 409 when the endpoint is disabled; 404 for an unknown id and another client''s alike';

-- A delivery as the API shows it, with its attempts.
CREATE FUNCTION orders.webhook_delivery_json(d orders.webhook_deliveries) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT jsonb_build_object(
		'id', d.id,
		'eventId', ev.msg_id,
		'eventType', ev.type,
		'orderId', d.order_id,
		'status', d.status,
		'attemptCount', d.attempt,
		'nextAttemptAt', CASE WHEN d.status = 'pending' THEN orders.rfc3339(d.next_attempt_at) END,
		'createdAt', orders.rfc3339(d.created_at),
		'completedAt', orders.rfc3339(d.completed_at),
		'attempts', coalesce((
			SELECT jsonb_agg(jsonb_build_object(
						'attempt', a.attempt,
						'startedAt', orders.rfc3339(a.started_at),
						'finishedAt', orders.rfc3339(a.finished_at),
						'httpStatus', a.http_status,
						'latencyMs', a.latency_ms,
						'error', CASE WHEN a.finished_at IS NULL AND d.attempt > a.attempt
									  THEN 'no report: the sender''s lease ran out' ELSE a.error END)
					ORDER BY a.attempt)
			FROM orders.webhook_attempts a WHERE a.delivery_id = d.id), '[]'))
	FROM orders.webhook_events ev WHERE ev.id = d.event_id
$$;
COMMENT ON FUNCTION orders.webhook_delivery_json(orders.webhook_deliveries) IS
'internal: a webhook delivery as the API shows it: id, eventId (the webhook-id), eventType, orderId, status, attemptCount, nextAttemptAt, createdAt, completedAt, attempts [{attempt, startedAt, finishedAt, httpStatus, latencyMs, error}]';

-- GET /api/v1/webhooks/{id}/deliveries
CREATE FUNCTION orders.handle_list_webhook_deliveries(p_client bigint, p_id bigint,
	p_page bigint, p_limit bigint)
RETURNS orders.api_response
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	page bigint := coalesce(p_page, 1);
	per_page bigint := coalesce(p_limit, 10);
	paging jsonb;
	items jsonb;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM orders.webhook_endpoints w
				   WHERE w.id = p_id AND w.client_id = p_client AND w.deleted_at IS NULL) THEN
		RETURN orders.api_error('no_match');
	END IF;
	paging := orders.api_paging(page, per_page,
		(SELECT count(*) FROM orders.webhook_deliveries d WHERE d.endpoint_id = p_id));
	SELECT coalesce(jsonb_agg(orders.webhook_delivery_json(d) ORDER BY d.id DESC), '[]') INTO items
	FROM (SELECT * FROM orders.webhook_deliveries d WHERE d.endpoint_id = p_id
		  ORDER BY d.id DESC LIMIT per_page OFFSET (page - 1) * per_page) d;
	RETURN orders.api_ok(items, 200, paging);
END
$$;
COMMENT ON FUNCTION orders.handle_list_webhook_deliveries(bigint, bigint, bigint, bigint) IS
'internal: GET /api/v1/webhooks/{id}/deliveries: the endpoint''s deliveries, newest first, each with its attempts (time, HTTP status, latency, error); page, limit (1-100, default 10) and the paging headers; 404 for an unknown id and another client''s alike';

-- POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry
CREATE FUNCTION orders.handle_retry_webhook_delivery(p_client bigint, p_id bigint, p_delivery_id bigint)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints := orders.webhook_of_client(p_client, p_id);
	d orders.webhook_deliveries;
BEGIN
	IF w.id IS NULL THEN
		RETURN orders.api_error('no_match');
	END IF;
	SELECT * INTO d FROM orders.webhook_deliveries x
	WHERE x.id = p_delivery_id AND x.endpoint_id = w.id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN orders.api_error('no_match');
	ELSIF d.leased_by IS NOT NULL AND d.lease_until > now() THEN
		RETURN orders.api_error('webhook_conflict', 'the delivery is being sent now');
	ELSIF w.disabled_at IS NOT NULL THEN
		RETURN orders.api_error('webhook_conflict',
			'the endpoint is disabled: enable it first (PATCH with "enabled": true)');
	END IF;
	-- one more attempt, now (a failure of it is final); same webhook-id
	UPDATE orders.webhook_deliveries
	SET status = 'pending', completed_at = NULL, next_attempt_at = now(),
		leased_by = NULL, lease_until = NULL
	WHERE id = d.id
	RETURNING * INTO d;
	PERFORM pg_notify('orders_webhooks', '');
	RETURN orders.api_ok(orders.webhook_delivery_json(d), 202);
END
$$;
COMMENT ON FUNCTION orders.handle_retry_webhook_delivery(bigint, bigint, bigint) IS
'internal: POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry: the delivery is due again now, with the same webhook-id; 202 with it; 409 while it is being sent or when the endpoint is disabled; 404 for an unknown id and another client''s alike';

INSERT INTO orders.api_operations (operation, method, path, openapi_id, handler, parameters, failure_message, description, shipped_in) VALUES
	('create_webhook', 'POST', '/api/v1/webhooks', 'createWebhook', 'handle_create_webhook',
	 ARRAY[('client', 'client', NULL, NULL), ('url', 'body', 'string', NULL), ('eventTypes', 'body', 'array', NULL),
		   ('description', 'body', 'string', NULL)]::orders.api_parameter[],
	 'Failed to register webhook',
	 'POST /api/v1/webhooks: body {url, eventTypes, description}; 201 with the endpoint and its signing secret (whsec_..., shown once); 400 naming a bad field; 422 past 20 endpoints', '1.1'),
	('list_webhooks', 'GET', '/api/v1/webhooks', 'listWebhooks', 'handle_list_webhooks',
	 ARRAY[('client', 'client', NULL, NULL), ('page', 'query', 'integer', 1), ('limit', 'query', 'integer', 1)]::orders.api_parameter[],
	 'Failed to list webhooks',
	 'GET /api/v1/webhooks: the client''s endpoints, oldest first; page (>= 1, default 1), limit (1-100, default 10); headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages', '1.1'),
	('get_webhook', 'GET', '/api/v1/webhooks/{id}', 'getWebhook', 'handle_get_webhook',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1)]::orders.api_parameter[],
	 'Failed to retrieve webhook',
	 'GET /api/v1/webhooks/{id}: the endpoint, never its secret; disabledAt and disabledReason when disabled; 404 for an unknown id and another client''s alike', '1.1'),
	('update_webhook', 'PATCH', '/api/v1/webhooks/{id}', 'updateWebhook', 'handle_update_webhook',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1), ('url', 'body', 'string', NULL),
		   ('eventTypes', 'body', 'array', NULL), ('description', 'body', 'string', NULL),
		   ('enabled', 'body', 'boolean', NULL)]::orders.api_parameter[],
	 'Failed to update webhook',
	 'PATCH /api/v1/webhooks/{id}: body {url, eventTypes, description, enabled}, each optional; enabled true re-enables a disabled endpoint; 400 naming a bad field; 404 for an unknown id and another client''s alike', '1.1'),
	('delete_webhook', 'DELETE', '/api/v1/webhooks/{id}', 'deleteWebhook', 'handle_delete_webhook',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1)]::orders.api_parameter[],
	 'Failed to delete webhook',
	 'DELETE /api/v1/webhooks/{id}: deletes the endpoint and drops its pending deliveries; 404 for an unknown id and another client''s alike', '1.1'),
	('rotate_webhook_secret', 'POST', '/api/v1/webhooks/{id}/rotate-secret', 'rotateWebhookSecret', 'handle_rotate_webhook_secret',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1)]::orders.api_parameter[],
	 'Failed to rotate webhook secret',
	 'POST /api/v1/webhooks/{id}/rotate-secret: a new signing secret, shown once; the previous one keeps signing for the grace period (orders.webhook_secret_grace, 24 h by default)', '1.1'),
	('test_webhook', 'POST', '/api/v1/webhooks/{id}/test', 'testWebhook', 'handle_test_webhook',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1)]::orders.api_parameter[],
	 'Failed to queue test event',
	 'POST /api/v1/webhooks/{id}/test: queues a webhook.test event for the endpoint; 202 with its delivery; 409 when the endpoint is disabled', '1.1'),
	('list_webhook_deliveries', 'GET', '/api/v1/webhooks/{id}/deliveries', 'listWebhookDeliveries', 'handle_list_webhook_deliveries',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1), ('page', 'query', 'integer', 1),
		   ('limit', 'query', 'integer', 1)]::orders.api_parameter[],
	 'Failed to list webhook deliveries',
	 'GET /api/v1/webhooks/{id}/deliveries: the endpoint''s deliveries, newest first, with their attempts (time, HTTP status, latency, error); page, limit (1-100, default 10) and the paging headers', '1.1'),
	('retry_webhook_delivery', 'POST', '/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry', 'retryWebhookDelivery', 'handle_retry_webhook_delivery',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1), ('delivery_id', 'path', 'id', 1)]::orders.api_parameter[],
	 'Failed to retry webhook delivery',
	 'POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry: sends the delivery again now, with the same webhook-id; 202 with it; 409 while it is being sent or when the endpoint is disabled', '1.1');

REVOKE EXECUTE ON FUNCTION
	orders.webhook_json(orders.webhook_endpoints),
	orders.webhook_check_fields(text, text[], text),
	orders.webhook_subscribable_types(),
	orders.webhook_of_client(bigint, bigint),
	orders.api_paging(bigint, bigint, bigint),
	orders.handle_create_webhook(bigint, text, text[], text),
	orders.handle_list_webhooks(bigint, bigint, bigint),
	orders.handle_get_webhook(bigint, bigint),
	orders.handle_update_webhook(bigint, bigint, text, text[], text, boolean),
	orders.handle_delete_webhook(bigint, bigint),
	orders.handle_rotate_webhook_secret(bigint, bigint),
	orders.handle_test_webhook(bigint, bigint),
	orders.webhook_delivery_json(orders.webhook_deliveries),
	orders.handle_list_webhook_deliveries(bigint, bigint, bigint, bigint),
	orders.handle_retry_webhook_delivery(bigint, bigint, bigint)
FROM PUBLIC;

CREATE OR REPLACE FUNCTION orders.api_call_source() RETURNS text
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
CREATE OR REPLACE FUNCTION orders.api_dispatch(p_method text, p_path text, p_query text,
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
DO $$ BEGIN EXECUTE orders.api_call_source(); END $$;

-- api.<operation> of the webhook routes (as schema/86_api_postgrest.sql makes
-- them), executable by the API role only.
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
		WHERE op.operation LIKE '%webhook%'
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
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
		WHERE p.pronamespace = 'api'::regnamespace AND p.proname LIKE '%webhook%'
	LOOP
		EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO orders_api', f);
	END LOOP;
END $$;

-- Its own webhooks too (issue 13), except the endpoints' encrypted secrets.
GRANT SELECT (client_id, id, url, event_types, description, previous_secret_until, failing_since,
			  disabled_at, disabled_reason, created_at, updated_at, deleted_at)
	ON orders.webhook_endpoints TO orders_api;
GRANT SELECT ON orders.webhook_events, orders.webhook_deliveries, orders.webhook_attempts TO orders_api;

-- Row-level security of the new client-owned tables, as
-- schema/96_api_security.sql gives every table with a client_id.
DO $$
DECLARE
	t regclass;
BEGIN
	FOREACH t IN ARRAY ARRAY['orders.webhook_endpoints', 'orders.webhook_events',
							 'orders.webhook_deliveries', 'orders.webhook_attempts']::regclass[] LOOP
		EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format($p$CREATE POLICY client_isolation ON %s TO orders_api
			USING (client_id = orders.current_client_id())
			WITH CHECK (client_id = orders.current_client_id())$p$, t);
		EXECUTE format('CREATE POLICY operators ON %s TO orders_admin, orders_vendor USING (true)', t);
		EXECUTE format('COMMENT ON POLICY client_isolation ON %s IS %L', t,
			'orders_api sees and changes only the rows of the authenticated client (orders.current_client_id())');
		EXECUTE format('COMMENT ON POLICY operators ON %s IS %L', t,
			'operators and the vendor back-channel see every row (their writes go through functions)');
	END LOOP;
END $$;


-- Issue 14: metrics (schema/05_roles.sql: the role orders_metrics; schema/77_metrics.sql)
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'orders_metrics') THEN
		CREATE ROLE orders_metrics NOLOGIN NOINHERIT;
	END IF;
END $$;
-- Metrics of the engine for Prometheus (docs/metrics.md).  Each metric is
-- one row of orders.metric_queries: its name, type, help and one query
-- returning (labels jsonb, value double precision) rows.  orders.metrics()
-- runs them all and returns one row per series; orders.metrics_exposition()
-- renders those in Prometheus' text format, which the gateway appends to
-- its own metrics on GET /metrics (docs/gateway.md, "Metrics").
--
-- Scraped every 15 s or so, on a database of any size: no query reads
-- orders.orders or another table that grows with the history.  Orders by
-- status come from the rolled-up counters plus the deltas not rolled up
-- yet; queues and the outbox are read through their partial indexes, which
-- hold only the live rows.
--
-- Adding a metric is one INSERT into orders.metric_queries (in schema/ and
-- in the upgrade script); nothing else changes.

CREATE TABLE orders.metric_queries (
	metric		text PRIMARY KEY CHECK (metric ~ '^orders_[a-z][a-z0-9_]*$'),
	type		text NOT NULL CHECK (type IN ('counter', 'gauge')),
	-- one line, no backslash: printed as is after "# HELP <metric> "
	help		text NOT NULL CHECK (help <> '' AND help !~ E'[\\n\\r\\\\]'),
	-- a SELECT of (labels jsonb, value double precision); NULL labels: none
	query		text NOT NULL,
	-- Prometheus' conventions, which promtool check metrics enforces
	CHECK ((type = 'counter') = (metric ~ '_total$'))
);
COMMENT ON TABLE orders.metric_queries IS
'the metrics of orders.metrics(): one row per metric (name, counter or gauge, help, a query returning labels jsonb and value double precision); adding a metric is adding a row';

INSERT INTO orders.metric_queries (metric, type, help, query) VALUES
	('orders_orders', 'gauge',
	 'Orders by status (rolled-up counters plus the deltas not rolled up yet).',
	 $q$SELECT jsonb_build_object('status', s.label), coalesce(sum(c.n), 0)::float8
		FROM orders.labels('orders.order_status') AS s(label)
		LEFT JOIN (SELECT status::text AS label, n FROM orders.order_counts
				   UNION ALL
				   SELECT status::text, n FROM orders.order_count_deltas) c USING (label)
		GROUP BY s.label$q$),
	('orders_vendor_jobs', 'gauge',
	 'Vendor jobs waiting for a worker (state queued) or held by one (state leased).',
	 $q$SELECT jsonb_build_object('state', 'queued'), count(*)::float8
		FROM orders.vendor_jobs WHERE status = 'QUEUED'
		UNION ALL
		SELECT jsonb_build_object('state', 'leased'), count(*)::float8
		FROM orders.vendor_jobs WHERE status = 'LEASED'$q$),
	('orders_vendor_queue_oldest_age_seconds', 'gauge',
	 'Seconds the queued vendor job that has waited longest for a claim has been claimable; 0 when none is.',
	 $q$SELECT NULL::jsonb, coalesce(extract(epoch FROM now() - min(j.next_attempt_at)), 0)::float8
		FROM orders.vendor_jobs j
		WHERE j.status = 'QUEUED' AND j.next_attempt_at <= now()$q$),
	('orders_voucher_reveals_audited_total', 'counter',
	 'Voucher reveals audited (rows of orders.voucher_reveals, by its identity: an insert rolled back would count).',
	 $q$SELECT NULL::jsonb, coalesce(max(r.id), 0)::float8 FROM orders.voucher_reveals r$q$),
	('orders_outbox_events', 'gauge',
	 'Order events in the outbox not acknowledged yet.',
	 $q$SELECT NULL::jsonb, count(*)::float8 FROM orders.order_events e
		WHERE e.acknowledged_at IS NULL$q$),
	('orders_outbox_oldest_age_seconds', 'gauge',
	 'Age in seconds of the oldest order event not acknowledged yet; 0 when there is none.',
	 $q$SELECT NULL::jsonb, coalesce(extract(epoch FROM now() - (
			SELECT e.created_at FROM orders.order_events e
			WHERE e.acknowledged_at IS NULL ORDER BY e.id LIMIT 1)), 0)::float8$q$),
	('orders_rate_limit_denied_total', 'counter',
	 'Requests refused by the rate limits since the server started (absent when limits are off).',
	 $q$SELECT NULL::jsonb, s.denied::float8 FROM orders.rate_limit_status() s
		WHERE s.enabled$q$),
	('orders_webhook_deliveries_pending', 'gauge',
	 'Webhook deliveries not completed yet (due, leased, or waiting for a retry).',
	 $q$SELECT NULL::jsonb, count(*)::float8 FROM orders.webhook_deliveries d
		WHERE d.status = 'pending'$q$),
	('orders_webhook_queue_oldest_age_seconds', 'gauge',
	 'Seconds the pending webhook delivery that has waited longest has been due; 0 when none is.',
	 $q$SELECT NULL::jsonb, coalesce(extract(epoch FROM now() - min(d.next_attempt_at)), 0)::float8
		FROM orders.webhook_deliveries d
		WHERE d.status = 'pending' AND d.next_attempt_at <= now()$q$);

-- Runs the queries of orders.metric_queries: one row per series.  SECURITY
-- DEFINER: the metrics role reads counts, never the tables they come from.
CREATE FUNCTION orders.metrics()
RETURNS TABLE (metric text, type text, help text, labels jsonb, value double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	q orders.metric_queries;
BEGIN
	FOR q IN SELECT * FROM orders.metric_queries m ORDER BY m.metric LOOP
		RETURN QUERY EXECUTE format(
			'SELECT %L::text, %L::text, %L::text, coalesce(m.l, ''{}''::jsonb), m.v::float8 FROM (%s) AS m(l, v)',
			q.metric, q.type, q.help, q.query);
	END LOOP;
END
$$;
COMMENT ON FUNCTION orders.metrics() IS
'the engine''s metrics, one row per series: metric name, type (counter or gauge), help, labels (a JSON object of strings) and value; from the queries of orders.metric_queries (docs/metrics.md)';

-- A series' labels as {name="value",...}: names sorted, values escaped as
-- the text format asks (backslash, double quote, line feed); '' for none.
CREATE FUNCTION orders.metric_labels(p_labels jsonb) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT coalesce('{' || string_agg(
		format('%s="%s"', l.key,
			   replace(replace(replace(l.value, '\', '\\'), '"', '\"'), E'\n', '\n')),
		',' ORDER BY l.key) || '}', '')
	FROM jsonb_each_text(coalesce(p_labels, '{}')) AS l
$$;
COMMENT ON FUNCTION orders.metric_labels(jsonb) IS
'internal: labels as the Prometheus text format writes them, {name="value",...} with values escaped; empty for none';

-- A value as the text format writes it (Go's ParseFloat reads it back).
CREATE FUNCTION orders.metric_value(p_value double precision) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT CASE WHEN p_value = 'Infinity' THEN '+Inf'
				WHEN p_value = '-Infinity' THEN '-Inf'
				ELSE p_value::text END
$$;
COMMENT ON FUNCTION orders.metric_value(double precision) IS
'internal: a sample value as the Prometheus text format writes it (NaN, +Inf, -Inf, else the shortest exact decimal)';

-- The same series in Prometheus' text exposition format (version 0.0.4):
-- # HELP and # TYPE once per metric, then one line per series.
CREATE FUNCTION orders.metrics_exposition() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT coalesce(string_agg(f.lines, '' ORDER BY f.metric), '')
	FROM (
		SELECT m.metric,
			   format(E'# HELP %s %s\n# TYPE %s %s\n', m.metric, m.help, m.metric, m.type)
			   || string_agg(m.metric || orders.metric_labels(m.labels) || ' '
							 || orders.metric_value(m.value) || E'\n', ''
							 ORDER BY orders.metric_labels(m.labels)) AS lines
		FROM orders.metrics() m
		GROUP BY m.metric, m.type, m.help
	) f
$$;
COMMENT ON FUNCTION orders.metrics_exposition() IS
'orders.metrics() in the Prometheus text exposition format (version 0.0.4); what the gateway appends to its own metrics on GET /metrics';

-- Only the metrics role (and whoever is granted it) reads metrics.  The
-- gateway's login role may switch to it for a scrape (SET LOCAL ROLE), the
-- way it switches to orders_api for a request.
REVOKE ALL ON TABLE orders.metric_queries FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION orders.metrics(), orders.metrics_exposition(),
	orders.metric_labels(jsonb), orders.metric_value(double precision) FROM PUBLIC;
GRANT USAGE ON SCHEMA orders TO orders_metrics;
GRANT EXECUTE ON FUNCTION orders.metrics(), orders.metrics_exposition(),
	orders.metric_labels(jsonb), orders.metric_value(double precision) TO orders_metrics;
GRANT orders_metrics TO orders_authenticator;

-- Issue 14: scale-out: ids by residue class per shard, the shard identity the router compares, moving a client (export, import, purge)

-- A shard behind the router (docs/scale-out.md): every shard runs the whole
-- extension; what it needs to be one of several is here.
--   - Ids unique across shards: every identity sequence draws ids of one
--     residue class, id % slots = shard (orders.shard_configure), so no two
--     shards ever hand out the same order, key, job or client id, and every
--     id names the shard that numbered it.
--   - Moving a client: its rows leave one shard (orders.client_export, then
--     orders.client_purge) and arrive on another (orders.client_import)
--     with their ids; the router's orders_router.move_client drives it.
--   - The router checks that its shards agree on what a moved client needs
--     (orders.shard_identity): the same server secrets and vault keys.

-- The next id after p_after in the residue class p_shard modulo p_slots.
CREATE FUNCTION orders.shard_next_id(p_after bigint, p_shard integer, p_slots integer)
RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
	SELECT CASE WHEN b > p_after THEN b ELSE b + p_slots END
	FROM (SELECT p_after - p_after % p_slots + p_shard AS b) s
$$;
COMMENT ON FUNCTION orders.shard_next_id(bigint, integer, integer) IS
'internal: the smallest id greater than p_after whose remainder modulo p_slots is p_shard';

-- The identity sequences of the extension's tables.
CREATE FUNCTION orders.shard_sequences(OUT seq regclass, OUT tab regclass,
	OUT last_value bigint, OUT start_value bigint, OUT increment_by bigint)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT s.oid::regclass, t.oid::regclass, ps.last_value, ps.start_value, ps.increment_by
	FROM pg_depend d
	JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
	JOIN pg_class t ON t.oid = d.refobjid
	JOIN pg_sequences ps ON ps.schemaname = 'orders' AND ps.sequencename = s.relname
	WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
	  AND d.deptype = 'i' AND t.relnamespace = 'orders'::regnamespace
	ORDER BY t.oid
$$;
COMMENT ON FUNCTION orders.shard_sequences() IS
'internal: the identity sequences of the tables of schema orders with their last value, start and increment';

-- Makes this database shard p_shard of at most p_slots: every identity
-- sequence continues above its last value in steps of p_slots, at ids whose
-- remainder modulo p_slots is p_shard.  Run once when a shard is set up
-- (orders_router.add_shard does); running it again with the same arguments
-- changes nothing a client sees.  An unconfigured database is shard 0 of 1.
CREATE FUNCTION orders.shard_configure(p_shard integer, p_slots integer) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	s record;
	next_id bigint;
	n integer := 0;
BEGIN
	IF p_slots IS NULL OR p_slots NOT BETWEEN 1 AND 1024 THEN
		RAISE EXCEPTION 'shard slots must be 1 to 1024, got %', p_slots
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_shard IS NULL OR p_shard < 0 OR p_shard >= p_slots THEN
		RAISE EXCEPTION 'shard number must be 0 to % (slots - 1), got %', p_slots - 1, p_shard
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR s IN SELECT * FROM orders.shard_sequences() LOOP
		next_id := orders.shard_next_id(coalesce(s.last_value, 0), p_shard, p_slots);
		-- Already configured so: keep going where it is.
		CONTINUE WHEN s.increment_by = p_slots AND s.start_value % p_slots = p_shard;
		EXECUTE format('ALTER SEQUENCE %s INCREMENT BY %s START WITH %s RESTART WITH %s',
					   s.seq, p_slots, next_id, next_id);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION orders.shard_configure(integer, integer) IS
'makes this database shard p_shard of p_slots: every identity sequence hands out ids with id % p_slots = p_shard from above its last value; returns how many sequences changed';

-- What the router compares across shards: a moved client's keys, tokens
-- and vouchers work on its new shard only when both hold the same server
-- secrets (digest only, never the values) and the same vault keys.
CREATE FUNCTION orders.shard_identity(OUT shard integer, OUT slots integer,
	OUT version text, OUT secrets_digest text, OUT vault_key_ids integer[])
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	SELECT (s.start_value % s.increment_by)::integer, s.increment_by::integer,
		   (SELECT extversion FROM pg_extension WHERE extname = 'orders'),
		   (SELECT encode(sha256(string_agg(convert_to(name, 'UTF8') || '\x00'::bytea || value, '\x00'::bytea
											ORDER BY name)), 'hex')
			FROM orders.server_secrets),
		   ARRAY(SELECT k.key_id FROM orders.vault_keys() k ORDER BY 1)
	FROM orders.shard_sequences() s
	WHERE s.tab = 'orders.orders'::regclass
$$;
COMMENT ON FUNCTION orders.shard_identity() IS
'this shard''s number and slots (from the orders sequence), extension version, a SHA-256 digest of the server secrets and the vault key ids: what the router compares across shards';

-- A client's rows, table by table, in the order they are inserted; the
-- predicate selects them ($1: the client).  Every table of schema orders
-- with a client_id column must be here: orders.client_export refuses
-- otherwise, so a table added later cannot be left behind by a move.
CREATE FUNCTION orders.client_tables(OUT tab text, OUT predicate text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	VALUES
		('clients', 'id = $1'),
		('webhook_endpoints', 'client_id = $1'),
		('wallets', 'client_id = $1'),
		('client_discounts', 'client_id = $1'),
		('api_keys', 'client_id = $1'),
		('inventory_units', 'id IN (SELECT i.unit_id FROM orders.order_items i WHERE i.client_id = $1)'),
		('orders', 'client_id = $1'),
		('order_items', 'client_id = $1'),
		('recharges', 'client_id = $1'),
		('ledger_entries', 'client_id = $1'),
		('status_history', $p$(entity = 'order' AND entity_id IN (SELECT o.id FROM orders.orders o WHERE o.client_id = $1))
			OR (entity = 'order_item' AND entity_id IN (SELECT i.id FROM orders.order_items i WHERE i.client_id = $1))
			OR (entity = 'recharge' AND entity_id IN (SELECT r.id FROM orders.recharges r WHERE r.client_id = $1))
			OR (entity = 'inventory_unit' AND entity_id IN (SELECT i.unit_id FROM orders.order_items i WHERE i.client_id = $1))$p$),
		('order_events', 'client_id = $1'),
		('webhook_events', 'client_id = $1'),
		('webhook_deliveries', 'client_id = $1'),
		('webhook_attempts', 'client_id = $1'),
		('vendor_jobs', 'client_id = $1'),
		('vendor_job_attempts', 'job_id IN (SELECT j.id FROM orders.vendor_jobs j WHERE j.client_id = $1)'),
		('voucher_reveals', 'client_id = $1'),
		('order_counts', 'client_id = $1'),
		('order_count_blocks', 'client_id = $1'),
		('order_count_deltas', 'client_id = $1'),
		('api_audit', 'client_id = $1')
$$;
COMMENT ON FUNCTION orders.client_tables() IS
'internal: the tables holding a client''s rows, in insertion order, with the predicate (on $1, the client) selecting them';

-- Every trigger of the client's tables off, foreign keys included: moved
-- rows arrive and leave as they are, already counted, guarded and recorded
-- by the shard they come from.  Holds a SHARE ROW EXCLUSIVE lock on each
-- table to the end of the transaction (other clients' writes on this shard
-- wait for the move's commit; reads go on).  Returns the firing mode of
-- every trigger whose mode is not the default (ALWAYS, REPLICA, disabled),
-- for orders.client_triggers_restore.
CREATE FUNCTION orders.client_triggers_off() RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	t record;
	saved jsonb;
BEGIN
	SELECT coalesce(jsonb_agg(jsonb_build_array(tg.tgrelid::regclass::text, tg.tgname, tg.tgenabled)), '[]')
	INTO saved
	FROM pg_trigger tg
	WHERE tg.tgrelid IN (SELECT format('orders.%I', c.tab)::regclass FROM orders.client_tables() c)
	  AND NOT tg.tgisinternal AND tg.tgenabled <> 'O';
	FOR t IN SELECT * FROM orders.client_tables() LOOP
		EXECUTE format('ALTER TABLE orders.%I DISABLE TRIGGER ALL', t.tab);
	END LOOP;
	RETURN saved;
END
$$;
COMMENT ON FUNCTION orders.client_triggers_off() IS
'internal: disables every trigger of the client tables for a move; returns the triggers whose firing mode is not the default, for orders.client_triggers_restore';

CREATE FUNCTION orders.client_triggers_restore(p_saved jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	t record;
	tg jsonb;
BEGIN
	FOR t IN SELECT * FROM orders.client_tables() LOOP
		EXECUTE format('ALTER TABLE orders.%I ENABLE TRIGGER ALL', t.tab);
	END LOOP;
	FOR tg IN SELECT * FROM jsonb_array_elements(p_saved) LOOP
		EXECUTE format('ALTER TABLE %s %s TRIGGER %I', tg->>0,
					   CASE tg->>2 WHEN 'A' THEN 'ENABLE ALWAYS' WHEN 'R' THEN 'ENABLE REPLICA'
								   ELSE 'DISABLE' END, tg->>1);
	END LOOP;
END
$$;
COMMENT ON FUNCTION orders.client_triggers_restore(jsonb) IS
'internal: enables the triggers of the client tables again, each in the firing mode orders.client_triggers_off saved';

-- A client's rows as one JSON document, after waiting for its requests in
-- flight: the router froze the client first (orders_router.move_client),
-- so nothing new arrives, and the lock on its clients row waits for every
-- transaction that inserted an order or a wallet of it (their foreign keys
-- hold a KEY SHARE lock on that row).  Refused while the client has vendor
-- jobs open: a vendor's report names the job, whose id leads to the shard
-- that numbered it.
CREATE FUNCTION orders.client_export(p_client_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	t record;
	rows jsonb;
	tables jsonb := '{}';
	missing text;
	ident record;
BEGIN
	PERFORM orders.admin_require_client(p_client_id);
	SELECT c.relname INTO missing
	FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'client_id' AND NOT a.attisdropped
	WHERE c.relnamespace = 'orders'::regnamespace AND c.relkind IN ('r', 'p')
	  AND c.relname NOT IN (SELECT tab FROM orders.client_tables())
	ORDER BY 1 LIMIT 1;
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'cannot export client %: table orders.% holds client rows the move does not know', p_client_id, missing
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Add the table to orders.client_tables().';
	END IF;
	PERFORM 1 FROM orders.clients WHERE id = p_client_id FOR UPDATE;
	IF EXISTS (SELECT 1 FROM orders.vendor_jobs j
			   WHERE j.client_id = p_client_id AND j.status IN ('QUEUED', 'LEASED')) THEN
		RAISE EXCEPTION 'cannot export client %: it has open vendor jobs', p_client_id
			USING ERRCODE = 'object_in_use',
				  HINT = 'Move the client once its orders are delivered, failed or cancelled.';
	END IF;
	FOR t IN SELECT * FROM orders.client_tables() LOOP
		EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(r)), ''[]'') FROM orders.%I r WHERE %s',
					   t.tab, t.predicate)
			INTO rows USING p_client_id;
		tables := tables || jsonb_build_object(t.tab, rows);
	END LOOP;
	ident := orders.shard_identity();
	RETURN jsonb_build_object('client_id', p_client_id, 'version', ident.version,
							  'secrets_digest', ident.secrets_digest,
							  'vault_key_ids', to_jsonb(ident.vault_key_ids),
							  'tables', tables);
END
$$;
COMMENT ON FUNCTION orders.client_export(bigint) IS
'a client''s rows (every table of orders.client_tables) as one JSON document for a move, after its requests in flight ended; refused while it has open vendor jobs';

-- The rows of orders.client_export arrive with their ids.  Refused unless
-- this shard has the same server secrets (the client's keys and tokens) and
-- every vault key its vouchers and webhook signing secrets are under (the
-- ciphertexts are bound to their row ids, which do not change: nothing is
-- re-encrypted), and unless
-- the client is not here already.  The orders sequence moves above the
-- client's highest client_seq, so its new orders still list first.
CREATE FUNCTION orders.client_import(p_rows jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	client bigint := (p_rows->>'client_id')::bigint;
	ident record;
	t record;
	saved jsonb;
	n bigint;
	counts jsonb := '{}';
	top bigint;
	s record;
BEGIN
	IF client IS NULL OR jsonb_typeof(p_rows->'tables') IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION 'not a client export: client_id and tables are required'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	ident := orders.shard_identity();
	IF p_rows->>'version' IS DISTINCT FROM ident.version THEN
		RAISE EXCEPTION 'cannot import client %: exported by orders %, this shard runs %',
			client, p_rows->>'version', ident.version USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF p_rows->>'secrets_digest' IS DISTINCT FROM ident.secrets_digest THEN
		RAISE EXCEPTION 'cannot import client %: the shards'' server secrets differ', client
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Every shard needs the same api_key_pepper and jwt_secret (docs/scale-out.md).';
	END IF;
	IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_rows->'tables'->'inventory_units') u
			   WHERE (u->>'key_id')::integer <> ALL (ident.vault_key_ids))
		OR EXISTS (SELECT 1 FROM jsonb_array_elements(p_rows->'tables'->'webhook_endpoints') e,
						 unnest(ARRAY[e->>'secret', e->>'previous_secret']) c
				   WHERE c IS NOT NULL
					 AND orders.vault_key_id(decode(substr(c, 3), 'hex')) <> ALL (ident.vault_key_ids)) THEN
		RAISE EXCEPTION 'cannot import client %: a voucher or webhook secret is under a vault key this shard does not have', client
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Give every shard the same vault key file (docs/scale-out.md).';
	END IF;
	IF EXISTS (SELECT 1 FROM orders.clients WHERE id = client) THEN
		RAISE EXCEPTION 'cannot import client %: it is on this shard already', client
			USING ERRCODE = 'unique_violation';
	END IF;
	saved := orders.client_triggers_off();
	FOR t IN SELECT * FROM orders.client_tables() LOOP
		EXECUTE format('INSERT INTO orders.%1$I OVERRIDING SYSTEM VALUE
						SELECT * FROM jsonb_populate_recordset(NULL::orders.%1$I, $1)', t.tab)
			USING coalesce(p_rows->'tables'->t.tab, '[]');
		GET DIAGNOSTICS n = ROW_COUNT;
		counts := counts || jsonb_build_object(t.tab, n);
	END LOOP;
	PERFORM orders.client_triggers_restore(saved);
	-- client_seq is the order id: new orders of this client must number
	-- above its old ones, in this shard's residue class.
	top := (SELECT max(o.client_seq) FROM orders.orders o WHERE o.client_id = client);
	SELECT * INTO s FROM orders.shard_sequences() q WHERE q.tab = 'orders.orders'::regclass;
	IF top IS NOT NULL AND top >= coalesce(s.last_value, 0) THEN
		EXECUTE format('ALTER SEQUENCE %s RESTART WITH %s', s.seq,
					   orders.shard_next_id(top, (s.start_value % s.increment_by)::integer,
											s.increment_by::integer));
	END IF;
	RETURN counts;
END
$$;
COMMENT ON FUNCTION orders.client_import(jsonb) IS
'the rows of orders.client_export inserted with their ids (triggers off: they arrive counted and recorded); refused if the server secrets, vault keys or version differ or the client is here already; returns rows per table';

-- The client's rows leave the shard it moved from (the router flipped its
-- placement first).
CREATE FUNCTION orders.client_purge(p_client_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	t record;
	saved jsonb;
	n bigint;
	counts jsonb := '{}';
BEGIN
	PERFORM orders.admin_require_client(p_client_id);
	PERFORM 1 FROM orders.clients WHERE id = p_client_id FOR UPDATE;
	saved := orders.client_triggers_off();
	-- Dependents first; inventory units and history by their owners, which
	-- are still there.
	FOR t IN SELECT * FROM orders.client_tables() WITH ORDINALITY AS c(tab, predicate, n)
			 ORDER BY CASE WHEN c.tab IN ('inventory_units', 'status_history', 'vendor_job_attempts')
						   THEN 0 ELSE 1 END, c.n DESC LOOP
		EXECUTE format('DELETE FROM orders.%I WHERE %s', t.tab, t.predicate) USING p_client_id;
		GET DIAGNOSTICS n = ROW_COUNT;
		counts := counts || jsonb_build_object(t.tab, n);
	END LOOP;
	PERFORM orders.client_triggers_restore(saved);
	RETURN counts;
END
$$;
COMMENT ON FUNCTION orders.client_purge(bigint) IS
'deletes every row of a client that moved to another shard (triggers off: its history leaves with it); returns rows per table';

REVOKE EXECUTE ON FUNCTION orders.shard_next_id(bigint, integer, integer), orders.shard_sequences(),
	orders.shard_configure(integer, integer), orders.shard_identity(), orders.client_tables(),
	orders.client_triggers_off(), orders.client_triggers_restore(jsonb),
	orders.client_export(bigint), orders.client_import(jsonb), orders.client_purge(bigint)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orders.shard_identity() TO orders_admin;

-- Issue 11: vendor vouchers marked in their unit rows; the replay's response, the ledger's triggers and the vendor job's trigger in C.
--
-- No setting as a channel between our own functions.  A vendor
-- job's vouchers are marked in their unit rows (inventory_units.vendor_job_id,
-- NULL for stock) by the loader the vendor report calls (orders.load_units,
-- with the JSON conversion in orders.voucher_inputs_of_json), and the
-- restock trigger serves stock only; orders.store_vendor_vouchers no longer
-- turns orders.restock_on_load off and on around its load.  Units a vendor
-- delivered under 1.0 are found by their delivery (the unit's history
-- reason, the item's order's job) and marked with their job.
ALTER TABLE orders.inventory_units ADD COLUMN vendor_job_id bigint REFERENCES orders.vendor_jobs;
UPDATE orders.inventory_units u SET vendor_job_id = j.id
FROM orders.order_items i JOIN orders.vendor_jobs j ON j.order_id = i.order_id
WHERE i.unit_id = u.id
  AND EXISTS (SELECT 1 FROM orders.status_history h
			  WHERE h.entity = 'inventory_unit' AND h.entity_id = u.id
				AND h.reason = 'vouchers fetched from the vendor');
CREATE FUNCTION orders.load_units(p_units orders.voucher_input[], p_vendor_job_id bigint)
RETURNS TABLE (entry integer, unit_id bigint, status orders.inventory_status)
LANGUAGE plpgsql
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
-- the duplicate checks hash a batch's fingerprints: keep them in memory
SET work_mem = '64MB'
AS $$
#variable_conflict use_column
DECLARE
	max_batch CONSTANT integer := 1000000;
	v_key_id integer;
	v_entry bigint;
	v_problem text;
BEGIN
	IF coalesce(cardinality(p_units), 0) = 0 THEN
		RAISE EXCEPTION 'inventory batch is empty' USING ERRCODE = '22023';
	END IF;
	IF cardinality(p_units) > max_batch THEN
		RAISE EXCEPTION 'inventory batch has % entries; at most % are loaded at once',
			cardinality(p_units), max_batch USING ERRCODE = '54000';
	END IF;

	-- The key first: without one, nothing is checked and nothing written.
	SELECT k.key_id INTO v_key_id FROM orders.vault_keys() k WHERE k.newest;

	SELECT q.ord, q.problem INTO v_entry, v_problem
	FROM (SELECT u.ordinality AS ord,
				 orders.voucher_input_problem(
					ROW(u.product_id, u.denomination, u.expires_at, u.card_number,
						u.pin_code, u.claim_url, u.voucher_reference_number)::orders.voucher_input,
					p) AS problem
		  FROM unnest(p_units) WITH ORDINALITY AS u
		  LEFT JOIN orders.products p ON p.id = u.product_id) q
	WHERE q.problem IS NOT NULL
	ORDER BY q.ord LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'inventory batch entry %: %', v_entry, v_problem
			USING ERRCODE = '22023', HINT = 'Nothing was loaded.';
	END IF;

	-- A code already loaded for the product, in this batch or before (under
	-- any key of the ring: rows not rotated yet carry an older fingerprint).
	WITH prints AS MATERIALIZED (
		SELECT u.ordinality AS ord, u.product_id,
			   orders.vault_fingerprints(coalesce(u.card_number, u.claim_url),
										 CASE WHEN u.card_number IS NULL
										 THEN 'claim_url' ELSE 'card_number' END) AS fps
		FROM unnest(p_units) WITH ORDINALITY AS u
	)
	SELECT d.ord, d.problem INTO v_entry, v_problem
	FROM (
		SELECT b.ord, format('its code is the code of entry %s', min(a.ord)) AS problem
		FROM prints a JOIN prints b
			ON a.product_id = b.product_id AND a.fps[1] = b.fps[1] AND a.ord < b.ord
		GROUP BY b.ord
		UNION ALL
		-- one row per (entry, fingerprint), joined on both columns of the
		-- unique index: linear whatever the plan (a fingerprint computed
		-- inside the join would leave product_id alone as the index key)
		SELECT n.ord, 'its code is already loaded for this product'
		FROM (SELECT p.ord, p.product_id, unnest(p.fps) AS fp FROM prints p) n
		JOIN orders.inventory_units i
			ON i.product_id = n.product_id AND i.fingerprint = n.fp
	) d
	ORDER BY d.ord LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'inventory batch entry %: %', v_entry, v_problem
			USING ERRCODE = '23505', HINT = 'Nothing was loaded.';
	END IF;

	-- Ids first: each value is bound to its row id when it is encrypted.
	-- nextval runs after the ORDER BY (volatile output expressions are
	-- evaluated in sorted order), so ids ascend with the entries and an
	-- entry's number is its id's rank.
	BEGIN
		RETURN QUERY
		WITH staged AS MATERIALIZED (
			SELECT nextval('orders.inventory_units_id_seq'::regclass) AS id, u.*
			FROM unnest(p_units) WITH ORDINALITY AS u
			ORDER BY u.ordinality
		), loaded AS (
			INSERT INTO orders.inventory_units AS t
				(id, product_id, denomination, status, expires_at,
				 card_number_enc, pin_code_enc, claim_url_enc, reference_enc,
				 fingerprint, key_id, vendor_job_id)
			OVERRIDING SYSTEM VALUE
			SELECT s.id, s.product_id, s.denomination,
				   -- a unit loaded already expired never joins the pool
				   CASE WHEN s.expires_at <= now() THEN 'BLOCKED' ELSE 'AVAILABLE' END,
				   s.expires_at,
				   orders.vault_encrypt(s.card_number, s.id, 'card_number'),
				   orders.vault_encrypt(s.pin_code, s.id, 'pin_code'),
				   orders.vault_encrypt(s.claim_url, s.id, 'claim_url'),
				   orders.vault_encrypt(s.voucher_reference_number, s.id, 'voucher_reference_number'),
				   (orders.vault_fingerprints(coalesce(s.card_number, s.claim_url),
											  CASE WHEN s.card_number IS NULL
											  THEN 'claim_url' ELSE 'card_number' END))[1],
				   v_key_id, p_vendor_job_id
			FROM staged s
			RETURNING t.id, t.status
		)
		SELECT (row_number() OVER (ORDER BY l.id))::integer, l.id, l.status
		FROM loaded l
		ORDER BY l.id;
	EXCEPTION WHEN unique_violation THEN
		-- a concurrent load of the same code won the race; the constraint's
		-- message would show the fingerprint, so say it in our words
		RAISE EXCEPTION 'inventory batch: a code of this batch was loaded concurrently for the same product'
			USING ERRCODE = '23505', HINT = 'Nothing was loaded; load the batch again to see which entry.';
	END;
END
$$;
COMMENT ON FUNCTION orders.load_units(orders.voucher_input[], bigint) IS
'loads voucher units, encrypting their codes, as stock (vendor job NULL) or as the vouchers of a vendor job; all or nothing; returns each entry''s unit id and status';
CREATE OR REPLACE FUNCTION orders.load_inventory(p_units orders.voucher_input[])
RETURNS TABLE (entry integer, unit_id bigint, status orders.inventory_status)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
	SELECT * FROM orders.load_units(p_units, NULL)
$$;
COMMENT ON FUNCTION orders.load_inventory(orders.voucher_input[]) IS
'loads voucher units into stock, encrypting their codes; all or nothing; returns each entry''s unit id and status (BLOCKED if already expired)';
CREATE FUNCTION orders.voucher_inputs_of_json(p_units jsonb)
RETURNS orders.voucher_input[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
DECLARE
	v_entry bigint;
	v_problem text;
	v_unit jsonb;
	v_field text;
	v_units orders.voucher_input[];
BEGIN
	IF jsonb_typeof(p_units) IS DISTINCT FROM 'array' THEN
		RAISE EXCEPTION 'inventory batch must be a JSON array of objects' USING ERRCODE = '22023';
	END IF;
	SELECT q.ord, q.problem INTO v_entry, v_problem
	FROM (SELECT e.ord, orders.voucher_json_problem(e.u) AS problem
		  FROM jsonb_array_elements(p_units) WITH ORDINALITY AS e(u, ord)) q
	WHERE q.problem IS NOT NULL
	ORDER BY q.ord LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'inventory batch entry %: %', v_entry, v_problem
			USING ERRCODE = '22023', HINT = 'Nothing was loaded.';
	END IF;

	BEGIN
		SELECT array_agg(orders.voucher_input_of_json(e.u) ORDER BY e.ord) INTO v_units
		FROM jsonb_array_elements(p_units) WITH ORDINALITY AS e(u, ord);
	EXCEPTION WHEN data_exception THEN
		-- the cast's message quotes the value: find the entry and field instead
		FOR v_entry, v_unit IN
			SELECT e.ord, e.u FROM jsonb_array_elements(p_units) WITH ORDINALITY AS e(u, ord)
			ORDER BY e.ord
		LOOP
			FOREACH v_field IN ARRAY ARRAY['product_id', 'denomination', 'expires_at'] LOOP
				BEGIN
					PERFORM orders.voucher_input_of_json(jsonb_build_object(v_field, v_unit->v_field));
				EXCEPTION WHEN data_exception THEN
					RAISE EXCEPTION 'inventory batch entry %: % is not a valid %', v_entry, v_field,
						CASE v_field WHEN 'product_id' THEN 'bigint'
									 WHEN 'denomination' THEN 'number'
									 ELSE 'time' END
						USING ERRCODE = '22023', HINT = 'Nothing was loaded.';
				END;
			END LOOP;
		END LOOP;
		RAISE EXCEPTION 'inventory batch: an entry could not be converted'
			USING ERRCODE = '22023', HINT = 'Nothing was loaded.';
	END;
	RETURN v_units;
END
$$;
COMMENT ON FUNCTION orders.voucher_inputs_of_json(jsonb) IS
'a JSON inventory batch as orders.voucher_input rows, checked: errors name the entry and the field, never a value';
CREATE OR REPLACE FUNCTION orders.load_inventory(p_units jsonb)
RETURNS TABLE (entry integer, unit_id bigint, status orders.inventory_status)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
	SELECT * FROM orders.load_units(orders.voucher_inputs_of_json(p_units), NULL)
$$;
COMMENT ON FUNCTION orders.load_inventory(jsonb) IS
'loads voucher units from a JSON array of {product_id, denomination, expires_at, card_number, pin_code, claim_url, voucher_reference_number}; all or nothing';
REVOKE EXECUTE ON FUNCTION
	orders.load_units(orders.voucher_input[], bigint),
	orders.voucher_inputs_of_json(jsonb)
FROM PUBLIC;
CREATE OR REPLACE FUNCTION orders.restock_on_load() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	pd record;
BEGIN
	IF NOT current_setting('orders.restock_on_load')::boolean THEN
		RETURN NULL;
	END IF;
	-- Stock only: a vendor job's vouchers are its own order's.
	FOR pd IN
		SELECT DISTINCT product_id, denomination FROM loaded
		WHERE status = 'AVAILABLE' AND vendor_job_id IS NULL
		ORDER BY product_id, denomination
	LOOP
		PERFORM orders.serve_waiting_items(pd.product_id, pd.denomination);
	END LOOP;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.restock_on_load() IS
'trigger: stock units just loaded (not a vendor job''s vouchers) first serve the items waiting for their product and denomination, unless the setting orders.restock_on_load is off';
DROP FUNCTION orders.store_vendor_vouchers(bigint, numeric, jsonb);
CREATE FUNCTION orders.store_vendor_vouchers(p_job_id bigint, p_product_id bigint,
											 p_denomination numeric, p_vouchers jsonb)
RETURNS bigint[]
LANGUAGE plpgsql
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
DECLARE
	units bigint[];
	expired integer;
BEGIN
	SELECT array_agg(l.unit_id ORDER BY l.entry), min(l.entry) FILTER (WHERE l.status <> 'AVAILABLE')
	INTO units, expired
	FROM orders.load_units(orders.voucher_inputs_of_json((
		SELECT jsonb_agg(CASE WHEN jsonb_typeof(e.v) = 'object'
						 THEN e.v || jsonb_build_object('product_id', p_product_id,
														'denomination', p_denomination)
						 ELSE e.v END ORDER BY e.ord)
		FROM jsonb_array_elements(p_vouchers) WITH ORDINALITY AS e(v, ord))), p_job_id) AS l;
	IF expired IS NOT NULL THEN
		RAISE EXCEPTION 'vendor voucher % is already expired', expired
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Nothing was stored.';
	END IF;
	RETURN units;
END
$$;
COMMENT ON FUNCTION orders.store_vendor_vouchers(bigint, bigint, numeric, jsonb) IS
'stores a vendor job''s vouchers in the vault (orders.load_units) as units of the order''s product and denomination marked with the job, which no restock serves to others; returns their ids in array order';
REVOKE EXECUTE ON FUNCTION orders.store_vendor_vouchers(bigint, bigint, numeric, jsonb) FROM PUBLIC;
CREATE OR REPLACE FUNCTION orders.report_vouchers_fetched(p_job_id bigint, p_lease_token uuid,
											   p_vouchers jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
DECLARE
	l record;
	o orders.orders;
	held bigint[];
	units bigint[];
	n integer;
BEGIN
	IF jsonb_typeof(p_vouchers) IS DISTINCT FROM 'array' OR jsonb_array_length(p_vouchers) = 0 THEN
		RAISE EXCEPTION 'vouchers must be a non-empty JSON array'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Report a failure with orders.report_vendor_failure() when the vendor delivered nothing.';
	END IF;
	n := jsonb_array_length(p_vouchers);
	l := orders.lock_vendor_lease(p_job_id, p_lease_token, 'vouchers_fetched');
	IF l.duplicate THEN
		RETURN orders.vendor_report_answer(p_job_id, true);
	END IF;
	SELECT * INTO o FROM orders.orders WHERE id = (l.job).order_id;
	SELECT array_agg(id ORDER BY id) INTO held FROM orders.order_items
	WHERE order_id = o.id AND status = 'PROCESSING';
	IF n > coalesce(cardinality(held), 0) THEN
		RAISE EXCEPTION 'vendor job %: % vouchers for % held items', p_job_id, n,
			coalesce(cardinality(held), 0) USING ERRCODE = 'invalid_parameter_value';
	END IF;

	units := orders.store_vendor_vouchers((l.job).id, o.product_id, o.denomination, p_vouchers);
	PERFORM orders.deliver_items(held[1:n], units, 'vouchers fetched from the vendor');
	-- Settle first, so that a partial delivery goes straight to
	-- PARTIALLY_DELIVERED; then give the lease up.
	PERFORM orders.settle_order(o.id, 'VENDOR_VOUCHER_FETCHED', 'FAILED', 'VENDOR_ORDER_FAILED',
								'vouchers fetched from the vendor');
	IF n = cardinality(held) THEN
		PERFORM orders.close_vendor_job(l.job, 'DONE', 'delivered', NULL, n);
	ELSE
		PERFORM orders.requeue_vendor_job(l.job, 'partial',
			format('the vendor delivered %s of %s vouchers', n, cardinality(held)), n);
	END IF;
	RETURN orders.vendor_report_answer(p_job_id, false);
END
$$;
COMMENT ON FUNCTION orders.report_vouchers_fetched(bigint, uuid, jsonb) IS
'vendor side: vouchers for the held items (JSON array, as orders.load_inventory takes them) go into the vault and are delivered; fewer than held is a partial delivery, the rest is retried';

-- A replay's response (the stored order's placeOrder body) is built by one
-- saved statement in C (src/order_response.c), which create_order calls
-- directly; orders.place_order_response is that C function.
CREATE OR REPLACE FUNCTION orders.place_order_response(p_order_id bigint) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'order_place_response'
	LANGUAGE C STRICT VOLATILE SET search_path = pg_catalog, orders;
COMMENT ON FUNCTION orders.place_order_response(bigint) IS
'the reference 003 response body {"data":{"placeOrder":{"status":1,"data":{...}}}} of an order, as it is now; NULL when there is no such order';

-- The ledger's triggers, orders.ledger_apply and orders.wallet_guard, in C
-- (src/wallet_ledger.c): the same statements, checks and messages; they
-- fire on every order's debit.
CREATE OR REPLACE FUNCTION orders.ledger_apply() RETURNS trigger
	AS 'MODULE_PATHNAME', 'ledger_apply' LANGUAGE C;
CREATE OR REPLACE FUNCTION orders.wallet_guard() RETURNS trigger
	AS 'MODULE_PATHNAME', 'wallet_guard' LANGUAGE C;

-- The vendor job's trigger, orders.queue_vendor_job, in C
-- (src/vendor_queue_trigger.c): the same INSERT; every DELAYED order fires it.
CREATE OR REPLACE FUNCTION orders.queue_vendor_job() RETURNS trigger
	AS 'MODULE_PATHNAME', 'queue_vendor_job' LANGUAGE C;

-- Issue 12: pg_dump carries the business data (schema/95_dump_restore.sql):
-- every table of orders.client_tables() is marked for the dump, with its
-- identity sequence, and orders.restore_begin() / restore_end() switch the
-- triggers off for the data section of a restore (docs/releases.md,
-- "Backups").
DO $$
DECLARE
	t regclass;
	seq text;
BEGIN
	FOR t IN
		SELECT format('orders.%I', c.tab)::regclass FROM orders.client_tables() c
		EXCEPT
		SELECT u.t FROM pg_catalog.pg_extension e, unnest(e.extconfig) AS u(t)
		WHERE e.extname = 'orders'
	LOOP
		PERFORM pg_catalog.pg_extension_config_dump(t, '');
		FOR seq IN
			SELECT pg_catalog.pg_get_serial_sequence(t::text, a.attname)
			FROM pg_catalog.pg_attribute a
			WHERE a.attrelid = t AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> ''
		LOOP
			PERFORM pg_catalog.pg_extension_config_dump(seq::regclass, '');
		END LOOP;
	END LOOP;
END $$;

-- Restoring: the data section of a dump COPYs rows that already carry the
-- effects of the extension's triggers (a ledger entry's balance move, an
-- order's history and events, its list counts), and the guards refuse rows
-- that did not come through the engine (a wallet created with a balance, an
-- order born DELIVERED).  The triggers are ENABLE ALWAYS, so neither
-- session_replication_role nor pg_restore --disable-triggers (data-only,
-- and it would re-enable them as plain ENABLE) is the answer: the operator
-- restores in three sections and switches them off for the data only:
--   pg_restore --section=pre-data ...; SELECT orders.restore_begin();
--   pg_restore --section=data ...;     SELECT orders.restore_end();
--   pg_restore --section=post-data ...
-- The server secrets' restore trigger stays on throughout (the dumped
-- secrets replace the ones CREATE EXTENSION made): its table is not one of
-- the clients' tables.

-- The user triggers of the tables a dump carries (orders.client_tables()),
-- switched off, or on again as the extension ships every one of them:
-- ENABLE ALWAYS.  Returns how many it switched.
CREATE FUNCTION orders.restore_switch_triggers(p_on boolean) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	tg record;
	n integer := 0;
BEGIN
	FOR tg IN
		SELECT t.tgrelid::regclass AS tab, t.tgname
		FROM orders.client_tables() c
		JOIN pg_catalog.pg_trigger t ON t.tgrelid = format('orders.%I', c.tab)::regclass
		WHERE NOT t.tgisinternal AND (t.tgenabled = 'D') = p_on
		ORDER BY 1, 2
	LOOP
		EXECUTE format('ALTER TABLE %s %s TRIGGER %I', tg.tab,
					   CASE WHEN p_on THEN 'ENABLE ALWAYS' ELSE 'DISABLE' END, tg.tgname);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION orders.restore_switch_triggers(boolean) IS
'internal: switches the user triggers of the tables a dump carries off (false), or on again as installed, ENABLE ALWAYS (true); returns how many; for orders.restore_begin and orders.restore_end';

CREATE FUNCTION orders.restore_begin() RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM orders.orders) OR EXISTS (SELECT 1 FROM orders.clients) THEN
		RAISE EXCEPTION 'orders.restore_begin: this database already holds clients or orders'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Restore a dump into a new database: pg_restore --section=pre-data first (it runs CREATE EXTENSION).';
	END IF;
	RETURN orders.restore_switch_triggers(false);
END
$$;
COMMENT ON FUNCTION orders.restore_begin() IS
'restoring a dump into a new database, between pg_restore''s pre-data and data sections: switches the extension''s triggers off so that the dumped rows load as they are; returns how many; orders.restore_end() switches them on again';

CREATE FUNCTION orders.restore_end() RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	bad bigint;
	n integer;
BEGIN
	-- The books first: a dump whose ledger does not add up to its wallets
	-- is not restored into service (the triggers stay off, the error says
	-- why).
	SELECT count(*) INTO bad FROM orders.verify_ledger();
	IF bad > 0 THEN
		RAISE EXCEPTION 'orders.restore_end: the restored ledger does not match % wallet(s)', bad
			USING ERRCODE = 'data_corrupted',
				  HINT = 'SELECT * FROM orders.verify_ledger() names them; was the data section restored whole?';
	END IF;
	n := orders.restore_switch_triggers(true);
	-- Routes an operator had added came back as rows: dispatch follows them.
	EXECUTE orders.api_call_source();
	RETURN n;
END
$$;
COMMENT ON FUNCTION orders.restore_end() IS
'restoring a dump, after pg_restore''s data section: checks the ledger against the wallets (an error if it does not add up), switches the extension''s triggers on again (ENABLE ALWAYS, as installed), regenerates dispatch for restored routes; returns how many triggers';
REVOKE EXECUTE ON FUNCTION orders.restore_switch_triggers(boolean), orders.restore_begin(),
	orders.restore_end() FROM PUBLIC;

-- Issue 11: create path

-- orders.denomination_offered without its SET clause, every operator
-- qualified: the planner inlines it into the create path's validation query
-- (with the SET it was a separate SQL function, parsed and planned at every
-- call).  Same result for every product and denomination.
CREATE OR REPLACE FUNCTION orders.denomination_offered(p_product orders.products, p_denomination numeric)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE
		WHEN p_product.denominations IS NOT NULL THEN
			p_denomination OPERATOR(pg_catalog.=) ANY (p_product.denominations)
		WHEN p_product.min_denomination IS NOT NULL THEN
			p_denomination OPERATOR(pg_catalog.>=) p_product.min_denomination
			AND p_denomination OPERATOR(pg_catalog.<=) p_product.max_denomination
			AND ((p_denomination OPERATOR(pg_catalog.-) p_product.min_denomination)
				 OPERATOR(pg_catalog.%) p_product.denomination_step) OPERATOR(pg_catalog.=) 0
		ELSE false
	END
$$;

-- The reference code of a new order: ORD- and 16 hex digits as before, 4
-- from the minute it is placed and 12 random (was 16 random), so that new
-- codes land next to each other in the unique index instead of costing a
-- full-page image of a random leaf after every checkpoint.
ALTER TABLE orders.orders ALTER COLUMN reference_code
	SET DEFAULT 'ORD-' || upper(lpad(to_hex((floor(extract(epoch FROM now()) / 60)::bigint % 65536)::integer), 4, '0')
								|| substr(md5(gen_random_uuid()::text), 1, 12));

-- Issue 13: delivery throughput
--
-- The claim finds what it may send from an index: webhook_deliveries.head
-- marks the pending delivery of an (endpoint, order) that may be sent now
-- (maintained by the fan-out and by whatever ends a delivery,
-- orders.webhook_next_head), and webhook_deliveries_due_heads orders the
-- heads by due time.  The fan-out (orders.webhook_enqueue) leaves the claim
-- and runs in its own transaction, called by the daemon (granted to
-- orders_webhook_sender), with its own position in the outbox
-- (order_events.webhooks_queued_at; acknowledged_at stays the
-- acknowledge_events consumers' own).  Outbox rows of 1.0 are not queued:
-- the fan-out walks them once, creating nothing (no endpoint is older than
-- them).  Retention: orders.webhook_purge, run by maintenance, deletes
-- events (with deliveries and attempts) ended longer than
-- orders.webhook_retention ago (30 days).
ALTER TABLE orders.order_events ADD COLUMN webhooks_queued_at timestamptz;
CREATE INDEX order_events_webhooks_unqueued ON orders.order_events (id)
	WHERE webhooks_queued_at IS NULL;
COMMENT ON TABLE orders.order_events IS
'outbox: one row per order status change (and refund), numbered per order (seq); polled by index, announced by maintenance (NOTIFY orders_events); two independent consumer positions: acknowledged_at (orders.acknowledge_events) and webhooks_queued_at (the webhook fan-out)';
CREATE OR REPLACE FUNCTION orders.guard_order_events() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	IF (OLD.acknowledged_at IS NOT NULL AND NEW.acknowledged_at IS DISTINCT FROM OLD.acknowledged_at)
		OR (OLD.webhooks_queued_at IS NOT NULL AND NEW.webhooks_queued_at IS DISTINCT FROM OLD.webhooks_queued_at)
		OR (to_jsonb(NEW) - 'acknowledged_at' - 'webhooks_queued_at')
		   <> (to_jsonb(OLD) - 'acknowledged_at' - 'webhooks_queued_at') THEN
		RAISE EXCEPTION 'order_events is append-only: only acknowledged_at and webhooks_queued_at may be set, each once'
			USING ERRCODE = 'OR003';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION orders.guard_order_events() IS
'trigger: an outbox row never changes, except that each consumer position (acknowledged_at, webhooks_queued_at) is set once';

-- Added without a default first, then given one: a default in ADD COLUMN
-- would store a "missing value" that a fresh install does not have.
ALTER TABLE orders.webhook_deliveries ADD COLUMN head boolean;
ALTER TABLE orders.webhook_deliveries ALTER COLUMN head SET DEFAULT true;
UPDATE orders.webhook_deliveries SET head = true;
ALTER TABLE orders.webhook_deliveries ALTER COLUMN head SET NOT NULL;
CREATE INDEX webhook_deliveries_due_heads ON orders.webhook_deliveries (next_attempt_at, id)
	WHERE status = 'pending' AND head;
-- every pending row in due order: no longer the claim's, and a report's
-- lookup of its (endpoint, order) must not walk it
DROP INDEX orders.webhook_deliveries_due;
CREATE INDEX webhook_deliveries_event ON orders.webhook_deliveries (event_id);
COMMENT ON TABLE orders.webhook_deliveries IS
'a webhook event to deliver to an endpoint: pending (due at next_attempt_at, leased by a sender or free), succeeded, failed (given up) or dropped (endpoint deleted); attempt = attempts claimed; head = the pending delivery of its endpoint and order that may be sent now';

-- one more setting (retention): one more OUT parameter
DROP FUNCTION orders.webhook_policy();
CREATE FUNCTION orders.webhook_policy(OUT secret_grace interval, OUT disable_after interval,
	OUT allow_private_addresses boolean, OUT retry_schedule text, OUT retention interval)
	AS 'MODULE_PATHNAME', 'webhook_policy' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.webhook_policy() IS
'the webhook settings: orders.webhook_secret_grace, orders.webhook_disable_after, orders.webhook_allow_private_addresses, orders.webhook_retry_schedule (text; parsed by orders.webhook_retry_delays()), orders.webhook_retention';
REVOKE EXECUTE ON FUNCTION orders.webhook_policy() FROM PUBLIC;

CREATE FUNCTION orders.webhook_next_head(p_endpoint_id bigint, p_order_id bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	first_id bigint;
	any_head boolean;
BEGIN
	-- The pair's pending rows (a few) from webhook_deliveries_pending_order.
	-- No condition on head here: a query that asked for the heads would
	-- let the planner walk webhook_deliveries_due_heads, every due head of
	-- every endpoint, at each report.
	SELECT (array_agg(e.id ORDER BY e.id))[1], bool_or(e.head) INTO first_id, any_head
	FROM orders.webhook_deliveries e
	WHERE e.endpoint_id = p_endpoint_id AND e.order_id = p_order_id AND e.status = 'pending';
	IF first_id IS NOT NULL AND NOT any_head THEN
		UPDATE orders.webhook_deliveries SET head = true WHERE id = first_id;
	END IF;
END
$$;
COMMENT ON FUNCTION orders.webhook_next_head(bigint, bigint) IS
'after a delivery of an endpoint and order ended: the earliest pending delivery of that endpoint and order becomes sendable (head), unless one already is';

CREATE OR REPLACE FUNCTION orders.webhook_enqueue(p_limit integer DEFAULT 1000) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	created integer;
	new_heads bigint[];
BEGIN
	IF p_limit IS NULL OR p_limit < 1 THEN
		RAISE EXCEPTION 'limit must be at least 1, not %', coalesce(p_limit::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- the key: 'orders.webhook_enqueue' as two int4 (arbitrary, fixed)
	IF NOT pg_try_advisory_xact_lock(1869770099, 1751474795) THEN
		RETURN 0;
	END IF;
	WITH ev AS (
		SELECT e.id, e.client_id, e.order_id, e.event, e.status, e.sub_status, e.created_at
		FROM orders.order_events e
		WHERE e.webhooks_queued_at IS NULL
		ORDER BY e.id
		LIMIT p_limit
		FOR UPDATE
	), queued AS (
		UPDATE orders.order_events e SET webhooks_queued_at = now()
		FROM ev WHERE e.id = ev.id
		RETURNING e.id
	), eps AS (
		-- The live endpoints of these clients, locked FOR KEY SHARE: an
		-- endpoint being deleted (its handler holds FOR UPDATE) is waited
		-- for and then seen deleted, and one deleted after this lock waits
		-- for our commit before it drops its pending deliveries, ours
		-- included.  Never a pending delivery of a deleted endpoint.
		SELECT w.id, w.client_id, w.event_types, w.created_at
		FROM orders.webhook_endpoints w
		WHERE w.client_id IN (SELECT ev.client_id FROM ev)
		  AND w.deleted_at IS NULL AND w.disabled_at IS NULL
		FOR KEY SHARE
	), typed AS (
		SELECT ev.id AS order_event_id, ev.client_id, ev.order_id, ev.created_at, t.n, t.type,
			   orders.webhook_order_json(o) || jsonb_build_object('status', ev.status) AS data,
			   orders.webhook_new_msg_id() AS msg_id
		FROM ev
		JOIN orders.orders o ON o.id = ev.order_id
		JOIN orders.products p ON p.id = o.product_id
		CROSS JOIN LATERAL (VALUES (1, ev.event),
			(2, orders.webhook_recharge_event(p.kind, ev.status, ev.sub_status))) AS t(n, type)
		WHERE t.type IS NOT NULL
		  AND EXISTS (SELECT 1 FROM eps w
					  WHERE w.client_id = ev.client_id AND t.type = ANY (w.event_types)
						AND w.created_at <= ev.created_at)
	), made AS (
		INSERT INTO orders.webhook_events (client_id, msg_id, type, order_id, order_event_id, body, created_at)
		SELECT typed.client_id, typed.msg_id, typed.type, typed.order_id, typed.order_event_id,
			   orders.webhook_body(typed.msg_id, typed.type, typed.created_at, typed.data), typed.created_at
		FROM typed
		ORDER BY typed.order_event_id, typed.n
		RETURNING id, client_id, type, order_id, created_at
	), inserted AS (
		-- An endpoint gets the events that happen once it exists, not those
		-- still waiting in the outbox from before it was registered.  Per
		-- (endpoint, order) the first of this round is a head (undone below
		-- when an earlier one is still pending), the others wait for it.
		INSERT INTO orders.webhook_deliveries (client_id, endpoint_id, event_id, order_id, head)
		SELECT nd.client_id, nd.endpoint_id, nd.event_id, nd.order_id, nd.n = 1
		FROM (SELECT made.client_id, w.id AS endpoint_id, made.id AS event_id, made.order_id,
					 row_number() OVER (PARTITION BY w.id, made.order_id ORDER BY made.id) AS n
			  FROM made
			  JOIN eps w
				  ON w.client_id = made.client_id
				  AND made.type = ANY (w.event_types) AND w.created_at <= made.created_at) nd
		ORDER BY nd.event_id, nd.endpoint_id
		RETURNING id, head
	)
	SELECT count(*), coalesce(array_agg(i.id) FILTER (WHERE i.head), '{}') INTO created, new_heads
	FROM inserted i;

	IF cardinality(new_heads) > 0 THEN
		-- Pairs with deliveries still pending from an earlier round: lock
		-- those (in id order; a report locks its own delivery first, then
		-- later ones), waiting for a report in progress, so that the next
		-- statement sees each pair as it is once that report committed, and
		-- a report that comes after ours sees the new deliveries.
		-- Each new head, then its pair's earlier pending rows by the pair's
		-- index (a nested loop: the cost follows the new heads).
		PERFORM 1
		FROM unnest(new_heads) AS h(id)
		JOIN orders.webhook_deliveries n ON n.id = h.id
		JOIN orders.webhook_deliveries e
			ON e.endpoint_id = n.endpoint_id AND e.order_id = n.order_id
			AND e.status = 'pending' AND e.id < n.id
		ORDER BY e.id
		FOR UPDATE OF e;
		UPDATE orders.webhook_deliveries n SET head = false
		FROM unnest(new_heads) AS h(id)
		WHERE n.id = h.id
		  AND EXISTS (SELECT 1 FROM orders.webhook_deliveries e
					  WHERE e.endpoint_id = n.endpoint_id AND e.order_id = n.order_id
						AND e.status = 'pending' AND e.id < n.id);
	END IF;
	RETURN created;
END
$$;
COMMENT ON FUNCTION orders.webhook_enqueue(integer) IS
'delivery daemon: the fan-out: turns up to p_limit outbox events not yet queued for webhooks (in id order; its own position webhooks_queued_at, never acknowledged_at) into webhook events and deliveries for the enabled endpoints subscribed to them, and marks them queued; one caller at a time (another gets 0); returns the deliveries created';

CREATE OR REPLACE FUNCTION orders.webhook_claim(p_sender text, p_max integer DEFAULT 16,
	p_lease interval DEFAULT '60 seconds')
RETURNS TABLE (delivery_id bigint, attempt integer, url text, webhook_id text,
	webhook_timestamp bigint, webhook_signature text, body text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
#variable_conflict use_column
DECLARE
	max_attempts integer := cardinality(orders.webhook_retry_delays()) + 1;
	ts bigint := floor(extract(epoch FROM now()))::bigint;
	claimed_ids bigint[];
	given_up_pairs bigint[];	-- (endpoint, order) of each delivery given up
	r record;
	signature text;
BEGIN
	IF p_sender IS NULL OR length(p_sender) NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'sender must be 1 to 100 characters' USING ERRCODE = 'invalid_parameter_value';
	ELSIF p_max IS NULL OR p_max NOT BETWEEN 1 AND 1000 THEN
		RAISE EXCEPTION 'max must be between 1 and 1000, not %', coalesce(p_max::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	ELSIF p_lease IS NULL OR p_lease NOT BETWEEN interval '1 second' AND interval '1 hour' THEN
		RAISE EXCEPTION 'lease must be between 1 second and 1 hour, not %', coalesce(p_lease::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- Due, free heads of enabled endpoints.  One whose lease ran out on the
	-- last allowed attempt (its sender died with it) is given up, like a
	-- failed last attempt, and the next of its order becomes the head; the
	-- others are leased and their attempt counted.
	WITH due AS (
		SELECT d.id, d.lease_until IS NOT NULL AND d.attempt >= max_attempts AS lost
		FROM orders.webhook_deliveries d
		WHERE d.status = 'pending' AND d.head AND d.next_attempt_at <= now()
		  AND (d.lease_until IS NULL OR d.lease_until <= now())
		  AND EXISTS (SELECT 1 FROM orders.webhook_endpoints w
					  WHERE w.id = d.endpoint_id AND w.deleted_at IS NULL AND w.disabled_at IS NULL)
		ORDER BY d.next_attempt_at, d.id
		LIMIT p_max
		FOR UPDATE OF d SKIP LOCKED
	), claimed AS (
		UPDATE orders.webhook_deliveries d
		SET attempt = d.attempt + 1, leased_by = p_sender, lease_until = now() + p_lease
		FROM due WHERE d.id = due.id AND NOT due.lost
		RETURNING d.id, d.client_id, d.attempt
	), attempts AS (
		INSERT INTO orders.webhook_attempts (client_id, delivery_id, attempt, sender)
		SELECT c.client_id, c.id, c.attempt, p_sender FROM claimed c
	), given_up AS (
		UPDATE orders.webhook_deliveries d
		SET status = 'failed', completed_at = now(), leased_by = NULL, lease_until = NULL
		FROM due WHERE d.id = due.id AND due.lost
		RETURNING d.endpoint_id, d.order_id
	)
	SELECT coalesce((SELECT array_agg(c.id) FROM claimed c), '{}'),
		   (SELECT array_agg(ARRAY[g.endpoint_id, g.order_id]) FROM given_up g WHERE g.order_id IS NOT NULL)
	INTO claimed_ids, given_up_pairs;
	FOR i IN 1 .. coalesce(array_length(given_up_pairs, 1), 0) LOOP
		PERFORM orders.webhook_next_head(given_up_pairs[i][1], given_up_pairs[i][2]);
	END LOOP;

	FOR r IN
		SELECT d.id, d.attempt, d.endpoint_id, w.url, w.secret, w.previous_secret,
			   w.previous_secret_until, ev.msg_id, ev.body
		FROM orders.webhook_deliveries d
		JOIN orders.webhook_endpoints w ON w.id = d.endpoint_id
		JOIN orders.webhook_events ev ON ev.id = d.event_id
		WHERE d.id = ANY (claimed_ids)
		ORDER BY d.id
	LOOP
		-- A secret that cannot be decrypted (its vault key left the key
		-- file, a damaged row) fails that attempt, not the whole claim.
		BEGIN
			signature := orders.webhook_sign(ARRAY[
					orders.vault_decrypt(r.secret, r.endpoint_id, 'webhook_secret'),
					CASE WHEN r.previous_secret_until > now() THEN
						orders.vault_decrypt(r.previous_secret, r.endpoint_id, 'webhook_previous_secret') END],
				r.msg_id, ts, r.body);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'webhook endpoint %: a message could not be signed (SQLSTATE %); its delivery is retried on schedule',
				r.endpoint_id, SQLSTATE;
			PERFORM orders.webhook_report(r.id, r.attempt, NULL, NULL,
				format('not sent: the message could not be signed (SQLSTATE %s)', SQLSTATE));
			CONTINUE;
		END;
		delivery_id := r.id;
		attempt := r.attempt;
		url := r.url;
		webhook_id := r.msg_id;
		webhook_timestamp := ts;
		webhook_signature := signature;
		body := r.body;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION orders.webhook_claim(text, integer, interval) IS
'delivery daemon: leases up to p_max due deliveries (FOR UPDATE SKIP LOCKED; enabled endpoints only; per endpoint and order only the head, i.e. after every earlier delivery succeeded or was given up or dropped; an expired lease is claimable again, or given up if it was the last attempt) for p_lease, counts the attempt and returns what to POST: url, the webhook-id, webhook-timestamp and webhook-signature headers, and the exact body; a message that cannot be signed (its secret undecryptable) is not returned, its attempt reported failed; queues nothing (orders.webhook_enqueue does)';

CREATE OR REPLACE FUNCTION orders.webhook_report(p_delivery_id bigint, p_attempt integer,
	p_http_status integer, p_latency_ms integer, p_error text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	d orders.webhook_deliveries;
	delays interval[];
	started timestamptz;
BEGIN
	IF p_delivery_id IS NULL OR p_attempt IS NULL THEN
		RAISE EXCEPTION 'delivery id and attempt are required' USING ERRCODE = 'invalid_parameter_value';
	ELSIF p_http_status NOT BETWEEN 100 AND 599 THEN
		RAISE EXCEPTION 'http status must be between 100 and 599 (NULL: no HTTP answer), not %', p_http_status
			USING ERRCODE = 'invalid_parameter_value';
	ELSIF p_latency_ms < 0 THEN
		RAISE EXCEPTION 'latency must be >= 0 ms, not %', p_latency_ms USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO d FROM orders.webhook_deliveries WHERE id = p_delivery_id FOR UPDATE;
	-- Not the current attempt (its lease was lost and the delivery claimed
	-- again), already reported, or ended: ignored.
	IF NOT FOUND OR d.status <> 'pending' OR d.attempt <> p_attempt OR d.leased_by IS NULL THEN
		RETURN;
	END IF;
	UPDATE orders.webhook_attempts
	SET finished_at = now(), http_status = p_http_status, latency_ms = p_latency_ms,
		error = left(regexp_replace(p_error, '[[:cntrl:]]', ' ', 'g'), 300)
	WHERE delivery_id = d.id AND attempt = d.attempt
	RETURNING started_at INTO started;

	IF p_http_status BETWEEN 200 AND 299 THEN
		UPDATE orders.webhook_deliveries
		SET status = 'succeeded', completed_at = now(), leased_by = NULL, lease_until = NULL
		WHERE id = d.id;
		IF d.order_id IS NOT NULL THEN
			PERFORM orders.webhook_next_head(d.endpoint_id, d.order_id);
		END IF;
		UPDATE orders.webhook_endpoints SET failing_since = NULL
		WHERE id = d.endpoint_id AND failing_since IS NOT NULL;
		RETURN;
	END IF;

	delays := orders.webhook_retry_delays();
	IF d.attempt <= cardinality(delays) THEN
		-- the schedule's delay, with +-10 % jitter (senders do not retry in step)
		UPDATE orders.webhook_deliveries
		SET next_attempt_at = now() + delays[d.attempt] * (0.9 + 0.2 * random()),
			leased_by = NULL, lease_until = NULL
		WHERE id = d.id;
	ELSE
		UPDATE orders.webhook_deliveries
		SET status = 'failed', completed_at = now(), leased_by = NULL, lease_until = NULL
		WHERE id = d.id;
		IF d.order_id IS NOT NULL THEN
			PERFORM orders.webhook_next_head(d.endpoint_id, d.order_id);
		END IF;
	END IF;
	PERFORM orders.webhook_endpoint_failed(d.endpoint_id, coalesce(started, now()));
END
$$;
COMMENT ON FUNCTION orders.webhook_report(bigint, integer, integer, integer, text) IS
'delivery daemon: the result of attempt p_attempt of a delivery (p_http_status NULL: no HTTP answer; p_error a short reason, no secrets); 2xx succeeds, anything else is retried after the next delay of orders.webhook_retry_schedule (+-10 % jitter) or given up after the last; a report of an attempt that is not the current one is ignored';

CREATE OR REPLACE FUNCTION orders.webhook_announce() RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM orders.order_events e WHERE e.webhooks_queued_at IS NULL)
	   OR EXISTS (SELECT 1 FROM orders.webhook_deliveries d
				  WHERE d.status = 'pending' AND d.head AND d.next_attempt_at <= now()
					AND (d.lease_until IS NULL OR d.lease_until <= now())) THEN
		PERFORM pg_notify('orders_webhooks', '');
		RETURN true;
	END IF;
	RETURN false;
END
$$;
COMMENT ON FUNCTION orders.webhook_announce() IS
'sends NOTIFY orders_webhooks (delivered at commit) when webhook deliveries are due or outbox events wait to be queued; run by orders.run_maintenance(); returns whether it notified';

CREATE FUNCTION orders.webhook_purge(p_batch integer DEFAULT 1000) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	cutoff timestamptz := now() - (orders.webhook_policy()).retention;
	ev record;
	ids bigint[] := '{}';
	purged integer;
BEGIN
	IF p_batch IS NULL OR p_batch NOT BETWEEN 1 AND 100000 THEN
		RAISE EXCEPTION 'batch must be between 1 and 100000, not %', coalesce(p_batch::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR ev IN SELECT e.id, e.created_at FROM orders.webhook_events e ORDER BY e.id LIMIT p_batch LOOP
		EXIT WHEN ev.created_at >= cutoff;
		IF NOT EXISTS (SELECT 1 FROM orders.webhook_deliveries d
					   WHERE d.event_id = ev.id AND (d.status = 'pending' OR d.completed_at >= cutoff)) THEN
			ids := ids || ev.id;
		END IF;
	END LOOP;
	IF cardinality(ids) = 0 THEN
		RETURN 0;
	END IF;
	DELETE FROM orders.webhook_attempts a
	USING orders.webhook_deliveries d
	WHERE a.delivery_id = d.id AND d.event_id = ANY (ids);
	DELETE FROM orders.webhook_deliveries d WHERE d.event_id = ANY (ids);
	DELETE FROM orders.webhook_events e WHERE e.id = ANY (ids);
	GET DIAGNOSTICS purged = ROW_COUNT;
	RETURN purged;
END
$$;
COMMENT ON FUNCTION orders.webhook_purge(integer) IS
'retention: deletes up to p_batch of the oldest webhook events whose deliveries all ended (succeeded, failed, dropped) more than orders.webhook_retention ago, with their deliveries and attempts; run by orders.run_maintenance(); returns the events deleted';

CREATE OR REPLACE FUNCTION orders.handle_retry_webhook_delivery(p_client bigint, p_id bigint, p_delivery_id bigint)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints := orders.webhook_of_client(p_client, p_id);
	d orders.webhook_deliveries;
BEGIN
	IF w.id IS NULL THEN
		RETURN orders.api_error('no_match');
	END IF;
	SELECT * INTO d FROM orders.webhook_deliveries x
	WHERE x.id = p_delivery_id AND x.endpoint_id = w.id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN orders.api_error('no_match');
	ELSIF d.leased_by IS NOT NULL AND d.lease_until > now() THEN
		RETURN orders.api_error('webhook_conflict', 'the delivery is being sent now');
	ELSIF w.disabled_at IS NOT NULL THEN
		RETURN orders.api_error('webhook_conflict',
			'the endpoint is disabled: enable it first (PATCH with "enabled": true)');
	END IF;
	-- one more attempt, now (a failure of it is final); same webhook-id.
	-- An ended delivery sent again is a head of its own (the client asked
	-- for this message again: it waits for no other delivery of its
	-- order); a pending one keeps its place in its order's sequence.
	UPDATE orders.webhook_deliveries
	SET status = 'pending', completed_at = NULL, next_attempt_at = now(),
		leased_by = NULL, lease_until = NULL, head = d.head OR d.status <> 'pending'
	WHERE id = d.id
	RETURNING * INTO d;
	PERFORM pg_notify('orders_webhooks', '');
	RETURN orders.api_ok(orders.webhook_delivery_json(d), 202);
END
$$;
COMMENT ON FUNCTION orders.handle_retry_webhook_delivery(bigint, bigint, bigint) IS
'internal: POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry: the delivery is due again now, with the same webhook-id; 202 with it; 409 while it is being sent or when the endpoint is disabled; 404 for an unknown id and another client''s alike';

-- maintenance wakes the webhook daemons and purges old webhook data (the
-- one definition of 1.1: the issue 13 section no longer has its own)
CREATE OR REPLACE FUNCTION orders.run_maintenance() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	j orders.vendor_jobs;
	pd record;
	blocked integer;
	recovered integer := 0;
	expired integer := 0;
	served integer := 0;
	errors integer := 0;
	sandbox jsonb;
	announced bigint;
	counts bigint;
	purged integer;
BEGIN
	blocked := orders.expire_units();

	-- Leases that ran out: the job returns to the queue (after the backoff,
	-- as a failed attempt).  Retry windows that closed: the job ends.  Busy
	-- orders are left to the next round.
	FOR j IN
		SELECT vj.* FROM orders.vendor_jobs vj JOIN orders.orders o ON o.id = vj.order_id
		WHERE (vj.status = 'LEASED' AND vj.lease_until <= now())
		   OR (vj.status = 'QUEUED' AND vj.deadline <= now())
		ORDER BY vj.id
		FOR UPDATE OF vj, o SKIP LOCKED
	LOOP
		BEGIN
			IF j.status = 'LEASED' THEN
				PERFORM orders.requeue_vendor_job(j, 'lease_expired',
					format('the lease of %s expired', j.leased_by));
				recovered := recovered + 1;
			ELSE
				PERFORM orders.expire_vendor_job(j);
				expired := expired + 1;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			errors := errors + 1;
			RAISE WARNING 'orders maintenance: vendor job % (%): %', j.id, j.status, SQLERRM;
		END;
	END LOOP;

	-- Units loaded while restock was off, or freed by a cancellation,
	-- serve the waiting items.
	FOR pd IN
		SELECT DISTINCT o.product_id, o.denomination
		FROM orders.vendor_jobs vj JOIN orders.orders o ON o.id = vj.order_id
		WHERE vj.status = 'QUEUED' AND o.status IN ('PENDING', 'PARTIALLY_DELIVERED')
			AND EXISTS (SELECT 1 FROM orders.inventory_units u
						WHERE u.product_id = o.product_id AND u.denomination = o.denomination
							AND u.status = 'AVAILABLE' AND u.expires_at > now())
		ORDER BY 1, 2
	LOOP
		BEGIN
			served := served + orders.serve_waiting_items(pd.product_id, pd.denomination);
		EXCEPTION WHEN OTHERS THEN
			errors := errors + 1;
			RAISE WARNING 'orders maintenance: serving product % / % failed: %',
				pd.product_id, pd.denomination, SQLERRM;
		END;
	END LOOP;

	IF (orders.vendor_policy()).sandbox THEN
		sandbox := orders.sandbox_vendor_round();
	END IF;

	-- The list counts: fold the committed deltas (schema/54_order_listing.sql).
	counts := orders.roll_up_order_counts();

	-- last: the events of this round's own changes are announced too
	announced := orders.announce_events();
	-- and the webhook daemons woken (schema/69_webhook_delivery.sql)
	PERFORM orders.webhook_announce();
	-- webhook events past their retention deleted, a batch a round
	purged := orders.webhook_purge();

	RETURN jsonb_build_object(
		'units_blocked', blocked,
		'leases_recovered', recovered,
		'jobs_expired', expired,
		'items_restocked', served,
		'jobs_ready', (SELECT count(*) FROM orders.vendor_jobs
					   WHERE status = 'QUEUED' AND next_attempt_at <= now()),
		'sandbox', sandbox,
		'events_announced', announced,
		'order_count_deltas_folded', counts,
		'webhook_events_purged', purged,
		'errors', errors);
END
$$;
COMMENT ON FUNCTION orders.run_maintenance() IS
'one maintenance round (what the background worker runs): expired units BLOCKED, lost leases back to the queue, closed retry windows failed and refunded, waiting items served from stock, the sandbox vendor if on, the order list counts rolled up, new outbox events announced (NOTIFY orders_events), webhook daemons woken when deliveries are due (NOTIFY orders_webhooks), webhook events past orders.webhook_retention deleted (a batch)';

REVOKE EXECUTE ON FUNCTION
	orders.webhook_next_head(bigint, bigint),
	orders.webhook_purge(integer)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orders.webhook_enqueue(integer) TO orders_webhook_sender;

-- Issue 14: router metrics and moves
-- (docs/scale-out.md, "Metrics" and "Moving a client"; schema/77_metrics.sql,
-- schema/76_shard.sql)

-- Every series as a sample line of the text format, p_labels added to its
-- own labels (a router adds shard="n": docs/scale-out.md), beside the
-- # HELP and # TYPE lines of its metric: what orders.metrics_exposition()
-- groups here, and what a router groups over several shards into one
-- exposition (one family per metric, as the format requires).  A label of
-- p_labels must be a valid label name with a string value; a series' own
-- label of the same name wins.  SECURITY DEFINER like orders.metrics(): a
-- router's call arrives as the gateway's login role (GRANTs below).
CREATE FUNCTION orders.metric_samples(p_labels jsonb DEFAULT '{}')
RETURNS TABLE (metric text, family text, sample text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	bad text;
BEGIN
	IF jsonb_typeof(coalesce(p_labels, '{}')) <> 'object' THEN
		RAISE EXCEPTION 'metric labels must be a JSON object, got %', jsonb_typeof(p_labels)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT l.key INTO bad FROM jsonb_each(coalesce(p_labels, '{}')) l
	WHERE l.key !~ '^[a-zA-Z_][a-zA-Z0-9_]*$' OR l.key ~ '^__' OR jsonb_typeof(l.value) <> 'string'
	ORDER BY 1 LIMIT 1;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'invalid metric label "%"', left(bad, 64)
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'A label name matches [a-zA-Z_][a-zA-Z0-9_]* (not starting with __), its value is a string.';
	END IF;
	RETURN QUERY
		SELECT m.metric,
			   format(E'# HELP %s %s\n# TYPE %s %s\n', m.metric, m.help, m.metric, m.type),
			   m.metric || orders.metric_labels(coalesce(p_labels, '{}') || m.labels) || ' '
			   || orders.metric_value(m.value) || E'\n'
		FROM orders.metrics() m;
END
$$;
COMMENT ON FUNCTION orders.metric_samples(jsonb) IS
'every series of orders.metrics() as a sample line of the Prometheus text format with p_labels added (a router adds shard), beside its metric''s # HELP and # TYPE lines';

-- The same series in Prometheus' text exposition format (version 0.0.4):
-- # HELP and # TYPE once per metric, then one line per series.
CREATE OR REPLACE FUNCTION orders.metrics_exposition() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT coalesce(string_agg(f.lines, '' ORDER BY f.metric), '')
	FROM (SELECT s.metric, min(s.family) || string_agg(s.sample, '' ORDER BY s.sample) AS lines
		  FROM orders.metric_samples() s GROUP BY s.metric) f
$$;
COMMENT ON FUNCTION orders.metrics_exposition() IS
'orders.metrics() in the Prometheus text exposition format (version 0.0.4); what the gateway appends to its own metrics on GET /metrics';

-- Behind a router, PL/Proxy runs the router's call of orders.metric_samples
-- as the gateway's login role, without a role switch (schema/77_metrics.sql).
REVOKE EXECUTE ON FUNCTION orders.metric_samples(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orders.metric_samples(jsonb) TO orders_metrics;
GRANT USAGE ON SCHEMA orders TO orders_authenticator;
GRANT EXECUTE ON FUNCTION orders.metric_samples(jsonb) TO orders_authenticator;

-- What tells the vault keys of two shards apart: the fingerprint of a
-- fixed text under each key, by key id.  Two shards with the same key id
-- but another key (a key file generated per shard) give different ones;
-- the fingerprint reveals nothing of the key (keyed HMAC-SHA256 of a
-- public text).  A ciphertext moved to a shard whose key of the same id
-- differs could not be decrypted there: no voucher, and a webhook secret
-- that signs nothing the receiver accepts.
CREATE FUNCTION orders.shard_vault_key_checks() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	SELECT coalesce(jsonb_object_agg(orders.vault_key_id(f)::text, encode(f, 'hex')), '{}')
	FROM unnest(orders.vault_fingerprints('orders shard key check', 'shard_key_check')) f
$$;
COMMENT ON FUNCTION orders.shard_vault_key_checks() IS
'internal: the fingerprint of a fixed text under every vault key, by key id: equal on two shards only if their keys of that id are the same';

-- A client's rows as one JSON document, after waiting for its requests in
-- flight: the router froze the client first (orders_router.move_client),
-- so nothing new arrives, and the lock on its clients row waits for every
-- transaction that inserted an order or a wallet of it (their foreign keys
-- hold a KEY SHARE lock on that row).  Refused while the client has vendor
-- jobs open: a vendor's report names the job, whose id leads to the shard
-- that numbered it.
CREATE OR REPLACE FUNCTION orders.client_export(p_client_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	t record;
	rows jsonb;
	tables jsonb := '{}';
	missing text;
	ident record;
BEGIN
	PERFORM orders.admin_require_client(p_client_id);
	SELECT c.relname INTO missing
	FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'client_id' AND NOT a.attisdropped
	WHERE c.relnamespace = 'orders'::regnamespace AND c.relkind IN ('r', 'p')
	  AND c.relname NOT IN (SELECT tab FROM orders.client_tables())
	ORDER BY 1 LIMIT 1;
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'cannot export client %: table orders.% holds client rows the move does not know', p_client_id, missing
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Add the table to orders.client_tables().';
	END IF;
	PERFORM 1 FROM orders.clients WHERE id = p_client_id FOR UPDATE;
	IF EXISTS (SELECT 1 FROM orders.vendor_jobs j
			   WHERE j.client_id = p_client_id AND j.status IN ('QUEUED', 'LEASED')) THEN
		RAISE EXCEPTION 'cannot export client %: it has open vendor jobs', p_client_id
			USING ERRCODE = 'object_in_use',
				  HINT = 'Move the client once its orders are delivered, failed or cancelled.';
	END IF;
	FOR t IN SELECT * FROM orders.client_tables() LOOP
		EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(r)), ''[]'') FROM orders.%I r WHERE %s',
					   t.tab, t.predicate)
			INTO rows USING p_client_id;
		tables := tables || jsonb_build_object(t.tab, rows);
	END LOOP;
	ident := orders.shard_identity();
	RETURN jsonb_build_object('client_id', p_client_id, 'version', ident.version,
							  'secrets_digest', ident.secrets_digest,
							  'vault_key_ids', to_jsonb(ident.vault_key_ids),
							  'vault_key_checks', orders.shard_vault_key_checks(),
							  'tables', tables);
END
$$;
COMMENT ON FUNCTION orders.client_export(bigint) IS
'a client''s rows (every table of orders.client_tables) as one JSON document for a move, after its requests in flight ended; refused while it has open vendor jobs';

-- The rows of orders.client_export arrive with their ids.  Refused unless
-- this shard has the same server secrets (the client's keys and tokens) and
-- every vault key its vouchers and webhook signing secrets are under, the
-- same keys, not only the same ids (orders.shard_vault_key_checks: the
-- ciphertexts are bound to their row ids, which do not change, and are
-- never re-encrypted or decrypted on the way), and unless the client is
-- not here already.  The orders sequence moves above the
-- client's highest client_seq, so its new orders still list first.
CREATE OR REPLACE FUNCTION orders.client_import(p_rows jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	client bigint := (p_rows->>'client_id')::bigint;
	ident record;
	t record;
	saved jsonb;
	n bigint;
	counts jsonb := '{}';
	top bigint;
	s record;
	used integer[];
	checks jsonb;
	missing_key integer;
BEGIN
	IF client IS NULL OR jsonb_typeof(p_rows->'tables') IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION 'not a client export: client_id and tables are required'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	ident := orders.shard_identity();
	IF p_rows->>'version' IS DISTINCT FROM ident.version THEN
		RAISE EXCEPTION 'cannot import client %: exported by orders %, this shard runs %',
			client, p_rows->>'version', ident.version USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF p_rows->>'secrets_digest' IS DISTINCT FROM ident.secrets_digest THEN
		RAISE EXCEPTION 'cannot import client %: the shards'' server secrets differ', client
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Every shard needs the same api_key_pepper and jwt_secret (docs/scale-out.md).';
	END IF;
	-- The vault keys its vouchers and webhook signing secrets are under:
	-- here, and the same keys (not only the same ids).
	used := ARRAY(SELECT (u->>'key_id')::integer
				  FROM jsonb_array_elements(p_rows->'tables'->'inventory_units') u
				  WHERE u->>'key_id' IS NOT NULL
				  UNION
				  SELECT orders.vault_key_id(decode(substr(c, 3), 'hex'))
				  FROM jsonb_array_elements(p_rows->'tables'->'webhook_endpoints') e,
					   unnest(ARRAY[e->>'secret', e->>'previous_secret']) c
				  WHERE c IS NOT NULL);
	missing_key := (SELECT min(k) FROM unnest(used) k WHERE k <> ALL (ident.vault_key_ids));
	IF missing_key IS NOT NULL THEN
		RAISE EXCEPTION 'cannot import client %: a voucher or webhook secret is under vault key %, which this shard does not have',
			client, missing_key
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Give every shard the same vault key file (docs/scale-out.md).';
	END IF;
	checks := orders.shard_vault_key_checks();
	missing_key := (SELECT min(k) FROM unnest(used) k
					WHERE checks->>k::text IS DISTINCT FROM p_rows->'vault_key_checks'->>k::text);
	IF missing_key IS NOT NULL THEN
		RAISE EXCEPTION 'cannot import client %: vault key % of this shard is not the key of that id on the shard the client comes from',
			client, missing_key
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'Its vouchers could not be decrypted here, nor its webhook secrets sign.',
				  HINT = 'Give every shard the same vault key file (docs/scale-out.md).';
	END IF;
	IF EXISTS (SELECT 1 FROM orders.clients WHERE id = client) THEN
		RAISE EXCEPTION 'cannot import client %: it is on this shard already', client
			USING ERRCODE = 'unique_violation';
	END IF;
	saved := orders.client_triggers_off();
	FOR t IN SELECT * FROM orders.client_tables() LOOP
		EXECUTE format('INSERT INTO orders.%1$I OVERRIDING SYSTEM VALUE
						SELECT * FROM jsonb_populate_recordset(NULL::orders.%1$I, $1)', t.tab)
			USING coalesce(p_rows->'tables'->t.tab, '[]');
		GET DIAGNOSTICS n = ROW_COUNT;
		counts := counts || jsonb_build_object(t.tab, n);
	END LOOP;
	PERFORM orders.client_triggers_restore(saved);
	-- client_seq is the order id: new orders of this client must number
	-- above its old ones, in this shard's residue class.
	top := (SELECT max(o.client_seq) FROM orders.orders o WHERE o.client_id = client);
	SELECT * INTO s FROM orders.shard_sequences() q WHERE q.tab = 'orders.orders'::regclass;
	IF top IS NOT NULL AND top >= coalesce(s.last_value, 0) THEN
		EXECUTE format('ALTER SEQUENCE %s RESTART WITH %s', s.seq,
					   orders.shard_next_id(top, (s.start_value % s.increment_by)::integer,
											s.increment_by::integer));
	END IF;
	RETURN counts;
END
$$;
COMMENT ON FUNCTION orders.client_import(jsonb) IS
'the rows of orders.client_export inserted with their ids (triggers off: they arrive counted and recorded); refused if the server secrets, vault keys or version differ or the client is here already; returns rows per table';

REVOKE EXECUTE ON FUNCTION orders.shard_vault_key_checks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orders.shard_vault_key_checks() TO orders_admin;

-- Issue 14: the webhook queue's metrics after the delivery throughput work:
-- the oldest age reads the heads' index (webhook_deliveries_due_heads; no
-- index of every pending row is left), and the fan-out's backlog is a
-- metric of its own (orders_outbox_events counts acknowledge_events'
-- consumers only).
UPDATE orders.metric_queries
SET help = 'Seconds the oldest sendable webhook delivery (the head of its endpoint and order) has been due: how far the senders are behind; 0 when none is.',
	query = $q$SELECT NULL::jsonb, coalesce(extract(epoch FROM now() - min(d.next_attempt_at)), 0)::float8
		FROM orders.webhook_deliveries d
		WHERE d.status = 'pending' AND d.head AND d.next_attempt_at <= now()$q$
WHERE metric = 'orders_webhook_queue_oldest_age_seconds';
INSERT INTO orders.metric_queries (metric, type, help, query) VALUES
	('orders_webhook_fanout_pending', 'gauge',
	 'Order events the webhook fan-out has not turned into webhook events yet.',
	 $q$SELECT NULL::jsonb, count(*)::float8 FROM orders.order_events e
		WHERE e.webhooks_queued_at IS NULL$q$);
