-- The lifecycle: every legal move accepted, every other move refused, for
-- every entity, whoever issues the UPDATE; every accepted change recorded.
\set SHOW_CONTEXT never
SET search_path = orders, public;

-- Ids in the messages below do not depend on what other suites created
-- before: this suite numbers its rows from fixed values, and gives the
-- sequences back at the end.
SELECT pg_get_serial_sequence('orders.orders', 'id') AS order_seq,
	pg_get_serial_sequence('orders.inventory_units', 'id') AS unit_seq \gset
SELECT last_value AS order_seq_was FROM :order_seq \gset
SELECT last_value AS unit_seq_was FROM :unit_seq \gset
SELECT setval(:'order_seq', 900000) IS NOT NULL AS numbered,
	setval(:'unit_seq', 900000) IS NOT NULL AS numbered;

INSERT INTO clients (name) VALUES ('lifecycle client');
INSERT INTO products (id, name, currency) VALUES (1, 'Lifecycle Card', 'USD');

-- One fresh row of an entity, in its initial state; returns its id.
CREATE FUNCTION pg_temp.fresh(entity text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	o bigint; i bigint; r bigint;
	c bigint := (SELECT id FROM orders.clients WHERE name = 'lifecycle client');
BEGIN
	IF entity = 'inventory_unit' THEN
		INSERT INTO orders.inventory_units (product_id, denomination, expires_at)
		VALUES (1, 10, now() + interval '1 year') RETURNING id INTO r;
		RETURN r;
	END IF;
	INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity)
	VALUES (c, 'po-' || clock_timestamp() || random(), 1, 10, 1) RETURNING id INTO o;
	IF entity = 'order' THEN RETURN o; END IF;
	INSERT INTO orders.order_items (client_id, order_id) VALUES (c, o) RETURNING id INTO i;
	IF entity = 'order_item' THEN RETURN i; END IF;
	INSERT INTO orders.recharges (client_id, order_item_id) VALUES (c, i) RETURNING id INTO r;
	RETURN r;
END $$;

-- Move a row to a status (and, for orders, the first legal sub-status of it).
CREATE FUNCTION pg_temp.move(entity text, row_id bigint, target text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	CASE entity
	WHEN 'order' THEN
		UPDATE orders.orders SET status = target::orders.order_status,
			sub_status = (SELECT r.sub_status FROM orders.sub_status_rules() r
						  WHERE r.entity = 'order' AND r.status = target LIMIT 1)::orders.order_sub_status
		WHERE id = row_id;
	WHEN 'order_item' THEN
		UPDATE orders.order_items SET status = target::orders.order_status WHERE id = row_id;
	WHEN 'inventory_unit' THEN
		UPDATE orders.inventory_units SET status = target::orders.inventory_status WHERE id = row_id;
	WHEN 'recharge' THEN
		UPDATE orders.recharges SET status = target::orders.recharge_status WHERE id = row_id;
	END CASE;
END $$;

-- Shortest legal path from the state fresh() creates to every reachable
-- state (a unit is created AVAILABLE, so BLOCKED is reached through it).
CREATE TEMP TABLE paths AS
WITH RECURSIVE p(entity, state, path) AS (
	SELECT entity, to_status, ARRAY[]::text[]
	FROM orders.transitions() WHERE from_status IS NULL
		AND NOT (entity = 'inventory_unit' AND to_status = 'BLOCKED')
	UNION ALL
	SELECT t.entity, t.to_status, p.path || t.to_status
	FROM p JOIN orders.transitions() t
		ON t.entity = p.entity AND t.from_status = p.state
	WHERE NOT t.to_status = ANY (p.path) AND cardinality(p.path) < 6
)
SELECT DISTINCT ON (entity, state) entity, state, path
FROM p ORDER BY entity, state, cardinality(path);

-- Try every (from, to) pair of states of every entity on a fresh row.
CREATE TEMP TABLE attempts (entity text, from_status text, to_status text,
	accepted boolean, sqlstate text);
DO $$
DECLARE
	p record; target text; row_id bigint; step text;
	typ regtype;
BEGIN
	FOR p IN SELECT * FROM paths ORDER BY entity, state LOOP
		typ := CASE p.entity WHEN 'inventory_unit' THEN 'orders.inventory_status'
							 WHEN 'recharge' THEN 'orders.recharge_status'
							 ELSE 'orders.order_status' END;
		FOR target IN SELECT orders.labels(typ) LOOP
			CONTINUE WHEN target = p.state;
			row_id := pg_temp.fresh(p.entity);
			FOREACH step IN ARRAY p.path LOOP
				PERFORM pg_temp.move(p.entity, row_id, step);
			END LOOP;
			BEGIN
				PERFORM pg_temp.move(p.entity, row_id, target);
				INSERT INTO attempts VALUES (p.entity, p.state, target, true, NULL);
			EXCEPTION WHEN OTHERS THEN
				INSERT INTO attempts VALUES (p.entity, p.state, target, false, SQLSTATE);
			END;
		END LOOP;
	END LOOP;
END $$;

-- The accepted moves, as observed (reviewed by hand against docs/lifecycle.md).
SELECT entity, from_status, string_agg(to_status, ', ' ORDER BY to_status) AS accepted
FROM attempts WHERE accepted GROUP BY entity, from_status ORDER BY entity, from_status;
-- Refused moves: how many, and always with the project SQLSTATE.
SELECT entity, count(*) AS refused, string_agg(DISTINCT sqlstate, ',') AS sqlstates
FROM attempts WHERE NOT accepted GROUP BY entity ORDER BY entity;
-- What the trigger does agrees with what transitions() publishes.
SELECT a.* FROM attempts a
WHERE a.accepted <> EXISTS (SELECT 1 FROM orders.transitions() t
	WHERE t.entity = a.entity AND t.from_status = a.from_status AND t.to_status = a.to_status);
-- States a new row may start in; anything else is refused on INSERT.
SELECT entity, string_agg(to_status, ', ') FROM orders.transitions()
WHERE from_status IS NULL GROUP BY entity ORDER BY entity;
INSERT INTO orders.orders (client_id, po_number, product_id, denomination, quantity, status)
VALUES ((SELECT id FROM clients WHERE name = 'lifecycle client'), 'born-delivered', 1, 10, 1, 'DELIVERED');
INSERT INTO orders.inventory_units (product_id, denomination, expires_at, status)
VALUES (1, 10, now(), 'DELIVERED');

-- The messages.
SELECT pg_temp.fresh('order') AS oid \gset
UPDATE orders SET status = 'pending', sub_status = 'initial' WHERE id = :oid;
UPDATE orders SET status = 'delivered', sub_status = 'inventory_fulfilled' WHERE id = :oid;
-- Its SQLSTATE (OR001), then its message, detail and hint (verbose mode
-- would also print the C source line, which moves with every edit).
\set VERBOSITY sqlstate
UPDATE orders SET status = 'pending', sub_status = 'initial' WHERE id = :oid;
\set VERBOSITY default
UPDATE orders SET status = 'pending', sub_status = 'initial' WHERE id = :oid;
UPDATE orders SET status = 'cancelled', sub_status = 'refunded' WHERE id = :oid;
-- A superuser is refused too (this suite runs as one), also in replica mode.
SELECT rolsuper FROM pg_roles WHERE rolname = current_user;
SET session_replication_role = replica;
UPDATE orders SET status = 'pending' WHERE id = :oid;
RESET session_replication_role;
SELECT status, sub_status FROM orders WHERE id = :oid;

-- Sub-statuses: legal only under their status; REFUNDED is final.
SELECT status, string_agg(sub_status, ', ') FROM orders.sub_status_rules()
WHERE entity = 'order' GROUP BY status ORDER BY status::orders.order_status;
UPDATE orders SET sub_status = 'reconciled' WHERE id = :oid;  -- legal under DELIVERED
UPDATE orders SET sub_status = 'vendor_order_failed' WHERE id = :oid;  -- not under DELIVERED
SELECT pg_temp.fresh('order') AS oid2 \gset
UPDATE orders SET status = 'pending', sub_status = 'initial' WHERE id = :oid2;
UPDATE orders SET status = 'failed', sub_status = 'vendor_order_failed' WHERE id = :oid2;
UPDATE orders SET sub_status = 'refunded' WHERE id = :oid2;
UPDATE orders SET sub_status = 'not_refunded' WHERE id = :oid2;
UPDATE orders SET status = 'pending' WHERE id = :oid2;
-- REFUNDED stays final across a status change: PARTIALLY_DELIVERED ->
-- DELIVERED is a legal move, refused here only because the sub-status
-- would leave REFUNDED; the same move from NOT_REFUNDED goes through.
SELECT pg_temp.fresh('order') AS oid4 \gset
UPDATE orders SET status = 'pending', sub_status = 'initial' WHERE id = :oid4;
UPDATE orders SET status = 'partially_delivered', sub_status = 'refunded' WHERE id = :oid4;
UPDATE orders SET status = 'delivered', sub_status = 'completed' WHERE id = :oid4;
SELECT pg_temp.fresh('order') AS oid5 \gset
UPDATE orders SET status = 'pending', sub_status = 'initial' WHERE id = :oid5;
UPDATE orders SET status = 'partially_delivered', sub_status = 'not_refunded' WHERE id = :oid5;
UPDATE orders SET status = 'delivered', sub_status = 'completed' WHERE id = :oid5;
SELECT id = :oid4 AS from_refunded, status, sub_status FROM orders WHERE id IN (:oid4, :oid5) ORDER BY id;
-- A row untouched in status fires no history.
UPDATE orders SET updated_at = now() WHERE id = :oid2;

-- The history of the two orders, in order.
SELECT entity_id = :oid AS first, from_status, to_status, from_sub_status,
	to_sub_status, actor = current_user AS actor_is_me, reason
FROM status_history WHERE entity = 'order' AND entity_id IN (:oid, :oid2) ORDER BY id;
-- A reason is an argument of the transition (orders.transition_*()), and
-- is recorded for exactly the rows of that one statement: two transitions
-- of one order in one transaction each keep their own reason, a later
-- direct UPDATE in the same transaction records none (no stale reason),
-- and a transition to the state a row is in already moves nothing.
BEGIN;
SELECT pg_temp.fresh('order') AS oid3 \gset
SELECT transition_orders(ARRAY[:oid3]::bigint[], 'PENDING', 'INITIAL', 'debited by the test') AS moved;
SELECT transition_orders(ARRAY[:oid3]::bigint[], 'PENDING', 'VENDOR_ORDER_PENDING', 'no stock in the test') AS moved;
UPDATE orders SET status = 'cancelled', sub_status = 'not_refunded' WHERE id = :oid3;
SELECT transition_orders(ARRAY[:oid3]::bigint[], 'CANCELLED', 'NOT_REFUNDED', 'cancelled again') AS moved;
COMMIT;
SELECT from_status, to_status, from_sub_status, to_sub_status, reason FROM status_history
WHERE entity = 'order' AND entity_id = :oid3 ORDER BY id;
-- Its outbox: one event per change of status, numbered from 1.
SELECT seq, event, status, sub_status FROM order_events WHERE order_id = :oid3 ORDER BY seq;
-- The trigger checks a transition like any UPDATE: refused, nothing changes.
SELECT pg_temp.fresh('order') AS oid4 \gset
SELECT transition_orders(ARRAY[:oid4]::bigint[], 'DELIVERED', 'COMPLETED', 'too early');
SELECT status, sub_status, (SELECT count(*) FROM status_history h
	WHERE h.entity = 'order' AND h.entity_id = o.id) AS history
FROM orders o WHERE id = :oid4;
-- A failed transition leaves no arming behind: neither row, the refused
-- one nor one it never reached, records its reason when updated later.
SELECT pg_temp.fresh('order') AS oid5 \gset
BEGIN;
SAVEPOINT refused;
-- (which of the two the UPDATE meets first is the plan's choice: the
-- SQLSTATE alone is shown)
\set VERBOSITY sqlstate
SELECT transition_orders(ARRAY[:oid4, :oid5]::bigint[], 'DELIVERED', 'COMPLETED', 'not this one');
\set VERBOSITY default
ROLLBACK TO refused;
SELECT transition_orders(ARRAY[:oid4]::bigint[], 'PENDING', 'INITIAL', 'debited by the test') AS moved;
UPDATE orders SET status = 'cancelled', sub_status = 'not_refunded' WHERE id IN (:oid4, :oid5);
COMMIT;
SELECT entity_id = :oid5 AS fifth, from_status, to_status, reason FROM status_history
WHERE entity = 'order' AND entity_id IN (:oid4, :oid5) ORDER BY id;
-- The other entities, several rows at once; each row's history has the reason.
SELECT pg_temp.fresh('recharge') AS r1 \gset
SELECT order_item_id AS i1 FROM recharges WHERE id = :r1 \gset
SELECT pg_temp.fresh('inventory_unit') AS u1 \gset
SELECT pg_temp.fresh('inventory_unit') AS u2 \gset
SELECT transition_recharges(ARRAY[:r1]::bigint[], 'DELIVERED', 'submitted in the test') AS recharges,
	transition_order_items(ARRAY[:i1]::bigint[], 'PROCESSING', 'held in the test') AS items,
	transition_inventory_units(ARRAY[:u1, :u2, :u2, -1]::bigint[], 'ALLOCATED', 'reserved in the test') AS units;
SELECT entity, to_status, reason, count(*) FROM status_history
WHERE (entity, entity_id) IN (('recharge', :r1), ('order_item', :i1), ('inventory_unit', :u1), ('inventory_unit', :u2))
	AND from_status IS NOT NULL
GROUP BY 1, 2, 3 ORDER BY 1;
-- Bad arguments: a clear error, nothing changed.
SELECT transition_inventory_units(ARRAY[:u1]::bigint[], 'DELIVERED', '  ');
SELECT transition_inventory_units(ARRAY[:u1]::bigint[], 'DELIVERED', NULL);
SELECT transition_inventory_units(ARRAY[:u1]::bigint[], NULL, 'no state');
SELECT transition_inventory_units(ARRAY[:u1, NULL]::bigint[], 'DELIVERED', 'a null id');
SELECT transition_inventory_units(ARRAY[:u1]::bigint[], 'DELIVERED', repeat('x', 501));
SELECT transition_inventory_units(NULL, 'DELIVERED', 'no ids') AS moved,
	transition_inventory_units('{}', 'DELIVERED', 'no ids') AS moved;
SELECT status FROM inventory_units WHERE id = :u1;
-- Only the extension's owner calls them (EXECUTE revoked from PUBLIC).
SELECT p.proname, has_function_privilege('orders_api', p.oid, 'EXECUTE') AS api,
	has_function_privilege('orders_vendor', p.oid, 'EXECUTE') AS vendor
FROM pg_proc p WHERE p.pronamespace = 'orders'::regnamespace AND p.proname LIKE 'transition\_%'
ORDER BY 1;

-- An order's INSERT is recorded once the row is really inserted: a row that
-- INSERT ... ON CONFLICT DO NOTHING skips (its BEFORE triggers did fire)
-- leaves no history and no event.
SELECT max(id) AS history_before FROM status_history \gset
INSERT INTO orders (client_id, po_number, product_id, denomination, quantity)
VALUES ((SELECT id FROM clients WHERE name = 'lifecycle client'), 'po-once', 1, 10, 1);
INSERT INTO orders (client_id, po_number, product_id, denomination, quantity)
VALUES ((SELECT id FROM clients WHERE name = 'lifecycle client'), 'po-once', 1, 10, 1)
ON CONFLICT (client_id, po_number) DO NOTHING;
SELECT o.po_number, count(h.id) AS history, (SELECT count(*) FROM order_events e WHERE e.order_id = h.entity_id) AS events
FROM status_history h LEFT JOIN orders o ON o.id = h.entity_id
WHERE h.id > :history_before AND h.entity = 'order' GROUP BY 1, h.entity_id;

-- The history is append-only, for everybody.
UPDATE status_history SET reason = 'rewritten' WHERE entity_id = :oid;
DELETE FROM status_history WHERE entity_id = :oid;
TRUNCATE status_history;
SELECT count(*) > 0 AS history_kept FROM status_history WHERE entity_id = :oid;

-- The graph, for the docs.
SELECT orders.lifecycle_graph('recharge');
SELECT orders.lifecycle_graph('recharge', 'mermaid');
SELECT orders.lifecycle_graph('nope');
SELECT orders.lifecycle_graph('order', 'svg');

-- The trigger refuses to be misused.
CREATE TABLE public.no_status (id bigint);
CREATE TRIGGER g BEFORE INSERT ON public.no_status
	FOR EACH ROW EXECUTE FUNCTION orders.lifecycle_guard('order');
INSERT INTO public.no_status VALUES (1);
DROP TABLE public.no_status;

SELECT setval(:'order_seq', :order_seq_was) IS NOT NULL AS restored,
	setval(:'unit_seq', :unit_seq_was) IS NOT NULL AS restored;
