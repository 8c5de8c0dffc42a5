-- title: over HTTP: create order, INSTANT
-- what: pgbench running the gateway's own statement (api.dispatch with the same arguments), as the gateway's login role with role orders_api
-- requires: api.dispatch
-- role: orders_api
\set n :n + 1
\set k :client_id % 8
SELECT d.status, CASE WHEN h.n IS NULL OR h.n = 1 THEN d.body END, h.key, h.value
  FROM api.dispatch('POST', '/api/v1/orders', '',
		jsonb_build_object('x-api-key', 'sk_live_' || lpad(to_hex(48640 + :k), 24, '0'),
						   'x-api-secret', 'bench-secret-' || :k || '-0123456789',
						   'content-type', 'application/json'),
		'{"data": {"productId": 1001, "quantity": 1, "denomination": 25.00, "email": "bench@example.com", "tag": "bench", "poNumber": "'
		|| CAST(:run AS text) || '-' || :client_id || '-' || :n || '"}}') AS d
  LEFT JOIN LATERAL pg_catalog.jsonb_each_text(CASE WHEN pg_catalog.jsonb_typeof(d.headers) = 'object' THEN d.headers ELSE '{}'::pg_catalog.jsonb END) WITH ORDINALITY AS h(key, value, n) ON true;
