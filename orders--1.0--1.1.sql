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
		WHERE s.enabled$q$);

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
