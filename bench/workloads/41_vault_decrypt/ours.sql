-- what: orders.vault_decrypt: AES-256-GCM in C, tag and row binding checked
-- requires: orders.vault_decrypt
SELECT sum(length(orders.vault_decrypt(c.ours, c.n, 'card_number'))) FROM bench.codes c;
