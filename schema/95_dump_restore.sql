-- pg_dump and restore of the business data (docs/releases.md, "Backups").
--
-- pg_dump writes the tables of an extension as part of CREATE EXTENSION
-- and dumps no rows of them, except those of the tables marked with
-- pg_extension_config_dump.  Every table that holds what the platform has
-- done (clients, orders, money, inventory, history, events, webhooks) is
-- marked here, with its identity sequence, so that a dump is a backup.
-- Not marked: the tables whose rows are the extension's own
-- (orders.outbox_announcement, orders.metric_queries), made again by
-- CREATE EXTENSION.  The configuration tables are marked beside their
-- definitions.
DO $$
DECLARE
	t regclass;
	seq text;
BEGIN
	FOREACH t IN ARRAY ARRAY[
		'orders.clients', 'orders.client_discounts', 'orders.wallets', 'orders.ledger_entries',
		'orders.orders', 'orders.order_items', 'orders.inventory_units', 'orders.recharges',
		'orders.vendor_jobs', 'orders.vendor_job_attempts',
		'orders.status_history', 'orders.order_events', 'orders.voucher_reveals',
		'orders.order_counts', 'orders.order_count_blocks', 'orders.order_count_deltas',
		'orders.webhook_endpoints', 'orders.webhook_events', 'orders.webhook_deliveries',
		'orders.webhook_attempts']::regclass[]
	LOOP
		PERFORM pg_catalog.pg_extension_config_dump(t, '');
		FOR seq IN
			SELECT pg_catalog.pg_get_serial_sequence(t::text, a.attname)
			FROM pg_catalog.pg_attribute a
			WHERE a.attrelid = t AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> ''
		LOOP
			PERFORM pg_catalog.pg_extension_config_dump(seq::regclass, '');
		END LOOP;
	END LOOP;
END $$;

-- Restoring: the data section of a dump COPYs rows that already carry the
-- effects of the extension's triggers (a ledger entry's balance move, an
-- order's history and events, its list counts), and the guards refuse rows
-- that did not come through the engine (a wallet created with a balance, an
-- order born DELIVERED).  The triggers are ENABLE ALWAYS, so neither
-- session_replication_role nor pg_restore --disable-triggers (data-only,
-- and it would re-enable them as plain ENABLE) is the answer: the operator
-- restores in three sections and switches them off for the data only:
--   pg_restore --section=pre-data ...; SELECT orders.restore_begin();
--   pg_restore --section=data ...;     SELECT orders.restore_end();
--   pg_restore --section=post-data ...
-- The server secrets' restore trigger stays on throughout (the dumped
-- secrets replace the ones CREATE EXTENSION made).
CREATE FUNCTION orders.restore_begin() RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	tg record;
	n integer := 0;
BEGIN
	IF EXISTS (SELECT 1 FROM orders.orders) OR EXISTS (SELECT 1 FROM orders.clients) THEN
		RAISE EXCEPTION 'orders.restore_begin: this database already holds clients or orders'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Restore a dump into a new database: pg_restore --section=pre-data first (it runs CREATE EXTENSION).';
	END IF;
	FOR tg IN
		SELECT t.tgrelid::regclass AS tab, t.tgname
		FROM pg_catalog.pg_trigger t
		JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass
			AND d.objid = t.tgrelid AND d.deptype = 'e'
		JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'orders'
		WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
		  AND t.tgrelid <> 'orders.server_secrets'::regclass
		ORDER BY 1, 2
	LOOP
		EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', tg.tab, tg.tgname);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION orders.restore_begin() IS
'restoring a dump into a new database, between pg_restore''s pre-data and data sections: switches the extension''s triggers off so that the dumped rows load as they are; returns how many; orders.restore_end() switches them on again';

CREATE FUNCTION orders.restore_end() RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	tg record;
	bad bigint;
	n integer := 0;
BEGIN
	-- The books first: a dump whose ledger does not add up to its wallets
	-- is not restored into service (the triggers stay off, the error says
	-- why).
	SELECT count(*) INTO bad FROM orders.verify_ledger();
	IF bad > 0 THEN
		RAISE EXCEPTION 'orders.restore_end: the restored ledger does not match % wallet(s)', bad
			USING ERRCODE = 'data_corrupted',
				  HINT = 'SELECT * FROM orders.verify_ledger() names them; was the data section restored whole?';
	END IF;
	-- Every trigger the extension ships is ENABLE ALWAYS, except the server
	-- secrets' restore trigger, which restore_begin leaves alone.
	FOR tg IN
		SELECT t.tgrelid::regclass AS tab, t.tgname
		FROM pg_catalog.pg_trigger t
		JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::regclass
			AND d.objid = t.tgrelid AND d.deptype = 'e'
		JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid AND e.extname = 'orders'
		WHERE NOT t.tgisinternal AND t.tgenabled = 'D'
		  AND t.tgrelid <> 'orders.server_secrets'::regclass
		ORDER BY 1, 2
	LOOP
		EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', tg.tab, tg.tgname);
		n := n + 1;
	END LOOP;
	-- Routes an operator had added came back as rows: dispatch follows them.
	EXECUTE orders.api_call_source();
	RETURN n;
END
$$;
COMMENT ON FUNCTION orders.restore_end() IS
'restoring a dump, after pg_restore''s data section: checks the ledger against the wallets (an error if it does not add up), switches the extension''s triggers on again (ENABLE ALWAYS, as installed), regenerates dispatch for restored routes; returns how many triggers';
