-- The reference implementation, part 2: the lifecycle as a PL/pgSQL trigger.
--
-- The legal moves are rows of two small tables (filled from the
-- extension's own rules, so both enforce exactly the same machine); a
-- BEFORE trigger looks the move up and appends the history row.  The
-- UPDATE trigger has a WHEN clause so that updates that keep the status
-- never enter PL/pgSQL.

CREATE TABLE ref.transitions (
	entity		text NOT NULL,
	from_status text NOT NULL,		-- '' for the initial state
	to_status	text NOT NULL,
	PRIMARY KEY (entity, from_status, to_status)
);
INSERT INTO ref.transitions
	SELECT entity, coalesce(from_status, ''), to_status FROM orders.transitions();
COMMENT ON TABLE ref.transitions IS 'legal status moves per entity ('''' = created)';

CREATE TABLE ref.sub_status_rules (
	status		text NOT NULL,
	sub_status	text NOT NULL,
	final		boolean NOT NULL,
	PRIMARY KEY (status, sub_status)
);
INSERT INTO ref.sub_status_rules
	SELECT status, sub_status, final FROM orders.sub_status_rules() WHERE entity = 'order';
COMMENT ON TABLE ref.sub_status_rules IS 'legal (status, sub-status) pairs of an order';

CALL ref.copy_table('status_history');
ALTER TABLE ref.status_history ADD PRIMARY KEY (id);
CREATE INDEX ON ref.status_history (entity, entity_id, id);

CREATE FUNCTION ref.lifecycle_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_entity text := TG_ARGV[0];
	v_from text := '';
	v_to text := NEW.status::text;
	v_from_sub text;
	v_to_sub text;
BEGIN
	IF TG_OP = 'UPDATE' THEN
		v_from := OLD.status::text;
	END IF;
	IF v_entity = 'order' THEN
		v_to_sub := NEW.sub_status::text;
		IF TG_OP = 'UPDATE' THEN
			v_from_sub := OLD.sub_status::text;
		END IF;
	END IF;

	IF v_from <> v_to AND NOT EXISTS (
			SELECT 1 FROM ref.transitions t
			 WHERE t.entity = v_entity AND t.from_status = v_from AND t.to_status = v_to) THEN
		RAISE EXCEPTION '% %: % -> % is not a legal transition',
			replace(v_entity, '_', ' '), NEW.id, coalesce(nullif(v_from, ''), '(new)'), v_to
			USING ERRCODE = 'OR001';
	END IF;
	IF v_to_sub IS NOT NULL AND (
			NOT EXISTS (SELECT 1 FROM ref.sub_status_rules r
						 WHERE r.status = v_to AND r.sub_status = v_to_sub)
			OR (v_from_sub <> v_to_sub AND EXISTS (
				SELECT 1 FROM ref.sub_status_rules r
				 WHERE r.sub_status = v_from_sub AND r.final))) THEN
		RAISE EXCEPTION 'order %: sub-status % -> % under % is not legal',
			NEW.id, coalesce(v_from_sub, '(new)'), v_to_sub, v_to
			USING ERRCODE = 'OR002';
	END IF;

	INSERT INTO ref.status_history
		(entity, entity_id, from_status, to_status, from_sub_status, to_sub_status, actor, reason)
	VALUES (v_entity, NEW.id, nullif(v_from, ''), v_to, v_from_sub, v_to_sub, current_user,
			nullif(current_setting('ref.transition_reason', true), ''));
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION ref.lifecycle_guard() IS
'trigger: refuses illegal status moves and records accepted ones in ref.status_history';

DO $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT * FROM (VALUES ('orders', 'order', 'status, sub_status',
									'OLD.status IS DISTINCT FROM NEW.status OR OLD.sub_status IS DISTINCT FROM NEW.sub_status'),
								   ('order_items', 'order_item', 'status',
									'OLD.status IS DISTINCT FROM NEW.status'),
								   ('inventory_units', 'inventory_unit', 'status',
									'OLD.status IS DISTINCT FROM NEW.status'))
				  AS v(tab, entity, cols, changed) LOOP
		EXECUTE format('CREATE TRIGGER lifecycle_guard_insert BEFORE INSERT ON ref.%I'
					   ' FOR EACH ROW EXECUTE FUNCTION ref.lifecycle_guard(%L)', t.tab, t.entity);
		EXECUTE format('CREATE TRIGGER lifecycle_guard_update BEFORE UPDATE OF %s ON ref.%I'
					   ' FOR EACH ROW WHEN (%s) EXECUTE FUNCTION ref.lifecycle_guard(%L)',
					   t.cols, t.tab, t.changed, t.entity);
	END LOOP;
END
$$;
