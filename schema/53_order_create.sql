-- Placing an order (reference 003): validation, idempotency on
-- (client, poNumber), the wallet debit, one item per unit, and the INSTANT
-- path that delivers from inventory in the same transaction.  The response
-- is the reference's {"data": {"placeOrder": ...}} body.  docs/orders.md.

-- The request fields that are checked without looking at the catalog.
-- Raises OR100 naming the field (the reference's request names).  C: the
-- create path runs the same check (src/order_money.c), with the server's
-- regular expressions.
CREATE FUNCTION orders.check_order_request(
	p_po_number text, p_email text, p_tag text,
	p_topup_phone_code text, p_topup_phone_number text)
RETURNS void
	AS 'MODULE_PATHNAME', 'order_check_request_sql' LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION orders.check_order_request(text, text, text, text, text) IS
'checks the free-form fields of an order request (poNumber, email, tag, topupData); raises OR100 naming the field';

-- The reference's placeOrder body for an order, as it is now: what a replay
-- of its poNumber answers.  In C (src/order_response.c): one saved
-- statement, which the create path's replay calls directly.  VOLATILE:
-- revealing the vouchers of a delivered gift-card order writes their audit
-- rows.  NULL when there is no such order.
CREATE FUNCTION orders.place_order_response(p_order_id bigint) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'order_place_response'
	LANGUAGE C STRICT VOLATILE SET search_path = pg_catalog, orders;
COMMENT ON FUNCTION orders.place_order_response(bigint) IS
'the reference 003 response body {"data":{"placeOrder":{"status":1,"data":{...}}}} of an order, as it is now; NULL when there is no such order';

-- Delivers a PENDING order from inventory, all units or none: takes
-- p_quantity AVAILABLE unexpired units, earliest expiry first, skipping
-- units other transactions hold, links one to each item and marks all
-- DELIVERED.  Returns false (nothing changed) when there are not enough.
CREATE FUNCTION orders.deliver_from_inventory(p_order orders.orders) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	units bigint[];
	items bigint[];
BEGIN
	SELECT array_agg(s.id ORDER BY s.expires_at, s.id) INTO units
	FROM (SELECT u.id, u.expires_at FROM orders.inventory_units u
		  WHERE u.product_id = p_order.product_id AND u.denomination = p_order.denomination
			AND u.status = 'AVAILABLE' AND u.expires_at > now()
		  ORDER BY u.expires_at, u.id
		  LIMIT p_order.quantity
		  FOR UPDATE SKIP LOCKED) s;
	IF coalesce(cardinality(units), 0) < p_order.quantity THEN
		RETURN false;
	END IF;
	PERFORM orders.transition_inventory_units(units, 'ALLOCATED', 'allocated to order ' || p_order.id);
	WITH linked AS (
		UPDATE orders.order_items it SET unit_id = pick.unit_id
		FROM (SELECT i.id AS item_id, u.unit_id
			  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n
					FROM orders.order_items WHERE order_id = p_order.id) i
			  JOIN unnest(units) WITH ORDINALITY AS u(unit_id, n) USING (n)) pick
		WHERE it.id = pick.item_id
		RETURNING it.id)
	SELECT array_agg(id) INTO items FROM linked;
	PERFORM orders.transition_order_items(items, 'DELIVERED', 'delivered from inventory');
	PERFORM orders.transition_inventory_units(units, 'DELIVERED', 'delivered from inventory');
	PERFORM orders.transition_orders(ARRAY[p_order.id], 'DELIVERED', 'INVENTORY_FULFILLED',
									 'delivered from inventory');
	RETURN true;
END
$$;
COMMENT ON FUNCTION orders.deliver_from_inventory(orders.orders) IS
'delivers a PENDING order from AVAILABLE units (earliest expiry first, SKIP LOCKED), all or nothing; an admin approval uses it (schema/62), the create path claims its units in C';

-- In C (src/order_create.c): validation once, the idempotency check on
-- (client, poNumber), pricing, the units claimed before anything is written,
-- then the order inserted once in its final state with its lifecycle path
-- (history and outbox of every step), the debit, the items, the units and
-- the recharges; the response built from those values.  The write set and
-- why: docs/design.md, "Orders and money".
CREATE FUNCTION orders.create_order(
	p_client_id bigint,
	p_product_id bigint,
	p_quantity integer,
	p_denomination numeric,
	p_email text,
	p_tag text,
	p_po_number text,
	p_notify_receiver_email boolean DEFAULT false,
	p_notify_admin_email boolean DEFAULT false,
	p_topup_phone_code text DEFAULT NULL,
	p_topup_phone_number text DEFAULT NULL,
	OUT response jsonb,
	OUT replayed boolean)
	AS 'MODULE_PATHNAME', 'order_create'
	LANGUAGE C VOLATILE SET search_path = pg_catalog, orders;
COMMENT ON FUNCTION orders.create_order(bigint, bigint, integer, numeric, text, text, text,
										boolean, boolean, text, text) IS
'places an order (reference 003) for a client, idempotent on (client, poNumber): response is the placeOrder body, replayed tells a replay of an earlier order';

-- Reading a field of the request object with the type the reference gives
-- it; raises OR100 naming the field otherwise.  For the API's other JSON
-- requests (schema/82); the create path parses in C with the same rules
-- (src/order_request_json.c).
CREATE FUNCTION orders.request_field(p_request jsonb, p_path text[], p_type text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
DECLARE
	v jsonb := p_request #> p_path;
	field text := array_to_string(p_path, '.');
BEGIN
	IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
		RETURN NULL;
	END IF;
	CASE p_type
	WHEN 'integer' THEN
		IF jsonb_typeof(v) <> 'number' OR v::text !~ '^-?[0-9]{1,18}$' THEN
			RAISE EXCEPTION '%: must be an integer', field USING ERRCODE = 'OR100';
		END IF;
		RETURN v::text;
	WHEN 'amount' THEN
		-- a number, or a string holding one ("25.00")
		IF jsonb_typeof(v) = 'number' THEN
			RETURN v::text;
		ELSIF jsonb_typeof(v) = 'string' AND v #>> '{}' ~ '^[0-9]{1,12}(\.[0-9]+)?$' THEN
			RETURN v #>> '{}';
		END IF;
		RAISE EXCEPTION '%: must be a number', field USING ERRCODE = 'OR100';
	WHEN 'flag' THEN
		-- the reference sends 1 or 0; true and false are accepted too
		IF v IN ('1', 'true') THEN RETURN 'true'; END IF;
		IF v IN ('0', 'false') THEN RETURN 'false'; END IF;
		RAISE EXCEPTION '%: must be 1 or 0', field USING ERRCODE = 'OR100';
	WHEN 'digits' THEN
		-- a phone number, as a string or a JSON integer
		IF jsonb_typeof(v) = 'string' OR (jsonb_typeof(v) = 'number' AND v::text ~ '^[0-9]+$') THEN
			RETURN v #>> '{}';
		END IF;
		RAISE EXCEPTION '%: must be a string of digits', field USING ERRCODE = 'OR100';
	ELSE
		IF jsonb_typeof(v) <> 'string' THEN
			RAISE EXCEPTION '%: must be a string', field USING ERRCODE = 'OR100';
		END IF;
		RETURN v #>> '{}';
	END CASE;
END
$$;
COMMENT ON FUNCTION orders.request_field(jsonb, text[], text) IS
'a field of a JSON request as text, checked against its type (integer, amount, flag, digits, string); OR100 naming the field otherwise';

-- In C (src/order_request_json.c): the request object parsed once, each
-- field checked against the type the reference gives it (OR100 naming the
-- field), then placed by the same core as the typed function.
CREATE FUNCTION orders.create_order(p_client_id bigint, p_request jsonb,
									OUT response jsonb, OUT replayed boolean)
	AS 'MODULE_PATHNAME', 'order_create_json'
	LANGUAGE C VOLATILE SET search_path = pg_catalog, orders;
COMMENT ON FUNCTION orders.create_order(bigint, jsonb) IS
'places an order from the reference 003 request object (the "data" member: productId, quantity, denomination, email, tag, poNumber, notifyReceiverEmail, notifyAdminEmail, topupData)';

-- The schema's default privileges cannot take EXECUTE from PUBLIC (they only
-- add to the global defaults): revoke it from each function here.
REVOKE EXECUTE ON FUNCTION
	orders.check_order_request(text, text, text, text, text),
	orders.place_order_response(bigint),
	orders.deliver_from_inventory(orders.orders),
	orders.create_order(bigint, bigint, integer, numeric, text, text, text, boolean, boolean, text, text),
	orders.request_field(jsonb, text[], text),
	orders.create_order(bigint, jsonb)
	FROM PUBLIC;
