-- Settling an order from its items: the order's status is derived from
-- its items, and an order none of whose items is still open is settled
-- with money: what was not delivered is refunded, exactly once (the ledger's
-- ledger_one_refund_per_order index and the final sub-status REFUNDED).
-- Cancellation and the admin actions on waiting orders live here too.
-- docs/fulfilment.md.

-- What the delivered part of an order costs: its share of the amount
-- charged, rounded to the cent.  The refund is the rest, so kept + refund
-- is exactly the amount charged.
CREATE FUNCTION orders.undelivered_refund(p_amount_charged numeric, p_quantity integer,
										  p_delivered integer)
RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT p_amount_charged OPERATOR(pg_catalog.-)
		pg_catalog.round(p_amount_charged OPERATOR(pg_catalog.*) p_delivered OPERATOR(pg_catalog./) p_quantity, 2)
$$;
COMMENT ON FUNCTION orders.undelivered_refund(numeric, integer, integer) IS
'refund of the undelivered part: amount charged minus round(amount charged * delivered / quantity, 2)';

-- Refunds what an order did not deliver, if it was debited; returns the
-- amount refunded (0: nothing to refund).  The order stays NOT_REFUNDED
-- (or its failure sub-status) when there was nothing to refund.
CREATE FUNCTION orders.refund_undelivered(p_order orders.orders, p_delivered integer,
										  p_reason text)
RETURNS numeric
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	amount numeric;
BEGIN
	IF p_order.amount_charged IS NULL OR NOT EXISTS (
		SELECT 1 FROM orders.ledger_entries e WHERE e.order_id = p_order.id AND e.kind = 'DEBIT') THEN
		RETURN 0;
	END IF;
	amount := orders.undelivered_refund(p_order.amount_charged, p_order.quantity, p_delivered);
	IF amount <= 0 THEN
		RETURN 0;
	END IF;
	PERFORM orders.refund_order(p_order.id, amount, p_reason);
	PERFORM orders.transition_orders(ARRAY[p_order.id], p_order.status, 'REFUNDED', 'refunded: ' || p_reason);
	RETURN amount;
END
$$;
COMMENT ON FUNCTION orders.refund_undelivered(orders.orders, integer, text) IS
'credits the undelivered part of a debited order back (orders.refund_order, once per order) and marks it REFUNDED';

-- Derives an order's status from its items.  The caller holds the order's
-- row lock and has already moved the items.
--   items still open, some delivered   PARTIALLY_DELIVERED / PARTIAL
--   items still open, none delivered   unchanged
--   all delivered                      DELIVERED / p_delivered_sub
--   none delivered                     p_ended / p_ended_sub, then refund
--                                      (FAILED or CANCELLED, as the caller says)
--   some delivered, the rest ended     PARTIALLY_DELIVERED / NOT_REFUNDED, then refund
CREATE FUNCTION orders.settle_order(p_order_id bigint, p_delivered_sub orders.order_sub_status,
									p_ended orders.order_status,
									p_ended_sub orders.order_sub_status, p_reason text)
RETURNS orders.orders
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	o orders.orders;
	n record;
BEGIN
	SELECT count(*)::integer AS total,
		   (count(*) FILTER (WHERE status = 'DELIVERED'))::integer AS delivered,
		   (count(*) FILTER (WHERE status IN ('PENDING', 'PROCESSING')))::integer AS open
	INTO n FROM orders.order_items WHERE order_id = p_order_id;

	IF n.open > 0 THEN
		IF n.delivered > 0 THEN
			PERFORM orders.transition_orders(ARRAY[p_order_id], 'PARTIALLY_DELIVERED', 'PARTIAL', p_reason);
		END IF;
	ELSIF n.total > 0 AND n.delivered = n.total THEN
		PERFORM orders.transition_orders(ARRAY[p_order_id], 'DELIVERED', p_delivered_sub, p_reason);
	ELSIF n.delivered > 0 THEN
		PERFORM orders.transition_orders(ARRAY[p_order_id], 'PARTIALLY_DELIVERED', 'NOT_REFUNDED', p_reason);
	ELSE
		PERFORM orders.transition_orders(ARRAY[p_order_id], p_ended, p_ended_sub, p_reason);
	END IF;

	SELECT * INTO o FROM orders.orders WHERE id = p_order_id;
	IF n.open = 0 AND n.delivered < n.total THEN
		PERFORM orders.refund_undelivered(o, n.delivered, p_reason);
		SELECT * INTO o FROM orders.orders WHERE id = p_order_id;
	END IF;
	RETURN o;
END
$$;
COMMENT ON FUNCTION orders.settle_order(bigint, orders.order_sub_status, orders.order_status,
										orders.order_sub_status, text) IS
'derives an order''s status from its items; once no item is open, refunds the undelivered part';

-- The order row, locked; "not found" for a missing order and for another
-- client's order alike (p_client_id NULL: any client, for admins).
CREATE FUNCTION orders.lock_order(p_client_id bigint, p_order_id bigint) RETURNS orders.orders
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	o orders.orders;
BEGIN
	SELECT * INTO o FROM orders.orders
	WHERE id = p_order_id AND (p_client_id IS NULL OR client_id = p_client_id)
	FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'order % not found', coalesce(p_order_id::text, 'NULL')
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN o;
END
$$;
COMMENT ON FUNCTION orders.lock_order(bigint, bigint) IS
'locks and returns an order (of that client, or of anyone when p_client_id is NULL); no_data_found otherwise';

-- Cancels an order (of that client; of anyone when p_client_id is NULL)
-- while nothing of it is delivered; returns its state.
CREATE FUNCTION orders.cancel_order_of(p_client_id bigint, p_order_id bigint, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	o orders.orders;
	delivered integer;
	submitted integer;
	items bigint[];
	units bigint[];
	j orders.vendor_jobs;
	reason text := 'cancelled: ' || p_reason;
BEGIN
	PERFORM orders.check_label('reason', p_reason, 500);
	o := orders.lock_order(p_client_id, p_order_id);
	SELECT count(*) INTO delivered FROM orders.order_items
	WHERE order_id = o.id AND status = 'DELIVERED';
	IF o.status NOT IN ('PLACED', 'PENDING', 'PROCESSING') OR delivered > 0 THEN
		RAISE EXCEPTION 'order % cannot be cancelled: it is % / %', o.id,
			o.status, o.sub_status
			USING ERRCODE = 'OR502',
				  DETAIL = CASE WHEN delivered > 0
					THEN format('%s of its %s items are delivered.', delivered, o.quantity)
					ELSE 'Only an order that is PLACED, PENDING or PROCESSING can be cancelled.' END;
	END IF;
	SELECT count(*) INTO submitted FROM orders.recharges r
	JOIN orders.order_items i ON i.id = r.order_item_id
	WHERE i.order_id = o.id AND r.status IN ('DELIVERED', 'RECHARGED');
	IF submitted > 0 THEN
		RAISE EXCEPTION 'order % cannot be cancelled: its recharge was submitted to the operator', o.id
			USING ERRCODE = 'OR502',
				  DETAIL = 'A recharge can be cancelled only before it is submitted; wait for the operator''s answer.';
	END IF;

	SELECT * INTO j FROM orders.vendor_jobs WHERE order_id = o.id FOR UPDATE;
	IF FOUND AND j.status IN ('QUEUED', 'LEASED') THEN
		PERFORM orders.close_vendor_job(j, 'CANCELLED', 'cancelled', p_reason);
	END IF;
	PERFORM orders.transition_recharges(ARRAY(
		SELECT r.id FROM orders.recharges r JOIN orders.order_items i ON i.id = r.order_item_id
		WHERE i.order_id = o.id AND r.status = 'PENDING' ORDER BY r.id), 'CANCELLED', reason);
	-- A unit reserved for an open item goes back to the pool.
	SELECT array_agg(id ORDER BY id), array_agg(unit_id) FILTER (WHERE unit_id IS NOT NULL)
	INTO items, units FROM orders.order_items
	WHERE order_id = o.id AND status IN ('PENDING', 'PROCESSING');
	UPDATE orders.order_items SET unit_id = NULL WHERE id = ANY (items) AND unit_id IS NOT NULL;
	PERFORM orders.transition_order_items(items, 'CANCELLED', reason);
	PERFORM orders.transition_inventory_units(ARRAY(
		SELECT u.id FROM orders.inventory_units u
		WHERE u.id = ANY (units) AND u.status = 'ALLOCATED' ORDER BY u.id), 'AVAILABLE', reason);
	PERFORM orders.settle_order(o.id, 'COMPLETED', 'CANCELLED', 'NOT_REFUNDED', reason);
	RETURN orders.order_state(o.id);
END
$$;
COMMENT ON FUNCTION orders.cancel_order_of(bigint, bigint, text) IS
'cancels an order (of a client, or any when p_client_id is NULL) while nothing of it is delivered: job, recharges, items cancelled, units released, full refund';

CREATE FUNCTION orders.cancel_order(p_client_id bigint, p_order_id bigint,
									p_reason text DEFAULT 'cancelled by the client')
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	IF p_client_id IS NULL THEN
		RAISE EXCEPTION 'client id is required' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN orders.cancel_order_of(p_client_id, p_order_id, p_reason);
END
$$;
COMMENT ON FUNCTION orders.cancel_order(bigint, bigint, text) IS
'a client cancels its own order while nothing of it is delivered: CANCELLED and a full refund; refused (OR502) after a delivery';

CREATE FUNCTION orders.admin_cancel_order(p_order_id bigint, p_reason text)
RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	SELECT orders.cancel_order_of(NULL, p_order_id, p_reason)
$$;
COMMENT ON FUNCTION orders.admin_cancel_order(bigint, text) IS
'an admin cancels any order while nothing of it is delivered: CANCELLED and a full refund';

-- What fulfilment functions answer: the order's state in a few fields.
CREATE FUNCTION orders.order_state(p_order_id bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT jsonb_build_object(
		'order_id', o.id, 'status', o.status, 'sub_status', o.sub_status,
		'items', (SELECT jsonb_object_agg(s.status, s.n) FROM (
			SELECT i.status::text AS status, count(*) AS n FROM orders.order_items i
			WHERE i.order_id = o.id GROUP BY i.status) s),
		'refunded', (SELECT e.amount FROM orders.ledger_entries e
					 WHERE e.order_id = o.id AND e.kind = 'REFUND'))
	FROM orders.orders o WHERE o.id = p_order_id
$$;
COMMENT ON FUNCTION orders.order_state(bigint) IS
'an order''s status, sub-status, item counts by status and refunded amount, as JSON';

-- Orders waiting for someone: over the bulk limit (an admin approves),
-- out of stock (the vendor queue, or an admin), retrying.
CREATE VIEW orders.orders_awaiting_action AS
SELECT o.client_id, o.id AS order_id, o.po_number, o.product_id, o.denomination, o.quantity,
	   o.status, o.sub_status, o.placed_at,
	   j.id AS job_id, j.status AS job_status, j.attempts, j.next_attempt_at, j.deadline,
	   j.last_error
FROM orders.orders o
LEFT JOIN orders.vendor_jobs j ON j.order_id = o.id
WHERE o.status = 'PENDING'
	AND o.sub_status IN ('BULK_LIMIT_EXCEEDED', 'VENDOR_ORDER_PENDING', 'PENDING_REPROCESS');
COMMENT ON VIEW orders.orders_awaiting_action IS
'PENDING orders waiting for an admin (BULK_LIMIT_EXCEEDED), for stock or a vendor (VENDOR_ORDER_PENDING, PENDING_REPROCESS), with their vendor job';

-- An admin releases a waiting order: one over the bulk limit is approved
-- (served from inventory now if there is enough, else queued for the
-- vendor); one waiting for stock or a retry is retried now.
CREATE FUNCTION orders.admin_release_order(p_order_id bigint, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	o orders.orders;
BEGIN
	PERFORM orders.check_label('reason', p_reason, 500);
	o := orders.lock_order(NULL, p_order_id);
	IF o.status <> 'PENDING' OR o.sub_status NOT IN
		('BULK_LIMIT_EXCEEDED', 'VENDOR_ORDER_PENDING', 'PENDING_REPROCESS') THEN
		RAISE EXCEPTION 'order % is not waiting for action: it is % / %', o.id, o.status, o.sub_status
			USING ERRCODE = 'OR504',
				  HINT = 'orders.orders_awaiting_action lists the orders an admin can release.';
	END IF;
	IF o.sub_status = 'BULK_LIMIT_EXCEEDED' THEN
		IF NOT orders.deliver_from_inventory(o) THEN
			PERFORM orders.transition_orders(ARRAY[o.id], 'PENDING', 'VENDOR_ORDER_PENDING',
									  'approved by an admin, inventory short: ' || p_reason);
		END IF;
	ELSE
		UPDATE orders.vendor_jobs SET next_attempt_at = now(), updated_at = now(),
			last_error = coalesce(last_error || '; ', '') || 'retry now: ' || p_reason
		WHERE order_id = o.id AND status = 'QUEUED';
		IF NOT FOUND THEN
			RAISE EXCEPTION 'order % has no queued vendor job to retry', o.id
				USING ERRCODE = 'OR504',
					  DETAIL = 'Its job is being worked on by a vendor, or already ended.';
		END IF;
	END IF;
	RETURN orders.order_state(o.id);
END
$$;
COMMENT ON FUNCTION orders.admin_release_order(bigint, text) IS
'admin: approves an order over the bulk limit (inventory now, else the vendor queue) or retries a waiting order now';

GRANT EXECUTE ON FUNCTION orders.admin_cancel_order(bigint, text),
	orders.admin_release_order(bigint, text), orders.order_state(bigint) TO orders_admin;
GRANT SELECT ON orders.orders_awaiting_action TO orders_admin;
