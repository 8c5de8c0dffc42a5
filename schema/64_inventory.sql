-- Inventory seen from fulfilment: delivering units to items, restock
-- (loading units first serves the items waiting for them, oldest first),
-- expiry (BLOCKED, never allocated) and vendor recall (REVOKED).

-- Links units to items pairwise (p_items[k] gets p_units[k]) and delivers
-- them: unit AVAILABLE -> ALLOCATED -> DELIVERED, item -> DELIVERED.  The
-- unique item -> unit link makes a double sale impossible.
CREATE FUNCTION orders.deliver_items(p_items bigint[], p_units bigint[], p_reason text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	IF coalesce(cardinality(p_items), 0) <> coalesce(cardinality(p_units), 0) THEN
		RAISE EXCEPTION 'deliver_items: % items but % units',
			coalesce(cardinality(p_items), 0), coalesce(cardinality(p_units), 0);
	END IF;
	PERFORM orders.transition_inventory_units(p_units, 'ALLOCATED', p_reason);
	UPDATE orders.order_items i SET unit_id = pair.unit_id
	FROM unnest(p_items, p_units) AS pair(item_id, unit_id)
	WHERE i.id = pair.item_id;
	PERFORM orders.transition_order_items(p_items, 'DELIVERED', p_reason);
	PERFORM orders.transition_inventory_units(p_units, 'DELIVERED', p_reason);
END
$$;
COMMENT ON FUNCTION orders.deliver_items(bigint[], bigint[], text) IS
'delivers units to items pairwise: each unit ALLOCATED then DELIVERED, each item DELIVERED and linked to its unit';

-- Serves the items waiting in the vendor queue for a product and
-- denomination from AVAILABLE unexpired units (earliest expiry first),
-- oldest order first.  Waits for the lock of a waiting order (first in,
-- first out); never takes a unit another transaction holds.  Returns the
-- number of items served.
CREATE FUNCTION orders.serve_waiting_items(p_product_id bigint, p_denomination numeric)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	w record;
	items bigint[];
	units bigint[];
	served integer := 0;
BEGIN
	FOR w IN
		SELECT o.id AS order_id, j AS job
		FROM orders.orders o JOIN orders.vendor_jobs j ON j.order_id = o.id
		WHERE o.product_id = p_product_id AND o.denomination = p_denomination
			AND o.status IN ('PENDING', 'PARTIALLY_DELIVERED') AND j.status = 'QUEUED'
		ORDER BY o.placed_at, o.id
		FOR UPDATE OF o, j
	LOOP
		SELECT array_agg(i.id ORDER BY i.id) INTO items FROM orders.order_items i
		WHERE i.order_id = w.order_id AND i.status = 'PENDING' AND i.unit_id IS NULL;
		CONTINUE WHEN items IS NULL;
		SELECT array_agg(u.id ORDER BY u.expires_at, u.id) INTO units
		FROM (SELECT id, expires_at FROM orders.inventory_units
			  WHERE product_id = p_product_id AND denomination = p_denomination
				AND status = 'AVAILABLE' AND expires_at > now()
			  ORDER BY expires_at, id
			  LIMIT cardinality(items)
			  FOR UPDATE SKIP LOCKED) u;
		EXIT WHEN units IS NULL;
		items := items[1:cardinality(units)];
		PERFORM orders.deliver_items(items, units, 'served by a restock');
		served := served + cardinality(items);
		PERFORM orders.settle_order(w.order_id, 'INVENTORY_FULFILLED', 'FAILED',
									'VENDOR_ORDER_FAILED', 'served by a restock');
		IF NOT EXISTS (SELECT 1 FROM orders.order_items
					   WHERE order_id = w.order_id AND status IN ('PENDING', 'PROCESSING')) THEN
			PERFORM orders.close_vendor_job(w.job, 'DONE', NULL, 'served by a restock');
		END IF;
	END LOOP;
	RETURN served;
END
$$;
COMMENT ON FUNCTION orders.serve_waiting_items(bigint, numeric) IS
'serves items waiting in the vendor queue for a product and denomination from available units, oldest order first; returns how many';

CREATE FUNCTION orders.restock_on_load() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	pd record;
BEGIN
	IF NOT current_setting('orders.restock_on_load')::boolean THEN
		RETURN NULL;
	END IF;
	-- Stock only: a vendor job's vouchers are its own order's.
	FOR pd IN
		SELECT DISTINCT product_id, denomination FROM loaded
		WHERE status = 'AVAILABLE' AND vendor_job_id IS NULL
		ORDER BY product_id, denomination
	LOOP
		PERFORM orders.serve_waiting_items(pd.product_id, pd.denomination);
	END LOOP;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.restock_on_load() IS
'trigger: stock units just loaded (not a vendor job''s vouchers) first serve the items waiting for their product and denomination, unless the setting orders.restock_on_load is off';

CREATE TRIGGER restock_on_load
	AFTER INSERT ON orders.inventory_units
	REFERENCING NEW TABLE AS loaded
	FOR EACH STATEMENT EXECUTE FUNCTION orders.restock_on_load();
ALTER TABLE orders.inventory_units ENABLE ALWAYS TRIGGER restock_on_load;

-- Vouchers a vendor delivered for a job's items: into the vault through
-- its loader (encrypted on the way in, a code loaded twice refused), as the
-- job's units (vendor_job_id), which the restock trigger leaves alone: they
-- serve no one else's waiting items.  Product and denomination are the
-- order's.  Returns the new units' ids in the order of the array.  A
-- voucher already expired is refused: the caller's whole report fails and
-- changes nothing.
CREATE FUNCTION orders.store_vendor_vouchers(p_job_id bigint, p_product_id bigint,
											 p_denomination numeric, p_vouchers jsonb)
RETURNS bigint[]
LANGUAGE plpgsql
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
DECLARE
	units bigint[];
	expired integer;
BEGIN
	SELECT array_agg(l.unit_id ORDER BY l.entry), min(l.entry) FILTER (WHERE l.status <> 'AVAILABLE')
	INTO units, expired
	FROM orders.load_units(orders.voucher_inputs_of_json((
		SELECT jsonb_agg(CASE WHEN jsonb_typeof(e.v) = 'object'
						 THEN e.v || jsonb_build_object('product_id', p_product_id,
														'denomination', p_denomination)
						 ELSE e.v END ORDER BY e.ord)
		FROM jsonb_array_elements(p_vouchers) WITH ORDINALITY AS e(v, ord))), p_job_id) AS l;
	IF expired IS NOT NULL THEN
		RAISE EXCEPTION 'vendor voucher % is already expired', expired
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Nothing was stored.';
	END IF;
	RETURN units;
END
$$;
COMMENT ON FUNCTION orders.store_vendor_vouchers(bigint, bigint, numeric, jsonb) IS
'stores a vendor job''s vouchers in the vault (orders.load_units) as units of the order''s product and denomination marked with the job, which no restock serves to others; returns their ids in array order';

-- A unit another transaction holds (being allocated) is left to the next
-- round: once locked here, a unit cannot change under the transition.
CREATE FUNCTION orders.expire_units() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	RETURN orders.transition_inventory_units(ARRAY(
		SELECT u.id FROM orders.inventory_units u
		WHERE u.status = 'AVAILABLE' AND u.expires_at <= now()
		ORDER BY u.id FOR UPDATE SKIP LOCKED), 'BLOCKED', 'expired');
END
$$;
COMMENT ON FUNCTION orders.expire_units() IS
'AVAILABLE units past their expiry become BLOCKED (never allocated again); returns how many';

-- A vendor recall.  A unit not yet sold leaves the pool for good.  A unit
-- already delivered is marked REVOKED too, but its order and item stay
-- DELIVERED and nothing is refunded automatically: the client holds the
-- code (and may have redeemed it); the answer lists the orders concerned,
-- so that an operator settles them with the vendor and the client.
CREATE FUNCTION orders.revoke_units(p_unit_ids bigint[], p_reason text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	revoked integer;
	delivered jsonb;
BEGIN
	PERFORM orders.check_label('reason', p_reason, 500);
	PERFORM orders.check_ids('inventory unit', p_unit_ids, 'orders.inventory_units');
	SELECT coalesce(jsonb_agg(jsonb_build_object('unit_id', i.unit_id, 'order_id', i.order_id,
			'client_id', i.client_id) ORDER BY i.unit_id), '[]')
	INTO delivered
	FROM orders.order_items i JOIN orders.inventory_units u ON u.id = i.unit_id
	WHERE u.id = ANY (p_unit_ids) AND u.status IN ('DELIVERED', 'COMPLETED');
	revoked := orders.transition_inventory_units(p_unit_ids, 'REVOKED',
												'recalled by the vendor: ' || p_reason);
	RETURN jsonb_build_object('revoked', revoked, 'delivered_units', delivered);
END
$$;
COMMENT ON FUNCTION orders.revoke_units(bigint[], text) IS
'vendor recall: units become REVOKED; delivered ones keep their order DELIVERED and are listed for an operator (no automatic refund)';

GRANT EXECUTE ON FUNCTION orders.revoke_units(bigint[], text) TO orders_vendor, orders_admin;
