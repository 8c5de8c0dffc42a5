-- what: orders.vault_encrypt: AES-256-GCM in C, random nonce, bound to row and field
-- requires: orders.vault_encrypt
SELECT sum(length(orders.vault_encrypt(c.plain, c.n, 'card_number'))) FROM bench.codes c;
