-- Before anything is measured: the implementations answer the measured
-- calls alike (vouchers revealed, pages full, totals right, replays
-- recognized), so that the workloads time the same work.  Reads only;
-- the reveals write their audit rows as they would anyway.
-- requires: orders.order_details orders.list_orders orders.create_order

SELECT bench.check(impl || ' details of a 1-voucher order reveal code and PIN',
				   jsonb_array_length(d->'vouchers') = 1
				   AND d #>> '{vouchers,0,card_number}' ~ '^[OR][0-9]{15}$'
				   AND d #>> '{vouchers,0,pin_code}' ~ '^[0-9]{4}$'),
	   bench.check(impl || ' details of a 5-voucher order reveal 5', jsonb_array_length(d5->'vouchers') = 5)
  FROM (SELECT 'ours' AS impl,
			   orders.order_details(bench.p('ours', 'reader'), bench.p('ours', 'd1_lo')) AS d,
			   orders.order_details(bench.p('ours', 'reader'), bench.p('ours', 'd5_hi')) AS d5
		UNION ALL
		SELECT 'ref', ref.order_details(bench.p('ref', 'reader'), bench.p('ref', 'd1_lo')),
			   ref.order_details(bench.p('ref', 'reader'), bench.p('ref', 'd5_hi'))) AS x;

SELECT bench.check(format('ours page %s (%s): 20 orders, total %s', pg, coalesce(st, 'all'), total),
				   jsonb_array_length(o.items) = 20 AND o.total_count = total),
	   bench.check(format('ref page %s (%s): 20 orders, total %s', pg, coalesce(st, 'all'), total),
				   jsonb_array_length(r.items) = 20 AND r.total_count = total),
	   bench.check(format('ours and ref page %s (%s) list the same orders', pg, coalesce(st, 'all')),
				   (SELECT array_agg((e->>'email') || (e->>'status')) FROM jsonb_array_elements(o.items) e)
				   = (SELECT array_agg((e->>'email') || (e->>'status')) FROM jsonb_array_elements(r.items) e))
  FROM (VALUES (1, NULL, :orders_big), (500, NULL, :orders_big),
			   (1, 'delivered', :orders_big - 3 * (:orders_big / 20)),
			   (500, 'delivered', :orders_big - 3 * (:orders_big / 20))) AS v(pg, st, total),
	   LATERAL orders.list_orders(bench.p('ours', 'big'), pg, 20, st) AS o,
	   LATERAL ref.list_orders(bench.p('ref', 'big'), pg, 20, st) AS r
 WHERE pg * 20 <= total;

SELECT bench.check('ours replays the replay poNumber', c.replayed)
  FROM orders.create_order(bench.p('ours', 'writer'), 1001, 1, 25.00, 'bench@example.com', 'bench',
						   'replay-1') AS c;
SELECT bench.check('ref replays the replay poNumber', c.replayed)
  FROM ref.create_order(bench.p('ref', 'writer'), 1001, 1, 25.00, 'bench@example.com', 'bench',
						'replay-1') AS c;

-- The same JSON shapes: the keys of the details, of a list item, of a
-- voucher and of the placeOrder body.
CREATE FUNCTION bench.keys(p jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
	SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(p) AS k
$$;
COMMENT ON FUNCTION bench.keys(jsonb) IS 'the sorted keys of a JSON object';

SELECT bench.check('ours and ref details have the same keys', bench.keys(o) = bench.keys(r)),
	   bench.check('ours and ref vouchers have the same keys',
				   bench.keys(o #> '{vouchers,0}') = bench.keys(r #> '{vouchers,0}'))
  FROM orders.order_details(bench.p('ours', 'reader'), bench.p('ours', 'd1_hi')) AS o,
	   ref.order_details(bench.p('ref', 'reader'), bench.p('ref', 'd1_hi')) AS r;
SELECT bench.check('ours and ref list items have the same keys',
				   bench.keys(o.items->0) = bench.keys(r.items->0))
  FROM orders.list_orders(bench.p('ours', 'big'), 1, 1) AS o,
	   ref.list_orders(bench.p('ref', 'big'), 1, 1) AS r;
SELECT bench.check('ours and ref placeOrder bodies have the same keys',
				   bench.keys(o.response #> '{data,placeOrder,data}')
				   = bench.keys(r.response #> '{data,placeOrder,data}')),
	   bench.check('ours and ref reveal the voucher of the replayed order alike',
				   jsonb_array_length(o.response #> '{data,placeOrder,data,vouchers}')
				   = jsonb_array_length(r.response #> '{data,placeOrder,data,vouchers}'))
  FROM orders.create_order(bench.p('ours', 'writer'), 1001, 1, 25.00, 'bench@example.com', 'bench',
						   'replay-1') AS o,
	   ref.create_order(bench.p('ref', 'writer'), 1001, 1, 25.00, 'bench@example.com', 'bench',
						'replay-1') AS r;

-- The same side effects: an order made by each create_order has as many
-- outbox events (fulfilment's, when the engine has them) and history rows.
SELECT bench.check(format('%s rows of a delivered order: ours %s, ref %s', what, o, r), o = r)
  FROM (SELECT 'events', (SELECT count(*) FROM orders.order_events WHERE order_id = bench.p('ours', 'd1_lo')),
			   (SELECT count(*) FROM ref.order_events WHERE order_id = bench.p('ref', 'd1_lo'))
		 WHERE to_regclass('orders.order_events') IS NOT NULL
		UNION ALL
		SELECT 'history', (SELECT count(*) FROM orders.status_history
							WHERE entity = 'order' AND entity_id = bench.p('ours', 'd1_lo')),
			   (SELECT count(*) FROM ref.status_history
				 WHERE entity = 'order' AND entity_id = bench.p('ref', 'd1_lo'))) AS x(what, o, r);
