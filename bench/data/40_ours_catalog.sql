-- The engine: products 1001 (INSTANT) and 1002 (DELAYED) and the clients.
INSERT INTO orders.products (id, name, currency)
VALUES (1001, 'Bench Instant Gift Card', 'USD'), (1002, 'Bench Delayed Gift Card', 'USD');
WITH c AS (
	INSERT INTO orders.clients (name)
	VALUES ('bench-writer'), ('bench-big'), ('bench-reader'), ('bench-transition')
	RETURNING id, name
)
SELECT bench.param('ours', substr(name, 7), id) FROM c;
