-- The events outbox: every change of an order's status (and the refund of
-- an order) appends one row here in the same transaction, numbered per
-- order, and NOTIFYs channel orders_events.  A delivery process (webhooks,
-- later) reads the unacknowledged rows in order and acknowledges them.

CREATE TABLE orders.order_events (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_id	bigint NOT NULL REFERENCES orders.orders,
	seq			integer NOT NULL CHECK (seq > 0),
	event		text NOT NULL CHECK (event IN ('order.placed', 'order.pending',
				'order.processing', 'order.delivered', 'order.partially_delivered',
				'order.failed', 'order.cancelled', 'order.refunded')),
	status		orders.order_status NOT NULL,
	sub_status	orders.order_sub_status NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	acknowledged_at timestamptz,
	UNIQUE (order_id, seq)
);
CREATE INDEX order_events_unacknowledged ON orders.order_events (id)
	WHERE acknowledged_at IS NULL;
COMMENT ON TABLE orders.order_events IS
'outbox: one row per order status change (and refund), numbered per order (seq), NOTIFY orders_events';

-- The event a status change announces; NULL when there is none.
CREATE FUNCTION orders.status_event(p_status orders.order_status) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT 'order.' OPERATOR(pg_catalog.||) pg_catalog.lower(p_status::text)
$$;
COMMENT ON FUNCTION orders.status_event(orders.order_status) IS
'the outbox event of an order entering a status: order.<status in lower case>';

CREATE FUNCTION orders.append_order_events() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	events text[] := ARRAY[]::text[];
	next_seq integer;
	ev text;
	event_id bigint;
BEGIN
	IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
		events := array_append(events, orders.status_event(NEW.status));
	END IF;
	IF NEW.sub_status = 'REFUNDED'
		AND (TG_OP = 'INSERT' OR OLD.sub_status IS DISTINCT FROM NEW.sub_status) THEN
		events := array_append(events, 'order.refunded');
	END IF;
	IF cardinality(events) = 0 THEN
		RETURN NULL;
	END IF;
	-- The order's row is locked by this very change, so the numbering of
	-- one order is serialised; UNIQUE (order_id, seq) backs that up.
	SELECT coalesce(max(e.seq), 0) INTO next_seq
	FROM orders.order_events e WHERE e.order_id = NEW.id;
	FOREACH ev IN ARRAY events LOOP
		next_seq := next_seq + 1;
		INSERT INTO orders.order_events (client_id, order_id, seq, event, status, sub_status)
		VALUES (NEW.client_id, NEW.id, next_seq, ev, NEW.status, NEW.sub_status)
		RETURNING id INTO event_id;
		PERFORM pg_notify('orders_events', json_build_object(
			'id', event_id, 'order_id', NEW.id, 'client_id', NEW.client_id,
			'seq', next_seq, 'event', ev)::text);
	END LOOP;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.append_order_events() IS
'trigger: appends the outbox rows of an order status change and NOTIFYs orders_events';

CREATE TRIGGER append_order_events
	AFTER INSERT OR UPDATE OF status, sub_status ON orders.orders
	FOR EACH ROW EXECUTE FUNCTION orders.append_order_events();
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER append_order_events;

-- Events are facts: only acknowledged_at may be set, once.
CREATE FUNCTION orders.guard_order_events() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	IF OLD.acknowledged_at IS NOT NULL
		OR (to_jsonb(NEW) - 'acknowledged_at') <> (to_jsonb(OLD) - 'acknowledged_at') THEN
		RAISE EXCEPTION 'order_events is append-only: only acknowledged_at may be set, once'
			USING ERRCODE = 'OR003';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION orders.guard_order_events() IS
'trigger: an outbox row never changes, except that it is acknowledged once';

CREATE TRIGGER order_events_guard
	BEFORE UPDATE ON orders.order_events
	FOR EACH ROW EXECUTE FUNCTION orders.guard_order_events();
CREATE TRIGGER order_events_no_delete
	BEFORE DELETE ON orders.order_events
	FOR EACH ROW EXECUTE FUNCTION orders.refuse_change();
CREATE TRIGGER order_events_no_truncate
	BEFORE TRUNCATE ON orders.order_events
	FOR EACH STATEMENT EXECUTE FUNCTION orders.refuse_change();
ALTER TABLE orders.order_events ENABLE ALWAYS TRIGGER order_events_guard;
ALTER TABLE orders.order_events ENABLE ALWAYS TRIGGER order_events_no_delete;
ALTER TABLE orders.order_events ENABLE ALWAYS TRIGGER order_events_no_truncate;

CREATE FUNCTION orders.unacknowledged_events(p_limit integer DEFAULT 100)
RETURNS SETOF orders.order_events
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 THEN
		RAISE EXCEPTION 'limit must be between 1 and 10000, not %', coalesce(p_limit::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY
		SELECT * FROM orders.order_events e
		WHERE e.acknowledged_at IS NULL
		ORDER BY e.id
		LIMIT p_limit;
END
$$;
COMMENT ON FUNCTION orders.unacknowledged_events(integer) IS
'the oldest unacknowledged outbox events, in the order they were written (per order: by seq)';

CREATE FUNCTION orders.acknowledge_events(p_event_ids bigint[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	early record;
	acked integer;
BEGIN
	PERFORM orders.check_ids('event', p_event_ids, 'orders.order_events');
	-- In order per order: an event is acknowledged only with, or after,
	-- every earlier event of its order.
	SELECT e.id, e.order_id, e.seq, earlier.seq AS earlier_seq INTO early
	FROM orders.order_events e
	JOIN orders.order_events earlier
		ON earlier.order_id = e.order_id AND earlier.seq < e.seq
	WHERE e.id = ANY (p_event_ids)
		AND earlier.acknowledged_at IS NULL AND NOT earlier.id = ANY (p_event_ids)
	ORDER BY e.id, earlier.seq LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'event % (order %, seq %) cannot be acknowledged before seq % of the same order',
			early.id, early.order_id, early.seq, early.earlier_seq
			USING ERRCODE = 'OR510',
				  HINT = 'Acknowledge the events of an order in seq order, or together.';
	END IF;
	UPDATE orders.order_events SET acknowledged_at = now()
	WHERE id = ANY (p_event_ids) AND acknowledged_at IS NULL;
	GET DIAGNOSTICS acked = ROW_COUNT;
	RETURN acked;
END
$$;
COMMENT ON FUNCTION orders.acknowledge_events(bigint[]) IS
'marks outbox events delivered, in seq order per order; returns how many were newly acknowledged (a repeat acknowledges 0)';

GRANT EXECUTE ON FUNCTION orders.unacknowledged_events(integer),
	orders.acknowledge_events(bigint[]) TO orders_admin;
