-- Maintenance: what time alone changes.  orders.run_maintenance() is what
-- the background worker (src/worker.c) runs every orders.worker_interval,
-- and what an operator calls or schedules where orders cannot be preloaded.
-- Each job is handled in its own subtransaction: one that fails is logged
-- (WARNING) and left for the next round; the others go on.

-- A job whose retry window closed: REPROCESS_EXPIRED, then FAILED, then
-- the refund (of the undelivered part, for a partly delivered order).
CREATE FUNCTION orders.expire_vendor_job(p_job orders.vendor_jobs) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	reason text := format('retry window of vendor job %s closed after %s attempts',
						  p_job.id, p_job.attempts);
BEGIN
	IF (SELECT status FROM orders.orders WHERE id = p_job.order_id) = 'PENDING' THEN
		PERFORM orders.move_order(p_job.order_id, 'PENDING', 'REPROCESS_EXPIRED', reason);
	END IF;
	PERFORM orders.fail_open_items(p_job.order_id, reason);
	PERFORM orders.close_vendor_job(p_job, 'FAILED', NULL, reason);
	PERFORM orders.settle_order(p_job.order_id, 'VENDOR_VOUCHER_FETCHED', 'FAILED',
								'REPROCESS_EXPIRED', reason);
END
$$;
COMMENT ON FUNCTION orders.expire_vendor_job(orders.vendor_jobs) IS
'ends a vendor job past its retry window: order REPROCESS_EXPIRED, then FAILED (or PARTIALLY_DELIVERED), then refunded';

CREATE FUNCTION orders.run_maintenance() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	j orders.vendor_jobs;
	pd record;
	blocked integer;
	recovered integer := 0;
	expired integer := 0;
	served integer := 0;
	errors integer := 0;
	sandbox jsonb;
BEGIN
	blocked := orders.expire_units();

	-- Leases that ran out: the job returns to the queue (after the backoff,
	-- as a failed attempt).  Busy orders are left to the next round.
	FOR j IN
		SELECT vj.* FROM orders.vendor_jobs vj JOIN orders.orders o ON o.id = vj.order_id
		WHERE vj.status = 'LEASED' AND vj.lease_until <= now()
		ORDER BY vj.lease_until, vj.id
		FOR UPDATE OF vj, o SKIP LOCKED
	LOOP
		BEGIN
			PERFORM orders.requeue_vendor_job(j, 'lease_expired',
				format('the lease of %s expired', j.leased_by));
			recovered := recovered + 1;
		EXCEPTION WHEN OTHERS THEN
			errors := errors + 1;
			RAISE WARNING 'orders maintenance: lease recovery of vendor job % failed: %', j.id, SQLERRM;
		END;
	END LOOP;

	-- Retry windows that closed.
	FOR j IN
		SELECT vj.* FROM orders.vendor_jobs vj JOIN orders.orders o ON o.id = vj.order_id
		WHERE vj.status = 'QUEUED' AND vj.deadline <= now()
		ORDER BY vj.deadline, vj.id
		FOR UPDATE OF vj, o SKIP LOCKED
	LOOP
		BEGIN
			PERFORM orders.expire_vendor_job(j);
			expired := expired + 1;
		EXCEPTION WHEN OTHERS THEN
			errors := errors + 1;
			RAISE WARNING 'orders maintenance: expiry of vendor job % failed: %', j.id, SQLERRM;
		END;
	END LOOP;

	-- Units loaded while restock was off, or freed by a cancellation,
	-- serve the waiting items.
	FOR pd IN
		SELECT DISTINCT o.product_id, o.denomination
		FROM orders.vendor_jobs vj JOIN orders.orders o ON o.id = vj.order_id
		WHERE vj.status = 'QUEUED' AND o.status IN ('PENDING', 'PARTIALLY_DELIVERED')
			AND EXISTS (SELECT 1 FROM orders.inventory_units u
						WHERE u.product_id = o.product_id AND u.denomination = o.denomination
							AND u.status = 'AVAILABLE' AND u.expires_at > now())
		ORDER BY 1, 2
	LOOP
		BEGIN
			served := served + orders.serve_waiting_items(pd.product_id, pd.denomination);
		EXCEPTION WHEN OTHERS THEN
			errors := errors + 1;
			RAISE WARNING 'orders maintenance: serving product % / % failed: %',
				pd.product_id, pd.denomination, SQLERRM;
		END;
	END LOOP;

	IF (orders.vendor_policy()).sandbox THEN
		sandbox := orders.sandbox_vendor_round();
	END IF;

	RETURN jsonb_build_object(
		'units_blocked', blocked,
		'leases_recovered', recovered,
		'jobs_expired', expired,
		'items_restocked', served,
		'jobs_ready', (SELECT count(*) FROM orders.vendor_jobs
					   WHERE status = 'QUEUED' AND next_attempt_at <= now()),
		'sandbox', sandbox,
		'errors', errors);
END
$$;
COMMENT ON FUNCTION orders.run_maintenance() IS
'one maintenance round (what the background worker runs): expired units BLOCKED, lost leases back to the queue, closed retry windows failed and refunded, waiting items served from stock, the sandbox vendor if on';

GRANT EXECUTE ON FUNCTION orders.run_maintenance() TO orders_admin;
