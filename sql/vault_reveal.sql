-- Reveal: decrypted vouchers only for the order's own client, only for
-- DELIVERED items of a DELIVERED or PARTIALLY_DELIVERED order; '[]' for
-- everything else; one audit row per revealed item, committed by the reveal
-- audit worker (orders preloaded) before anything is decrypted.
\set SHOW_CONTEXT never

INSERT INTO orders.clients (name) VALUES ('vault reveal client A'), ('vault reveal client B');
SELECT id AS client_a FROM orders.clients WHERE name = 'vault reveal client A' \gset
SELECT id AS client_b FROM orders.clients WHERE name = 'vault reveal client B' \gset
INSERT INTO orders.products (id, name, currency, delivery_type) VALUES
	(3101, 'Vault Reveal Card', 'USD', 'CODE_WITH_PIN'),
	(3102, 'Vault Reveal Link', 'USD', 'URL');

-- An order of the given units; its first p_delivered items (and units)
-- delivered; with p_settle the order's status follows its items.
CREATE FUNCTION pg_temp.order_of(p_client bigint, p_po text, p_product bigint,
								 p_units bigint[], p_delivered integer, p_settle boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	o bigint;
	i bigint;
	u bigint;
	n integer := 0;
BEGIN
	INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity)
	VALUES (p_client, p_po, p_product, 10, cardinality(p_units)) RETURNING id INTO o;
	UPDATE orders.orders SET status = 'PENDING' WHERE id = o;
	FOREACH u IN ARRAY p_units LOOP
		n := n + 1;
		UPDATE orders.inventory_units SET status = 'ALLOCATED' WHERE id = u;
		INSERT INTO orders.order_items (client_id, order_id, unit_id)
		VALUES (p_client, o, u) RETURNING id INTO i;
		IF n <= p_delivered THEN
			UPDATE orders.order_items SET status = 'DELIVERED' WHERE id = i;
			UPDATE orders.inventory_units SET status = 'DELIVERED' WHERE id = u;
		END IF;
	END LOOP;
	IF p_settle AND p_delivered = cardinality(p_units) THEN
		UPDATE orders.orders SET status = 'DELIVERED', sub_status = 'INVENTORY_FULFILLED' WHERE id = o;
	ELSIF p_settle AND p_delivered > 0 THEN
		UPDATE orders.orders SET status = 'PARTIALLY_DELIVERED', sub_status = 'PARTIAL' WHERE id = o;
	END IF;
	RETURN o;
END $$;

SELECT array_agg(l.unit_id ORDER BY l.entry) AS units FROM orders.load_inventory('[
	{"product_id": 3101, "denomination": 10, "expires_at": "2031-06-30T12:34:56.789+02:00",
	 "card_number": "REVEAL-CARD-01", "pin_code": "1111", "voucher_reference_number": "REF-01"},
	{"product_id": 3101, "denomination": 10, "expires_at": "2031-12-31T23:59:59Z",
	 "card_number": "REVEAL-CARD-02"},
	{"product_id": 3102, "denomination": 10, "expires_at": "2032-01-01T00:00:00Z",
	 "claim_url": "https://redeem.example.com/r/03"},
	{"product_id": 3101, "denomination": 10, "expires_at": "2032-01-01T00:00:00Z",
	 "card_number": "REVEAL-CARD-04", "pin_code": "4444"},
	{"product_id": 3101, "denomination": 10, "expires_at": "2032-01-01T00:00:00Z",
	 "card_number": "REVEAL-CARD-05", "pin_code": "5555"},
	{"product_id": 3101, "denomination": 10, "expires_at": "2032-01-01T00:00:00Z",
	 "card_number": "REVEAL-CARD-06", "pin_code": "6666"}
]'::jsonb) AS l \gset
SELECT pg_temp.order_of(:client_a, 'vault-A1', 3101, ARRAY[(:'units'::bigint[])[1], (:'units'::bigint[])[2]], 2, true) AS a1,
	   pg_temp.order_of(:client_a, 'vault-A2', 3102, ARRAY[(:'units'::bigint[])[3]], 1, true) AS a2,
	   pg_temp.order_of(:client_a, 'vault-A3', 3101, ARRAY[(:'units'::bigint[])[4], (:'units'::bigint[])[5]], 1, true) AS a3,
	   pg_temp.order_of(:client_a, 'vault-A4', 3101, ARRAY[(:'units'::bigint[])[6]], 1, false) AS a4 \gset
SELECT po_number, status, sub_status FROM orders.orders WHERE id IN (:a1, :a2, :a3, :a4) ORDER BY id;

-- A delivered order: every voucher, in item order, each field present (null
-- when absent), expires_at in RFC 3339 UTC.
SELECT orders.reveal_vouchers(:client_a, :a1) = '[
	{"card_number": "REVEAL-CARD-01", "pin_code": "1111", "claim_url": null,
	 "voucher_reference_number": "REF-01", "expires_at": "2031-06-30T10:34:56Z"},
	{"card_number": "REVEAL-CARD-02", "pin_code": null, "claim_url": null,
	 "voucher_reference_number": null, "expires_at": "2031-12-31T23:59:59Z"}
]'::jsonb AS delivered_order;
SELECT DISTINCT jsonb_object_keys(v) AS voucher_fields
FROM jsonb_array_elements(orders.reveal_vouchers(:client_a, :a1)) AS v ORDER BY 1;
-- A URL-only voucher.
SELECT orders.reveal_vouchers(:client_a, :a2) = '[
	{"card_number": null, "pin_code": null, "claim_url": "https://redeem.example.com/r/03",
	 "voucher_reference_number": null, "expires_at": "2032-01-01T00:00:00Z"}
]'::jsonb AS url_only_order;
-- A partially delivered order: the delivered item only.
SELECT orders.reveal_vouchers(:client_a, :a3) = '[
	{"card_number": "REVEAL-CARD-04", "pin_code": "4444", "claim_url": null,
	 "voucher_reference_number": null, "expires_at": "2032-01-01T00:00:00Z"}
]'::jsonb AS partially_delivered_order;

-- Nothing, and no hint that the order exists: an order not delivered (even
-- with an item delivered), another client's order, an unknown order.
SELECT orders.reveal_vouchers(:client_a, :a4) AS undelivered_order,
	   orders.reveal_vouchers(:client_b, :a1) AS other_clients_order,
	   orders.reveal_vouchers(:client_a, -1) AS unknown_order,
	   orders.reveal_vouchers(NULL, :a1) AS no_client;

-- The audit: one row per revealed item (a1 was revealed twice above), none
-- for the empty answers.
SELECT o.po_number, count(r.id) AS audit_rows,
	   bool_and(r.client_id = :client_a AND r.revealed_by = current_user) AS who,
	   bool_and(i.order_id = r.order_id AND i.unit_id = r.unit_id) AS item_and_unit
FROM orders.orders o
LEFT JOIN orders.voucher_reveals r ON r.order_id = o.id
LEFT JOIN orders.order_items i ON i.id = r.order_item_id
WHERE o.id IN (:a1, :a2, :a3, :a4)
GROUP BY o.id, o.po_number ORDER BY o.id;
SELECT count(*) AS audit_rows_for_client_b FROM orders.voucher_reveals WHERE client_id = :client_b;

-- In a READ ONLY transaction (PostgREST runs GET in one) the reveal works:
-- its audit rows are written and committed by the reveal audit worker, not
-- by the caller, so they stand even when the caller rolls back (intended:
-- the codes have been seen).  The empty answers write nothing there either.
SELECT max(id) AS max_id FROM orders.voucher_reveals \gset ro_
BEGIN READ ONLY;
SHOW transaction_read_only;
SELECT jsonb_array_length(orders.reveal_vouchers(:client_a, :a1)) AS vouchers_read_only,
	   orders.reveal_vouchers(:client_b, :a1) AS other_clients_order_read_only,
	   orders.reveal_vouchers(:client_a, :a4) AS undelivered_order_read_only;
ROLLBACK;
SELECT count(*) AS audit_rows_after_rollback,
	   bool_and(r.client_id = :client_a AND r.revealed_by = current_user
				AND i.order_id = r.order_id AND i.unit_id = r.unit_id) AS who_item_and_unit
FROM orders.voucher_reveals r JOIN orders.order_items i ON i.id = r.order_item_id
WHERE r.order_id = :a1 AND r.id > :ro_max_id;
SELECT count(*) AS audit_rows_for_client_b_or_undelivered FROM orders.voucher_reveals
WHERE client_id = :client_b OR order_id = :a4;

-- Fails closed: when the audit cannot be committed in time (here the
-- worker's insert waits for a lock this transaction holds) the reveal
-- raises OR303 and reveals nothing; a cancelled reveal likewise.  Neither
-- leaves the queue stuck: the next reveal is served.  The worker had taken
-- both requests, so their rows are committed once the lock is gone: the
-- audit may record a reveal that returned nothing, never the reverse.
SELECT count(*) AS rows_before FROM orders.voucher_reveals WHERE order_id = :a1 \gset stuck_
BEGIN;
LOCK orders.voucher_reveals IN SHARE MODE;
SET LOCAL orders.reveal_audit_timeout = '300ms';
SELECT orders.reveal_vouchers(:client_a, :a1) AS audit_timed_out;
ROLLBACK;
BEGIN;
LOCK orders.voucher_reveals IN SHARE MODE;
SET LOCAL statement_timeout = '300ms';
SELECT orders.reveal_vouchers(:client_a, :a1) AS reveal_cancelled;
ROLLBACK;
SELECT jsonb_array_length(orders.reveal_vouchers(:client_a, :a1)) AS vouchers_after_cancel;
SELECT count(*) - :stuck_rows_before AS audit_rows_of_three_reveals
FROM orders.voucher_reveals WHERE order_id = :a1;

-- The audit records the role that called, not the owner of the SECURITY
-- DEFINER layer in between (what the api schema will be).
CREATE FUNCTION public.vault_regress_details(p_client bigint, p_order bigint) RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$ SELECT orders.reveal_vouchers(p_client, p_order) $$;
GRANT EXECUTE ON FUNCTION public.vault_regress_details(bigint, bigint) TO orders_api;
SET ROLE orders_api;
SELECT jsonb_array_length(public.vault_regress_details(:client_a, :a2)) AS vouchers_through_api_layer;
RESET ROLE;
SELECT revealed_by FROM orders.voucher_reveals WHERE order_id = :a2 ORDER BY id DESC LIMIT 1;
DROP FUNCTION public.vault_regress_details(bigint, bigint);

-- The roles cannot call the reveal themselves.
SET ROLE orders_api;
SELECT orders.reveal_vouchers(:client_a, :a1);
SET ROLE orders_vendor;
SELECT orders.reveal_vouchers(:client_a, :a1);
SET ROLE orders_admin;
SELECT orders.reveal_vouchers(:client_a, :a1);
RESET ROLE;

-- The audit is append-only, for the superuser too.
UPDATE orders.voucher_reveals SET revealed_by = 'someone else' WHERE order_id = :a1;
DELETE FROM orders.voucher_reveals WHERE order_id = :a1;
TRUNCATE orders.voucher_reveals;

-- A tampered voucher fails the whole reveal loudly (naming row and field,
-- never a value).  The audit was committed before decryption began, so the
-- attempt is recorded: one row per item of the order.
SELECT count(*) AS audit_rows_before FROM orders.voucher_reveals WHERE order_id = :a1 \gset
SELECT pin_code_enc AS saved_pin FROM orders.inventory_units WHERE id = (:'units'::bigint[])[1] \gset
UPDATE orders.inventory_units
SET pin_code_enc = set_byte(pin_code_enc, 20, get_byte(pin_code_enc, 20) # 1)
WHERE id = (:'units'::bigint[])[1];
CREATE FUNCTION pg_temp.try_reveal(p_client bigint, p_order bigint) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	RETURN orders.reveal_vouchers(p_client, p_order)::text;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, 'row \d+', 'row N');
END $$;
SELECT pg_temp.try_reveal(:client_a, :a1) AS tampered_reveal;
SELECT count(*) - :audit_rows_before AS audit_rows_added FROM orders.voucher_reveals WHERE order_id = :a1;
-- Restored, the unit reveals again (and the rotation test finds it sound).
UPDATE orders.inventory_units SET pin_code_enc = :'saved_pin' WHERE id = (:'units'::bigint[])[1];
SELECT jsonb_array_length(orders.reveal_vouchers(:client_a, :a1)) AS vouchers_after_restore;
