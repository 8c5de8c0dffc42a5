-- The HTTP workloads: the gateway's login role, API keys with predictable
-- ids and secrets (so that wrk's Lua and pgbench's SQL both derive them:
-- key k = sk_live_ + hex(48640 + k), secret bench-secret-k-0123456789;
-- k = 0..7 the writers, 8 the reader, 9 the big client), and rate limits
-- raised to their maximum (the checks still run; at the defaults, 200
-- requests a minute, the limits would refuse the load).
-- requires: api.dispatch orders.admin_import_api_key

CREATE ROLE bench_gateway LOGIN IN ROLE orders_authenticator;

SELECT orders.admin_import_api_key(c.id, format('sk_live_%s', lpad(to_hex(48640 + c.k), 24, '0')),
								   format('bench-secret-%s-0123456789', c.k), 'bench')
  FROM (SELECT bench.p('ours', 'writer') + g AS id, g AS k FROM generate_series(0, 7) AS g
		UNION ALL SELECT bench.p('ours', 'reader'), 8
		UNION ALL SELECT bench.p('ours', 'big'), 9) AS c;

SELECT bench.param('ours', 'http_headers_' || k,
				   jsonb_build_object('x-api-key', format('sk_live_%s', lpad(to_hex(48640 + k), 24, '0')),
									  'x-api-secret', format('bench-secret-%s-0123456789', k))::text)
  FROM (VALUES (8), (9)) AS v(k);

DO $$
DECLARE
	s text;
BEGIN
	FOREACH s IN ARRAY ARRAY['orders.rate_limit_per_minute', 'orders.rate_limit_burst',
							 'orders.rate_limit_order_reads_per_hour'] LOOP
		EXECUTE format('ALTER DATABASE bench SET %s = %s', s,
					   (SELECT max_val FROM pg_settings WHERE name = s));
	END LOOP;
END
$$;

-- Each HTTP workload's statement answers 2xx before it is measured (the
-- timed pgbench runs do not look at the status: a 429 or 401 there would
-- pass unnoticed).
SELECT bench.check(format('api.dispatch %s %s answers %s', m, p, d.status), d.status BETWEEN 200 AND 299)
  FROM (VALUES ('GET', '/api/v1/orders/' || bench.p('ours', 'd1_lo'), '', 8, NULL),
			   ('GET', '/api/v1/orders', 'page=1&limit=20', 9, NULL),
			   ('POST', '/api/v1/orders', '', 0,
				'{"data": {"productId": 1001, "quantity": 1, "denomination": 25.00, "email": "bench@example.com", "tag": "bench", "poNumber": "http-check"}}'))
		AS v(m, p, q, k, body),
	   LATERAL api.dispatch(m, p, q,
			jsonb_build_object('x-api-key', 'sk_live_' || lpad(to_hex(48640 + k), 24, '0'),
							   'x-api-secret', 'bench-secret-' || k || '-0123456789'), body) AS d;
