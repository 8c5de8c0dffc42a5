-- The webhook bench's figures (bench/webhooks/run.sh loaded the files):
-- one line per figure, "name<TAB>value[<TAB>value...]".
--   bench.webhook_receipts  webhook-id, endpoint path, time received (the
--                           first per delivery counts; retries come again)
--   bench.webhook_drains    round, the daemon's start before its backlog
--   bench.webhook_commits   on runs: round, pgbench client, transaction
--                           number, time its statement (and commit) returned
--   bench.webhook_tps       round, phase (off / on), status, order path tps

-- every delivery, its round, phase and receipt
CREATE TEMP VIEW received AS
SELECT d.id, o.id AS order_id, o.po_number, min(r.at) AS at
  FROM bench.webhook_receipts r
  JOIN orders.webhook_events e ON e.msg_id = r.msg_id
  JOIN orders.webhook_deliveries d ON d.event_id = e.id
  JOIN orders.webhook_endpoints w ON w.id = d.endpoint_id
	   AND r.path = substr(w.url, strpos(substr(w.url, 8), '/') + 7)
  JOIN orders.orders o ON o.id = e.order_id
 GROUP BY d.id, o.id, o.po_number;

-- the poNumber of a bench order is <workload>-<impl>-<clients>-<stamp>-<runno>-<client>-<n>
-- with n = the client's transaction number in pgbench's log (both count from 1)
CREATE TEMP VIEW tagged AS
SELECT rc.*, m[1] AS phase, m[2]::int AS round, m[3]::int AS client, m[4]::int AS txno
  FROM received rc,
	   LATERAL regexp_match(rc.po_number, '^90_webhooks-(off|on)(\d+)-.*-(\d+)-(\d+)$') AS m;

-- drains: from the daemon's start to the last receipt of the off run's orders
SELECT 'drain', t.round, count(*), round((max(t.at) - dr.started)::numeric, 3),
	   round((count(*) / (max(t.at) - dr.started))::numeric, 0)
  FROM tagged t JOIN bench.webhook_drains dr ON dr.round = t.round
 WHERE t.phase = 'off'
 GROUP BY t.round, dr.started ORDER BY t.round;

-- delays of the on runs' deliveries, from commit to receipt (ms)
SELECT 'delay', t.round, count(*),
	   round((1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY t.at - c.at))::numeric, 1),
	   round((1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY t.at - c.at))::numeric, 1),
	   round((1000 * min(t.at - c.at))::numeric, 1),
	   count(*) FILTER (WHERE c.at IS NULL)
  FROM tagged t LEFT JOIN bench.webhook_commits c
	ON c.round = t.round AND c.client = t.client AND c.txno = t.txno
 WHERE t.phase = 'on'
 GROUP BY t.round ORDER BY t.round;
SELECT 'delay_all', count(*),
	   round((1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY t.at - c.at))::numeric, 1),
	   round((1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY t.at - c.at))::numeric, 1)
  FROM tagged t JOIN bench.webhook_commits c
	ON c.round = t.round AND c.client = t.client AND c.txno = t.txno
 WHERE t.phase = 'on';

-- the order path's tps per round, without and with the daemon
SELECT 'tps', round, max(tps) FILTER (WHERE phase = 'off'), max(tps) FILTER (WHERE phase = 'on')
  FROM bench.webhook_tps GROUP BY round ORDER BY round;

-- every delivery of the bench succeeded, none is left, per order how many
SELECT 'deliveries', count(*), count(*) FILTER (WHERE status = 'succeeded'),
	   (SELECT count(*) FROM bench.webhook_receipts), count(DISTINCT order_id)
  FROM orders.webhook_deliveries;
