-- what: orders.create_order of a product without inventory: the order waits for a vendor
-- requires: orders.create_order
\set n :n + 1
\set w :writer + :client_id % :writers
SELECT response FROM orders.create_order(:w, :delayed_product, 1, :denomination, :email, :tag,
	CAST(:run AS text) || '-' || :client_id || '-' || :n);
