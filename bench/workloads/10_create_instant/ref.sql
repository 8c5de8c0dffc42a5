-- title: create order, INSTANT (unit allocated)
-- what: ref.create_order (PL/pgSQL), a fresh poNumber each time
\set n :n + 1
SELECT response FROM ref.create_order(:writer, :instant_product, 1, :denomination, :email, :tag,
	CAST(:run AS text) || '-' || :client_id || '-' || :n);
