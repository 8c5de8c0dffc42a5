-- The catalog: currencies, exchange rates, per-client discounts, and the
-- rules a product imposes on an order (denominations, quantity limit), with
-- the live delivery_time.  The product columns are in
-- schema/20_core_tables.sql; docs/orders.md explains them.

CREATE TABLE orders.currencies (
	code		char(3) PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
	-- ISO 4217 minor unit: amounts are rounded to it.  At most 2, since
	-- every API amount is a string with 2 decimals.
	minor_unit	smallint NOT NULL CHECK (minor_unit BETWEEN 0 AND 2),
	-- the release whose scripts made the row; NULL for a currency an
	-- operator adds (pg_dump keeps those only)
	shipped_in	text CHECK (shipped_in ~ '^[0-9]+\.[0-9]+$')
);
COMMENT ON TABLE orders.currencies IS
'ISO 4217 currencies the engine knows, with the minor unit amounts are rounded to';

INSERT INTO orders.currencies (code, minor_unit, shipped_in)
SELECT code, minor_unit, '1.0' FROM (VALUES
	('USD', 2), ('EUR', 2), ('GBP', 2), ('INR', 2), ('AED', 2), ('AUD', 2),
	('CAD', 2), ('CHF', 2), ('CNY', 2), ('HKD', 2), ('SGD', 2), ('SEK', 2),
	('NOK', 2), ('DKK', 2), ('PLN', 2), ('BRL', 2), ('MXN', 2), ('ZAR', 2),
	('NZD', 2), ('SAR', 2), ('THB', 2), ('PHP', 2), ('MYR', 2), ('IDR', 2),
	('TRY', 2), ('JPY', 0), ('KRW', 0), ('VND', 0), ('CLP', 0), ('HUF', 2)) AS c(code, minor_unit);
-- pg_dump keeps the currencies an operator adds (a configuration table),
-- not the ones the scripts ship (CREATE EXTENSION makes them again).
SELECT pg_catalog.pg_extension_config_dump('orders.currencies', 'WHERE shipped_in IS NULL');

ALTER TABLE orders.products
	ADD FOREIGN KEY (currency) REFERENCES orders.currencies;

CREATE TABLE orders.fx_rates (
	base		char(3) NOT NULL REFERENCES orders.currencies,
	quote		char(3) NOT NULL REFERENCES orders.currencies,
	rate		numeric(20, 10) NOT NULL CHECK (rate > 0),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (base, quote),
	CHECK (base <> quote)
);
COMMENT ON TABLE orders.fx_rates IS
'exchange rates: 1 unit of base costs rate units of quote (the currencyValue of an order)';
SELECT pg_catalog.pg_extension_config_dump('orders.fx_rates', '');

CREATE TABLE orders.client_discounts (
	client_id	bigint NOT NULL REFERENCES orders.clients,
	product_id	bigint NOT NULL REFERENCES orders.products,
	discount_percent numeric(5, 2) NOT NULL
		CHECK (discount_percent >= 0 AND discount_percent < 100),
	PRIMARY KEY (client_id, product_id)
);
COMMENT ON TABLE orders.client_discounts IS
'per-client discount percent of a product; replaces the product''s own discount for that client';

-- The allocation order of units (earliest expiry first) and the live
-- availability count both read this index.
CREATE INDEX inventory_units_available
	ON orders.inventory_units (product_id, denomination, expires_at, id)
	WHERE status = 'AVAILABLE';

-- No SET clause and every operator qualified: the planner inlines it into
-- the query that calls it (the create path's validation, src/order_create.c);
-- with a SET search_path it ran as a separate SQL function, parsed and
-- planned again at every call.
CREATE FUNCTION orders.denomination_offered(p_product orders.products, p_denomination numeric)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE
		WHEN p_product.denominations IS NOT NULL THEN
			p_denomination OPERATOR(pg_catalog.=) ANY (p_product.denominations)
		WHEN p_product.min_denomination IS NOT NULL THEN
			p_denomination OPERATOR(pg_catalog.>=) p_product.min_denomination
			AND p_denomination OPERATOR(pg_catalog.<=) p_product.max_denomination
			AND ((p_denomination OPERATOR(pg_catalog.-) p_product.min_denomination)
				 OPERATOR(pg_catalog.%) p_product.denomination_step) OPERATOR(pg_catalog.=) 0
		ELSE false
	END
$$;
COMMENT ON FUNCTION orders.denomination_offered(orders.products, numeric) IS
'whether a product offers a denomination: in its fixed list, or in its range on its step';

CREATE FUNCTION orders.denominations_text(p_product orders.products)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, orders AS $$
	SELECT CASE
		WHEN p_product.denominations IS NOT NULL THEN
			array_to_string(p_product.denominations, ', ')
		WHEN p_product.min_denomination IS NOT NULL THEN
			format('%s to %s in steps of %s', p_product.min_denomination,
				   p_product.max_denomination, p_product.denomination_step)
		ELSE 'none'
	END
$$;
COMMENT ON FUNCTION orders.denominations_text(orders.products) IS
'the denominations a product offers, in words (for error messages)';

CREATE FUNCTION orders.delivery_time(p_product_id bigint, p_denomination numeric,
									 p_quantity integer DEFAULT 1)
RETURNS orders.delivery_time
-- SECURITY DEFINER: the API role may learn availability, not read the units.
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	-- Counts at most p_quantity units: cheap whatever the stock.
	SELECT CASE WHEN count(*) >= p_quantity AND p_quantity > 0
				THEN 'INSTANT' ELSE 'DELAYED' END::orders.delivery_time
	FROM (SELECT 1 FROM orders.inventory_units u
		  WHERE u.product_id = p_product_id AND u.denomination = p_denomination
			AND u.status = 'AVAILABLE' AND u.expires_at > now()
		  LIMIT greatest(p_quantity, 0)) AS available
$$;
COMMENT ON FUNCTION orders.delivery_time(bigint, numeric, integer) IS
'live delivery_time: INSTANT when enough AVAILABLE unexpired units exist now for that denomination and quantity, else DELAYED';

GRANT SELECT ON orders.currencies, orders.fx_rates TO orders_admin, orders_api, orders_vendor;
GRANT SELECT ON orders.products TO orders_admin, orders_api, orders_vendor;
GRANT INSERT, UPDATE ON orders.products, orders.fx_rates TO orders_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON orders.client_discounts TO orders_admin;
GRANT EXECUTE ON FUNCTION orders.delivery_time(bigint, numeric, integer),
	orders.denomination_offered(orders.products, numeric),
	orders.denominations_text(orders.products)
	TO orders_admin, orders_api, orders_vendor;

-- The schema's default privileges cannot take EXECUTE from PUBLIC (they only
-- add to the global defaults): revoke it from each function here.
REVOKE EXECUTE ON FUNCTION
	orders.denomination_offered(orders.products, numeric),
	orders.denominations_text(orders.products),
	orders.delivery_time(bigint, numeric, integer)
	FROM PUBLIC;
