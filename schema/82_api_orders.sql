-- The operations of the reference: place an order (003), list orders
-- (004), order details (002), the catalog, the charges (quote).  Each is a
-- SECURITY DEFINER boundary: it derives the client from the authenticated
-- request (never from an argument), calls the internal function of schema
-- orders with it, sets the response status and headers, and turns any
-- error into the reference's error body (orders.api_fail).

-- An integer query or path parameter given as text; 400 naming it otherwise.
CREATE FUNCTION orders.api_integer_param(p_name text, p_value text, p_min bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
BEGIN
	IF p_value IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_value !~ '^\s*[+-]?[0-9]{1,18}\s*$' OR btrim(p_value)::bigint < p_min THEN
		PERFORM orders.api_invalid(format('%s: must be an integer >= %s', p_name, p_min));
	END IF;
	RETURN btrim(p_value)::bigint;
END
$$;
COMMENT ON FUNCTION orders.api_integer_param(text, text, bigint) IS
'internal: a parameter that must be an integer >= p_min; 400 bad_request naming it otherwise; NULL stays NULL';

-- The "data" member of a POST body: a JSON object, or 400.
CREATE FUNCTION orders.api_require_data(p_data jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
BEGIN
	IF jsonb_typeof(p_data) IS DISTINCT FROM 'object' THEN
		PERFORM orders.api_invalid('data: is required and must be a JSON object');
	END IF;
END
$$;
COMMENT ON FUNCTION orders.api_require_data(jsonb) IS
'internal: 400 bad_request unless the "data" member of a request body is a JSON object';

-- POST /api/v1/orders
CREATE FUNCTION api.create_order(data jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	client bigint := orders.api_require_client();
	r record;
	order_id bigint;
	status integer;
BEGIN
	PERFORM orders.api_require_data(data);
	SELECT * INTO r FROM orders.create_order(client, data);
	order_id := (r.response #>> '{data,placeOrder,data,orderId}')::bigint;
	status := CASE WHEN r.replayed THEN 200 ELSE 201 END;
	PERFORM orders.api_succeed('create_order', status,
		jsonb_build_object('Location', '/api/v1/orders/' || order_id), order_id);
	RETURN r.response;
EXCEPTION
	WHEN SQLSTATE 'PGRST' THEN RAISE;
	WHEN OTHERS THEN PERFORM orders.api_fail('create_order', SQLSTATE, SQLERRM);
END
$$;
COMMENT ON FUNCTION api.create_order(jsonb) IS
'POST /api/v1/orders (reference 003): body {"data": {productId, quantity, denomination, email, tag, poNumber, notifyReceiverEmail, notifyAdminEmail, topupData}}; 201 and the placeOrder envelope for a new order, 200 for a replay of the same poNumber and parameters, 409 for the same poNumber with other parameters';

-- POST /api/v1/charges
CREATE FUNCTION api.charges(data jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	client bigint := orders.api_require_client();
	product_id bigint;
	denomination numeric;
	quantity integer;
	result jsonb;
BEGIN
	PERFORM orders.api_require_data(data);
	product_id := orders.request_field(data, '{productId}', 'integer')::bigint;
	denomination := orders.request_field(data, '{denomination}', 'amount')::numeric;
	quantity := coalesce(orders.request_field(data, '{quantity}', 'integer')::numeric, 1);
	IF product_id IS NULL THEN
		PERFORM orders.api_invalid('productId: is required');
	ELSIF denomination IS NULL THEN
		PERFORM orders.api_invalid('denomination: is required');
	END IF;
	result := orders.quote(client, product_id, denomination, quantity)
		|| jsonb_build_object('deliveryTime', orders.delivery_time(product_id, denomination, quantity));
	PERFORM orders.api_succeed('charges', 200);
	RETURN result;
EXCEPTION
	WHEN SQLSTATE 'PGRST' THEN RAISE;
	WHEN numeric_value_out_of_range THEN PERFORM orders.api_invalid('quantity: must be an integer >= 1');
	WHEN OTHERS THEN PERFORM orders.api_fail('charges', SQLSTATE, SQLERRM);
END
$$;
COMMENT ON FUNCTION api.charges(jsonb) IS
'POST /api/v1/charges: body {"data": {productId, denomination, quantity}}; what placing that order would charge now (orderTotal, rawOrderTotal, orderDiscount, rawOrderDiscount, discountPercent, currencyCode, currencyValue, amountCharged) and its live deliveryTime';

-- GET /api/v1/orders
CREATE FUNCTION api.list_orders(page text DEFAULT NULL, "limit" text DEFAULT NULL,
	status text DEFAULT NULL, product_id text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	client bigint := orders.api_require_client();
	r record;
	paging jsonb;
BEGIN
	SELECT * INTO r FROM orders.list_orders(
		client,
		p_page => coalesce(orders.api_integer_param('page', page, 1), 1)::integer,
		p_limit => coalesce(orders.api_integer_param('limit', "limit", 1), 10)::integer,
		p_status => nullif(btrim(status), ''),
		p_product_id => orders.api_integer_param('product_id', product_id, 1));
	paging := jsonb_build_object('X-Page', r.page::text, 'X-Per-Page', r.per_page::text,
								 'X-Total-Count', r.total_count::text,
								 'X-Total-Pages', r.total_pages::text);
	-- The reference answers a list without any match with its 404.
	IF jsonb_array_length(r.items) = 0 THEN
		PERFORM orders.api_raise(404, 'not_found', 'No Matching Result Found!', paging);
	END IF;
	PERFORM orders.api_succeed('list_orders', 200, paging);
	RETURN r.items;
EXCEPTION
	WHEN SQLSTATE 'PGRST' THEN RAISE;
	WHEN numeric_value_out_of_range THEN
		PERFORM orders.api_invalid('page and limit: must be integers within range');
	WHEN OTHERS THEN PERFORM orders.api_fail('list_orders', SQLSTATE, SQLERRM);
END
$$;
COMMENT ON FUNCTION api.list_orders(text, text, text, text) IS
'GET /api/v1/orders (reference 004): page (>= 1, default 1), limit (1-100, default 10), status (any case), product_id; newest first; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches';

-- GET /api/v1/orders/{id}
CREATE FUNCTION api.order_details(id text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	client bigint := orders.api_require_client();
	order_id bigint;
	result jsonb;
BEGIN
	IF id IS NULL OR id !~ '^[0-9]{1,18}$' OR id::bigint = 0 THEN
		PERFORM orders.api_invalid('id: must be an integer > 0');
	END IF;
	order_id := id::bigint;
	-- Another client's order is answered like a missing one, and costs
	-- that order's budget nothing.
	IF NOT EXISTS (SELECT 1 FROM orders.orders o WHERE o.id = order_id AND o.client_id = client) THEN
		PERFORM orders.api_not_found();
	END IF;
	PERFORM orders.api_rate_limit('order', order_id);
	-- Every reveal of a voucher writes an audit row, which a READ ONLY
	-- transaction (PostgREST's GET) cannot: say how to ask instead of
	-- failing with a 500.
	IF current_setting('transaction_read_only')::boolean AND EXISTS (
		SELECT 1 FROM orders.orders o
		WHERE o.id = order_id AND o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED')) THEN
		PERFORM orders.api_raise(405, 'method_not_allowed',
			'Vouchers are revealed (and audited) only in a read-write request: call order_details with POST',
			'{"Allow": "POST"}');
	END IF;
	result := orders.order_details(client, order_id);
	IF result IS NULL THEN
		PERFORM orders.api_not_found();
	END IF;
	PERFORM orders.api_succeed('order_details', 200, '{}', order_id);
	RETURN result;
EXCEPTION
	WHEN SQLSTATE 'PGRST' THEN RAISE;
	WHEN OTHERS THEN PERFORM orders.api_fail('order_details', SQLSTATE, SQLERRM);
END
$$;
COMMENT ON FUNCTION api.order_details(text) IS
'GET /api/v1/orders/{id} (reference 002): the order with its vouchers decrypted once delivered; 400 for an id that is not an integer > 0, 404 not_found for an unknown id and for another client''s order alike, 429 past the per-order read limit';

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

CREATE FUNCTION api.products() RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	client bigint := orders.api_require_client();
	result jsonb;
BEGIN
	SELECT coalesce(jsonb_agg(orders.product_json(p) ORDER BY p.id), '[]') INTO result
	FROM orders.products p WHERE p.active;
	PERFORM orders.api_succeed('products', 200);
	RETURN result;
EXCEPTION
	WHEN SQLSTATE 'PGRST' THEN RAISE;
	WHEN OTHERS THEN PERFORM orders.api_fail('products', SQLSTATE, SQLERRM);
END
$$;
COMMENT ON FUNCTION api.products() IS
'GET /api/v1/products: the active products of the catalog with denominations, limits, discount and live delivery_time (INSTANT: deliverable from stock now)';
