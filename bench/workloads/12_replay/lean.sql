-- what: lean.create_order with the poNumber and parameters of an existing order
SELECT * FROM lean.create_order(:writer, :instant_product, 1, :denomination, :email, :tag, :replay_po);
