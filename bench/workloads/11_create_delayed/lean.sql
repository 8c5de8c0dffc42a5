-- what: lean.create_order of a product without units: the order stays PENDING, paid
\set n :n + 1
\set w :writer + :client_id % :writers
SELECT * FROM lean.create_order(:w, :delayed_product, 1, :denomination, :email, :tag,
	CAST(:run AS text) || '-' || :client_id || '-' || :n);
