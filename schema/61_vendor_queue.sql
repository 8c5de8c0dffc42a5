-- The vendor job queue.  An order whose items inventory could not serve
-- (PENDING / VENDOR_ORDER_PENDING) gets one job; vendor workers claim jobs
-- with SKIP LOCKED and hold them for a lease (orders.vendor_lease_timeout).
-- Each claim is one attempt, kept in vendor_job_attempts with its lease
-- token: the token is what a vendor's reports must carry.
--
-- Lock order, everywhere in fulfilment: the order row, then its job, then
-- its items, then units.  Claims and maintenance never wait (SKIP LOCKED).

CREATE TABLE orders.vendor_jobs (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_id	bigint NOT NULL UNIQUE REFERENCES orders.orders,
	status		text NOT NULL DEFAULT 'QUEUED'
				CHECK (status IN ('QUEUED', 'LEASED', 'DONE', 'FAILED', 'CANCELLED')),
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	-- end of the retry window: not claimed after it, failed by maintenance
	deadline	timestamptz NOT NULL,
	lease_token uuid UNIQUE,
	leased_by	text,
	lease_until timestamptz,
	vendor_reference text,
	last_error	text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	CHECK ((status = 'LEASED') = (lease_token IS NOT NULL)),
	CHECK ((status = 'LEASED') = (lease_until IS NOT NULL AND leased_by IS NOT NULL))
);
-- A unit loaded from a job's vouchers names its job (schema/20).
ALTER TABLE orders.inventory_units ADD FOREIGN KEY (vendor_job_id) REFERENCES orders.vendor_jobs;
CREATE INDEX vendor_jobs_ready ON orders.vendor_jobs (next_attempt_at, id)
	WHERE status = 'QUEUED';
CREATE INDEX vendor_jobs_leased ON orders.vendor_jobs (lease_until)
	WHERE status = 'LEASED';
COMMENT ON TABLE orders.vendor_jobs IS
'vendor job queue: one job per order waiting for vendor vouchers; QUEUED, LEASED (claimed), DONE, FAILED, CANCELLED';

CREATE TABLE orders.vendor_job_attempts (
	job_id		bigint NOT NULL REFERENCES orders.vendor_jobs,
	attempt		integer NOT NULL CHECK (attempt > 0),
	lease_token uuid NOT NULL UNIQUE,
	leased_by	text NOT NULL,
	claimed_at	timestamptz NOT NULL DEFAULT now(),
	items		integer NOT NULL CHECK (items > 0),
	vendor_reference text,
	order_created_at timestamptz,
	ended_at	timestamptz,
	outcome		text CHECK (outcome IN ('delivered', 'partial', 'submitted',
				'failed_transiently', 'failed_finally', 'lease_expired', 'cancelled')),
	delivered	integer NOT NULL DEFAULT 0 CHECK (delivered >= 0),
	detail		text,
	PRIMARY KEY (job_id, attempt),
	CHECK ((ended_at IS NULL) = (outcome IS NULL))
);
COMMENT ON TABLE orders.vendor_job_attempts IS
'one row per claim of a vendor job: who held it, the lease token, the vendor reference, how it ended';

-- A job for every order that starts waiting for a vendor, its retry window
-- fixed now.  In C (src/vendor_queue_trigger.c): one saved INSERT ... ON
-- CONFLICT (order_id) DO NOTHING.
CREATE FUNCTION orders.queue_vendor_job() RETURNS trigger
	AS 'MODULE_PATHNAME', 'queue_vendor_job' LANGUAGE C;
COMMENT ON FUNCTION orders.queue_vendor_job() IS
'trigger: queues a vendor job for an order entering PENDING / VENDOR_ORDER_PENDING';

CREATE TRIGGER queue_vendor_job
	AFTER INSERT OR UPDATE OF status, sub_status ON orders.orders
	FOR EACH ROW
	WHEN (NEW.status = 'PENDING' AND NEW.sub_status = 'VENDOR_ORDER_PENDING')
	EXECUTE FUNCTION orders.queue_vendor_job();
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER queue_vendor_job;

CREATE FUNCTION orders.vendor_policy(
	OUT lease_timeout interval, OUT retry_base interval, OUT retry_max interval,
	OUT retry_window interval, OUT sandbox boolean)
	AS 'MODULE_PATHNAME', 'vendor_policy' LANGUAGE C STABLE;
COMMENT ON FUNCTION orders.vendor_policy() IS
'the settings orders.vendor_lease_timeout, vendor_retry_base, vendor_retry_max, vendor_retry_window, sandbox_vendor';

CREATE FUNCTION orders.vendor_retry_delay(attempt integer) RETURNS interval
	AS 'MODULE_PATHNAME', 'vendor_retry_delay' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.vendor_retry_delay(integer) IS
'delay before the next attempt after the given number of failed attempts: retry_base * 2^(attempt-1), at most retry_max';

-- A short, printable name of a vendor worker or a reason: what the
-- history and the attempts keep.
CREATE FUNCTION orders.check_label(p_what text, p_value text, p_max integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_value IS NULL OR length(btrim(p_value)) = 0 THEN
		RAISE EXCEPTION '% must not be empty', p_what USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF length(p_value) > p_max THEN
		RAISE EXCEPTION '% is too long (% characters, at most %)', p_what, length(p_value), p_max
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN p_value;
END
$$;
COMMENT ON FUNCTION orders.check_label(text, text, integer) IS
'p_value if it is non-empty and at most p_max characters, else an error naming p_what';

-- Every id of p_ids is a row of p_table: else an error naming the first
-- missing one (p_what: "event", "inventory unit").
CREATE FUNCTION orders.check_ids(p_what text, p_ids bigint[], p_table regclass) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
	missing bigint;
BEGIN
	IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
		RAISE EXCEPTION 'no % ids given', p_what USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format('SELECT i FROM unnest($1) i WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE t.id = i) LIMIT 1',
				   p_table) INTO missing USING p_ids;
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION '% % does not exist', p_what, missing USING ERRCODE = 'no_data_found';
	END IF;
END
$$;
COMMENT ON FUNCTION orders.check_ids(text, bigint[], regclass) IS
'raises an error unless p_ids is non-empty and every id is a row of p_table; names the first missing one';

CREATE FUNCTION orders.claim_vendor_jobs(p_worker text, p_limit integer DEFAULT 1,
										 p_product_ids bigint[] DEFAULT NULL)
RETURNS TABLE (job_id bigint, lease_token uuid, lease_until timestamptz,
	order_id bigint, po_number text, product_id bigint, kind text, denomination numeric,
	items integer, recharge_ids bigint[], phone_code text, phone_number text, attempt integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	j record;
	token uuid;
	held integer;
	lease interval := (orders.vendor_policy()).lease_timeout;
	reason text := 'claimed by vendor worker ' || p_worker;
BEGIN
	PERFORM orders.check_label('worker name', p_worker, 100);
	IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'limit must be between 1 and 100, not %', coalesce(p_limit::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- Never waits: a job or order locked by someone else is skipped.
	FOR j IN
		SELECT vj.id, vj.attempts, o.id AS oid, o.po_number, o.product_id, o.denomination,
			o.mobile_country_code, o.mobile_number, p.kind
		FROM orders.vendor_jobs vj JOIN orders.orders o ON o.id = vj.order_id
		JOIN orders.products p ON p.id = o.product_id
		WHERE vj.status = 'QUEUED' AND vj.next_attempt_at <= now() AND vj.deadline > now()
			AND o.status IN ('PENDING', 'PARTIALLY_DELIVERED')
			AND (p_product_ids IS NULL OR o.product_id = ANY (p_product_ids))
		ORDER BY vj.next_attempt_at, vj.id
		LIMIT p_limit
		FOR UPDATE OF vj, o SKIP LOCKED
	LOOP
		-- the items are stable: their order's row is locked
		held := orders.transition_order_items(ARRAY(
			SELECT i.id FROM orders.order_items i
			WHERE i.order_id = j.oid AND i.status = 'PENDING' AND i.unit_id IS NULL
				AND NOT EXISTS (SELECT 1 FROM orders.recharges r
								WHERE r.order_item_id = i.id AND r.status <> 'PENDING')
			ORDER BY i.id), 'PROCESSING', reason);
		IF held = 0 THEN
			-- served meanwhile (restock): nothing left for the vendor
			UPDATE orders.vendor_jobs SET status = 'DONE', updated_at = now() WHERE id = j.id;
			CONTINUE;
		END IF;
		token := gen_random_uuid();
		UPDATE orders.vendor_jobs vj SET status = 'LEASED', attempts = vj.attempts + 1,
			lease_token = token, leased_by = p_worker, lease_until = now() + lease,
			updated_at = now()
		WHERE vj.id = j.id;
		INSERT INTO orders.vendor_job_attempts (job_id, attempt, lease_token, leased_by, items)
		VALUES (j.id, j.attempts + 1, token, p_worker, held);
		job_id := j.id; lease_token := token; lease_until := now() + lease;
		order_id := j.oid; po_number := j.po_number; product_id := j.product_id;
		kind := j.kind; denomination := j.denomination; items := held;
		recharge_ids := (SELECT array_agg(r.id ORDER BY r.id) FROM orders.recharges r
						 JOIN orders.order_items i ON i.id = r.order_item_id
						 WHERE i.order_id = j.oid AND i.status = 'PROCESSING'
							AND r.status = 'PENDING');
		phone_code := j.mobile_country_code; phone_number := j.mobile_number;
		attempt := j.attempts + 1;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION orders.claim_vendor_jobs(text, integer, bigint[]) IS
'vendor side: claims up to p_limit ready jobs (of the given products; NULL: any) with SKIP LOCKED for a lease; returns each with its lease token and what to fetch (vouchers, or the recharges of a top-up)';

-- The open attempt a lease token names, its job and order locked in the
-- fulfilment lock order.  A token whose attempt already ended with the
-- same report is a duplicate (found = false, outcome set); any other use
-- of a token that no longer holds its job is refused.
CREATE FUNCTION orders.lock_vendor_lease(p_job_id bigint, p_lease_token uuid, p_report text,
	OUT duplicate boolean, OUT job orders.vendor_jobs, OUT attempt orders.vendor_job_attempts)
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	order_id bigint;
BEGIN
	IF p_job_id IS NULL OR p_lease_token IS NULL THEN
		RAISE EXCEPTION 'job id and lease token are required' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT vj.order_id INTO order_id FROM orders.vendor_jobs vj WHERE vj.id = p_job_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'vendor job % does not exist', p_job_id USING ERRCODE = 'no_data_found';
	END IF;
	PERFORM 1 FROM orders.orders o WHERE o.id = order_id FOR UPDATE;
	SELECT * INTO job FROM orders.vendor_jobs vj WHERE vj.id = p_job_id FOR UPDATE;
	SELECT * INTO attempt FROM orders.vendor_job_attempts a
	WHERE a.lease_token = p_lease_token AND a.job_id = p_job_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'vendor job %: lease token is not one of its leases', p_job_id
			USING ERRCODE = 'OR501';
	END IF;
	duplicate := CASE p_report
		WHEN 'order_created' THEN attempt.order_created_at IS NOT NULL
		WHEN 'vouchers_fetched' THEN attempt.outcome IN ('delivered', 'partial')
		ELSE attempt.outcome IS NOT DISTINCT FROM p_report END;
	IF duplicate THEN
		RETURN;
	END IF;
	IF attempt.ended_at IS NOT NULL THEN
		RAISE EXCEPTION 'vendor job %: attempt % no longer holds the job (it ended: %)',
			p_job_id, attempt.attempt, attempt.outcome
			USING ERRCODE = 'OR501',
				  HINT = 'Claim the job again with orders.claim_vendor_jobs().';
	END IF;
	IF job.lease_until <= now() THEN
		RAISE EXCEPTION 'vendor job %: the lease of attempt % expired', p_job_id, attempt.attempt
			USING ERRCODE = 'OR501',
				  DETAIL = format('The lease ran out at %s.', job.lease_until),
				  HINT = 'The job returns to the queue; extend a lease in time with orders.extend_vendor_lease().';
	END IF;
END
$$;
COMMENT ON FUNCTION orders.lock_vendor_lease(bigint, uuid, text) IS
'locks a job and its order for a vendor report; flags a repeated report; refuses a lease that no longer holds the job';

CREATE FUNCTION orders.extend_vendor_lease(p_job_id bigint, p_lease_token uuid)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	l record;
	until timestamptz := now() + (orders.vendor_policy()).lease_timeout;
BEGIN
	l := orders.lock_vendor_lease(p_job_id, p_lease_token, 'extend');
	UPDATE orders.vendor_jobs SET lease_until = until, updated_at = now() WHERE id = p_job_id;
	RETURN until;
END
$$;
COMMENT ON FUNCTION orders.extend_vendor_lease(bigint, uuid) IS
'vendor side: keeps holding a job for another orders.vendor_lease_timeout; refused once the lease is lost';

-- Ends the open attempt of a job (the lease is given up) and puts the job
-- back in the queue for its remaining items, after the backoff delay.
CREATE FUNCTION orders.requeue_vendor_job(p_job orders.vendor_jobs, p_outcome text,
	p_detail text, p_delivered integer DEFAULT 0)
RETURNS timestamptz
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	next_at timestamptz := now() + orders.vendor_retry_delay(greatest(p_job.attempts, 1));
	reason text := format('vendor job %s queued again (%s): %s', p_job.id, p_outcome, p_detail);
BEGIN
	UPDATE orders.vendor_job_attempts SET ended_at = now(), outcome = p_outcome,
		delivered = p_delivered, detail = p_detail
	WHERE lease_token = p_job.lease_token;
	-- an item whose recharge was submitted waits for the operator instead
	PERFORM orders.transition_order_items(ARRAY(
		SELECT i.id FROM orders.order_items i
		WHERE i.order_id = p_job.order_id AND i.status = 'PROCESSING'
			AND NOT EXISTS (SELECT 1 FROM orders.recharges r
							WHERE r.order_item_id = i.id AND r.status <> 'PENDING')
		ORDER BY i.id), 'PENDING', reason);
	UPDATE orders.vendor_jobs SET status = 'QUEUED', lease_token = NULL, leased_by = NULL,
		lease_until = NULL, next_attempt_at = next_at, last_error = p_detail, updated_at = now()
	WHERE id = p_job.id;
	-- An order the vendor had accepted waits again; a partly delivered
	-- one stays PARTIALLY_DELIVERED / PARTIAL.
	PERFORM orders.transition_orders(ARRAY(
		SELECT o.id FROM orders.orders o
		WHERE o.id = p_job.order_id AND o.status IN ('PENDING', 'PROCESSING')),
		'PENDING', 'PENDING_REPROCESS', reason);
	RETURN next_at;
END
$$;
COMMENT ON FUNCTION orders.requeue_vendor_job(orders.vendor_jobs, text, text, integer) IS
'ends a job''s open attempt with an outcome and queues the job again after the backoff delay (order PENDING / PENDING_REPROCESS)';

-- Ends a job for good: its open attempt (if any) and the job itself.
CREATE FUNCTION orders.close_vendor_job(p_job orders.vendor_jobs, p_status text,
	p_outcome text, p_detail text, p_delivered integer DEFAULT 0)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	IF p_job.lease_token IS NOT NULL THEN
		UPDATE orders.vendor_job_attempts SET ended_at = now(), outcome = p_outcome,
			delivered = p_delivered, detail = p_detail
		WHERE lease_token = p_job.lease_token;
	END IF;
	UPDATE orders.vendor_jobs SET status = p_status, lease_token = NULL, leased_by = NULL,
		lease_until = NULL, last_error = coalesce(p_detail, last_error), updated_at = now()
	WHERE id = p_job.id;
END
$$;
COMMENT ON FUNCTION orders.close_vendor_job(orders.vendor_jobs, text, text, text, integer) IS
'ends a vendor job (DONE, FAILED or CANCELLED) and its open attempt';

GRANT EXECUTE ON FUNCTION orders.claim_vendor_jobs(text, integer, bigint[]),
	orders.extend_vendor_lease(bigint, uuid) TO orders_vendor, orders_admin;
GRANT EXECUTE ON FUNCTION orders.vendor_policy(), orders.vendor_retry_delay(integer)
	TO orders_vendor, orders_admin;
