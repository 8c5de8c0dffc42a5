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
	 'Seconds the oldest sendable webhook delivery (the head of its endpoint and order) has been due: how far the senders are behind; 0 when none is.',
	 $q$SELECT NULL::jsonb, coalesce(extract(epoch FROM now() - min(d.next_attempt_at)), 0)::float8
		FROM orders.webhook_deliveries d
		WHERE d.status = 'pending' AND d.head AND d.next_attempt_at <= now()$q$),
	('orders_webhook_fanout_pending', 'gauge',
	 'Order events the webhook fan-out has not turned into webhook events yet.',
	 $q$SELECT NULL::jsonb, count(*)::float8 FROM orders.order_events e
		WHERE e.webhooks_queued_at IS NULL$q$);

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
CREATE FUNCTION orders.metrics_exposition() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT coalesce(string_agg(f.lines, '' ORDER BY f.metric), '')
	FROM (SELECT s.metric, min(s.family) || string_agg(s.sample, '' ORDER BY s.sample) AS lines
		  FROM orders.metric_samples() s GROUP BY s.metric) f
$$;
COMMENT ON FUNCTION orders.metrics_exposition() IS
'orders.metrics() in the Prometheus text exposition format (version 0.0.4); what the gateway appends to its own metrics on GET /metrics';

-- Only the metrics role (and whoever is granted it) reads metrics.  The
-- gateway's login role may switch to it for a scrape (SET LOCAL ROLE), the
-- way it switches to orders_api for a request.
--
-- Behind a router (docs/scale-out.md, "Metrics"), PL/Proxy runs the
-- router's call of orders.metric_samples as the gateway's login role, in
-- one statement, with no role switch: orders_authenticator itself (whose
-- members the login roles are) may therefore read the samples, and nothing
-- else of schema orders.  That is no more than it has: it may switch to
-- orders_metrics at any time.
REVOKE ALL ON TABLE orders.metric_queries FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION orders.metrics(), orders.metric_samples(jsonb), orders.metrics_exposition(),
	orders.metric_labels(jsonb), orders.metric_value(double precision) FROM PUBLIC;
GRANT USAGE ON SCHEMA orders TO orders_metrics;
GRANT EXECUTE ON FUNCTION orders.metrics(), orders.metric_samples(jsonb), orders.metrics_exposition(),
	orders.metric_labels(jsonb), orders.metric_value(double precision) TO orders_metrics;
GRANT orders_metrics TO orders_authenticator;
GRANT USAGE ON SCHEMA orders TO orders_authenticator;
GRANT EXECUTE ON FUNCTION orders.metric_samples(jsonb) TO orders_authenticator;
