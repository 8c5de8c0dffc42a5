\set id random(1, 1000)
SELECT orders.vault_encrypt(code, id, 'card_number') FROM bench_codes WHERE id = :id;
