-- Pricing, the reference's "Charges" step: what an order of a product,
-- denomination and quantity costs a client, in the currency of the wallet
-- it is charged to.  orders.create_order charges exactly what orders.quote
-- says: both call orders.price.  Rules and rounding: docs/money.md.

CREATE TYPE orders.charge AS (
	wallet_id	bigint,
	currency	char(3),			-- the wallet's: the currencyCode
	currency_value numeric,			-- product currency -> wallet currency
	discount_percent numeric(5, 2),
	raw_order_total numeric,		-- exact
	order_total numeric(14, 2),		-- rounded to the currency's minor unit
	raw_order_discount numeric,		-- exact
	order_discount numeric(14, 2),	-- rounded
	amount_charged numeric(14, 2)	-- order_total - order_discount
);
COMMENT ON TYPE orders.charge IS
'what an order costs: the wallet charged, conversion, discount, raw and rounded totals';

-- An amount as the reference prints it: 2 decimals, or every decimal of an
-- exact (raw) amount that has more.
CREATE FUNCTION orders.money_text(p_amount numeric) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT pg_catalog.round(p_amount, 2)::text
$$;
COMMENT ON FUNCTION orders.money_text(numeric) IS
'an amount as an API string with 2 decimals ("25.00")';

CREATE FUNCTION orders.exact_amount(p_amount numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN pg_catalog.scale(pg_catalog.trim_scale(p_amount)) OPERATOR(pg_catalog.<=) 2
				THEN pg_catalog.round(p_amount, 2)
				ELSE pg_catalog.trim_scale(p_amount) END
$$;
COMMENT ON FUNCTION orders.exact_amount(numeric) IS
'an unrounded amount with its significant decimals, at least 2 (25.00, 10.005)';

-- The numbers of an order line, before looking at the catalog.
CREATE FUNCTION orders.check_order_line(p_product_id bigint, p_denomination numeric,
										p_quantity integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_product_id IS NULL OR p_product_id <= 0 THEN
		RAISE EXCEPTION 'productId: must be a positive integer' USING ERRCODE = 'OR100';
	END IF;
	IF p_quantity IS NULL OR p_quantity < 1 THEN
		RAISE EXCEPTION 'quantity: must be an integer >= 1' USING ERRCODE = 'OR100';
	END IF;
	IF p_denomination IS NULL OR p_denomination <= 0 OR p_denomination >= 1e12
	   OR p_denomination <> round(p_denomination, 2) THEN
		RAISE EXCEPTION 'denomination: must be a positive amount with at most 2 decimals'
			USING ERRCODE = 'OR100';
	END IF;
END
$$;
COMMENT ON FUNCTION orders.check_order_line(bigint, numeric, integer) IS
'checks productId, quantity and denomination are well-formed; raises OR100 naming the field';

-- The product, checked for an order of p_quantity units of p_denomination.
CREATE FUNCTION orders.orderable_product(p_product_id bigint, p_denomination numeric,
										 p_quantity integer)
RETURNS orders.products
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	p orders.products;
BEGIN
	PERFORM orders.check_order_line(p_product_id, p_denomination, p_quantity);
	SELECT * INTO p FROM orders.products WHERE id = p_product_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'productId: no product %', p_product_id USING ERRCODE = 'OR101';
	END IF;
	IF NOT p.active THEN
		RAISE EXCEPTION 'productId: product % is not available for ordering', p_product_id
			USING ERRCODE = 'OR103';
	END IF;
	IF NOT orders.denomination_offered(p, p_denomination) THEN
		RAISE EXCEPTION 'denomination: % is not offered by product %', p_denomination, p_product_id
			USING ERRCODE = 'OR100',
				  HINT = format('Denominations of product %s: %s.', p_product_id,
								orders.denominations_text(p));
	END IF;
	IF p_quantity > p.order_quantity_limit THEN
		RAISE EXCEPTION 'quantity: % is over the order quantity limit of product % (%)',
			p_quantity, p_product_id, p.order_quantity_limit USING ERRCODE = 'OR100';
	END IF;
	RETURN p;
END
$$;
COMMENT ON FUNCTION orders.orderable_product(bigint, numeric, integer) IS
'the product, after checking it exists, is active, offers the denomination and allows the quantity';

CREATE FUNCTION orders.price(p_client_id bigint, p_product orders.products,
							 p_denomination numeric, p_quantity integer)
RETURNS orders.charge
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.wallets;
	c orders.charge;
	minor smallint;
BEGIN
	-- The wallet in the product's currency, else the default wallet.
	SELECT * INTO w FROM orders.wallets
	WHERE client_id = p_client_id AND (currency = p_product.currency OR is_default)
	ORDER BY currency = p_product.currency DESC LIMIT 1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'client % has no wallet in % and no default wallet', p_client_id, p_product.currency
			USING ERRCODE = 'OR103';
	END IF;
	c.wallet_id := w.id;
	c.currency := w.currency;
	IF w.currency = p_product.currency THEN
		c.currency_value := 1;
	ELSE
		SELECT rate INTO c.currency_value FROM orders.fx_rates
		WHERE base = p_product.currency AND quote = w.currency;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'no exchange rate from % to %', p_product.currency, w.currency
				USING ERRCODE = 'OR103';
		END IF;
		c.currency_value := trim_scale(c.currency_value);
	END IF;
	c.discount_percent := coalesce(
		(SELECT d.discount_percent FROM orders.client_discounts d
		 WHERE d.client_id = p_client_id AND d.product_id = p_product.id),
		p_product.discount_percent);
	SELECT minor_unit INTO minor FROM orders.currencies WHERE code = w.currency;
	-- numeric round() rounds half away from zero: half-up for these
	-- positive amounts.
	c.raw_order_total := p_denomination * p_quantity * c.currency_value;
	c.order_total := round(c.raw_order_total, minor);
	c.raw_order_discount := c.raw_order_total * c.discount_percent / 100;
	c.order_discount := round(c.raw_order_discount, minor);
	c.amount_charged := c.order_total - c.order_discount;
	RETURN c;
END
$$;
COMMENT ON FUNCTION orders.price(bigint, orders.products, numeric, integer) IS
'what p_quantity units of p_denomination of a product cost a client, charged to which wallet (see docs/money.md)';

CREATE FUNCTION orders.charge_json(p_charge orders.charge) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT pg_catalog.jsonb_build_object(
		'orderTotal', p_charge.order_total,
		'rawOrderTotal', orders.exact_amount(p_charge.raw_order_total),
		'orderDiscount', orders.money_text(p_charge.order_discount),
		'rawOrderDiscount', orders.exact_amount(p_charge.raw_order_discount)::text,
		'discountPercent', orders.money_text(p_charge.discount_percent),
		'currencyCode', p_charge.currency,
		'currencyValue', pg_catalog.trim_scale(p_charge.currency_value),
		'amountCharged', p_charge.amount_charged)
$$;
COMMENT ON FUNCTION orders.charge_json(orders.charge) IS
'the pricing fields of the reference''s placeOrder data (numbers and strings as the reference types them)';

CREATE FUNCTION orders.quote(p_client_id bigint, p_product_id bigint,
							 p_denomination numeric, p_quantity integer DEFAULT 1)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT jsonb_build_object('productId', p_product_id, 'denomination', round(p_denomination, 2),
							  'quantity', p_quantity)
		|| orders.charge_json(orders.price(p_client_id,
										   orders.orderable_product(p_product_id, p_denomination, p_quantity),
										   p_denomination, p_quantity))
$$;
COMMENT ON FUNCTION orders.quote(bigint, bigint, numeric, integer) IS
'the charges of an order before placing it: exactly what orders.create_order would charge (reference "Charges" step)';

-- The schema's default privileges cannot take EXECUTE from PUBLIC (they only
-- add to the global defaults): revoke it from each function here.
REVOKE EXECUTE ON FUNCTION
	orders.money_text(numeric),
	orders.exact_amount(numeric),
	orders.check_order_line(bigint, numeric, integer),
	orders.orderable_product(bigint, numeric, integer),
	orders.price(bigint, orders.products, numeric, integer),
	orders.charge_json(orders.charge),
	orders.quote(bigint, bigint, numeric, integer)
	FROM PUBLIC;
