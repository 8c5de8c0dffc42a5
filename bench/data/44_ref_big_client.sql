-- Reference implementation: the client with a million orders.
SELECT bench.big_client_start('ref', 'ref', bench.p('ref', 'big'), :orders_big,
							  bench.big_client_charge(), '{lifecycle_guard_insert}');
SELECT bench.big_client_script('ref') \gexec
SELECT bench.big_client_finish('ref');
