-- The client with a million orders, loaded the same way into any schema
-- that has the engine's table shapes (orders, order_items, status_history).
--
-- Bulk INSERT ... SELECT instead of a million create_order calls (which
-- would take the whole time budget): the rows are the final state the
-- lifecycle would have produced, and the history rows it would have
-- written are written too (creation, debit, outcome).  Only the lifecycle
-- triggers are switched off for the insert; any other trigger of the
-- engine (counters, events) runs as usual.  The items link no unit.

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

-- p_order_cols: column expressions of g that only this schema's orders
-- table has (amount, currency, ...).  p_guards: its lifecycle triggers.
CREATE FUNCTION bench.load_big_client(p_impl text, p_schema text, p_client bigint, p_n bigint,
									  p_order_cols jsonb, p_guards text[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	o record;
	placed text := format('%L::timestamptz - (%s - g) * interval ''37 seconds''', now(), p_n);
BEGIN
	SELECT * INTO o FROM bench.fill(format('%I.orders', p_schema)::regclass, p_n,
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
		p_guards);
	PERFORM bench.fill(format('%I.order_items', p_schema)::regclass, p_n,
		jsonb_build_object(
			'client_id', p_client::text,
			'order_id', format('%s + g - 1', o.first_id),
			'status', 'bench.big_status(g)'),
		p_guards);

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
		$q$, p_schema) USING o.first_id, o.last_id;

	PERFORM bench.param(p_impl, 'big_first', o.first_id), bench.param(p_impl, 'big_last', o.last_id);
END
$$;
COMMENT ON FUNCTION bench.load_big_client(text, text, bigint, bigint, jsonb, text[]) IS
'loads a client''s million orders, items and history into one implementation';
