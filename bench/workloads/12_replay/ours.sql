-- what: orders.create_order with the poNumber and parameters of an existing order
-- requires: orders.create_order
SELECT response FROM orders.create_order(:writer, :instant_product, 1, :denomination, :email, :tag, :replay_po);
