-- what: the PL/pgSQL lifecycle trigger (transition table lookups, history row)
\set id :trans_lo + :client_id * :trans_span + random(0, :trans_span - 1)
UPDATE ref.orders SET status = CASE WHEN status = 'PENDING' THEN 'PROCESSING' ELSE 'PENDING' END::ref.order_status,
	sub_status = CASE WHEN status = 'PENDING' THEN 'PROCESSING' ELSE 'PENDING_REPROCESS' END::ref.order_sub_status
 WHERE id = :id;
