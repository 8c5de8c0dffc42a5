-- The engine: the inventory of the INSTANT product, through the vault's
-- orders.load_inventory (AES-256-GCM in C, fingerprints, checks).
-- requires: orders.load_inventory
-- parallel: 2
SELECT count(*)
  FROM orders.load_inventory((
		SELECT jsonb_agg(jsonb_build_object(
				   'product_id', 1001, 'denomination', 25.00,
				   'card_number', 'O' || lpad(g::text, 15, '0'),
				   'pin_code', lpad((g * 7919 % 10000)::text, 4, '0'),
				   'expires_at', now() + interval '1 year' + g * interval '1 second'))
		  FROM generate_series(:part * :units / :parts + 1, (:part + 1) * :units / :parts) AS g));
