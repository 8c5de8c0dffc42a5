SELECT count(orders.vault_decrypt(ours, id, 'card_number')) FROM bench_codes;
