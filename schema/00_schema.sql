-- orders: install script, assembled by scripts/build-install-script.sh from
-- the files of schema/ in name order.  Edit those files, not the result.

\echo Use "CREATE EXTENSION orders CASCADE" to load this file. \quit

COMMENT ON SCHEMA orders IS
'orders: order engine for digital products (types, lifecycle, money, vault, API)';

-- Nothing of the extension is callable by PUBLIC: every function is granted
-- to the roles that need it (see schema/90_roles.sql).
REVOKE ALL ON SCHEMA orders FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA orders REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
