-- The client with a million orders, loaded the same way into any schema
-- that has the engine's table shapes (orders, order_items, status_history).
--
-- Bulk INSERT ... SELECT instead of a million create_order calls (which
-- would take the whole time budget): the rows are the final state the
-- lifecycle would have produced, and the history rows it would have
-- written are written too (creation, debit, outcome).  Only the lifecycle
-- triggers are switched off for the insert; any other trigger of the
-- engine (order numbering, counters, events) runs as usual.  The items
-- link no unit.

-- The status mix of the big client: 85% DELIVERED, 5% each FAILED,
-- CANCELLED (both refunded) and PENDING (waiting for a vendor).
CREATE FUNCTION bench.big_status(g bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE g % 20 WHEN 0 THEN 'FAILED' WHEN 1 THEN 'CANCELLED' WHEN 2 THEN 'PENDING'
		   ELSE 'DELIVERED' END
$$;
COMMENT ON FUNCTION bench.big_status(bigint) IS 'status of the g-th order of the big client';

CREATE FUNCTION bench.big_sub_status(g bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE g % 20 WHEN 0 THEN 'REFUNDED' WHEN 1 THEN 'REFUNDED'
		   WHEN 2 THEN 'VENDOR_ORDER_PENDING' ELSE 'INVENTORY_FULFILLED' END
$$;
COMMENT ON FUNCTION bench.big_sub_status(bigint) IS 'sub-status of the g-th order of the big client';

-- What each of those orders was charged (both schemas have these columns).
CREATE FUNCTION bench.big_client_charge() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $f$
	SELECT jsonb_build_object('charge_currency', $$'USD'$$, 'currency_value', '1',
							  'discount_percent', '0', 'raw_order_total', '25.00',
							  'order_total', '25.00', 'raw_order_discount', '0',
							  'order_discount', '0', 'amount_charged', '25.00',
							  'email', $$'buyer' || g % 1000 || '@example.com'$$)
$f$;
COMMENT ON FUNCTION bench.big_client_charge() IS 'column expressions of the big client''s charges';

-- Loading a big client goes in batches of 250 orders, a transaction each,
-- driven by psql (\gexec of bench.big_client_script), with a VACUUM of the
-- schema's small tables every 20 batches and an ANALYZE of the orders
-- table whenever it has grown fourfold.  The engine numbers and counts a
-- client's orders in per-client rows that every order updates (its
-- triggers run); a million updates of one row in one transaction, or
-- without vacuum, make each update walk all the dead versions of the row
-- before it, and plans cached while the table was empty would scan it.
-- Orders really arrive one per transaction with autovacuum running; the
-- batches reach the same state at a fraction of the commits.
CREATE TABLE bench.big_loads (
	impl		text PRIMARY KEY,
	orders		regclass NOT NULL,
	client_id	bigint NOT NULL,
	n			bigint NOT NULL,
	cols		jsonb NOT NULL,		-- column expressions of g
	guards		text[] NOT NULL,
	modes		jsonb NOT NULL,		-- of the lifecycle triggers switched off
	first_id	bigint,
	last_id		bigint
);
COMMENT ON TABLE bench.big_loads IS 'the big-client loads in progress';

-- p_order_cols: column expressions of g that only this schema's orders
-- table has.  p_guards: its lifecycle triggers, off for the load.
CREATE FUNCTION bench.big_client_start(p_impl text, p_schema text, p_client bigint, p_n bigint,
									   p_order_cols jsonb, p_guards text[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	orders regclass := format('%I.orders', p_schema)::regclass;
	placed text := format('%L::timestamptz - (%s - g) * interval ''37 seconds''', now(), p_n);
BEGIN
	INSERT INTO bench.big_loads (impl, orders, client_id, n, cols, guards, modes)
	VALUES (p_impl, orders, p_client, p_n,
			jsonb_build_object(
				'client_id', p_client::text,
				'po_number', $q$'big-' || g$q$,
				'product_id', '1001',
				'denomination', '25.00',
				'quantity', '1',
				'status', 'bench.big_status(g)',
				'sub_status', 'bench.big_sub_status(g)',
				'placed_at', placed,
				'updated_at', placed) || p_order_cols,
			p_guards, bench.triggers_off(orders, p_guards));
END
$$;
COMMENT ON FUNCTION bench.big_client_start(text, text, bigint, bigint, jsonb, text[]) IS
'begins loading a big client: switches its lifecycle triggers off';

-- The statements psql runs (\gexec) to load the orders.
CREATE FUNCTION bench.big_client_script(p_impl text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
	SELECT s
	  FROM bench.big_loads l,
		   LATERAL (SELECT string_agg(c.oid::regclass::text, ', ') AS small
					  FROM pg_class c
					 WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = l.orders)
					   AND c.relkind = 'r' AND c.oid <> l.orders
					   AND pg_relation_size(c.oid) < 8 * 1024 * 1024) AS t,
		   generate_series(0, (l.n - 1) / 250) AS b,
		   LATERAL (VALUES (format('SELECT bench.big_client_batch(%L, %s, %s)',
								   p_impl, b * 250 + 1, least(250, l.n - b * 250)), 1),
						   (CASE WHEN b % 20 = 19 THEN 'VACUUM ' || t.small END, 2),
						   -- new statistics each time the table has grown
						   -- fourfold, so that the triggers' cached plans
						   -- stop treating it as empty
						   (CASE WHEN b + 1 IN (4, 16, 64, 256, 1024, 4096, 16384) THEN 'ANALYZE ' || l.orders::text END, 3))
			   AS v(s, k)
	 WHERE l.impl = p_impl AND s IS NOT NULL
	 ORDER BY b, k
$$;
COMMENT ON FUNCTION bench.big_client_script(text) IS 'the batches (and vacuums) of a big-client load';

CREATE FUNCTION bench.big_client_batch(p_impl text, p_from bigint, p_count bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	l bench.big_loads;
	b record;
BEGIN
	SELECT * INTO l FROM bench.big_loads WHERE impl = p_impl;
	SELECT * INTO b FROM bench.fill(l.orders, p_count, l.cols, '{}', p_from);
	IF l.last_id IS NOT NULL AND b.first_id <> l.last_id + 1 THEN
		RAISE EXCEPTION 'bench: the big client''s order ids are not contiguous';
	END IF;
	UPDATE bench.big_loads SET first_id = coalesce(first_id, b.first_id), last_id = b.last_id
	 WHERE impl = p_impl;
END
$$;
COMMENT ON FUNCTION bench.big_client_batch(text, bigint, bigint) IS 'loads one batch of big-client orders';

-- The items (one per order, no unit) and the history the lifecycle would
-- have written; the lifecycle triggers back on.
CREATE FUNCTION bench.big_client_finish(p_impl text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	l bench.big_loads;
	s text;
BEGIN
	SELECT * INTO l FROM bench.big_loads WHERE impl = p_impl;
	s := (SELECT nspname FROM pg_namespace WHERE oid = (SELECT relnamespace FROM pg_class WHERE oid = l.orders));
	PERFORM bench.triggers_on(l.orders, l.modes);
	PERFORM bench.fill(format('%I.order_items', s)::regclass, l.n,
		jsonb_build_object(
			'client_id', l.client_id::text,
			'order_id', format('%s + g - 1', l.first_id),
			'status', 'bench.big_status(g)'),
		l.guards);
	EXECUTE format($q$
		INSERT INTO %1$I.status_history
			(entity, entity_id, from_status, to_status, from_sub_status, to_sub_status, at, actor)
		SELECT 'order', o.id, h.f, h.t, h.fs, h.ts, o.placed_at, current_user
		  FROM %1$I.orders o
		 CROSS JOIN LATERAL (VALUES (NULL, 'PLACED', NULL, 'INITIAL'),
									('PLACED', 'PENDING', 'INITIAL', 'INITIAL'),
									('PENDING', o.status::text, 'INITIAL', o.sub_status::text))
			   AS h(f, t, fs, ts)
		 WHERE o.id BETWEEN $1 AND $2
		UNION ALL
		SELECT 'order_item', i.id, h.f, h.t, NULL, NULL, i.updated_at, current_user
		  FROM %1$I.order_items i
		 CROSS JOIN LATERAL (VALUES (NULL, 'PENDING'), ('PENDING', i.status::text)) AS h(f, t)
		 WHERE i.order_id BETWEEN $1 AND $2 AND (h.f IS NULL OR i.status::text <> 'PENDING')
		$q$, s) USING l.first_id, l.last_id;
	PERFORM bench.range_param(p_impl, 'big_orders', l.first_id, l.last_id);
END
$$;
COMMENT ON FUNCTION bench.big_client_finish(text) IS
'ends loading a big client: items, history, lifecycle triggers back on';
