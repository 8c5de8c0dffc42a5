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
