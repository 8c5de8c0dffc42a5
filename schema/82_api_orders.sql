-- The handlers of the reference's operations: place an order (003), list
-- orders (004), order details (002), the catalog, the charges (quote).
-- Each takes the authenticated client and its parsed parameters as
-- arguments (orders.api_call passes them, by the route table) and returns
-- the answer as a value, errors included.  Errors raised by the core
-- functions (class OR) are answered from the error catalog by the caller.

-- POST /api/v1/orders
CREATE FUNCTION orders.handle_create_order(p_client bigint, p_data jsonb)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	r record;
	order_id bigint;
BEGIN
	SELECT * INTO r FROM orders.create_order(p_client, p_data);
	order_id := (r.response #>> '{data,placeOrder,data,orderId}')::bigint;
	RETURN orders.api_ok(r.response, CASE WHEN r.replayed THEN 200 ELSE 201 END,
		jsonb_build_object('Location', '/api/v1/orders/' || order_id), order_id);
END
$$;
COMMENT ON FUNCTION orders.handle_create_order(bigint, jsonb) IS
'internal: POST /api/v1/orders (reference 003): 201 and the placeOrder envelope for a new order, 200 for a replay of the same poNumber and parameters; Location of the order';

-- POST /api/v1/charges
CREATE FUNCTION orders.handle_charges(p_client bigint, p_data jsonb)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	product_id bigint := orders.request_field(p_data, '{productId}', 'integer')::bigint;
	denomination numeric := orders.request_field(p_data, '{denomination}', 'amount')::numeric;
	quantity numeric := coalesce(orders.request_field(p_data, '{quantity}', 'integer')::numeric, 1);
BEGIN
	IF product_id IS NULL THEN
		RETURN orders.api_invalid('productId: is required');
	ELSIF denomination IS NULL THEN
		RETURN orders.api_invalid('denomination: is required');
	ELSIF quantity NOT BETWEEN -2147483648 AND 2147483647 THEN
		RETURN orders.api_invalid('quantity: must be an integer >= 1');
	END IF;
	RETURN orders.api_ok(orders.quote(p_client, product_id, denomination, quantity::integer)
		|| jsonb_build_object('deliveryTime', orders.delivery_time(product_id, denomination, quantity::integer)));
END
$$;
COMMENT ON FUNCTION orders.handle_charges(bigint, jsonb) IS
'internal: POST /api/v1/charges: what placing that order would charge now (orderTotal, rawOrderTotal, orderDiscount, rawOrderDiscount, discountPercent, currencyCode, currencyValue, amountCharged) and its live deliveryTime';

-- GET /api/v1/orders
CREATE FUNCTION orders.handle_list_orders(p_client bigint, p_page bigint, p_limit bigint,
	p_status text, p_product_id bigint, p_placed_from timestamptz, p_placed_to timestamptz,
	p_po_number text)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	r record;
	paging jsonb;
BEGIN
	IF p_page > 2147483647 OR p_limit > 2147483647 THEN
		RETURN orders.api_invalid('page and limit: must be integers within range');
	END IF;
	SELECT * INTO r FROM orders.list_orders(
		p_client,
		p_page => coalesce(p_page, 1)::integer,
		p_limit => coalesce(p_limit, 10)::integer,
		p_status => nullif(btrim(p_status), ''),
		p_product_id => p_product_id,
		p_placed_from => p_placed_from,
		p_placed_to => p_placed_to,
		p_po_number => p_po_number);
	paging := jsonb_build_object('X-Page', r.page::text, 'X-Per-Page', r.per_page::text,
								 'X-Total-Count', r.total_count::text,
								 'X-Total-Pages', r.total_pages::text);
	-- The reference answers a list without any match with its 404.
	IF jsonb_array_length(r.items) = 0 THEN
		RETURN orders.api_error('no_match', p_headers => paging);
	END IF;
	RETURN orders.api_ok(r.items, 200, paging);
END
$$;
COMMENT ON FUNCTION orders.handle_list_orders(bigint, bigint, bigint, text, bigint, timestamptz, timestamptz, text) IS
'internal: GET /api/v1/orders (reference 004): newest first; placed_from inclusive, placed_to exclusive; po_number: the order with that poNumber (confirming an order after a 5xx, reference 003 note 5); headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches';

-- GET /api/v1/orders/{id}
CREATE FUNCTION orders.handle_order_details(p_client bigint, p_order_id bigint)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	limited orders.api_response;
	result jsonb;
BEGIN
	-- Another client's order is answered like a missing one, and costs
	-- that order's budget nothing.
	IF NOT EXISTS (SELECT 1 FROM orders.orders o WHERE o.id = p_order_id AND o.client_id = p_client) THEN
		RETURN orders.api_error('no_match', p_order_id => p_order_id);
	END IF;
	limited := orders.api_rate_limit('order', p_order_id);
	IF limited.status IS NOT NULL THEN
		limited.order_id := p_order_id;
		RETURN limited;
	END IF;
	-- The vouchers' reveal is audited by the background worker (its commit
	-- comes before any code leaves the database), so this works in a READ
	-- ONLY transaction too: PostgREST's GET.
	result := orders.order_details(p_client, p_order_id);
	IF result IS NULL THEN
		RETURN orders.api_error('no_match', p_order_id => p_order_id);
	END IF;
	RETURN orders.api_ok(result, 200, '{}', p_order_id);
END
$$;
COMMENT ON FUNCTION orders.handle_order_details(bigint, bigint) IS
'internal: GET /api/v1/orders/{id} (reference 002): the order with its vouchers decrypted once delivered; 404 not_found for an unknown id and for another client''s order alike, 429 past the per-order read limit';

-- GET /api/v1/products
CREATE FUNCTION orders.product_json(p orders.products) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT jsonb_build_object(
		'id', p.id,
		'name', p.name,
		'kind', p.kind,
		'currency', p.currency,
		'delivery_type', p.delivery_type,
		'delivery_mode', p.delivery_mode,
		'classification', p.classification,
		'link_type', p.link_type,
		'order_quantity_limit', p.order_quantity_limit,
		'discount_percent', orders.money_text(p.discount_percent),
		'vendor_logo', p.vendor_logo,
		'denominations', (SELECT jsonb_agg(jsonb_build_object(
									'denomination', orders.money_text(d),
									'delivery_time', orders.delivery_time(p.id, d, 1)) ORDER BY d)
						  FROM unnest(p.denominations) AS d),
		'denomination_range', CASE WHEN p.min_denomination IS NOT NULL THEN jsonb_build_object(
			'min', orders.money_text(p.min_denomination),
			'max', orders.money_text(p.max_denomination),
			'step', orders.money_text(p.denomination_step)) END,
		-- INSTANT when some denomination can be delivered from stock now
		'delivery_time', CASE WHEN EXISTS (
			SELECT 1 FROM orders.inventory_units u
			WHERE u.product_id = p.id AND u.status = 'AVAILABLE' AND u.expires_at > now()
			  AND orders.denomination_offered(p, u.denomination))
			THEN 'INSTANT' ELSE 'DELAYED' END)
$$;
COMMENT ON FUNCTION orders.product_json(orders.products) IS
'internal: a product as the catalog endpoint shows it, with the live delivery_time of each fixed denomination and of the product';

CREATE FUNCTION orders.handle_products(p_client bigint) RETURNS orders.api_response
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_ok(coalesce(jsonb_agg(orders.product_json(p) ORDER BY p.id), '[]'))
	FROM orders.products p WHERE p.active
$$;
COMMENT ON FUNCTION orders.handle_products(bigint) IS
'internal: GET /api/v1/products: the active products of the catalog with denominations, limits, discount and live delivery_time (INSTANT: deliverable from stock now)';
