-- title: status transition, 1 row per UPDATE
-- what: the C lifecycle trigger orders.lifecycle_guard (history row)
\set id :trans_lo + :client_id * :trans_span + random(0, :trans_span - 1)
UPDATE orders.orders SET status = CASE WHEN status = 'PENDING' THEN 'PROCESSING' ELSE 'PENDING' END,
	sub_status = CASE WHEN status = 'PENDING' THEN 'PROCESSING' ELSE 'PENDING_REPROCESS' END
 WHERE id = :id;
