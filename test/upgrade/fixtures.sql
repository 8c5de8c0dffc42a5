-- Fixtures of the upgrade test (test/upgrade/run.sh), loaded after the demo
-- (demo/*.sql) into a database at an old version, through the functions
-- that version documents: orders in every status an order rests in (PLACED
-- only exists inside the creating transaction), vouchers delivered from
-- inventory and by the vendor, refunds in the ledger, top-ups, API keys and
-- an access token.  It checks itself at the end, so the test cannot pass
-- on fixtures that no longer create what they say.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
-- Vendor retries due after a second, so the sandbox vendor's scenarios of
-- the demo (a retry, a partial delivery, a failure) finish in a few rounds.
SET orders.vendor_retry_base = 1;
SET orders.vendor_retry_max = 1;

SELECT orders.admin_create_client('Upgrade Test Client') AS client \gset
SELECT orders.open_wallet(:client, 'USD', true) IS NOT NULL AS opened;
SELECT orders.fund_wallet(:client, 'USD', 5000.00, 'upgrade test funding') IS NOT NULL AS funded;
SELECT orders.fund_wallet(:client, 'INR', 50000.00, 'upgrade test funding') IS NOT NULL AS funded;

CREATE FUNCTION pg_temp.place(client bigint, request jsonb) RETURNS bigint
LANGUAGE sql AS $$
	SELECT ((orders.create_order(client, request)).response #>> '{data,placeOrder,data,orderId}')::bigint
$$;

-- Delivered at once from inventory: codes with PINs, and a claim URL.
SELECT pg_temp.place(:client, '{"productId": 1001, "quantity": 2, "denomination": 25, "poNumber": "UPG-INSTANT-1", "email": "buyer@example.com"}');
SELECT pg_temp.place(:client, '{"productId": 3001, "quantity": 1, "denomination": 500, "poNumber": "UPG-URL-1"}');
-- Cancelled by the client: refunded.
SELECT orders.cancel_order(:client, pg_temp.place(:client,
	'{"productId": 2001, "quantity": 1, "denomination": 50, "poNumber": "UPG-CANCELLED-1"}'), 'upgrade test') IS NOT NULL AS cancelled;
-- PROCESSING: a vendor took the job and created its order, nothing fetched yet.
SELECT pg_temp.place(:client, '{"productId": 2001, "quantity": 1, "denomination": 50, "poNumber": "UPG-PROCESSING-1"}');
SELECT orders.report_vendor_order_created(job_id, lease_token, 'UPG-VENDOR-REF-1') IS NOT NULL AS reported
FROM orders.claim_vendor_jobs('upgrade-test', 1, ARRAY[2001]::bigint[]);
-- PENDING: waiting for a vendor (nobody plays the vendor of product 2001).
SELECT pg_temp.place(:client, '{"productId": 2001, "quantity": 1, "denomination": 50, "poNumber": "UPG-PENDING-1"}');
-- Played by the sandbox vendor with the demo's: delivered, a delivered and
-- a failed top-up.
SELECT pg_temp.place(:client, '{"productId": 4001, "quantity": 2, "denomination": 20, "poNumber": "UPG-VENDOR-1"}');
SELECT pg_temp.place(:client, '{"productId": 5001, "quantity": 1, "denomination": 99, "poNumber": "UPG-TOPUP-1",
	"topupData": {"topupPhoneCode": "+91", "topupPhoneNumber": "9123456789"}}');
SELECT pg_temp.place(:client, '{"productId": 5001, "quantity": 1, "denomination": 149, "poNumber": "DEMO-TOPUP-FAIL-UPG",
	"topupData": {"topupPhoneCode": "+91", "topupPhoneNumber": "9123456780"}}');

-- Sandbox vendor rounds, each its own transaction, until its jobs are done.
DO $$
BEGIN
	FOR round IN 1..20 LOOP
		PERFORM orders.sandbox_vendor_round(50, ARRAY[4001, 5001]::bigint[]);
		COMMIT;
		EXIT WHEN NOT EXISTS (SELECT 1 FROM orders.orders
							  WHERE product_id IN (4001, 5001)
								AND status IN ('PLACED', 'PENDING', 'PROCESSING'));
		PERFORM pg_sleep(1.1);
	END LOOP;
END $$;

-- Keys: one issued (a random secret), one revoked; an access token.
SELECT key_id AS issued_key FROM orders.admin_issue_api_key(:client, 'upgrade test') \gset
SELECT orders.admin_revoke_api_key(key_id) IS NOT NULL AS revoked
FROM orders.admin_issue_api_key(:client, 'upgrade test, revoked');
SELECT orders.issue_access_token(:client, k.id) ? 'access_token' OR true AS token_issued
FROM orders.api_keys k WHERE k.key_id = :'issued_key';

-- The fixtures check themselves.
DO $$
DECLARE
	missing text;
BEGIN
	SELECT string_agg(s, ', ') INTO missing
	FROM unnest(ARRAY['PENDING', 'PROCESSING', 'DELIVERED', 'PARTIALLY_DELIVERED',
					  'CANCELLED', 'FAILED']) s
	WHERE NOT EXISTS (SELECT 1 FROM orders.orders o WHERE o.status = s::orders.order_status);
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'upgrade fixtures: no order in status %', missing;
	END IF;
	IF (SELECT count(*) FROM orders.inventory_units WHERE status = 'DELIVERED') < 4 THEN
		RAISE EXCEPTION 'upgrade fixtures: fewer than 4 delivered vouchers';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM orders.recharges WHERE status = 'RECHARGED')
	   OR NOT EXISTS (SELECT 1 FROM orders.recharges WHERE status = 'FAILED') THEN
		RAISE EXCEPTION 'upgrade fixtures: no recharged and failed top-ups';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM orders.ledger_entries WHERE kind = 'REFUND') THEN
		RAISE EXCEPTION 'upgrade fixtures: no refund in the ledger';
	END IF;
END $$;
