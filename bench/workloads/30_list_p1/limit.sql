-- what: bare keyset fetch of the page's 20 order rows from the engine's table, its first key known in advance, no total
-- requires: orders.list_orders
SELECT * FROM orders.orders WHERE client_id = :big AND client_seq <= :p1_seq ORDER BY client_seq DESC LIMIT 20;
