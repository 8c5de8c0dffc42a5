-- title: status transition, 100 rows per UPDATE
-- what: bench.transition_c, a copy of orders.orders with only the C lifecycle trigger (checks, history row)
-- before: VACUUM bench.transition_c
\set lo :trans_lo + :client_id * :trans_span + random(0, :trans_span / 100 - 1) * 100
\set hi :lo + 99
UPDATE bench.transition_c SET status = CASE WHEN status = 'PENDING' THEN 'PROCESSING' ELSE 'PENDING' END,
	sub_status = CASE WHEN status = 'PENDING' THEN 'PROCESSING' ELSE 'PENDING_REPROCESS' END
 WHERE id BETWEEN :lo AND :hi;
