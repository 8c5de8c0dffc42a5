-- The reference implementation, part 4: pricing, wallets and order creation.
--
-- One PL/pgSQL function does what orders.create_order does: validate,
-- price, claim the poNumber (unique index + ON CONFLICT), debit the wallet
-- with its ledger row, create the items, and allocate AVAILABLE units with
-- FOR UPDATE SKIP LOCKED (INSTANT) or leave the order waiting for a vendor
-- (DELAYED).  Every status change goes through ref.lifecycle_guard.

CREATE FUNCTION ref.fund_wallet(p_client_id bigint, p_currency char(3), p_amount numeric)
RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE
	v_balance numeric;
BEGIN
	IF p_amount IS NULL OR p_amount <= 0 THEN
		RAISE EXCEPTION 'amount must be positive' USING ERRCODE = '22023';
	END IF;
	INSERT INTO ref.wallets AS w (client_id, currency, balance)
	VALUES (p_client_id, p_currency, p_amount)
	ON CONFLICT (client_id, currency) DO UPDATE SET balance = w.balance + excluded.balance
	RETURNING balance INTO v_balance;
	INSERT INTO ref.ledger (client_id, currency, amount, balance_after, kind)
	VALUES (p_client_id, p_currency, p_amount, v_balance, 'FUND');
	RETURN v_balance;
END
$$;
COMMENT ON FUNCTION ref.fund_wallet(bigint, char, numeric) IS 'credits a wallet, with its ledger row';

-- The data.placeOrder envelope of reference 003 for one order.
CREATE FUNCTION ref.place_order_result(p_order ref.orders, p_replay boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('data', jsonb_build_object('placeOrder', jsonb_build_object(
		'status', 1,
		'replay', p_replay,
		'data', jsonb_build_object(
			'orderId', p_order.id,
			'orderTotal', p_order.amount,
			'rawOrderTotal', p_order.denomination * p_order.quantity,
			'orderDiscount', to_char(p_order.discount, 'FM999999999990.00'),
			'rawOrderDiscount', (p_order.denomination * p_order.quantity * p.discount_percent / 100)::text,
			'discountPercent', to_char(p.discount_percent, 'FM990.00'),
			'currencyCode', p_order.currency,
			'currencyValue', 1,
			'amountCharged', p_order.amount,
			'orderStatus', p_order.status,
			'deliveryStatus', lower(p_order.status::text),
			'tag', p_order.tag,
			'quantity', p_order.quantity,
			'vouchers', '[]'::jsonb,
			'voucherDetails', jsonb_build_array(jsonb_build_object(
				'orderId', p_order.id,
				'productId', p.id,
				'productName', p.name,
				'currencyCode', p.currency,
				'productStatus', lower(p_order.status::text),
				'denomination', p_order.denomination,
				'vendorLogo', '')),
			'orderMeta', jsonb_build_object('email', p_order.email)))))
	  FROM ref.products p
	 WHERE p.id = p_order.product_id
$$;
COMMENT ON FUNCTION ref.place_order_result(ref.orders, boolean) IS
'the data.placeOrder envelope of an order';

CREATE FUNCTION ref.create_order(
	p_client_id bigint, p_product_id bigint, p_quantity integer, p_denomination numeric,
	p_po_number text, p_email text DEFAULT NULL, p_tag text DEFAULT NULL,
	p_notify_receiver_email integer DEFAULT 0, p_notify_admin_email integer DEFAULT 0,
	p_topup_phone_code text DEFAULT NULL, p_topup_phone_number text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_product ref.products;
	v_order ref.orders;
	v_raw_total numeric;
	v_discount numeric;
	v_amount numeric;
	v_balance numeric;
	v_ledger_id bigint;
	v_units bigint[];
BEGIN
	-- validation: every failure raises before anything is written
	IF p_po_number IS NULL OR length(p_po_number) NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'poNumber is required (1 to 100 characters)' USING ERRCODE = '22023';
	END IF;
	SELECT * INTO v_product FROM ref.products WHERE id = p_product_id AND active;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'product % not found', p_product_id USING ERRCODE = 'P0002';
	END IF;
	IF p_quantity IS NULL OR p_quantity < 1 OR p_quantity > v_product.order_quantity_limit THEN
		RAISE EXCEPTION 'quantity must be between 1 and %', v_product.order_quantity_limit
			USING ERRCODE = '22023';
	END IF;
	IF p_denomination IS NULL OR NOT (
		   p_denomination = ANY (v_product.denominations)
		   OR (p_denomination BETWEEN v_product.min_denomination AND v_product.max_denomination
			   AND (p_denomination - v_product.min_denomination) % v_product.denomination_step = 0)) THEN
		RAISE EXCEPTION 'denomination % is not offered for product %', p_denomination, p_product_id
			USING ERRCODE = '22023';
	END IF;
	IF p_email IS NOT NULL AND (length(p_email) > 254 OR p_email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$') THEN
		RAISE EXCEPTION 'email is not a valid address' USING ERRCODE = '22023';
	END IF;
	IF p_tag IS NOT NULL AND length(p_tag) > 100 THEN
		RAISE EXCEPTION 'tag is longer than 100 characters' USING ERRCODE = '22023';
	END IF;
	IF v_product.kind = 'TOPUP' AND (p_topup_phone_code !~ '^\+[0-9]{1,4}$'
									 OR p_topup_phone_number !~ '^[0-9]{4,15}$') IS NOT FALSE THEN
		RAISE EXCEPTION 'topupData needs a phone code (+NN) and a number' USING ERRCODE = '22023';
	END IF;

	-- pricing
	v_raw_total := p_denomination * p_quantity;
	v_discount := round(v_raw_total * v_product.discount_percent / 100, 2);
	v_amount := v_raw_total - v_discount;

	-- idempotency: the unique index decides, concurrent duplicates included
	INSERT INTO ref.orders
		(client_id, po_number, product_id, denomination, quantity, amount, discount, currency,
		 email, tag, topup_phone_code, topup_phone_number,
		 notify_receiver_email, notify_admin_email)
	VALUES (p_client_id, p_po_number, p_product_id, p_denomination, p_quantity, v_amount,
			v_discount, v_product.currency, p_email, p_tag, p_topup_phone_code,
			p_topup_phone_number, p_notify_receiver_email = 1, p_notify_admin_email = 1)
	ON CONFLICT (client_id, po_number) DO NOTHING
	RETURNING * INTO v_order;
	IF NOT FOUND THEN
		SELECT * INTO v_order FROM ref.orders
		 WHERE client_id = p_client_id AND po_number = p_po_number;
		IF (v_order.product_id, v_order.quantity, v_order.denomination, v_order.email,
			v_order.tag, v_order.topup_phone_code, v_order.topup_phone_number)
		   IS DISTINCT FROM
		   (p_product_id, p_quantity, p_denomination, p_email,
			p_tag, p_topup_phone_code, p_topup_phone_number) THEN
			RAISE EXCEPTION 'poNumber % was already used for a different order', p_po_number
				USING ERRCODE = '23505';
		END IF;
		RETURN ref.place_order_result(v_order, true);
	END IF;

	-- the debit, with its ledger row
	UPDATE ref.wallets SET balance = balance - v_amount
	 WHERE client_id = p_client_id AND currency = v_product.currency AND balance >= v_amount
	RETURNING balance INTO v_balance;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'insufficient balance' USING ERRCODE = '22023';
	END IF;
	INSERT INTO ref.ledger (client_id, currency, amount, balance_after, order_id, kind)
	VALUES (p_client_id, v_product.currency, -v_amount, v_balance, v_order.id, 'DEBIT')
	RETURNING id INTO v_ledger_id;
	UPDATE ref.orders SET status = 'PENDING', transaction_id = v_ledger_id
	 WHERE id = v_order.id;

	-- allocation: earliest expiry first, never a unit another order holds
	SELECT array_agg(id) INTO v_units
	  FROM (SELECT id FROM ref.inventory_units
			 WHERE product_id = p_product_id AND denomination = p_denomination
			   AND status = 'AVAILABLE' AND expires_at > now()
			 ORDER BY expires_at, id
			 LIMIT p_quantity
			   FOR UPDATE SKIP LOCKED) AS u;

	IF cardinality(v_units) = p_quantity THEN
		-- INSTANT: allocate, link, deliver
		UPDATE ref.inventory_units SET status = 'ALLOCATED' WHERE id = ANY (v_units);
		INSERT INTO ref.order_items (client_id, order_id, unit_id)
		SELECT p_client_id, v_order.id, u FROM unnest(v_units) AS u;
		UPDATE ref.order_items SET status = 'DELIVERED', updated_at = now()
		 WHERE order_id = v_order.id;
		UPDATE ref.inventory_units SET status = 'DELIVERED' WHERE id = ANY (v_units);
		UPDATE ref.orders SET status = 'DELIVERED', sub_status = 'INVENTORY_FULFILLED',
			   updated_at = now()
		 WHERE id = v_order.id
		RETURNING * INTO v_order;
	ELSE
		-- DELAYED: items wait for the vendor
		INSERT INTO ref.order_items (client_id, order_id)
		SELECT p_client_id, v_order.id FROM generate_series(1, p_quantity);
		UPDATE ref.orders SET sub_status = 'VENDOR_ORDER_PENDING', updated_at = now()
		 WHERE id = v_order.id
		RETURNING * INTO v_order;
	END IF;
	RETURN ref.place_order_result(v_order, false);
END
$$;
COMMENT ON FUNCTION ref.create_order(bigint, bigint, integer, numeric, text, text, text,
									 integer, integer, text, text) IS
'places an order (reference 003): validate, price, debit, allocate or queue; idempotent on poNumber';
