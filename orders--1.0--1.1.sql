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

-- GET /api/v1/orders takes a placed-at range (docs/api.md): a parameter
-- type timestamp (RFC 3339) in the route table, its conversion, the
-- route's two new parameters, the handler passing them to
-- orders.list_orders (which took the range already), and what the route
-- table generates: orders.api_call and api.list_orders.
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

UPDATE orders.api_operations
SET parameters = ARRAY[('client', 'client', NULL, NULL), ('page', 'query', 'integer', 1), ('limit', 'query', 'integer', 1),
		   ('status', 'query', 'string', NULL), ('product_id', 'query', 'integer', 1),
		   ('placed_from', 'query', 'timestamp', NULL), ('placed_to', 'query', 'timestamp', NULL)]::orders.api_parameter[],
	description = 'GET /api/v1/orders (reference 004): page (>= 1, default 1), limit (1-100, default 10), status (any case), product_id, placed_from (inclusive) and placed_to (exclusive) as RFC 3339 date-times; newest first; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches'
WHERE operation = 'list_orders';

DROP FUNCTION orders.handle_list_orders(bigint, bigint, bigint, text, bigint);
CREATE FUNCTION orders.handle_list_orders(p_client bigint, p_page bigint, p_limit bigint,
	p_status text, p_product_id bigint, p_placed_from timestamptz, p_placed_to timestamptz)
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
		p_placed_to => p_placed_to);
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
COMMENT ON FUNCTION orders.handle_list_orders(bigint, bigint, bigint, text, bigint, timestamptz, timestamptz) IS
'internal: GET /api/v1/orders (reference 004): newest first; placed_from inclusive, placed_to exclusive; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches';
REVOKE EXECUTE ON FUNCTION orders.handle_list_orders(bigint, bigint, bigint, text, bigint, timestamptz, timestamptz) FROM PUBLIC;

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
		SELECT coalesce(string_agg(CASE p.source
					WHEN 'client' THEN E'\t\tIF p_client IS NULL THEN RETURN orders.api_unauthorized(); END IF;\n'
					WHEN 'key' THEN E'\t\tIF p_auth_method IS DISTINCT FROM ''key'' THEN RETURN orders.api_unauthorized(); END IF;\n'
					END, '' ORDER BY n), '') AS guards,
			   coalesce(string_agg(CASE
					WHEN p.source = 'client' THEN 'p_client'
					WHEN p.source = 'key' THEN 'p_api_key_id'
					WHEN p.source = 'body' AND p.type = 'object' THEN
						format('orders.api_object_param(%L, p_body->%L)', p.name, p.name)
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
DO $$ BEGIN EXECUTE orders.api_call_source(); END $$;

DROP FUNCTION api.list_orders(text, text, text, text);
CREATE FUNCTION api.list_orders(page text DEFAULT NULL, "limit" text DEFAULT NULL, status text DEFAULT NULL,
	product_id text DEFAULT NULL, placed_from text DEFAULT NULL, placed_to text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $body$
	SELECT orders.postgrest_reply('list_orders', orders.api_call('list_orders', orders.current_client_id(),
		orders.current_api_key_id(), orders.current_auth_method(), jsonb_build_object('page', page, 'limit', "limit", 'status', status, 'product_id', product_id, 'placed_from', placed_from, 'placed_to', placed_to), NULL))
$body$;
COMMENT ON FUNCTION api.list_orders(text, text, text, text, text, text) IS 'GET /api/v1/orders (reference 004): page (>= 1, default 1), limit (1-100, default 10), status (any case), product_id, placed_from (inclusive) and placed_to (exclusive) as RFC 3339 date-times; newest first; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches';
REVOKE EXECUTE ON FUNCTION api.list_orders(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.list_orders(text, text, text, text, text, text) TO orders_api;

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

DROP FUNCTION orders.handle_list_orders(bigint, bigint, bigint, text, bigint, timestamptz, timestamptz);
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

DROP FUNCTION api.list_orders(text, text, text, text, text, text);
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
						format('p_body->>%L', p.name)
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
DO $$ BEGIN EXECUTE orders.api_call_source(); END $$;

CREATE OR REPLACE FUNCTION orders.api_dispatch(p_method text, p_path text, p_query text,
	p_headers jsonb, p_body text)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	req_method text := upper(coalesce(p_method, ''));
	req_path text := coalesce(p_path, '');
	req_headers jsonb;
	op orders.api_operations;
	path_param text;			-- the route's path parameter (one at most)
	path_value text;
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
		path_param := (SELECT p.name FROM unnest(op.parameters) p WHERE p.source = 'path');
		IF path_param IS NOT NULL THEN
			path_value := substring(req_path FROM op.path_pattern);
		END IF;
		IF path_value ~ '^[0-9]{1,18}$' THEN
			order_id := path_value::bigint;
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
	IF r.status IS NULL AND req_method = 'POST' THEN
		-- A form (the OAuth 2.0 token request) is read like a query
		-- string: an object of strings.  Anything else must be JSON.
		IF orders.is_form_content_type(req_headers->>'content-type') THEN
			BEGIN
				payload := orders.query_params(p_body);
			EXCEPTION WHEN character_not_in_repertoire THEN
				r := orders.api_invalid('request body is not valid UTF-8 form data');
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
		IF path_param IS NOT NULL THEN
			params := params || jsonb_build_object(path_param, path_value);
		END IF;
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
SELECT pg_catalog.pg_extension_config_dump('orders.currencies',
	'WHERE code NOT IN (''USD'', ''EUR'', ''GBP'', ''INR'', ''AED'', ''AUD'', ''CAD'', ''CHF'', ''CNY'', ''HKD'', ''SGD'', ''SEK'', ''NOK'', ''DKK'', ''PLN'', ''BRL'', ''MXN'', ''ZAR'', ''NZD'', ''SAR'', ''THB'', ''PHP'', ''MYR'', ''IDR'', ''TRY'', ''JPY'', ''KRW'', ''VND'', ''CLP'', ''HUF'')');
SELECT pg_catalog.pg_extension_config_dump('orders.products', '');
SELECT pg_catalog.pg_extension_config_dump('orders.fx_rates', '');
SELECT pg_catalog.pg_extension_config_dump('orders.sandbox_vendor_scenarios', '');
-- The identity sequences of the configuration tables of 1.0: without them
-- a restored database numbers new API keys and audit rows from 1 again.
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('orders.api_keys', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('orders.api_audit', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump('orders.api_operations',
	'WHERE operation NOT IN (''create_order'', ''list_orders'', ''order_details'', ''products'', ''charges'', ''token'', ''health'')');

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
