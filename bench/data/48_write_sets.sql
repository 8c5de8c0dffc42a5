-- What one INSTANT order writes in each implementation, measured: the rows
-- inserted and updated per table by one create_order call, from the
-- transaction's own statistics (pg_stat_get_xact_*), so that nothing here
-- knows how an implementation writes.  The report prints them; the write
-- set limit writes as many history and outbox rows as the engine does.
-- requires: orders.create_order

CREATE TABLE bench.write_sets (
	impl		text NOT NULL,
	relation	text NOT NULL,
	inserted	bigint NOT NULL,
	updated		bigint NOT NULL,
	hot_updated bigint NOT NULL,
	PRIMARY KEY (impl, relation)
);
COMMENT ON TABLE bench.write_sets IS 'rows written per table by one INSTANT order of each implementation';

CREATE FUNCTION bench.measure_write_set(p_impl text, p_sql text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	before jsonb;
BEGIN
	SELECT jsonb_object_agg(c.oid::text, jsonb_build_array(pg_stat_get_xact_tuples_inserted(c.oid),
			   pg_stat_get_xact_tuples_updated(c.oid), pg_stat_get_xact_tuples_hot_updated(c.oid)))
	  INTO before
	  FROM pg_class c
	 WHERE c.relkind = 'r' AND c.relpersistence = 'p'
	   AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace,
								  'bench'::regnamespace);
	EXECUTE p_sql;
	INSERT INTO bench.write_sets
	SELECT p_impl, c.oid::regclass::text,
		   pg_stat_get_xact_tuples_inserted(c.oid) - (before->c.oid::text->>0)::bigint,
		   pg_stat_get_xact_tuples_updated(c.oid) - (before->c.oid::text->>1)::bigint,
		   pg_stat_get_xact_tuples_hot_updated(c.oid) - (before->c.oid::text->>2)::bigint
	  FROM pg_class c
	 WHERE before ? c.oid::text
	   AND (pg_stat_get_xact_tuples_inserted(c.oid) > (before->c.oid::text->>0)::bigint
			OR pg_stat_get_xact_tuples_updated(c.oid) > (before->c.oid::text->>1)::bigint);
END
$$;
COMMENT ON FUNCTION bench.measure_write_set(text, text) IS
'records the rows a statement inserts and updates, per table (bench.write_sets)';

SELECT bench.measure_write_set('ours', format($$SELECT orders.create_order(%s, 1001, 1, 25.00,
	'bench@example.com', 'bench', 'write-set-1')$$, bench.p('ours', 'writer')));
SELECT bench.measure_write_set('ref', format($$SELECT ref.create_order(%s, 1001, 1, 25.00,
	'bench@example.com', 'bench', 'write-set-1')$$, bench.p('ref', 'writer')));
SELECT bench.measure_write_set('lean', $$SELECT lean.create_order(1, 1001, 1, 25.00,
	'bench@example.com', 'bench', 'write-set-1')$$);

-- The write set writes the engine's count of history and outbox rows.
SELECT bench.param('writeset', 'history_rows',
				   coalesce((SELECT inserted FROM bench.write_sets
							  WHERE impl = 'ours' AND relation = 'orders.status_history'), 0)),
	   bench.param('writeset', 'event_rows',
				   coalesce((SELECT inserted FROM bench.write_sets
							  WHERE impl = 'ours' AND relation = 'orders.order_events'), 0));
SELECT bench.check('the engine''s INSTANT order writes an order row',
				   EXISTS (SELECT 1 FROM bench.write_sets WHERE impl = 'ours' AND relation = 'orders.orders'
							  AND inserted = 1));
