-- Demo of fulfilment (make run): the sandbox vendor, played by the
-- background worker (scripts/run-config.d/60-fulfilment.sh), takes these
-- orders of the Demo Client through their whole lives within a minute:
--   DEMO-DELAYED-1    no stock: a transient vendor failure, a retry, DELIVERED
--   DEMO-PARTIAL-1    1 of 2 vouchers, then a final failure: PARTIALLY_DELIVERED,
--                     the undelivered half refunded
--   DEMO-CANCELLED-1  cancelled by the client at once: CANCELLED, refunded
--   DEMO-TOPUP-FAIL-1 a top-up the operator rejects: FAILED, refunded
-- Loaded at every start: idempotent (a poNumber again is a replay).
INSERT INTO orders.sandbox_vendor_scenarios (po_prefix, outcomes, note) VALUES
	('DEMO-DELAYED-', '{transient,ok}', 'demo: one retry, then delivered'),
	('DEMO-PARTIAL-', '{partial,final}', 'demo: half delivered, the rest refunded'),
	('DEMO-TOPUP-FAIL-', '{final}', 'demo: the operator rejects the recharge')
ON CONFLICT (po_prefix) DO NOTHING;

DO $$
DECLARE
	c bigint := (SELECT id FROM orders.clients WHERE name = 'Demo Client');
	o bigint;
BEGIN
	PERFORM orders.create_order(c, '{"productId": 4001, "quantity": 1, "denomination": 20,
		"poNumber": "DEMO-DELAYED-1", "email": "customer@example.com"}');
	PERFORM orders.create_order(c, '{"productId": 4001, "quantity": 2, "denomination": 50,
		"poNumber": "DEMO-PARTIAL-1"}');
	PERFORM orders.create_order(c, '{"productId": 5001, "quantity": 1, "denomination": 249,
		"poNumber": "DEMO-TOPUP-FAIL-1", "topupData": {"topupPhoneCode": "+91", "topupPhoneNumber": "9000000000"}}');
	-- Placed and cancelled in one transaction, before the worker can see it.
	o := ((orders.create_order(c, '{"productId": 4001, "quantity": 1, "denomination": 20,
		"poNumber": "DEMO-CANCELLED-1"}')).response #>> '{data,placeOrder,data,orderId}')::bigint;
	IF (SELECT status FROM orders.orders WHERE id = o) IN ('PLACED', 'PENDING', 'PROCESSING') THEN
		PERFORM orders.cancel_order(c, o, 'demo: the customer changed their mind');
	END IF;
END $$;
