-- what: lean.create_order (bench/lean/: the core guarantees only, plain PL/pgSQL), a fresh poNumber each time
\set n :n + 1
\set w :writer + :client_id % :writers
SELECT * FROM lean.create_order(:w, :instant_product, 1, :denomination, :email, :tag,
	CAST(:run AS text) || '-' || :client_id || '-' || :n);
