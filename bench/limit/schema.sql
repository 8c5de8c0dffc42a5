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

CREATE TABLE lim.orders (LIKE orders.orders INCLUDING ALL);
COMMENT ON TABLE lim.orders IS 'orders.orders without triggers or foreign keys';
CREATE TABLE lim.order_items (LIKE orders.order_items INCLUDING ALL);
COMMENT ON TABLE lim.order_items IS 'orders.order_items without triggers or foreign keys';
CREATE TABLE lim.wallets (LIKE orders.wallets INCLUDING ALL);
COMMENT ON TABLE lim.wallets IS 'orders.wallets without triggers or foreign keys';
CREATE TABLE lim.ledger_entries (LIKE orders.ledger_entries INCLUDING ALL);
COMMENT ON TABLE lim.ledger_entries IS 'orders.ledger_entries without triggers or foreign keys';
CREATE TABLE lim.inventory_units (LIKE orders.inventory_units INCLUDING ALL);
COMMENT ON TABLE lim.inventory_units IS 'orders.inventory_units without triggers or foreign keys';
CREATE TABLE lim.status_history (LIKE orders.status_history INCLUDING ALL);
COMMENT ON TABLE lim.status_history IS 'orders.status_history without triggers';
CREATE TABLE lim.order_events (LIKE orders.order_events INCLUDING ALL);
COMMENT ON TABLE lim.order_events IS 'orders.order_events without triggers or foreign keys';
