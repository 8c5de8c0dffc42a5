-- Log hygiene for the roles that handle voucher codes (docs/vault.md#logs).
-- What protects a code from the server log:
--   1. bind parameters: a code sent as a parameter is not in the statement
--      text, and parameters are logged only through the settings below;
--   2. errors that never quote values (the vault's and load_inventory's);
--   3. settings on the login roles that load or read codes: no statement
--      logging, no statement or parameters on error, and their errors not
--      logged at all: built-in errors quote input (a code passed where a
--      number is expected: invalid input syntax for type numeric: "<code>";
--      malformed JSON: DETAIL and CONTEXT quote the text).  The client still
--      gets every error; terse verbosity stays as a second line of defence
--      should an operator lower log_min_messages;
--   4. load_inventory itself sets log_min_error_statement = panic for the
--      errors raised inside it, whoever calls it.
-- Role settings apply to sessions that log in as that role: membership in
-- orders_vendor does not carry them, so apply orders.quiet_logging() to each
-- login role that loads codes.

CREATE FUNCTION orders.quiet_logging(p_role regrole) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
	s record;
BEGIN
	FOR s IN SELECT * FROM (VALUES
			('log_statement', 'none'),
			('log_min_duration_statement', '-1'),
			('log_min_duration_sample', '-1'),
			('log_transaction_sample_rate', '0'),
			('log_min_error_statement', 'panic'),
			('log_parameter_max_length', '0'),
			('log_parameter_max_length_on_error', '0'),
			('log_error_verbosity', 'terse'),
			('log_min_messages', 'fatal')) AS v(name, value)
	LOOP
		EXECUTE format('ALTER ROLE %s SET %I = %L', p_role, s.name, s.value);
	END LOOP;
END
$$;
COMMENT ON FUNCTION orders.quiet_logging(regrole) IS
'sets on a login role the settings that keep statements, parameters and error details of its sessions out of the server log';
REVOKE EXECUTE ON FUNCTION orders.quiet_logging(regrole) FROM PUBLIC;

SELECT orders.quiet_logging('orders_admin');
SELECT orders.quiet_logging('orders_vendor');
