-- Key rotation across two keys.  The cluster starts with key 1;
-- scripts/test.sh also writes a file with keys 1 and 2 and one with key 2
-- alone (ORDERS_TEST_KEYS_1_2, ORDERS_TEST_KEYS_2): this test switches the
-- setting to each with ALTER SYSTEM and a reload, as an operator would.  It
-- leaves the cluster on key 2 alone, which, after the rotation, decrypts
-- every unit of the run.  Rotation works on the whole table, so what is
-- shown here is about this file's product (3201) or holds whatever other
-- files loaded.
\set SHOW_CONTEXT never
\getenv keys_1_2 ORDERS_TEST_KEYS_1_2
\getenv keys_2 ORDERS_TEST_KEYS_2

INSERT INTO orders.clients (name) VALUES ('vault rotation client');
SELECT id AS client FROM orders.clients WHERE name = 'vault rotation client' \gset
INSERT INTO orders.products (id, name, currency, delivery_type) VALUES
	(3201, 'Vault Rotation Card', 'USD', 'CODE_WITH_PIN');

-- 30 units under key 1, and a delivered order of the first one.
CREATE TEMP TABLE loaded AS
SELECT l.entry AS n, l.unit_id
FROM orders.load_inventory((
	SELECT array_agg(ROW(3201, 10, '2032-01-01 00:00:00+00', 'ROTATE-CARD-' || g, 'PIN-' || g,
						 NULL, 'REF-' || g)::orders.voucher_input ORDER BY g)
	FROM generate_series(1, 30) AS g)) AS l;
SELECT count(*) AS units, min(key_id) AS min_key, max(key_id) AS max_key
FROM orders.inventory_units WHERE product_id = 3201;
SELECT orders.vault_encrypt('ROTATE-SPARE', 1, 'card_number') AS key1_value \gset

INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity)
VALUES (:client, 'vault-rotation-1', 3201, 10, 1) RETURNING id AS order_id \gset
UPDATE orders.orders SET status = 'PENDING' WHERE id = :order_id;
SELECT unit_id AS first_unit FROM loaded WHERE n = 1 \gset
UPDATE orders.inventory_units SET status = 'ALLOCATED' WHERE id = :first_unit;
INSERT INTO orders.order_items (client_id, order_id, unit_id, status) VALUES (:client, :order_id, :first_unit, 'PENDING');
UPDATE orders.order_items SET status = 'DELIVERED' WHERE order_id = :order_id;
UPDATE orders.inventory_units SET status = 'DELIVERED' WHERE id = :first_unit;
UPDATE orders.orders SET status = 'DELIVERED', sub_status = 'INVENTORY_FULFILLED' WHERE id = :order_id;
SELECT orders.reveal_vouchers(:client, :order_id) AS revealed_before \gset
-- A webhook endpoint's signing secrets, current and previous, under key 1 too.
INSERT INTO orders.webhook_endpoints (client_id, id, url, event_types, secret, previous_secret, previous_secret_until)
SELECT :client, n.id, 'https://hooks.example.com/rotation', ARRAY['order.failed'],
	   orders.vault_encrypt('whsec_' || encode(sha256('rotation current'), 'base64'), n.id, 'webhook_secret'),
	   orders.vault_encrypt('whsec_' || encode(sha256('rotation previous'), 'base64'), n.id, 'webhook_previous_secret'),
	   now() + interval '1 hour'
FROM (SELECT nextval(pg_get_serial_sequence('orders.webhook_endpoints', 'id')) AS id) n
RETURNING id AS rotation_endpoint \gset

-- Add key 2 (the file now holds keys 1 and 2) and reload.  The sleep gives
-- the postmaster time to re-read the configuration and signal this backend,
-- which applies it before its next statement.
ALTER SYSTEM SET orders.vault_key_file = :'keys_1_2';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT * FROM orders.vault_keys();

-- New values go under key 2; old ones still decrypt; a code loaded under key
-- 1 is still a duplicate (its key-1 fingerprint is found).
SELECT orders.load_inventory(3201, 10, '2032-01-01', 'ROTATE-CARD-NEW') AS new_unit \gset
SELECT key_id, orders.vault_key_id(card_number_enc) AS card_key, orders.vault_key_id(fingerprint) AS fingerprint_key
FROM orders.inventory_units WHERE id = :new_unit;
SELECT orders.load_inventory(3201, 10, '2032-01-01', 'ROTATE-CARD-7');
SELECT key_id, count(*) AS units FROM orders.inventory_units WHERE product_id = 3201 GROUP BY key_id ORDER BY key_id;
SELECT in_key_ring, newest FROM orders.vault_key_usage() WHERE key_id = 1;

-- A key-2 value relabelled as key 1 meets the wrong key: an error.
SELECT orders.vault_encrypt('ROTATE-SPARE', 1, 'card_number') AS key2_value \gset
SELECT orders.vault_decrypt(set_byte(:'key2_value'::bytea, 4, 1), 1, 'card_number');

-- Rotation, one batch at a time (resumable: each call starts where the rows
-- say), by orders_admin; orders_vendor may not.
SET ROLE orders_admin;
SELECT rotated, remaining > 0 AS more_to_do, newest_key_id FROM orders.vault_rotate(10);
RESET ROLE;
SET ROLE orders_vendor;
SELECT * FROM orders.vault_rotate(10);
RESET ROLE;
-- The rest, committing after each batch, with progress notices (their
-- counts depend on the other files' units: not shown).
SET client_min_messages = warning;
CALL orders.vault_rotate_all(7);
RESET client_min_messages;
SELECT * FROM orders.vault_rotate(10);
SELECT key_id, units, in_key_ring, newest FROM orders.vault_key_usage() WHERE key_id = 1;

-- Everything is under key 2, decrypts to what was loaded, and keeps its
-- duplicate protection (fingerprints recomputed under key 2).
SELECT count(*) AS units,
	   bool_and(i.key_id = 2 AND orders.vault_key_id(i.card_number_enc) = 2
				AND orders.vault_key_id(i.pin_code_enc) = 2
				AND orders.vault_key_id(i.reference_enc) = 2
				AND orders.vault_key_id(i.fingerprint) = 2) AS all_under_key_2,
	   bool_and(orders.vault_decrypt(i.card_number_enc, i.id, 'card_number') = 'ROTATE-CARD-' || l.n
				AND orders.vault_decrypt(i.pin_code_enc, i.id, 'pin_code') = 'PIN-' || l.n
				AND orders.vault_decrypt(i.reference_enc, i.id, 'voucher_reference_number') = 'REF-' || l.n
				AND i.claim_url_enc IS NULL) AS all_decrypt,
	   bool_and(i.fingerprint = (orders.vault_fingerprints('ROTATE-CARD-' || l.n, 'card_number'))[1]) AS fingerprints_current
FROM loaded l JOIN orders.inventory_units i ON i.id = l.unit_id;
SELECT orders.load_inventory(3201, 10, '2032-01-01', 'ROTATE-CARD-8');
-- The webhook secrets too (then the endpoint goes: later files count endpoints).
SELECT orders.vault_key_id(secret) AS secret_key, orders.vault_key_id(previous_secret) AS previous_key,
	   orders.vault_decrypt(secret, id, 'webhook_secret') = 'whsec_' || encode(sha256('rotation current'), 'base64')
	   AND orders.vault_decrypt(previous_secret, id, 'webhook_previous_secret')
		   = 'whsec_' || encode(sha256('rotation previous'), 'base64') AS secrets_decrypt
FROM orders.webhook_endpoints WHERE id = :rotation_endpoint;
UPDATE orders.webhook_endpoints
SET deleted_at = now(), secret = NULL, previous_secret = NULL, previous_secret_until = NULL
WHERE id = :rotation_endpoint;

-- Remove key 1 from the file: everything still decrypts; only a value
-- never rotated (kept aside above) needs key 1, and says so.
ALTER SYSTEM SET orders.vault_key_file = :'keys_2';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT * FROM orders.vault_keys();
SELECT orders.reveal_vouchers(:client, :order_id) = :'revealed_before'::jsonb AS same_reveal_after_rotation;
SELECT bool_and((card_number_enc IS NULL OR orders.vault_decrypt(card_number_enc, id, 'card_number') IS NOT NULL)
				AND (pin_code_enc IS NULL OR orders.vault_decrypt(pin_code_enc, id, 'pin_code') IS NOT NULL)
				AND (claim_url_enc IS NULL OR orders.vault_decrypt(claim_url_enc, id, 'claim_url') IS NOT NULL)
				AND (reference_enc IS NULL OR orders.vault_decrypt(reference_enc, id, 'voucher_reference_number') IS NOT NULL))
	   AS every_unit_of_the_run_decrypts
FROM orders.inventory_units WHERE key_id IS NOT NULL;
SELECT orders.vault_decrypt(:'key1_value', 1, 'card_number');
SELECT key_id, in_key_ring, newest FROM orders.vault_key_usage() WHERE key_id <= 2 ORDER BY key_id;
