-- Webhook delivery (issue 13, docs/webhooks.md): events from the outbox,
-- and the contract of the delivery daemon.  The daemon (a program outside
-- the backend: a crash or hang in HTTP code never touches PostgreSQL) logs
-- in with a role granted orders_webhook_sender, which may execute three
-- functions only:
--   orders.webhook_enqueue the fan-out: new outbox events into webhook
--                          events and deliveries, in its own short
--                          transaction (never the order's, never a claim's);
--   orders.webhook_claim   due deliveries, leased, each with everything to
--                          send (URL, headers, exact body), signed here so
--                          that the daemon never holds a secret;
--   orders.webhook_report  the result of one attempt.
-- It polls (every second by default) and listens on channel
-- orders_webhooks, which maintenance notifies after its own commit.

-- Events from the outbox.  orders.order_events is written in the status
-- change's own transaction; turning its rows into webhook events adds
-- nothing to that transaction.  The fan-out has its own position in the
-- outbox, per row: webhooks_queued_at (acknowledged_at belongs to the
-- consumers of orders.acknowledge_events; the two never compete).  Rows
-- not yet queued are taken in id order and marked: a row of a transaction
-- that committed out of id order is still unmarked when it becomes
-- visible, so it is taken by a later round, never skipped.  Per order, seq
-- n+1 is written only after seq n committed (the order's row lock), so per
-- order the events (and deliveries) are created in seq order.

-- The order as GET /api/v1/orders/{id} shows it, without vouchers (codes,
-- PINs, URLs: the client fetches them through the audited details call).
CREATE FUNCTION orders.webhook_order_json(o orders.orders) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT orders.order_common_json(o) || jsonb_build_object('discount', orders.money_text(o.order_discount))
$$;
COMMENT ON FUNCTION orders.webhook_order_json(orders.orders) IS
'the order of a webhook event: as order details (reference 002) show it, without vouchers';

-- The recharge event a top-up order's status change announces, if any.
CREATE FUNCTION orders.webhook_recharge_event(p_kind text, p_status orders.order_status,
	p_sub_status orders.order_sub_status) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, orders AS $$
	SELECT CASE WHEN p_kind = 'TOPUP' THEN
		CASE WHEN p_status = 'PROCESSING' AND p_sub_status = 'VENDOR_ORDER_CREATED' THEN 'recharge.submitted'
			 WHEN p_status IN ('DELIVERED', 'PARTIALLY_DELIVERED') THEN 'recharge.succeeded'
			 WHEN p_status = 'FAILED' THEN 'recharge.failed' END END
$$;
COMMENT ON FUNCTION orders.webhook_recharge_event(text, orders.order_status, orders.order_sub_status) IS
'the recharge event of a top-up order entering a status: recharge.submitted (submitted to the operator), recharge.succeeded, recharge.failed; NULL otherwise';

CREATE FUNCTION orders.webhook_body(p_msg_id text, p_type text, p_at timestamptz, p_data jsonb)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT jsonb_build_object('id', p_msg_id, 'type', p_type,
							  'timestamp', orders.rfc3339(p_at), 'data', p_data)::text
$$;
COMMENT ON FUNCTION orders.webhook_body(text, text, timestamptz, jsonb) IS
'the JSON body of a webhook event: {"id": msg_id, "type", "timestamp" (RFC 3339), "data"}';

CREATE FUNCTION orders.webhook_new_msg_id() RETURNS text
LANGUAGE sql VOLATILE SET search_path = pg_catalog AS $$
	SELECT 'msg_' || replace(gen_random_uuid()::text, '-', '')
$$;
COMMENT ON FUNCTION orders.webhook_new_msg_id() IS
'a new webhook message id (the webhook-id header): msg_ and 32 random hex digits';

-- After a delivery of (endpoint, order) ended (succeeded, given up): the
-- earliest pending delivery of that pair becomes its head, unless one is
-- already (a delivery re-sent by the API is a head of its own).  The
-- caller holds the ended delivery's row lock; the fan-out locks the pending
-- rows of a pair before it decides whether a new delivery is a head, so
-- that one of the two always sees the other's work.  PL/pgSQL, not SQL:
-- its plans are kept across calls (one call per report; a SQL function
-- with SET is planned again at every call, which cost 0.5 ms a report).
CREATE FUNCTION orders.webhook_next_head(p_endpoint_id bigint, p_order_id bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	first_id bigint;
	any_head boolean;
BEGIN
	-- The pair's pending rows (a few) from webhook_deliveries_pending_order.
	-- No condition on head here: a query that asked for the heads would
	-- let the planner walk webhook_deliveries_due_heads, every due head of
	-- every endpoint, at each report.
	SELECT (array_agg(e.id ORDER BY e.id))[1], bool_or(e.head) INTO first_id, any_head
	FROM orders.webhook_deliveries e
	WHERE e.endpoint_id = p_endpoint_id AND e.order_id = p_order_id AND e.status = 'pending';
	IF first_id IS NOT NULL AND NOT any_head THEN
		UPDATE orders.webhook_deliveries SET head = true WHERE id = first_id;
	END IF;
END
$$;
COMMENT ON FUNCTION orders.webhook_next_head(bigint, bigint) IS
'after a delivery of an endpoint and order ended: the earliest pending delivery of that endpoint and order becomes sendable (head), unless one already is';

-- The fan-out: turns up to p_limit outbox rows not yet queued (in id
-- order) into webhook events and deliveries (for the endpoints subscribed
-- to them) and marks them queued.  Its own short transaction: the daemon
-- calls it in its loop, apart from its claims.  One caller at a time (an
-- advisory lock; another caller returns 0 at once).  Returns the number of
-- deliveries created.
CREATE FUNCTION orders.webhook_enqueue(p_limit integer DEFAULT 1000) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	created integer;
	new_heads bigint[];
BEGIN
	IF p_limit IS NULL OR p_limit < 1 THEN
		RAISE EXCEPTION 'limit must be at least 1, not %', coalesce(p_limit::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- the key: 'orders.webhook_enqueue' as two int4 (arbitrary, fixed)
	IF NOT pg_try_advisory_xact_lock(1869770099, 1751474795) THEN
		RETURN 0;
	END IF;
	WITH ev AS (
		SELECT e.id, e.client_id, e.order_id, e.event, e.status, e.sub_status, e.created_at
		FROM orders.order_events e
		WHERE e.webhooks_queued_at IS NULL
		ORDER BY e.id
		LIMIT p_limit
		FOR UPDATE
	), queued AS (
		UPDATE orders.order_events e SET webhooks_queued_at = now()
		FROM ev WHERE e.id = ev.id
		RETURNING e.id
	), eps AS (
		-- The live endpoints of these clients, locked FOR KEY SHARE: an
		-- endpoint being deleted (its handler holds FOR UPDATE) is waited
		-- for and then seen deleted, and one deleted after this lock waits
		-- for our commit before it drops its pending deliveries, ours
		-- included.  Never a pending delivery of a deleted endpoint.
		SELECT w.id, w.client_id, w.event_types, w.created_at
		FROM orders.webhook_endpoints w
		WHERE w.client_id IN (SELECT ev.client_id FROM ev)
		  AND w.deleted_at IS NULL AND w.disabled_at IS NULL
		FOR KEY SHARE
	), typed AS (
		SELECT ev.id AS order_event_id, ev.client_id, ev.order_id, ev.created_at, t.n, t.type,
			   orders.webhook_order_json(o) || jsonb_build_object('status', ev.status) AS data,
			   orders.webhook_new_msg_id() AS msg_id
		FROM ev
		JOIN orders.orders o ON o.id = ev.order_id
		JOIN orders.products p ON p.id = o.product_id
		CROSS JOIN LATERAL (VALUES (1, ev.event),
			(2, orders.webhook_recharge_event(p.kind, ev.status, ev.sub_status))) AS t(n, type)
		WHERE t.type IS NOT NULL
		  AND EXISTS (SELECT 1 FROM eps w
					  WHERE w.client_id = ev.client_id AND t.type = ANY (w.event_types)
						AND w.created_at <= ev.created_at)
	), made AS (
		INSERT INTO orders.webhook_events (client_id, msg_id, type, order_id, order_event_id, body, created_at)
		SELECT typed.client_id, typed.msg_id, typed.type, typed.order_id, typed.order_event_id,
			   orders.webhook_body(typed.msg_id, typed.type, typed.created_at, typed.data), typed.created_at
		FROM typed
		ORDER BY typed.order_event_id, typed.n
		RETURNING id, client_id, type, order_id, created_at
	), inserted AS (
		-- An endpoint gets the events that happen once it exists, not those
		-- still waiting in the outbox from before it was registered.  Per
		-- (endpoint, order) the first of this round is a head (undone below
		-- when an earlier one is still pending), the others wait for it.
		INSERT INTO orders.webhook_deliveries (client_id, endpoint_id, event_id, order_id, head)
		SELECT nd.client_id, nd.endpoint_id, nd.event_id, nd.order_id, nd.n = 1
		FROM (SELECT made.client_id, w.id AS endpoint_id, made.id AS event_id, made.order_id,
					 row_number() OVER (PARTITION BY w.id, made.order_id ORDER BY made.id) AS n
			  FROM made
			  JOIN eps w
				  ON w.client_id = made.client_id
				  AND made.type = ANY (w.event_types) AND w.created_at <= made.created_at) nd
		ORDER BY nd.event_id, nd.endpoint_id
		RETURNING id, head
	)
	SELECT count(*), coalesce(array_agg(i.id) FILTER (WHERE i.head), '{}') INTO created, new_heads
	FROM inserted i;

	IF cardinality(new_heads) > 0 THEN
		-- Pairs with deliveries still pending from an earlier round: lock
		-- those (in id order; a report locks its own delivery first, then
		-- later ones), waiting for a report in progress, so that the next
		-- statement sees each pair as it is once that report committed, and
		-- a report that comes after ours sees the new deliveries.
		-- Each new head, then its pair's earlier pending rows by the pair's
		-- index (a nested loop: the cost follows the new heads).
		PERFORM 1
		FROM unnest(new_heads) AS h(id)
		JOIN orders.webhook_deliveries n ON n.id = h.id
		JOIN orders.webhook_deliveries e
			ON e.endpoint_id = n.endpoint_id AND e.order_id = n.order_id
			AND e.status = 'pending' AND e.id < n.id
		ORDER BY e.id
		FOR UPDATE OF e;
		UPDATE orders.webhook_deliveries n SET head = false
		FROM unnest(new_heads) AS h(id)
		WHERE n.id = h.id
		  AND EXISTS (SELECT 1 FROM orders.webhook_deliveries e
					  WHERE e.endpoint_id = n.endpoint_id AND e.order_id = n.order_id
						AND e.status = 'pending' AND e.id < n.id);
	END IF;
	RETURN created;
END
$$;
COMMENT ON FUNCTION orders.webhook_enqueue(integer) IS
'delivery daemon: the fan-out: turns up to p_limit outbox events not yet queued for webhooks (in id order; its own position webhooks_queued_at, never acknowledged_at) into webhook events and deliveries for the enabled endpoints subscribed to them, and marks them queued; one caller at a time (another gets 0); returns the deliveries created';

-- An event for one endpoint (webhook.test, endpoint.disabled), delivered
-- outside any order's sequence.  Returns the delivery's id.
CREATE FUNCTION orders.webhook_endpoint_event(p_endpoint orders.webhook_endpoints, p_type text, p_data jsonb)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	msg text := orders.webhook_new_msg_id();
	ev bigint;
	delivery bigint;
BEGIN
	INSERT INTO orders.webhook_events (client_id, msg_id, type, endpoint_id, body)
	VALUES (p_endpoint.client_id, msg, p_type, p_endpoint.id, orders.webhook_body(msg, p_type, now(), p_data))
	RETURNING id INTO ev;
	INSERT INTO orders.webhook_deliveries (client_id, endpoint_id, event_id)
	VALUES (p_endpoint.client_id, p_endpoint.id, ev)
	RETURNING id INTO delivery;
	RETURN delivery;
END
$$;
COMMENT ON FUNCTION orders.webhook_endpoint_event(orders.webhook_endpoints, text, jsonb) IS
'queues an event of one endpoint (webhook.test, endpoint.disabled) outside any order''s sequence; returns its delivery id';

-- The daemon's claim: the heads (schema/68_webhooks.sql) in due order, from
-- the index webhook_deliveries_due_heads, so that a claim reads what it
-- takes (and the few deliveries in flight at the head of that index), never
-- the backlog behind them.  The fan-out is not part of it
-- (orders.webhook_enqueue, its own transaction).
CREATE FUNCTION orders.webhook_claim(p_sender text, p_max integer DEFAULT 16,
	p_lease interval DEFAULT '60 seconds')
RETURNS TABLE (delivery_id bigint, attempt integer, url text, webhook_id text,
	webhook_timestamp bigint, webhook_signature text, body text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
#variable_conflict use_column
DECLARE
	max_attempts integer := cardinality(orders.webhook_retry_delays()) + 1;
	ts bigint := floor(extract(epoch FROM now()))::bigint;
	claimed_ids bigint[];
	given_up_pairs bigint[];	-- (endpoint, order) of each delivery given up
	r record;
	signature text;
BEGIN
	IF p_sender IS NULL OR length(p_sender) NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'sender must be 1 to 100 characters' USING ERRCODE = 'invalid_parameter_value';
	ELSIF p_max IS NULL OR p_max NOT BETWEEN 1 AND 1000 THEN
		RAISE EXCEPTION 'max must be between 1 and 1000, not %', coalesce(p_max::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	ELSIF p_lease IS NULL OR p_lease NOT BETWEEN interval '1 second' AND interval '1 hour' THEN
		RAISE EXCEPTION 'lease must be between 1 second and 1 hour, not %', coalesce(p_lease::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- Due, free heads of enabled endpoints.  One whose lease ran out on the
	-- last allowed attempt (its sender died with it) is given up, like a
	-- failed last attempt, and the next of its order becomes the head; the
	-- others are leased and their attempt counted.
	WITH due AS (
		SELECT d.id, d.lease_until IS NOT NULL AND d.attempt >= max_attempts AS lost
		FROM orders.webhook_deliveries d
		WHERE d.status = 'pending' AND d.head AND d.next_attempt_at <= now()
		  AND (d.lease_until IS NULL OR d.lease_until <= now())
		  AND EXISTS (SELECT 1 FROM orders.webhook_endpoints w
					  WHERE w.id = d.endpoint_id AND w.deleted_at IS NULL AND w.disabled_at IS NULL)
		ORDER BY d.next_attempt_at, d.id
		LIMIT p_max
		FOR UPDATE OF d SKIP LOCKED
	), claimed AS (
		UPDATE orders.webhook_deliveries d
		SET attempt = d.attempt + 1, leased_by = p_sender, lease_until = now() + p_lease
		FROM due WHERE d.id = due.id AND NOT due.lost
		RETURNING d.id, d.client_id, d.attempt
	), attempts AS (
		INSERT INTO orders.webhook_attempts (client_id, delivery_id, attempt, sender)
		SELECT c.client_id, c.id, c.attempt, p_sender FROM claimed c
	), given_up AS (
		UPDATE orders.webhook_deliveries d
		SET status = 'failed', completed_at = now(), leased_by = NULL, lease_until = NULL
		FROM due WHERE d.id = due.id AND due.lost
		RETURNING d.endpoint_id, d.order_id
	)
	SELECT coalesce((SELECT array_agg(c.id) FROM claimed c), '{}'),
		   (SELECT array_agg(ARRAY[g.endpoint_id, g.order_id]) FROM given_up g WHERE g.order_id IS NOT NULL)
	INTO claimed_ids, given_up_pairs;
	FOR i IN 1 .. coalesce(array_length(given_up_pairs, 1), 0) LOOP
		PERFORM orders.webhook_next_head(given_up_pairs[i][1], given_up_pairs[i][2]);
	END LOOP;

	FOR r IN
		SELECT d.id, d.attempt, d.endpoint_id, w.url, w.secret, w.previous_secret,
			   w.previous_secret_until, ev.msg_id, ev.body
		FROM orders.webhook_deliveries d
		JOIN orders.webhook_endpoints w ON w.id = d.endpoint_id
		JOIN orders.webhook_events ev ON ev.id = d.event_id
		WHERE d.id = ANY (claimed_ids)
		ORDER BY d.id
	LOOP
		-- A secret that cannot be decrypted (its vault key left the key
		-- file, a damaged row) fails that attempt, not the whole claim.
		BEGIN
			signature := orders.webhook_sign(ARRAY[
					orders.vault_decrypt(r.secret, r.endpoint_id, 'webhook_secret'),
					CASE WHEN r.previous_secret_until > now() THEN
						orders.vault_decrypt(r.previous_secret, r.endpoint_id, 'webhook_previous_secret') END],
				r.msg_id, ts, r.body);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'webhook endpoint %: a message could not be signed (SQLSTATE %); its delivery is retried on schedule',
				r.endpoint_id, SQLSTATE;
			PERFORM orders.webhook_report(r.id, r.attempt, NULL, NULL,
				format('not sent: the message could not be signed (SQLSTATE %s)', SQLSTATE));
			CONTINUE;
		END;
		delivery_id := r.id;
		attempt := r.attempt;
		url := r.url;
		webhook_id := r.msg_id;
		webhook_timestamp := ts;
		webhook_signature := signature;
		body := r.body;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION orders.webhook_claim(text, integer, interval) IS
'delivery daemon: leases up to p_max due deliveries (FOR UPDATE SKIP LOCKED; enabled endpoints only; per endpoint and order only the head, i.e. after every earlier delivery succeeded or was given up or dropped; an expired lease is claimable again, or given up if it was the last attempt) for p_lease, counts the attempt and returns what to POST: url, the webhook-id, webhook-timestamp and webhook-signature headers, and the exact body; a message that cannot be signed (its secret undecryptable) is not returned, its attempt reported failed; queues nothing (orders.webhook_enqueue does)';

-- A failed attempt of an endpoint: it has been failing since the first
-- failure after its last success; past orders.webhook_disable_after it is
-- disabled, with an endpoint.disabled event for the client.  Only a first
-- failure or the disabling writes the endpoint's row (no hot row).
CREATE FUNCTION orders.webhook_endpoint_failed(p_endpoint_id bigint, p_since timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints;
	disable_after interval := (orders.webhook_policy()).disable_after;
BEGIN
	UPDATE orders.webhook_endpoints SET failing_since = p_since
	WHERE id = p_endpoint_id AND failing_since IS NULL;
	UPDATE orders.webhook_endpoints
	SET disabled_at = now(), updated_at = now(),
		disabled_reason = format('every delivery failed since %s (longer than %s s)',
								 orders.rfc3339(failing_since), extract(epoch FROM disable_after)::bigint)
	WHERE id = p_endpoint_id AND failing_since < now() - disable_after
	  AND disabled_at IS NULL AND deleted_at IS NULL
	RETURNING * INTO w;
	IF FOUND THEN
		PERFORM orders.webhook_endpoint_event(w, 'endpoint.disabled',
			jsonb_build_object('endpointId', w.id::text, 'disabledAt', orders.rfc3339(w.disabled_at),
							   'disabledReason', w.disabled_reason));
	END IF;
END
$$;
COMMENT ON FUNCTION orders.webhook_endpoint_failed(bigint, timestamptz) IS
'records a failed attempt of an endpoint: failing since the first failure after its last success; disabled past orders.webhook_disable_after, with an endpoint.disabled event';

CREATE FUNCTION orders.webhook_report(p_delivery_id bigint, p_attempt integer,
	p_http_status integer, p_latency_ms integer, p_error text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	d orders.webhook_deliveries;
	delays interval[];
	started timestamptz;
BEGIN
	IF p_delivery_id IS NULL OR p_attempt IS NULL THEN
		RAISE EXCEPTION 'delivery id and attempt are required' USING ERRCODE = 'invalid_parameter_value';
	ELSIF p_http_status NOT BETWEEN 100 AND 599 THEN
		RAISE EXCEPTION 'http status must be between 100 and 599 (NULL: no HTTP answer), not %', p_http_status
			USING ERRCODE = 'invalid_parameter_value';
	ELSIF p_latency_ms < 0 THEN
		RAISE EXCEPTION 'latency must be >= 0 ms, not %', p_latency_ms USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO d FROM orders.webhook_deliveries WHERE id = p_delivery_id FOR UPDATE;
	-- Not the current attempt (its lease was lost and the delivery claimed
	-- again), already reported, or ended: ignored.
	IF NOT FOUND OR d.status <> 'pending' OR d.attempt <> p_attempt OR d.leased_by IS NULL THEN
		RETURN;
	END IF;
	UPDATE orders.webhook_attempts
	SET finished_at = now(), http_status = p_http_status, latency_ms = p_latency_ms,
		error = left(regexp_replace(p_error, '[[:cntrl:]]', ' ', 'g'), 300)
	WHERE delivery_id = d.id AND attempt = d.attempt
	RETURNING started_at INTO started;

	IF p_http_status BETWEEN 200 AND 299 THEN
		UPDATE orders.webhook_deliveries
		SET status = 'succeeded', completed_at = now(), leased_by = NULL, lease_until = NULL
		WHERE id = d.id;
		IF d.order_id IS NOT NULL THEN
			PERFORM orders.webhook_next_head(d.endpoint_id, d.order_id);
		END IF;
		UPDATE orders.webhook_endpoints SET failing_since = NULL
		WHERE id = d.endpoint_id AND failing_since IS NOT NULL;
		RETURN;
	END IF;

	delays := orders.webhook_retry_delays();
	IF d.attempt <= cardinality(delays) THEN
		-- the schedule's delay, with +-10 % jitter (senders do not retry in step)
		UPDATE orders.webhook_deliveries
		SET next_attempt_at = now() + delays[d.attempt] * (0.9 + 0.2 * random()),
			leased_by = NULL, lease_until = NULL
		WHERE id = d.id;
	ELSE
		UPDATE orders.webhook_deliveries
		SET status = 'failed', completed_at = now(), leased_by = NULL, lease_until = NULL
		WHERE id = d.id;
		IF d.order_id IS NOT NULL THEN
			PERFORM orders.webhook_next_head(d.endpoint_id, d.order_id);
		END IF;
	END IF;
	PERFORM orders.webhook_endpoint_failed(d.endpoint_id, coalesce(started, now()));
END
$$;
COMMENT ON FUNCTION orders.webhook_report(bigint, integer, integer, integer, text) IS
'delivery daemon: the result of attempt p_attempt of a delivery (p_http_status NULL: no HTTP answer; p_error a short reason, no secrets); 2xx succeeds, anything else is retried after the next delay of orders.webhook_retry_schedule (+-10 % jitter) or given up after the last; a report of an attempt that is not the current one is ignored';

-- Waking the daemons: after maintenance's commit, when deliveries are due
-- or outbox events wait to be turned into deliveries.  Never in an
-- order's transaction.
CREATE FUNCTION orders.webhook_announce() RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM orders.order_events e WHERE e.webhooks_queued_at IS NULL)
	   OR EXISTS (SELECT 1 FROM orders.webhook_deliveries d
				  WHERE d.status = 'pending' AND d.head AND d.next_attempt_at <= now()
					AND (d.lease_until IS NULL OR d.lease_until <= now())) THEN
		PERFORM pg_notify('orders_webhooks', '');
		RETURN true;
	END IF;
	RETURN false;
END
$$;
COMMENT ON FUNCTION orders.webhook_announce() IS
'sends NOTIFY orders_webhooks (delivered at commit) when webhook deliveries are due or outbox events wait to be queued; run by orders.run_maintenance(); returns whether it notified';

-- Retention: events whose deliveries all ended more than
-- orders.webhook_retention ago (default 30 days) are deleted with their
-- deliveries and attempts, at most p_batch events a call (maintenance calls
-- it every round).  The oldest events first, by id (ids grow with time):
-- the walk stops at the first event inside the retention, so a round costs
-- what it deletes, not the table.  An event with a delivery still pending,
-- or ended within the retention, is kept.  Returns the events deleted.
CREATE FUNCTION orders.webhook_purge(p_batch integer DEFAULT 1000) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	cutoff timestamptz := now() - (orders.webhook_policy()).retention;
	ev record;
	ids bigint[] := '{}';
	purged integer;
BEGIN
	IF p_batch IS NULL OR p_batch NOT BETWEEN 1 AND 100000 THEN
		RAISE EXCEPTION 'batch must be between 1 and 100000, not %', coalesce(p_batch::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR ev IN SELECT e.id, e.created_at FROM orders.webhook_events e ORDER BY e.id LIMIT p_batch LOOP
		EXIT WHEN ev.created_at >= cutoff;
		IF NOT EXISTS (SELECT 1 FROM orders.webhook_deliveries d
					   WHERE d.event_id = ev.id AND (d.status = 'pending' OR d.completed_at >= cutoff)) THEN
			ids := ids || ev.id;
		END IF;
	END LOOP;
	IF cardinality(ids) = 0 THEN
		RETURN 0;
	END IF;
	DELETE FROM orders.webhook_attempts a
	USING orders.webhook_deliveries d
	WHERE a.delivery_id = d.id AND d.event_id = ANY (ids);
	DELETE FROM orders.webhook_deliveries d WHERE d.event_id = ANY (ids);
	DELETE FROM orders.webhook_events e WHERE e.id = ANY (ids);
	GET DIAGNOSTICS purged = ROW_COUNT;
	RETURN purged;
END
$$;
COMMENT ON FUNCTION orders.webhook_purge(integer) IS
'retention: deletes up to p_batch of the oldest webhook events whose deliveries all ended (succeeded, failed, dropped) more than orders.webhook_retention ago, with their deliveries and attempts; run by orders.run_maintenance(); returns the events deleted';

REVOKE EXECUTE ON FUNCTION
	orders.webhook_order_json(orders.orders),
	orders.webhook_recharge_event(text, orders.order_status, orders.order_sub_status),
	orders.webhook_body(text, text, timestamptz, jsonb),
	orders.webhook_new_msg_id(),
	orders.webhook_enqueue(integer),
	orders.webhook_endpoint_event(orders.webhook_endpoints, text, jsonb),
	orders.webhook_claim(text, integer, interval),
	orders.webhook_endpoint_failed(bigint, timestamptz),
	orders.webhook_report(bigint, integer, integer, integer, text),
	orders.webhook_announce(),
	orders.webhook_next_head(bigint, bigint),
	orders.webhook_purge(integer)
FROM PUBLIC;
GRANT USAGE ON SCHEMA orders TO orders_webhook_sender;
GRANT EXECUTE ON FUNCTION
	orders.webhook_enqueue(integer),
	orders.webhook_claim(text, integer, interval),
	orders.webhook_report(bigint, integer, integer, integer, text)
TO orders_webhook_sender;
