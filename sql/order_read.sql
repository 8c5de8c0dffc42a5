-- Reading orders: details (reference 002) and the paginated list
-- (reference 004) with its filters and totals.
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET search_path = orders, public;

INSERT INTO clients (id, name) OVERRIDING SYSTEM VALUE
VALUES (4401, 'read client'), (4402, 'read client other'), (4403, 'read client history');
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'ok';
EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
INSERT INTO products (id, name, currency, denominations, order_quantity_limit)
VALUES (4401, 'Read Card', 'USD', '{10,20}', 5),
	   (4402, 'Read Euro Card', 'EUR', '{5}', 5);
SELECT fund_wallet(4401, 'USD', 1000) > 0 AS funded, fund_wallet(4401, 'EUR', 1000) > 0 AS funded,
	   fund_wallet(4402, 'USD', 100) > 0 AS funded;
INSERT INTO inventory_units (product_id, denomination, expires_at)
SELECT 4401, 10, timestamptz '2031-06-30 12:00:00+00' + i * interval '1 day'
FROM generate_series(1, 12) i;

-- 30 orders: product 4401 at 10 (the first 12 units delivered, one unit an
-- order), at 20 (no stock: pending), and product 4402 (pending).
SELECT count(*) AS placed FROM generate_series(1, 30) n,
	LATERAL create_order(4401,
		p_product_id => CASE WHEN n % 3 = 0 THEN 4402 ELSE 4401 END,
		p_quantity => 1,
		p_denomination => CASE WHEN n % 3 = 0 THEN 5 WHEN n % 3 = 1 THEN 10 ELSE 20 END,
		p_email => 'buyer' || n || '@example.com', p_tag => NULL,
		p_po_number => 'READ-' || n,
		p_topup_phone_code => CASE WHEN n % 5 = 0 THEN '+44' END,
		p_topup_phone_number => CASE WHEN n % 5 = 0 THEN '7700900' || lpad(n::text, 3, '0') END) r;
SELECT status, product_id, count(*) FROM orders.orders WHERE client_id = 4401
GROUP BY status, product_id ORDER BY status, product_id;
SELECT (SELECT id FROM orders.orders WHERE client_id = 4401 AND po_number = 'READ-1') AS delivered,
	   (SELECT id FROM orders.orders WHERE client_id = 4401 AND po_number = 'READ-2') AS pending \gset

-- Details: every field of reference 002, amounts as 2-decimal strings,
-- RFC 3339 time, UPPERCASE status; vouchers of a delivered order from the
-- vault, none for a pending one.
SELECT jsonb_object_keys(order_details(4401, :delivered)) AS field ORDER BY 1;
SELECT d ->> 'amount' AS amount, d ->> 'denomination' AS denomination, d ->> 'discount' AS discount,
	   d ->> 'quantity' AS quantity, d ->> 'status' AS status, d ->> 'product_id' AS product_id,
	   d ->> 'reference_code' = (SELECT reference_code FROM orders.orders WHERE id = :delivered) AS reference_ok,
	   (d ->> 'transaction_id')::bigint = (SELECT id FROM ledger_entries WHERE order_id = :delivered) AS transaction_ok,
	   d ->> 'placed_at' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$' AS placed_at_ok,
	   jsonb_typeof(d -> 'amount') AS amount_type, d -> 'vouchers' AS vouchers
FROM order_details(4401, :delivered) d;
SELECT d ->> 'status' AS status, d -> 'vouchers' AS vouchers FROM order_details(4401, :pending) d;
-- Another client's order and an unknown one answer alike; a bad id is an error.
SELECT order_details(4402, :delivered) IS NULL AS other_client,
	   order_details(4401, 999999999) IS NULL AS unknown;
SELECT pg_temp.try('SELECT orders.order_details(4401, 0)'), pg_temp.try('SELECT orders.order_details(4401, -7)');
-- Revealing is audited: one row per revealed item, by the vault.
SELECT count(*) AS reveals FROM voucher_reveals WHERE order_id = :delivered;

-- List: newest first, 10 by default, every field of reference 004.
SELECT page, per_page, total_count, total_pages, jsonb_array_length(items) AS n,
	   items -> 0 ->> 'id' = (SELECT max(id) FROM orders.orders WHERE client_id = 4401)::text AS newest_first
FROM list_orders(4401);
SELECT jsonb_pretty((items -> 0) - 'id' - 'reference_code' - 'transaction_id' - 'placed_at') AS last_order
FROM list_orders(4401, 1, 1);
SELECT items -> 0 -> 'mobile' AS mobile, items -> 1 -> 'mobile' AS no_mobile FROM list_orders(4401, 1, 2, p_status => 'pending');
-- Pages and their arithmetic.
SELECT p, l, page, per_page, total_count, total_pages, jsonb_array_length(items) AS n
FROM (VALUES (1, 7), (4, 7), (5, 7), (9, 7), (1, 100), (2, 100), (30, 1), (31, 1)) v(p, l),
	 LATERAL list_orders(4401, p, l);
-- Filters: status in any case, product, both.
SELECT s, pr, total_count, total_pages, jsonb_array_length(items) AS n
FROM (VALUES ('delivered', NULL::bigint), ('PENDING', NULL), ('Pending', 4402), (NULL, 4402),
			 ('processing', NULL), (NULL, 4499)) v(s, pr),
	 LATERAL list_orders(4401, 1, 100, s, pr);
-- Invalid parameters are clear errors.
SELECT pg_temp.try(q) FROM (VALUES
	('SELECT orders.list_orders(4401, 0)'),
	('SELECT orders.list_orders(4401, 1, 0)'),
	('SELECT orders.list_orders(4401, 1, 101)'),
	('SELECT orders.list_orders(4401, 1, 10, ''shipped'')'),
	('SELECT orders.list_orders(4401, 1, 10, NULL, 0)'),
	('SELECT orders.list_orders(4401, 1, 10, NULL, NULL, ''2030-01-02'', ''2030-01-01'')')
) v(q);
-- Another client sees none of them.
SELECT total_count, items FROM list_orders(4402);

-- A client with a history: orders placed a day apart, imported directly.
-- The list is in numbering order (client_seq, drawn without a lock), not
-- in placed_at order: an order imported last with an earlier time keeps
-- that time and lists first.
INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity, placed_at, status)
SELECT 4403, 'HIST-' || d, CASE WHEN d % 2 = 0 THEN 4401 ELSE 4402 END, 10, 1,
	   timestamptz '2030-01-01 00:00:00+00' + (d - 1) * interval '1 day', 'PLACED'
FROM generate_series(1, 40) d;
INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity, placed_at)
VALUES (4403, 'HIST-LATE', 4401, 10, 1, '2029-06-01 00:00:00+00');
SELECT po_number, placed_at FROM orders.orders WHERE client_id = 4403 ORDER BY client_seq DESC LIMIT 2;
SELECT (SELECT array_agg((e ->> 'id')::bigint) FROM jsonb_array_elements(items) e)
	   = ARRAY(SELECT id FROM orders.orders WHERE client_id = 4403 ORDER BY client_seq DESC LIMIT 2) AS newest_first
FROM list_orders(4403, 1, 2);
-- Every combination of page, limit, status, product and placed-at range
-- returns the rows (and totals) of the plain query, in its order.
CREATE TEMP TABLE cases AS
SELECT c.id AS client, p, l, s, pr, f, t
FROM (VALUES (4401), (4403)) c(id),
	 (VALUES (1), (2), (3), (7)) pg(p),
	 (VALUES (1), (3), (10)) lim(l),
	 (VALUES (NULL), ('PLACED'), ('PENDING'), ('DELIVERED')) st(s),
	 (VALUES (NULL::bigint), (4401), (4402)) prod(pr),
	 (VALUES (NULL::timestamptz, NULL::timestamptz),
			 ('2030-01-05 00:00:00+00', NULL),
			 (NULL, '2030-01-20 00:00:00+00'),
			 ('2030-01-05 12:00:00+00', '2030-01-08 00:00:00+00'),
			 ('2031-01-01 00:00:00+00', NULL)) r(f, t);
SELECT count(*) AS cases,
	   count(*) FILTER (WHERE got.ids IS NOT DISTINCT FROM want.ids
						AND got.total_count = want.total
						AND got.total_pages = (want.total + l - 1) / l) AS agree
FROM cases,
	 LATERAL (SELECT (SELECT array_agg((e ->> 'id')::bigint) FROM jsonb_array_elements(lo.items) e) AS ids,
					 lo.total_count, lo.total_pages
			  FROM list_orders(client, p, l, s, pr, f, t) lo) got,
	 LATERAL (SELECT (SELECT array_agg(id ORDER BY client_seq DESC)
					  FROM (SELECT id, client_seq FROM orders.orders o
							WHERE o.client_id = client AND (s IS NULL OR o.status = s)
							  AND (pr IS NULL OR o.product_id = pr)
							  AND (f IS NULL OR o.placed_at >= f) AND (t IS NULL OR o.placed_at < t)
							ORDER BY client_seq DESC OFFSET (p - 1) * l LIMIT l) x) AS ids,
					 (SELECT count(*) FROM orders.orders o
					  WHERE o.client_id = client AND (s IS NULL OR o.status = s)
						AND (pr IS NULL OR o.product_id = pr)
						AND (f IS NULL OR o.placed_at >= f) AND (t IS NULL OR o.placed_at < t)) AS total) want;
-- The po_number filter: the order with that poNumber (unique per client,
-- so 0 or 1), combined with every other filter and page, agrees with the
-- plain query; another client's poNumber matches nothing.
SELECT count(*) AS po_cases,
	   count(*) FILTER (WHERE got.ids IS NOT DISTINCT FROM want.ids AND got.total_count = want.total
						AND got.total_pages = want.total) AS agree,
	   count(*) FILTER (WHERE want.total = 1) AS cases_with_a_match
FROM (VALUES (4401), (4402), (4403)) c(client),
	 (VALUES ('READ-1'), ('READ-2'), ('READ-3'), ('HIST-7'), ('HIST-LATE'), ('NO-SUCH-PO')) po(po),
	 (VALUES (1), (2)) pg(p),
	 (VALUES (NULL), ('PLACED'), ('PENDING'), ('DELIVERED')) st(s),
	 (VALUES (NULL::bigint), (4401), (4402)) prod(pr),
	 (VALUES (NULL::timestamptz, NULL::timestamptz), ('2030-01-05 00:00:00+00', NULL),
			 (NULL, '2030-01-20 00:00:00+00')) r(f, t),
	 LATERAL (SELECT (SELECT array_agg((e ->> 'id')::bigint) FROM jsonb_array_elements(lo.items) e) AS ids,
					 lo.total_count, lo.total_pages
			  FROM list_orders(client, p, 1, s, pr, f, t, po) lo) got,
	 LATERAL (SELECT (SELECT array_agg(id) FROM orders.orders o
					  WHERE o.client_id = client AND o.po_number = po AND p = 1 AND (s IS NULL OR o.status = s)
						AND (pr IS NULL OR o.product_id = pr)
						AND (f IS NULL OR o.placed_at >= f) AND (t IS NULL OR o.placed_at < t)) AS ids,
					 (SELECT count(*) FROM orders.orders o
					  WHERE o.client_id = client AND o.po_number = po AND (s IS NULL OR o.status = s)
						AND (pr IS NULL OR o.product_id = pr)
						AND (f IS NULL OR o.placed_at >= f) AND (t IS NULL OR o.placed_at < t)) AS total) want;
SELECT total_count, total_pages, items -> 0 ->> 'id' = :'pending' AS the_order, items -> 0 ->> 'status' AS status
FROM list_orders(4401, p_po_number => 'READ-2');
-- A poNumber no order can have is an error naming the parameter: empty,
-- blank, over 100 characters, control characters.
SELECT left(v, 12) AS po, pg_temp.try(format('SELECT orders.list_orders(4401, p_po_number => %L)', v))
FROM (VALUES (''), ('   '), (repeat('x', 101)), (E'READ-1\n'), (E'READ\t1')) v(v);
SELECT total_count FROM list_orders(4401, p_po_number => repeat('x', 100));

-- The totals come from order_counts plus the deltas not rolled up yet,
-- which together match the orders; so do the rolled-up counters alone
-- after a roll-up, which leaves no delta behind.
CREATE FUNCTION pg_temp.counts_exact(p_clients bigint[])
RETURNS TABLE (counters bigint, exact bigint, pending_deltas bigint)
LANGUAGE sql AS $$
	SELECT count(*), count(*) FILTER (WHERE c.n = (SELECT count(*) FROM orders.orders o
			WHERE o.client_id = c.client_id AND o.product_id = c.product_id AND o.status = c.status)),
		   (SELECT count(*) FROM orders.order_count_deltas d WHERE d.client_id = ANY (p_clients))
	FROM (SELECT client_id, product_id, status, sum(n) AS n
		  FROM (SELECT client_id, product_id, status, n FROM order_counts
				UNION ALL
				SELECT client_id, product_id, status, n FROM order_count_deltas) x
		  WHERE client_id = ANY (p_clients) GROUP BY 1, 2, 3) c
$$;
SELECT counters, exact, pending_deltas > 0 AS pending FROM pg_temp.counts_exact('{4401, 4403}');
SELECT roll_up_order_counts() > 0 AS rolled_up;
SELECT * FROM pg_temp.counts_exact('{4401, 4403}');
SELECT count(*) AS counters, count(*) FILTER (WHERE c.n = (SELECT count(*) FROM orders.orders o
		WHERE o.client_id = c.client_id AND o.product_id = c.product_id AND o.status = c.status)) AS exact
FROM order_counts c WHERE c.client_id IN (4401, 4403);

-- Deep pages of a filtered list start from the block of order_count_blocks
-- holding their first row (docs/design.md, "Listing orders").  A client
-- with 4,200 orders (five blocks of 1,024), whose statuses then move in
-- statements that span every block.
SELECT orders.order_block_size() AS block_size;
INSERT INTO clients (id, name) OVERRIDING SYSTEM VALUE VALUES (4404, 'read client deep');
-- Its numbers start one past a block boundary (client_seq is the id): the
-- same blocks whatever ran before.
SELECT setval('orders.orders_id_seq', (last_value / orders.order_block_size() + 1) * orders.order_block_size()) > 0 AS aligned
FROM orders.orders_id_seq;
-- (without their creation records, which this test does not read: faster)
BEGIN;
ALTER TABLE orders.orders DISABLE TRIGGER lifecycle_record;
INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity, placed_at)
SELECT 4404, 'DEEP-' || g, CASE WHEN g % 4 = 0 THEN 4402 ELSE 4401 END, 10, 1,
	   timestamptz '2030-01-01 00:00:00+00' + g * interval '1 hour'
FROM generate_series(1, 4200) g;
-- (g, the row's number in the load: its client_seq less the offset)
UPDATE orders.orders SET status = 'PENDING'
WHERE client_id = 4404 AND split_part(po_number, '-', 2)::integer % 3 <> 0;
UPDATE orders.orders SET status = 'DELIVERED', sub_status = 'COMPLETED'
WHERE client_id = 4404 AND status = 'PENDING' AND split_part(po_number, '-', 2)::integer % 7 <> 0;
UPDATE orders.orders SET status = 'FAILED', sub_status = 'REFUNDED'
WHERE client_id = 4404 AND status = 'PLACED' AND split_part(po_number, '-', 2)::integer BETWEEN 1500 AND 2600;
UPDATE orders.orders SET tag = 'untouched status'
WHERE client_id = 4404 AND split_part(po_number, '-', 2)::integer % 10 = 0;
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER lifecycle_record;
COMMIT;
SELECT status, product_id, count(*), count(DISTINCT client_seq / orders.order_block_size()) AS blocks
FROM orders.orders WHERE client_id = 4404 GROUP BY status, product_id ORDER BY status, product_id;
-- The counters per block (rolled up plus pending) match the orders exactly
-- (and add up to the totals).
CREATE FUNCTION pg_temp.blocks_exact(p_client bigint)
RETURNS TABLE (counters bigint, wrong bigint, totals_agree boolean)
LANGUAGE sql AS $$
	SELECT count(got.n), count(*) FILTER (WHERE coalesce(got.n, 0) <> coalesce(want.n, 0)),
		   (SELECT sum(n) FROM orders.order_count_blocks WHERE client_id = p_client)
		   = (SELECT sum(n) FROM orders.order_counts WHERE client_id = p_client)
	FROM (SELECT c.product_id, c.status, c.block, sum(c.n) AS n
		  FROM (SELECT product_id, status, block, n FROM orders.order_count_blocks
				WHERE client_id = p_client
				UNION ALL
				SELECT product_id, status, block, n FROM orders.order_count_deltas
				WHERE client_id = p_client) c
		  GROUP BY 1, 2, 3 HAVING sum(c.n) <> 0) got
	FULL JOIN (SELECT o.product_id, o.status, o.client_seq / orders.order_block_size() AS block, count(*) AS n
			   FROM orders.orders o WHERE o.client_id = p_client GROUP BY 1, 2, 3) want
		USING (product_id, status, block)
$$;
SELECT roll_up_order_counts() > 0 AS rolled_up;
SELECT * FROM pg_temp.blocks_exact(4404);
SELECT * FROM pg_temp.blocks_exact(4401);
-- Deleted orders leave their blocks too (orders with events cannot be
-- deleted: new orders without them, deleted in the same transaction).
BEGIN;
ALTER TABLE orders.orders DISABLE TRIGGER lifecycle_record;
INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity)
SELECT 4404, 'DEEP-GONE-' || g, 4402, 10, 1 FROM generate_series(1, 200) g;
DELETE FROM orders.orders WHERE client_id = 4404 AND po_number LIKE 'DEEP-GONE-%'
	AND split_part(po_number, '-', 3)::integer % 2 = 0;
SELECT * FROM pg_temp.blocks_exact(4404);
ROLLBACK;
-- Every page of each filter shape agrees with the plain query: pages
-- across the whole list, and with limit 1 the rows on both sides of each
-- block boundary of the filter.
CREATE TEMP TABLE deep_filters AS
SELECT s, pr, f.ids, f.seqs
FROM (VALUES (NULL), ('PLACED'), ('PENDING'), ('DELIVERED'), ('FAILED')) st(s),
	 (VALUES (NULL::bigint), (4401), (4402)) prod(pr),
	 LATERAL (SELECT coalesce(array_agg(o.id ORDER BY o.client_seq DESC), '{}') AS ids,
					 coalesce(array_agg(o.client_seq ORDER BY o.client_seq DESC), '{}') AS seqs
			  FROM orders.orders o WHERE o.client_id = 4404 AND (s IS NULL OR o.status = s)
				AND (pr IS NULL OR o.product_id = pr)) f;
CREATE TEMP TABLE deep_cases AS
SELECT s, pr, ids, p, l
FROM deep_filters,
	 LATERAL (SELECT p, 7 FROM generate_series(1, cardinality(ids) / 7 + 2, 29) p
			  UNION ALL SELECT p, 100 FROM generate_series(1, cardinality(ids) / 100 + 2, 3) p
			  UNION ALL
			  SELECT DISTINCT (newer.n + d)::integer, 1
			  FROM (SELECT min(client_seq) / orders.order_block_size() + k
					FROM orders.orders, generate_series(0, 4) k WHERE client_id = 4404 GROUP BY k) b(b),
				   LATERAL (SELECT count(*) AS n FROM unnest(seqs) q
							WHERE q >= b * orders.order_block_size()) newer,
				   generate_series(-1, 1) d
			  WHERE newer.n + d >= 1) pl(p, l);
SELECT count(*) AS cases,
	   count(*) FILTER (WHERE got.page_ids = ids[(p - 1) * l + 1 : p * l]
						AND got.total_count = cardinality(ids)
						AND got.total_pages = (cardinality(ids) + l - 1) / l) AS agree,
	   count(*) FILTER (WHERE (p - 1) * l >= cardinality(ids)) AS empty_pages,
	   count(*) FILTER (WHERE l = 1 AND p > orders.order_block_size()) AS beyond_a_block
FROM deep_cases,
	 LATERAL (SELECT coalesce((SELECT array_agg((e ->> 'id')::bigint) FROM jsonb_array_elements(lo.items) e), '{}') AS page_ids,
					 lo.total_count, lo.total_pages
			  FROM list_orders(4404, p, l, s, pr) lo) got;
-- A deep page reads at most a block of index entries of the orders (plus
-- the page's own), not the 1,490 matching rows before page 150 of 10: the
-- index entries and rows (of sequential scans) of the orders read by this
-- transaction, per filter shape.  Vacuumed first: the index entries of the
-- versions the status moves left behind would count as reads until then.
VACUUM ANALYZE orders.orders;
BEGIN;
CREATE FUNCTION pg_temp.orders_reads() RETURNS bigint LANGUAGE sql AS $$
	SELECT sum(pg_stat_get_xact_tuples_returned(r))::bigint
	FROM (SELECT 'orders.orders'::regclass::oid
		  UNION ALL SELECT i.indexrelid FROM pg_index i WHERE i.indrelid = 'orders.orders'::regclass) x(r)
$$;
CREATE FUNCTION pg_temp.page_reads(p_page integer, p_status text, p_product bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	before bigint := pg_temp.orders_reads();
	total bigint;
BEGIN
	SELECT lo.total_count INTO total FROM orders.list_orders(4404, p_page, 10, p_status, p_product) lo;
	RETURN pg_temp.orders_reads() - before;
END
$$;
SELECT s, pr, pg_temp.page_reads(150, s, pr) <= orders.order_block_size() + 3 * 10 AS within_a_block
FROM (VALUES (NULL, NULL::bigint), ('DELIVERED', NULL), (NULL, 4401), ('DELIVERED', 4401)) v(s, pr);
COMMIT;

-- The po_number filter is answered from the unique index on (client_id,
-- po_number): a lookup reads a row or two of orders.orders, not the
-- client's thousands of orders (pg_stat's tuples returned by the table and
-- its indexes), whatever the other filters.
BEGIN;
CREATE FUNCTION pg_temp.po_lookup_reads(p_po text, p_status text, p_from timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	before bigint := pg_temp.orders_reads();
	total bigint;
BEGIN
	SELECT lo.total_count INTO total
	FROM orders.list_orders(4404, p_status => p_status, p_placed_from => p_from, p_po_number => p_po) lo;
	RETURN pg_temp.orders_reads() - before;
END
$$;
SELECT po, s, f, pg_temp.po_lookup_reads(po, s, f) <= 3 AS reads_at_most_3
FROM (VALUES ('DEEP-77', NULL, NULL::timestamptz), ('DEEP-77', 'DELIVERED', '2000-01-01Z'), ('NO-SUCH-PO', NULL, NULL)) v(po, s, f);
COMMIT;
-- The lookup's plan (list_orders' statement, with a status and a range).
EXPLAIN (COSTS OFF)
WITH by_po AS MATERIALIZED (
	SELECT o.client_seq, o.status, o.product_id, o.placed_at FROM orders.orders o
	WHERE o.client_id = 4404 AND o.po_number = 'DEEP-77')
SELECT array_agg(o.client_seq) FROM by_po o
WHERE o.placed_at >= '2000-01-01Z' AND o.status = 'DELIVERED';

-- The JSON helpers are inlined into the statements that use them: no SET
-- clause, fully qualified bodies, honest volatility (docs/design.md, "SQL
-- helpers are inlined").  A helper that is not inlined is called, parsed and
-- planned again at every execution of its caller's statement.
CREATE FUNCTION pg_temp.plan_lines(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
		RETURN NEXT line;
	END LOOP;
END
$$;
SELECT h.helper, count(*) FILTER (WHERE l ~ ('\m' || h.helper || '\(')) AS calls_left_in_plan
FROM (VALUES ('order_list_item', 'SELECT orders.order_list_item(o, p) FROM orders.orders o JOIN orders.products p ON p.id = o.product_id'),
			 ('order_common_json', 'SELECT orders.order_common_json(o) FROM orders.orders o'),
			 ('money_text', 'SELECT orders.money_text(o.amount_charged) FROM orders.orders o'),
			 ('exact_amount', 'SELECT orders.exact_amount(o.amount_charged) FROM orders.orders o'),
			 ('rfc3339', 'SELECT orders.rfc3339(o.placed_at) FROM orders.orders o'),
			 ('status_event', 'SELECT orders.status_event(o.status) FROM orders.orders o'),
			 ('undelivered_refund', 'SELECT orders.undelivered_refund(o.amount_charged, o.quantity, 1) FROM orders.orders o'),
			 ('charge_json', 'SELECT orders.charge_json(NULL::orders.charge)'),
			 -- the control: SECURITY DEFINER, so never inlined (1)
			 ('delivery_time', 'SELECT orders.delivery_time(o.product_id, o.denomination) FROM orders.orders o')) h(helper, q),
	 pg_temp.plan_lines(h.q) l
GROUP BY h.helper ORDER BY h.helper;
