-- What a vendor worker reports about a job it holds (a lease token from
-- orders.claim_vendor_jobs): vendor order created, vouchers fetched, failed
-- transiently or finally.  Each report is idempotent: the same report again
-- with the same token changes nothing and answers "duplicate": true.  A
-- token that no longer holds its job is refused (OR501).

-- Fails every item of an order that is still open (and its recharge, if
-- it was never submitted).
CREATE FUNCTION orders.fail_open_items(p_order_id bigint, p_reason text) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	PERFORM orders.transition_recharges(ARRAY(
		SELECT r.id FROM orders.recharges r JOIN orders.order_items i ON i.id = r.order_item_id
		WHERE i.order_id = p_order_id AND i.status IN ('PENDING', 'PROCESSING')
			AND r.status = 'PENDING' ORDER BY r.id), 'FAILED', p_reason);
	RETURN orders.transition_order_items(ARRAY(
		SELECT i.id FROM orders.order_items i
		WHERE i.order_id = p_order_id AND i.status IN ('PENDING', 'PROCESSING') ORDER BY i.id),
		'FAILED', p_reason);
END
$$;
COMMENT ON FUNCTION orders.fail_open_items(bigint, text) IS
'marks the open items of an order FAILED (and their unsubmitted recharges); returns how many';

-- The answer of a report: the order's state, the job's, and whether the
-- report was a repeat that changed nothing.
CREATE FUNCTION orders.vendor_report_answer(p_job_id bigint, p_duplicate boolean) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT orders.order_state(j.order_id) || jsonb_build_object(
		'job_id', j.id, 'job_status', j.status, 'attempts', j.attempts,
		'next_attempt_at', CASE WHEN j.status = 'QUEUED' THEN j.next_attempt_at END,
		'duplicate', p_duplicate)
	FROM orders.vendor_jobs j WHERE j.id = p_job_id
$$;
COMMENT ON FUNCTION orders.vendor_report_answer(bigint, boolean) IS
'what a vendor report returns: the order''s state, the job''s status and attempts, and whether the report was a duplicate';

CREATE FUNCTION orders.report_vendor_order_created(p_job_id bigint, p_lease_token uuid,
												   p_vendor_reference text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	l record;
BEGIN
	PERFORM orders.check_label('vendor reference', p_vendor_reference, 200);
	l := orders.lock_vendor_lease(p_job_id, p_lease_token, 'order_created');
	IF l.duplicate THEN
		IF (l.attempt).vendor_reference <> p_vendor_reference THEN
			RAISE EXCEPTION 'vendor job %: attempt % already reported another vendor order',
				p_job_id, (l.attempt).attempt USING ERRCODE = 'OR503';
		END IF;
		RETURN orders.vendor_report_answer(p_job_id, true);
	END IF;
	UPDATE orders.vendor_job_attempts SET vendor_reference = p_vendor_reference,
		order_created_at = now()
	WHERE lease_token = p_lease_token;
	UPDATE orders.vendor_jobs SET vendor_reference = p_vendor_reference, updated_at = now()
	WHERE id = p_job_id;
	IF (SELECT status FROM orders.orders WHERE id = (l.job).order_id) = 'PENDING' THEN
		PERFORM orders.transition_orders(ARRAY[(l.job).order_id], 'PROCESSING', 'VENDOR_ORDER_CREATED',
								  'vendor order created');
	END IF;
	RETURN orders.vendor_report_answer(p_job_id, false);
END
$$;
COMMENT ON FUNCTION orders.report_vendor_order_created(bigint, uuid, text) IS
'vendor side: the vendor accepted the order (PROCESSING / VENDOR_ORDER_CREATED); the vendor reference is kept';

-- The vouchers are codes: a failing call's statement and parameters stay
-- out of the server log, as in orders.load_inventory.
CREATE FUNCTION orders.report_vouchers_fetched(p_job_id bigint, p_lease_token uuid,
											   p_vouchers jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
DECLARE
	l record;
	o orders.orders;
	held bigint[];
	units bigint[];
	n integer;
BEGIN
	IF jsonb_typeof(p_vouchers) IS DISTINCT FROM 'array' OR jsonb_array_length(p_vouchers) = 0 THEN
		RAISE EXCEPTION 'vouchers must be a non-empty JSON array'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Report a failure with orders.report_vendor_failure() when the vendor delivered nothing.';
	END IF;
	n := jsonb_array_length(p_vouchers);
	l := orders.lock_vendor_lease(p_job_id, p_lease_token, 'vouchers_fetched');
	IF l.duplicate THEN
		RETURN orders.vendor_report_answer(p_job_id, true);
	END IF;
	SELECT * INTO o FROM orders.orders WHERE id = (l.job).order_id;
	SELECT array_agg(id ORDER BY id) INTO held FROM orders.order_items
	WHERE order_id = o.id AND status = 'PROCESSING';
	IF n > coalesce(cardinality(held), 0) THEN
		RAISE EXCEPTION 'vendor job %: % vouchers for % held items', p_job_id, n,
			coalesce(cardinality(held), 0) USING ERRCODE = 'invalid_parameter_value';
	END IF;

	units := orders.store_vendor_vouchers((l.job).id, o.product_id, o.denomination, p_vouchers);
	PERFORM orders.deliver_items(held[1:n], units, 'vouchers fetched from the vendor');
	-- Settle first, so that a partial delivery goes straight to
	-- PARTIALLY_DELIVERED; then give the lease up.
	PERFORM orders.settle_order(o.id, 'VENDOR_VOUCHER_FETCHED', 'FAILED', 'VENDOR_ORDER_FAILED',
								'vouchers fetched from the vendor');
	IF n = cardinality(held) THEN
		PERFORM orders.close_vendor_job(l.job, 'DONE', 'delivered', NULL, n);
	ELSE
		PERFORM orders.requeue_vendor_job(l.job, 'partial',
			format('the vendor delivered %s of %s vouchers', n, cardinality(held)), n);
	END IF;
	RETURN orders.vendor_report_answer(p_job_id, false);
END
$$;
COMMENT ON FUNCTION orders.report_vouchers_fetched(bigint, uuid, jsonb) IS
'vendor side: vouchers for the held items (JSON array, as orders.load_inventory takes them) go into the vault and are delivered; fewer than held is a partial delivery, the rest is retried';

CREATE FUNCTION orders.report_vendor_failure(p_job_id bigint, p_lease_token uuid,
											 p_final boolean, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	l record;
BEGIN
	PERFORM orders.check_label('reason', p_reason, 500);
	IF p_final IS NULL THEN
		RAISE EXCEPTION 'final must be true or false' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	l := orders.lock_vendor_lease(p_job_id, p_lease_token,
		CASE WHEN p_final THEN 'failed_finally' ELSE 'failed_transiently' END);
	IF l.duplicate THEN
		RETURN orders.vendor_report_answer(p_job_id, true);
	END IF;
	IF NOT p_final THEN
		PERFORM orders.requeue_vendor_job(l.job, 'failed_transiently', p_reason);
	ELSE
		PERFORM orders.fail_open_items((l.job).order_id, 'vendor failed: ' || p_reason);
		PERFORM orders.close_vendor_job(l.job, 'FAILED', 'failed_finally', p_reason);
		PERFORM orders.settle_order((l.job).order_id, 'VENDOR_VOUCHER_FETCHED', 'FAILED',
									'VENDOR_ORDER_FAILED', 'vendor failed: ' || p_reason);
	END IF;
	RETURN orders.vendor_report_answer(p_job_id, false);
END
$$;
COMMENT ON FUNCTION orders.report_vendor_failure(bigint, uuid, boolean, text) IS
'vendor side: a transient failure queues the job again after the backoff (PENDING / PENDING_REPROCESS); a final one fails the open items and refunds (FAILED / VENDOR_ORDER_FAILED, then REFUNDED)';

GRANT EXECUTE ON FUNCTION orders.report_vendor_order_created(bigint, uuid, text),
	orders.report_vouchers_fetched(bigint, uuid, jsonb),
	orders.report_vendor_failure(bigint, uuid, boolean, text)
	TO orders_vendor, orders_admin;
