-- The reference implementation, part 5: order details and the order list.
--
-- order_details decrypts the vouchers of delivered items (pgp_sym_decrypt)
-- and audits each reveal; list_orders pages with LIMIT/OFFSET over the
-- (client, [status,] placed_at, id) indexes and counts the matching rows
-- for the pagination headers, as a plain-SQL implementation does.

CREATE FUNCTION ref.rfc3339(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
COMMENT ON FUNCTION ref.rfc3339(timestamptz) IS 'RFC 3339 UTC text of a time';

CREATE FUNCTION ref.order_details(p_client_id bigint, p_order_id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_order ref.orders;
	v_vouchers jsonb := '[]';
BEGIN
	IF p_order_id IS NULL OR p_order_id <= 0 THEN
		RAISE EXCEPTION 'order id must be > 0' USING ERRCODE = '22023';
	END IF;
	SELECT * INTO v_order FROM ref.orders WHERE id = p_order_id AND client_id = p_client_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'No Matching Result Found!' USING ERRCODE = 'P0002';
	END IF;

	IF v_order.status IN ('DELIVERED', 'PARTIALLY_DELIVERED') THEN
		WITH revealed AS (
			SELECT i.id AS item_id, u.*
			  FROM ref.order_items i JOIN ref.inventory_units u ON u.id = i.unit_id
			 WHERE i.order_id = p_order_id AND i.status = 'DELIVERED'
		), audit AS (
			INSERT INTO ref.reveal_audit (client_id, order_id, item_id, actor)
			SELECT p_client_id, p_order_id, item_id, current_user FROM revealed
		)
		SELECT coalesce(jsonb_agg(jsonb_build_object(
				   'card_number', ref.vault_decrypt(r.card_number_enc),
				   'pin_code', ref.vault_decrypt(r.pin_code_enc),
				   'claim_url', ref.vault_decrypt(r.claim_url_enc),
				   'voucher_reference_number', ref.vault_decrypt(r.reference_enc),
				   'expires_at', ref.rfc3339(r.expires_at)) ORDER BY r.item_id), '[]')
		  INTO v_vouchers
		  FROM revealed r;
	END IF;

	RETURN jsonb_build_object(
		'id', v_order.id,
		'reference_code', 'ORD-' || v_order.id,
		'transaction_id', v_order.transaction_id,
		'amount', to_char(v_order.amount, 'FM999999999990.00'),
		'product_id', v_order.product_id,
		'denomination', to_char(v_order.denomination, 'FM999999999990.00'),
		'quantity', v_order.quantity,
		'discount', to_char(v_order.discount, 'FM999999999990.00'),
		'vouchers', v_vouchers,
		'status', v_order.status,
		'placed_at', ref.rfc3339(v_order.placed_at));
END
$$;
COMMENT ON FUNCTION ref.order_details(bigint, bigint) IS
'one order of a client (reference 002), vouchers decrypted when delivered; each reveal audited';

-- One page of a client's orders, newest first, and the total the
-- X-Total-Count / X-Total-Pages headers need:
-- {"page", "limit", "total", "pages", "orders": [...]}.
CREATE FUNCTION ref.list_orders(
	p_client_id bigint, p_page integer DEFAULT 1, p_limit integer DEFAULT 10,
	p_status text DEFAULT NULL, p_product_id bigint DEFAULT NULL,
	p_from timestamptz DEFAULT NULL, p_to timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_status ref.order_status;
	v_total bigint;
	v_orders jsonb;
BEGIN
	IF p_page IS NULL OR p_page < 1 THEN
		RAISE EXCEPTION 'page must be >= 1' USING ERRCODE = '22023';
	END IF;
	IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'limit must be between 1 and 100' USING ERRCODE = '22023';
	END IF;
	IF p_status IS NOT NULL THEN
		IF upper(p_status) NOT IN (SELECT unnest(enum_range(NULL::ref.order_status))::text) THEN
			RAISE EXCEPTION 'unknown status "%"', p_status USING ERRCODE = '22023';
		END IF;
		v_status := upper(p_status)::ref.order_status;
	END IF;

	SELECT count(*) INTO v_total
	  FROM ref.orders o
	 WHERE o.client_id = p_client_id
	   AND (v_status IS NULL OR o.status = v_status)
	   AND (p_product_id IS NULL OR o.product_id = p_product_id)
	   AND (p_from IS NULL OR o.placed_at >= p_from)
	   AND (p_to IS NULL OR o.placed_at < p_to);

	SELECT coalesce(jsonb_agg(jsonb_build_object(
			   'id', o.id,
			   'product_name', p.name,
			   'currency', p.currency,
			   'reference_code', 'ORD-' || o.id,
			   'transaction_id', o.transaction_id,
			   'product_id', o.product_id,
			   'denomination', to_char(o.denomination, 'FM999999999990.00'),
			   'quantity', o.quantity,
			   'amount', to_char(o.amount, 'FM999999999990.00'),
			   'status', o.status,
			   'email', o.email,
			   'mobile', jsonb_build_object('mobile_country_code', o.topup_phone_code,
											'mobile_number', o.topup_phone_number),
			   'placed_at', ref.rfc3339(o.placed_at)) ORDER BY o.placed_at DESC, o.id DESC), '[]')
	  INTO v_orders
	  FROM (SELECT * FROM ref.orders o
			 WHERE o.client_id = p_client_id
			   AND (v_status IS NULL OR o.status = v_status)
			   AND (p_product_id IS NULL OR o.product_id = p_product_id)
			   AND (p_from IS NULL OR o.placed_at >= p_from)
			   AND (p_to IS NULL OR o.placed_at < p_to)
			 ORDER BY o.placed_at DESC, o.id DESC
			 LIMIT p_limit OFFSET (p_page - 1)::bigint * p_limit) AS o
	  JOIN ref.products p ON p.id = o.product_id;

	RETURN jsonb_build_object('page', p_page, 'limit', p_limit, 'total', v_total,
							  'pages', (v_total + p_limit - 1) / p_limit, 'orders', v_orders);
END
$$;
COMMENT ON FUNCTION ref.list_orders(bigint, integer, integer, text, bigint, timestamptz, timestamptz) IS
'one page of a client''s orders (reference 004), newest first, with the total for the headers';
