-- bench/vault: bulk load of :n units (card number and PIN each), as a JSON
-- array sent as text (parsed in the timed statement) and as a typed array.
INSERT INTO orders.products (id, name, currency) VALUES (900001, 'Bench Load Card', 'USD');
CREATE TEMP TABLE batch_json AS
SELECT json_agg(json_build_object('product_id', 900001, 'denomination', 25,
		'expires_at', '2032-01-01T00:00:00Z', 'card_number', 'BENCH-JSON-' || lpad(g::text, 10, '0'),
		'pin_code', lpad((g % 10000)::text, 4, '0')))::text AS j
FROM generate_series(1, :n) AS g;
CREATE TEMP TABLE batch_array AS
SELECT array_agg(ROW(900001, 25, '2032-01-01 00:00:00+00', 'BENCH-ARRAY-' || lpad(g::text, 10, '0'),
		lpad((g % 10000)::text, 4, '0'), NULL, NULL)::orders.voucher_input) AS a
FROM generate_series(1, :n) AS g;
CHECKPOINT;

SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS loaded FROM orders.load_inventory((SELECT j::jsonb FROM batch_json)) \gset
SELECT format('bulk load, JSON array: %s units in %s s = %s units/s', :loaded,
	round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), 2),
	round(:loaded / extract(epoch FROM clock_timestamp() - :'t0'::timestamptz))) AS result \gset
\echo :result

SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS loaded FROM orders.load_inventory((SELECT a FROM batch_array)) \gset
SELECT format('bulk load, typed array: %s units in %s s = %s units/s', :loaded,
	round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), 2),
	round(:loaded / extract(epoch FROM clock_timestamp() - :'t0'::timestamptz))) AS result \gset
\echo :result
