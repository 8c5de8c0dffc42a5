-- Reveal: the one read path that decrypts vouchers (docs/vault.md).  Only an
-- order's own client, only DELIVERED items of a DELIVERED or
-- PARTIALLY_DELIVERED order; anything else is an empty array (never an
-- error that would tell an order exists).  Every revealed item has a row in
-- orders.voucher_reveals, committed by the reveal audit worker before the
-- first decryption: so the reveal works in a READ ONLY transaction, and its
-- audit stands even if the caller's transaction rolls back.

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

-- Hands the audit records to the worker and returns once they are committed
-- (src/reveal_audit.c); raises OR303 when they cannot be.  Owner only.
CREATE FUNCTION orders.vault_audit_reveal(p_client_id bigint, p_order_id bigint,
										  p_item_ids bigint[], p_unit_ids bigint[])
RETURNS void
AS 'MODULE_PATHNAME', 'vault_audit_reveal' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orders.vault_audit_reveal(bigint, bigint, bigint[], bigint[]) IS
'commits, through the reveal audit worker, one orders.voucher_reveals row per item (by the calling role) and returns only then; OR303 when it cannot';
REVOKE EXECUTE ON FUNCTION orders.vault_audit_reveal(bigint, bigint, bigint[], bigint[]) FROM PUBLIC;

CREATE FUNCTION orders.reveal_vouchers(p_client_id bigint, p_order_id bigint)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, orders
AS $$
DECLARE
	v_items bigint[];
	v_units bigint[];
	v_expires timestamptz[];
	v_cards bytea[];
	v_pins bytea[];
	v_urls bytea[];
	v_refs bytea[];
BEGIN
	-- One read of what is revealed: what is audited is what is decrypted.
	SELECT array_agg(i.id ORDER BY i.id), array_agg(u.id ORDER BY i.id),
		   array_agg(u.expires_at ORDER BY i.id), array_agg(u.card_number_enc ORDER BY i.id),
		   array_agg(u.pin_code_enc ORDER BY i.id), array_agg(u.claim_url_enc ORDER BY i.id),
		   array_agg(u.reference_enc ORDER BY i.id)
	INTO v_items, v_units, v_expires, v_cards, v_pins, v_urls, v_refs
	FROM orders.orders o
	JOIN orders.order_items i ON i.order_id = o.id
	JOIN orders.inventory_units u ON u.id = i.unit_id
	WHERE o.id = p_order_id AND o.client_id = p_client_id
	  AND o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED')
	  AND i.client_id = p_client_id AND i.status = 'DELIVERED';
	IF v_items IS NULL THEN
		RETURN '[]';
	END IF;
	-- Committed before anything is decrypted; an error here reveals nothing.
	PERFORM orders.vault_audit_reveal(p_client_id, p_order_id, v_items, v_units);
	RETURN (
		SELECT jsonb_agg(jsonb_build_object(
				'card_number', orders.vault_decrypt(r.card, r.unit_id, 'card_number'),
				'pin_code', orders.vault_decrypt(r.pin, r.unit_id, 'pin_code'),
				'claim_url', orders.vault_decrypt(r.url, r.unit_id, 'claim_url'),
				'voucher_reference_number',
					orders.vault_decrypt(r.ref, r.unit_id, 'voucher_reference_number'),
				'expires_at', orders.rfc3339(r.expires_at))
				ORDER BY r.item_id)
		FROM unnest(v_items, v_units, v_expires, v_cards, v_pins, v_urls, v_refs)
			AS r(item_id, unit_id, expires_at, card, pin, url, ref));
END
$$;
COMMENT ON FUNCTION orders.reveal_vouchers(bigint, bigint) IS
'decrypted vouchers of the DELIVERED items of a client''s DELIVERED / PARTIALLY_DELIVERED order, [] otherwise; each audited (committed by the reveal audit worker) before it is decrypted';

-- Not granted to any role: the read paths (orders.order_details, the api
-- schema) call it as the extension's owner, with the client they derived.
REVOKE EXECUTE ON FUNCTION orders.reveal_vouchers(bigint, bigint) FROM PUBLIC;
