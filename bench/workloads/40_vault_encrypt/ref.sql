-- title: vault encrypt, 16-byte code
-- what: pgp_sym_encrypt (AES-256, pgcrypto's default key derivation)
SELECT sum(length(public.pgp_sym_encrypt(c.plain, ref.vault_key(), 'cipher-algo=aes256'))) FROM bench.codes c;
