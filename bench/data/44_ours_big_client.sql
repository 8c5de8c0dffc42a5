-- The engine: the client with a million orders (bench.big_client_*),
-- and where the bare keyset fetches of the list limit start: the newest
-- row of page 1 and of page 500 (20 a page), without and with the status
-- filter.  The engine's own triggers (order numbering, counts) run.
-- requires: orders.list_orders
SELECT bench.big_client_start('ours', 'orders', bench.p('ours', 'big'), :orders_big,
							  bench.big_client_charge(), '{lifecycle_guard}');
SELECT bench.big_client_script('ours') \gexec
SELECT bench.big_client_finish('ours');

SELECT bench.param('ours', 'p' || page || '_seq', client_seq),
	   bench.param('ours', 'p' || page || 's_seq', status_seq)
  FROM bench.params b, (VALUES (1), (500)) AS v(page),
	   LATERAL (SELECT o.client_seq FROM orders.orders o WHERE o.client_id = b.value::bigint
				 ORDER BY o.client_seq DESC OFFSET (page - 1) * 20 LIMIT 1) AS a,
	   LATERAL (SELECT o.client_seq AS status_seq FROM orders.orders o
				 WHERE o.client_id = b.value::bigint AND o.status = 'DELIVERED'
				 ORDER BY o.client_seq DESC OFFSET (page - 1) * 20 LIMIT 1) AS s
 WHERE b.impl = 'ours' AND b.name = 'big';
