-- Loading inventory through the vault: single, JSON batch and typed set;
-- codes encrypted on the way in, bound to their row; every bad input a clear
-- error naming the entry and the field (never a value) that writes nothing.
\set SHOW_CONTEXT never

INSERT INTO orders.products (id, name, currency, delivery_type) VALUES
	(3001, 'Vault Load Card', 'USD', 'CODE_WITH_PIN'),
	(3002, 'Vault Load Link', 'EUR', 'URL'),
	(3003, 'Vault Load Card Two', 'USD', 'CODE_WITH_PIN');

-- Decrypt, or the SQLSTATE and message of the failure.
CREATE FUNCTION pg_temp.try_decrypt(c bytea, r bigint, f text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	RETURN CASE WHEN orders.vault_decrypt(c, r, f) IS NULL THEN 'null' ELSE 'decrypts' END;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Decrypted fields of a unit, compared with what was loaded.
CREATE FUNCTION pg_temp.unit_matches(p_unit bigint, p_card text, p_pin text, p_url text, p_ref text)
RETURNS boolean LANGUAGE sql AS $$
	SELECT orders.vault_decrypt(card_number_enc, id, 'card_number') IS NOT DISTINCT FROM p_card
	   AND orders.vault_decrypt(pin_code_enc, id, 'pin_code') IS NOT DISTINCT FROM p_pin
	   AND orders.vault_decrypt(claim_url_enc, id, 'claim_url') IS NOT DISTINCT FROM p_url
	   AND orders.vault_decrypt(reference_enc, id, 'voucher_reference_number') IS NOT DISTINCT FROM p_ref
	FROM orders.inventory_units WHERE id = p_unit
$$;

-- One unit, every field.
SELECT orders.load_inventory(3001, 25, now() + interval '1 year',
	'LOAD-CARD-0001', '4321', 'https://redeem.example.com/c/0001', 'REF-0001') AS unit \gset
SELECT status, key_id, denomination,
	   pg_temp.unit_matches(id, 'LOAD-CARD-0001', '4321', 'https://redeem.example.com/c/0001', 'REF-0001') AS round_trip,
	   orders.vault_key_id(card_number_enc) AS card_key, octet_length(fingerprint) AS fingerprint_bytes
FROM orders.inventory_units WHERE id = :unit;

-- Without a PIN; a URL-only unit of a URL product; non-ASCII and long values.
SELECT orders.load_inventory(3001, 10, now() + interval '1 year', 'LOAD-CARD-0002') AS no_pin \gset
SELECT orders.load_inventory(3002, 5, now() + interval '1 year', p_claim_url => 'https://redeem.example.com/u/0003') AS url_only \gset
SELECT orders.load_inventory(3001, 10, now() + interval '1 year', 'KARTE-ÄÖÜ-0004', 'ß✓', NULL, 'Référence 漢字') AS non_ascii \gset
SELECT orders.load_inventory(3002, 5, now() + interval '1 year', NULL, NULL,
	'https://redeem.example.com/' || repeat('x', 2021), repeat('R', 256)) AS long_values \gset
SELECT u.what, i.status, i.pin_code_enc IS NULL AS no_pin_stored, i.card_number_enc IS NULL AS no_card_stored,
	   pg_temp.unit_matches(i.id, u.card, u.pin, u.url, u.ref) AS round_trip
FROM (VALUES
	('no PIN', :no_pin, 'LOAD-CARD-0002', NULL, NULL, NULL),
	('URL only', :url_only, NULL, NULL, 'https://redeem.example.com/u/0003', NULL),
	('non-ASCII', :non_ascii, 'KARTE-ÄÖÜ-0004', 'ß✓', NULL, 'Référence 漢字'),
	('longest allowed', :long_values, NULL, NULL, 'https://redeem.example.com/' || repeat('x', 2021), repeat('R', 256))
) AS u(what, unit, card, pin, url, ref)
JOIN orders.inventory_units i ON i.id = u.unit
ORDER BY u.unit;

-- A JSON batch: one result row per entry, in order; an entry already
-- expired is loaded BLOCKED; numbers and strings both work for denomination.
CREATE TEMP TABLE json_batch AS
SELECT * FROM orders.load_inventory('[
	{"product_id": 3001, "denomination": 50, "expires_at": "2031-01-31T12:00:00Z",
	 "card_number": "LOAD-CARD-0005", "pin_code": "0005"},
	{"product_id": 3001, "denomination": "12.50", "expires_at": "2020-01-01T00:00:00+02:00",
	 "card_number": "LOAD-CARD-0006", "voucher_reference_number": null},
	{"product_id": 3002, "denomination": 5, "expires_at": "2031-06-30T23:59:59-05:00",
	 "claim_url": "https://redeem.example.com/u/0007"}
]'::jsonb);
SELECT l.entry, l.status, i.status AS stored_status, i.denomination,
	   to_char(i.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS expires_utc
FROM json_batch l JOIN orders.inventory_units i ON i.id = l.unit_id
ORDER BY l.entry;

-- The same as a typed set (orders.voucher_input[]).
SELECT l.entry, l.status
FROM orders.load_inventory(ARRAY[
	ROW(3001, 20, now() + interval '1 day', 'LOAD-CARD-0008', '0008', NULL, NULL),
	ROW(3001, 20, now() - interval '1 day', 'LOAD-CARD-0009', NULL, NULL, 'REF-0009')
]::orders.voucher_input[]) AS l ORDER BY l.entry;

-- The same code is a duplicate for the same product only.
SELECT orders.load_inventory(3003, 25, now() + interval '1 year', 'LOAD-CARD-0001') IS NOT NULL AS other_product_ok;

-- Every kind of bad input: a clear error, nothing written.
SELECT count(*) AS units_before FROM orders.inventory_units WHERE product_id BETWEEN 3001 AND 3003 \gset
SELECT * FROM orders.load_inventory(ARRAY[]::orders.voucher_input[]);
SELECT * FROM orders.load_inventory('{"product_id": 3001}'::jsonb);
SELECT * FROM orders.load_inventory('[42]'::jsonb);
SELECT * FROM orders.load_inventory('[{"product_id": 3001, "denomination": 1, "expires_at": "2031-01-01T00:00:00Z", "card_number": "LOAD-BAD-1", "pin": "1"}]'::jsonb);
SELECT * FROM orders.load_inventory('[{"product_id": "3001", "denomination": 1, "expires_at": "2031-01-01T00:00:00Z", "card_number": "LOAD-BAD-1"}]'::jsonb);
SELECT * FROM orders.load_inventory('[{"product_id": 3001.5, "denomination": 1, "expires_at": "2031-01-01T00:00:00Z", "card_number": "LOAD-BAD-1"}]'::jsonb);
SELECT * FROM orders.load_inventory('[{"product_id": 3001, "denomination": "ten", "expires_at": "2031-01-01T00:00:00Z", "card_number": "LOAD-BAD-1"}]'::jsonb);
SELECT * FROM orders.load_inventory('[{"product_id": 3001, "denomination": 1, "expires_at": "2031-01-01 00:00:00", "card_number": "LOAD-BAD-1"}]'::jsonb);
SELECT * FROM orders.load_inventory('[{"product_id": 3001, "denomination": 1, "expires_at": "2031-02-30T00:00:00Z", "card_number": "LOAD-BAD-1"}]'::jsonb);
SELECT * FROM orders.load_inventory('[{"product_id": 3001, "denomination": 1, "expires_at": "2031-01-01T00:00:00Z", "card_number": 4111111111111111}]'::jsonb);
SELECT * FROM orders.load_inventory('[{"product_id": 3001, "denomination": 1, "expires_at": "2031-01-01T00:00:00Z", "card_number": "LOAD-BAD-1"},
	{"product_id": 3001, "denomination": 1, "expires_at": "2031-01-01T00:00:00Z", "card_number": "LOAD-BAD-2", "pin_code": ["1"]}]'::jsonb);
SELECT orders.load_inventory(NULL, 1, now(), 'LOAD-BAD-1');
SELECT orders.load_inventory(3999, 1, now(), 'LOAD-BAD-1');
SELECT orders.load_inventory(3001, NULL, now(), 'LOAD-BAD-1');
SELECT orders.load_inventory(3001, 0, now(), 'LOAD-BAD-1');
SELECT orders.load_inventory(3001, 'NaN', now(), 'LOAD-BAD-1');
SELECT orders.load_inventory(3001, 1e12, now(), 'LOAD-BAD-1');
SELECT orders.load_inventory(3001, 1.005, now(), 'LOAD-BAD-1');
SELECT orders.load_inventory(3001, 1, NULL, 'LOAD-BAD-1');
SELECT orders.load_inventory(3001, 1, now(), NULL, '1234');
SELECT orders.load_inventory(3002, 1, now(), 'LOAD-BAD-1');
SELECT orders.load_inventory(3001, 1, now(), '');
SELECT orders.load_inventory(3001, 1, now(), ' LOAD-BAD-1');
SELECT orders.load_inventory(3001, 1, now(), 'LOAD-BAD-1', 'PIN ');
SELECT orders.load_inventory(3001, 1, now(), repeat('9', 257));
SELECT orders.load_inventory(3002, 1, now(), NULL, NULL, 'https://redeem.example.com/' || repeat('x', 2022));
SELECT orders.load_inventory(3001, 1, now(), 'LOAD-BAD-1', repeat('1', 65));
SELECT orders.load_inventory(3001, 1, now(), 'LOAD-BAD-1', NULL, NULL, repeat('R', 257));
-- duplicates: within a batch, with a unit loaded before, URL-only too
SELECT * FROM orders.load_inventory('[
	{"product_id": 3001, "denomination": 1, "expires_at": "2031-01-01T00:00:00Z", "card_number": "LOAD-BAD-1"},
	{"product_id": 3001, "denomination": 1, "expires_at": "2031-01-01T00:00:00Z", "card_number": "LOAD-BAD-2"},
	{"product_id": 3001, "denomination": 2, "expires_at": "2032-01-01T00:00:00Z", "card_number": "LOAD-BAD-1"}]'::jsonb);
SELECT * FROM orders.load_inventory('[
	{"product_id": 3001, "denomination": 1, "expires_at": "2031-01-01T00:00:00Z", "card_number": "LOAD-BAD-1"},
	{"product_id": 3001, "denomination": 1, "expires_at": "2031-01-01T00:00:00Z", "card_number": "LOAD-CARD-0005"}]'::jsonb);
SELECT orders.load_inventory(3002, 5, now() + interval '1 year', p_claim_url => 'https://redeem.example.com/u/0003');
SELECT count(*) - :units_before AS units_written_by_bad_input
FROM orders.inventory_units WHERE product_id BETWEEN 3001 AND 3003;

-- No plaintext column: the codes exist only as ciphertexts and a fingerprint.
SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = 'orders' AND table_name = 'inventory_units'
  AND (column_name ~ 'card|pin|url|reference|fingerprint' OR data_type IN ('text', 'character varying'))
ORDER BY ordinal_position;

-- A ciphertext copied onto another unit's row does not decrypt there (and
-- decrypts again once put back).
SELECT card_number_enc AS saved_card FROM orders.inventory_units WHERE id = :no_pin \gset
UPDATE orders.inventory_units SET card_number_enc = (SELECT card_number_enc FROM orders.inventory_units WHERE id = :unit)
WHERE id = :no_pin;
SELECT regexp_replace(pg_temp.try_decrypt(card_number_enc, id, 'card_number'), 'row \d+', 'row N') AS moved
FROM orders.inventory_units WHERE id = :no_pin;
UPDATE orders.inventory_units SET card_number_enc = :'saved_card' WHERE id = :no_pin;
SELECT pg_temp.unit_matches(:no_pin, 'LOAD-CARD-0002', NULL, NULL, NULL) AS put_back;

-- The roles: orders_vendor and orders_admin load (the history records who);
-- orders_api may not; none of them can read a code back.
SET ROLE orders_vendor;
SELECT orders.load_inventory(3001, 10, now() + interval '1 year', 'LOAD-CARD-0010') AS vendor_unit \gset
SET ROLE orders_admin;
SELECT count(*) AS admin_loaded FROM orders.load_inventory('[{"product_id": 3001, "denomination": 10, "expires_at": "2031-01-01T00:00:00Z", "card_number": "LOAD-CARD-0011"}]'::jsonb);
SELECT orders.vault_decrypt('\x00'::bytea, 1, 'card_number');
SET ROLE orders_api;
SELECT orders.load_inventory(3001, 10, now() + interval '1 year', 'LOAD-CARD-0012');
RESET ROLE;
SELECT actor, to_status FROM orders.status_history
WHERE entity = 'inventory_unit' AND entity_id = :vendor_unit;
