-- The enum types: input in any case and aliases, canonical output, errors,
-- operators, indexes, binary I/O, JSON.  Runs with the default search_path
-- (orders is not on it), as a backend would.
\set SHOW_CONTEXT never
SHOW search_path;

-- A helper that parses any text as any of our types, and one that returns
-- the SQLSTATE of a failing parse.
CREATE FUNCTION pg_temp.parse(typ regtype, input text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
	EXECUTE format('SELECT %L::%s::text', input, typ) INTO r;
	RETURN r;
END $$;
CREATE FUNCTION pg_temp.sqlstate_of(typ regtype, input text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_temp.parse(typ, input);
	RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;

-- Every label of the reference, typed here independently of the C tables.
CREATE TEMP TABLE reference_labels(typ regtype, label text, pos int);
INSERT INTO reference_labels
SELECT t::regtype, l, ord
FROM (VALUES
	('orders.order_status', 'PLACED,PENDING,PROCESSING,DELIVERED,PARTIALLY_DELIVERED,CANCELLED,FAILED'),
	('orders.order_sub_status', 'INITIAL,PROCESSING,PARTIAL,COMPLETED,VENDOR_ORDER_PENDING,VENDOR_ORDER_CREATED,VENDOR_ORDER_FAILED,VENDOR_VOUCHER_FETCHED,INVENTORY_FULFILLED,PENDING_REPROCESS,REPROCESS_EXPIRED,GV_LINK_PENDING,GV_LINK_CLAIMED,GV_LINK_UNCLAIMED,BULK_LIMIT_EXCEEDED,REFUNDED,NOT_REFUNDED,RECONCILED'),
	('orders.delivery_time', 'INSTANT,DELAYED'),
	('orders.delivery_type', 'CODE_WITH_PIN,URL'),
	('orders.delivery_mode', 'ONLINE,OFFLINE,ONLINE_OR_OFFLINE,NA'),
	('orders.classification', 'OPEN_LOOP,CLOSED_LOOP,SEMI_OPEN,SEMI_CLOSE'),
	('orders.link_type', 'PUBLIC,PROTECTED'),
	('orders.inventory_status', 'AVAILABLE,ALLOCATED,DELIVERED,COMPLETED,BLOCKED,REVOKED'),
	('orders.recharge_status', 'PENDING,DELIVERED,RECHARGED,FAILED,CANCELLED')
) AS v(t, labels), unnest(string_to_array(labels, ',')) WITH ORDINALITY AS u(l, ord);

-- The types have exactly these labels, in this order.
SELECT r.typ, r.label AS reference, l.label AS type_has
FROM reference_labels r
FULL JOIN (SELECT t.typ, x.label, x.pos
		   FROM (SELECT DISTINCT typ FROM reference_labels) t,
				orders.labels(t.typ) WITH ORDINALITY AS x(label, pos)) l
	ON l.typ = r.typ AND l.pos = r.pos AND l.label = r.label
WHERE r.label IS NULL OR l.label IS NULL;
SELECT typ, count(*) FROM reference_labels GROUP BY typ ORDER BY typ::oid;

-- Three spellings of every label parse to the canonical label.
SELECT typ, label,
	pg_temp.parse(typ, lower(label)) AS lower,
	pg_temp.parse(typ, initcap(lower(label))) AS mixed,
	pg_temp.parse(typ, label) AS upper
FROM reference_labels
ORDER BY typ::oid, pos;
SELECT count(*) AS spellings_not_canonical
FROM reference_labels
WHERE pg_temp.parse(typ, lower(label)) <> label
   OR pg_temp.parse(typ, initcap(lower(label))) <> label
   OR pg_temp.parse(typ, label) <> label;

-- Aliases: REALTIME is the legacy name of INSTANT; it is never printed.
SELECT 'realtime'::orders.delivery_time, 'RealTime'::orders.delivery_time,
	'REALTIME'::orders.delivery_time, 'realtime'::orders.delivery_time = 'instant';
SELECT 'Delivered'::orders.order_status;

-- Invalid input of every class: 22P02, naming the type and the value.
SELECT left(input, 20) AS input, length(input), pg_temp.sqlstate_of('orders.order_status', input)
FROM (VALUES (''), (' '), (' DELIVERED'), ('DELIVERED '), ('DELIVERED_'),
	('DELIVER'), ('bogus'), ('PLACED,PENDING'), ('délivered'), ('ＤＥＬＩＶＥＲＥＤ'),
	(repeat('DELIVERED', 8)), (repeat('x', 10000)), (E'DELIVERED\t'),
	('instant'), ('realtime')) AS v(input);
SELECT 'bogus'::orders.order_status;
SELECT ''::orders.delivery_time;
SELECT 'DELAYED '::orders.delivery_time;
SELECT 'délivré'::orders.order_status;
SELECT repeat('DELIVERED', 20)::orders.order_status;
SELECT 'Instant'::orders.order_status;

-- Ordering follows the lifecycle order of the labels.
SELECT array_agg(s ORDER BY s) FROM unnest(ARRAY['failed', 'placed', 'delivered',
	'pending', 'cancelled', 'processing', 'partially_delivered']::orders.order_status[]) s;
SELECT 'placed'::orders.order_status < 'pending',
	'delivered'::orders.order_status <= 'delivered',
	'failed'::orders.order_status > 'cancelled',
	'pending'::orders.order_status >= 'processing',
	'pending'::orders.order_status = 'PENDING',
	'pending'::orders.order_status <> 'PENDING';
SELECT min(s), max(s) FROM unnest(ARRAY['pending', 'failed', 'placed']::orders.order_status[]) s;

-- Casts with text, both ways, and varchar.
SELECT 'delivered'::text::orders.order_status,
	'delivered'::orders.order_status::text,
	'url'::varchar::orders.delivery_type;
CREATE TEMP TABLE cast_target (t text);
INSERT INTO cast_target VALUES ('pending'::orders.order_status);  -- assignment cast
SELECT t FROM cast_target;

-- JSON: canonical labels as strings.
SELECT to_json('partially_delivered'::orders.order_status),
	json_build_object('status', 'delivered'::orders.order_status,
					  'delivery_time', 'realtime'::orders.delivery_time),
	jsonb_build_array('code_with_pin'::orders.delivery_type, 'protected'::orders.link_type);

-- A table in the public schema with an index; plain SQL with the default
-- search_path resolves the operators and uses the index.
CREATE TABLE public.status_probe (id int, status orders.order_status, mode orders.delivery_mode);
INSERT INTO public.status_probe
SELECT i, CASE WHEN i % 500 = 0 THEN 'DELIVERED' ELSE 'PENDING' END,
	(ARRAY['online', 'offline', 'na'])[1 + i % 3]::orders.delivery_mode
FROM generate_series(1, 20000) i;
CREATE INDEX status_probe_status ON public.status_probe (status);
CREATE INDEX status_probe_status_hash ON public.status_probe USING hash (mode);
ANALYZE public.status_probe;

EXPLAIN (COSTS OFF) SELECT id FROM status_probe WHERE status = 'delivered';
SELECT count(*) FROM status_probe WHERE status = 'delivered';
SELECT count(*) FROM status_probe WHERE status = 'Delivered' OR status = 'failed';
SELECT count(*) FROM status_probe WHERE status IN ('delivered', 'PLACED');

-- Any role that may read the column may compare it: the types' support
-- functions are the one thing of orders executable by PUBLIC.
CREATE ROLE types_reader;
GRANT SELECT ON public.status_probe TO types_reader;
SET ROLE types_reader;
SELECT count(*) FROM status_probe WHERE status = 'delivered' AND mode <> 'na';
SELECT max(status) FROM status_probe;
RESET ROLE;
REVOKE SELECT ON public.status_probe FROM types_reader;
DROP ROLE types_reader;

-- A text-typed parameter, as a driver would bind it, uses the index too.
PREPARE by_status(text) AS SELECT count(*) FROM status_probe WHERE status = $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE by_status('delivered');
EXECUTE by_status('delivered');
EXECUTE by_status('nonsense');
RESET plan_cache_mode;

-- ORDER BY uses the btree index; GROUP BY and DISTINCT hash and sort.
EXPLAIN (COSTS OFF) SELECT status FROM status_probe ORDER BY status DESC LIMIT 1;
SELECT status FROM status_probe ORDER BY status DESC LIMIT 1;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT status, count(*) FROM status_probe GROUP BY status;
SELECT status, count(*) FROM status_probe GROUP BY status ORDER BY 1;
SELECT DISTINCT mode FROM status_probe ORDER BY mode;
RESET enable_sort;
SET enable_hashagg = off;
SELECT status, count(*) FROM status_probe GROUP BY status;
RESET enable_hashagg;

-- Hash index and hash join.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM status_probe WHERE mode = 'na';
SELECT count(*) FROM status_probe WHERE mode = 'na';
RESET enable_seqscan;
CREATE TEMP TABLE wanted (status orders.order_status);
INSERT INTO wanted VALUES ('delivered');
ANALYZE wanted;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM status_probe p JOIN wanted w USING (status);
SELECT count(*) FROM status_probe p JOIN wanted w USING (status);
RESET enable_mergejoin;
RESET enable_nestloop;

-- COPY BINARY round trip; the binary form is the label as text, and the
-- receive function validates it.
COPY (SELECT id, status, mode FROM status_probe WHERE id <= 1000) TO '/tmp/orders_types_probe.bin' (FORMAT binary);
CREATE TABLE public.status_probe_copy (LIKE public.status_probe);
COPY public.status_probe_copy FROM '/tmp/orders_types_probe.bin' (FORMAT binary);
SELECT count(*) AS copied,
	count(*) FILTER (WHERE c.status = p.status AND c.mode = p.mode) AS identical
FROM status_probe_copy c JOIN status_probe p USING (id);
COPY (SELECT 1, 'delivered'::text, 'Online'::text) TO '/tmp/orders_types_text.bin' (FORMAT binary);
COPY public.status_probe_copy FROM '/tmp/orders_types_text.bin' (FORMAT binary);
SELECT status, mode FROM status_probe_copy WHERE id = 1 ORDER BY status;
COPY (SELECT 2, 'bogus'::text, 'online'::text) TO '/tmp/orders_types_bad.bin' (FORMAT binary);
COPY public.status_probe_copy FROM '/tmp/orders_types_bad.bin' (FORMAT binary);

DROP TABLE public.status_probe, public.status_probe_copy;
