-- pg_dump and restore of the business data (docs/releases.md, "Backups").
--
-- pg_dump writes the tables of an extension as part of CREATE EXTENSION
-- and dumps no rows of them, except those of the tables marked with
-- pg_extension_config_dump.  Every table that holds what the platform has
-- done is marked here, with its identity sequence, so that a dump is a
-- backup: the tables of orders.client_tables() (schema/76_shard.sql), the
-- one list of the tables holding clients' rows, which a move checks is
-- complete.  Those marked already (the API keys and audit, configuration
-- tables) keep their marks.  Not marked: the tables whose rows are the
-- extension's own (orders.outbox_announcement, orders.metric_queries),
-- made again by CREATE EXTENSION.
DO $$
DECLARE
	t regclass;
	seq text;
BEGIN
	FOR t IN
		SELECT format('orders.%I', c.tab)::regclass FROM orders.client_tables() c
		EXCEPT
		SELECT u.t FROM pg_catalog.pg_extension e, unnest(e.extconfig) AS u(t)
		WHERE e.extname = 'orders'
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
-- secrets replace the ones CREATE EXTENSION made): its table is not one of
-- the clients' tables.

-- The user triggers of the tables a dump carries (orders.client_tables()),
-- switched off, or on again as the extension ships every one of them:
-- ENABLE ALWAYS.  Returns how many it switched.
CREATE FUNCTION orders.restore_switch_triggers(p_on boolean) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	tg record;
	n integer := 0;
BEGIN
	FOR tg IN
		SELECT t.tgrelid::regclass AS tab, t.tgname
		FROM orders.client_tables() c
		JOIN pg_catalog.pg_trigger t ON t.tgrelid = format('orders.%I', c.tab)::regclass
		WHERE NOT t.tgisinternal AND (t.tgenabled = 'D') = p_on
		ORDER BY 1, 2
	LOOP
		EXECUTE format('ALTER TABLE %s %s TRIGGER %I', tg.tab,
					   CASE WHEN p_on THEN 'ENABLE ALWAYS' ELSE 'DISABLE' END, tg.tgname);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION orders.restore_switch_triggers(boolean) IS
'internal: switches the user triggers of the tables a dump carries off (false), or on again as installed, ENABLE ALWAYS (true); returns how many; for orders.restore_begin and orders.restore_end';

CREATE FUNCTION orders.restore_begin() RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM orders.orders) OR EXISTS (SELECT 1 FROM orders.clients) THEN
		RAISE EXCEPTION 'orders.restore_begin: this database already holds clients or orders'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Restore a dump into a new database: pg_restore --section=pre-data first (it runs CREATE EXTENSION).';
	END IF;
	RETURN orders.restore_switch_triggers(false);
END
$$;
COMMENT ON FUNCTION orders.restore_begin() IS
'restoring a dump into a new database, between pg_restore''s pre-data and data sections: switches the extension''s triggers off so that the dumped rows load as they are; returns how many; orders.restore_end() switches them on again';

CREATE FUNCTION orders.restore_end() RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
	bad bigint;
	n integer;
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
	n := orders.restore_switch_triggers(true);
	-- Routes an operator had added came back as rows: dispatch follows them.
	EXECUTE orders.api_call_source();
	RETURN n;
END
$$;
COMMENT ON FUNCTION orders.restore_end() IS
'restoring a dump, after pg_restore''s data section: checks the ledger against the wallets (an error if it does not add up), switches the extension''s triggers on again (ENABLE ALWAYS, as installed), regenerates dispatch for restored routes; returns how many triggers';
