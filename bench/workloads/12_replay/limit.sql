-- what: bare fetch of the engine's order row by (client, poNumber)
-- requires: orders.create_order
SELECT * FROM orders.orders WHERE client_id = :writer AND po_number = :replay_po;
