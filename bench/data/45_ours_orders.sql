-- The engine: orders made through orders.create_order for the read
-- workloads (delivered, one and five vouchers; a poNumber to replay).
-- requires: orders.create_order
SELECT bench.make_read_orders('ours', 'orders', :details, :details5);
