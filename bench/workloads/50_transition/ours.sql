-- title: status transition, 1 row per UPDATE
-- what: bench.transition_c, a copy of orders.orders with only the C lifecycle trigger (checks, history row)
-- before: VACUUM bench.transition_c
\set id :trans_lo + :client_id * :trans_span + random(0, :trans_span - 1)
UPDATE bench.transition_c SET status = CASE WHEN status = 'PENDING' THEN 'PROCESSING' ELSE 'PENDING' END,
	sub_status = CASE WHEN status = 'PENDING' THEN 'PROCESSING' ELSE 'PENDING_REPROCESS' END
 WHERE id = :id;
