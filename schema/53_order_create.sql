-- Placing an order (reference 003): validation, idempotency on
-- (client, poNumber), the wallet debit, one item per unit, and the INSTANT
-- path that delivers from inventory in the same transaction.  The response
-- is the reference's {"data": {"placeOrder": ...}} body.  docs/orders.md.

-- The request fields that are checked without looking at the catalog.
-- Raises OR100 naming the field (the reference's request names).
CREATE FUNCTION orders.check_order_request(
	p_po_number text, p_email text, p_tag text,
	p_topup_phone_code text, p_topup_phone_number text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_po_number IS NULL OR btrim(p_po_number) = '' THEN
		RAISE EXCEPTION 'poNumber: is required' USING ERRCODE = 'OR100';
	ELSIF length(p_po_number) > 100 OR p_po_number ~ '[[:cntrl:]]' THEN
		RAISE EXCEPTION 'poNumber: must be at most 100 characters, without control characters'
			USING ERRCODE = 'OR100';
	END IF;
	IF p_email IS NOT NULL AND (length(p_email) > 254
			OR p_email !~ '^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:]]+\.[^@[:space:][:cntrl:].]+$') THEN
		RAISE EXCEPTION 'email: not a valid email address' USING ERRCODE = 'OR100';
	END IF;
	IF p_tag IS NOT NULL AND (length(p_tag) > 100 OR p_tag ~ '[[:cntrl:]]') THEN
		RAISE EXCEPTION 'tag: must be at most 100 characters, without control characters'
			USING ERRCODE = 'OR100';
	END IF;
	IF (p_topup_phone_code IS NULL) <> (p_topup_phone_number IS NULL) THEN
		RAISE EXCEPTION 'topupData: needs both topupPhoneCode and topupPhoneNumber'
			USING ERRCODE = 'OR100';
	END IF;
	IF p_topup_phone_code !~ '^\+[1-9][0-9]{0,3}$' THEN
		RAISE EXCEPTION 'topupData.topupPhoneCode: must be + and a country calling code of 1 to 4 digits, like +91'
			USING ERRCODE = 'OR100';
	END IF;
	-- E.164: at most 15 digits with the country code.
	IF p_topup_phone_number !~ '^[0-9]{4,14}$'
	   OR length(p_topup_phone_code) - 1 + length(p_topup_phone_number) > 15 THEN
		RAISE EXCEPTION 'topupData.topupPhoneNumber: must be 4 to 14 digits, at most 15 with the country code'
			USING ERRCODE = 'OR100';
	END IF;
END
$$;
COMMENT ON FUNCTION orders.check_order_request(text, text, text, text, text) IS
'checks the free-form fields of an order request (poNumber, email, tag, topupData); raises OR100 naming the field';

-- The reference's placeOrder body for an order, as it is now.  VOLATILE:
-- revealing vouchers writes audit rows.  The vault's orders.reveal_vouchers
-- is called (and planned) only for a delivered gift-card order.
CREATE FUNCTION orders.place_order_response(p_order_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	o orders.orders;
	p orders.products;
	vouchers jsonb := '[]';
	total bigint;
	delivered bigint;
	details jsonb;
BEGIN
	SELECT * INTO o FROM orders.orders WHERE id = p_order_id;
	SELECT * INTO p FROM orders.products WHERE id = o.product_id;
	IF p.kind = 'GIFT_CARD' AND o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED') THEN
		vouchers := orders.reveal_vouchers(o.client_id, o.id);
	END IF;
	SELECT count(*), count(*) FILTER (WHERE it.status = 'DELIVERED'),
		   coalesce(jsonb_agg(jsonb_build_object(
				'orderId', o.id,
				'productId', p.id,
				'productName', p.name,
				'currencyCode', p.currency,
				'productStatus', coalesce(r.status::text, it.status::text),
				'denomination', o.denomination,
				'vendorLogo', p.vendor_logo) ORDER BY it.id), '[]')
	INTO total, delivered, details
	FROM orders.order_items it
	LEFT JOIN orders.recharges r ON r.order_item_id = it.id
	WHERE it.order_id = o.id;
	RETURN jsonb_build_object('data', jsonb_build_object('placeOrder', jsonb_build_object(
		'status', 1,
		'data', jsonb_build_object('orderId', o.id)
			|| orders.charge_json(ROW(NULL, o.charge_currency, o.currency_value, o.discount_percent,
									  o.raw_order_total, o.order_total, o.raw_order_discount,
									  o.order_discount, o.amount_charged)::orders.charge)
			|| jsonb_build_object(
				'orderStatus', o.status,
				'deliveryStatus', CASE
					WHEN total > 0 AND delivered = total THEN 'DELIVERED'
					WHEN delivered > 0 THEN 'PARTIALLY_DELIVERED'
					WHEN o.status IN ('FAILED', 'CANCELLED') THEN o.status::text
					ELSE 'PENDING' END,
				'tag', o.tag,
				'quantity', o.quantity,
				'vouchers', vouchers,
				'voucherDetails', details,
				'orderMeta', jsonb_build_object('email', o.email)))));
END
$$;
COMMENT ON FUNCTION orders.place_order_response(bigint) IS
'the reference 003 response body {"data":{"placeOrder":{"status":1,"data":{...}}}} of an order, as it is now';

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
'the INSTANT path: delivers a PENDING order from AVAILABLE units (earliest expiry first, SKIP LOCKED), all or nothing';

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
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	fingerprint bytea;
	o orders.orders;
	p orders.products;
	c orders.charge;
	debit_id bigint;
BEGIN
	PERFORM orders.check_order_line(p_product_id, p_denomination, p_quantity);
	PERFORM orders.check_order_request(p_po_number, p_email, p_tag,
									   p_topup_phone_code, p_topup_phone_number);
	IF NOT EXISTS (SELECT 1 FROM orders.clients WHERE id = p_client_id) THEN
		RAISE EXCEPTION 'client % does not exist', p_client_id USING ERRCODE = 'OR101';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM orders.products WHERE id = p_product_id) THEN
		RAISE EXCEPTION 'productId: no product %', p_product_id USING ERRCODE = 'OR101';
	END IF;

	-- What makes two requests "the same parameters": every field but the
	-- poNumber, normalized (jsonb sorts the keys).
	fingerprint := sha256(convert_to(jsonb_build_object(
		'productId', p_product_id, 'quantity', p_quantity,
		'denomination', orders.money_text(p_denomination), 'email', lower(p_email),
		'tag', p_tag, 'notifyReceiverEmail', coalesce(p_notify_receiver_email, false),
		'notifyAdminEmail', coalesce(p_notify_admin_email, false),
		'topupPhoneCode', p_topup_phone_code, 'topupPhoneNumber', p_topup_phone_number)::text,
		'UTF8'));

	-- The idempotency key.  A concurrent duplicate waits here (on the
	-- client's sequence row, then on the unique index) until the first
	-- commits or rolls back.
	INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity,
							   request_fingerprint, email, tag, notify_receiver_email,
							   notify_admin_email, mobile_country_code, mobile_number)
	VALUES (p_client_id, p_po_number, p_product_id, p_denomination, p_quantity,
			fingerprint, p_email, p_tag, coalesce(p_notify_receiver_email, false),
			coalesce(p_notify_admin_email, false), p_topup_phone_code, p_topup_phone_number)
	ON CONFLICT (client_id, po_number) DO NOTHING
	RETURNING * INTO o;
	IF NOT FOUND THEN
		SELECT * INTO o FROM orders.orders WHERE client_id = p_client_id AND po_number = p_po_number;
		IF o.request_fingerprint IS DISTINCT FROM fingerprint THEN
			RAISE EXCEPTION 'poNumber: "%" was already used for order % with other parameters',
				p_po_number, o.id USING ERRCODE = 'OR102',
				HINT = 'Use a new poNumber for a new order, or send the original parameters to get the original order.';
		END IF;
		response := orders.place_order_response(o.id);
		replayed := true;
		RETURN;
	END IF;

	p := orders.orderable_product(p_product_id, p_denomination, p_quantity);
	IF p.kind = 'TOPUP' AND p_topup_phone_code IS NULL THEN
		RAISE EXCEPTION 'topupData: is required for top-up product %', p.id USING ERRCODE = 'OR100';
	END IF;
	c := orders.price(p_client_id, p, p_denomination, p_quantity);

	INSERT INTO orders.ledger_entries (client_id, wallet_id, kind, amount, order_id)
	VALUES (p_client_id, c.wallet_id, 'DEBIT', -c.amount_charged, o.id)
	RETURNING id INTO debit_id;

	INSERT INTO orders.order_items (client_id, order_id)
	SELECT p_client_id, o.id FROM generate_series(1, p_quantity);
	IF p.kind = 'TOPUP' THEN
		INSERT INTO orders.recharges (client_id, order_item_id)
		SELECT p_client_id, id FROM orders.order_items WHERE order_id = o.id ORDER BY id;
	END IF;

	UPDATE orders.orders SET
		charge_currency = c.currency, currency_value = c.currency_value,
		discount_percent = c.discount_percent,
		raw_order_total = c.raw_order_total, order_total = c.order_total,
		raw_order_discount = c.raw_order_discount, order_discount = c.order_discount,
		amount_charged = c.amount_charged, transaction_id = debit_id, updated_at = now()
	WHERE id = o.id
	RETURNING * INTO o;
	PERFORM orders.transition_orders(ARRAY[o.id], 'PENDING',
		CASE WHEN p.kind = 'TOPUP' THEN 'VENDOR_ORDER_PENDING' ELSE 'INITIAL' END::orders.order_sub_status,
		'wallet debited');

	IF p.kind = 'GIFT_CARD' AND NOT orders.deliver_from_inventory(o) THEN
		PERFORM orders.transition_orders(ARRAY[o.id], 'PENDING', 'VENDOR_ORDER_PENDING',
										 'inventory short: waiting for a vendor order');
	END IF;

	response := orders.place_order_response(o.id);
	replayed := false;
END
$$;
COMMENT ON FUNCTION orders.create_order(bigint, bigint, integer, numeric, text, text, text,
										boolean, boolean, text, text) IS
'places an order (reference 003) for a client, idempotent on (client, poNumber): response is the placeOrder body, replayed tells a replay of an earlier order';

-- Reading a field of the request object with the type the reference gives
-- it; raises OR100 naming the field otherwise.
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

CREATE FUNCTION orders.create_order(p_client_id bigint, p_request jsonb,
									OUT response jsonb, OUT replayed boolean)
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	IF jsonb_typeof(p_request) IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION 'data: must be a JSON object' USING ERRCODE = 'OR100';
	END IF;
	IF p_request ? 'topupData' AND jsonb_typeof(p_request->'topupData') NOT IN ('object', 'null') THEN
		RAISE EXCEPTION 'topupData: must be an object' USING ERRCODE = 'OR100';
	END IF;
	IF orders.request_field(p_request, '{productId}', 'integer') IS NULL THEN
		RAISE EXCEPTION 'productId: is required' USING ERRCODE = 'OR100';
	ELSIF orders.request_field(p_request, '{quantity}', 'integer') IS NULL THEN
		RAISE EXCEPTION 'quantity: is required' USING ERRCODE = 'OR100';
	ELSIF orders.request_field(p_request, '{denomination}', 'amount') IS NULL THEN
		RAISE EXCEPTION 'denomination: is required' USING ERRCODE = 'OR100';
	ELSIF (p_request->>'quantity')::numeric NOT BETWEEN 1 AND 2147483647 THEN
		RAISE EXCEPTION 'quantity: must be an integer >= 1' USING ERRCODE = 'OR100';
	END IF;
	SELECT r.response, r.replayed INTO response, replayed
	FROM orders.create_order(
		p_client_id,
		p_product_id => orders.request_field(p_request, '{productId}', 'integer')::bigint,
		p_quantity => orders.request_field(p_request, '{quantity}', 'integer')::integer,
		p_denomination => orders.request_field(p_request, '{denomination}', 'amount')::numeric,
		p_email => nullif(orders.request_field(p_request, '{email}', 'string'), ''),
		p_tag => orders.request_field(p_request, '{tag}', 'string'),
		p_po_number => orders.request_field(p_request, '{poNumber}', 'string'),
		p_notify_receiver_email => orders.request_field(p_request, '{notifyReceiverEmail}', 'flag')::boolean,
		p_notify_admin_email => orders.request_field(p_request, '{notifyAdminEmail}', 'flag')::boolean,
		p_topup_phone_code => orders.request_field(p_request, '{topupData,topupPhoneCode}', 'string'),
		p_topup_phone_number => orders.request_field(p_request, '{topupData,topupPhoneNumber}', 'digits')) r;
END
$$;
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
