-- Benchmark plumbing shared by every implementation: the parameters the
-- pgbench scripts receive, a bulk-fill helper, and the data sizes the
-- report quotes.

CREATE SCHEMA bench;
COMMENT ON SCHEMA bench IS 'benchmark plumbing (bench/data/)';

-- Each row becomes "-D name=value" for the pgbench runs of impl ('*': all).
CREATE TABLE bench.params (
	impl		text NOT NULL,
	name		text NOT NULL,
	value		text NOT NULL,
	PRIMARY KEY (impl, name)
);
COMMENT ON TABLE bench.params IS 'pgbench variables per implementation (ours, ref, limit, *)';

INSERT INTO bench.params VALUES
	('*', 'instant_product', '1001'),
	('*', 'delayed_product', '1002'),
	('*', 'denomination', '25.00'),
	('*', 'replay_po', 'replay-1'),
	-- writer + client_id % writers places an order: 8 API clients (13: one)
	('*', 'writers', '8');

-- Numbers the pgbench runs (-D runno), for keys that must be unique
-- across runs.
CREATE SEQUENCE bench.runs;
COMMENT ON SEQUENCE bench.runs IS 'one number per pgbench run';

-- Switches off the named triggers of a table; returns their modes for
-- bench.triggers_on.  Bulk loads switch off the lifecycle triggers and
-- write the history rows they would have written themselves.
CREATE FUNCTION bench.triggers_off(target regclass, p_names text[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	t record;
	modes jsonb := '{}';
BEGIN
	FOR t IN SELECT tgname, tgenabled FROM pg_trigger
			  WHERE tgrelid = target AND tgname = ANY (p_names) LOOP
		modes := modes || jsonb_build_object(t.tgname, t.tgenabled);
		EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', target, t.tgname);
	END LOOP;
	RETURN modes;
END
$$;
COMMENT ON FUNCTION bench.triggers_off(regclass, text[]) IS
'disables triggers of a table, returns their modes';

-- Restores triggers to their modes (ALWAYS, REPLICA or ORIGIN).
CREATE FUNCTION bench.triggers_on(target regclass, p_modes jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT key AS tgname, value AS mode FROM jsonb_each_text(p_modes) LOOP
		EXECUTE format('ALTER TABLE %s %s TRIGGER %I', target,
					   CASE t.mode WHEN 'A' THEN 'ENABLE ALWAYS' WHEN 'R' THEN 'ENABLE REPLICA'
							ELSE 'ENABLE' END, t.tgname);
	END LOOP;
END
$$;
COMMENT ON FUNCTION bench.triggers_on(regclass, jsonb) IS 'restores triggers to their modes';

-- Inserts rows g = p_from .. p_from + n - 1 into target, column values
-- given as SQL expressions of g; returns the ids of the first and last row
-- (they must be contiguous: the pgbench scripts draw ids from that range).
-- The lifecycle triggers named in p_skip_triggers are off for the insert.
CREATE FUNCTION bench.fill(target regclass, n bigint, cols jsonb,
						   p_skip_triggers text[] DEFAULT '{}', p_from bigint DEFAULT 1,
						   OUT first_id bigint, OUT last_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
	modes jsonb := bench.triggers_off(target, p_skip_triggers);
	has_id boolean := EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = target
							  AND attname = 'id' AND NOT attisdropped);
BEGIN
	EXECUTE format('WITH ins AS (INSERT INTO %s (%s) SELECT %s FROM generate_series($1, $2) AS g %s)'
				   ' SELECT min(id), max(id) FROM ins',
				   target,
				   (SELECT string_agg(quote_ident(k), ', ' ORDER BY ord)
					  FROM jsonb_object_keys(cols) WITH ORDINALITY AS k(k, ord)),
				   -- each expression cast to its column's type (text to enum
				   -- is not an assignment cast)
				   (SELECT string_agg(format('(%s)::%s', e.v, format_type(a.atttypid, a.atttypmod)), ', '
									  ORDER BY e.ord)
					  FROM jsonb_each_text(cols) WITH ORDINALITY AS e(k, v, ord)
					  JOIN pg_attribute a ON a.attrelid = target AND a.attname = e.k),
				   CASE WHEN has_id THEN 'RETURNING id' ELSE 'RETURNING 0 AS id' END)
		INTO first_id, last_id USING p_from, p_from + n - 1;
	PERFORM bench.triggers_on(target, modes);
	IF has_id AND last_id - first_id + 1 <> n THEN
		RAISE EXCEPTION 'bench.fill: ids of % are not contiguous (% .. % for % rows)',
			target, first_id, last_id, n;
	END IF;
END
$$;
COMMENT ON FUNCTION bench.fill(regclass, bigint, jsonb, text[], bigint) IS
'bulk insert of n generated rows; returns the first and last id';

-- Records a parameter (replacing an older value).
CREATE FUNCTION bench.param(p_impl text, p_name text, p_value anyelement) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO bench.params VALUES (p_impl, p_name, p_value::text)
	ON CONFLICT (impl, name) DO UPDATE SET value = excluded.value
$$;
COMMENT ON FUNCTION bench.param(text, text, anyelement) IS 'sets one pgbench variable';

-- The value of one parameter.
CREATE FUNCTION bench.p(p_impl text, p_name text) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT value::bigint FROM bench.params WHERE impl = p_impl AND name = p_name
$$;
COMMENT ON FUNCTION bench.p(text, text) IS 'a numeric pgbench variable of an implementation';

CREATE FUNCTION bench.check(p_what text, p_ok boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF p_ok IS NOT TRUE THEN
		RAISE EXCEPTION 'bench check failed: %', p_what;
	END IF;
END
$$;
COMMENT ON FUNCTION bench.check(text, boolean) IS 'raises unless the check holds';

-- What the report says about the data (sizes, and whether the instant
-- pools lasted).
CREATE FUNCTION bench.sizes() RETURNS TABLE (label text, value text)
LANGUAGE plpgsql AS $$
DECLARE
	s text;
	v bigint;
BEGIN
	FOREACH s IN ARRAY ARRAY['orders', 'ref'] LOOP
		EXECUTE format('SELECT count(*) FROM %I.orders', s) INTO v;
		label := s || '.orders rows'; value := v; RETURN NEXT;
		EXECUTE format('SELECT count(*) FROM %I.inventory_units', s) INTO v;
		label := s || '.inventory_units rows'; value := v; RETURN NEXT;
		EXECUTE format('SELECT count(*) FROM %I.inventory_units WHERE status = ''AVAILABLE''', s) INTO v;
		label := s || '.inventory_units AVAILABLE at the end'; value := v; RETURN NEXT;
		EXECUTE format('SELECT string_agg(status || '' '' || n, '', '' ORDER BY status)'
					   '  FROM (SELECT o.status::text, count(*) AS n FROM %1$I.orders o'
					   '		 WHERE o.client_id BETWEEN bench.p(%2$L, ''writer_lo'') AND bench.p(%2$L, ''writer_hi'')'
					   '		 GROUP BY 1) s',
					   s, CASE s WHEN 'orders' THEN 'ours' ELSE s END) INTO label;
		value := label; label := s || ' orders of the writer clients'; RETURN NEXT;
	END LOOP;
	label := 'lean.orders rows'; value := (SELECT count(*) FROM lean.orders); RETURN NEXT;
	label := 'lean.units AVAILABLE at the end';
	value := (SELECT count(*) FROM lean.units WHERE status = 'AVAILABLE'); RETURN NEXT;
	IF to_regclass('lim.unit_cursor') IS NOT NULL THEN
		label := 'units the write set has left at the end';
		value := (SELECT max_value - coalesce(last_value, 0) FROM pg_sequences
				   WHERE schemaname = 'lim' AND sequencename = 'unit_cursor');
		RETURN NEXT;
	END IF;
	label := 'database'; value := pg_size_pretty(pg_database_size(current_database()));
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION bench.sizes() IS 'row counts and sizes quoted by the report';

-- The 16-byte codes of the vault workloads, encrypted by each side.
CREATE TABLE bench.codes (
	n			integer PRIMARY KEY,
	plain		text NOT NULL,
	pgp			bytea,		-- pgp_sym_encrypt, as the reference stores codes
	raw			bytea,		-- pgcrypto encrypt(..., 'aes'): unauthenticated AES
	ours		bytea		-- the extension's vault
);
COMMENT ON TABLE bench.codes IS '16-byte voucher codes for the encrypt/decrypt workloads';

INSERT INTO bench.codes (n, plain)
SELECT g, lpad((g * 7919 + 1234567)::text, 16, '0') FROM generate_series(1, :vault_codes) AS g;
UPDATE bench.codes SET pgp = public.pgp_sym_encrypt(plain, ref.vault_key(), 'cipher-algo=aes256'),
	raw = public.encrypt(convert_to(plain, 'UTF8'),
						 decode(current_setting('ref.vault_key'), 'hex'), 'aes');
SELECT bench.param('*', 'rawkey', '\x' || current_setting('ref.vault_key'));

-- Records name_lo and name_hi: the scripts draw ids with
-- random(:name_lo, :name_hi).
CREATE FUNCTION bench.range_param(p_impl text, p_name text, p_lo bigint, p_hi bigint)
RETURNS void
LANGUAGE sql AS $$
	SELECT bench.param(p_impl, p_name || '_lo', p_lo), bench.param(p_impl, p_name || '_hi', p_hi)
$$;
COMMENT ON FUNCTION bench.range_param(text, text, bigint, bigint) IS
'sets name_lo and name_hi';

-- The same for a set of ids, which must be contiguous.
CREATE FUNCTION bench.ids_param(p_impl text, p_name text, p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	lo bigint := (SELECT min(i) FROM unnest(p_ids) AS i);
	hi bigint := (SELECT max(i) FROM unnest(p_ids) AS i);
BEGIN
	IF lo IS NULL OR hi - lo + 1 <> cardinality(p_ids) THEN
		RAISE EXCEPTION 'bench: % ids of % are not contiguous (% .. %, % ids)',
			p_name, p_impl, lo, hi, cardinality(p_ids);
	END IF;
	PERFORM bench.range_param(p_impl, p_name, lo, hi);
END
$$;
COMMENT ON FUNCTION bench.ids_param(text, text, bigint[]) IS
'sets name_lo and name_hi to the bounds of a contiguous set of ids';

SELECT bench.param('*', 'email', 'bench@example.com'::text), bench.param('*', 'tag', 'bench'::text);
