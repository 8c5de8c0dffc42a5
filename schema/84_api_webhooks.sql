-- The webhooks API (issue 13, docs/webhooks.md): a client registers,
-- reads, changes, deletes its endpoints, rotates their secrets, sends a
-- test event, lists the deliveries and retries one.  Handlers in the style
-- of schema/82_api_orders.sql: the authenticated client and the parsed
-- parameters as arguments, the answer as a value.  A client sees only its
-- own endpoints: another client's id is answered like a missing one (404).
-- The signing secret is in an answer twice only: at registration and at a
-- rotation; it is stored encrypted by the vault (field webhook_secret).

-- An endpoint as the API shows it (never its secret).
CREATE FUNCTION orders.webhook_json(w orders.webhook_endpoints) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT jsonb_build_object(
		'id', w.id,
		'url', w.url,
		'eventTypes', to_jsonb(w.event_types),
		'description', w.description,
		'enabled', w.disabled_at IS NULL,
		'disabledAt', orders.rfc3339(w.disabled_at),
		'disabledReason', w.disabled_reason,
		'failingSince', orders.rfc3339(w.failing_since),
		'previousSecretExpiresAt', CASE WHEN w.previous_secret_until > now()
									   THEN orders.rfc3339(w.previous_secret_until) END,
		'createdAt', orders.rfc3339(w.created_at),
		'updatedAt', orders.rfc3339(w.updated_at))
$$;
COMMENT ON FUNCTION orders.webhook_json(orders.webhook_endpoints) IS
'internal: a webhook endpoint as the API shows it: id, url, eventTypes, description, enabled, disabledAt, disabledReason, failingSince, previousSecretExpiresAt, createdAt, updatedAt (never a secret)';

-- The fields of an endpoint, checked; invalid_input (OR100) naming the
-- field otherwise.  NULL: not given.
CREATE FUNCTION orders.webhook_check_fields(p_url text, p_event_types text[], p_description text)
RETURNS text[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	problem text := orders.webhook_url_problem(p_url, (orders.webhook_policy()).allow_private_addresses);
	unknown text;
BEGIN
	IF p_url IS NOT NULL AND problem IS NOT NULL THEN
		RAISE EXCEPTION 'url: %', problem USING ERRCODE = 'OR100';
	END IF;
	IF p_event_types IS NOT NULL THEN
		IF cardinality(p_event_types) = 0 THEN
			RAISE EXCEPTION 'eventTypes: must name at least one event type' USING ERRCODE = 'OR100';
		END IF;
		SELECT t INTO unknown FROM unnest(p_event_types) t
		WHERE NOT t = ANY (orders.webhook_subscribable_types()) LIMIT 1;
		IF FOUND THEN
			RAISE EXCEPTION 'eventTypes: unknown event type "%" (known: %)', left(unknown, 40),
				array_to_string(orders.webhook_subscribable_types(), ', ') USING ERRCODE = 'OR100';
		END IF;
	END IF;
	IF length(p_description) > 500 THEN
		RAISE EXCEPTION 'description: must be at most 500 characters' USING ERRCODE = 'OR100';
	END IF;
	-- the event types once each, in a stable order
	RETURN ARRAY(SELECT DISTINCT t FROM unnest(p_event_types) t ORDER BY t);
END
$$;
COMMENT ON FUNCTION orders.webhook_check_fields(text, text[], text) IS
'internal: checks an endpoint''s url, eventTypes and description (each NULL: not given), raising invalid_input (OR100) naming the field; returns the event types deduplicated and sorted';

CREATE FUNCTION orders.webhook_subscribable_types() RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, orders AS $$
	SELECT ARRAY(SELECT t FROM unnest(orders.webhook_event_types()) t
				 WHERE t NOT IN ('webhook.test', 'endpoint.disabled'))
$$;
COMMENT ON FUNCTION orders.webhook_subscribable_types() IS
'internal: the event types an endpoint may subscribe to (webhook.test and endpoint.disabled are always sent to the endpoint concerned)';

-- The client's live endpoint, locked; NULL when it has none with that id.
CREATE FUNCTION orders.webhook_of_client(p_client bigint, p_id bigint) RETURNS orders.webhook_endpoints
LANGUAGE sql VOLATILE SET search_path = pg_catalog, orders AS $$
	SELECT w FROM orders.webhook_endpoints w
	WHERE w.id = p_id AND w.client_id = p_client AND w.deleted_at IS NULL
	FOR UPDATE
$$;
COMMENT ON FUNCTION orders.webhook_of_client(bigint, bigint) IS
'internal: the client''s endpoint with that id (not deleted), locked; NULL for an unknown id and another client''s alike';

-- The paging of a list (as GET /api/v1/orders): page >= 1, limit 1 to
-- 100; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages.
CREATE FUNCTION orders.api_paging(p_page bigint, p_limit bigint, p_total bigint) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_page > 1000000 THEN
		RAISE EXCEPTION 'page: must be an integer between 1 and 1000000' USING ERRCODE = 'OR100';
	ELSIF p_limit > 100 THEN
		RAISE EXCEPTION 'limit: must be an integer between 1 and 100' USING ERRCODE = 'OR100';
	END IF;
	RETURN jsonb_build_object('X-Page', p_page::text, 'X-Per-Page', p_limit::text,
							  'X-Total-Count', p_total::text,
							  'X-Total-Pages', ((p_total + p_limit - 1) / p_limit)::text);
END
$$;
COMMENT ON FUNCTION orders.api_paging(bigint, bigint, bigint) IS
'internal: the paging headers of a list (X-Page, X-Per-Page, X-Total-Count, X-Total-Pages); invalid_input (OR100) for a page over 1000000 or a limit over 100';

-- POST /api/v1/webhooks
CREATE FUNCTION orders.handle_create_webhook(p_client bigint, p_url text, p_event_types text[],
	p_description text)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	types text[];
	new_secret text;
	new_id bigint;
	w orders.webhook_endpoints;
BEGIN
	IF p_url IS NULL THEN
		RETURN orders.api_invalid('url: is required');
	ELSIF p_event_types IS NULL THEN
		RETURN orders.api_invalid('eventTypes: is required');
	END IF;
	types := orders.webhook_check_fields(p_url, p_event_types, p_description);
	-- the client's row serialises concurrent registrations for the limit
	PERFORM 1 FROM orders.clients c WHERE c.id = p_client FOR UPDATE;
	IF (SELECT count(*) FROM orders.webhook_endpoints e
		WHERE e.client_id = p_client AND e.deleted_at IS NULL) >= 20 THEN
		RETURN orders.api_error('webhook_limit');
	END IF;
	new_secret := orders.webhook_new_secret();
	new_id := nextval(pg_get_serial_sequence('orders.webhook_endpoints', 'id'));
	INSERT INTO orders.webhook_endpoints (client_id, id, url, event_types, description, secret)
	VALUES (p_client, new_id, p_url, types, p_description,
			orders.vault_encrypt(new_secret, new_id, 'webhook_secret'))
	RETURNING * INTO w;
	RETURN orders.api_ok(orders.webhook_json(w) || jsonb_build_object('secret', new_secret), 201,
		jsonb_build_object('Location', '/api/v1/webhooks/' || w.id));
END
$$;
COMMENT ON FUNCTION orders.handle_create_webhook(bigint, text, text[], text) IS
'internal: POST /api/v1/webhooks: registers an endpoint (url, eventTypes, description); 201 with the endpoint and its signing secret (whsec_..., shown this once), Location; 400 naming a bad field; 422 webhook_limit past 20 endpoints';

-- GET /api/v1/webhooks
CREATE FUNCTION orders.handle_list_webhooks(p_client bigint, p_page bigint, p_limit bigint)
RETURNS orders.api_response
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	page bigint := coalesce(p_page, 1);
	per_page bigint := coalesce(p_limit, 10);
	paging jsonb;
	items jsonb;
BEGIN
	paging := orders.api_paging(page, per_page,
		(SELECT count(*) FROM orders.webhook_endpoints w WHERE w.client_id = p_client AND w.deleted_at IS NULL));
	SELECT coalesce(jsonb_agg(orders.webhook_json(w) ORDER BY w.id), '[]') INTO items
	FROM (SELECT * FROM orders.webhook_endpoints w
		  WHERE w.client_id = p_client AND w.deleted_at IS NULL
		  ORDER BY w.id LIMIT per_page OFFSET (page - 1) * per_page) w;
	RETURN orders.api_ok(items, 200, paging);
END
$$;
COMMENT ON FUNCTION orders.handle_list_webhooks(bigint, bigint, bigint) IS
'internal: GET /api/v1/webhooks: the client''s endpoints, oldest first; page (default 1), limit (1-100, default 10); headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; an empty page is 200 []';

-- GET /api/v1/webhooks/{id}
CREATE FUNCTION orders.handle_get_webhook(p_client bigint, p_id bigint) RETURNS orders.api_response
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints;
BEGIN
	SELECT * INTO w FROM orders.webhook_endpoints e
	WHERE e.id = p_id AND e.client_id = p_client AND e.deleted_at IS NULL;
	IF NOT FOUND THEN
		RETURN orders.api_error('no_match');
	END IF;
	RETURN orders.api_ok(orders.webhook_json(w));
END
$$;
COMMENT ON FUNCTION orders.handle_get_webhook(bigint, bigint) IS
'internal: GET /api/v1/webhooks/{id}: the endpoint (disabledAt and disabledReason when disabled); 404 for an unknown id and another client''s alike';

-- PATCH /api/v1/webhooks/{id}
CREATE FUNCTION orders.handle_update_webhook(p_client bigint, p_id bigint, p_url text,
	p_event_types text[], p_description text, p_enabled boolean)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints := orders.webhook_of_client(p_client, p_id);
	types text[];
BEGIN
	IF w.id IS NULL THEN
		RETURN orders.api_error('no_match');
	END IF;
	types := orders.webhook_check_fields(p_url, p_event_types, p_description);
	UPDATE orders.webhook_endpoints e
	SET url = coalesce(p_url, e.url),
		event_types = CASE WHEN p_event_types IS NOT NULL THEN types ELSE e.event_types END,
		description = CASE WHEN p_description IS NULL THEN e.description ELSE nullif(p_description, '') END,
		-- enabling forgets the failures; disabling by the client says so
		disabled_at = CASE WHEN p_enabled THEN NULL
						   WHEN NOT p_enabled THEN coalesce(e.disabled_at, now()) ELSE e.disabled_at END,
		disabled_reason = CASE WHEN p_enabled THEN NULL
							   WHEN NOT p_enabled THEN coalesce(e.disabled_reason, 'disabled by the client')
							   ELSE e.disabled_reason END,
		failing_since = CASE WHEN p_enabled THEN NULL ELSE e.failing_since END,
		updated_at = now()
	WHERE e.id = w.id
	RETURNING * INTO w;
	RETURN orders.api_ok(orders.webhook_json(w));
END
$$;
COMMENT ON FUNCTION orders.handle_update_webhook(bigint, bigint, text, text[], text, boolean) IS
'internal: PATCH /api/v1/webhooks/{id}: changes the given url, eventTypes, description ("" clears it), enabled (true re-enables a disabled endpoint, its pending deliveries resume); 400 naming a bad field; 404 for an unknown id and another client''s alike';

-- DELETE /api/v1/webhooks/{id}
CREATE FUNCTION orders.handle_delete_webhook(p_client bigint, p_id bigint) RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints := orders.webhook_of_client(p_client, p_id);
	dropped integer;
BEGIN
	IF w.id IS NULL THEN
		RETURN orders.api_error('no_match');
	END IF;
	-- kept for the history of its deliveries, its secrets wiped
	UPDATE orders.webhook_endpoints
	SET deleted_at = now(), updated_at = now(), secret = NULL, previous_secret = NULL,
		previous_secret_until = NULL
	WHERE id = w.id;
	-- its pending deliveries are dropped (a report still due for one is ignored)
	UPDATE orders.webhook_deliveries
	SET status = 'dropped', completed_at = now(), leased_by = NULL, lease_until = NULL
	WHERE endpoint_id = w.id AND status = 'pending';
	GET DIAGNOSTICS dropped = ROW_COUNT;
	RETURN orders.api_ok(jsonb_build_object('id', w.id, 'deleted', true, 'droppedDeliveries', dropped));
END
$$;
COMMENT ON FUNCTION orders.handle_delete_webhook(bigint, bigint) IS
'internal: DELETE /api/v1/webhooks/{id}: deletes the endpoint and drops its pending deliveries; 200 {"id", "deleted": true, "droppedDeliveries"}; 404 for an unknown id and another client''s alike';

-- POST /api/v1/webhooks/{id}/rotate-secret
CREATE FUNCTION orders.handle_rotate_webhook_secret(p_client bigint, p_id bigint)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints := orders.webhook_of_client(p_client, p_id);
	grace interval := (orders.webhook_policy()).secret_grace;
	new_secret text;
BEGIN
	IF w.id IS NULL THEN
		RETURN orders.api_error('no_match');
	END IF;
	new_secret := orders.webhook_new_secret();
	-- the old secret signs too until the grace period ends
	UPDATE orders.webhook_endpoints
	SET previous_secret = CASE WHEN grace > interval '0' THEN
			orders.vault_encrypt(orders.vault_decrypt(w.secret, w.id, 'webhook_secret'),
								 w.id, 'webhook_previous_secret') END,
		previous_secret_until = CASE WHEN grace > interval '0' THEN now() + grace END,
		secret = orders.vault_encrypt(new_secret, w.id, 'webhook_secret'),
		updated_at = now()
	WHERE id = w.id
	RETURNING * INTO w;
	RETURN orders.api_ok(orders.webhook_json(w) || jsonb_build_object('secret', new_secret));
END
$$;
COMMENT ON FUNCTION orders.handle_rotate_webhook_secret(bigint, bigint) IS
'internal: POST /api/v1/webhooks/{id}/rotate-secret: a new signing secret (shown this once); the previous one keeps signing for orders.webhook_secret_grace (previousSecretExpiresAt); 404 for an unknown id and another client''s alike';

-- POST /api/v1/webhooks/{id}/test
CREATE FUNCTION orders.handle_test_webhook(p_client bigint, p_id bigint) RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints := orders.webhook_of_client(p_client, p_id);
	delivery bigint;
BEGIN
	IF w.id IS NULL THEN
		RETURN orders.api_error('no_match');
	ELSIF w.disabled_at IS NOT NULL THEN
		RETURN orders.api_error('webhook_conflict',
			'the endpoint is disabled: enable it first (PATCH with "enabled": true)');
	END IF;
	delivery := orders.webhook_endpoint_event(w, 'webhook.test',
		jsonb_build_object('endpointId', w.id, 'message', 'a test event, sent on request'));
	PERFORM pg_notify('orders_webhooks', '');
	RETURN orders.api_ok((SELECT orders.webhook_delivery_json(d) FROM orders.webhook_deliveries d
						  WHERE d.id = delivery), 202);
END
$$;
COMMENT ON FUNCTION orders.handle_test_webhook(bigint, bigint) IS
'internal: POST /api/v1/webhooks/{id}/test: queues a webhook.test event for the endpoint; 202 with its delivery; 409 when the endpoint is disabled; 404 for an unknown id and another client''s alike';

-- A delivery as the API shows it, with its attempts.
CREATE FUNCTION orders.webhook_delivery_json(d orders.webhook_deliveries) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT jsonb_build_object(
		'id', d.id,
		'eventId', ev.msg_id,
		'eventType', ev.type,
		'orderId', d.order_id,
		'status', d.status,
		'attemptCount', d.attempt,
		'nextAttemptAt', CASE WHEN d.status = 'pending' THEN orders.rfc3339(d.next_attempt_at) END,
		'createdAt', orders.rfc3339(d.created_at),
		'completedAt', orders.rfc3339(d.completed_at),
		'attempts', coalesce((
			SELECT jsonb_agg(jsonb_build_object(
						'attempt', a.attempt,
						'startedAt', orders.rfc3339(a.started_at),
						'finishedAt', orders.rfc3339(a.finished_at),
						'httpStatus', a.http_status,
						'latencyMs', a.latency_ms,
						'error', CASE WHEN a.finished_at IS NULL AND d.attempt > a.attempt
									  THEN 'no report: the sender''s lease ran out' ELSE a.error END)
					ORDER BY a.attempt)
			FROM orders.webhook_attempts a WHERE a.delivery_id = d.id), '[]'))
	FROM orders.webhook_events ev WHERE ev.id = d.event_id
$$;
COMMENT ON FUNCTION orders.webhook_delivery_json(orders.webhook_deliveries) IS
'internal: a webhook delivery as the API shows it: id, eventId (the webhook-id), eventType, orderId, status, attemptCount, nextAttemptAt, createdAt, completedAt, attempts [{attempt, startedAt, finishedAt, httpStatus, latencyMs, error}]';

-- GET /api/v1/webhooks/{id}/deliveries
CREATE FUNCTION orders.handle_list_webhook_deliveries(p_client bigint, p_id bigint,
	p_page bigint, p_limit bigint)
RETURNS orders.api_response
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	page bigint := coalesce(p_page, 1);
	per_page bigint := coalesce(p_limit, 10);
	paging jsonb;
	items jsonb;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM orders.webhook_endpoints w
				   WHERE w.id = p_id AND w.client_id = p_client AND w.deleted_at IS NULL) THEN
		RETURN orders.api_error('no_match');
	END IF;
	paging := orders.api_paging(page, per_page,
		(SELECT count(*) FROM orders.webhook_deliveries d WHERE d.endpoint_id = p_id));
	SELECT coalesce(jsonb_agg(orders.webhook_delivery_json(d) ORDER BY d.id DESC), '[]') INTO items
	FROM (SELECT * FROM orders.webhook_deliveries d WHERE d.endpoint_id = p_id
		  ORDER BY d.id DESC LIMIT per_page OFFSET (page - 1) * per_page) d;
	RETURN orders.api_ok(items, 200, paging);
END
$$;
COMMENT ON FUNCTION orders.handle_list_webhook_deliveries(bigint, bigint, bigint, bigint) IS
'internal: GET /api/v1/webhooks/{id}/deliveries: the endpoint''s deliveries, newest first, each with its attempts (time, HTTP status, latency, error); page, limit (1-100, default 10) and the paging headers; 404 for an unknown id and another client''s alike';

-- POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry
CREATE FUNCTION orders.handle_retry_webhook_delivery(p_client bigint, p_id bigint, p_delivery_id bigint)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.webhook_endpoints := orders.webhook_of_client(p_client, p_id);
	d orders.webhook_deliveries;
BEGIN
	IF w.id IS NULL THEN
		RETURN orders.api_error('no_match');
	END IF;
	SELECT * INTO d FROM orders.webhook_deliveries x
	WHERE x.id = p_delivery_id AND x.endpoint_id = w.id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN orders.api_error('no_match');
	ELSIF d.leased_by IS NOT NULL AND d.lease_until > now() THEN
		RETURN orders.api_error('webhook_conflict', 'the delivery is being sent now');
	ELSIF w.disabled_at IS NOT NULL THEN
		RETURN orders.api_error('webhook_conflict',
			'the endpoint is disabled: enable it first (PATCH with "enabled": true)');
	END IF;
	-- one more attempt, now (a failure of it is final); same webhook-id.
	-- An ended delivery sent again is a head of its own (the client asked
	-- for this message again: it waits for no other delivery of its
	-- order); a pending one keeps its place in its order's sequence.
	UPDATE orders.webhook_deliveries
	SET status = 'pending', completed_at = NULL, next_attempt_at = now(),
		leased_by = NULL, lease_until = NULL, head = d.head OR d.status <> 'pending'
	WHERE id = d.id
	RETURNING * INTO d;
	PERFORM pg_notify('orders_webhooks', '');
	RETURN orders.api_ok(orders.webhook_delivery_json(d), 202);
END
$$;
COMMENT ON FUNCTION orders.handle_retry_webhook_delivery(bigint, bigint, bigint) IS
'internal: POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry: the delivery is due again now, with the same webhook-id; 202 with it; 409 while it is being sent or when the endpoint is disabled; 404 for an unknown id and another client''s alike';

INSERT INTO orders.api_operations (operation, method, path, openapi_id, handler, parameters, failure_message, description, shipped_in) VALUES
	('create_webhook', 'POST', '/api/v1/webhooks', 'createWebhook', 'handle_create_webhook',
	 ARRAY[('client', 'client', NULL, NULL), ('url', 'body', 'string', NULL), ('eventTypes', 'body', 'array', NULL),
		   ('description', 'body', 'string', NULL)]::orders.api_parameter[],
	 'Failed to register webhook',
	 'POST /api/v1/webhooks: body {url, eventTypes, description}; 201 with the endpoint and its signing secret (whsec_..., shown once); 400 naming a bad field; 422 past 20 endpoints', '1.1'),
	('list_webhooks', 'GET', '/api/v1/webhooks', 'listWebhooks', 'handle_list_webhooks',
	 ARRAY[('client', 'client', NULL, NULL), ('page', 'query', 'integer', 1), ('limit', 'query', 'integer', 1)]::orders.api_parameter[],
	 'Failed to list webhooks',
	 'GET /api/v1/webhooks: the client''s endpoints, oldest first; page (>= 1, default 1), limit (1-100, default 10); headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages', '1.1'),
	('get_webhook', 'GET', '/api/v1/webhooks/{id}', 'getWebhook', 'handle_get_webhook',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1)]::orders.api_parameter[],
	 'Failed to retrieve webhook',
	 'GET /api/v1/webhooks/{id}: the endpoint, never its secret; disabledAt and disabledReason when disabled; 404 for an unknown id and another client''s alike', '1.1'),
	('update_webhook', 'PATCH', '/api/v1/webhooks/{id}', 'updateWebhook', 'handle_update_webhook',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1), ('url', 'body', 'string', NULL),
		   ('eventTypes', 'body', 'array', NULL), ('description', 'body', 'string', NULL),
		   ('enabled', 'body', 'boolean', NULL)]::orders.api_parameter[],
	 'Failed to update webhook',
	 'PATCH /api/v1/webhooks/{id}: body {url, eventTypes, description, enabled}, each optional; enabled true re-enables a disabled endpoint; 400 naming a bad field; 404 for an unknown id and another client''s alike', '1.1'),
	('delete_webhook', 'DELETE', '/api/v1/webhooks/{id}', 'deleteWebhook', 'handle_delete_webhook',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1)]::orders.api_parameter[],
	 'Failed to delete webhook',
	 'DELETE /api/v1/webhooks/{id}: deletes the endpoint and drops its pending deliveries; 404 for an unknown id and another client''s alike', '1.1'),
	('rotate_webhook_secret', 'POST', '/api/v1/webhooks/{id}/rotate-secret', 'rotateWebhookSecret', 'handle_rotate_webhook_secret',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1)]::orders.api_parameter[],
	 'Failed to rotate webhook secret',
	 'POST /api/v1/webhooks/{id}/rotate-secret: a new signing secret, shown once; the previous one keeps signing for the grace period (orders.webhook_secret_grace, 24 h by default)', '1.1'),
	('test_webhook', 'POST', '/api/v1/webhooks/{id}/test', 'testWebhook', 'handle_test_webhook',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1)]::orders.api_parameter[],
	 'Failed to queue test event',
	 'POST /api/v1/webhooks/{id}/test: queues a webhook.test event for the endpoint; 202 with its delivery; 409 when the endpoint is disabled', '1.1'),
	('list_webhook_deliveries', 'GET', '/api/v1/webhooks/{id}/deliveries', 'listWebhookDeliveries', 'handle_list_webhook_deliveries',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1), ('page', 'query', 'integer', 1),
		   ('limit', 'query', 'integer', 1)]::orders.api_parameter[],
	 'Failed to list webhook deliveries',
	 'GET /api/v1/webhooks/{id}/deliveries: the endpoint''s deliveries, newest first, with their attempts (time, HTTP status, latency, error); page, limit (1-100, default 10) and the paging headers', '1.1'),
	('retry_webhook_delivery', 'POST', '/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry', 'retryWebhookDelivery', 'handle_retry_webhook_delivery',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1), ('delivery_id', 'path', 'id', 1)]::orders.api_parameter[],
	 'Failed to retry webhook delivery',
	 'POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry: sends the delivery again now, with the same webhook-id; 202 with it; 409 while it is being sent or when the endpoint is disabled', '1.1');

REVOKE EXECUTE ON FUNCTION
	orders.webhook_json(orders.webhook_endpoints),
	orders.webhook_check_fields(text, text[], text),
	orders.webhook_subscribable_types(),
	orders.webhook_of_client(bigint, bigint),
	orders.api_paging(bigint, bigint, bigint),
	orders.handle_create_webhook(bigint, text, text[], text),
	orders.handle_list_webhooks(bigint, bigint, bigint),
	orders.handle_get_webhook(bigint, bigint),
	orders.handle_update_webhook(bigint, bigint, text, text[], text, boolean),
	orders.handle_delete_webhook(bigint, bigint),
	orders.handle_rotate_webhook_secret(bigint, bigint),
	orders.handle_test_webhook(bigint, bigint),
	orders.webhook_delivery_json(orders.webhook_deliveries),
	orders.handle_list_webhook_deliveries(bigint, bigint, bigint, bigint),
	orders.handle_retry_webhook_delivery(bigint, bigint, bigint)
FROM PUBLIC;
