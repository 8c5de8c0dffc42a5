-- what: the bare minimum an order writes: one statement inserting the order row and its item row (copies of the engine's tables: same indexes, no trigger, no foreign key)
\set n :n + 1
\set w :writer + :client_id % :writers
\set seq :runno * 10000000 + :client_id * 1000000 + :n
WITH o AS (INSERT INTO lim.orders (client_id, client_seq, po_number, product_id, denomination, quantity, status, sub_status)
		   VALUES (:w, :seq, CAST(:run AS text) || '-' || :client_id || '-' || :n, :instant_product, :denomination, 1, 'DELIVERED', 'INVENTORY_FULFILLED')
		   RETURNING client_id, id)
INSERT INTO lim.order_items (client_id, order_id, status) SELECT client_id, id, 'DELIVERED' FROM o;
