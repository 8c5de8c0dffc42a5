-- The vault's primitives (docs/vault.md): AES-256-GCM bound to a row id and
-- a field name, under the key ring scripts/test.sh provides (key 1 only).
\set SHOW_CONTEXT never

-- Decrypt, or the SQLSTATE and message of the failure.
CREATE FUNCTION pg_temp.try_decrypt(c bytea, r bigint, f text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	RETURN CASE WHEN orders.vault_decrypt(c, r, f) IS NULL THEN 'null' ELSE 'decrypts' END;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- The key ring: ids, never keys.
SELECT * FROM orders.vault_keys();

-- Round trip of values of every shape through every field the vault uses;
-- the stored value is 33 bytes longer (header, nonce, tag).
CREATE TEMP TABLE samples (n int, what text, value text);
INSERT INTO samples VALUES
	(1, 'card number', '1234-5678-9012-3456'),
	(2, 'empty', ''),
	(3, 'non-ASCII', 'Gutschein ünïcødé ✓ 漢字 🎁'),
	(4, 'long (110 kB)', repeat('long-value-', 10000)),
	(5, 'URL', 'https://redeem.example.com/abc?x=1&y=2'),
	(6, 'inner blanks', ' spaced  out ');
CREATE TEMP TABLE sealed AS
SELECT s.n, f.field, orders.vault_encrypt(s.value, 9000 + s.n, f.field) AS c
FROM samples s
CROSS JOIN unnest(ARRAY['card_number', 'pin_code', 'claim_url', 'voucher_reference_number']) AS f(field);
SELECT s.what, count(*) AS fields,
	   bool_and(orders.vault_decrypt(x.c, 9000 + s.n, x.field) = s.value) AS round_trip,
	   min(octet_length(x.c) - octet_length(s.value)) AS overhead,
	   bool_and(position(convert_to(s.value, 'UTF8') IN x.c) = 0 OR s.value = '') AS no_plaintext_inside
FROM samples s JOIN sealed x USING (n)
GROUP BY s.n, s.what ORDER BY s.n;

-- NULL stays NULL; the same value twice gives two ciphertexts (fresh nonce);
-- the header is format version 1 and key id 1.
SELECT orders.vault_encrypt(NULL, 1, 'card_number') IS NULL AS null_in_null_out,
	   orders.vault_encrypt('same', 1, 'card_number') <> orders.vault_encrypt('same', 1, 'card_number') AS fresh_nonce,
	   substr(orders.vault_encrypt('x', 1, 'card_number'), 1, 5) AS header,
	   orders.vault_key_id(orders.vault_encrypt('x', 1, 'card_number')) AS key_id;

-- Tampering, moving and truncating: every case is an error, never garbage.
SELECT orders.vault_encrypt('TEST-CARD-0007', 7, 'card_number') AS c \gset
SELECT what, pg_temp.try_decrypt(c, r, f) AS result
FROM (VALUES
	('untouched', :'c'::bytea, 7, 'card_number'),
	('version byte changed', set_byte(:'c'::bytea, 0, 2), 7, 'card_number'),
	('key id changed', set_byte(:'c'::bytea, 3, 1), 7, 'card_number'),
	('nonce byte flipped', set_byte(:'c'::bytea, 5, get_byte(:'c'::bytea, 5) # 1), 7, 'card_number'),
	('ciphertext byte flipped', set_byte(:'c'::bytea, 17, get_byte(:'c'::bytea, 17) # 128), 7, 'card_number'),
	('tag byte flipped', set_byte(:'c'::bytea, 46, get_byte(:'c'::bytea, 46) # 1), 7, 'card_number'),
	('tag cut off', substr(:'c'::bytea, 1, 31), 7, 'card_number'),
	('one byte cut off', substr(:'c'::bytea, 1, 46), 7, 'card_number'),
	('byte appended', :'c'::bytea || '\x00'::bytea, 7, 'card_number'),
	('empty', '\x'::bytea, 7, 'card_number'),
	('moved to another row', :'c'::bytea, 8, 'card_number'),
	('moved to another field', :'c'::bytea, 7, 'pin_code')
) AS t(what, c, r, f);

-- Field names are checked (and never quoted: a misplaced argument could be a code).
SELECT orders.vault_encrypt('x', 1, 'Card Number');
SELECT orders.vault_encrypt('x', 1, '');
SELECT orders.vault_decrypt(:'c', 7, repeat('f', 64));
SELECT orders.vault_key_id('\x00'::bytea);

-- Fingerprints: keyed (not a plain SHA-256 of the value), deterministic,
-- distinct per value and per field, tagged with the key id, and the same
-- whether computed from the plaintext or, in C, from a ciphertext.
SELECT cardinality(f) AS keys, octet_length(f[1]) AS bytes,
	   orders.vault_key_id(f[1]) AS key_id,
	   f = orders.vault_fingerprints('TEST-CARD-0007', 'card_number') AS deterministic,
	   f[1] <> (orders.vault_fingerprints('TEST-CARD-0008', 'card_number'))[1] AS differs_per_value,
	   f[1] <> (orders.vault_fingerprints('TEST-CARD-0007', 'claim_url'))[1] AS differs_per_field,
	   position(public.digest('TEST-CARD-0007', 'sha256') IN f[1]) = 0 AS not_a_plain_hash,
	   f[1] = orders.vault_fingerprint_of(:'c', 7, 'card_number') AS same_from_ciphertext
FROM orders.vault_fingerprints('TEST-CARD-0007', 'card_number') AS f;
SELECT orders.vault_fingerprint_of(:'c', 8, 'card_number');

-- Re-encryption leaves a value under the newest key as it is.
SELECT orders.vault_reencrypt(:'c', 7, 'card_number') = :'c'::bytea AS unchanged;

-- The setting names a file; no setting holds a key.  Other roles see neither
-- the setting nor its value.
SELECT name, context, setting <> '' AS is_set
FROM pg_settings WHERE name LIKE 'orders.vault%';
SELECT count(*) AS settings_holding_256_bit_hex FROM pg_settings WHERE setting ~ '[0-9a-fA-F]{64}';
SET ROLE orders_admin;
SELECT count(*) AS visible_to_orders_admin FROM pg_settings WHERE name LIKE 'orders.vault%';
SHOW orders.vault_key_file;
SET ROLE orders_api;
SELECT count(*) AS visible_to_orders_api FROM pg_settings WHERE name LIKE 'orders.vault%';
SELECT current_setting('orders.vault_key_file');
RESET ROLE;

-- Who may execute the vault's functions: nothing is granted to PUBLIC; the
-- primitives and the reveal belong to the owner alone.
SELECT p.oid::regprocedure AS function,
	   coalesce(string_agg(r.rolname, ', ' ORDER BY r.rolname)
				FILTER (WHERE has_function_privilege(r.rolname, p.oid, 'EXECUTE')), '(owner only)') AS executable_by
FROM pg_proc p
CROSS JOIN (VALUES ('orders_admin'), ('orders_vendor'), ('orders_api')) AS r(rolname)
WHERE p.pronamespace = 'orders'::regnamespace
  AND p.proname ~ '^(vault_|voucher_|load_inventory|load_units|reveal_vouchers|calling_role|quiet_logging)'
GROUP BY p.oid ORDER BY p.oid::regprocedure::text;
SELECT count(*) AS granted_to_public
FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
WHERE p.pronamespace = 'orders'::regnamespace AND a.grantee = 0
  AND p.proname ~ '^(vault_|voucher_|load_inventory|load_units|reveal_vouchers|calling_role|quiet_logging)';
