-- The lean reference, part 2: the status guard.
--
-- One PL/pgSQL function refuses illegal moves of an order's status and
-- appends the event row of each accepted one.  It runs AFTER the row is
-- written: a BEFORE INSERT trigger would also fire for the row that
-- INSERT ... ON CONFLICT DO NOTHING then skips (a replay), and record an
-- event for an order that was never written.  Raising there still undoes
-- the statement.  Updates that keep the status never enter PL/pgSQL (the
-- WHEN clause).

CREATE FUNCTION lean.order_status_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_from lean.order_status;
BEGIN
	IF TG_OP = 'UPDATE' THEN
		v_from := OLD.status;
	END IF;
	IF NOT (CASE
			WHEN v_from IS NULL THEN NEW.status = 'PENDING'
			WHEN v_from = 'PENDING' THEN NEW.status IN ('PROCESSING', 'DELIVERED', 'FAILED', 'CANCELLED')
			WHEN v_from = 'PROCESSING' THEN NEW.status IN ('PENDING', 'DELIVERED', 'FAILED')
			ELSE false END) THEN
		RAISE EXCEPTION 'order %: % -> % is not a legal transition',
			NEW.id, coalesce(v_from::text, '(new)'), NEW.status USING ERRCODE = 'check_violation';
	END IF;
	INSERT INTO lean.order_events (order_id, from_status, to_status) VALUES (NEW.id, v_from, NEW.status);
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION lean.order_status_guard() IS
'trigger: refuses illegal status moves of a lean order, appends one event row per accepted one';

CREATE TRIGGER order_status_insert AFTER INSERT ON lean.orders
	FOR EACH ROW EXECUTE FUNCTION lean.order_status_guard();
CREATE TRIGGER order_status_update AFTER UPDATE OF status ON lean.orders
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
	EXECUTE FUNCTION lean.order_status_guard();
