-- Reference implementation: the inventory of the INSTANT product, encrypted
-- with pgp_sym_encrypt (about 0.4 ms a field, hence two sessions).
-- parallel: 2

SELECT ref.load_inventory(1001, 25.00, jsonb_agg(jsonb_build_object(
		   'card_number', 'R' || lpad(g::text, 15, '0'),
		   'pin_code', lpad((g * 7919 % 10000)::text, 4, '0'),
		   'expires_at', now() + interval '1 year' + g * interval '1 second')))
  FROM generate_series(:part * :units / :parts + 1, (:part + 1) * :units / :parts) AS g;
