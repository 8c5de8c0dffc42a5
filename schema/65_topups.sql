-- Mobile top-ups.  A top-up order has one recharge per item and a vendor
-- job like any DELAYED order; the operator side claims the job, submits
-- each recharge (PENDING -> DELIVERED, under the job's lease) and later
-- answers for each (DELIVERED -> RECHARGED or FAILED, keyed by the
-- operator's reference: that answer may come long after the lease).
-- RECHARGED delivers the item, FAILED fails it; the order is settled from
-- its items, so a failed recharge is refunded.

-- The recharge, its item and its order (locked).
CREATE FUNCTION orders.lock_recharge(p_recharge_id bigint,
	OUT recharge orders.recharges, OUT item orders.order_items, OUT ord orders.orders)
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	order_id bigint;
BEGIN
	SELECT i.order_id INTO order_id FROM orders.recharges r
	JOIN orders.order_items i ON i.id = r.order_item_id WHERE r.id = p_recharge_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'recharge % does not exist', coalesce(p_recharge_id::text, 'NULL')
			USING ERRCODE = 'no_data_found';
	END IF;
	ord := orders.lock_order(NULL, order_id);
	SELECT * INTO recharge FROM orders.recharges WHERE id = p_recharge_id FOR UPDATE;
	SELECT * INTO item FROM orders.order_items WHERE id = recharge.order_item_id FOR UPDATE;
END
$$;
COMMENT ON FUNCTION orders.lock_recharge(bigint) IS
'locks a recharge''s order, then the recharge and its item; no_data_found for an unknown recharge';

CREATE FUNCTION orders.recharge_answer(p_recharge_id bigint, p_duplicate boolean) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT orders.order_state(i.order_id) || jsonb_build_object(
		'recharge_id', r.id, 'recharge_status', r.status, 'duplicate', p_duplicate)
	FROM orders.recharges r JOIN orders.order_items i ON i.id = r.order_item_id
	WHERE r.id = p_recharge_id
$$;
COMMENT ON FUNCTION orders.recharge_answer(bigint, boolean) IS
'what a recharge report returns: the order''s state, the recharge''s status, whether the report was a duplicate';

CREATE FUNCTION orders.report_recharge_submitted(p_job_id bigint, p_lease_token uuid,
	p_recharge_id bigint, p_operator_reference text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	r record;
	l record;
BEGIN
	PERFORM orders.check_label('operator reference', p_operator_reference, 200);
	r := orders.lock_recharge(p_recharge_id);
	IF NOT EXISTS (SELECT 1 FROM orders.vendor_jobs WHERE id = p_job_id AND order_id = (r.ord).id) THEN
		RAISE EXCEPTION 'recharge % is not part of vendor job %', p_recharge_id, p_job_id
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF (r.recharge).operator_reference IS NOT DISTINCT FROM p_operator_reference THEN
		RETURN orders.recharge_answer(p_recharge_id, true);
	END IF;
	l := orders.lock_vendor_lease(p_job_id, p_lease_token, 'recharge_submitted');
	IF (r.recharge).status <> 'PENDING' OR (r.item).status <> 'PROCESSING' THEN
		RAISE EXCEPTION 'recharge % cannot be submitted: it is %, its item %', p_recharge_id,
			(r.recharge).status, (r.item).status USING ERRCODE = 'OR503';
	END IF;
	UPDATE orders.recharges SET operator_reference = p_operator_reference WHERE id = p_recharge_id;
	PERFORM orders.transition_recharges(ARRAY[p_recharge_id], 'DELIVERED', 'submitted to the operator');
	IF (r.ord).status = 'PENDING' THEN
		PERFORM orders.transition_orders(ARRAY[(r.ord).id], 'PROCESSING', 'VENDOR_ORDER_CREATED',
								  'recharge submitted to the operator');
	END IF;
	-- Every held recharge submitted: the queue's part is done.
	IF NOT EXISTS (SELECT 1 FROM orders.recharges rc JOIN orders.order_items i ON i.id = rc.order_item_id
				   WHERE i.order_id = (r.ord).id AND i.status = 'PROCESSING' AND rc.status = 'PENDING') THEN
		PERFORM orders.close_vendor_job(l.job, 'DONE', 'submitted', NULL,
			(SELECT count(*)::integer FROM orders.recharges rc
			 JOIN orders.order_items i ON i.id = rc.order_item_id
			 WHERE i.order_id = (r.ord).id AND rc.status <> 'PENDING'));
	END IF;
	RETURN orders.recharge_answer(p_recharge_id, false);
END
$$;
COMMENT ON FUNCTION orders.report_recharge_submitted(bigint, uuid, bigint, text) IS
'operator side: a recharge of a held top-up job was submitted (PENDING -> DELIVERED), with the operator''s reference';

CREATE FUNCTION orders.report_recharge_result(p_recharge_id bigint, p_operator_reference text,
	p_status orders.recharge_status, p_detail text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	r record;
	reason text;
BEGIN
	IF p_status IS NULL OR p_status NOT IN ('RECHARGED', 'FAILED') THEN
		RAISE EXCEPTION 'a recharge result is RECHARGED or FAILED, not %', coalesce(p_status::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_detail IS NOT NULL THEN
		PERFORM orders.check_label('detail', p_detail, 500);
	END IF;
	r := orders.lock_recharge(p_recharge_id);
	IF (r.recharge).operator_reference IS DISTINCT FROM p_operator_reference THEN
		RAISE EXCEPTION 'recharge %: the operator reference does not match', p_recharge_id
			USING ERRCODE = 'OR501',
				  DETAIL = CASE WHEN (r.recharge).operator_reference IS NULL
					THEN 'The recharge was not submitted yet.'
					ELSE 'It is not the reference the recharge was submitted with.' END;
	END IF;
	IF (r.recharge).status = p_status THEN
		RETURN orders.recharge_answer(p_recharge_id, true);
	END IF;
	IF (r.recharge).status <> 'DELIVERED' THEN
		RAISE EXCEPTION 'recharge % is already %: % is refused', p_recharge_id,
			(r.recharge).status, p_status USING ERRCODE = 'OR503';
	END IF;
	reason := CASE WHEN p_status = 'RECHARGED' THEN 'the operator confirmed the recharge'
			  ELSE 'the operator rejected the recharge' END
			  || coalesce(': ' || p_detail, '');
	UPDATE orders.recharges SET detail = p_detail WHERE id = p_recharge_id;
	PERFORM orders.transition_recharges(ARRAY[p_recharge_id], p_status, reason);
	PERFORM orders.transition_order_items(ARRAY[(r.item).id],
		CASE WHEN p_status = 'RECHARGED' THEN 'DELIVERED' ELSE 'FAILED' END::orders.order_status,
		reason);
	PERFORM orders.settle_order((r.ord).id, 'COMPLETED', 'FAILED', 'VENDOR_ORDER_FAILED', reason);
	RETURN orders.recharge_answer(p_recharge_id, false);
END
$$;
COMMENT ON FUNCTION orders.report_recharge_result(bigint, text, orders.recharge_status, text) IS
'operator side: the answer for a submitted recharge, RECHARGED (item delivered) or FAILED (item failed, refunded when the order ends)';

GRANT EXECUTE ON FUNCTION orders.report_recharge_submitted(bigint, uuid, bigint, text),
	orders.report_recharge_result(bigint, text, orders.recharge_status, text)
	TO orders_vendor, orders_admin;
