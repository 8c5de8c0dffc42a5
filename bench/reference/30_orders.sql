-- The reference implementation, part 4: wallets, pricing and order creation.
--
-- ref.create_order does what orders.create_order does, the plain way:
-- validate, claim the poNumber (unique index + ON CONFLICT; a replay with
-- the same parameters returns the order, other parameters are a conflict),
-- price (wallet in the product's currency or the default one, exchange
-- rate, client or product discount, rounding to the currency's minor
-- unit), debit the wallet with its ledger row, create the items, allocate
-- AVAILABLE units with FOR UPDATE SKIP LOCKED (INSTANT) or leave the order
-- waiting for a vendor (DELAYED), and answer with the placeOrder body,
-- vouchers revealed.  Every status change goes through ref.lifecycle_guard.

-- Funding: the balance and its ledger row in one statement (the ledger's
-- checks refuse a non-positive amount).
CREATE FUNCTION ref.fund_wallet(p_client_id bigint, p_currency char(3), p_amount numeric)
RETURNS bigint
LANGUAGE sql AS $$
	WITH w AS (
		INSERT INTO ref.wallets AS w (client_id, currency, balance)
		VALUES (p_client_id, p_currency, p_amount)
		ON CONFLICT (client_id, currency) DO UPDATE SET balance = w.balance + excluded.balance
		RETURNING w.id, w.balance
	)
	INSERT INTO ref.ledger_entries (client_id, wallet_id, kind, amount, balance_after)
	SELECT p_client_id, w.id, 'FUNDING', p_amount, w.balance FROM w
	RETURNING id
$$;
COMMENT ON FUNCTION ref.fund_wallet(bigint, char, numeric) IS 'credits a wallet, with its ledger row';

-- The reference 003 placeOrder body of an order, as it is now.
CREATE FUNCTION ref.place_order_response(p_order_id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	RETURN (SELECT jsonb_build_object('data', jsonb_build_object('placeOrder', jsonb_build_object(
		'status', 1,
		'data', jsonb_build_object(
			'orderId', o.id,
			'orderTotal', o.order_total,
			'rawOrderTotal', o.raw_order_total,
			'orderDiscount', round(o.order_discount, 2)::text,
			'rawOrderDiscount', o.raw_order_discount::text,
			'discountPercent', round(o.discount_percent, 2)::text,
			'currencyCode', o.charge_currency,
			'currencyValue', trim_scale(o.currency_value),
			'amountCharged', o.amount_charged,
			'orderStatus', o.status,
			'deliveryStatus', CASE
				WHEN i.total > 0 AND i.delivered = i.total THEN 'DELIVERED'
				WHEN i.delivered > 0 THEN 'PARTIALLY_DELIVERED'
				WHEN o.status IN ('FAILED', 'CANCELLED') THEN o.status::text
				ELSE 'PENDING' END,
			'tag', o.tag,
			'quantity', o.quantity,
			'vouchers', CASE
				WHEN p.kind = 'GIFT_CARD' AND o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED')
				THEN ref.reveal_vouchers(o.client_id, o.id)
				ELSE '[]'::jsonb END,
			'voucherDetails', i.details,
			'orderMeta', jsonb_build_object('email', o.email)))))
	  FROM ref.orders o
	  JOIN ref.products p ON p.id = o.product_id
	 CROSS JOIN LATERAL (
		SELECT count(*) AS total,
			   count(*) FILTER (WHERE it.status = 'DELIVERED') AS delivered,
			   coalesce(jsonb_agg(jsonb_build_object(
				   'orderId', o.id, 'productId', p.id, 'productName', p.name,
				   'currencyCode', p.currency, 'productStatus', it.status,
				   'denomination', o.denomination, 'vendorLogo', p.vendor_logo)
				   ORDER BY it.id), '[]') AS details
		  FROM ref.order_items it
		 WHERE it.order_id = o.id) i
	 WHERE o.id = p_order_id);
END
$$;
COMMENT ON FUNCTION ref.place_order_response(bigint) IS 'the placeOrder body of an order';

CREATE FUNCTION ref.create_order(
	p_client_id bigint, p_product_id bigint, p_quantity integer, p_denomination numeric,
	p_email text, p_tag text, p_po_number text,
	p_notify_receiver_email boolean DEFAULT false, p_notify_admin_email boolean DEFAULT false,
	p_topup_phone_code text DEFAULT NULL, p_topup_phone_number text DEFAULT NULL,
	OUT response jsonb, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_product ref.products;
	v_order ref.orders;
	v_wallet_id bigint;
	v_currency char(3);
	v_rate numeric;
	v_percent numeric;
	v_minor smallint;
	v_raw_total numeric;
	v_raw_discount numeric;
	v_total numeric;
	v_discount numeric;
	v_charged numeric;
	v_balance numeric;
	v_debit bigint;
	v_units bigint[];
	v_problem text;
BEGIN
	-- validation: every failure raises before anything is written
	v_problem := CASE
		WHEN p_product_id IS NULL OR p_product_id <= 0 THEN 'productId: must be a positive integer'
		WHEN p_quantity IS NULL OR p_quantity < 1 THEN 'quantity: must be an integer >= 1'
		WHEN p_denomination IS NULL OR p_denomination <= 0 OR p_denomination <> round(p_denomination, 2)
			THEN 'denomination: must be a positive amount with at most 2 decimals'
		WHEN p_po_number IS NULL OR btrim(p_po_number) = '' OR length(p_po_number) > 100
			THEN 'poNumber: is required, at most 100 characters'
		WHEN p_email IS NOT NULL AND (length(p_email) > 254
			 OR p_email !~ '^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:]]+\.[^@[:space:][:cntrl:].]+$')
			THEN 'email: not a valid email address'
		WHEN length(p_tag) > 100 THEN 'tag: at most 100 characters'
		WHEN (p_topup_phone_code IS NULL) <> (p_topup_phone_number IS NULL)
			 OR p_topup_phone_code !~ '^\+[1-9][0-9]{0,3}$' OR p_topup_phone_number !~ '^[0-9]{4,14}$'
			THEN 'topupData: a phone code (+NN) and a number of 4 to 14 digits'
	END;
	IF v_problem IS NOT NULL THEN
		RAISE EXCEPTION '%', v_problem USING ERRCODE = '22023';
	END IF;
	SELECT * INTO v_product FROM ref.products WHERE id = p_product_id;
	IF NOT FOUND OR NOT v_product.active THEN
		RAISE EXCEPTION 'productId: no product %', p_product_id USING ERRCODE = 'P0002';
	END IF;

	-- the idempotency key: the unique index decides, concurrent duplicates included
	INSERT INTO ref.orders (client_id, po_number, product_id, denomination, quantity, email, tag,
							notify_receiver_email, notify_admin_email,
							mobile_country_code, mobile_number)
	VALUES (p_client_id, p_po_number, p_product_id, p_denomination, p_quantity, p_email, p_tag,
			coalesce(p_notify_receiver_email, false), coalesce(p_notify_admin_email, false),
			p_topup_phone_code, p_topup_phone_number)
	ON CONFLICT (client_id, po_number) DO NOTHING
	RETURNING * INTO v_order;
	IF NOT FOUND THEN
		SELECT * INTO v_order FROM ref.orders WHERE client_id = p_client_id AND po_number = p_po_number;
		IF (v_order.product_id, v_order.quantity, v_order.denomination, lower(v_order.email),
			v_order.tag, v_order.notify_receiver_email, v_order.notify_admin_email,
			v_order.mobile_country_code, v_order.mobile_number)
		   IS DISTINCT FROM
		   (p_product_id, p_quantity, round(p_denomination, 2), lower(p_email),
			p_tag, coalesce(p_notify_receiver_email, false), coalesce(p_notify_admin_email, false),
			p_topup_phone_code, p_topup_phone_number) THEN
			RAISE EXCEPTION 'poNumber: "%" was already used for order % with other parameters',
				p_po_number, v_order.id USING ERRCODE = '23505';
		END IF;
		response := ref.place_order_response(v_order.id);
		replayed := true;
		RETURN;
	END IF;

	-- the product's rules, then the price
	IF NOT (p_denomination = ANY (v_product.denominations)
			OR (p_denomination BETWEEN v_product.min_denomination AND v_product.max_denomination
				AND (p_denomination - v_product.min_denomination) % v_product.denomination_step = 0)) THEN
		RAISE EXCEPTION 'denomination: % is not offered by product %', p_denomination, p_product_id
			USING ERRCODE = '22023';
	END IF;
	IF p_quantity > v_product.order_quantity_limit THEN
		RAISE EXCEPTION 'quantity: over the limit of product % (%)', p_product_id,
			v_product.order_quantity_limit USING ERRCODE = '22023';
	END IF;
	IF v_product.kind = 'TOPUP' AND p_topup_phone_code IS NULL THEN
		RAISE EXCEPTION 'topupData: is required for top-up product %', p_product_id USING ERRCODE = '22023';
	END IF;
	-- the wallet (the product's currency, else the default one), its rate,
	-- the discount and the rounding, in one query
	SELECT w.id, w.currency, CASE WHEN w.currency = v_product.currency THEN 1 ELSE fx.rate END,
		   coalesce(d.discount_percent, v_product.discount_percent), cur.minor_unit
	  INTO v_wallet_id, v_currency, v_rate, v_percent, v_minor
	  FROM ref.wallets w
	  JOIN ref.currencies cur ON cur.code = w.currency
	  LEFT JOIN ref.fx_rates fx ON fx.base = v_product.currency AND fx.quote = w.currency
	  LEFT JOIN ref.client_discounts d ON d.client_id = p_client_id AND d.product_id = p_product_id
	 WHERE w.client_id = p_client_id AND (w.currency = v_product.currency OR w.is_default)
	 ORDER BY w.currency = v_product.currency DESC
	 LIMIT 1;
	IF NOT FOUND OR v_rate IS NULL THEN
		RAISE EXCEPTION 'client % has no wallet in % nor a default wallet with an exchange rate',
			p_client_id, v_product.currency USING ERRCODE = '22023';
	END IF;
	v_raw_total := p_denomination * p_quantity * v_rate;
	v_total := round(v_raw_total, v_minor);
	v_raw_discount := v_raw_total * v_percent / 100;
	v_discount := round(v_raw_discount, v_minor);
	v_charged := v_total - v_discount;

	-- the debit, with its ledger row
	UPDATE ref.wallets SET balance = balance - v_charged
	 WHERE id = v_wallet_id AND balance >= v_charged
	RETURNING balance INTO v_balance;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'insufficient balance' USING ERRCODE = '22023';
	END IF;
	INSERT INTO ref.ledger_entries (client_id, wallet_id, kind, amount, balance_after, order_id)
	VALUES (p_client_id, v_wallet_id, 'DEBIT', -v_charged, v_balance, v_order.id)
	RETURNING id INTO v_debit;
	UPDATE ref.orders SET status = 'PENDING', charge_currency = v_currency,
		   currency_value = v_rate, discount_percent = v_percent,
		   raw_order_total = v_raw_total, order_total = v_total,
		   raw_order_discount = v_raw_discount, order_discount = v_discount,
		   amount_charged = v_charged, transaction_id = v_debit, updated_at = now()
	 WHERE id = v_order.id;

	-- allocation: earliest expiry first, never a unit another order holds
	SELECT array_agg(id ORDER BY expires_at, id) INTO v_units
	  FROM (SELECT id, expires_at FROM ref.inventory_units
			 WHERE product_id = p_product_id AND denomination = p_denomination
			   AND status = 'AVAILABLE' AND expires_at > now()
			 ORDER BY expires_at, id
			 LIMIT p_quantity
			   FOR UPDATE SKIP LOCKED) AS u;
	IF v_product.kind = 'GIFT_CARD' AND cardinality(v_units) = p_quantity THEN
		-- INSTANT: allocate, link, deliver
		UPDATE ref.inventory_units SET status = 'ALLOCATED' WHERE id = ANY (v_units);
		INSERT INTO ref.order_items (client_id, order_id, unit_id)
		SELECT p_client_id, v_order.id, u FROM unnest(v_units) AS u;
		UPDATE ref.order_items SET status = 'DELIVERED', updated_at = now()
		 WHERE order_id = v_order.id;
		UPDATE ref.inventory_units SET status = 'DELIVERED' WHERE id = ANY (v_units);
		UPDATE ref.orders SET status = 'DELIVERED', sub_status = 'INVENTORY_FULFILLED',
			   updated_at = now()
		 WHERE id = v_order.id;
	ELSE
		-- DELAYED: the items wait for the vendor
		INSERT INTO ref.order_items (client_id, order_id)
		SELECT p_client_id, v_order.id FROM generate_series(1, p_quantity);
		UPDATE ref.orders SET sub_status = 'VENDOR_ORDER_PENDING', updated_at = now()
		 WHERE id = v_order.id;
	END IF;
	SELECT ref.place_order_response(v_order.id), false INTO response, replayed;
END
$$;
COMMENT ON FUNCTION ref.create_order(bigint, bigint, integer, numeric, text, text, text,
									 boolean, boolean, text, text) IS
'places an order (reference 003): validate, price, debit, allocate or queue; idempotent on poNumber';
