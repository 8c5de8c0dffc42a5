-- Reference implementation: orders made through ref.create_order for the
-- read workloads (delivered, one and five vouchers; a poNumber to replay).

SELECT bench.ids_param('ref', 'd1', array_agg(
		   (ref.create_order(p.value::bigint, 1001, 1, 25.00, 'd1-' || g, 'reader@example.com')
			#>> '{data,placeOrder,data,orderId}')::bigint))
  FROM bench.params p, generate_series(1, :details) AS g
 WHERE p.impl = 'ref' AND p.name = 'reader';

SELECT bench.ids_param('ref', 'd5', array_agg(
		   (ref.create_order(p.value::bigint, 1001, 5, 25.00, 'd5-' || g, 'reader@example.com')
			#>> '{data,placeOrder,data,orderId}')::bigint))
  FROM bench.params p, generate_series(1, :details5) AS g
 WHERE p.impl = 'ref' AND p.name = 'reader';

SELECT ref.create_order(p.value::bigint, 1001, 1, 25.00, 'replay-1', 'bench@example.com', 'bench')
  FROM bench.params p WHERE p.impl = 'ref' AND p.name = 'writer';
