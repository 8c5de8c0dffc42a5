-- what: bench.transition_bare, the same copy without trigger
-- before: VACUUM bench.transition_bare
\set lo :trans_lo + :client_id * :trans_span + random(0, :trans_span / 100 - 1) * 100
\set hi :lo + 99
UPDATE bench.transition_bare SET status = CASE WHEN status = 'PENDING' THEN 'PROCESSING' ELSE 'PENDING' END,
	sub_status = CASE WHEN status = 'PENDING' THEN 'PROCESSING' ELSE 'PENDING_REPROCESS' END
 WHERE id BETWEEN :lo AND :hi;
