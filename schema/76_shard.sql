-- A shard behind the router (docs/scale-out.md): every shard runs the whole
-- extension; what it needs to be one of several is here.
--   - Ids unique across shards: every identity sequence draws ids of one
--     residue class, id % slots = shard (orders.shard_configure), so no two
--     shards ever hand out the same order, key, job or client id, and every
--     id names the shard that numbered it.
--   - Moving a client: its rows leave one shard (orders.client_export, then
--     orders.client_purge) and arrive on another (orders.client_import)
--     with their ids; the router's orders_router.move_client drives it.
--   - The router checks that its shards agree on what a moved client needs
--     (orders.shard_identity): the same server secrets and vault keys.

-- The next id after p_after in the residue class p_shard modulo p_slots.
CREATE FUNCTION orders.shard_next_id(p_after bigint, p_shard integer, p_slots integer)
RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
	SELECT CASE WHEN b > p_after THEN b ELSE b + p_slots END
	FROM (SELECT p_after - p_after % p_slots + p_shard AS b) s
$$;
COMMENT ON FUNCTION orders.shard_next_id(bigint, integer, integer) IS
'internal: the smallest id greater than p_after whose remainder modulo p_slots is p_shard';

-- The identity sequences of the extension's tables.
CREATE FUNCTION orders.shard_sequences(OUT seq regclass, OUT tab regclass,
	OUT last_value bigint, OUT start_value bigint, OUT increment_by bigint)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT s.oid::regclass, t.oid::regclass, ps.last_value, ps.start_value, ps.increment_by
	FROM pg_depend d
	JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
	JOIN pg_class t ON t.oid = d.refobjid
	JOIN pg_sequences ps ON ps.schemaname = 'orders' AND ps.sequencename = s.relname
	WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
	  AND d.deptype = 'i' AND t.relnamespace = 'orders'::regnamespace
	ORDER BY t.oid
$$;
COMMENT ON FUNCTION orders.shard_sequences() IS
'internal: the identity sequences of the tables of schema orders with their last value, start and increment';

-- Makes this database shard p_shard of at most p_slots: every identity
-- sequence continues above its last value in steps of p_slots, at ids whose
-- remainder modulo p_slots is p_shard.  Run once when a shard is set up
-- (orders_router.add_shard does); running it again with the same arguments
-- changes nothing a client sees.  An unconfigured database is shard 0 of 1.
CREATE FUNCTION orders.shard_configure(p_shard integer, p_slots integer) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	s record;
	next_id bigint;
	n integer := 0;
BEGIN
	IF p_slots IS NULL OR p_slots NOT BETWEEN 1 AND 1024 THEN
		RAISE EXCEPTION 'shard slots must be 1 to 1024, got %', p_slots
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_shard IS NULL OR p_shard < 0 OR p_shard >= p_slots THEN
		RAISE EXCEPTION 'shard number must be 0 to % (slots - 1), got %', p_slots - 1, p_shard
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR s IN SELECT * FROM orders.shard_sequences() LOOP
		next_id := orders.shard_next_id(coalesce(s.last_value, 0), p_shard, p_slots);
		-- Already configured so: keep going where it is.
		CONTINUE WHEN s.increment_by = p_slots AND s.start_value % p_slots = p_shard;
		EXECUTE format('ALTER SEQUENCE %s INCREMENT BY %s START WITH %s RESTART WITH %s',
					   s.seq, p_slots, next_id, next_id);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION orders.shard_configure(integer, integer) IS
'makes this database shard p_shard of p_slots: every identity sequence hands out ids with id % p_slots = p_shard from above its last value; returns how many sequences changed';

-- What the router compares across shards: a moved client's keys, tokens
-- and vouchers work on its new shard only when both hold the same server
-- secrets (digest only, never the values) and the same vault keys.
CREATE FUNCTION orders.shard_identity(OUT shard integer, OUT slots integer,
	OUT version text, OUT secrets_digest text, OUT vault_key_ids integer[])
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	SELECT (s.start_value % s.increment_by)::integer, s.increment_by::integer,
		   (SELECT extversion FROM pg_extension WHERE extname = 'orders'),
		   (SELECT encode(sha256(string_agg(convert_to(name, 'UTF8') || '\x00'::bytea || value, '\x00'::bytea
											ORDER BY name)), 'hex')
			FROM orders.server_secrets),
		   ARRAY(SELECT k.key_id FROM orders.vault_keys() k ORDER BY 1)
	FROM orders.shard_sequences() s
	WHERE s.tab = 'orders.orders'::regclass
$$;
COMMENT ON FUNCTION orders.shard_identity() IS
'this shard''s number and slots (from the orders sequence), extension version, a SHA-256 digest of the server secrets and the vault key ids: what the router compares across shards';

-- A client's rows, table by table, in the order they are inserted; the
-- predicate selects them ($1: the client).  Every table of schema orders
-- with a client_id column must be here: orders.client_export refuses
-- otherwise, so a table added later cannot be left behind by a move.
CREATE FUNCTION orders.client_tables(OUT tab text, OUT predicate text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	VALUES
		('clients', 'id = $1'),
		('webhook_endpoints', 'client_id = $1'),
		('wallets', 'client_id = $1'),
		('client_discounts', 'client_id = $1'),
		('api_keys', 'client_id = $1'),
		('inventory_units', 'id IN (SELECT i.unit_id FROM orders.order_items i WHERE i.client_id = $1)'),
		('orders', 'client_id = $1'),
		('order_items', 'client_id = $1'),
		('recharges', 'client_id = $1'),
		('ledger_entries', 'client_id = $1'),
		('status_history', $p$(entity = 'order' AND entity_id IN (SELECT o.id FROM orders.orders o WHERE o.client_id = $1))
			OR (entity = 'order_item' AND entity_id IN (SELECT i.id FROM orders.order_items i WHERE i.client_id = $1))
			OR (entity = 'recharge' AND entity_id IN (SELECT r.id FROM orders.recharges r WHERE r.client_id = $1))
			OR (entity = 'inventory_unit' AND entity_id IN (SELECT i.unit_id FROM orders.order_items i WHERE i.client_id = $1))$p$),
		('order_events', 'client_id = $1'),
		('webhook_events', 'client_id = $1'),
		('webhook_deliveries', 'client_id = $1'),
		('webhook_attempts', 'client_id = $1'),
		('vendor_jobs', 'client_id = $1'),
		('vendor_job_attempts', 'job_id IN (SELECT j.id FROM orders.vendor_jobs j WHERE j.client_id = $1)'),
		('voucher_reveals', 'client_id = $1'),
		('order_counts', 'client_id = $1'),
		('order_count_blocks', 'client_id = $1'),
		('order_count_deltas', 'client_id = $1'),
		('api_audit', 'client_id = $1')
$$;
COMMENT ON FUNCTION orders.client_tables() IS
'internal: the tables holding a client''s rows, in insertion order, with the predicate (on $1, the client) selecting them';

-- Every trigger of the client's tables off, foreign keys included: moved
-- rows arrive and leave as they are, already counted, guarded and recorded
-- by the shard they come from.  Holds a SHARE ROW EXCLUSIVE lock on each
-- table to the end of the transaction (other clients' writes on this shard
-- wait for the move's commit; reads go on).  Returns the firing mode of
-- every trigger whose mode is not the default (ALWAYS, REPLICA, disabled),
-- for orders.client_triggers_restore.
CREATE FUNCTION orders.client_triggers_off() RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	t record;
	saved jsonb;
BEGIN
	SELECT coalesce(jsonb_agg(jsonb_build_array(tg.tgrelid::regclass::text, tg.tgname, tg.tgenabled)), '[]')
	INTO saved
	FROM pg_trigger tg
	WHERE tg.tgrelid IN (SELECT format('orders.%I', c.tab)::regclass FROM orders.client_tables() c)
	  AND NOT tg.tgisinternal AND tg.tgenabled <> 'O';
	FOR t IN SELECT * FROM orders.client_tables() LOOP
		EXECUTE format('ALTER TABLE orders.%I DISABLE TRIGGER ALL', t.tab);
	END LOOP;
	RETURN saved;
END
$$;
COMMENT ON FUNCTION orders.client_triggers_off() IS
'internal: disables every trigger of the client tables for a move; returns the triggers whose firing mode is not the default, for orders.client_triggers_restore';

CREATE FUNCTION orders.client_triggers_restore(p_saved jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	t record;
	tg jsonb;
BEGIN
	FOR t IN SELECT * FROM orders.client_tables() LOOP
		EXECUTE format('ALTER TABLE orders.%I ENABLE TRIGGER ALL', t.tab);
	END LOOP;
	FOR tg IN SELECT * FROM jsonb_array_elements(p_saved) LOOP
		EXECUTE format('ALTER TABLE %s %s TRIGGER %I', tg->>0,
					   CASE tg->>2 WHEN 'A' THEN 'ENABLE ALWAYS' WHEN 'R' THEN 'ENABLE REPLICA'
								   ELSE 'DISABLE' END, tg->>1);
	END LOOP;
END
$$;
COMMENT ON FUNCTION orders.client_triggers_restore(jsonb) IS
'internal: enables the triggers of the client tables again, each in the firing mode orders.client_triggers_off saved';

-- What tells the vault keys of two shards apart: the fingerprint of a
-- fixed text under each key, by key id.  Two shards with the same key id
-- but another key (a key file generated per shard) give different ones;
-- the fingerprint reveals nothing of the key (keyed HMAC-SHA256 of a
-- public text).  A ciphertext moved to a shard whose key of the same id
-- differs could not be decrypted there: no voucher, and a webhook secret
-- that signs nothing the receiver accepts.
CREATE FUNCTION orders.shard_vault_key_checks() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	SELECT coalesce(jsonb_object_agg(orders.vault_key_id(f)::text, encode(f, 'hex')), '{}')
	FROM unnest(orders.vault_fingerprints('orders shard key check', 'shard_key_check')) f
$$;
COMMENT ON FUNCTION orders.shard_vault_key_checks() IS
'internal: the fingerprint of a fixed text under every vault key, by key id: equal on two shards only if their keys of that id are the same';

-- A client's rows as one JSON document, after waiting for its requests in
-- flight: the router froze the client first (orders_router.move_client),
-- so nothing new arrives, and the lock on its clients row waits for every
-- transaction that inserted an order or a wallet of it (their foreign keys
-- hold a KEY SHARE lock on that row).  Refused while the client has vendor
-- jobs open: a vendor's report names the job, whose id leads to the shard
-- that numbered it.
CREATE FUNCTION orders.client_export(p_client_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	t record;
	rows jsonb;
	tables jsonb := '{}';
	missing text;
	ident record;
BEGIN
	PERFORM orders.admin_require_client(p_client_id);
	SELECT c.relname INTO missing
	FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'client_id' AND NOT a.attisdropped
	WHERE c.relnamespace = 'orders'::regnamespace AND c.relkind IN ('r', 'p')
	  AND c.relname NOT IN (SELECT tab FROM orders.client_tables())
	ORDER BY 1 LIMIT 1;
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'cannot export client %: table orders.% holds client rows the move does not know', p_client_id, missing
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Add the table to orders.client_tables().';
	END IF;
	PERFORM 1 FROM orders.clients WHERE id = p_client_id FOR UPDATE;
	IF EXISTS (SELECT 1 FROM orders.vendor_jobs j
			   WHERE j.client_id = p_client_id AND j.status IN ('QUEUED', 'LEASED')) THEN
		RAISE EXCEPTION 'cannot export client %: it has open vendor jobs', p_client_id
			USING ERRCODE = 'object_in_use',
				  HINT = 'Move the client once its orders are delivered, failed or cancelled.';
	END IF;
	FOR t IN SELECT * FROM orders.client_tables() LOOP
		EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(r)), ''[]'') FROM orders.%I r WHERE %s',
					   t.tab, t.predicate)
			INTO rows USING p_client_id;
		tables := tables || jsonb_build_object(t.tab, rows);
	END LOOP;
	ident := orders.shard_identity();
	RETURN jsonb_build_object('client_id', p_client_id, 'version', ident.version,
							  'secrets_digest', ident.secrets_digest,
							  'vault_key_ids', to_jsonb(ident.vault_key_ids),
							  'vault_key_checks', orders.shard_vault_key_checks(),
							  'tables', tables);
END
$$;
COMMENT ON FUNCTION orders.client_export(bigint) IS
'a client''s rows (every table of orders.client_tables) as one JSON document for a move, after its requests in flight ended; refused while it has open vendor jobs';

-- The rows of orders.client_export arrive with their ids.  Refused unless
-- this shard has the same server secrets (the client's keys and tokens) and
-- every vault key its vouchers and webhook signing secrets are under, the
-- same keys, not only the same ids (orders.shard_vault_key_checks: the
-- ciphertexts are bound to their row ids, which do not change, and are
-- never re-encrypted or decrypted on the way), and unless the client is
-- not here already.  The orders sequence moves above the
-- client's highest client_seq, so its new orders still list first.
CREATE FUNCTION orders.client_import(p_rows jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	client bigint := (p_rows->>'client_id')::bigint;
	ident record;
	t record;
	saved jsonb;
	n bigint;
	counts jsonb := '{}';
	top bigint;
	s record;
	used integer[];
	checks jsonb;
	missing_key integer;
BEGIN
	IF client IS NULL OR jsonb_typeof(p_rows->'tables') IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION 'not a client export: client_id and tables are required'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	ident := orders.shard_identity();
	IF p_rows->>'version' IS DISTINCT FROM ident.version THEN
		RAISE EXCEPTION 'cannot import client %: exported by orders %, this shard runs %',
			client, p_rows->>'version', ident.version USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF p_rows->>'secrets_digest' IS DISTINCT FROM ident.secrets_digest THEN
		RAISE EXCEPTION 'cannot import client %: the shards'' server secrets differ', client
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Every shard needs the same api_key_pepper and jwt_secret (docs/scale-out.md).';
	END IF;
	-- The vault keys its vouchers and webhook signing secrets are under:
	-- here, and the same keys (not only the same ids).
	used := ARRAY(SELECT (u->>'key_id')::integer
				  FROM jsonb_array_elements(p_rows->'tables'->'inventory_units') u
				  WHERE u->>'key_id' IS NOT NULL
				  UNION
				  SELECT orders.vault_key_id(decode(substr(c, 3), 'hex'))
				  FROM jsonb_array_elements(p_rows->'tables'->'webhook_endpoints') e,
					   unnest(ARRAY[e->>'secret', e->>'previous_secret']) c
				  WHERE c IS NOT NULL);
	missing_key := (SELECT min(k) FROM unnest(used) k WHERE k <> ALL (ident.vault_key_ids));
	IF missing_key IS NOT NULL THEN
		RAISE EXCEPTION 'cannot import client %: a voucher or webhook secret is under vault key %, which this shard does not have',
			client, missing_key
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Give every shard the same vault key file (docs/scale-out.md).';
	END IF;
	checks := orders.shard_vault_key_checks();
	missing_key := (SELECT min(k) FROM unnest(used) k
					WHERE checks->>k::text IS DISTINCT FROM p_rows->'vault_key_checks'->>k::text);
	IF missing_key IS NOT NULL THEN
		RAISE EXCEPTION 'cannot import client %: vault key % of this shard is not the key of that id on the shard the client comes from',
			client, missing_key
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'Its vouchers could not be decrypted here, nor its webhook secrets sign.',
				  HINT = 'Give every shard the same vault key file (docs/scale-out.md).';
	END IF;
	IF EXISTS (SELECT 1 FROM orders.clients WHERE id = client) THEN
		RAISE EXCEPTION 'cannot import client %: it is on this shard already', client
			USING ERRCODE = 'unique_violation';
	END IF;
	saved := orders.client_triggers_off();
	FOR t IN SELECT * FROM orders.client_tables() LOOP
		EXECUTE format('INSERT INTO orders.%1$I OVERRIDING SYSTEM VALUE
						SELECT * FROM jsonb_populate_recordset(NULL::orders.%1$I, $1)', t.tab)
			USING coalesce(p_rows->'tables'->t.tab, '[]');
		GET DIAGNOSTICS n = ROW_COUNT;
		counts := counts || jsonb_build_object(t.tab, n);
	END LOOP;
	PERFORM orders.client_triggers_restore(saved);
	-- client_seq is the order id: new orders of this client must number
	-- above its old ones, in this shard's residue class.
	top := (SELECT max(o.client_seq) FROM orders.orders o WHERE o.client_id = client);
	SELECT * INTO s FROM orders.shard_sequences() q WHERE q.tab = 'orders.orders'::regclass;
	IF top IS NOT NULL AND top >= coalesce(s.last_value, 0) THEN
		EXECUTE format('ALTER SEQUENCE %s RESTART WITH %s', s.seq,
					   orders.shard_next_id(top, (s.start_value % s.increment_by)::integer,
											s.increment_by::integer));
	END IF;
	RETURN counts;
END
$$;
COMMENT ON FUNCTION orders.client_import(jsonb) IS
'the rows of orders.client_export inserted with their ids (triggers off: they arrive counted and recorded); refused if the server secrets, vault keys or version differ or the client is here already; returns rows per table';

-- The client's rows leave the shard it moved from (the router flipped its
-- placement first).
CREATE FUNCTION orders.client_purge(p_client_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	t record;
	saved jsonb;
	n bigint;
	counts jsonb := '{}';
BEGIN
	PERFORM orders.admin_require_client(p_client_id);
	PERFORM 1 FROM orders.clients WHERE id = p_client_id FOR UPDATE;
	saved := orders.client_triggers_off();
	-- Dependents first; inventory units and history by their owners, which
	-- are still there.
	FOR t IN SELECT * FROM orders.client_tables() WITH ORDINALITY AS c(tab, predicate, n)
			 ORDER BY CASE WHEN c.tab IN ('inventory_units', 'status_history', 'vendor_job_attempts')
						   THEN 0 ELSE 1 END, c.n DESC LOOP
		EXECUTE format('DELETE FROM orders.%I WHERE %s', t.tab, t.predicate) USING p_client_id;
		GET DIAGNOSTICS n = ROW_COUNT;
		counts := counts || jsonb_build_object(t.tab, n);
	END LOOP;
	PERFORM orders.client_triggers_restore(saved);
	RETURN counts;
END
$$;
COMMENT ON FUNCTION orders.client_purge(bigint) IS
'deletes every row of a client that moved to another shard (triggers off: its history leaves with it); returns rows per table';

REVOKE EXECUTE ON FUNCTION orders.shard_next_id(bigint, integer, integer), orders.shard_sequences(),
	orders.shard_configure(integer, integer), orders.shard_identity(), orders.shard_vault_key_checks(),
	orders.client_tables(),
	orders.client_triggers_off(), orders.client_triggers_restore(jsonb),
	orders.client_export(bigint), orders.client_import(jsonb), orders.client_purge(bigint)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orders.shard_identity(), orders.shard_vault_key_checks() TO orders_admin;
