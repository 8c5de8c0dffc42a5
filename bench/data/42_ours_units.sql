-- The engine: the inventory of the INSTANT product, through the vault's
-- orders.load_inventory (AES-256-GCM in C, fingerprints, checks), in
-- batches of 10,000, one after the other: a batch's duplicate check joins
-- the table, and two batches loaded at once into an empty table would each
-- plan that join for an empty table.
-- requires: orders.load_inventory
SELECT format($q$SELECT count(*) FROM orders.load_inventory((
			SELECT jsonb_agg(jsonb_build_object(
					   'product_id', 1001, 'denomination', 25.00,
					   'card_number', 'O' || lpad(g::text, 15, '0'),
					   'pin_code', lpad((g * 7919 %% 10000)::text, 4, '0'),
					   'expires_at', now() + interval '1 year' + g * interval '1 second'))
			  FROM generate_series(%s, %s) AS g))$q$, b, least(b + 9999, :units))
  FROM generate_series(1, :units, 10000) AS b \gexec
