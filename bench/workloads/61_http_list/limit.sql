-- title: over HTTP: list orders, page 1
-- what: pgbench running the gateway's own statement (api.dispatch with the same arguments), as the gateway's login role with role orders_api
-- requires: api.dispatch
-- role: orders_api
SELECT d.status, CASE WHEN h.n IS NULL OR h.n = 1 THEN d.body END, h.key, h.value
  FROM api.dispatch('GET', '/api/v1/orders', 'page=1&limit=20', CAST(:http_headers_9 AS jsonb), NULL) AS d
  LEFT JOIN LATERAL pg_catalog.jsonb_each_text(CASE WHEN pg_catalog.jsonb_typeof(d.headers) = 'object' THEN d.headers ELSE '{}'::pg_catalog.jsonb END) WITH ORDINALITY AS h(key, value, n) ON true;
