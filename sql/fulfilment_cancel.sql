-- Fulfilment: cancellation and the admin actions.  A client (through the
-- API layer) or an admin cancels an order while nothing of it is
-- delivered: CANCELLED, its job and items cancelled, a full refund once.
-- After a delivery a cancel is refused.  An admin releases orders waiting
-- for action: over the bulk limit (approved: inventory now, else the vendor
-- queue) or waiting for a retry (retried now).
\set suite 'fulfilment cancel'
\set funds 300
\i sql/fulfilment_helpers.psql
INSERT INTO clients (name) VALUES ('fulfilment cancel other client') RETURNING id AS other \gset
SELECT pg_temp.products('[{"id": 6301, "name": "Cancel Card", "denominations": [10, 20], "limit": 50}]');
-- Loads n units of 6301 / denomination (codes generated, never printed).
CREATE FUNCTION pg_temp.stock(n integer, denom numeric) RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM orders.load_inventory((
		SELECT jsonb_agg(v || jsonb_build_object('product_id', 6301, 'denomination', denom))
		FROM jsonb_array_elements(orders.sandbox_vouchers(-6301, (random() * 1e9)::integer, n)) v))
$$;

-- A waiting order cancelled by its client: CANCELLED / REFUNDED.
SELECT pg_temp.place(:client, 6301, 2, 10, 'c-1') AS o1 \gset
SELECT pg_temp.answer(cancel_order(:client, :o1, 'changed my mind'));
SELECT status FROM vendor_jobs WHERE order_id = :o1;
SELECT * FROM pg_temp.ledger(:o1);
SELECT * FROM pg_temp.history(:o1) OFFSET 3;
SELECT seq, event FROM order_events WHERE order_id = :o1 ORDER BY seq;
-- Refused: again, by another client, unknown order, without a reason.
SELECT pg_temp.try(format($$SELECT orders.cancel_order(%s, %s)$$, :client, :o1));
SELECT pg_temp.try(format($$SELECT orders.cancel_order(%s, %s)$$, :other, :o1));
SELECT pg_temp.try(format($$SELECT orders.cancel_order(%s, -1)$$, :client));
SELECT pg_temp.try(format($$SELECT orders.cancel_order(%s, %s, '')$$, :client, :o1));
SELECT pg_temp.try(format($$SELECT orders.cancel_order(NULL, %s)$$, :o1));
SELECT count(*) AS refunds FROM ledger_entries WHERE order_id = :o1 AND kind = 'REFUND';

-- Delivered from inventory (INSTANT): a cancel is refused, nothing moves.
SELECT pg_temp.stock(1, 20);
SELECT pg_temp.place(:client, 6301, 1, 20, 'c-2') AS o2 \gset
SELECT pg_temp.state(:o2);
SELECT pg_temp.try(format($$SELECT orders.cancel_order(%s, %s)$$, :client, :o2));
SELECT pg_temp.try(format($$SELECT orders.admin_cancel_order(%s, 'admin')$$, :o2));
SELECT pg_temp.state(:o2);

-- Cancelled while the vendor works on it: the vendor's later reports are
-- refused (its lease ended with the cancel); the money came back once.
SELECT pg_temp.place(:client, 6301, 3, 10, 'c-3') AS o3 \gset
SELECT job_id AS j3, lease_token AS t3 FROM claim_vendor_jobs('cw', 10, '{6301}') \gset
SELECT pg_temp.answer(report_vendor_order_created(:j3, :'t3', 'VND-C3'));
SELECT pg_temp.answer(cancel_order(:client, :o3, 'too slow'));
SELECT pg_temp.try(format($$SELECT orders.report_vouchers_fetched(%s, %L, orders.sandbox_vouchers(%s, 1, 3))$$, :j3, :'t3', :j3));
SELECT pg_temp.try(format($$SELECT orders.report_vendor_failure(%s, %L, true, 'x')$$, :j3, :'t3'));
SELECT outcome, detail FROM vendor_job_attempts WHERE job_id = :j3;
SELECT * FROM pg_temp.ledger(:o3);

-- An admin cancels any client's order.
SELECT fund_wallet(:other, 'USD', 10) IS NOT NULL AS funded;
SELECT pg_temp.place(:other, 6301, 1, 10, 'c-4') AS o4 \gset
SELECT pg_temp.answer(admin_cancel_order(:o4, 'duplicate order, client asked by phone'));
SELECT balance FROM wallets WHERE client_id = :other;

-- Orders waiting for action.  Nothing in order creation sets
-- BULK_LIMIT_EXCEEDED yet, so this one is set up as its creator would:
-- debited, PENDING / BULK_LIMIT_EXCEEDED, no vendor job.
CREATE FUNCTION pg_temp.bulk_order(po text, qty integer, denom numeric) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	o bigint;
	c bigint := (SELECT id FROM orders.clients WHERE name = 'fulfilment cancel client');
BEGIN
	INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity, amount_charged)
	VALUES (c, po, 6301, denom, qty, qty * denom) RETURNING id INTO o;
	INSERT INTO orders.order_items (client_id, order_id) SELECT c, o FROM generate_series(1, qty);
	INSERT INTO orders.ledger_entries (client_id, wallet_id, kind, amount, order_id)
	VALUES (c, orders.open_wallet(c, 'USD'), 'DEBIT', -qty * denom, o);
	UPDATE orders.orders SET status = 'PENDING', sub_status = 'BULK_LIMIT_EXCEEDED' WHERE id = o;
	RETURN o;
END
$$;
SELECT pg_temp.bulk_order('c-5', 2, 20) AS o5 \gset
SELECT pg_temp.bulk_order('c-6', 3, 20) AS o6 \gset
SELECT pg_temp.place(:client, 6301, 1, 10, 'c-7') AS o7 \gset
SELECT job_id AS j7, lease_token AS t7 FROM claim_vendor_jobs('cw', 10, '{6301}') \gset
SELECT pg_temp.answer(report_vendor_failure(:j7, :'t7', false, 'vendor busy'));
SELECT order_id = :o5 AS o5, order_id = :o6 AS o6, order_id = :o7 AS o7, sub_status, job_status, attempts
FROM orders_awaiting_action WHERE product_id = 6301 ORDER BY order_id;
-- Approved with enough stock: delivered from inventory now.
SELECT pg_temp.stock(2, 20);
SELECT pg_temp.answer(admin_release_order(:o5, 'approved by finance'));
-- Approved without enough stock: to the vendor queue.
SELECT pg_temp.answer(admin_release_order(:o6, 'approved by finance'));
SELECT status, attempts FROM vendor_jobs WHERE order_id = :o6;
SELECT * FROM pg_temp.history(:o6) OFFSET 2;
-- Waiting for a retry: retried now.
SELECT count(*) AS claimable_before FROM claim_vendor_jobs('cw', 10, '{6301}') WHERE order_id = :o7;
SELECT pg_temp.answer(admin_release_order(:o7, 'vendor is back'));
SELECT last_error FROM vendor_jobs WHERE order_id = :o7;
SELECT order_id = :o7 AS o7, attempt FROM claim_vendor_jobs('cw', 10, '{6301}') ORDER BY order_id;
-- Refused: not waiting (delivered), its job held by a vendor, unknown.
SELECT pg_temp.try(format($$SELECT orders.admin_release_order(%s, 'x')$$, :o5));
SELECT pg_temp.try(format($$SELECT orders.admin_release_order(%s, 'x')$$, :o7));
SELECT pg_temp.try($$SELECT orders.admin_release_order(-1, 'x')$$);
SELECT pg_temp.try(format($$SELECT orders.admin_release_order(%s, NULL)$$, :o7));
-- Cancelling the rest: held jobs too.
SELECT pg_temp.answer(admin_cancel_order(:o6, 'customer withdrew'));
SELECT pg_temp.answer(admin_cancel_order(:o7, 'customer withdrew'));
SELECT count(*) AS waiting FROM orders_awaiting_action WHERE product_id = 6301;

-- Who may do what: the admin role releases and cancels; the API role may
-- not call the internal client cancel (the API layer does, as owner).
SELECT pg_temp.place(:client, 6301, 1, 10, 'c-8') AS o8 \gset
SET ROLE orders_admin;
SELECT count(*) AS visible FROM orders.orders_awaiting_action WHERE order_id = :o8;
SELECT pg_temp.answer(orders.admin_cancel_order(:o8, 'by the admin role'));
SELECT pg_temp.try(format($$SELECT orders.cancel_order(%s, %s)$$, :client, :o8));
RESET ROLE;
SET ROLE orders_api;
SELECT pg_temp.try(format($$SELECT orders.cancel_order(%s, %s)$$, :client, :o8));
SELECT pg_temp.try(format($$SELECT orders.admin_cancel_order(%s, 'x')$$, :o8));
RESET ROLE;

-- Money adds up: only the delivered orders are paid for.
SELECT o.po_number, o.status, o.sub_status, sum(e.amount) AS net
FROM orders.orders o JOIN ledger_entries e ON e.order_id = o.id
WHERE o.client_id IN (:client, :other) GROUP BY o.id ORDER BY o.po_number;
SELECT client_id = :client AS first_client, balance FROM wallets
WHERE client_id IN (:client, :other) ORDER BY client_id;
SELECT * FROM verify_ledger();
