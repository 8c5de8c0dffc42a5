-- The limit: rows of the bare transition UPDATE (no trigger), and the
-- client id its bare order inserts use.
SELECT bench.param('limit', 'writer', 1);
SELECT bench.load_transition_rows('limit', 'lim.orders', 2, :transition_rows,
		jsonb_build_object('status', $$'PENDING'$$));
