-- The reference implementation, part 5: what fulfilment adds to every
-- order (#5): an outbox row per status change (and per refund), numbered
-- per order, with a NOTIFY on orders_events; and a vendor job for every
-- order that starts waiting for a vendor.  Both as AFTER triggers, like
-- the engine's, so that creating an order does the same work on both
-- sides.  (The vendor side itself, leases and retries, is not measured.)

CALL ref.copy_table('order_events');
ALTER TABLE ref.order_events ADD PRIMARY KEY (id), ADD UNIQUE (order_id, seq),
	ADD FOREIGN KEY (order_id) REFERENCES ref.orders;
CREATE INDEX ON ref.order_events (id) WHERE acknowledged_at IS NULL;

CALL ref.copy_table('vendor_jobs');
ALTER TABLE ref.vendor_jobs ADD PRIMARY KEY (id), ADD UNIQUE (order_id), ADD UNIQUE (lease_token),
	ADD FOREIGN KEY (order_id) REFERENCES ref.orders;
CREATE INDEX ON ref.vendor_jobs (next_attempt_at, id) WHERE status = 'QUEUED';
CREATE INDEX ON ref.vendor_jobs (lease_until) WHERE status = 'LEASED';

-- One trigger for both: the events of this change in one INSERT (the new
-- status's, and order.refunded when the sub-status becomes REFUNDED),
-- numbered after the order's last one (the order row is locked by the
-- change itself), a NOTIFY each; then the vendor job if the order now
-- waits for a vendor.
CREATE FUNCTION ref.order_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	e record;
BEGIN
	FOR e IN
		INSERT INTO ref.order_events (client_id, order_id, seq, event, status, sub_status)
		SELECT NEW.client_id, NEW.id,
			   (SELECT coalesce(max(seq), 0) FROM ref.order_events WHERE order_id = NEW.id)
			   + row_number() OVER (ORDER BY v.k),
			   v.event, NEW.status, NEW.sub_status
		  FROM (VALUES (1, 'order.' || lower(NEW.status::text),
						TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status),
					   (2, 'order.refunded',
						NEW.sub_status = 'REFUNDED'
						AND (TG_OP = 'INSERT' OR NEW.sub_status IS DISTINCT FROM OLD.sub_status)))
			   AS v(k, event, due)
		 WHERE v.due
		RETURNING id, seq, event
	LOOP
		PERFORM pg_notify('orders_events', json_build_object(
			'id', e.id, 'order_id', NEW.id, 'client_id', NEW.client_id,
			'seq', e.seq, 'event', e.event)::text);
	END LOOP;
	IF NEW.status = 'PENDING' AND NEW.sub_status = 'VENDOR_ORDER_PENDING' THEN
		INSERT INTO ref.vendor_jobs (client_id, order_id, deadline)
		VALUES (NEW.client_id, NEW.id, now() + interval '1 day')
		ON CONFLICT (order_id) DO NOTHING;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION ref.order_changed() IS
'trigger: the outbox rows (with a NOTIFY each) and the vendor job of an order status change';

CREATE TRIGGER order_changed AFTER INSERT OR UPDATE OF status, sub_status ON ref.orders
	FOR EACH ROW EXECUTE FUNCTION ref.order_changed();
