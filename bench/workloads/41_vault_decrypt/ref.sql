-- title: vault decrypt, 16-byte code (per statement: every row of bench.codes)
-- what: pgp_sym_decrypt
SELECT sum(length(ref.vault_decrypt(c.pgp))) FROM bench.codes c;
