-- Fulfilment: the vendor job queue.  A DELAYED order gets a job; a vendor
-- worker claims it for a lease and reports on it; the reports are
-- idempotent and refused from a lease that no longer holds the job;
-- transient failures and lost leases are retried with exponential backoff;
-- a final failure or a closed retry window fails the order and refunds it
-- exactly once.  Time is simulated by moving a job's timestamps.
\set suite 'fulfilment queue'
\set funds 500
\i sql/fulfilment_helpers.psql
SELECT pg_temp.products('[{"id": 6101, "name": "Queue Card", "denominations": [10, 25], "limit": 10}, {"id": 6102, "name": "Other Card", "denominations": [10], "limit": 10}]');

-- A DELAYED order (no inventory) waits for a vendor, with a queued job
-- whose retry window is orders.vendor_retry_window (24 hours by default).
SELECT pg_temp.place(:client, 6101, 3, 10, 'q-1') AS o1 \gset
SELECT pg_temp.state(:o1);
SELECT status, attempts, deadline - created_at AS retry_window, next_attempt_at <= now() AS ready
FROM vendor_jobs WHERE order_id = :o1;
SELECT * FROM pg_temp.ledger(:o1);

-- Claims: a worker name and a limit are checked; a claim is for the
-- products a worker serves (NULL: any).
SELECT pg_temp.try($$SELECT count(*) FROM orders.claim_vendor_jobs('', 1)$$);
SELECT pg_temp.try($$SELECT count(*) FROM orders.claim_vendor_jobs(repeat('w', 101), 1)$$);
SELECT pg_temp.try($$SELECT count(*) FROM orders.claim_vendor_jobs('w1', 0)$$);
SELECT pg_temp.try($$SELECT count(*) FROM orders.claim_vendor_jobs('w1', 101)$$);
SELECT count(*) AS claimed_for_other_product FROM claim_vendor_jobs('w1', 10, '{6102}');
SELECT order_id = :o1 AS mine, po_number, product_id, kind, denomination, items, recharge_ids,
	   attempt, lease_until - now() BETWEEN interval '4 min 59 s' AND interval '5 min' AS five_minutes
FROM claim_vendor_jobs('w1', 10, '{6101}');
SELECT pg_temp.job(:o1) AS j1, pg_temp.token(:o1) AS t1 \gset
-- Claimed: items PROCESSING, job LEASED; nobody else gets it.
SELECT pg_temp.state(:o1);
SELECT status, attempts, leased_by FROM vendor_jobs WHERE id = :j1;
SELECT count(*) AS claimed_again FROM claim_vendor_jobs('w2', 10, '{6101}');

-- The vendor created its order: PROCESSING / VENDOR_ORDER_CREATED, the
-- reference kept.  The same report again changes nothing; another
-- reference for the same attempt is refused.
SELECT pg_temp.answer(report_vendor_order_created(:j1, :'t1', 'VND-1'));
SELECT vendor_reference FROM vendor_jobs WHERE id = :j1;
SELECT count(*) AS history_rows FROM status_history WHERE entity = 'order' AND entity_id = :o1 \gset
SELECT pg_temp.answer(report_vendor_order_created(:j1, :'t1', 'VND-1'));
SELECT count(*) = :history_rows AS nothing_changed FROM status_history
WHERE entity = 'order' AND entity_id = :o1;
SELECT pg_temp.try(format($$SELECT orders.report_vendor_order_created(%s, %L, 'VND-2')$$, :j1, :'t1'));
SELECT pg_temp.try(format($$SELECT orders.report_vendor_order_created(%s, %L, '')$$, :j1, :'t1'));
-- A token that is not one of the job's leases, an unknown job, no token.
SELECT pg_temp.try(format($$SELECT orders.report_vendor_order_created(%s, gen_random_uuid(), 'VND-1')$$, :j1));
SELECT pg_temp.try($$SELECT orders.report_vendor_order_created(-1, gen_random_uuid(), 'VND-1')$$);
SELECT pg_temp.try(format($$SELECT orders.report_vendor_failure(%s, NULL, false, 'x')$$, :j1));
SELECT pg_temp.try(format($$SELECT orders.report_vendor_failure(%s, %L, NULL, 'x')$$, :j1, :'t1'));
SELECT pg_temp.try(format($$SELECT orders.report_vendor_failure(%s, %L, false, repeat('x', 501))$$, :j1, :'t1'));

-- A transient failure: back to PENDING / PENDING_REPROCESS, items PENDING,
-- the job queued again after orders.vendor_retry_base (30 s).  Again:
-- nothing changes.  Any other report from that lease is refused now.
SELECT pg_temp.answer(report_vendor_failure(:j1, :'t1', false, 'vendor timeout'));
SELECT status, attempts, next_attempt_at - updated_at AS backoff, last_error
FROM vendor_jobs WHERE id = :j1;
SELECT pg_temp.answer(report_vendor_failure(:j1, :'t1', false, 'vendor timeout'));
SELECT pg_temp.try(format($$SELECT orders.report_vendor_failure(%s, %L, true, 'gone')$$, :j1, :'t1'));
SELECT pg_temp.try(format($$SELECT orders.report_vouchers_fetched(%s, %L, '[{"card_number": "x"}]')$$, :j1, :'t1'));
SELECT pg_temp.try(format($$SELECT orders.extend_vendor_lease(%s, %L)$$, :j1, :'t1'));
-- Not due yet: not claimed.
SELECT count(*) AS claimed_before_backoff FROM claim_vendor_jobs('w1', 10, '{6101}');

-- Attempt 2, once due.  Its lease is extended; then it runs out: a report
-- is refused, and maintenance puts the job back with the doubled backoff.
SELECT pg_temp.retry_due(:o1);
SELECT attempt, items FROM claim_vendor_jobs('w2', 10, '{6101}');
SELECT pg_temp.token(:o1) AS t2 \gset
SELECT extend_vendor_lease(:j1, :'t2') > now() + interval '4 min' AS extended;
SELECT pg_temp.lease_runs_out(:o1);
SELECT pg_temp.try(format($$SELECT orders.report_vendor_order_created(%s, %L, 'VND-3')$$, :j1, :'t2'));
SELECT (run_maintenance()->>'leases_recovered')::integer >= 1 AS recovered;
SELECT pg_temp.state(:o1);
SELECT status, attempts, next_attempt_at - updated_at AS backoff FROM vendor_jobs WHERE id = :j1;
SELECT pg_temp.try(format($$SELECT orders.report_vendor_order_created(%s, %L, 'VND-3')$$, :j1, :'t2'));

-- Attempt 3 fails for good: FAILED / VENDOR_ORDER_FAILED, then the full
-- refund, REFUNDED.  The attempts as they happened.
SELECT pg_temp.retry_due(:o1);
SELECT attempt FROM claim_vendor_jobs('w1', 10, '{6101}');
SELECT pg_temp.token(:o1) AS t3 \gset
SELECT pg_temp.answer(report_vendor_order_created(:j1, :'t3', 'VND-3'));
SELECT pg_temp.answer(report_vendor_failure(:j1, :'t3', true, 'product discontinued'));
SELECT pg_temp.answer(report_vendor_failure(:j1, :'t3', true, 'product discontinued'));
SELECT attempt, leased_by, items, vendor_reference, outcome, delivered, detail
FROM vendor_job_attempts WHERE job_id = :j1 ORDER BY attempt;
SELECT status, lease_token IS NULL AS released FROM vendor_jobs WHERE id = :j1;
SELECT * FROM pg_temp.ledger(:o1);
SELECT * FROM pg_temp.history(:o1);
-- Refunded exactly once: the ledger's constraint refuses a second refund
-- whoever tries, and REFUNDED is final.
SELECT pg_temp.try(format($$SELECT orders.refund_order(%s)$$, :o1));
SELECT pg_temp.try(format($$UPDATE orders.orders SET sub_status = 'NOT_REFUNDED' WHERE id = %s RETURNING 1$$, :o1));
SELECT pg_temp.try(format($$INSERT INTO orders.ledger_entries (client_id, wallet_id, kind, amount, order_id)
	SELECT client_id, wallet_id, 'REFUND', 1, order_id FROM orders.ledger_entries
	WHERE order_id = %s AND kind = 'DEBIT' RETURNING 1$$, :o1));

-- The retry window: a job past it is never claimed; maintenance makes the
-- order REPROCESS_EXPIRED, then FAILED, then refunds it.
SELECT pg_temp.place(:client, 6101, 2, 25, 'q-2') AS o2 \gset
SELECT attempt FROM claim_vendor_jobs('w1', 10, '{6101}');
SELECT pg_temp.answer(report_vendor_failure(pg_temp.job(:o2), pg_temp.token(:o2), false, 'busy'));
SELECT pg_temp.retry_due(:o2);
SELECT pg_temp.window_closes(:o2);
SELECT count(*) AS claimed_after_window FROM claim_vendor_jobs('w1', 10, '{6101}');
SELECT (run_maintenance()->>'jobs_expired')::integer >= 1 AS expired;
SELECT pg_temp.state(:o2);
SELECT status, attempts FROM vendor_jobs WHERE order_id = :o2;
SELECT * FROM pg_temp.history(:o2);
SELECT * FROM pg_temp.ledger(:o2);

-- A job never claimed expires the same way.
SELECT pg_temp.place(:client, 6101, 1, 10, 'q-3') AS o3 \gset
SELECT pg_temp.window_closes(:o3);
SELECT (run_maintenance()->>'jobs_expired')::integer >= 1 AS expired;
SELECT pg_temp.state(:o3);

-- Backoff: retry_base * 2^(attempt - 1), at most retry_max.
SET orders.vendor_retry_base = '10s';
SET orders.vendor_retry_max = '100s';
SELECT a AS attempt, vendor_retry_delay(a) FROM generate_series(1, 6) a;
SELECT vendor_retry_delay(2147483647);
SELECT pg_temp.try($$SELECT orders.vendor_retry_delay(0)$$);
RESET orders.vendor_retry_base;
RESET orders.vendor_retry_max;
SELECT * FROM vendor_policy();
-- Superuser settings.
CREATE ROLE fulfilment_queue_user;
SET ROLE fulfilment_queue_user;
SET orders.vendor_retry_window = '1s';
RESET ROLE;
DROP ROLE fulfilment_queue_user;

-- The vendor role claims and reports through the functions only; the
-- history names it as the actor.
SELECT pg_temp.place(:client, 6101, 1, 10, 'q-4') AS o4 \gset
SET ROLE orders_vendor;
SELECT job_id AS j4, lease_token AS t4, attempt, items
FROM orders.claim_vendor_jobs('w3', 10, '{6101}') \gset
SELECT :attempt AS attempt, :items AS items;
SELECT pg_temp.answer(orders.report_vendor_failure(:j4, :'t4', true, 'out of stock'));
SELECT pg_temp.try($$SELECT count(*) FROM orders.vendor_jobs$$);
SELECT pg_temp.try($$SELECT orders.run_maintenance()::text$$);
SELECT pg_temp.try($$SELECT orders.admin_cancel_order(-1, 'x')$$);
SELECT pg_temp.try($$SELECT orders.settle_order(-1, 'COMPLETED', 'FAILED', 'REFUNDED', 'x')$$);
SELECT pg_temp.try($$SELECT orders.refund_undelivered(NULL, 0, 'x')$$);
RESET ROLE;
SELECT actor, to_status, to_sub_status FROM status_history
WHERE entity = 'order' AND entity_id = :o4 ORDER BY id DESC LIMIT 2;

-- Money adds up.
SELECT balance FROM wallets WHERE client_id = :client;
SELECT * FROM verify_ledger();
