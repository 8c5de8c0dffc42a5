-- The engine: the vault workloads' codes, under the vault's key, each bound
-- to its row (n) and field.
-- requires: orders.vault_encrypt
UPDATE bench.codes SET ours = orders.vault_encrypt(plain, n, 'card_number');
