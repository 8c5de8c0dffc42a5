-- The status-transition workloads update three copies of orders.orders
-- (same columns, same indexes) that differ only in their trigger:
--   bench.transition_c        orders.lifecycle_guard, the engine's C trigger
--   bench.transition_plpgsql  ref.lifecycle_guard, the reference's PL/pgSQL one
--   bench.transition_bare     none (the limit)
-- so that the difference between them is the trigger and nothing else
-- (the engine's real orders table has more triggers: numbering, counts).
-- Each holds :transition_rows PENDING rows, created PLACED and moved to
-- PENDING through its trigger; the workloads toggle them PENDING <->
-- PROCESSING, a pair of legal moves that can repeat forever.

CREATE TABLE bench.transition_c (LIKE orders.orders INCLUDING ALL);
CREATE TRIGGER lifecycle_guard BEFORE INSERT OR UPDATE OF status, sub_status
	ON bench.transition_c FOR EACH ROW EXECUTE FUNCTION orders.lifecycle_guard('order');
COMMENT ON TABLE bench.transition_c IS 'orders.orders with only the C lifecycle trigger';

CREATE TABLE bench.transition_plpgsql (LIKE orders.orders INCLUDING ALL);
CREATE TRIGGER lifecycle_guard_insert BEFORE INSERT
	ON bench.transition_plpgsql FOR EACH ROW EXECUTE FUNCTION ref.lifecycle_guard('order');
CREATE TRIGGER lifecycle_guard_update BEFORE UPDATE OF status, sub_status
	ON bench.transition_plpgsql FOR EACH ROW
	WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.sub_status IS DISTINCT FROM NEW.sub_status)
	EXECUTE FUNCTION ref.lifecycle_guard('order');
COMMENT ON TABLE bench.transition_plpgsql IS 'orders.orders with only the PL/pgSQL lifecycle trigger';

CREATE TABLE bench.transition_bare (LIKE orders.orders INCLUDING ALL);
COMMENT ON TABLE bench.transition_bare IS 'orders.orders without any trigger';

-- Ids far above any order's: the triggers write history rows of entity
-- 'order' under these ids, next to the real orders' history.
ALTER TABLE bench.transition_c ALTER COLUMN id RESTART WITH 1000000000001;
ALTER TABLE bench.transition_plpgsql ALTER COLUMN id RESTART WITH 1000000000001;
ALTER TABLE bench.transition_bare ALTER COLUMN id RESTART WITH 1000000000001;

SELECT bench.range_param(impl, 'trans', first_id, last_id)
  FROM (VALUES ('ours', 'bench.transition_c'), ('ref', 'bench.transition_plpgsql'),
			   ('limit', 'bench.transition_bare')) AS t(impl, tab),
	   LATERAL bench.fill(tab::regclass, :transition_rows, jsonb_build_object(
		   'client_id', '1', 'client_seq', 'g', 'po_number', $$'t-' || g$$, 'product_id', '1001',
		   'denomination', '25.00', 'quantity', '1')) AS f;
UPDATE bench.transition_c SET status = 'PENDING';
UPDATE bench.transition_plpgsql SET status = 'PENDING';
UPDATE bench.transition_bare SET status = 'PENDING';

-- Each pgbench client owns a slice of trans_span rows, so that 8 clients
-- never wait on each other's row locks.
SELECT bench.param('*', 'trans_span', :transition_rows / 8);

-- The trigger's own time, as EXPLAIN ANALYZE reports it ("Trigger ...:
-- time=... calls=..."), in microseconds per row: p_repeats UPDATEs of
-- p_rows rows of each table in alternation, the median (and the minimum,
-- the least disturbed by other work on the machine) of each.  The
-- pgbench workloads time whole transactions, where the commit and the
-- index maintenance of the UPDATE blur a difference of microseconds.
CREATE FUNCTION bench.trigger_probe(p_repeats integer, p_rows integer)
RETURNS TABLE (impl text, us_per_row numeric, update_us_per_row numeric, min_us_per_row numeric)
LANGUAGE plpgsql AS $$
DECLARE
	r integer;
	lo bigint;
	t record;
	plan json;
BEGIN
	CREATE TEMP TABLE probe (impl text, trigger_ms float8, total_ms float8) ON COMMIT DROP;
	FOR r IN 1 .. p_repeats LOOP
		-- a fresh slice of rows each time, within the table
		lo := bench.p('ours', 'trans_lo')
			  + (r * p_rows) % greatest(bench.p('ours', 'trans_hi') - bench.p('ours', 'trans_lo') - p_rows, 1);
		FOR t IN SELECT * FROM (VALUES ('ours', 'bench.transition_c'), ('ref', 'bench.transition_plpgsql'),
									   ('limit', 'bench.transition_bare')) AS v(impl, tab) LOOP
			EXECUTE format('EXPLAIN (ANALYZE, FORMAT JSON) UPDATE %s'
						   ' SET status = CASE WHEN status = ''PENDING'' THEN ''PROCESSING'' ELSE ''PENDING'' END,'
						   ' sub_status = CASE WHEN status = ''PENDING'' THEN ''PROCESSING'' ELSE ''PENDING_REPROCESS'' END'
						   ' WHERE id BETWEEN %s AND %s', t.tab, lo, lo + p_rows - 1) INTO plan;
			INSERT INTO probe
			SELECT t.impl, coalesce(sum((g->>'Time')::float8), 0), (plan->0->>'Execution Time')::float8
			  FROM json_array_elements(coalesce(plan->0->'Triggers', '[]')) AS g;
		END LOOP;
	END LOOP;
	RETURN QUERY
	SELECT p.impl, round((percentile_cont(0.5) WITHIN GROUP (ORDER BY p.trigger_ms) * 1000 / p_rows)::numeric, 2),
		   round((percentile_cont(0.5) WITHIN GROUP (ORDER BY p.total_ms) * 1000 / p_rows)::numeric, 2),
		   round((min(p.trigger_ms) * 1000 / p_rows)::numeric, 2)
	  FROM probe p GROUP BY p.impl ORDER BY p.impl;
END
$$;
COMMENT ON FUNCTION bench.trigger_probe(integer, integer) IS
'median trigger time per row (EXPLAIN ANALYZE) of the three transition tables';
