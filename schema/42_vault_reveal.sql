-- Reveal: the one read path that decrypts vouchers (docs/vault.md).  Only an
-- order's own client, only DELIVERED items of a DELIVERED or
-- PARTIALLY_DELIVERED order; anything else is an empty array (never an
-- error that would tell an order exists).  Every revealed item appends a row
-- to orders.voucher_reveals.

CREATE TABLE orders.voucher_reveals (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_id	bigint NOT NULL,
	order_item_id bigint NOT NULL,
	unit_id		bigint NOT NULL,
	revealed_at timestamptz NOT NULL DEFAULT now(),
	revealed_by text NOT NULL
);
CREATE INDEX ON orders.voucher_reveals (client_id, order_id);
COMMENT ON TABLE orders.voucher_reveals IS
'append-only audit of every voucher reveal: client, order, item, unit, when, by which role';

SELECT orders.make_append_only('orders.voucher_reveals');

CREATE FUNCTION orders.reveal_vouchers(p_client_id bigint, p_order_id bigint)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, orders
AS $$
DECLARE
	v_vouchers jsonb;
BEGIN
	WITH revealed AS MATERIALIZED (
		SELECT i.id AS item_id, u.id AS unit_id, u.expires_at,
			   u.card_number_enc, u.pin_code_enc, u.claim_url_enc, u.reference_enc
		FROM orders.orders o
		JOIN orders.order_items i ON i.order_id = o.id
		JOIN orders.inventory_units u ON u.id = i.unit_id
		WHERE o.id = p_order_id AND o.client_id = p_client_id
		  AND o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED')
		  AND i.client_id = p_client_id AND i.status = 'DELIVERED'
	), audit AS (
		INSERT INTO orders.voucher_reveals (client_id, order_id, order_item_id, unit_id, revealed_by)
		SELECT p_client_id, p_order_id, r.item_id, r.unit_id, orders.calling_role()
		FROM revealed r
	)
	SELECT coalesce(jsonb_agg(jsonb_build_object(
			'card_number', orders.vault_decrypt(r.card_number_enc, r.unit_id, 'card_number'),
			'pin_code', orders.vault_decrypt(r.pin_code_enc, r.unit_id, 'pin_code'),
			'claim_url', orders.vault_decrypt(r.claim_url_enc, r.unit_id, 'claim_url'),
			'voucher_reference_number',
				orders.vault_decrypt(r.reference_enc, r.unit_id, 'voucher_reference_number'),
			'expires_at', orders.rfc3339(r.expires_at))
			ORDER BY r.item_id), '[]'::jsonb)
	INTO v_vouchers
	FROM revealed r;
	RETURN v_vouchers;
END
$$;
COMMENT ON FUNCTION orders.reveal_vouchers(bigint, bigint) IS
'decrypted vouchers of the DELIVERED items of a client''s DELIVERED / PARTIALLY_DELIVERED order, [] otherwise; audits each';

-- Not granted to any role: the read paths (orders.order_details, the api
-- schema) call it as the extension's owner, with the client they derived.
REVOKE EXECUTE ON FUNCTION orders.reveal_vouchers(bigint, bigint) FROM PUBLIC;
