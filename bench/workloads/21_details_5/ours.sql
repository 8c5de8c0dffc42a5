-- what: orders.order_details: the vault decrypts code and PIN in C, one audit row per voucher
-- requires: orders.order_details
\set id random(:d5_lo, :d5_hi)
SELECT orders.order_details(:reader, :id);
