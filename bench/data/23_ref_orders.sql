-- Reference implementation: orders made through ref.create_order for the
-- read workloads (delivered, one and five vouchers; a poNumber to replay).

SELECT bench.ids_param('ref', 'd1', array_agg((c.response #>> '{data,placeOrder,data,orderId}')::bigint))
  FROM bench.params p, generate_series(1, :details) AS g,
	   LATERAL ref.create_order(p.value::bigint, 1001, 1, 25.00, 'reader@example.com', NULL, 'd1-' || g) c
 WHERE p.impl = 'ref' AND p.name = 'reader';

SELECT bench.ids_param('ref', 'd5', array_agg((c.response #>> '{data,placeOrder,data,orderId}')::bigint))
  FROM bench.params p, generate_series(1, :details5) AS g,
	   LATERAL ref.create_order(p.value::bigint, 1001, 5, 25.00, 'reader@example.com', NULL, 'd5-' || g) c
 WHERE p.impl = 'ref' AND p.name = 'reader';

SELECT c.replayed
  FROM bench.params p,
	   LATERAL ref.create_order(p.value::bigint, 1001, 1, 25.00, 'bench@example.com', 'bench', 'replay-1') c
 WHERE p.impl = 'ref' AND p.name = 'writer';
