\set id random(1, 1000)
SELECT encrypt(convert_to(code, 'UTF8'), bench_key(), 'aes') FROM bench_codes WHERE id = :id;
