-- Rows for the status-transition workloads, the same for every
-- implementation: p_n orders of one client, left PENDING (through the
-- table's own lifecycle trigger, if it has one), their ids recorded as
-- trans_lo .. trans_hi.  The workloads toggle them PENDING <-> PROCESSING,
-- a pair of legal moves that can repeat forever.
CREATE FUNCTION bench.load_transition_rows(p_impl text, p_table regclass, p_client bigint,
										   p_n bigint, p_cols jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	SELECT * INTO r FROM bench.fill(p_table, p_n, jsonb_build_object(
		'client_id', p_client::text, 'po_number', $q$'t-' || g$q$, 'product_id', '1001',
		'denomination', '25.00', 'quantity', '1') || p_cols);
	EXECUTE format('UPDATE %s SET status = ''PENDING'' WHERE id BETWEEN $1 AND $2'
				   ' AND status <> ''PENDING''', p_table) USING r.first_id, r.last_id;
	PERFORM bench.range_param(p_impl, 'trans', r.first_id, r.last_id);
END
$$;
COMMENT ON FUNCTION bench.load_transition_rows(text, regclass, bigint, bigint, jsonb) IS
'creates the PENDING rows the transition workloads toggle';
