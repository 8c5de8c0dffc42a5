-- Loading voucher units into inventory, encrypted on the way in (the vault,
-- docs/vault.md).  Three entry points share one implementation:
--   orders.load_inventory(orders.voucher_input[])   a set of typed rows
--   orders.load_inventory(jsonb)                    a JSON array of objects
--   orders.load_inventory(product, denomination, expires_at, codes...)  one unit
-- for orders_admin and orders_vendor, all loading stock through
-- orders.load_units (which the vendor report also uses for a job's vouchers,
-- schema/64_inventory.sql).  A batch is loaded whole or not at all;
-- errors name the entry and the field, never a value.  The functions set
-- log_min_error_statement = panic so a failing call's statement (which may
-- hold codes as literals) is not written to the server log.

CREATE TYPE orders.voucher_input AS (
	product_id	bigint,
	denomination numeric,
	expires_at	timestamptz,
	card_number	text,
	pin_code	text,
	claim_url	text,
	voucher_reference_number text
);
COMMENT ON TYPE orders.voucher_input IS
'one voucher unit to load: product, denomination, expiry and its codes in plaintext (encrypted by orders.load_inventory)';

-- The helpers below are plain SQL functions without SET clauses so that the
-- planner inlines them into load_inventory's set-based queries (one call
-- per unit would cost more than the encryption); everything in them is
-- schema-qualified or in pg_catalog, and only the owner may execute them.

-- What is wrong with one text field of a unit, or NULL.
CREATE FUNCTION orders.voucher_text_problem(p_name text, p_value text, p_max_bytes integer)
RETURNS text
LANGUAGE sql STABLE
AS $$
	SELECT CASE
		WHEN p_value = '' THEN p_name || ' is empty (omit it or pass null)'
		WHEN p_value ~ '^\s|\s$' THEN p_name || ' has leading or trailing white space'
		WHEN octet_length(p_value) > p_max_bytes THEN
			p_name || ' is longer than ' || p_max_bytes || ' bytes'
	END
$$;
COMMENT ON FUNCTION orders.voucher_text_problem(text, text, integer) IS
'what is wrong with one code field of a unit to load, or NULL; names the field, never the value';

-- What is wrong with one entry of a batch (its product row joined), or NULL.
CREATE FUNCTION orders.voucher_input_problem(u orders.voucher_input, p orders.products)
RETURNS text
LANGUAGE sql STABLE
AS $$
	SELECT CASE
		WHEN u.product_id IS NULL THEN 'product_id is missing'
		WHEN p.id IS NULL THEN 'product ' || u.product_id || ' does not exist'
		WHEN u.denomination IS NULL THEN 'denomination is missing'
		WHEN NOT (u.denomination > 0 AND u.denomination < 1e12) THEN
			'denomination must be greater than 0 and less than 10^12'
		WHEN u.denomination <> round(u.denomination, 2) THEN 'denomination has more than 2 decimals'
		WHEN u.expires_at IS NULL THEN 'expires_at is missing'
		WHEN p.delivery_type = 'CODE_WITH_PIN' AND u.card_number IS NULL THEN
			'card_number is required: the product is delivered as CODE_WITH_PIN'
		WHEN p.delivery_type = 'URL' AND u.claim_url IS NULL THEN
			'claim_url is required: the product is delivered as URL'
		ELSE coalesce(orders.voucher_text_problem('card_number', u.card_number, 256),
					  orders.voucher_text_problem('pin_code', u.pin_code, 64),
					  orders.voucher_text_problem('claim_url', u.claim_url, 2048),
					  orders.voucher_text_problem('voucher_reference_number',
												  u.voucher_reference_number, 256))
	END
$$;
COMMENT ON FUNCTION orders.voucher_input_problem(orders.voucher_input, orders.products) IS
'what is wrong with a unit to load (its product row joined), or NULL; names fields, never values';

-- The loader behind every entry point.  p_vendor_job_id names the vendor
-- job whose vouchers these are (orders.store_vendor_vouchers), NULL for
-- stock: it is stored in each unit, and only stock serves the items waiting
-- for a restock (schema/64_inventory.sql).  Owner only.
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

CREATE FUNCTION orders.load_inventory(p_units orders.voucher_input[])
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

-- The typed value of one JSON entry (casts may fail: the caller catches).
CREATE FUNCTION orders.voucher_input_of_json(u jsonb) RETURNS orders.voucher_input
LANGUAGE sql STABLE
AS $$
	SELECT ROW((u->>'product_id')::bigint, (u->>'denomination')::numeric,
			   (u->>'expires_at')::timestamptz, u->>'card_number', u->>'pin_code',
			   u->>'claim_url', u->>'voucher_reference_number')::orders.voucher_input
$$;
COMMENT ON FUNCTION orders.voucher_input_of_json(jsonb) IS
'one JSON entry of an inventory batch as an orders.voucher_input (casts may raise data exceptions)';

-- What is wrong with the shape of one JSON entry, or NULL.
CREATE FUNCTION orders.voucher_json_problem(u jsonb) RETURNS text
LANGUAGE sql STABLE
AS $$
	SELECT CASE
		WHEN jsonb_typeof(u) <> 'object' THEN 'is not a JSON object'
		WHEN u - ARRAY['product_id', 'denomination', 'expires_at', 'card_number', 'pin_code',
					   'claim_url', 'voucher_reference_number'] <> '{}'::jsonb THEN
			'has a field that is not one of product_id, denomination, expires_at, '
			'card_number, pin_code, claim_url, voucher_reference_number'
		WHEN jsonb_typeof(u->'product_id') NOT IN ('number', 'null') THEN
			'product_id must be a JSON number'
		WHEN jsonb_typeof(u->'denomination') NOT IN ('number', 'string', 'null') THEN
			'denomination must be a JSON number or string'
		WHEN jsonb_typeof(u->'expires_at') NOT IN ('string', 'null') THEN
			'expires_at must be a JSON string'
		WHEN u->>'expires_at' !~ '(Z|z|[+-]\d\d(:?\d\d)?)$' THEN
			'expires_at must be an RFC 3339 time with a time zone offset (e.g. 2030-12-31T23:59:59Z)'
		WHEN jsonb_typeof(u->'card_number') NOT IN ('string', 'null') THEN
			'card_number must be a JSON string'
		WHEN jsonb_typeof(u->'pin_code') NOT IN ('string', 'null') THEN
			'pin_code must be a JSON string'
		WHEN jsonb_typeof(u->'claim_url') NOT IN ('string', 'null') THEN
			'claim_url must be a JSON string'
		WHEN jsonb_typeof(u->'voucher_reference_number') NOT IN ('string', 'null') THEN
			'voucher_reference_number must be a JSON string'
	END
$$;
COMMENT ON FUNCTION orders.voucher_json_problem(jsonb) IS
'what is wrong with the shape of one JSON entry of an inventory batch, or NULL; names fields, never values';

-- A JSON batch as typed rows, checked (errors name the entry and the
-- field, never a value).  Owner only.
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

CREATE FUNCTION orders.load_inventory(p_units jsonb)
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

CREATE FUNCTION orders.load_inventory(
	p_product_id bigint, p_denomination numeric, p_expires_at timestamptz,
	p_card_number text DEFAULT NULL, p_pin_code text DEFAULT NULL,
	p_claim_url text DEFAULT NULL, p_voucher_reference_number text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
	SELECT l.unit_id
	FROM orders.load_inventory(ARRAY[ROW(p_product_id, p_denomination, p_expires_at,
										 p_card_number, p_pin_code, p_claim_url,
										 p_voucher_reference_number)::orders.voucher_input]) AS l
$$;
COMMENT ON FUNCTION orders.load_inventory(bigint, numeric, timestamptz, text, text, text, text) IS
'loads one voucher unit, encrypting its codes; returns its id';

REVOKE EXECUTE ON FUNCTION
	orders.voucher_text_problem(text, text, integer),
	orders.voucher_input_problem(orders.voucher_input, orders.products),
	orders.load_units(orders.voucher_input[], bigint),
	orders.load_inventory(orders.voucher_input[]),
	orders.voucher_input_of_json(jsonb),
	orders.voucher_inputs_of_json(jsonb),
	orders.voucher_json_problem(jsonb),
	orders.load_inventory(jsonb),
	orders.load_inventory(bigint, numeric, timestamptz, text, text, text, text)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	orders.load_inventory(orders.voucher_input[]),
	orders.load_inventory(jsonb),
	orders.load_inventory(bigint, numeric, timestamptz, text, text, text, text)
TO orders_admin, orders_vendor;
