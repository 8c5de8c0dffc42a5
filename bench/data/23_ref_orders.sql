-- Reference implementation: orders made through ref.create_order for the
-- read workloads (delivered, one and five vouchers; a poNumber to replay).
SELECT bench.make_read_orders('ref', 'ref', :details, :details5);
