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

-- GET /api/v1/orders takes a placed-at range (docs/api.md): a parameter
-- type timestamp (RFC 3339) in the route table, its conversion, the
-- route's two new parameters, the handler passing them to
-- orders.list_orders (which took the range already), and what the route
-- table generates: orders.api_call and api.list_orders.
COMMENT ON TYPE orders.api_parameter IS
'internal: a parameter of an API operation: where it comes from (query, path, body, or the authenticated client / key), its type (integer, id, string, timestamp, object) and minimum';
-- RFC 3339 date-time (section 5.6): a full date, T, a time, and a Z or
-- numeric offset, so the value never depends on the session's TimeZone.
CREATE FUNCTION orders.api_timestamp_param(p_name text, p_value text) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_value IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$' THEN
		BEGIN
			RETURN p_value::timestamptz;
		EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
			NULL;	-- e.g. 2026-02-30: the error below
		END;
	END IF;
	RAISE EXCEPTION '%: must be an RFC 3339 date-time such as 2026-01-31T00:00:00Z, got "%"',
		p_name, left(p_value, 40) USING ERRCODE = 'OR100';
END
$$;
COMMENT ON FUNCTION orders.api_timestamp_param(text, text) IS
'internal: a parameter that must be an RFC 3339 date-time with a Z or offset; invalid_input (OR100) naming it otherwise; NULL stays NULL';
REVOKE EXECUTE ON FUNCTION orders.api_timestamp_param(text, text) FROM PUBLIC;

UPDATE orders.api_operations
SET parameters = ARRAY[('client', 'client', NULL, NULL), ('page', 'query', 'integer', 1), ('limit', 'query', 'integer', 1),
		   ('status', 'query', 'string', NULL), ('product_id', 'query', 'integer', 1),
		   ('placed_from', 'query', 'timestamp', NULL), ('placed_to', 'query', 'timestamp', NULL)]::orders.api_parameter[],
	description = 'GET /api/v1/orders (reference 004): page (>= 1, default 1), limit (1-100, default 10), status (any case), product_id, placed_from (inclusive) and placed_to (exclusive) as RFC 3339 date-times; newest first; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches'
WHERE operation = 'list_orders';

DROP FUNCTION orders.handle_list_orders(bigint, bigint, bigint, text, bigint);
CREATE FUNCTION orders.handle_list_orders(p_client bigint, p_page bigint, p_limit bigint,
	p_status text, p_product_id bigint, p_placed_from timestamptz, p_placed_to timestamptz)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	r record;
	paging jsonb;
BEGIN
	IF p_page > 2147483647 OR p_limit > 2147483647 THEN
		RETURN orders.api_invalid('page and limit: must be integers within range');
	END IF;
	SELECT * INTO r FROM orders.list_orders(
		p_client,
		p_page => coalesce(p_page, 1)::integer,
		p_limit => coalesce(p_limit, 10)::integer,
		p_status => nullif(btrim(p_status), ''),
		p_product_id => p_product_id,
		p_placed_from => p_placed_from,
		p_placed_to => p_placed_to);
	paging := jsonb_build_object('X-Page', r.page::text, 'X-Per-Page', r.per_page::text,
								 'X-Total-Count', r.total_count::text,
								 'X-Total-Pages', r.total_pages::text);
	-- The reference answers a list without any match with its 404.
	IF jsonb_array_length(r.items) = 0 THEN
		RETURN orders.api_error('no_match', p_headers => paging);
	END IF;
	RETURN orders.api_ok(r.items, 200, paging);
END
$$;
COMMENT ON FUNCTION orders.handle_list_orders(bigint, bigint, bigint, text, bigint, timestamptz, timestamptz) IS
'internal: GET /api/v1/orders (reference 004): newest first; placed_from inclusive, placed_to exclusive; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches';
REVOKE EXECUTE ON FUNCTION orders.handle_list_orders(bigint, bigint, bigint, text, bigint, timestamptz, timestamptz) FROM PUBLIC;

CREATE OR REPLACE FUNCTION orders.api_call_source() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $gen$
	SELECT format($f$CREATE OR REPLACE FUNCTION orders.api_call(p_operation text, p_client bigint,
	p_api_key_id bigint, p_auth_method text, p_params jsonb, p_body jsonb)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $body$
BEGIN
	CASE p_operation
%s
	ELSE
		RETURN orders.api_error('no_match');
	END CASE;
EXCEPTION WHEN OTHERS THEN
	RETURN orders.api_error_from(p_operation, SQLSTATE, SQLERRM);
END
$body$$f$,
		string_agg(format(E'\tWHEN %L THEN\n%s\t\tRETURN orders.%I(%s);',
						  o.operation, g.guards, o.handler, g.args),
				   E'\n' ORDER BY o.operation))
	FROM orders.api_operations o,
	LATERAL (
		SELECT coalesce(string_agg(CASE p.source
					WHEN 'client' THEN E'\t\tIF p_client IS NULL THEN RETURN orders.api_unauthorized(); END IF;\n'
					WHEN 'key' THEN E'\t\tIF p_auth_method IS DISTINCT FROM ''key'' THEN RETURN orders.api_unauthorized(); END IF;\n'
					END, '' ORDER BY n), '') AS guards,
			   coalesce(string_agg(CASE
					WHEN p.source = 'client' THEN 'p_client'
					WHEN p.source = 'key' THEN 'p_api_key_id'
					WHEN p.source = 'body' AND p.type = 'object' THEN
						format('orders.api_object_param(%L, p_body->%L)', p.name, p.name)
					WHEN p.source IN ('query', 'path') AND p.type = 'integer' THEN
						format('orders.api_integer_param(%L, p_params->>%L, %s)', p.name, p.name, p.minimum)
					WHEN p.source IN ('query', 'path') AND p.type = 'id' THEN
						format('orders.api_id_param(%L, p_params->>%L)', p.name, p.name)
					WHEN p.source IN ('query', 'path') AND p.type = 'timestamp' THEN
						format('orders.api_timestamp_param(%L, p_params->>%L)', p.name, p.name)
					WHEN p.source IN ('query', 'path') AND p.type = 'string' THEN
						format('p_params->>%L', p.name)
					END, ', ' ORDER BY n), '') AS args
		FROM unnest(o.parameters) WITH ORDINALITY AS p(name, source, type, minimum, n)
	) g
$gen$;
DO $$ BEGIN EXECUTE orders.api_call_source(); END $$;

DROP FUNCTION api.list_orders(text, text, text, text);
CREATE FUNCTION api.list_orders(page text DEFAULT NULL, "limit" text DEFAULT NULL, status text DEFAULT NULL,
	product_id text DEFAULT NULL, placed_from text DEFAULT NULL, placed_to text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $body$
	SELECT orders.postgrest_reply('list_orders', orders.api_call('list_orders', orders.current_client_id(),
		orders.current_api_key_id(), orders.current_auth_method(), jsonb_build_object('page', page, 'limit', "limit", 'status', status, 'product_id', product_id, 'placed_from', placed_from, 'placed_to', placed_to), NULL))
$body$;
COMMENT ON FUNCTION api.list_orders(text, text, text, text, text, text) IS 'GET /api/v1/orders (reference 004): page (>= 1, default 1), limit (1-100, default 10), status (any case), product_id, placed_from (inclusive) and placed_to (exclusive) as RFC 3339 date-times; newest first; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches';
REVOKE EXECUTE ON FUNCTION api.list_orders(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.list_orders(text, text, text, text, text, text) TO orders_api;

-- Issue 11: vendor vouchers marked in their unit rows; the replay's response, the ledger's triggers and the vendor job's trigger in C.
--
-- No setting as a channel between our own functions.  A vendor
-- job's vouchers are marked in their unit rows (inventory_units.vendor_job_id,
-- NULL for stock) by the loader the vendor report calls (orders.load_units,
-- with the JSON conversion in orders.voucher_inputs_of_json), and the
-- restock trigger serves stock only; orders.store_vendor_vouchers no longer
-- turns orders.restock_on_load off and on around its load.  Units a vendor
-- delivered under 1.0 are found by their delivery (the unit's history
-- reason, the item's order's job) and marked with their job.
ALTER TABLE orders.inventory_units ADD COLUMN vendor_job_id bigint REFERENCES orders.vendor_jobs;
UPDATE orders.inventory_units u SET vendor_job_id = j.id
FROM orders.order_items i JOIN orders.vendor_jobs j ON j.order_id = i.order_id
WHERE i.unit_id = u.id
  AND EXISTS (SELECT 1 FROM orders.status_history h
			  WHERE h.entity = 'inventory_unit' AND h.entity_id = u.id
				AND h.reason = 'vouchers fetched from the vendor');
CREATE FUNCTION orders.load_units(p_units orders.voucher_input[], p_vendor_job_id bigint)
RETURNS TABLE (entry integer, unit_id bigint, status orders.inventory_status)
LANGUAGE plpgsql
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
-- the duplicate checks hash a batch's fingerprints: keep them in memory
SET work_mem = '64MB'
AS $$
#variable_conflict use_column
DECLARE
	max_batch CONSTANT integer := 1000000;
	v_key_id integer;
	v_entry bigint;
	v_problem text;
BEGIN
	IF coalesce(cardinality(p_units), 0) = 0 THEN
		RAISE EXCEPTION 'inventory batch is empty' USING ERRCODE = '22023';
	END IF;
	IF cardinality(p_units) > max_batch THEN
		RAISE EXCEPTION 'inventory batch has % entries; at most % are loaded at once',
			cardinality(p_units), max_batch USING ERRCODE = '54000';
	END IF;

	-- The key first: without one, nothing is checked and nothing written.
	SELECT k.key_id INTO v_key_id FROM orders.vault_keys() k WHERE k.newest;

	SELECT q.ord, q.problem INTO v_entry, v_problem
	FROM (SELECT u.ordinality AS ord,
				 orders.voucher_input_problem(
					ROW(u.product_id, u.denomination, u.expires_at, u.card_number,
						u.pin_code, u.claim_url, u.voucher_reference_number)::orders.voucher_input,
					p) AS problem
		  FROM unnest(p_units) WITH ORDINALITY AS u
		  LEFT JOIN orders.products p ON p.id = u.product_id) q
	WHERE q.problem IS NOT NULL
	ORDER BY q.ord LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'inventory batch entry %: %', v_entry, v_problem
			USING ERRCODE = '22023', HINT = 'Nothing was loaded.';
	END IF;

	-- A code already loaded for the product, in this batch or before (under
	-- any key of the ring: rows not rotated yet carry an older fingerprint).
	WITH prints AS MATERIALIZED (
		SELECT u.ordinality AS ord, u.product_id,
			   orders.vault_fingerprints(coalesce(u.card_number, u.claim_url),
										 CASE WHEN u.card_number IS NULL
										 THEN 'claim_url' ELSE 'card_number' END) AS fps
		FROM unnest(p_units) WITH ORDINALITY AS u
	)
	SELECT d.ord, d.problem INTO v_entry, v_problem
	FROM (
		SELECT b.ord, format('its code is the code of entry %s', min(a.ord)) AS problem
		FROM prints a JOIN prints b
			ON a.product_id = b.product_id AND a.fps[1] = b.fps[1] AND a.ord < b.ord
		GROUP BY b.ord
		UNION ALL
		-- one row per (entry, fingerprint), joined on both columns of the
		-- unique index: linear whatever the plan (a fingerprint computed
		-- inside the join would leave product_id alone as the index key)
		SELECT n.ord, 'its code is already loaded for this product'
		FROM (SELECT p.ord, p.product_id, unnest(p.fps) AS fp FROM prints p) n
		JOIN orders.inventory_units i
			ON i.product_id = n.product_id AND i.fingerprint = n.fp
	) d
	ORDER BY d.ord LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'inventory batch entry %: %', v_entry, v_problem
			USING ERRCODE = '23505', HINT = 'Nothing was loaded.';
	END IF;

	-- Ids first: each value is bound to its row id when it is encrypted.
	-- nextval runs after the ORDER BY (volatile output expressions are
	-- evaluated in sorted order), so ids ascend with the entries and an
	-- entry's number is its id's rank.
	BEGIN
		RETURN QUERY
		WITH staged AS MATERIALIZED (
			SELECT nextval('orders.inventory_units_id_seq'::regclass) AS id, u.*
			FROM unnest(p_units) WITH ORDINALITY AS u
			ORDER BY u.ordinality
		), loaded AS (
			INSERT INTO orders.inventory_units AS t
				(id, product_id, denomination, status, expires_at,
				 card_number_enc, pin_code_enc, claim_url_enc, reference_enc,
				 fingerprint, key_id, vendor_job_id)
			OVERRIDING SYSTEM VALUE
			SELECT s.id, s.product_id, s.denomination,
				   -- a unit loaded already expired never joins the pool
				   CASE WHEN s.expires_at <= now() THEN 'BLOCKED' ELSE 'AVAILABLE' END,
				   s.expires_at,
				   orders.vault_encrypt(s.card_number, s.id, 'card_number'),
				   orders.vault_encrypt(s.pin_code, s.id, 'pin_code'),
				   orders.vault_encrypt(s.claim_url, s.id, 'claim_url'),
				   orders.vault_encrypt(s.voucher_reference_number, s.id, 'voucher_reference_number'),
				   (orders.vault_fingerprints(coalesce(s.card_number, s.claim_url),
											  CASE WHEN s.card_number IS NULL
											  THEN 'claim_url' ELSE 'card_number' END))[1],
				   v_key_id, p_vendor_job_id
			FROM staged s
			RETURNING t.id, t.status
		)
		SELECT (row_number() OVER (ORDER BY l.id))::integer, l.id, l.status
		FROM loaded l
		ORDER BY l.id;
	EXCEPTION WHEN unique_violation THEN
		-- a concurrent load of the same code won the race; the constraint's
		-- message would show the fingerprint, so say it in our words
		RAISE EXCEPTION 'inventory batch: a code of this batch was loaded concurrently for the same product'
			USING ERRCODE = '23505', HINT = 'Nothing was loaded; load the batch again to see which entry.';
	END;
END
$$;
COMMENT ON FUNCTION orders.load_units(orders.voucher_input[], bigint) IS
'loads voucher units, encrypting their codes, as stock (vendor job NULL) or as the vouchers of a vendor job; all or nothing; returns each entry''s unit id and status';
CREATE OR REPLACE FUNCTION orders.load_inventory(p_units orders.voucher_input[])
RETURNS TABLE (entry integer, unit_id bigint, status orders.inventory_status)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
	SELECT * FROM orders.load_units(p_units, NULL)
$$;
COMMENT ON FUNCTION orders.load_inventory(orders.voucher_input[]) IS
'loads voucher units into stock, encrypting their codes; all or nothing; returns each entry''s unit id and status (BLOCKED if already expired)';
CREATE FUNCTION orders.voucher_inputs_of_json(p_units jsonb)
RETURNS orders.voucher_input[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
DECLARE
	v_entry bigint;
	v_problem text;
	v_unit jsonb;
	v_field text;
	v_units orders.voucher_input[];
BEGIN
	IF jsonb_typeof(p_units) IS DISTINCT FROM 'array' THEN
		RAISE EXCEPTION 'inventory batch must be a JSON array of objects' USING ERRCODE = '22023';
	END IF;
	SELECT q.ord, q.problem INTO v_entry, v_problem
	FROM (SELECT e.ord, orders.voucher_json_problem(e.u) AS problem
		  FROM jsonb_array_elements(p_units) WITH ORDINALITY AS e(u, ord)) q
	WHERE q.problem IS NOT NULL
	ORDER BY q.ord LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'inventory batch entry %: %', v_entry, v_problem
			USING ERRCODE = '22023', HINT = 'Nothing was loaded.';
	END IF;

	BEGIN
		SELECT array_agg(orders.voucher_input_of_json(e.u) ORDER BY e.ord) INTO v_units
		FROM jsonb_array_elements(p_units) WITH ORDINALITY AS e(u, ord);
	EXCEPTION WHEN data_exception THEN
		-- the cast's message quotes the value: find the entry and field instead
		FOR v_entry, v_unit IN
			SELECT e.ord, e.u FROM jsonb_array_elements(p_units) WITH ORDINALITY AS e(u, ord)
			ORDER BY e.ord
		LOOP
			FOREACH v_field IN ARRAY ARRAY['product_id', 'denomination', 'expires_at'] LOOP
				BEGIN
					PERFORM orders.voucher_input_of_json(jsonb_build_object(v_field, v_unit->v_field));
				EXCEPTION WHEN data_exception THEN
					RAISE EXCEPTION 'inventory batch entry %: % is not a valid %', v_entry, v_field,
						CASE v_field WHEN 'product_id' THEN 'bigint'
									 WHEN 'denomination' THEN 'number'
									 ELSE 'time' END
						USING ERRCODE = '22023', HINT = 'Nothing was loaded.';
				END;
			END LOOP;
		END LOOP;
		RAISE EXCEPTION 'inventory batch: an entry could not be converted'
			USING ERRCODE = '22023', HINT = 'Nothing was loaded.';
	END;
	RETURN v_units;
END
$$;
COMMENT ON FUNCTION orders.voucher_inputs_of_json(jsonb) IS
'a JSON inventory batch as orders.voucher_input rows, checked: errors name the entry and the field, never a value';
CREATE OR REPLACE FUNCTION orders.load_inventory(p_units jsonb)
RETURNS TABLE (entry integer, unit_id bigint, status orders.inventory_status)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
	SELECT * FROM orders.load_units(orders.voucher_inputs_of_json(p_units), NULL)
$$;
COMMENT ON FUNCTION orders.load_inventory(jsonb) IS
'loads voucher units from a JSON array of {product_id, denomination, expires_at, card_number, pin_code, claim_url, voucher_reference_number}; all or nothing';
REVOKE EXECUTE ON FUNCTION
	orders.load_units(orders.voucher_input[], bigint),
	orders.voucher_inputs_of_json(jsonb)
FROM PUBLIC;
CREATE OR REPLACE FUNCTION orders.restock_on_load() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	pd record;
BEGIN
	IF NOT current_setting('orders.restock_on_load')::boolean THEN
		RETURN NULL;
	END IF;
	-- Stock only: a vendor job's vouchers are its own order's.
	FOR pd IN
		SELECT DISTINCT product_id, denomination FROM loaded
		WHERE status = 'AVAILABLE' AND vendor_job_id IS NULL
		ORDER BY product_id, denomination
	LOOP
		PERFORM orders.serve_waiting_items(pd.product_id, pd.denomination);
	END LOOP;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.restock_on_load() IS
'trigger: stock units just loaded (not a vendor job''s vouchers) first serve the items waiting for their product and denomination, unless the setting orders.restock_on_load is off';
DROP FUNCTION orders.store_vendor_vouchers(bigint, numeric, jsonb);
CREATE FUNCTION orders.store_vendor_vouchers(p_job_id bigint, p_product_id bigint,
											 p_denomination numeric, p_vouchers jsonb)
RETURNS bigint[]
LANGUAGE plpgsql
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
DECLARE
	units bigint[];
	expired integer;
BEGIN
	SELECT array_agg(l.unit_id ORDER BY l.entry), min(l.entry) FILTER (WHERE l.status <> 'AVAILABLE')
	INTO units, expired
	FROM orders.load_units(orders.voucher_inputs_of_json((
		SELECT jsonb_agg(CASE WHEN jsonb_typeof(e.v) = 'object'
						 THEN e.v || jsonb_build_object('product_id', p_product_id,
														'denomination', p_denomination)
						 ELSE e.v END ORDER BY e.ord)
		FROM jsonb_array_elements(p_vouchers) WITH ORDINALITY AS e(v, ord))), p_job_id) AS l;
	IF expired IS NOT NULL THEN
		RAISE EXCEPTION 'vendor voucher % is already expired', expired
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Nothing was stored.';
	END IF;
	RETURN units;
END
$$;
COMMENT ON FUNCTION orders.store_vendor_vouchers(bigint, bigint, numeric, jsonb) IS
'stores a vendor job''s vouchers in the vault (orders.load_units) as units of the order''s product and denomination marked with the job, which no restock serves to others; returns their ids in array order';
REVOKE EXECUTE ON FUNCTION orders.store_vendor_vouchers(bigint, bigint, numeric, jsonb) FROM PUBLIC;
CREATE OR REPLACE FUNCTION orders.report_vouchers_fetched(p_job_id bigint, p_lease_token uuid,
											   p_vouchers jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
DECLARE
	l record;
	o orders.orders;
	held bigint[];
	units bigint[];
	n integer;
BEGIN
	IF jsonb_typeof(p_vouchers) IS DISTINCT FROM 'array' OR jsonb_array_length(p_vouchers) = 0 THEN
		RAISE EXCEPTION 'vouchers must be a non-empty JSON array'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Report a failure with orders.report_vendor_failure() when the vendor delivered nothing.';
	END IF;
	n := jsonb_array_length(p_vouchers);
	l := orders.lock_vendor_lease(p_job_id, p_lease_token, 'vouchers_fetched');
	IF l.duplicate THEN
		RETURN orders.vendor_report_answer(p_job_id, true);
	END IF;
	SELECT * INTO o FROM orders.orders WHERE id = (l.job).order_id;
	SELECT array_agg(id ORDER BY id) INTO held FROM orders.order_items
	WHERE order_id = o.id AND status = 'PROCESSING';
	IF n > coalesce(cardinality(held), 0) THEN
		RAISE EXCEPTION 'vendor job %: % vouchers for % held items', p_job_id, n,
			coalesce(cardinality(held), 0) USING ERRCODE = 'invalid_parameter_value';
	END IF;

	units := orders.store_vendor_vouchers((l.job).id, o.product_id, o.denomination, p_vouchers);
	PERFORM orders.deliver_items(held[1:n], units, 'vouchers fetched from the vendor');
	-- Settle first, so that a partial delivery goes straight to
	-- PARTIALLY_DELIVERED; then give the lease up.
	PERFORM orders.settle_order(o.id, 'VENDOR_VOUCHER_FETCHED', 'FAILED', 'VENDOR_ORDER_FAILED',
								'vouchers fetched from the vendor');
	IF n = cardinality(held) THEN
		PERFORM orders.close_vendor_job(l.job, 'DONE', 'delivered', NULL, n);
	ELSE
		PERFORM orders.requeue_vendor_job(l.job, 'partial',
			format('the vendor delivered %s of %s vouchers', n, cardinality(held)), n);
	END IF;
	RETURN orders.vendor_report_answer(p_job_id, false);
END
$$;
COMMENT ON FUNCTION orders.report_vouchers_fetched(bigint, uuid, jsonb) IS
'vendor side: vouchers for the held items (JSON array, as orders.load_inventory takes them) go into the vault and are delivered; fewer than held is a partial delivery, the rest is retried';

-- A replay's response (the stored order's placeOrder body) is built by one
-- saved statement in C (src/order_response.c), which create_order calls
-- directly; orders.place_order_response is that C function.
CREATE OR REPLACE FUNCTION orders.place_order_response(p_order_id bigint) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'order_place_response'
	LANGUAGE C STRICT VOLATILE SET search_path = pg_catalog, orders;
COMMENT ON FUNCTION orders.place_order_response(bigint) IS
'the reference 003 response body {"data":{"placeOrder":{"status":1,"data":{...}}}} of an order, as it is now; NULL when there is no such order';

-- The ledger's triggers, orders.ledger_apply and orders.wallet_guard, in C
-- (src/wallet_ledger.c): the same statements, checks and messages; they
-- fire on every order's debit.
CREATE OR REPLACE FUNCTION orders.ledger_apply() RETURNS trigger
	AS 'MODULE_PATHNAME', 'ledger_apply' LANGUAGE C;
CREATE OR REPLACE FUNCTION orders.wallet_guard() RETURNS trigger
	AS 'MODULE_PATHNAME', 'wallet_guard' LANGUAGE C;

-- The vendor job's trigger, orders.queue_vendor_job, in C
-- (src/vendor_queue_trigger.c): the same INSERT; every DELAYED order fires it.
CREATE OR REPLACE FUNCTION orders.queue_vendor_job() RETURNS trigger
	AS 'MODULE_PATHNAME', 'queue_vendor_job' LANGUAGE C;
