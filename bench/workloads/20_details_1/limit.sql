-- what: bare fetch of the rows the details show: the order, its items and their units' ciphertexts (one indexed join, no decryption, no audit, no JSON)
-- requires: orders.order_details
\set id random(:d1_lo, :d1_hi)
SELECT o.*, i.id, i.status, u.expires_at, u.card_number_enc, u.pin_code_enc, u.claim_url_enc, u.reference_enc
  FROM orders.orders o JOIN orders.order_items i ON i.order_id = o.id JOIN orders.inventory_units u ON u.id = i.unit_id
 WHERE o.id = :id AND o.client_id = :reader;
