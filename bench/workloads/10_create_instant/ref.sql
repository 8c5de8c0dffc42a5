-- title: create order, INSTANT (unit allocated)
-- what: ref.create_order (PL/pgSQL), a fresh poNumber each time
\set n :n + 1
\set w :writer + :client_id % :writers
SELECT response FROM ref.create_order(:w, :instant_product, 1, :denomination, :email, :tag,
	CAST(:run AS text) || '-' || :client_id || '-' || :n);
