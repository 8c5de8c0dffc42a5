-- The lifecycle: rules in C (src/lifecycle_rules.c), enforced by a trigger
-- on every status column, every accepted change kept in status_history.

CREATE TABLE orders.status_history (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entity		text NOT NULL,
	entity_id	bigint NOT NULL,
	from_status text,
	to_status	text NOT NULL,
	from_sub_status text,
	to_sub_status text,
	at			timestamptz NOT NULL DEFAULT now(),
	actor		text NOT NULL,
	reason		text
);
CREATE INDEX ON orders.status_history (entity, entity_id, id);
COMMENT ON TABLE orders.status_history IS
'append-only history of every status and sub-status change (entity, id, from, to, at, actor, reason)';

CREATE FUNCTION orders.lifecycle_guard() RETURNS trigger
	AS 'MODULE_PATHNAME', 'lifecycle_guard' LANGUAGE C;
COMMENT ON FUNCTION orders.lifecycle_guard() IS
'trigger: refuses illegal status moves and records accepted ones in orders.status_history';

CREATE FUNCTION orders.refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
		USING ERRCODE = 'OR003';
END
$$;
COMMENT ON FUNCTION orders.refuse_change() IS
'trigger: refuses UPDATE, DELETE and TRUNCATE on append-only tables';

-- Append-only for everybody, the owner and superusers included: ENABLE
-- ALWAYS row and statement triggers, not just missing grants.  One place
-- for the history, the ledger, the reveal audit and the API audit.
CREATE FUNCTION orders.make_append_only(p_table regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	t name := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = p_table);
BEGIN
	EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %s'
				   ' FOR EACH ROW EXECUTE FUNCTION orders.refuse_change()',
				   t || '_append_only', p_table);
	EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %s'
				   ' FOR EACH STATEMENT EXECUTE FUNCTION orders.refuse_change()',
				   t || '_no_truncate', p_table);
	EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', p_table, t || '_append_only');
	EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', p_table, t || '_no_truncate');
END
$$;
COMMENT ON FUNCTION orders.make_append_only(regclass) IS
'makes a table append-only for everybody: UPDATE, DELETE and TRUNCATE refused by ENABLE ALWAYS triggers (OR003)';

SELECT orders.make_append_only('orders.status_history');

CREATE TRIGGER lifecycle_guard
	BEFORE INSERT OR UPDATE OF status, sub_status ON orders.orders
	FOR EACH ROW EXECUTE FUNCTION orders.lifecycle_guard('order');
CREATE TRIGGER lifecycle_guard
	BEFORE INSERT OR UPDATE OF status ON orders.order_items
	FOR EACH ROW EXECUTE FUNCTION orders.lifecycle_guard('order_item');
CREATE TRIGGER lifecycle_guard
	BEFORE INSERT OR UPDATE OF status ON orders.inventory_units
	FOR EACH ROW EXECUTE FUNCTION orders.lifecycle_guard('inventory_unit');
CREATE TRIGGER lifecycle_guard
	BEFORE INSERT OR UPDATE OF status ON orders.recharges
	FOR EACH ROW EXECUTE FUNCTION orders.lifecycle_guard('recharge');
-- An order's INSERT is checked by lifecycle_guard and recorded (history,
-- outbox) by lifecycle_record once the row is really inserted: an INSERT ...
-- ON CONFLICT DO NOTHING fires BEFORE triggers for a row it then skips.
CREATE FUNCTION orders.lifecycle_record() RETURNS trigger
	AS 'MODULE_PATHNAME', 'lifecycle_record' LANGUAGE C;
COMMENT ON FUNCTION orders.lifecycle_record() IS
'trigger: writes the history and outbox rows lifecycle_guard accepted for an inserted order';
CREATE TRIGGER lifecycle_record
	AFTER INSERT ON orders.orders
	FOR EACH ROW EXECUTE FUNCTION orders.lifecycle_record();
-- ALWAYS: session_replication_role = replica does not switch them off.
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER lifecycle_guard;
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER lifecycle_record;
ALTER TABLE orders.order_items ENABLE ALWAYS TRIGGER lifecycle_guard;
ALTER TABLE orders.inventory_units ENABLE ALWAYS TRIGGER lifecycle_guard;
ALTER TABLE orders.recharges ENABLE ALWAYS TRIGGER lifecycle_guard;

CREATE FUNCTION orders.transitions(
	OUT entity text, OUT from_status text, OUT to_status text, OUT reason text)
RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'lifecycle_transitions' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.transitions() IS
'every legal status move of every entity, with its reason (from_status NULL: initial state)';

CREATE FUNCTION orders.sub_status_rules(
	OUT entity text, OUT status text, OUT sub_status text, OUT final boolean, OUT reason text)
RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'lifecycle_sub_status_rules' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.sub_status_rules() IS
'every legal (status, sub-status) pair; a final sub-status is never left once reached';

CREATE FUNCTION orders.lifecycle_graph(entity text, format text DEFAULT 'dot') RETURNS text
	AS 'MODULE_PATHNAME', 'lifecycle_graph' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.lifecycle_graph(text, text) IS
'the status moves of an entity as a Graphviz DOT (format dot) or Mermaid (format mermaid) graph';

-- Status changes with their reason, for every path that changes a status
-- (src/lifecycle_transition.c): the reason is an argument, handed to the
-- trigger for exactly the rows of this one UPDATE (lifecycle.h), never a
-- setting.  Rows already in the new state and ids of no row are left alone
-- (NULL ids: none); the result is the number of rows moved.  The trigger checks each move as
-- for any UPDATE.  SECURITY INVOKER: the caller needs UPDATE on the table,
-- so these add no privilege; EXECUTE is revoked from PUBLIC (no written
-- reason to grant it: the fulfilment functions call them as their owner).
CREATE FUNCTION orders.transition_orders(p_order_ids bigint[], p_status orders.order_status,
										 p_sub_status orders.order_sub_status, p_reason text)
RETURNS integer
	AS 'MODULE_PATHNAME', 'transition_orders' LANGUAGE C;
COMMENT ON FUNCTION orders.transition_orders(bigint[], orders.order_status,
											 orders.order_sub_status, text) IS
'moves orders to a status and sub-status, recording p_reason in their history; returns how many moved';

CREATE FUNCTION orders.transition_order_items(p_item_ids bigint[], p_status orders.order_status,
											  p_reason text)
RETURNS integer
	AS 'MODULE_PATHNAME', 'transition_order_items' LANGUAGE C;
COMMENT ON FUNCTION orders.transition_order_items(bigint[], orders.order_status, text) IS
'moves order items to a status, recording p_reason in their history; returns how many moved';

CREATE FUNCTION orders.transition_inventory_units(p_unit_ids bigint[],
												  p_status orders.inventory_status, p_reason text)
RETURNS integer
	AS 'MODULE_PATHNAME', 'transition_inventory_units' LANGUAGE C;
COMMENT ON FUNCTION orders.transition_inventory_units(bigint[], orders.inventory_status, text) IS
'moves inventory units to a status, recording p_reason in their history; returns how many moved';

CREATE FUNCTION orders.transition_recharges(p_recharge_ids bigint[],
											p_status orders.recharge_status, p_reason text)
RETURNS integer
	AS 'MODULE_PATHNAME', 'transition_recharges' LANGUAGE C;
COMMENT ON FUNCTION orders.transition_recharges(bigint[], orders.recharge_status, text) IS
'moves recharges to a status, recording p_reason in their history; returns how many moved';

REVOKE EXECUTE ON FUNCTION
	orders.transition_orders(bigint[], orders.order_status, orders.order_sub_status, text),
	orders.transition_order_items(bigint[], orders.order_status, text),
	orders.transition_inventory_units(bigint[], orders.inventory_status, text),
	orders.transition_recharges(bigint[], orders.recharge_status, text)
	FROM PUBLIC;
