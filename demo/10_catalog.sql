-- Demo catalog (make run): gift cards in several currencies with inventory,
-- a gift card without inventory (DELAYED), a mobile top-up; exchange rates
-- to USD.  Loaded at every start: idempotent.
INSERT INTO orders.products (id, name, currency, kind, denominations, min_denomination,
							 max_denomination, denomination_step, order_quantity_limit,
							 discount_percent, delivery_type, delivery_mode, classification,
							 link_type, vendor_logo)
VALUES
	(1001, 'Amazon Gift Card', 'USD', 'GIFT_CARD', '{10,25,50,100}', NULL, NULL, NULL, 5,
	 2.50, 'CODE_WITH_PIN', 'ONLINE', 'CLOSED_LOOP', NULL, 'https://logos.example/amazon.png'),
	(2001, 'Google Play Gift Card', 'EUR', 'GIFT_CARD', '{15,25,50}', NULL, NULL, NULL, 3,
	 0, 'CODE_WITH_PIN', 'ONLINE', 'CLOSED_LOOP', NULL, 'https://logos.example/google-play.png'),
	(3001, 'Flipkart Gift Card', 'INR', 'GIFT_CARD', NULL, 100, 10000, 100, 2,
	 1.00, 'URL', 'ONLINE', 'CLOSED_LOOP', 'PUBLIC', 'https://logos.example/flipkart.png'),
	(4001, 'Steam Wallet Code', 'GBP', 'GIFT_CARD', '{20,50}', NULL, NULL, NULL, 2,
	 0, 'CODE_WITH_PIN', 'ONLINE', 'CLOSED_LOOP', NULL, ''),
	(5001, 'Jio Prepaid Top-up', 'INR', 'TOPUP', NULL, 10, 5000, 1, 1,
	 0, 'CODE_WITH_PIN', 'ONLINE', 'CLOSED_LOOP', NULL, 'https://logos.example/jio.png')
ON CONFLICT (id) DO NOTHING;

INSERT INTO orders.fx_rates (base, quote, rate)
VALUES ('EUR', 'USD', 1.0850), ('GBP', 'USD', 1.2700), ('INR', 'USD', 0.0120)
ON CONFLICT (base, quote) DO NOTHING;

-- Inventory goes through the vault (encrypted on the way in), so it needs
-- the vault key that make run configures; without one, the gift cards
-- simply stay DELAYED.  Made-up codes: this is a demo.
DO $$
BEGIN
	IF coalesce(current_setting('orders.vault_key_file', true), '') = '' THEN
		RAISE NOTICE 'no vault key configured (orders.vault_key_file): demo inventory not loaded';
		RETURN;
	END IF;
	IF EXISTS (SELECT 1 FROM orders.inventory_units WHERE product_id IN (1001, 2001, 3001)) THEN
		RETURN;
	END IF;
	PERFORM orders.load_inventory(jsonb_agg(u))
	FROM (SELECT jsonb_build_object(
				'product_id', p, 'denomination', d,
				'expires_at', now() + (30 + n) * interval '1 day',
				'card_number', CASE WHEN p <> 3001 THEN 'DEMO' || p || '-' || d || '-' || lpad(n::text, 4, '0') END,
				'pin_code', CASE WHEN p <> 3001 THEN lpad((n * 7919 % 10000)::text, 4, '0') END,
				'claim_url', CASE WHEN p = 3001 THEN 'https://redeem.example/demo/' || d || '/' || n END,
				'voucher_reference_number', 'REF-DEMO-' || p || '-' || n) AS u
		  FROM (VALUES (1001, 10, 20), (1001, 25, 20), (1001, 50, 10), (1001, 100, 5),
					   (2001, 15, 10), (2001, 25, 10), (3001, 500, 5), (3001, 1000, 5)) s(p, d, k),
			   generate_series(1, k) n) units;
END $$;
