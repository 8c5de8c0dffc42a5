-- The catalog: product rules (denominations, quantity limit, discount),
-- currencies and rates, and the live delivery_time.
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET search_path = orders, public;

-- A product offers a fixed list of denominations, or a range with a step,
-- not both; a product with neither is not orderable.
INSERT INTO products (id, name, currency, denominations, order_quantity_limit)
VALUES (4101, 'Catalog List', 'USD', '{10,25,50}', 5);
INSERT INTO products (id, name, currency, kind, min_denomination, max_denomination,
					  denomination_step, order_quantity_limit, delivery_type, link_type)
VALUES (4102, 'Catalog Range', 'INR', 'TOPUP', 10, 1000, 5, 1, 'url', 'protected');
INSERT INTO products (id, name, currency) VALUES (4103, 'Catalog Bare', 'EUR');
SELECT id, kind, currency, delivery_type, delivery_mode, classification, link_type,
	   order_quantity_limit, discount_percent, active, denominations_text(p)
FROM products p WHERE id BETWEEN 4101 AND 4103 ORDER BY id;

-- Bad products are refused by constraints.
INSERT INTO products (id, name, currency, denominations, min_denomination, max_denomination, denomination_step)
VALUES (4190, 'Both', 'USD', '{10}', 1, 10, 1);
INSERT INTO products (id, name, currency, min_denomination) VALUES (4191, 'Half range', 'USD', 1);
INSERT INTO products (id, name, currency, min_denomination, max_denomination, denomination_step)
VALUES (4192, 'Upside down', 'USD', 10, 1, 1);
INSERT INTO products (id, name, currency, denominations) VALUES (4193, 'Zero', 'USD', '{0,10}');
INSERT INTO products (id, name, currency) VALUES (4194, 'No such currency', 'XYZ');
INSERT INTO products (id, name, currency, kind) VALUES (4195, 'Kind', 'USD', 'VOUCHER');
INSERT INTO products (id, name, currency, discount_percent) VALUES (4196, 'Free', 'USD', 100);
INSERT INTO products (id, name, currency, order_quantity_limit) VALUES (4197, 'Limit', 'USD', 0);
SELECT count(*) AS refused_products_stored FROM products WHERE id BETWEEN 4190 AND 4199;

-- Which denominations are offered.
SELECT p.id, d, denomination_offered(p, d)
FROM products p, unnest(ARRAY[5, 10, 10.00, 12.5, 15, 25, 1000, 1005]::numeric[]) d
WHERE p.id BETWEEN 4101 AND 4103
ORDER BY p.id, d, d::text;

-- Rates: one per ordered pair, positive, between known currencies.
INSERT INTO fx_rates (base, quote, rate) VALUES ('GBP', 'EUR', 1.17);
INSERT INTO fx_rates (base, quote, rate) VALUES ('GBP', 'EUR', 1.18);
INSERT INTO fx_rates (base, quote, rate) VALUES ('GBP', 'GBP', 1);
INSERT INTO fx_rates (base, quote, rate) VALUES ('GBP', 'USD', 0);
SELECT code, minor_unit FROM currencies WHERE code IN ('USD', 'JPY', 'INR') ORDER BY code;

-- delivery_time is live: INSTANT when enough AVAILABLE, unexpired units of
-- that denomination exist now, DELAYED otherwise.
SELECT d, q, delivery_time(4101, d, q)
FROM (VALUES (10, 1), (25, 1)) v(d, q);
INSERT INTO inventory_units (product_id, denomination, expires_at)
VALUES (4101, 25, now() + interval '30 days'),
	   (4101, 25, now() + interval '60 days'),
	   (4101, 25, now() - interval '1 day'),		-- expired: does not count
	   (4101, 10, now() + interval '30 days');
INSERT INTO inventory_units (product_id, denomination, expires_at, status)
VALUES (4101, 10, now() + interval '30 days', 'BLOCKED');	-- not AVAILABLE
SELECT d, q, delivery_time(4101, d, q)
FROM (VALUES (25, 1), (25, 2), (25, 3), (10, 1), (10, 2), (50, 1)) v(d, q)
ORDER BY d, q;
-- A unit leaves the pool: the answer changes with it.
UPDATE inventory_units SET status = 'ALLOCATED'
WHERE id = (SELECT min(id) FROM inventory_units WHERE product_id = 4101 AND denomination = 10);
SELECT delivery_time(4101, 10, 1);
-- The availability count and the allocation read the partial index.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT 1 FROM inventory_units u
WHERE u.product_id = 4101 AND u.denomination = 25 AND u.status = 'AVAILABLE' AND u.expires_at > now()
ORDER BY u.expires_at, u.id LIMIT 2;
RESET enable_seqscan;
