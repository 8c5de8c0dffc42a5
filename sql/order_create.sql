-- Placing orders (reference 003): every validation, idempotency on
-- (client, poNumber), the debit, the INSTANT path from inventory, the
-- DELAYED path, top-ups, and the response body.
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET search_path = orders, public;

-- Fixed client ids keep messages stable; try() shows SQLSTATE and message;
-- masked() hides the order ids of a response.
INSERT INTO clients (id, name) OVERRIDING SYSTEM VALUE
VALUES (4301, 'create client'), (4302, 'create client poor');
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'ok';
EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ' ' || regexp_replace(SQLERRM, '(order|wallet) [0-9]+', '\1 N', 'g');
END $$;
CREATE FUNCTION pg_temp.masked(j jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT regexp_replace(j::text, '"orderId": [0-9]+', '"orderId": "N"', 'g')::jsonb
$$;
CREATE FUNCTION pg_temp.place(request text) RETURNS text LANGUAGE sql AS $$
	SELECT pg_temp.try(format('SELECT orders.create_order(4301, %L::jsonb)', request))
$$;

INSERT INTO products (id, name, currency, denominations, order_quantity_limit, discount_percent, vendor_logo)
VALUES (4301, 'Create Card', 'USD', '{10,25,50}', 3, 2, 'https://logo.example/card.png');
INSERT INTO products (id, name, currency, kind, min_denomination, max_denomination,
					  denomination_step, order_quantity_limit)
VALUES (4302, 'Create Topup', 'INR', 'TOPUP', 10, 1000, 10, 1);
INSERT INTO products (id, name, currency, denominations, active)
VALUES (4303, 'Create Retired', 'USD', '{10}', false);
SELECT fund_wallet(4301, 'USD', 200) > 0 AS funded, fund_wallet(4301, 'INR', 5000) > 0 AS funded,
	   fund_wallet(4302, 'USD', 5) > 0 AS funded;

-- Every invalid request is refused with the field named, and writes nothing.
SELECT left(request, 100) AS request, pg_temp.place(request) AS result FROM (VALUES
	('[]'),
	('{"quantity": 1, "denomination": 10, "poNumber": "v"}'),
	('{"productId": "4301", "quantity": 1, "denomination": 10, "poNumber": "v"}'),
	('{"productId": 4301.5, "quantity": 1, "denomination": 10, "poNumber": "v"}'),
	('{"productId": -4301, "quantity": 1, "denomination": 10, "poNumber": "v"}'),
	('{"productId": 4399, "quantity": 1, "denomination": 10, "poNumber": "v"}'),
	('{"productId": 4303, "quantity": 1, "denomination": 10, "poNumber": "v"}'),
	('{"productId": 4301, "denomination": 10, "poNumber": "v"}'),
	('{"productId": 4301, "quantity": 0, "denomination": 10, "poNumber": "v"}'),
	('{"productId": 4301, "quantity": 4, "denomination": 10, "poNumber": "v"}'),
	('{"productId": 4301, "quantity": 99999999999, "denomination": 10, "poNumber": "v"}'),
	('{"productId": 4301, "quantity": "1", "denomination": 10, "poNumber": "v"}'),
	('{"productId": 4301, "quantity": 1, "poNumber": "v"}'),
	('{"productId": 4301, "quantity": 1, "denomination": 15, "poNumber": "v"}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10.001, "poNumber": "v"}'),
	('{"productId": 4301, "quantity": 1, "denomination": -10, "poNumber": "v"}'),
	('{"productId": 4301, "quantity": 1, "denomination": "ten", "poNumber": "v"}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": "  "}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": 42}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": "a\tb"}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": "' || repeat('p', 101) || '"}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": "v", "email": "nobody"}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": "v", "email": "a b@c.de"}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": "v", "email": "a@b"}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": "v", "email": "' || repeat('e', 250) || '@x.io"}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": "v", "tag": "' || repeat('t', 101) || '"}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": "v", "notifyReceiverEmail": 2}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": "v", "notifyAdminEmail": "yes"}'),
	('{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": "v", "topupData": "+91 98765"}'),
	('{"productId": 4302, "quantity": 1, "denomination": 100, "poNumber": "v"}'),
	('{"productId": 4302, "quantity": 1, "denomination": 100, "poNumber": "v", "topupData": {"topupPhoneCode": "+91"}}'),
	('{"productId": 4302, "quantity": 1, "denomination": 100, "poNumber": "v", "topupData": {"topupPhoneCode": "91", "topupPhoneNumber": "9876543210"}}'),
	('{"productId": 4302, "quantity": 1, "denomination": 100, "poNumber": "v", "topupData": {"topupPhoneCode": "+01", "topupPhoneNumber": "9876543210"}}'),
	('{"productId": 4302, "quantity": 1, "denomination": 100, "poNumber": "v", "topupData": {"topupPhoneCode": "+91", "topupPhoneNumber": "98765-43210"}}'),
	('{"productId": 4302, "quantity": 1, "denomination": 100, "poNumber": "v", "topupData": {"topupPhoneCode": "+91", "topupPhoneNumber": "123"}}'),
	('{"productId": 4302, "quantity": 1, "denomination": 100, "poNumber": "v", "topupData": {"topupPhoneCode": "+1234", "topupPhoneNumber": "12345678901234"}}'),
	('{"productId": 4302, "quantity": 1, "denomination": 105, "poNumber": "v", "topupData": {"topupPhoneCode": "+91", "topupPhoneNumber": "9876543210"}}'),
	('{"productId": 4302, "quantity": 2, "denomination": 100, "poNumber": "v", "topupData": {"topupPhoneCode": "+91", "topupPhoneNumber": "9876543210"}}')
) v(request);
SELECT pg_temp.try($$SELECT orders.create_order(4399, '{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": "v"}')$$);
-- Insufficient balance is a refusal (OR103), and writes nothing either.
SELECT pg_temp.try($$SELECT orders.create_order(4302, '{"productId": 4301, "quantity": 1, "denomination": 10, "poNumber": "v"}')$$);
SELECT (SELECT count(*) FROM orders.orders WHERE client_id IN (4301, 4302)) AS orders,
	   (SELECT count(*) FROM ledger_entries WHERE client_id IN (4301, 4302) AND kind <> 'FUNDING') AS entries,
	   (SELECT string_agg(currency || ' ' || balance, ', ' ORDER BY client_id, currency)
		FROM wallets WHERE client_id IN (4301, 4302)) AS balances,
	   (SELECT count(*) FROM order_counts WHERE client_id IN (4301, 4302) AND n <> 0)
	   + (SELECT count(*) FROM order_count_deltas WHERE client_id IN (4301, 4302)) AS counts;

-- INSTANT: enough units, so the order is delivered in the same transaction,
-- from the units that expire first; expired and blocked units are skipped.
-- Units come in through the vault (encrypted); the two already unusable
-- ones are written directly, without codes.
SELECT count(*) AS loaded FROM load_inventory(jsonb_build_array(
	jsonb_build_object('product_id', 4301, 'denomination', 25, 'expires_at', '2033-03-31T23:59:59Z',
					   'card_number', 'CARD-4301-LATEST', 'pin_code', '3333'),
	jsonb_build_object('product_id', 4301, 'denomination', 25, 'expires_at', '2031-01-31T23:59:59Z',
					   'card_number', 'CARD-4301-FIRST', 'pin_code', '1111',
					   'voucher_reference_number', 'REF-4301-FIRST'),
	jsonb_build_object('product_id', 4301, 'denomination', 25, 'expires_at', '2032-02-29T23:59:59Z',
					   'card_number', 'CARD-4301-SECOND', 'pin_code', '2222',
					   'claim_url', 'https://redeem.example/4301/second')));
INSERT INTO inventory_units (product_id, denomination, expires_at, status)
VALUES (4301, 25, '2030-12-31 23:59:59+00', 'BLOCKED'),
	   (4301, 25, now() - interval '1 day', 'AVAILABLE');
-- An INSTANT order its balance does not cover is refused (OR103) before any
-- voucher is revealed: no reveal audited, nothing written, every unit still
-- AVAILABLE (create_order debits such an order before building its
-- response; a covered one last, after it).
SELECT pg_temp.try($$SELECT orders.create_order(4302, '{"productId": 4301, "quantity": 1, "denomination": 25, "poNumber": "poor-instant"}')$$);
SELECT (SELECT count(*) FROM orders.orders WHERE client_id = 4302) AS orders,
	   (SELECT count(*) FROM voucher_reveals WHERE client_id = 4302) AS reveals,
	   (SELECT count(*) FROM ledger_entries WHERE client_id = 4302 AND kind <> 'FUNDING') AS entries,
	   (SELECT count(*) FROM inventory_units WHERE product_id = 4301 AND status = 'AVAILABLE') AS available;
SELECT delivery_time(4301, 25, 2) AS before;
-- The response, its vouchers aside (codes never go into test output) ...
SELECT * FROM create_order(4301, '{"productId": 4301, "quantity": 2, "denomination": 25, "poNumber": "PO-INSTANT",
	"email": "Buyer@Example.com", "tag": "campaign-7", "notifyReceiverEmail": 1, "notifyAdminEmail": 0}')
\gset
SELECT :'replayed' AS replayed, pg_temp.masked(:'response'::jsonb #- '{data,placeOrder,data,vouchers}') AS response;
-- ... and the vouchers: decrypted, the two earliest expiries, every field.
SELECT v ->> 'expires_at' AS expires_at,
	   v ->> 'card_number' = w.card AS card_ok, v ->> 'pin_code' = w.pin AS pin_ok,
	   v ->> 'claim_url' IS NOT DISTINCT FROM w.url AS claim_url_ok,
	   v ->> 'voucher_reference_number' IS NOT DISTINCT FROM w.ref AS reference_ok,
	   (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(v) k) AS fields
FROM jsonb_array_elements(:'response'::jsonb #> '{data,placeOrder,data,vouchers}') WITH ORDINALITY e(v, n)
JOIN (VALUES (1, 'CARD-4301-FIRST', '1111', NULL, 'REF-4301-FIRST'),
			 (2, 'CARD-4301-SECOND', '2222', 'https://redeem.example/4301/second', NULL)) w(n, card, pin, url, ref)
	USING (n) ORDER BY n;
SELECT id AS instant FROM orders.orders WHERE client_id = 4301 AND po_number = 'PO-INSTANT' \gset
SELECT status, sub_status, quantity, denomination, email, tag, notify_receiver_email, notify_admin_email,
	   charge_currency, amount_charged, reference_code ~ '^ORD-[0-9A-F]{16}$' AS reference_ok,
	   transaction_id = (SELECT id FROM ledger_entries WHERE order_id = o.id AND kind = 'DEBIT') AS transaction_ok
FROM orders.orders o WHERE id = :instant;
-- One item per unit, each linked to a unit, the two earliest expiries.
SELECT i.status, u.status AS unit_status, u.expires_at
FROM order_items i JOIN inventory_units u ON u.id = i.unit_id
WHERE i.order_id = :instant ORDER BY u.expires_at;
SELECT status, count(*) FROM inventory_units WHERE product_id = 4301 GROUP BY status ORDER BY status;
SELECT kind, amount, balance_after FROM ledger_entries WHERE order_id = :instant;
-- The lifecycle recorded each step with its reason.
SELECT entity, from_status, to_status, from_sub_status, to_sub_status, reason
FROM status_history
WHERE (entity = 'order' AND entity_id = :instant)
   OR (entity = 'order_item' AND entity_id IN (SELECT id FROM order_items WHERE order_id = :instant))
ORDER BY id;
-- The units went AVAILABLE -> ALLOCATED -> DELIVERED in one write each.
SELECT u.expires_at, h.from_status, h.to_status, replace(h.reason, :'instant', 'N') AS reason
FROM status_history h JOIN inventory_units u ON u.id = h.entity_id
WHERE h.entity = 'inventory_unit' AND h.entity_id IN (SELECT unit_id FROM order_items WHERE order_id = :instant)
ORDER BY u.expires_at, h.id;
-- The outbox: one event per status the order went through, numbered from 1.
SELECT seq, event, status, sub_status FROM order_events WHERE order_id = :instant ORDER BY seq;
-- The vault audited the reveal of the response's vouchers.
SELECT count(*) AS reveals FROM voucher_reveals WHERE order_id = :instant;

-- Replays: the same parameters (email in another case) return the same
-- order, marked as a replay, with no new debit; other parameters are a
-- conflict naming the poNumber.
SELECT replayed, (response #>> '{data,placeOrder,data,orderId}')::bigint = :instant AS same_order,
	   response #>> '{data,placeOrder,data,orderStatus}' AS status
FROM create_order(4301, '{"productId": 4301, "quantity": 2, "denomination": 25.00, "poNumber": "PO-INSTANT",
	"email": "buyer@example.com", "tag": "campaign-7", "notifyReceiverEmail": true, "notifyAdminEmail": 0}');
-- The replay's body is the order's first response, byte for byte, its
-- vouchers revealed (and audited) again.
SELECT replayed, response::text = :'response' AS same_response
FROM create_order(4301, '{"productId": 4301, "quantity": 2, "denomination": 25, "poNumber": "PO-INSTANT",
	"email": "Buyer@Example.com", "tag": "campaign-7", "notifyReceiverEmail": 1, "notifyAdminEmail": 0}');
SELECT count(*) AS reveals FROM voucher_reveals WHERE order_id = :instant;
SELECT pg_temp.place(r) FROM (VALUES
	('{"productId": 4301, "quantity": 1, "denomination": 25, "poNumber": "PO-INSTANT", "email": "buyer@example.com", "tag": "campaign-7", "notifyReceiverEmail": 1}'),
	('{"productId": 4301, "quantity": 2, "denomination": 25, "poNumber": "PO-INSTANT", "email": "buyer@example.com", "tag": "campaign-8", "notifyReceiverEmail": 1}'),
	('{"productId": 4301, "quantity": 2, "denomination": 25, "poNumber": "PO-INSTANT", "email": "buyer@example.com", "tag": "campaign-7"}')
) v(r);
SELECT count(*) AS orders, (SELECT count(*) FROM ledger_entries WHERE client_id = 4301 AND kind = 'DEBIT') AS debits
FROM orders.orders WHERE client_id = 4301;
-- The same poNumber is another client's own key.
SELECT fund_wallet(4302, 'USD', 20) > 0 AS funded;
SELECT (create_order(4302, p_product_id => 4301, p_quantity => 1, p_denomination => 10,
					 p_email => NULL, p_tag => NULL, p_po_number => 'PO-INSTANT')).replayed;

-- DELAYED: one unit left for two: nothing allocated, the order waits for a
-- vendor with its items PENDING; the wallet is debited all the same.
SELECT delivery_time(4301, 25, 2) AS now;
SELECT replayed, pg_temp.masked(response) AS response
FROM create_order(4301, '{"productId": 4301, "quantity": 2, "denomination": 25, "poNumber": "PO-DELAYED"}');
SELECT o.status, o.sub_status, i.status AS item_status, i.unit_id
FROM orders.orders o JOIN order_items i ON i.order_id = o.id
WHERE o.client_id = 4301 AND o.po_number = 'PO-DELAYED';
SELECT status, count(*) FROM inventory_units WHERE product_id = 4301 GROUP BY status ORDER BY status;
-- Its path, inserted once: PLACED, PENDING (debited), then waiting for a
-- vendor; the outbox announces the two statuses; the vendor job exists.
SELECT id AS delayed FROM orders.orders WHERE client_id = 4301 AND po_number = 'PO-DELAYED' \gset
SELECT from_status, to_status, from_sub_status, to_sub_status, reason
FROM status_history WHERE entity = 'order' AND entity_id = :delayed ORDER BY id;
SELECT seq, event, status, sub_status FROM order_events WHERE order_id = :delayed ORDER BY seq;
SELECT status, attempts FROM vendor_jobs WHERE order_id = :delayed;

-- TOP-UP: a recharge per item, the order waits for the operator; no vouchers.
SELECT replayed, pg_temp.masked(response) AS response
FROM create_order(4301, '{"productId": 4302, "quantity": 1, "denomination": 150, "poNumber": "PO-TOPUP",
	"email": "phone@example.com", "topupData": {"topupPhoneCode": "+91", "topupPhoneNumber": 9876543210}}');
SELECT o.status, o.sub_status, o.mobile_country_code, o.mobile_number, r.status AS recharge_status
FROM orders.orders o JOIN order_items i ON i.order_id = o.id JOIN recharges r ON r.order_item_id = i.id
WHERE o.client_id = 4301 AND o.po_number = 'PO-TOPUP';

-- The typed entry point, as the API layer may call it.
SELECT replayed, response #>> '{data,placeOrder,data,orderStatus}' AS status,
	   response #>> '{data,placeOrder,data,amountCharged}' AS charged
FROM create_order(4301, p_product_id => 4301, p_quantity => 1, p_denomination => 50,
				  p_email => 'typed@example.com', p_tag => NULL, p_po_number => 'PO-TYPED');

-- The lookup by poNumber the reference advises after a 5xx.
SELECT find_order_by_po(4301, 'PO-DELAYED') ->> 'status' AS found,
	   find_order_by_po(4301, 'PO-NONE') IS NULL AS missing,
	   find_order_by_po(4302, 'PO-DELAYED') IS NULL AS other_client;

-- Money and numbering add up.
SELECT string_agg(currency || ' ' || balance, ', ' ORDER BY currency) AS balances
FROM wallets WHERE client_id = 4301;
SELECT count(*) AS mismatches FROM verify_ledger();
-- client_seq: distinct, in the order the orders were placed (gaps allowed:
-- the refused orders above drew numbers too).
SELECT count(DISTINCT client_seq) = count(*) AS distinct_numbers,
	   string_agg(po_number, ',' ORDER BY client_seq) AS in_numbering_order
FROM orders.orders WHERE client_id = 4301;
-- The list counts: the rolled-up counters plus the deltas not rolled up yet.
SELECT c.status, c.n, (SELECT count(*) FROM orders.orders o
					   WHERE o.client_id = 4301 AND o.product_id = c.product_id AND o.status = c.status) AS actual
FROM (SELECT product_id, status, sum(n) AS n
	  FROM (SELECT product_id, status, n FROM order_counts WHERE client_id = 4301
			UNION ALL
			SELECT product_id, status, n FROM order_count_deltas WHERE client_id = 4301) x
	  GROUP BY 1, 2) c
WHERE c.n <> 0 ORDER BY c.product_id, c.status;

-- One write of the order: an INSTANT create inserts the order once in its
-- final state and updates no order; the item is inserted delivered and the
-- unit updated once.  The transaction's own table statistics, read before
-- and after the create (a product of its own: no order waits for its units).
INSERT INTO products (id, name, currency, denominations) VALUES (4304, 'Create Once', 'USD', '{10}');
SELECT count(*) AS loaded FROM load_inventory(jsonb_build_array(
	jsonb_build_object('product_id', 4304, 'denomination', 10, 'expires_at', '2033-01-01T00:00:00Z',
					   'card_number', 'CARD-4304-WRITE-ONCE', 'pin_code', '4444')));
BEGIN;
CREATE TEMP TABLE writes_before AS
SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables WHERE schemaname = 'orders';
SELECT response #>> '{data,placeOrder,data,orderStatus}' AS status
FROM create_order(4301, p_product_id => 4304, p_quantity => 1, p_denomination => 10,
				  p_email => NULL, p_tag => NULL, p_po_number => 'PO-WRITE-ONCE');
SELECT a.relname, a.n_tup_ins - coalesce(b.n_tup_ins, 0) AS inserted,
	   a.n_tup_upd - coalesce(b.n_tup_upd, 0) AS updated,
	   a.n_tup_del - coalesce(b.n_tup_del, 0) AS deleted
FROM pg_stat_xact_user_tables a LEFT JOIN writes_before b USING (relname)
WHERE a.schemaname = 'orders'
  AND (a.n_tup_ins, a.n_tup_upd, a.n_tup_del) IS DISTINCT FROM (b.n_tup_ins, b.n_tup_upd, b.n_tup_del)
ORDER BY a.relname;
COMMIT;

-- The INSTANT response's reveal is audited before anything is decrypted: the
-- create hands the audit to the worker before it writes the order (so that
-- the worker's commit runs meanwhile) and the reveal waits for it.  When the
-- worker cannot commit the audit, the create fails closed (OR303): no code
-- revealed, no order, the unit still AVAILABLE, no audit row.
INSERT INTO products (id, name, currency, denominations) VALUES (4305, 'Audit Refused', 'USD', '{10}');
SELECT count(*) AS loaded FROM load_inventory(jsonb_build_array(
	jsonb_build_object('product_id', 4305, 'denomination', 10, 'expires_at', '2033-01-01T00:00:00Z',
					   'card_number', 'CARD-4305-AUDIT-REFUSED', 'pin_code', '5555')));
CREATE FUNCTION public.refuse_reveal_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'order_create test: the audit worker cannot write';
END $$;
CREATE TRIGGER refuse_reveal_audit BEFORE INSERT ON orders.voucher_reveals
	FOR EACH STATEMENT EXECUTE FUNCTION public.refuse_reveal_audit();
SELECT pg_temp.try($$SELECT orders.create_order(4301, '{"productId": 4305, "quantity": 1, "denomination": 10, "poNumber": "PO-AUDIT-REFUSED"}')$$);
SELECT (SELECT count(*) FROM orders.orders WHERE client_id = 4301 AND po_number = 'PO-AUDIT-REFUSED') AS orders,
	   (SELECT string_agg(status::text, ',') FROM inventory_units WHERE product_id = 4305) AS unit,
	   (SELECT count(*) FROM voucher_reveals r JOIN inventory_units u ON u.id = r.unit_id
		WHERE u.product_id = 4305) AS reveals;
DROP TRIGGER refuse_reveal_audit ON orders.voucher_reveals;
DROP FUNCTION public.refuse_reveal_audit();
-- The worker writes again: the same request places the order and reveals.
SELECT replayed, response #>> '{data,placeOrder,data,orderStatus}' AS status,
	   jsonb_array_length(response #> '{data,placeOrder,data,vouchers}') AS vouchers
FROM create_order(4301, '{"productId": 4305, "quantity": 1, "denomination": 10, "poNumber": "PO-AUDIT-REFUSED"}');
SELECT count(*) AS reveals FROM voucher_reveals r JOIN inventory_units u ON u.id = r.unit_id
WHERE u.product_id = 4305;

-- The validation query inlines orders.denomination_offered (no SET clause,
-- operators qualified): the generic plan shows the expression, not a call
-- of a SQL function that would be parsed and planned at every order.
SET plan_cache_mode = force_generic_plan;
PREPARE offered(bigint, numeric) AS
	SELECT orders.denomination_offered(p, $2) FROM orders.products p WHERE p.id = $1;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE offered(4301, 25);
-- Same answers as before: a fixed list (4301: 10, 25, 50), a range on a
-- step (4302: 10 to 1000 in steps of 10).
EXECUTE offered(4301, 25);
EXECUTE offered(4301, 30);
EXECUTE offered(4302, 100);
EXECUTE offered(4302, 105);
EXECUTE offered(4302, 1010);
DEALLOCATE offered;
RESET plan_cache_mode;

-- A reference code is ORD-, 4 hex digits of the minute the order was placed
-- (modulo 65536), and 12 random ones: orders placed together share the
-- first four (their codes are neighbours in the unique index), not the rest.
BEGIN;
INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity)
VALUES (4301, 'PO-REF-A', 4301, 10, 1), (4301, 'PO-REF-B', 4301, 10, 1);
SELECT count(DISTINCT substr(reference_code, 5, 4)) AS minute_prefixes,
	   count(DISTINCT substr(reference_code, 9)) AS random_parts,
	   bool_and(('x' || substr(reference_code, 5, 4))::bit(16)::integer
				= floor(extract(epoch FROM placed_at) / 60)::bigint % 65536) AS prefix_is_minute,
	   bool_and(reference_code ~ '^ORD-[0-9A-F]{16}$') AS shape_ok
FROM orders.orders WHERE client_id = 4301 AND po_number IN ('PO-REF-A', 'PO-REF-B');
ROLLBACK;
