-- title: create order, DELAYED (no inventory)
-- what: ref.create_order of a product without inventory: the order waits for a vendor
\set n :n + 1
SELECT response FROM ref.create_order(:writer, :delayed_product, 1, :denomination, :email, :tag,
	CAST(:run AS text) || '-' || :client_id || '-' || :n);
