-- what: orders.create_order, a fresh poNumber each time
-- requires: orders.create_order
\set n :n + 1
\set w :writer + :client_id % :writers
SELECT response FROM orders.create_order(:w, :instant_product, 1, :denomination, :email, :tag,
	CAST(:run AS text) || '-' || :client_id || '-' || :n);
