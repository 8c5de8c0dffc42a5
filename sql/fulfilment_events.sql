-- Fulfilment: the events outbox.  Every change of an order's status, and
-- its refund, appends a row in the same transaction, numbered per order;
-- readers take the unacknowledged rows in order and acknowledge them, in
-- seq order per order.  The rows never change otherwise.  No NOTIFY in the
-- order's transaction: maintenance announces new events after commit
-- (below; the NOTIFY itself is checked by test/t/050_fulfilment_worker.pl).
\set suite 'fulfilment events'
\set funds 100
\i sql/fulfilment_helpers.psql
SELECT pg_temp.products('[{"id": 6601, "name": "Events Card", "denominations": [10], "limit": 5}]');
-- The unacknowledged events of this suite's orders.
CREATE FUNCTION pg_temp.pending_events() RETURNS TABLE (o text, seq integer, event text, status text, sub_status text)
LANGUAGE sql AS $$
	SELECT o.po_number, e.seq, e.event, e.status::text, e.sub_status::text
	FROM orders.unacknowledged_events(10000) e JOIN orders.orders o ON o.id = e.order_id
	WHERE o.product_id = 6601 ORDER BY e.id
$$;

-- Two orders: one cancelled (refunded), one failed by its vendor.
SELECT pg_temp.place(:client, 6601, 1, 10, 'e-1') AS o1 \gset
SELECT pg_temp.place(:client, 6601, 2, 10, 'e-2') AS o2 \gset
SELECT pg_temp.answer(cancel_order(:client, :o1, 'test'));
SELECT job_id AS j2, lease_token AS t2 FROM claim_vendor_jobs('ew', 10, '{6601}') \gset
SELECT pg_temp.answer(report_vendor_order_created(:j2, :'t2', 'VND-E2'));
SELECT pg_temp.answer(report_vendor_failure(:j2, :'t2', true, 'rejected'));
-- In the order they happened, each order numbered from 1.
SELECT * FROM pg_temp.pending_events();
-- A change that is not a status change (nor a refund) writes nothing.
SELECT count(*) AS events FROM order_events WHERE order_id = :o2 \gset
UPDATE orders.orders SET updated_at = now() WHERE id = :o2;
SELECT count(*) - :events AS new_events FROM order_events WHERE order_id = :o2;
-- Written in the same transaction: a rolled-back change leaves none.
BEGIN;
SELECT pg_temp.place(:client, 6601, 1, 10, 'e-3') AS o3 \gset
SELECT count(*) AS inside FROM order_events WHERE order_id = :o3;
ROLLBACK;
SELECT count(*) AS after_rollback FROM order_events WHERE order_id = :o3;

-- Acknowledging: in seq order per order, or together; a repeat is a no-op.
SELECT array_agg(id ORDER BY seq) AS e1 FROM order_events WHERE order_id = :o1 \gset
SELECT array_agg(id ORDER BY seq) AS e2 FROM order_events WHERE order_id = :o2 \gset
SELECT pg_temp.try(format($$SELECT orders.acknowledge_events(ARRAY[%s])$$, (:'e1'::bigint[])[2]));
SELECT acknowledge_events(ARRAY[(:'e1'::bigint[])[1]]) AS acked;
SELECT acknowledge_events((:'e1'::bigint[])[2:4]) AS acked;
SELECT acknowledge_events((:'e1'::bigint[])[2:4]) AS acked_again;
SELECT acknowledge_events(:'e2'::bigint[]) AS acked;
SELECT count(*) AS left FROM pg_temp.pending_events();
SELECT pg_temp.try($$SELECT orders.acknowledge_events(ARRAY[-1])$$);
SELECT pg_temp.try($$SELECT orders.acknowledge_events('{}')$$);
SELECT pg_temp.try($$SELECT count(*) FROM orders.unacknowledged_events(0)$$);
SELECT pg_temp.try($$SELECT count(*) FROM orders.unacknowledged_events(10001)$$);

-- Append-only: no rewrite, no second acknowledgement, no delete.
SELECT pg_temp.try(format($$UPDATE orders.order_events SET event = 'order.delivered' WHERE id = %s RETURNING 1$$, (:'e2'::bigint[])[1]));
SELECT pg_temp.try(format($$UPDATE orders.order_events SET acknowledged_at = now() WHERE id = %s RETURNING 1$$, (:'e2'::bigint[])[1]));
SELECT pg_temp.try(format($$DELETE FROM orders.order_events WHERE id = %s RETURNING 1$$, (:'e2'::bigint[])[1]));
SELECT pg_temp.try($$TRUNCATE orders.order_events$$);
SELECT pg_temp.try(format($$INSERT INTO orders.order_events (client_id, order_id, seq, event, status, sub_status)
	VALUES (%s, %s, 3, 'order.shipped', 'PENDING', 'INITIAL') RETURNING 1$$, :client, :o2));
SELECT pg_temp.try(format($$INSERT INTO orders.order_events (client_id, order_id, seq, event, status, sub_status)
	VALUES (%s, %s, 1, 'order.pending', 'PENDING', 'INITIAL') RETURNING 1$$, :client, :o2));

-- Any status change writes its event, a superuser's ad-hoc UPDATE too.
SELECT pg_temp.place(:client, 6601, 1, 10, 'e-4') AS o4 \gset
UPDATE orders.orders SET status = 'FAILED', sub_status = 'NOT_REFUNDED' WHERE id = :o4;
SELECT * FROM pg_temp.pending_events();

-- The admin role reads and acknowledges; the API and vendor roles do not.
SET ROLE orders_admin;
SELECT count(*) > 0 AS admin_reads FROM orders.unacknowledged_events(10);
RESET ROLE;
SET ROLE orders_api;
SELECT pg_temp.try($$SELECT count(*) FROM orders.unacknowledged_events(10)$$);
RESET ROLE;
SET ROLE orders_vendor;
SELECT pg_temp.try($$SELECT orders.acknowledge_events(ARRAY[1])$$);
RESET ROLE;

-- Announcing: a maintenance round sends one NOTIFY orders_events when the
-- newest unacknowledged event is not the one it announced last, and none
-- when nothing changed.
SELECT run_maintenance() IS NOT NULL AS caught_up;
SELECT run_maintenance()->'events_announced' AS nothing_new;
SELECT pg_temp.place(:client, 6601, 1, 10, 'e-announced') AS oa \gset
SELECT (run_maintenance()->>'events_announced')::bigint
	= (SELECT max(id) FROM order_events WHERE order_id = :oa) AS announced_the_new_order;
SELECT last_event_id = (SELECT max(id) FROM order_events WHERE order_id = :oa) AS remembered
FROM orders.outbox_announcement;
SELECT run_maintenance()->'events_announced' AS nothing_new;
