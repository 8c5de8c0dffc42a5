-- Pricing, the reference's "Charges" step: what an order of a product,
-- denomination and quantity costs a client, in the currency of the wallet
-- it is charged to.  orders.create_order charges exactly what orders.quote
-- says: both price through the same C function (src/order_money.c).  Rules and rounding: docs/money.md.

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

-- The numbers of an order line, before looking at the catalog (C: the
-- create path runs the same check, src/order_money.c).  Not STRICT: a
-- missing number is an error naming the field.
CREATE FUNCTION orders.check_order_line(p_product_id bigint, p_denomination numeric,
										p_quantity integer)
RETURNS void
	AS 'MODULE_PATHNAME', 'order_check_line_sql' LANGUAGE C IMMUTABLE;
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

-- In C (src/order_money.c, order_price): one saved query reads the wallet,
-- the rate, the discount and the minor unit and computes the amounts;
-- orders.create_order calls the same C function, so a quote is exactly what
-- create charges.  The wallet is the one in the product's currency, else the
-- default one; amounts are rounded half-up to the wallet currency's minor
-- unit (docs/money.md).
CREATE FUNCTION orders.price(p_client_id bigint, p_product orders.products,
							 p_denomination numeric, p_quantity integer)
RETURNS orders.charge
	AS 'MODULE_PATHNAME', 'order_price_sql'
	LANGUAGE C STABLE SET search_path = pg_catalog, orders;
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
