-- Listing a client's orders (reference 004), built for a client with
-- millions of orders (docs/design.md, "Listing orders"):
--   - every order gets client_seq = 1, 2, 3... per client, without gaps, and
--     a placed_at that never decreases along it, so an unfiltered page (or a
--     placed-at range) is a range of client_seq computed by arithmetic: page
--     500 reads its 20 rows, not the 10,000 before them;
--   - totals come from order_counts, kept per (client, product, status) by
--     statement triggers, not from counting rows;
--   - a status- or product-filtered page finds the block of 1024 client_seq
--     holding its first row from order_count_blocks (the same counts per
--     block of client_seq) and walks at most that block's matching rows,
--     not every matching row before the page.

CREATE TABLE orders.order_counts (
	client_id	bigint NOT NULL,
	product_id	bigint NOT NULL,
	status		orders.order_status NOT NULL,
	n			bigint NOT NULL,	-- no CHECK: a decrement is an upsert of a negative n
	PRIMARY KEY (client_id, product_id, status)
);
COMMENT ON TABLE orders.order_counts IS
'number of orders per client, product and status, kept by triggers: the totals of the order list';

-- Block size of order_count_blocks (docs/design.md, "Listing orders"): a
-- filtered page walks at most one block of the filter's index before its
-- rows, and summing to the page's block reads one counter per block above
-- it.  1024: the walk (under a millisecond, index-only) and the sum (page
-- 500 of 20 reads about a dozen blocks) stay small together.
CREATE FUNCTION orders.order_block_size() RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 1024::bigint $$;
COMMENT ON FUNCTION orders.order_block_size() IS
'client_seq per block of orders.order_count_blocks (block = client_seq / this)';

CREATE TABLE orders.order_count_blocks (
	client_id	bigint NOT NULL,
	product_id	bigint NOT NULL,
	status		orders.order_status NOT NULL,
	block		bigint NOT NULL,	-- client_seq / orders.order_block_size()
	n			bigint NOT NULL,	-- no CHECK: a decrement is an upsert of a negative n
	PRIMARY KEY (client_id, product_id, status, block)
);
COMMENT ON TABLE orders.order_count_blocks IS
'number of orders per client, product, status and block of client_seq, kept by triggers: where a deep page of a filtered order list starts';
-- One index per filter shape, newest block first: status and product
-- (the primary key), status only, product only.  n is in none of them, so
-- that a counter's update can be HOT.
CREATE INDEX order_count_blocks_by_status ON orders.order_count_blocks (client_id, status, block);
CREATE INDEX order_count_blocks_by_product ON orders.order_count_blocks (client_id, product_id, block);

CREATE INDEX orders_by_client_status ON orders.orders (client_id, status, client_seq);
CREATE INDEX orders_by_client_product ON orders.orders (client_id, product_id, client_seq);
CREATE INDEX orders_by_client_placed_at ON orders.orders (client_id, placed_at, client_seq);

-- SECURITY DEFINER (both triggers): numbering and counting must work
-- whoever inserts, and see every order of the client whatever row-level
-- security the caller is under.  enable_seqscan off: a bulk load into a
-- table the planner still believes empty would otherwise scan every row
-- loaded so far, for each new one (quadratic; tried).
CREATE FUNCTION orders.order_sequence() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, orders SET enable_seqscan = off AS $$
DECLARE
	last_seq bigint;
	last_placed_at timestamptz;
BEGIN
	-- The client's row lock, held to commit: a client's orders are numbered
	-- one at a time, so the next number below is exact.  The number is read
	-- from the orders themselves: an INSERT that fails or does nothing (a
	-- duplicate poNumber with ON CONFLICT DO NOTHING) leaves no gap.  (A row lock, not an advisory lock: a bulk load of many
	-- clients in one transaction takes no lock-table slot per client.  And
	-- no counter row updated per order: a bulk load would walk an ever
	-- longer chain of its own versions of that row.)
	PERFORM 1 FROM orders.clients WHERE id = NEW.client_id FOR NO KEY UPDATE;
	-- The client's last order (rows inserted earlier by the same statement
	-- included): one probe of the unique index (client_id, client_seq).
	SELECT o.client_seq, o.placed_at INTO last_seq, last_placed_at
	FROM orders.orders o WHERE o.client_id = NEW.client_id
	ORDER BY o.client_seq DESC LIMIT 1;
	NEW.client_seq := coalesce(last_seq, 0) + 1;
	NEW.placed_at := greatest(NEW.placed_at, last_placed_at);
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION orders.order_sequence() IS
'trigger: numbers a client''s new order (client_seq without gaps) and keeps placed_at non-decreasing along it';

CREATE TRIGGER order_sequence
	BEFORE INSERT ON orders.orders
	FOR EACH ROW EXECUTE FUNCTION orders.order_sequence();
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER order_sequence;

CREATE FUNCTION orders.order_count() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	moved orders.order_count_blocks[];	-- the changes per counter of a block
BEGIN
	-- Once per statement, from its transition tables: a bulk load of a
	-- million orders is one upsert per (client, product, status) and per
	-- block of those, not a million updates of the same counter.
	IF TG_OP = 'INSERT' THEN
		SELECT array_agg(ROW(client_id, product_id, status, block, n)::orders.order_count_blocks)
		INTO moved
		FROM (SELECT client_id, product_id, status, client_seq / orders.order_block_size() AS block,
					 count(*) AS n
			  FROM new_rows GROUP BY 1, 2, 3, 4) d;
	ELSIF TG_OP = 'DELETE' THEN
		SELECT array_agg(ROW(client_id, product_id, status, block, n)::orders.order_count_blocks)
		INTO moved
		FROM (SELECT client_id, product_id, status, client_seq / orders.order_block_size() AS block,
					 -count(*) AS n
			  FROM old_rows GROUP BY 1, 2, 3, 4) d;
	ELSE
		SELECT array_agg(ROW(client_id, product_id, status, block, n)::orders.order_count_blocks)
		INTO moved
		FROM (SELECT client_id, product_id, status, client_seq / orders.order_block_size() AS block,
					 sum(d) AS n
			  FROM (SELECT client_id, product_id, status, client_seq, 1 AS d FROM new_rows
					UNION ALL
					SELECT client_id, product_id, status, client_seq, -1 FROM old_rows) m
			  GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0) d;
	END IF;
	IF moved IS NULL THEN
		RETURN NULL;	-- nothing inserted or deleted, no status moved
	END IF;
	-- Counters in key order, the totals before the blocks: two
	-- transactions moving orders between the same statuses lock the
	-- counters in the same order.
	INSERT INTO orders.order_counts AS c (client_id, product_id, status, n)
	SELECT m.client_id, m.product_id, m.status, sum(m.n) FROM unnest(moved) m
	GROUP BY 1, 2, 3 HAVING sum(m.n) <> 0 ORDER BY 1, 2, 3
	ON CONFLICT (client_id, product_id, status) DO UPDATE SET n = c.n + excluded.n;
	INSERT INTO orders.order_count_blocks AS c (client_id, product_id, status, block, n)
	SELECT m.client_id, m.product_id, m.status, m.block, m.n FROM unnest(moved) m
	ORDER BY 1, 2, 3, 4
	ON CONFLICT (client_id, product_id, status, block) DO UPDATE SET n = c.n + excluded.n;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.order_count() IS
'statement trigger: keeps orders.order_counts and orders.order_count_blocks in step with the orders inserted, moved or deleted';

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
	OUT items jsonb,
	OUT page integer,
	OUT per_page integer,
	OUT total_count bigint,
	OUT total_pages bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	st orders.order_status;
	lo bigint;			-- the client_seq range of the placed-at filter
	hi bigint;
	top bigint;			-- client_seq of the page's first (newest) row
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

	-- The placed-at range as a client_seq range (placed_at never decreases
	-- along client_seq): two probes of orders_by_client_placed_at.
	SELECT o.client_seq INTO hi FROM orders.orders o WHERE o.client_id = p_client_id
	ORDER BY o.client_seq DESC LIMIT 1;
	hi := coalesce(hi, 0);
	lo := 1;
	IF p_placed_from IS NOT NULL THEN
		SELECT o.client_seq INTO lo FROM orders.orders o
		WHERE o.client_id = p_client_id AND o.placed_at >= p_placed_from
		ORDER BY o.placed_at, o.client_seq LIMIT 1;
		lo := coalesce(lo, hi + 1);
	END IF;
	IF p_placed_to IS NOT NULL THEN
		SELECT o.client_seq INTO hi FROM orders.orders o
		WHERE o.client_id = p_client_id AND o.placed_at < p_placed_to
		ORDER BY o.placed_at DESC, o.client_seq DESC LIMIT 1;
		hi := coalesce(hi, 0);
	END IF;

	IF st IS NULL AND p_product_id IS NULL THEN
		-- No filter but dates: the page is a client_seq range.
		total_count := greatest(hi - lo + 1, 0);
		top := hi - (page - 1)::bigint * per_page;
		SELECT coalesce(jsonb_agg(orders.order_list_item(o, p) ORDER BY o.client_seq DESC), '[]')
		INTO items
		FROM orders.orders o JOIN orders.products p ON p.id = o.product_id
		WHERE o.client_id = p_client_id
		  AND o.client_seq BETWEEN greatest(top - per_page + 1, lo) AND top;
	ELSIF p_placed_from IS NULL AND p_placed_to IS NULL THEN
		-- Filtered by status and/or product: the total from order_counts;
		-- the page from the block holding its first row (order_count_blocks,
		-- newest block down, stopping there), then the filter's index from
		-- the top of that block, skipping only that block's rows above the
		-- page (at most a block) -- not every matching row before the page.
		SELECT coalesce(sum(c.n), 0) INTO total_count FROM orders.order_counts c
		WHERE c.client_id = p_client_id
		  AND (st IS NULL OR c.status = st)
		  AND (p_product_id IS NULL OR c.product_id = p_product_id);
		skip := (page - 1)::bigint * per_page;
		IF skip < total_count THEN
			-- One query per filter shape, each on its own index.
			IF p_product_id IS NULL THEN
				OPEN blocks FOR SELECT c.block, sum(c.n) FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id AND c.status = st
					GROUP BY c.block ORDER BY c.block DESC;
			ELSIF st IS NULL THEN
				OPEN blocks FOR SELECT c.block, sum(c.n) FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id AND c.product_id = p_product_id
					GROUP BY c.block ORDER BY c.block DESC;
			ELSE
				OPEN blocks FOR SELECT c.block, c.n FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id AND c.product_id = p_product_id AND c.status = st
					ORDER BY c.block DESC;
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
			IF p_product_id IS NULL THEN
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
					  WHERE o.client_id = p_client_id AND o.status = st AND o.product_id = p_product_id
						AND o.client_seq < below
					  ORDER BY o.client_seq DESC OFFSET skip LIMIT per_page) f;
			END IF;
		END IF;
	ELSE
		-- Filtered within a placed-at range: counted and walked on the
		-- filter's index within the range's client_seq (the blocks do not
		-- follow the range's ends; docs/design.md, "Listing orders").
		SELECT count(*) INTO total_count FROM orders.orders o
		WHERE o.client_id = p_client_id AND o.client_seq BETWEEN lo AND hi
		  AND (st IS NULL OR o.status = st)
		  AND (p_product_id IS NULL OR o.product_id = p_product_id);
		SELECT array_agg(f.client_seq) INTO seqs
		FROM (SELECT o.client_seq FROM orders.orders o
			  WHERE o.client_id = p_client_id AND o.client_seq BETWEEN lo AND hi
				AND (st IS NULL OR o.status = st)
				AND (p_product_id IS NULL OR o.product_id = p_product_id)
			  ORDER BY o.client_seq DESC
			  OFFSET (page - 1)::bigint * per_page LIMIT per_page) f;
	END IF;
	IF st IS NOT NULL OR p_product_id IS NOT NULL THEN
		SELECT coalesce(jsonb_agg(orders.order_list_item(o, p) ORDER BY o.client_seq DESC), '[]')
		INTO items
		FROM orders.orders o JOIN orders.products p ON p.id = o.product_id
		WHERE o.client_id = p_client_id AND o.client_seq = ANY (seqs);
	END IF;
	total_pages := (total_count + per_page - 1) / per_page;
END
$$;
COMMENT ON FUNCTION orders.list_orders(bigint, integer, integer, text, bigint, timestamptz, timestamptz) IS
'a page of the client''s orders (reference 004), newest first, with the totals for X-Total-Count and X-Total-Pages; placed-at range is [from, to)';

-- The schema's default privileges cannot take EXECUTE from PUBLIC (they only
-- add to the global defaults): revoke it from each function here.
REVOKE EXECUTE ON FUNCTION
	orders.order_block_size(),
	orders.order_sequence(),
	orders.order_count(),
	orders.rfc3339(timestamptz),
	orders.order_common_json(orders.orders),
	orders.order_list_item(orders.orders, orders.products),
	orders.list_orders(bigint, integer, integer, text, bigint, timestamptz, timestamptz)
	FROM PUBLIC;
