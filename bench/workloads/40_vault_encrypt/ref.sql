-- title: vault encrypt, 16-byte code
-- what: pgp_sym_encrypt (AES-256, pgcrypto's default key derivation)
SELECT sum(length(ref.vault_encrypt(c.plain))) FROM bench.codes c;
