-- Maintenance: what time alone changes.  orders.run_maintenance() is what
-- the background worker (src/worker.c) runs every orders.worker_interval,
-- and what an operator calls or schedules where orders cannot be preloaded.
-- It also wakes the consumers of the events outbox (orders.announce_events).
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
		PERFORM orders.transition_orders(ARRAY[p_job.order_id], 'PENDING', 'REPROCESS_EXPIRED', reason);
	END IF;
	PERFORM orders.fail_open_items(p_job.order_id, reason);
	PERFORM orders.close_vendor_job(p_job, 'FAILED', NULL, reason);
	PERFORM orders.settle_order(p_job.order_id, 'VENDOR_VOUCHER_FETCHED', 'FAILED',
								'REPROCESS_EXPIRED', reason);
END
$$;
COMMENT ON FUNCTION orders.expire_vendor_job(orders.vendor_jobs) IS
'ends a vendor job past its retry window: order REPROCESS_EXPIRED, then FAILED (or PARTIALLY_DELIVERED), then refunded';

-- Waking the outbox's consumers, after commit.  The order's own transaction
-- sends no NOTIFY (every notifying transaction takes one lock shared by all
-- of them until after its commit: orders would commit one at a time), so
-- maintenance does it, once per round at most: when the newest
-- unacknowledged event is not the one it announced last.  That covers new
-- events, and an event of a lower id that committed after the last
-- announcement (once the events above it are acknowledged).  Cost per
-- round: one backward step in the partial index order_events_unacknowledged
-- and one row read; a write and a NOTIFY only when there is news.
CREATE TABLE orders.outbox_announcement (
	only_row	boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	last_event_id bigint,		-- the newest unacknowledged event when announced
	announced_at timestamptz
);
INSERT INTO orders.outbox_announcement DEFAULT VALUES;
COMMENT ON TABLE orders.outbox_announcement IS
'one row: the newest unacknowledged outbox event that maintenance last announced on channel orders_events, and when';

CREATE FUNCTION orders.announce_events() RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	newest bigint := (SELECT max(e.id) FROM orders.order_events e WHERE e.acknowledged_at IS NULL);
BEGIN
	IF newest IS NULL THEN
		RETURN NULL;
	END IF;
	-- two rounds at once: the second waits for the row, then finds it done
	UPDATE orders.outbox_announcement SET last_event_id = newest, announced_at = now()
	WHERE last_event_id IS DISTINCT FROM newest;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	-- delivered when this (maintenance) transaction commits
	PERFORM pg_notify('orders_events', json_build_object('last_event_id', newest)::text);
	RETURN newest;
END
$$;
COMMENT ON FUNCTION orders.announce_events() IS
'sends NOTIFY orders_events {"last_event_id": id} when the newest unacknowledged outbox event is not the one announced last; returns it (NULL: nothing new)';

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
	announced bigint;
	counts bigint;
	purged integer;
BEGIN
	blocked := orders.expire_units();

	-- Leases that ran out: the job returns to the queue (after the backoff,
	-- as a failed attempt).  Retry windows that closed: the job ends.  Busy
	-- orders are left to the next round.
	FOR j IN
		SELECT vj.* FROM orders.vendor_jobs vj JOIN orders.orders o ON o.id = vj.order_id
		WHERE (vj.status = 'LEASED' AND vj.lease_until <= now())
		   OR (vj.status = 'QUEUED' AND vj.deadline <= now())
		ORDER BY vj.id
		FOR UPDATE OF vj, o SKIP LOCKED
	LOOP
		BEGIN
			IF j.status = 'LEASED' THEN
				PERFORM orders.requeue_vendor_job(j, 'lease_expired',
					format('the lease of %s expired', j.leased_by));
				recovered := recovered + 1;
			ELSE
				PERFORM orders.expire_vendor_job(j);
				expired := expired + 1;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			errors := errors + 1;
			RAISE WARNING 'orders maintenance: vendor job % (%): %', j.id, j.status, SQLERRM;
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

	-- The list counts: fold the committed deltas (schema/54_order_listing.sql).
	counts := orders.roll_up_order_counts();

	-- last: the events of this round's own changes are announced too
	announced := orders.announce_events();
	-- and the webhook daemons woken (schema/69_webhook_delivery.sql)
	PERFORM orders.webhook_announce();
	-- webhook events past their retention deleted, a batch a round
	purged := orders.webhook_purge();

	RETURN jsonb_build_object(
		'units_blocked', blocked,
		'leases_recovered', recovered,
		'jobs_expired', expired,
		'items_restocked', served,
		'jobs_ready', (SELECT count(*) FROM orders.vendor_jobs
					   WHERE status = 'QUEUED' AND next_attempt_at <= now()),
		'sandbox', sandbox,
		'events_announced', announced,
		'order_count_deltas_folded', counts,
		'webhook_events_purged', purged,
		'errors', errors);
END
$$;
COMMENT ON FUNCTION orders.run_maintenance() IS
'one maintenance round (what the background worker runs): expired units BLOCKED, lost leases back to the queue, closed retry windows failed and refunded, waiting items served from stock, the sandbox vendor if on, the order list counts rolled up, new outbox events announced (NOTIFY orders_events), webhook daemons woken when deliveries are due (NOTIFY orders_webhooks), webhook events past orders.webhook_retention deleted (a batch)';

GRANT EXECUTE ON FUNCTION orders.run_maintenance() TO orders_admin;
REVOKE EXECUTE ON FUNCTION orders.announce_events() FROM PUBLIC;
