-- what: orders.order_details with the vault's decrypt call replaced by a constant (bench.order_details_nodecrypt, generated from the engine's own functions): everything but the cipher
-- requires: bench.order_details_nodecrypt
\set id random(:d1_lo, :d1_hi)
SELECT bench.order_details_nodecrypt(:reader, :id);
