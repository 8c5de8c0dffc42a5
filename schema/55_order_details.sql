-- One order of a client (reference 002), and the lookup by poNumber the
-- reference advises after a 5xx.  Vouchers come decrypted from the vault
-- (orders.reveal_vouchers, schema/4x), which reveals only the DELIVERED
-- items of a DELIVERED or PARTIALLY_DELIVERED order of that client, and
-- audits each reveal.

-- VOLATILE: revealing writes audit rows.  The vault's function is called
-- (and planned) only for a delivered order.
CREATE FUNCTION orders.order_details(p_client_id bigint, p_order_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	o orders.orders;
	vouchers jsonb := '[]';
BEGIN
	IF p_order_id IS NULL OR p_order_id <= 0 THEN
		RAISE EXCEPTION 'id: must be an integer > 0' USING ERRCODE = 'OR100';
	END IF;
	-- Another client's order is answered exactly like a missing one.
	SELECT * INTO o FROM orders.orders WHERE id = p_order_id AND client_id = p_client_id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED') THEN
		vouchers := orders.reveal_vouchers(p_client_id, o.id);
	END IF;
	RETURN orders.order_common_json(o) || jsonb_build_object(
		'discount', orders.money_text(o.order_discount),
		'vouchers', vouchers);
END
$$;
COMMENT ON FUNCTION orders.order_details(bigint, bigint) IS
'the client''s order as reference 002 shows it, vouchers decrypted when delivered; NULL when the client has no such order (unknown and another client''s alike)';

CREATE FUNCTION orders.find_order_by_po(p_client_id bigint, p_po_number text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	oid bigint;
BEGIN
	SELECT o.id INTO oid FROM orders.orders o
	WHERE o.client_id = p_client_id AND o.po_number = p_po_number;
	RETURN CASE WHEN oid IS NOT NULL THEN orders.order_details(p_client_id, oid) END;
END
$$;
COMMENT ON FUNCTION orders.find_order_by_po(bigint, text) IS
'the order details (reference 002) of the client''s order with that poNumber, NULL when there is none';

-- The schema's default privileges cannot take EXECUTE from PUBLIC (they only
-- add to the global defaults): revoke it from each function here.
REVOKE EXECUTE ON FUNCTION
	orders.order_details(bigint, bigint),
	orders.find_order_by_po(bigint, text)
	FROM PUBLIC;
