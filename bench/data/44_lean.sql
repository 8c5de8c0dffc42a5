-- The lean reference (bench/lean/): its products, funded writers (client
-- ids 1 .. 8: pgbench client k orders as writer + k % 8), the units of the
-- INSTANT product (64 bytes standing for an encrypted code: nothing reads
-- them), the order the replay workload places again, and checks that it
-- keeps the guarantees it stands for.  Runs beside the big-client loads.

INSERT INTO lean.products (id, name, denominations, order_quantity_limit)
VALUES (1001, 'Bench Instant Gift Card', '{10.00,25.00,50.00}', 10),
	   (1002, 'Bench Delayed Gift Card', '{10.00,25.00,50.00}', 10);
INSERT INTO lean.wallets (client_id, balance) SELECT g, 100000000000 FROM generate_series(1, 8) AS g;
INSERT INTO lean.ledger (client_id, amount, balance_after) SELECT client_id, balance, balance FROM lean.wallets;
SELECT bench.ids_param('lean', 'writer', ARRAY[1, 2, 3, 4, 5, 6, 7, 8]::bigint[]),
	   bench.param('lean', 'writer', 1);

INSERT INTO lean.units (product_id, denomination, expires_at, code)
SELECT 1001, 25.00, now() + interval '1 year' + g * interval '1 second',
	   sha512(convert_to('L' || lpad(g::text, 15, '0'), 'UTF8'))
  FROM generate_series(1, :units) AS g;
ANALYZE lean.units;

SELECT bench.check('lean places the replay order, INSTANT', c.status = 'DELIVERED' AND NOT c.replayed)
  FROM lean.create_order(1, 1001, 1, 25.00, 'bench@example.com', 'bench', 'replay-1') AS c;
SELECT bench.check('lean replays the replay poNumber', c.replayed AND c.status = 'DELIVERED')
  FROM lean.create_order(1, 1001, 1, 25.00, 'bench@example.com', 'bench', 'replay-1') AS c;
SELECT bench.check('lean: the INSTANT order sold one unit, debited once, has two events',
				   (SELECT count(*) FROM lean.units WHERE order_id = o.id AND status = 'SOLD') = 1
				   AND (SELECT count(*) FROM lean.ledger WHERE order_id = o.id AND amount = -25.00) = 1
				   AND (SELECT array_agg(to_status ORDER BY id) FROM lean.order_events WHERE order_id = o.id)
					   = '{PENDING,DELIVERED}')
  FROM lean.orders o WHERE o.client_id = 1 AND o.po_number = 'replay-1';

-- Refusals: a replay with other parameters, an illegal move, a debit past
-- the balance; each leaves nothing behind.
CREATE FUNCTION bench.lean_refuses(p_sql text, p_sqlstate text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE p_sql;
	RETURN false;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE = p_sqlstate;
END
$$;
COMMENT ON FUNCTION bench.lean_refuses(text, text) IS 'whether a statement fails with the given SQLSTATE';

SELECT bench.check('lean refuses a replay with other parameters', bench.lean_refuses(
		   $$SELECT lean.create_order(1, 1001, 2, 25.00, 'bench@example.com', 'bench', 'replay-1')$$, '23505')),
	   bench.check('lean refuses DELIVERED -> PENDING', bench.lean_refuses(
		   $$UPDATE lean.orders SET status = 'PENDING' WHERE client_id = 1 AND po_number = 'replay-1'$$, '23514')),
	   bench.check('lean refuses an order past the balance', bench.lean_refuses(
		   $q$DO $d$ BEGIN
				UPDATE lean.wallets SET balance = 1 WHERE client_id = 8;
				PERFORM lean.create_order(8, 1001, 1, 25.00, NULL, NULL, 'too-much');
			 END $d$$q$, '22023'));
SELECT bench.check('lean: the refusals left nothing behind',
				   NOT EXISTS (SELECT 1 FROM lean.orders WHERE po_number = 'too-much')
				   AND (SELECT balance FROM lean.wallets WHERE client_id = 8) = 100000000000
				   AND (SELECT count(*) FROM lean.orders) = 1
				   AND (SELECT status FROM lean.orders) = 'DELIVERED');
