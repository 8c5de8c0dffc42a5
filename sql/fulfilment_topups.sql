-- Fulfilment: mobile top-ups.  A top-up order has one recharge per item;
-- the operator side claims its job, submits each recharge (PENDING ->
-- DELIVERED) and answers later, per recharge, RECHARGED (the item is
-- delivered) or FAILED (the item fails; refunded when the order ends).
-- Top-up orders never carry vouchers; voucherDetails tells each recharge.
\set suite 'fulfilment topup'
\set funds 200
\i sql/fulfilment_helpers.psql
SELECT pg_temp.products('[{"id": 6401, "name": "Topup Mobile", "kind": "TOPUP", "denominations": [5, 10], "limit": 3}]');
-- The recharges of an order, in item order.
CREATE FUNCTION pg_temp.recharges(order_id bigint) RETURNS bigint[] LANGUAGE sql AS $$
	SELECT array_agg(r.id ORDER BY r.id) FROM orders.recharges r
	JOIN orders.order_items i ON i.id = r.order_item_id WHERE i.order_id = recharges.order_id
$$;
CREATE FUNCTION pg_temp.recharge_states(order_id bigint) RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(format('%s/%s', r.status, i.status), ', ' ORDER BY r.id)
	FROM orders.recharges r JOIN orders.order_items i ON i.id = r.order_item_id
	WHERE i.order_id = recharge_states.order_id
$$;
-- What the client sees (reference 003 / 002): vouchers and voucherDetails.
CREATE FUNCTION pg_temp.seen(order_id bigint) RETURNS text LANGUAGE sql AS $$
	SELECT format('%s %s vouchers %s details %s', d->>'orderStatus', d->>'deliveryStatus',
				  d->'vouchers', (SELECT jsonb_agg(e->>'productStatus') FROM jsonb_array_elements(d->'voucherDetails') e))
	FROM (SELECT orders.place_order_response(order_id) #> '{data,placeOrder,data}' AS d) r
$$;

-- The whole life of a top-up: submitted, then confirmed.
SELECT pg_temp.place(:client, 6401, 1, 10, 't-1', '9876543210') AS o1 \gset
SELECT pg_temp.state(:o1), pg_temp.recharge_states(:o1), pg_temp.seen(:o1);
SELECT pg_temp.recharges(:o1) AS r1 \gset
SELECT job_id AS j1, lease_token AS t1, kind, items, cardinality(recharge_ids) AS recharges,
	   recharge_ids = :'r1' AS same_recharges, phone_code, phone_number
FROM claim_vendor_jobs('operator', 10, '{6401}') \gset
SELECT :'kind' AS kind, :items AS items, :recharges AS recharges, :'same_recharges' AS same_recharges,
	   :'phone_code' AS phone_code, :'phone_number' AS phone_number;
SELECT pg_temp.answer(report_recharge_submitted(:j1, :'t1', (:'r1'::bigint[])[1], 'OP-1'));
SELECT status AS job_status FROM vendor_jobs WHERE id = :j1;
SELECT pg_temp.answer(report_recharge_submitted(:j1, :'t1', (:'r1'::bigint[])[1], 'OP-1'));
SELECT pg_temp.seen(:o1);
SELECT pg_temp.answer(report_recharge_result((:'r1'::bigint[])[1], 'OP-1', 'recharged'));
SELECT pg_temp.answer(report_recharge_result((:'r1'::bigint[])[1], 'OP-1', 'RECHARGED'));
SELECT pg_temp.try(format($$SELECT orders.report_recharge_result(%s, 'OP-1', 'FAILED')$$, (:'r1'::bigint[])[1]));
SELECT pg_temp.state(:o1), pg_temp.recharge_states(:o1), pg_temp.seen(:o1);
SELECT jsonb_array_length(order_details(:client, :o1)->'vouchers') AS details_vouchers;
SELECT * FROM pg_temp.history(:o1) OFFSET 3;
SELECT seq, event FROM order_events WHERE order_id = :o1 ORDER BY seq;
SELECT operator_reference FROM recharges WHERE id = (:'r1'::bigint[])[1];

-- A failed top-up: the operator rejects the recharge; FAILED, refunded.
SELECT pg_temp.place(:client, 6401, 1, 5, 't-2', '9876543211') AS o2 \gset
SELECT pg_temp.recharges(:o2) AS r2 \gset
SELECT job_id AS j2, lease_token AS t2 FROM claim_vendor_jobs('operator', 10, '{6401}') \gset
SELECT pg_temp.answer(report_recharge_submitted(:j2, :'t2', (:'r2'::bigint[])[1], 'OP-2'));
SELECT pg_temp.answer(report_recharge_result((:'r2'::bigint[])[1], 'OP-2', 'failed', 'number not rechargeable'));
SELECT pg_temp.state(:o2), pg_temp.recharge_states(:o2), pg_temp.seen(:o2);
SELECT * FROM pg_temp.ledger(:o2);
SELECT * FROM pg_temp.history(:o2) OFFSET 3;
SELECT seq, event FROM order_events WHERE order_id = :o2 ORDER BY seq;
SELECT pg_temp.try(format($$SELECT orders.report_recharge_result(%s, 'OP-2', 'RECHARGED')$$, (:'r2'::bigint[])[1]));

-- Two recharges: one confirmed, the other still with the operator
-- (PARTIALLY_DELIVERED / PARTIAL), then rejected: half refunded.
SELECT pg_temp.place(:client, 6401, 2, 10, 't-3', '9876543212') AS o3 \gset
SELECT pg_temp.recharges(:o3) AS r3 \gset
SELECT job_id AS j3, lease_token AS t3 FROM claim_vendor_jobs('operator', 10, '{6401}') \gset
SELECT pg_temp.answer(report_recharge_submitted(:j3, :'t3', (:'r3'::bigint[])[1], 'OP-3a'));
SELECT status AS job_status FROM vendor_jobs WHERE id = :j3;
SELECT pg_temp.answer(report_recharge_submitted(:j3, :'t3', (:'r3'::bigint[])[2], 'OP-3b'));
SELECT status AS job_status FROM vendor_jobs WHERE id = :j3;
SELECT pg_temp.answer(report_recharge_result((:'r3'::bigint[])[1], 'OP-3a', 'RECHARGED'));
SELECT pg_temp.seen(:o3);
SELECT pg_temp.answer(report_recharge_result((:'r3'::bigint[])[2], 'OP-3b', 'FAILED'));
SELECT pg_temp.state(:o3), pg_temp.recharge_states(:o3);
SELECT * FROM pg_temp.ledger(:o3);

-- A lease lost between two submissions: the submitted recharge waits for
-- its answer, the other one is claimed again alone.
SELECT pg_temp.place(:client, 6401, 2, 5, 't-4', '9876543213') AS o4 \gset
SELECT pg_temp.recharges(:o4) AS r4 \gset
SELECT job_id AS j4, lease_token AS t4 FROM claim_vendor_jobs('operator', 10, '{6401}') \gset
SELECT pg_temp.answer(report_recharge_submitted(:j4, :'t4', (:'r4'::bigint[])[1], 'OP-4a'));
SELECT pg_temp.lease_runs_out(:o4);
SELECT pg_temp.try(format($$SELECT orders.report_recharge_submitted(%s, %L, %s, 'OP-4b')$$, :j4, :'t4', (:'r4'::bigint[])[2]));
SELECT (run_maintenance()->>'leases_recovered')::integer >= 1 AS recovered;
SELECT pg_temp.state(:o4), pg_temp.recharge_states(:o4);
SELECT pg_temp.retry_due(:o4);
SELECT job_id AS j4, lease_token AS t4b, items, recharge_ids = ARRAY[(:'r4'::bigint[])[2]] AS the_other
FROM claim_vendor_jobs('operator', 10, '{6401}') \gset
SELECT :items AS items, :'the_other' AS the_other;
SELECT pg_temp.answer(report_recharge_submitted(:j4, :'t4b', (:'r4'::bigint[])[2], 'OP-4b'));
SELECT pg_temp.answer(report_recharge_result((:'r4'::bigint[])[2], 'OP-4b', 'RECHARGED'));
SELECT pg_temp.answer(report_recharge_result((:'r4'::bigint[])[1], 'OP-4a', 'RECHARGED'));

-- Refused reports.
SELECT pg_temp.place(:client, 6401, 1, 5, 't-5', '9876543214') AS o5 \gset
SELECT pg_temp.recharges(:o5) AS r5 \gset
SELECT job_id AS j5, lease_token AS t5 FROM claim_vendor_jobs('operator', 10, '{6401}') \gset
SELECT pg_temp.try(format($$SELECT orders.report_recharge_result(%s, 'OP-5', 'RECHARGED')$$, (:'r5'::bigint[])[1]));
SELECT pg_temp.try(format($$SELECT orders.report_recharge_submitted(%s, %L, %s, 'OP-5')$$, :j5, :'t5', (:'r1'::bigint[])[1]));
SELECT pg_temp.try(format($$SELECT orders.report_recharge_submitted(%s, %L, %s, '')$$, :j5, :'t5', (:'r5'::bigint[])[1]));
SELECT pg_temp.try(format($$SELECT orders.report_recharge_submitted(%s, gen_random_uuid(), %s, 'OP-5')$$, :j5, (:'r5'::bigint[])[1]));
SELECT pg_temp.answer(report_recharge_submitted(:j5, :'t5', (:'r5'::bigint[])[1], 'OP-5'));
SELECT pg_temp.try(format($$SELECT orders.report_recharge_result(%s, 'OP-X', 'RECHARGED')$$, (:'r5'::bigint[])[1]));
SELECT pg_temp.try(format($$SELECT orders.report_recharge_result(%s, 'OP-5', 'PENDING')$$, (:'r5'::bigint[])[1]));
SELECT pg_temp.try(format($$SELECT orders.report_recharge_result(%s, 'OP-5', 'CANCELLED')$$, (:'r5'::bigint[])[1]));
SELECT pg_temp.try($$SELECT orders.report_recharge_result(-1, 'OP-5', 'RECHARGED')$$);
SELECT pg_temp.try(format($$SELECT orders.report_recharge_result(%s, 'OP-5', 'RECHARGED', repeat('x', 501))$$, (:'r5'::bigint[])[1]));
-- Submitted: too late to cancel.
SELECT pg_temp.try(format($$SELECT orders.cancel_order(%s, %s)$$, :client, :o5));
SELECT pg_temp.answer(report_recharge_result((:'r5'::bigint[])[1], 'OP-5', 'RECHARGED'));

-- Cancelled before submission: the recharge is CANCELLED, the order refunded.
SELECT pg_temp.place(:client, 6401, 1, 5, 't-6', '9876543215') AS o6 \gset
SELECT pg_temp.answer(cancel_order(:client, :o6, 'wrong number'));
SELECT pg_temp.recharge_states(:o6), pg_temp.seen(:o6);
-- Rejected by the operator before submission (a final vendor failure):
-- the recharge FAILED, the order FAILED and refunded.
SELECT pg_temp.place(:client, 6401, 1, 10, 't-7', '9876543216') AS o7 \gset
SELECT job_id AS j7, lease_token AS t7 FROM claim_vendor_jobs('operator', 10, '{6401}') \gset
SELECT pg_temp.answer(report_vendor_failure(:j7, :'t7', true, 'operator unknown for this number'));
SELECT pg_temp.recharge_states(:o7);

-- Money adds up: paid for t-1 (10), t-3 (one of two: 10), t-4 (10), t-5 (5).
SELECT o.po_number, o.status, o.sub_status, sum(e.amount) AS net
FROM orders.orders o JOIN ledger_entries e ON e.order_id = o.id
WHERE o.client_id = :client GROUP BY o.id ORDER BY o.po_number;
SELECT balance FROM wallets WHERE client_id = :client;
SELECT * FROM verify_ledger();
