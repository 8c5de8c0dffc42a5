-- The router workloads (issue 14, docs/scale-out.md): a router database,
-- bench_router, with orders_router (PL/Proxy) whose one shard is the bench
-- database of this same cluster, its writers, reader and big client placed
-- there and their keys (bench/data/50_http.sql) in its credential directory.
-- The shard row is inserted as it is, not by orders_router.add_shard: that
-- would space every id of the bench database 16 apart (ids by residue
-- class), and the other workloads measure an unsharded server.  The
-- router's share of the cost is what is measured: the same statement on
-- the router and on the shard directly, in the same run.
-- requires: api.dispatch orders.admin_import_api_key
SELECT bench.p('ours', 'writer') AS writer, bench.p('ours', 'reader') AS reader,
	   bench.p('ours', 'big') AS big \gset
\set ON_ERROR_STOP on
CREATE DATABASE bench_router;
\c bench_router
CREATE EXTENSION orders_router CASCADE;
INSERT INTO orders_router.shards (shard, connstr)
VALUES (0, format('host=%s port=%s dbname=bench', :'HOST', :'PORT'));
INSERT INTO orders_router.placement (client_id, shard, placed_by)
SELECT c.id, 0, 'operator'
  FROM (SELECT :writer + g AS id FROM generate_series(0, 7) AS g UNION ALL SELECT :reader UNION ALL SELECT :big) c;
INSERT INTO orders_router.api_keys (key_id, client_id)
SELECT format('sk_live_%s', lpad(to_hex(48640 + c.k), 24, '0')), c.id
  FROM (SELECT :writer + g AS id, g AS k FROM generate_series(0, 7) AS g
		UNION ALL SELECT :reader, 8 UNION ALL SELECT :big, 9) c;
-- Through the router, as role orders_api: each statement answers 2xx
-- before it is measured.
SET ROLE orders_api;
SELECT bool_and(d.status BETWEEN 200 AND 299) AS ok,
	   string_agg(v.m || ' ' || v.p || ': ' || d.status, ', ') AS checks
  FROM (VALUES ('GET', '/api/v1/orders', 'page=1&limit=20', 9, NULL),
			   ('POST', '/api/v1/orders', '', 0,
				'{"data": {"productId": 1001, "quantity": 1, "denomination": 25.00, "email": "bench@example.com", "tag": "bench", "poNumber": "router-check"}}'))
		AS v(m, p, q, k, body),
	   LATERAL api.dispatch(m, p, q,
			jsonb_build_object('x-api-key', 'sk_live_' || lpad(to_hex(48640 + k), 24, '0'),
							   'x-api-secret', 'bench-secret-' || k || '-0123456789'), body) AS d
\gset router_
RESET ROLE;
\if :router_ok
\else
	\warn 'through the router: ' :router_checks
	SELECT 1 / 0 AS router_check_failed;
\endif
