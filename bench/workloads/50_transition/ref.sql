-- what: bench.transition_plpgsql, the same copy with only the PL/pgSQL lifecycle trigger (table lookups, history row)
-- before: VACUUM bench.transition_plpgsql
\set id :trans_lo + :client_id * :trans_span + random(0, :trans_span - 1)
UPDATE bench.transition_plpgsql SET status = CASE WHEN status = 'PENDING' THEN 'PROCESSING' ELSE 'PENDING' END,
	sub_status = CASE WHEN status = 'PENDING' THEN 'PROCESSING' ELSE 'PENDING_REPROCESS' END
 WHERE id = :id;
