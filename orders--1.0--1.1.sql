-- orders 1.0 -> 1.1: ALTER EXTENSION orders UPDATE TO '1.1'.
-- Each change of the database objects between the two versions, in the
-- order of schema/ (docs/releases.md).  test/upgrade/run.sh proves that 1.0
-- plus this script gives the catalog of a fresh 1.1.

\echo Use "ALTER EXTENSION orders UPDATE TO '1.1'" to load this file. \quit

-- The types' comments are generated from src/labels.c (issue 11): every
-- type now lists its labels and aliases the same way.
COMMENT ON TYPE orders.order_sub_status IS
'detailed order sub-status (new labels are appended over time): INITIAL, PROCESSING, PARTIAL, COMPLETED, VENDOR_ORDER_PENDING, VENDOR_ORDER_CREATED, VENDOR_ORDER_FAILED, VENDOR_VOUCHER_FETCHED, INVENTORY_FULFILLED, PENDING_REPROCESS, REPROCESS_EXPIRED, GV_LINK_PENDING, GV_LINK_CLAIMED, GV_LINK_UNCLAIMED, BULK_LIMIT_EXCEEDED, REFUNDED, NOT_REFUNDED, RECONCILED';
COMMENT ON TYPE orders.delivery_time IS
'how fast a voucher is expected: INSTANT, DELAYED; input aliases: REALTIME = INSTANT';
COMMENT ON TYPE orders.delivery_type IS
'delivery format of a voucher: CODE_WITH_PIN, URL';
COMMENT ON TYPE orders.link_type IS
'access model of a redemption URL: PUBLIC, PROTECTED';

-- A request without credentials never runs as the client an earlier
-- request of the same transaction authenticated: authentication starts by
-- clearing the identity (schema/70_identity.sql, schema/81_api_auth.sql).
CREATE FUNCTION orders.clear_current_client() RETURNS void
	AS 'MODULE_PATHNAME', 'identity_clear_current_client'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION orders.clear_current_client() IS
'internal: nobody is authenticated from here to the end of the (sub)transaction (authentication starts with it); refuses unless running as the extension owner; granted to nobody';
REVOKE EXECUTE ON FUNCTION orders.clear_current_client() FROM PUBLIC;

CREATE OR REPLACE FUNCTION orders.api_authenticate(p_headers jsonb) RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	key_id text := nullif(p_headers->>'x-api-key', '');
	secret text := nullif(p_headers->>'x-api-secret', '');
	auth_header text := nullif(p_headers->>'authorization', '');
	client bigint;
BEGIN
	-- Whoever an earlier request of this transaction authenticated, this
	-- one starts anonymous.
	PERFORM orders.clear_current_client();
	IF key_id IS NOT NULL OR secret IS NOT NULL THEN
		client := orders.authenticate_key(key_id, secret);
	ELSIF auth_header IS NOT NULL THEN
		IF auth_header ~* '^bearer +[^ ]+$' THEN
			client := orders.authenticate_token(substring(auth_header FROM '[^ ]+$'));
		END IF;
	ELSE
		RETURN NULL;
	END IF;
	IF client IS NULL THEN
		RETURN orders.api_unauthorized();
	END IF;
	RETURN NULL;
END
$$;
