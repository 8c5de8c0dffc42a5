-- Demo client (make run) with funded wallets: USD (its default wallet,
-- charged with an exchange rate for currencies it has no wallet in), EUR
-- and INR.  Loaded at every start: idempotent.
INSERT INTO orders.clients (name) VALUES ('Demo Client') ON CONFLICT (name) DO NOTHING;
SELECT orders.open_wallet(c.id, 'USD', true)
FROM orders.clients c WHERE c.name = 'Demo Client';
SELECT orders.fund_wallet(c.id, w.currency, w.amount, 'demo funding')
FROM orders.clients c,
	 (VALUES ('USD', 5000.00), ('EUR', 500.00), ('INR', 50000.00)) w(currency, amount)
WHERE c.name = 'Demo Client'
  AND NOT EXISTS (SELECT 1 FROM orders.ledger_entries l JOIN orders.wallets wa ON wa.id = l.wallet_id
				  WHERE wa.client_id = c.id AND wa.currency = w.currency AND l.kind = 'FUNDING');
