-- The engine: products 1001 (inventory: INSTANT) and 1002 (none: DELAYED),
-- the clients, and their funded USD wallets.
-- requires: orders.fund_wallet
INSERT INTO orders.products (id, name, currency, denominations, order_quantity_limit)
VALUES (1001, 'Bench Instant Gift Card', 'USD', '{10.00,25.00,50.00}', 10),
	   (1002, 'Bench Delayed Gift Card', 'USD', '{10.00,25.00,50.00}', 10);
WITH c AS (
	INSERT INTO orders.clients (name)
	VALUES ('bench-writer'), ('bench-big'), ('bench-reader'), ('bench-transition')
	RETURNING id, name
)
SELECT bench.param('ours', substr(name, 7), id), orders.fund_wallet(id, 'USD', 100000000000)
  FROM c;
