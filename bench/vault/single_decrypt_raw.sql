\set id random(1, 1000)
SELECT convert_from(decrypt(raw, bench_key(), 'aes'), 'UTF8') FROM bench_codes WHERE id = :id;
