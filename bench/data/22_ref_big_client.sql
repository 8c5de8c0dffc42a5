-- Reference implementation: the client with a million orders.
SELECT bench.load_big_client('ref', 'ref', value::bigint, :orders_big,
		bench.big_client_charge(),
		'{lifecycle_guard_insert}')
  FROM bench.params WHERE impl = 'ref' AND name = 'big';
