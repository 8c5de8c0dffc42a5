-- The roles of the engine.  Roles are cluster-wide, so they are created
-- once (and survive DROP EXTENSION); none can log in, none is granted
-- anything here.  Each concern's file grants what that concern needs.
--   orders_admin          operators: onboarding, funding, catalog, inventory
--   orders_vendor         the fulfilment back-channel (vendor workers, callbacks)
--   orders_api            what PostgREST or the gateway switches to per request
--   orders_authenticator  the login role of PostgREST / the gateway; holds nothing
--                         itself, may only SET ROLE orders_api (and orders_metrics,
--                         schema/77_metrics.sql), but for reading the metric
--                         samples a router asks a shard for (same file)
--   orders_webhook_sender the webhook delivery daemon: claims deliveries and
--                         reports their results (schema/69_webhook_delivery.sql)
--   orders_metrics        reads the engine's metrics (orders.metrics()), nothing else
DO $$
DECLARE r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['orders_admin', 'orders_vendor', 'orders_api', 'orders_authenticator',
						 'orders_webhook_sender', 'orders_metrics'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
		END IF;
	END LOOP;
END $$;
GRANT orders_api TO orders_authenticator;
GRANT USAGE ON SCHEMA orders TO orders_admin, orders_vendor, orders_api;
