-- The reference implementation, part 5: order details and the order list.
--
-- order_details reveals the vouchers through ref.reveal_vouchers
-- (pgp_sym_decrypt, one audit row each).  list_orders builds the SQL of
-- the filters given (so each call is planned for them), pages with
-- LIMIT/OFFSET over the (client, [status | product,] placed_at, id)
-- indexes and counts the matching rows for the pagination headers, as a
-- plain-SQL implementation does.

-- NULL when the client has no such order (unknown and another client's alike).
CREATE FUNCTION ref.order_details(p_client_id bigint, p_order_id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	IF p_order_id IS NULL OR p_order_id <= 0 THEN
		RAISE EXCEPTION 'id: must be an integer > 0' USING ERRCODE = '22023';
	END IF;
	RETURN (SELECT jsonb_build_object(
				'id', o.id, 'reference_code', o.reference_code, 'transaction_id', o.transaction_id,
				'amount', round(o.amount_charged, 2)::text, 'product_id', o.product_id,
				'denomination', round(o.denomination, 2)::text, 'quantity', o.quantity,
				'discount', round(o.order_discount, 2)::text,
				'vouchers', CASE WHEN o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED')
								 THEN ref.reveal_vouchers(p_client_id, o.id) ELSE '[]' END,
				'status', o.status, 'placed_at', ref.rfc3339(o.placed_at))
			  FROM ref.orders o
			 WHERE o.id = p_order_id AND o.client_id = p_client_id);
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
	v_where text;
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

	-- the optional filters as SQL, planned for the filters given
	v_where := 'o.client_id = $1'
		|| CASE WHEN v_status IS NOT NULL THEN ' AND o.status = $2' ELSE '' END
		|| CASE WHEN p_product_id IS NOT NULL THEN ' AND o.product_id = $3' ELSE '' END
		|| CASE WHEN p_placed_from IS NOT NULL THEN ' AND o.placed_at >= $4' ELSE '' END
		|| CASE WHEN p_placed_to IS NOT NULL THEN ' AND o.placed_at < $5' ELSE '' END;
	EXECUTE 'SELECT count(*) FROM ref.orders o WHERE ' || v_where
		INTO total_count USING p_client_id, v_status, p_product_id, p_placed_from, p_placed_to;
	total_pages := (total_count + per_page - 1) / per_page;

	EXECUTE format($q$
		SELECT coalesce(jsonb_agg(jsonb_build_object(
				   'id', o.id, 'product_name', p.name,
				   'currency', coalesce(o.charge_currency, p.currency),
				   'reference_code', o.reference_code, 'transaction_id', o.transaction_id,
				   'product_id', o.product_id, 'denomination', round(o.denomination, 2)::text,
				   'quantity', o.quantity, 'amount', round(o.amount_charged, 2)::text,
				   'status', o.status, 'email', o.email,
				   'mobile', CASE WHEN o.mobile_number IS NOT NULL THEN
					   jsonb_build_object('mobile_country_code', o.mobile_country_code,
										  'mobile_number', o.mobile_number) END,
				   'placed_at', ref.rfc3339(o.placed_at)) ORDER BY o.placed_at DESC, o.id DESC), '[]')
		  FROM (SELECT * FROM ref.orders o WHERE %s
				 ORDER BY o.placed_at DESC, o.id DESC LIMIT $6 OFFSET $7) AS o
		  JOIN ref.products p ON p.id = o.product_id$q$, v_where)
		INTO items
		USING p_client_id, v_status, p_product_id, p_placed_from, p_placed_to,
			  per_page, (page - 1)::bigint * per_page;
END
$$;
COMMENT ON FUNCTION ref.list_orders(bigint, integer, integer, text, bigint, timestamptz, timestamptz) IS
'one page of a client''s orders (reference 004), newest first, with the totals for the headers';
