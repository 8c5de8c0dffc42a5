-- Audit of API calls: one row per call, never a secret, a token or a code.
-- Append-only for everybody (the same triggers as status_history).

CREATE TABLE orders.api_audit (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at			timestamptz NOT NULL DEFAULT clock_timestamp(),
	client_id	bigint,			-- NULL: not authenticated
	api_key_id	bigint,
	auth_method text CHECK (auth_method IN ('key', 'token')),
	operation	text NOT NULL,
	order_id	bigint,
	status		integer NOT NULL CHECK (status BETWEEN 100 AND 599)
);
CREATE INDEX ON orders.api_audit (client_id, at);
COMMENT ON TABLE orders.api_audit IS
'append-only audit of API calls: when, which client and key, which operation and order, which HTTP status';
SELECT pg_catalog.pg_extension_config_dump('orders.api_audit', '');
-- and its identity sequence, or a restored database would number new rows
-- from 1 again: every audited call would fail on a duplicate id.
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('orders.api_audit', 'id'), '');

SELECT orders.make_append_only('orders.api_audit');

-- The client comes from the identity, never from an argument.  In a
-- READ ONLY transaction (PostgREST serves GET that way) nothing can be
-- written: the call is skipped and docs/api.md says so.
CREATE FUNCTION orders.api_audit_write(p_operation text, p_order_id bigint, p_status integer)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	IF current_setting('transaction_read_only')::boolean THEN
		RETURN;
	END IF;
	INSERT INTO orders.api_audit (client_id, api_key_id, auth_method, operation, order_id, status)
	VALUES (orders.current_client_id(), orders.current_api_key_id(),
			orders.current_auth_method(), p_operation, p_order_id, p_status);
END
$$;
COMMENT ON FUNCTION orders.api_audit_write(text, bigint, integer) IS
'internal: appends the audit row of an API call for the current client (skipped in a read-only transaction)';
