-- The catalog and the clients, the same for every implementation whose
-- schema has the engine's shapes (products, clients, <schema>.fund_wallet):
-- products 1001 (with inventory: INSTANT) and 1002 (none: DELAYED), and
-- funded USD wallets for
--   bench-writer, bench-writer-1 .. 7   create orders: pgbench client k
--                                       orders as writer + k % 8, so that
--                                       concurrent orders are different API
--                                       clients (one client's orders queue
--                                       on its wallet row, in both designs)
--   bench-big                           a million orders to list
--   bench-reader                        delivered orders to read
--   bench-transition                    (unused by the engine's tables)
CREATE FUNCTION bench.make_catalog(p_impl text, p_schema text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	c record;
	writers bigint[] := '{}';
BEGIN
	EXECUTE format($q$INSERT INTO %I.products (id, name, currency, denominations, order_quantity_limit)
		VALUES (1001, 'Bench Instant Gift Card', 'USD', '{10.00,25.00,50.00}', 10),
			   (1002, 'Bench Delayed Gift Card', 'USD', '{10.00,25.00,50.00}', 10)$q$, p_schema);
	FOR c IN EXECUTE format($q$INSERT INTO %I.clients (name)
		SELECT 'bench-writer' || coalesce('-' || nullif(g, 0), '') FROM generate_series(0, 7) AS g
		UNION ALL VALUES ('bench-big'), ('bench-reader'), ('bench-transition')
		RETURNING id, name$q$, p_schema) LOOP
		EXECUTE format('SELECT %I.fund_wallet($1, ''USD'', 100000000000)', p_schema) USING c.id;
		IF c.name LIKE 'bench-writer%' THEN
			writers := writers || c.id;
		ELSE
			PERFORM bench.param(p_impl, substr(c.name, 7), c.id);
		END IF;
	END LOOP;
	-- writer is the first; the scripts add client_id % 8
	PERFORM bench.ids_param(p_impl, 'writer', writers);
	PERFORM bench.param(p_impl, 'writer', bench.p(p_impl, 'writer_lo'));
END
$$;
COMMENT ON FUNCTION bench.make_catalog(text, text) IS
'the benchmark''s products, clients and funded wallets in one implementation';

-- The orders the read workloads read, made through the implementation's
-- own create_order: p_one delivered one-voucher orders (ids d1_lo ..
-- d1_hi) and p_five five-voucher ones (d5_lo .. d5_hi) of the reader, and
-- the writer's order 'replay-1' that the replay workload places again.
CREATE FUNCTION bench.make_read_orders(p_impl text, p_schema text, p_one integer, p_five integer)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	o record;
	ids bigint[];
BEGIN
	FOR o IN SELECT * FROM (VALUES ('d1', 1, p_one), ('d5', 5, p_five)) AS v(name, quantity, n) LOOP
		EXECUTE format($q$SELECT array_agg((c.response #>> '{data,placeOrder,data,orderId}')::bigint)
			  FROM generate_series(1, $1) AS g,
				   LATERAL %I.create_order($2, 1001, $3, 25.00, 'reader@example.com', NULL,
										   $4 || '-' || g) AS c$q$, p_schema)
			INTO ids USING o.n, bench.p(p_impl, 'reader'), o.quantity, o.name;
		PERFORM bench.ids_param(p_impl, o.name, ids);
	END LOOP;
	EXECUTE format($q$SELECT 1 FROM %I.create_order($1, 1001, 1, 25.00, 'bench@example.com', 'bench',
													 'replay-1')$q$, p_schema)
		USING bench.p(p_impl, 'writer');
END
$$;
COMMENT ON FUNCTION bench.make_read_orders(text, text, integer, integer) IS
'the delivered orders of the read workloads and the order to replay, in one implementation';
