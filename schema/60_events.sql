-- The events outbox: every change of an order's status (and the refund of
-- an order) appends one row here in the same transaction, numbered per
-- order.  No NOTIFY in the order's transaction (it would serialise
-- commits): a delivery process (webhooks, later) polls the unacknowledged
-- rows by index, in order, and acknowledges them; orders.run_maintenance()
-- wakes listeners of channel orders_events after commit
-- (schema/66_maintenance.sql).

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
	UNIQUE (order_id, seq),
	-- the webhook fan-out's own position (orders.webhook_enqueue,
	-- schema/69_webhook_delivery.sql): when it turned this row into webhook
	-- events; independent of acknowledged_at, which belongs to the
	-- consumers of orders.acknowledge_events (docs/design.md, "Webhooks")
	webhooks_queued_at timestamptz
);
CREATE INDEX order_events_unacknowledged ON orders.order_events (id)
	WHERE acknowledged_at IS NULL;
CREATE INDEX order_events_webhooks_unqueued ON orders.order_events (id)
	WHERE webhooks_queued_at IS NULL;
COMMENT ON TABLE orders.order_events IS
'outbox: one row per order status change (and refund), numbered per order (seq); polled by index, announced by maintenance (NOTIFY orders_events); two independent consumer positions: acknowledged_at (orders.acknowledge_events) and webhooks_queued_at (the webhook fan-out)';

-- The event a status change announces; NULL when there is none.
CREATE FUNCTION orders.status_event(p_status orders.order_status) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT 'order.' OPERATOR(pg_catalog.||) pg_catalog.lower(p_status::text)
$$;
COMMENT ON FUNCTION orders.status_event(orders.order_status) IS
'the outbox event of an order entering a status: order.<status in lower case>';

-- The rows are written by the lifecycle trigger itself, in C
-- (src/lifecycle_outbox.c, schema/30_lifecycle.sql), one event per recorded
-- step with the status and sub-status of that step: an UPDATE's events at
-- once, under the order's row lock (seq = the order's last seq + 1, read
-- from UNIQUE (order_id, seq)); an INSERT's numbered from 1 once the row is
-- really inserted (AFTER INSERT trigger lifecycle_record).

-- Events are facts: only the consumers' positions (acknowledged_at,
-- webhooks_queued_at) may be set, each once.
CREATE FUNCTION orders.guard_order_events() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	IF (OLD.acknowledged_at IS NOT NULL AND NEW.acknowledged_at IS DISTINCT FROM OLD.acknowledged_at)
		OR (OLD.webhooks_queued_at IS NOT NULL AND NEW.webhooks_queued_at IS DISTINCT FROM OLD.webhooks_queued_at)
		OR (to_jsonb(NEW) - 'acknowledged_at' - 'webhooks_queued_at')
		   <> (to_jsonb(OLD) - 'acknowledged_at' - 'webhooks_queued_at') THEN
		RAISE EXCEPTION 'order_events is append-only: only acknowledged_at and webhooks_queued_at may be set, each once'
			USING ERRCODE = 'OR003';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION orders.guard_order_events() IS
'trigger: an outbox row never changes, except that each consumer position (acknowledged_at, webhooks_queued_at) is set once';

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
