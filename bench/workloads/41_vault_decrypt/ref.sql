-- title: vault decrypt, 16-byte code
-- what: pgp_sym_decrypt
SELECT sum(length(ref.vault_decrypt(c.pgp))) FROM bench.codes c;
