-- title: order details, 1 voucher
-- what: ref.order_details: pgp_sym_decrypt of code and PIN, one audit row
\set id random(:d1_lo, :d1_hi)
SELECT ref.order_details(:reader, :id);
