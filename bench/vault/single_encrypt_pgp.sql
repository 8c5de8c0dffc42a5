\set id random(1, 1000)
SELECT pgp_sym_encrypt(code, 'bench passphrase') FROM bench_codes WHERE id = :id;
