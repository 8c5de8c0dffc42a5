-- title: order details, 5 vouchers
-- what: ref.order_details: pgp_sym_decrypt of 5 codes and 5 PINs, five audit rows
\set id random(:d5_lo, :d5_hi)
SELECT ref.order_details(:reader, :id);
