-- Reference implementation: catalog, clients and funded wallets.
-- Products 1001 (inventory: INSTANT) and 1002 (none: DELAYED), as for ours.

INSERT INTO ref.products (id, name, currency, denominations, order_quantity_limit)
VALUES (1001, 'Bench Instant Gift Card', 'USD', '{10.00,25.00,50.00}', 10),
	   (1002, 'Bench Delayed Gift Card', 'USD', '{10.00,25.00,50.00}', 10);

-- writer: creates orders; big: a million orders to list; reader: delivered
-- orders to read; transition: rows that change status.
WITH c AS (
	INSERT INTO ref.clients (name)
	VALUES ('bench-writer'), ('bench-big'), ('bench-reader'), ('bench-transition')
	RETURNING id, name
)
SELECT bench.param('ref', substr(name, 7), id), ref.fund_wallet(id, 'USD', 100000000000)
  FROM c;
