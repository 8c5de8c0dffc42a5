-- The engine: rows of the transition workload, moved PLACED -> PENDING
-- through the C lifecycle trigger.
SELECT bench.load_transition_rows('ours', 'orders.orders', value::bigint, :transition_rows, '{}')
  FROM bench.params WHERE impl = 'ours' AND name = 'transition';
