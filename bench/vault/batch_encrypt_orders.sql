SELECT count(orders.vault_encrypt(code, id, 'card_number')) FROM bench_codes;
