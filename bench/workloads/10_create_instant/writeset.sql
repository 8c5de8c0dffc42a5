-- what: the order's minimal write set: one plain statement writing each row an INSTANT order must write, once: the wallet debit, the unit sold, the order in its final state, its item, the ledger row, and as many history and outbox rows as the engine writes (copies of the engine's tables: same indexes, no trigger, no foreign key, no check of anything)
\set n :n + 1
\set w :writer + :client_id % :writers
\set seq :runno * 10000000 + :client_id * 1000000 + :n
WITH w AS (UPDATE lim.wallets SET balance = balance - :denomination
			WHERE client_id = :w AND currency = 'USD'
		   RETURNING id, balance),
	 u AS (UPDATE lim.inventory_units SET status = 'DELIVERED'
			WHERE id = (SELECT nextval('lim.unit_cursor'))
		   RETURNING id),
	 o AS (INSERT INTO lim.orders (client_id, client_seq, po_number, product_id, denomination, quantity,
								   status, sub_status, email, tag, charge_currency, currency_value,
								   discount_percent, raw_order_total, order_total, raw_order_discount,
								   order_discount, amount_charged)
		   VALUES (:w, :seq, CAST(:run AS text) || '-' || :client_id || '-' || :n, :instant_product,
				   :denomination, 1, 'DELIVERED', 'INVENTORY_FULFILLED', :email, :tag, 'USD', 1,
				   0, :denomination, :denomination, 0, 0, :denomination)
		   RETURNING client_id, id),
	 i AS (INSERT INTO lim.order_items (client_id, order_id, status, unit_id)
		   SELECT o.client_id, o.id, 'DELIVERED', u.id FROM o, u),
	 l AS (INSERT INTO lim.ledger_entries (client_id, wallet_id, kind, amount, balance_after, order_id)
		   SELECT o.client_id, w.id, 'DEBIT', -CAST(:denomination AS numeric), w.balance, o.id FROM o, w),
	 h AS (INSERT INTO lim.status_history (entity, entity_id, from_status, to_status,
										   from_sub_status, to_sub_status, actor)
		   SELECT 'order', o.id, 'PENDING', 'DELIVERED', 'INITIAL', 'INVENTORY_FULFILLED', current_user
			 FROM o, generate_series(1, :history_rows))
INSERT INTO lim.order_events (client_id, order_id, seq, event, status, sub_status)
SELECT o.client_id, o.id, g, 'order.delivered', 'DELIVERED', 'INVENTORY_FULFILLED'
  FROM o, generate_series(1, :event_rows) AS g;
