-- The lean reference, part 3: placing an order.
--
-- Validate; claim the poNumber (INSERT ... ON CONFLICT DO NOTHING on the
-- unique key: concurrent duplicates make one order; a replay with the same
-- parameters answers the existing order, with other parameters it is a
-- conflict); debit the wallet with its ledger row; claim AVAILABLE units
-- with FOR UPDATE SKIP LOCKED, all of them or none, and deliver (INSTANT),
-- or leave the order PENDING for a vendor (DELAYED).  The answer is a typed
-- row, no JSON.

CREATE FUNCTION lean.create_order(
	p_client_id bigint, p_product_id bigint, p_quantity integer, p_denomination numeric,
	p_email text, p_tag text, p_po_number text,
	OUT order_id bigint, OUT status lean.order_status, OUT amount numeric, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_product lean.products;
	v_order lean.orders;
	v_balance numeric;
	v_sold integer;
BEGIN
	-- validation: every failure raises before anything is written
	IF p_quantity IS NULL OR p_quantity < 1 THEN
		RAISE EXCEPTION 'quantity: must be an integer >= 1' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_po_number IS NULL OR btrim(p_po_number) = '' OR length(p_po_number) > 100 THEN
		RAISE EXCEPTION 'poNumber: is required, at most 100 characters' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_email IS NOT NULL AND (length(p_email) > 254
			OR p_email !~ '^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:]]+\.[^@[:space:][:cntrl:].]+$') THEN
		RAISE EXCEPTION 'email: not a valid email address' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF length(p_tag) > 100 THEN
		RAISE EXCEPTION 'tag: at most 100 characters' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO v_product FROM lean.products WHERE id = p_product_id;
	IF NOT FOUND OR NOT v_product.active THEN
		RAISE EXCEPTION 'productId: no product %', p_product_id USING ERRCODE = 'no_data_found';
	END IF;
	IF p_denomination IS NULL OR NOT p_denomination = ANY (v_product.denominations) THEN
		RAISE EXCEPTION 'denomination: % is not offered by product %', p_denomination, p_product_id
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_quantity > v_product.order_quantity_limit THEN
		RAISE EXCEPTION 'quantity: over the limit of product % (%)', p_product_id,
			v_product.order_quantity_limit USING ERRCODE = 'invalid_parameter_value';
	END IF;
	amount := p_denomination * p_quantity;

	-- the idempotency key: the unique index decides, concurrent duplicates included
	INSERT INTO lean.orders AS o (client_id, po_number, product_id, denomination, quantity, amount, email, tag)
	VALUES (p_client_id, p_po_number, p_product_id, p_denomination, p_quantity, amount, p_email, p_tag)
	ON CONFLICT (client_id, po_number) DO NOTHING
	RETURNING o.id INTO order_id;
	IF NOT FOUND THEN
		SELECT * INTO v_order FROM lean.orders o WHERE o.client_id = p_client_id AND o.po_number = p_po_number;
		IF (v_order.product_id, v_order.quantity, v_order.denomination, v_order.email, v_order.tag)
		   IS DISTINCT FROM (p_product_id, p_quantity, p_denomination, p_email, p_tag) THEN
			RAISE EXCEPTION 'poNumber: "%" was already used for order % with other parameters',
				p_po_number, v_order.id USING ERRCODE = 'unique_violation';
		END IF;
		order_id := v_order.id;
		status := v_order.status;
		amount := v_order.amount;
		replayed := true;
		RETURN;
	END IF;
	replayed := false;

	-- the debit, with its ledger row
	UPDATE lean.wallets w SET balance = w.balance - amount
	 WHERE w.client_id = p_client_id AND w.balance >= amount
	RETURNING w.balance INTO v_balance;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'client %: insufficient balance for %', p_client_id, amount
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO lean.ledger (client_id, order_id, amount, balance_after)
	VALUES (p_client_id, order_id, -amount, v_balance);

	-- allocation: earliest expiry first, never a unit another order holds;
	-- all the units the order needs, or none
	WITH claimed AS MATERIALIZED (
		SELECT u.id FROM lean.units u
		 WHERE u.product_id = p_product_id AND u.denomination = p_denomination
		   AND u.status = 'AVAILABLE' AND u.expires_at > now()
		 ORDER BY u.expires_at, u.id
		 LIMIT p_quantity
		   FOR UPDATE SKIP LOCKED)
	UPDATE lean.units u SET status = 'SOLD', order_id = create_order.order_id
	  FROM claimed c
	 WHERE u.id = c.id AND (SELECT count(*) FROM claimed) = p_quantity;
	GET DIAGNOSTICS v_sold = ROW_COUNT;
	IF v_sold = p_quantity THEN
		-- INSTANT: delivered in this transaction
		UPDATE lean.orders o SET status = 'DELIVERED', updated_at = now() WHERE o.id = order_id;
		status := 'DELIVERED';
	ELSE
		-- DELAYED: paid, waiting for a vendor
		status := 'PENDING';
	END IF;
END
$$;
COMMENT ON FUNCTION lean.create_order(bigint, bigint, integer, numeric, text, text, text) IS
'places a lean order: validate, claim the poNumber, debit, allocate all units or none; idempotent on poNumber';
