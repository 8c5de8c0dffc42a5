-- title: vault decrypt, 16-byte code
-- what: pgp_sym_decrypt
SELECT sum(length(public.pgp_sym_decrypt(c.pgp, ref.vault_key()))) FROM bench.codes c;
