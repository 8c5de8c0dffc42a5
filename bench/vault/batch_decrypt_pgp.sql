SELECT count(pgp_sym_decrypt(pgp, 'bench passphrase')) FROM bench_codes WHERE id <= 20;
