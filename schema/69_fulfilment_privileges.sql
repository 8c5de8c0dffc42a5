-- Fulfilment's functions are callable only by the roles they are granted to
-- (orders_vendor, orders_admin; the internal ones by nobody but the owner).
-- ALTER DEFAULT PRIVILEGES IN SCHEMA (schema/00_schema.sql) cannot take
-- back the EXECUTE that PostgreSQL grants PUBLIC on every new function:
-- per-schema defaults only add to the global ones.  So revoke it here, for
-- everything created so far; the API's final touches do it again at the end.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA orders FROM PUBLIC;
