-- The machine's limit for writes: the bare minimum an order must write.
--
-- Copies of orders' own tables with the same columns, defaults, checks and
-- indexes (LIKE ... INCLUDING ALL) but no trigger and no foreign key: an
-- order row and its item rows, nothing else.  The workloads in
-- bench/workloads/*/limit.sql write here (creates, transitions); the read
-- limits fetch the engine's own rows with one bare indexed query.

CREATE SCHEMA lim;
COMMENT ON SCHEMA lim IS 'benchmark limit: bare copies of the order tables (bench/limit/)';

CREATE TABLE lim.orders (LIKE orders.orders INCLUDING ALL);
COMMENT ON TABLE lim.orders IS 'orders.orders without triggers or foreign keys';
CREATE TABLE lim.order_items (LIKE orders.order_items INCLUDING ALL);
COMMENT ON TABLE lim.order_items IS 'orders.order_items without triggers or foreign keys';
