-- Reference implementation: the client with a million orders.
SELECT bench.load_big_client('ref', 'ref', value::bigint, :orders_big,
		jsonb_build_object('amount', '25.00', 'currency', $$'USD'$$,
						   'email', $$'buyer' || g % 1000 || '@example.com'$$),
		'{lifecycle_guard_insert}')
  FROM bench.params WHERE impl = 'ref' AND name = 'big';
