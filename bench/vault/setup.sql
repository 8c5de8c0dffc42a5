-- bench/vault: 1000 16-byte codes, each encrypted by the three
-- implementations; the raw AES key is a fixed bench key.
CREATE EXTENSION orders CASCADE;
CREATE TABLE bench_codes AS
SELECT g AS id, 'CODE-' || lpad(g::text, 11, '0') AS code FROM generate_series(1, 1000) AS g;
ALTER TABLE bench_codes ADD PRIMARY KEY (id);
ALTER TABLE bench_codes ADD COLUMN ours bytea, ADD COLUMN pgp bytea, ADD COLUMN raw bytea;
CREATE FUNCTION bench_key() RETURNS bytea IMMUTABLE LANGUAGE sql
AS $$ SELECT decode(repeat('5a', 32), 'hex') $$;
UPDATE bench_codes SET
	ours = orders.vault_encrypt(code, id, 'card_number'),
	pgp = pgp_sym_encrypt(code, 'bench passphrase'),
	raw = encrypt(convert_to(code, 'UTF8'), bench_key(), 'aes');
DO $$
BEGIN
	IF (SELECT min(octet_length(code)) FROM bench_codes) <> 16
	   OR (SELECT max(octet_length(code)) FROM bench_codes) <> 16 THEN
		RAISE EXCEPTION 'codes are not 16 bytes';
	END IF;
END $$;
VACUUM ANALYZE bench_codes;
