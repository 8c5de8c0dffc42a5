-- Listing a client's orders (reference 004), built for a client with
-- millions of orders placing orders from many connections at once
-- (docs/design.md, "Listing orders" and "Orders and money"):
--   - every order has a client_seq, unique per client and increasing in the
--     order the orders were numbered: its id (drawn from the identity
--     sequence), so numbering takes no lock; gaps are allowed, newest first
--     is client_seq DESC;
--   - counts per (client, product, status) and per block of 1024 client_seq
--     are append-only deltas written by statement triggers (an INSERT, never
--     an update of a shared counter row), rolled up into order_counts and
--     order_count_blocks by orders.roll_up_order_counts() (run by
--     orders.run_maintenance()); a reader sums the rolled-up rows and the
--     deltas not rolled up yet, in one snapshot, so totals stay exact;
--   - a page finds the block holding its first row from those counts and
--     walks at most that block's matching rows, not every row before it.

CREATE TABLE orders.order_counts (
	client_id	bigint NOT NULL,
	product_id	bigint NOT NULL,
	status		orders.order_status NOT NULL,
	n			bigint NOT NULL,	-- no CHECK: a status moved away is a negative delta
	PRIMARY KEY (client_id, product_id, status)
);
COMMENT ON TABLE orders.order_counts IS
'number of orders per client, product and status, as of the last roll-up (add orders.order_count_deltas for the exact count)';

-- Block size of order_count_blocks (docs/design.md, "Listing orders"): a
-- page walks at most one block of the filter's index before its rows, and
-- summing to the page's block reads one counter per block above it.
CREATE FUNCTION orders.order_block_size() RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 1024::bigint $$;
COMMENT ON FUNCTION orders.order_block_size() IS
'client_seq per block of orders.order_count_blocks (block = client_seq / this)';

CREATE TABLE orders.order_count_blocks (
	client_id	bigint NOT NULL,
	product_id	bigint NOT NULL,
	status		orders.order_status NOT NULL,
	block		bigint NOT NULL,	-- client_seq / orders.order_block_size()
	n			bigint NOT NULL,
	PRIMARY KEY (client_id, product_id, status, block)
);
COMMENT ON TABLE orders.order_count_blocks IS
'number of orders per client, product, status and block of client_seq, as of the last roll-up: where a deep page of the order list starts';
-- One index per filter shape, newest block first: status and product
-- (the primary key), status only, product only, none.
CREATE INDEX order_count_blocks_by_status ON orders.order_count_blocks (client_id, status, block);
CREATE INDEX order_count_blocks_by_product ON orders.order_count_blocks (client_id, product_id, block);
CREATE INDEX order_count_blocks_by_client ON orders.order_count_blocks (client_id, block);

-- Append-only between roll-ups: every order inserted, deleted or moved to
-- another status adds +1 / -1 here.  Concurrent orders of one client insert
-- rows side by side instead of waiting for each other on a counter row.
CREATE TABLE orders.order_count_deltas (
	client_id	bigint NOT NULL,
	product_id	bigint NOT NULL,
	status		orders.order_status NOT NULL,
	block		bigint NOT NULL,
	n			bigint NOT NULL
);
CREATE INDEX order_count_deltas_by_client ON orders.order_count_deltas (client_id, block);
COMMENT ON TABLE orders.order_count_deltas IS
'order count changes not rolled up yet (orders.roll_up_order_counts): readers add them to order_counts / order_count_blocks';

-- client_seq is the order's id unless the writer gives one: unique,
-- increasing in the order the orders were numbered, no lock.  The create
-- path writes it itself (src/order_create.c), so this trigger only runs for
-- other inserts (imports, tests): the WHEN clause skips it otherwise.
CREATE FUNCTION orders.order_client_seq() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	NEW.client_seq := NEW.id;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION orders.order_client_seq() IS
'trigger: an order inserted without a client_seq takes its id as client_seq';
CREATE TRIGGER order_client_seq
	BEFORE INSERT ON orders.orders
	FOR EACH ROW WHEN (NEW.client_seq IS NULL)
	EXECUTE FUNCTION orders.order_client_seq();
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER order_client_seq;

CREATE INDEX orders_by_client_status ON orders.orders (client_id, status, client_seq);
CREATE INDEX orders_by_client_product ON orders.orders (client_id, product_id, client_seq);
CREATE INDEX orders_by_client_placed_at ON orders.orders (client_id, placed_at);

-- SECURITY DEFINER: counting must work whoever writes the orders.
CREATE FUNCTION orders.order_count() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	-- Once per statement, from its transition tables: one delta per
	-- (client, product, status, block) the statement changed.
	IF TG_OP = 'INSERT' THEN
		INSERT INTO orders.order_count_deltas (client_id, product_id, status, block, n)
		SELECT client_id, product_id, status, client_seq / orders.order_block_size(), count(*)
		FROM new_rows GROUP BY 1, 2, 3, 4;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO orders.order_count_deltas (client_id, product_id, status, block, n)
		SELECT client_id, product_id, status, client_seq / orders.order_block_size(), -count(*)
		FROM old_rows GROUP BY 1, 2, 3, 4;
	ELSE
		INSERT INTO orders.order_count_deltas (client_id, product_id, status, block, n)
		SELECT client_id, product_id, status, client_seq / orders.order_block_size(), sum(d)
		FROM (SELECT client_id, product_id, status, client_seq, 1 AS d FROM new_rows
			  UNION ALL
			  SELECT client_id, product_id, status, client_seq, -1 FROM old_rows) m
		GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.order_count() IS
'statement trigger: appends to orders.order_count_deltas the count changes of the orders inserted, moved or deleted';

-- Transition tables allow one event per trigger.
CREATE TRIGGER order_count_insert AFTER INSERT ON orders.orders
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION orders.order_count();
CREATE TRIGGER order_count_update AFTER UPDATE ON orders.orders
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION orders.order_count();
CREATE TRIGGER order_count_delete AFTER DELETE ON orders.orders
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION orders.order_count();
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER order_count_insert;
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER order_count_update;
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER order_count_delete;

-- Folds the committed deltas into order_counts and order_count_blocks, in
-- one statement (a reader sees the deltas or their sum, never both or
-- neither).  Deltas of transactions still running are not visible and wait
-- for the next round; two roll-ups at once fold each delta once (the second
-- skips the rows the first deleted).  Counters in key order: two roll-ups
-- cannot deadlock.  Returns the number of deltas folded.
CREATE FUNCTION orders.roll_up_order_counts() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	WITH taken AS (
		DELETE FROM orders.order_count_deltas RETURNING *
	), per_block AS (
		SELECT client_id, product_id, status, block, sum(n) AS n, count(*) AS deltas
		FROM taken GROUP BY 1, 2, 3, 4
	), blocks AS (
		INSERT INTO orders.order_count_blocks AS c (client_id, product_id, status, block, n)
		SELECT client_id, product_id, status, block, n FROM per_block ORDER BY 1, 2, 3, 4
		ON CONFLICT (client_id, product_id, status, block) DO UPDATE SET n = c.n + excluded.n
	), totals AS (
		INSERT INTO orders.order_counts AS c (client_id, product_id, status, n)
		SELECT client_id, product_id, status, sum(n) FROM per_block GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
		ON CONFLICT (client_id, product_id, status) DO UPDATE SET n = c.n + excluded.n
	)
	SELECT coalesce(sum(deltas), 0)::bigint FROM per_block
$$;
COMMENT ON FUNCTION orders.roll_up_order_counts() IS
'folds the committed orders.order_count_deltas into order_counts and order_count_blocks (run by orders.run_maintenance); returns how many it folded';

CREATE FUNCTION orders.rfc3339(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
	SELECT pg_catalog.to_char(pg_catalog.timezone('UTC', p_at), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
COMMENT ON FUNCTION orders.rfc3339(timestamptz) IS
'a time as RFC 3339 in UTC, to the second ("2024-01-15T10:30:00Z")';

-- The fields references 002 (details) and 004 (list) share.
CREATE FUNCTION orders.order_common_json(o orders.orders) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT pg_catalog.jsonb_build_object(
		'id', o.id,
		'reference_code', o.reference_code,
		'transaction_id', o.transaction_id,
		'product_id', o.product_id,
		'denomination', orders.money_text(o.denomination),
		'quantity', o.quantity,
		'amount', orders.money_text(o.amount_charged),
		'status', o.status,
		'placed_at', orders.rfc3339(o.placed_at))
$$;
COMMENT ON FUNCTION orders.order_common_json(orders.orders) IS
'the fields of an order that order details (reference 002) and the order list (reference 004) share';

-- An order as an element of the reference 004 list.
CREATE FUNCTION orders.order_list_item(o orders.orders, p orders.products) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT orders.order_common_json(o) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
		'product_name', p.name,
		'currency', coalesce(o.charge_currency, p.currency),
		'email', o.email,
		'mobile', CASE WHEN o.mobile_number IS NOT NULL THEN
			pg_catalog.jsonb_build_object('mobile_country_code', o.mobile_country_code,
							   'mobile_number', o.mobile_number) END)
$$;
COMMENT ON FUNCTION orders.order_list_item(orders.orders, orders.products) IS
'an order as an element of the reference 004 list response';

CREATE FUNCTION orders.list_orders(
	p_client_id bigint,
	p_page integer DEFAULT 1,
	p_limit integer DEFAULT 10,
	p_status text DEFAULT NULL,
	p_product_id bigint DEFAULT NULL,
	p_placed_from timestamptz DEFAULT NULL,
	p_placed_to timestamptz DEFAULT NULL,
	p_po_number text DEFAULT NULL,
	OUT items jsonb,
	OUT page integer,
	OUT per_page integer,
	OUT total_count bigint,
	OUT total_pages bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	st orders.order_status;
	seqs bigint[];
	skip bigint;		-- matching rows before the page
	blocks refcursor;	-- a filter's block counters, newest block first
	blk bigint;
	blk_rows bigint;
	above bigint := 0;	-- matching rows in the blocks above blk
	below bigint;		-- the page's rows have a client_seq below this
BEGIN
	page := coalesce(p_page, 1);
	per_page := coalesce(p_limit, 10);
	IF page < 1 THEN
		RAISE EXCEPTION 'page: must be an integer >= 1, got %', page USING ERRCODE = 'OR100';
	END IF;
	IF per_page NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'limit: must be an integer from 1 to 100, got %', per_page USING ERRCODE = 'OR100';
	END IF;
	IF p_status IS NOT NULL THEN
		BEGIN
			st := p_status::orders.order_status;
		EXCEPTION WHEN invalid_text_representation THEN
			RAISE EXCEPTION 'status: unknown order status "%"', left(p_status, 40)
				USING ERRCODE = 'OR100',
					  HINT = 'Use one of ' || (SELECT string_agg(l, ', ')
											  FROM orders.labels('orders.order_status') l) || ', in any case.';
		END;
	END IF;
	IF p_product_id <= 0 THEN
		RAISE EXCEPTION 'product_id: must be a positive integer' USING ERRCODE = 'OR100';
	END IF;
	IF p_placed_from >= p_placed_to THEN
		RAISE EXCEPTION 'placed-at range: from (%) must be before to (%)',
			orders.rfc3339(p_placed_from), orders.rfc3339(p_placed_to) USING ERRCODE = 'OR100';
	END IF;
	-- The reference's rules for a poNumber (src/order_money.c,
	-- order_check_request): not blank, at most 100 characters, no control
	-- characters.  A value no order can have is a client's mistake, not an
	-- empty list.
	IF p_po_number IS NOT NULL AND (btrim(p_po_number) = '' OR length(p_po_number) > 100
									OR p_po_number ~ '[[:cntrl:]]') THEN
		RAISE EXCEPTION 'po_number: must be 1 to 100 characters, not blank, without control characters'
			USING ERRCODE = 'OR100';
	END IF;

	IF p_po_number IS NOT NULL THEN
		-- (client_id, po_number) is unique: at most one order, found by that
		-- index (MATERIALIZED: the planner cannot pick another index for
		-- the other filters), which then decide whether it is in the list.
		-- The total is that count (0 or 1), exact without the counters.
		WITH by_po AS MATERIALIZED (
			SELECT o.client_seq, o.status, o.product_id, o.placed_at FROM orders.orders o
			WHERE o.client_id = p_client_id AND o.po_number = p_po_number)
		SELECT array_agg(o.client_seq) INTO seqs
		FROM by_po o
		WHERE (p_placed_from IS NULL OR o.placed_at >= p_placed_from)
		  AND (p_placed_to IS NULL OR o.placed_at < p_placed_to)
		  AND (st IS NULL OR o.status = st)
		  AND (p_product_id IS NULL OR o.product_id = p_product_id);
		total_count := coalesce(cardinality(seqs), 0);
		IF page > 1 THEN
			seqs := NULL;
		END IF;
	ELSIF p_placed_from IS NULL AND p_placed_to IS NULL THEN
		-- The total: the rolled-up counts plus the deltas not rolled up yet,
		-- both read in this statement's snapshot, so exact.
		SELECT coalesce(sum(x.n), 0) INTO total_count
		FROM (SELECT c.n FROM orders.order_counts c
			  WHERE c.client_id = p_client_id AND (st IS NULL OR c.status = st)
				AND (p_product_id IS NULL OR c.product_id = p_product_id)
			  UNION ALL
			  SELECT d.n FROM orders.order_count_deltas d
			  WHERE d.client_id = p_client_id AND (st IS NULL OR d.status = st)
				AND (p_product_id IS NULL OR d.product_id = p_product_id)) x;
		-- The page from the block holding its first row (block counts,
		-- newest block down, stopping there), then the filter's index from
		-- the top of that block, skipping only that block's rows above the
		-- page (at most a block) -- not every matching row before the page.
		skip := (page - 1)::bigint * per_page;
		IF skip < total_count THEN
			-- One query per filter shape, each on its own index.
			IF st IS NULL AND p_product_id IS NULL THEN
				OPEN blocks FOR SELECT x.block, sum(x.n) FROM (
					SELECT c.block, c.n FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id
					UNION ALL
					SELECT d.block, d.n FROM orders.order_count_deltas d
					WHERE d.client_id = p_client_id) x
					GROUP BY x.block ORDER BY x.block DESC;
			ELSIF p_product_id IS NULL THEN
				OPEN blocks FOR SELECT x.block, sum(x.n) FROM (
					SELECT c.block, c.n FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id AND c.status = st
					UNION ALL
					SELECT d.block, d.n FROM orders.order_count_deltas d
					WHERE d.client_id = p_client_id AND d.status = st) x
					GROUP BY x.block ORDER BY x.block DESC;
			ELSIF st IS NULL THEN
				OPEN blocks FOR SELECT x.block, sum(x.n) FROM (
					SELECT c.block, c.n FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id AND c.product_id = p_product_id
					UNION ALL
					SELECT d.block, d.n FROM orders.order_count_deltas d
					WHERE d.client_id = p_client_id AND d.product_id = p_product_id) x
					GROUP BY x.block ORDER BY x.block DESC;
			ELSE
				OPEN blocks FOR SELECT x.block, sum(x.n) FROM (
					SELECT c.block, c.n FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id AND c.status = st AND c.product_id = p_product_id
					UNION ALL
					SELECT d.block, d.n FROM orders.order_count_deltas d
					WHERE d.client_id = p_client_id AND d.status = st AND d.product_id = p_product_id) x
					GROUP BY x.block ORDER BY x.block DESC;
			END IF;
			LOOP
				FETCH blocks INTO blk, blk_rows;
				EXIT WHEN NOT FOUND OR above + blk_rows > skip;
				above := above + blk_rows;
			END LOOP;
			CLOSE blocks;
			-- The page's first row is in block blk (skip < total_count):
			-- skip - above matching rows of that block come before it.
			below := (blk + 1) * orders.order_block_size();
			skip := skip - above;
			IF st IS NULL AND p_product_id IS NULL THEN
				SELECT array_agg(f.client_seq) INTO seqs
				FROM (SELECT o.client_seq FROM orders.orders o
					  WHERE o.client_id = p_client_id AND o.client_seq < below
					  ORDER BY o.client_seq DESC OFFSET skip LIMIT per_page) f;
			ELSIF p_product_id IS NULL THEN
				SELECT array_agg(f.client_seq) INTO seqs
				FROM (SELECT o.client_seq FROM orders.orders o
					  WHERE o.client_id = p_client_id AND o.status = st AND o.client_seq < below
					  ORDER BY o.client_seq DESC OFFSET skip LIMIT per_page) f;
			ELSIF st IS NULL THEN
				SELECT array_agg(f.client_seq) INTO seqs
				FROM (SELECT o.client_seq FROM orders.orders o
					  WHERE o.client_id = p_client_id AND o.product_id = p_product_id AND o.client_seq < below
					  ORDER BY o.client_seq DESC OFFSET skip LIMIT per_page) f;
			ELSE
				SELECT array_agg(f.client_seq) INTO seqs
				FROM (SELECT o.client_seq FROM orders.orders o
					  WHERE o.client_id = p_client_id AND o.status = st AND o.product_id = p_product_id AND o.client_seq < below
					  ORDER BY o.client_seq DESC OFFSET skip LIMIT per_page) f;
			END IF;
		END IF;
	ELSE
		-- Within a placed-at range: counted and walked in the range
		-- (client_seq is not ordered by placed_at: docs/design.md,
		-- "Listing orders").
		SELECT count(*) INTO total_count FROM orders.orders o
		WHERE o.client_id = p_client_id
		  AND (p_placed_from IS NULL OR o.placed_at >= p_placed_from)
		  AND (p_placed_to IS NULL OR o.placed_at < p_placed_to)
		  AND (st IS NULL OR o.status = st)
		  AND (p_product_id IS NULL OR o.product_id = p_product_id);
		SELECT array_agg(f.client_seq) INTO seqs
		FROM (SELECT o.client_seq FROM orders.orders o
			  WHERE o.client_id = p_client_id
				AND (p_placed_from IS NULL OR o.placed_at >= p_placed_from)
				AND (p_placed_to IS NULL OR o.placed_at < p_placed_to)
				AND (st IS NULL OR o.status = st)
				AND (p_product_id IS NULL OR o.product_id = p_product_id)
			  ORDER BY o.client_seq DESC
			  OFFSET (page - 1)::bigint * per_page LIMIT per_page) f;
	END IF;
	SELECT coalesce(jsonb_agg(orders.order_list_item(o, p) ORDER BY o.client_seq DESC), '[]')
	INTO items
	FROM orders.orders o JOIN orders.products p ON p.id = o.product_id
	WHERE o.client_id = p_client_id AND o.client_seq = ANY (seqs);
	total_pages := (total_count + per_page - 1) / per_page;
END
$$;
COMMENT ON FUNCTION orders.list_orders(bigint, integer, integer, text, bigint, timestamptz, timestamptz, text) IS
'a page of the client''s orders (reference 004), newest first, with the totals for X-Total-Count and X-Total-Pages; placed-at range is [from, to); po_number: the order with that poNumber (at most one), if it passes the other filters';

-- The schema's default privileges cannot take EXECUTE from PUBLIC (they only
-- add to the global defaults): revoke it from each function here.
REVOKE EXECUTE ON FUNCTION
	orders.order_block_size(),
	orders.order_client_seq(),
	orders.order_count(),
	orders.roll_up_order_counts(),
	orders.rfc3339(timestamptz),
	orders.order_common_json(orders.orders),
	orders.order_list_item(orders.orders, orders.products),
	orders.list_orders(bigint, integer, integer, text, bigint, timestamptz, timestamptz, text)
	FROM PUBLIC;
