-- The machine's limits for writes.
--
-- Copies of orders' own tables with the same columns, defaults, checks and
-- indexes (LIKE ... INCLUDING ALL) but no trigger and no foreign key.  Two
-- write limits use them (docs/benchmarks.md):
--   limit     the bare insert: an order row and its item row, nothing else
--             (bench/workloads/*/limit.sql);
--   writeset  the order's minimal write set: every row an INSTANT order
--             must write (order, item, ledger row, wallet, unit, history
--             and outbox rows), each once, by one plain statement
--             (bench/workloads/10_create_instant/writeset.sql).
-- The read limits fetch the engine's own rows with one bare indexed query.

CREATE SCHEMA lim;
COMMENT ON SCHEMA lim IS 'benchmark limit: bare copies of the order tables (bench/limit/)';

-- lim.<table>: orders.<table> without triggers or foreign keys (LIKE does
-- not copy them).
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['orders', 'order_items', 'wallets', 'ledger_entries', 'inventory_units',
							 'status_history', 'order_events'] LOOP
		EXECUTE format('CREATE TABLE lim.%1$I (LIKE orders.%1$I INCLUDING ALL)', t);
		EXECUTE format('COMMENT ON TABLE lim.%1$I IS %2$L', t,
					   'orders.' || t || ' without triggers or foreign keys');
	END LOOP;
END
$$;
