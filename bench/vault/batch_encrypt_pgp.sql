SELECT count(pgp_sym_encrypt(code, 'bench passphrase')) FROM bench_codes WHERE id <= 20;
