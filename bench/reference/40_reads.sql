-- The reference implementation, part 5: order details and the order list.
--
-- order_details reveals the vouchers through ref.reveal_vouchers
-- (pgp_sym_decrypt, one audit row each).  list_orders pages with
-- LIMIT/OFFSET over the (client, [status | product,] placed_at, id)
-- indexes and counts the matching rows for the pagination headers, as a
-- plain-SQL implementation does.

CREATE FUNCTION ref.rfc3339(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
COMMENT ON FUNCTION ref.rfc3339(timestamptz) IS 'RFC 3339 UTC text of a time';

-- NULL when the client has no such order (unknown and another client's alike).
CREATE FUNCTION ref.order_details(p_client_id bigint, p_order_id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_order ref.orders;
BEGIN
	IF p_order_id IS NULL OR p_order_id <= 0 THEN
		RAISE EXCEPTION 'id: must be an integer > 0' USING ERRCODE = '22023';
	END IF;
	SELECT * INTO v_order FROM ref.orders WHERE id = p_order_id AND client_id = p_client_id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	RETURN jsonb_build_object(
		'id', v_order.id,
		'reference_code', v_order.reference_code,
		'transaction_id', v_order.transaction_id,
		'amount', round(v_order.amount_charged, 2)::text,
		'product_id', v_order.product_id,
		'denomination', round(v_order.denomination, 2)::text,
		'quantity', v_order.quantity,
		'discount', round(v_order.order_discount, 2)::text,
		'vouchers', CASE WHEN v_order.status IN ('DELIVERED', 'PARTIALLY_DELIVERED')
						 THEN ref.reveal_vouchers(p_client_id, v_order.id)
						 ELSE '[]'::jsonb END,
		'status', v_order.status,
		'placed_at', ref.rfc3339(v_order.placed_at));
END
$$;
COMMENT ON FUNCTION ref.order_details(bigint, bigint) IS
'one order of a client (reference 002), vouchers decrypted when delivered; NULL if not the client''s';

-- One page of a client's orders, newest first, and the totals the
-- X-Total-Count / X-Total-Pages headers need.
CREATE FUNCTION ref.list_orders(
	p_client_id bigint, p_page integer DEFAULT 1, p_limit integer DEFAULT 10,
	p_status text DEFAULT NULL, p_product_id bigint DEFAULT NULL,
	p_placed_from timestamptz DEFAULT NULL, p_placed_to timestamptz DEFAULT NULL,
	OUT items jsonb, OUT page integer, OUT per_page integer,
	OUT total_count bigint, OUT total_pages bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_status ref.order_status;
BEGIN
	page := coalesce(p_page, 1);
	per_page := coalesce(p_limit, 10);
	IF page < 1 THEN
		RAISE EXCEPTION 'page: must be an integer >= 1' USING ERRCODE = '22023';
	END IF;
	IF per_page NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'limit: must be an integer from 1 to 100' USING ERRCODE = '22023';
	END IF;
	IF p_status IS NOT NULL THEN
		IF upper(p_status) NOT IN (SELECT unnest(enum_range(NULL::ref.order_status))::text) THEN
			RAISE EXCEPTION 'status: unknown order status "%"', left(p_status, 40) USING ERRCODE = '22023';
		END IF;
		v_status := upper(p_status)::ref.order_status;
	END IF;

	SELECT count(*) INTO total_count
	  FROM ref.orders o
	 WHERE o.client_id = p_client_id
	   AND (v_status IS NULL OR o.status = v_status)
	   AND (p_product_id IS NULL OR o.product_id = p_product_id)
	   AND (p_placed_from IS NULL OR o.placed_at >= p_placed_from)
	   AND (p_placed_to IS NULL OR o.placed_at < p_placed_to);
	total_pages := (total_count + per_page - 1) / per_page;

	SELECT coalesce(jsonb_agg(jsonb_build_object(
			   'id', o.id,
			   'product_name', p.name,
			   'currency', coalesce(o.charge_currency, p.currency),
			   'reference_code', o.reference_code,
			   'transaction_id', o.transaction_id,
			   'product_id', o.product_id,
			   'denomination', round(o.denomination, 2)::text,
			   'quantity', o.quantity,
			   'amount', round(o.amount_charged, 2)::text,
			   'status', o.status,
			   'email', o.email,
			   'mobile', CASE WHEN o.mobile_number IS NOT NULL THEN
				   jsonb_build_object('mobile_country_code', o.mobile_country_code,
									  'mobile_number', o.mobile_number) END,
			   'placed_at', ref.rfc3339(o.placed_at)) ORDER BY o.placed_at DESC, o.id DESC), '[]')
	  INTO items
	  FROM (SELECT * FROM ref.orders o
			 WHERE o.client_id = p_client_id
			   AND (v_status IS NULL OR o.status = v_status)
			   AND (p_product_id IS NULL OR o.product_id = p_product_id)
			   AND (p_placed_from IS NULL OR o.placed_at >= p_placed_from)
			   AND (p_placed_to IS NULL OR o.placed_at < p_placed_to)
			 ORDER BY o.placed_at DESC, o.id DESC
			 LIMIT per_page OFFSET (page - 1)::bigint * per_page) AS o
	  JOIN ref.products p ON p.id = o.product_id;
END
$$;
COMMENT ON FUNCTION ref.list_orders(bigint, integer, integer, text, bigint, timestamptz, timestamptz) IS
'one page of a client''s orders (reference 004), newest first, with the totals for the headers';
