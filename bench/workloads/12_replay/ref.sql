-- title: replay of an existing poNumber
-- what: ref.create_order with the poNumber and parameters of an existing order
SELECT response FROM ref.create_order(:writer, :instant_product, 1, :denomination, :email, :tag, :replay_po);
