-- what: the bare minimum an order writes: one INSERT of the order row and its item row (same indexes, no trigger, no foreign key)
\set n :n + 1
WITH o AS (INSERT INTO lim.orders (client_id, po_number, product_id, denomination, quantity, status, sub_status)
		   VALUES (:writer, CAST(:run AS text) || '-' || :client_id || '-' || :n, :instant_product, :denomination, 1, 'DELIVERED', 'INVENTORY_FULFILLED')
		   RETURNING client_id, id)
INSERT INTO lim.order_items (client_id, order_id, status) SELECT client_id, id, 'DELIVERED' FROM o;
