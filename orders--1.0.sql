-- orders: install script, assembled by scripts/build-install-script.sh from
-- the files of schema/ in name order.  Edit those files, not the result.

\echo Use "CREATE EXTENSION orders CASCADE" to load this file. \quit

COMMENT ON SCHEMA orders IS
'orders: order engine for digital products (types, lifecycle, money, vault, API)';

-- Nothing of the extension is callable by PUBLIC: every function is granted
-- to the roles that need it (see schema/90_roles.sql).
REVOKE ALL ON SCHEMA orders FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA orders REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- The roles of the engine.  Roles are cluster-wide, so they are created
-- once (and survive DROP EXTENSION); none can log in, none is granted
-- anything here.  Each concern's file grants what that concern needs.
--   orders_admin          operators: onboarding, funding, catalog, inventory
--   orders_vendor         the fulfilment back-channel (vendor workers, callbacks)
--   orders_api            what PostgREST or the gateway switches to per request
--   orders_authenticator  the login role of PostgREST / the gateway; holds nothing
--                         itself, may only SET ROLE orders_api
DO $$
DECLARE r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['orders_admin', 'orders_vendor', 'orders_api', 'orders_authenticator'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
		END IF;
	END LOOP;
END $$;
GRANT orders_api TO orders_authenticator;
GRANT USAGE ON SCHEMA orders TO orders_admin, orders_vendor, orders_api;

-- orders.order_status: a C enum type (src/labels.c holds its labels).
-- Stored as int2 (the label's position, append-only); compared, hashed and
-- sorted by PostgreSQL's own int2 functions.  Operators are created in
-- pg_catalog so that "WHERE col = 'delivered'" resolves with any
-- search_path (see docs/types.md).

CREATE TYPE orders.order_status;

CREATE FUNCTION orders.order_status_in(cstring) RETURNS orders.order_status
	AS 'MODULE_PATHNAME', 'order_status_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.order_status_out(orders.order_status) RETURNS cstring
	AS 'MODULE_PATHNAME', 'order_status_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.order_status_recv(internal) RETURNS orders.order_status
	AS 'MODULE_PATHNAME', 'order_status_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.order_status_send(orders.order_status) RETURNS bytea
	AS 'MODULE_PATHNAME', 'order_status_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE orders.order_status (
	INPUT = orders.order_status_in,
	OUTPUT = orders.order_status_out,
	RECEIVE = orders.order_status_recv,
	SEND = orders.order_status_send,
	LIKE = pg_catalog.int2
);

CREATE FUNCTION orders.order_status_eq(orders.order_status, orders.order_status) RETURNS boolean
	AS 'int2eq' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_status_ne(orders.order_status, orders.order_status) RETURNS boolean
	AS 'int2ne' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_status_lt(orders.order_status, orders.order_status) RETURNS boolean
	AS 'int2lt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_status_le(orders.order_status, orders.order_status) RETURNS boolean
	AS 'int2le' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_status_gt(orders.order_status, orders.order_status) RETURNS boolean
	AS 'int2gt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_status_ge(orders.order_status, orders.order_status) RETURNS boolean
	AS 'int2ge' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_status_cmp(orders.order_status, orders.order_status) RETURNS integer
	AS 'btint2cmp' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_status_hash(orders.order_status) RETURNS integer
	AS 'hashint2' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_status_hash_extended(orders.order_status, bigint) RETURNS bigint
	AS 'hashint2extended' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

CREATE FUNCTION orders.order_status_smaller(orders.order_status, orders.order_status) RETURNS orders.order_status
	AS 'int2smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.order_status_larger(orders.order_status, orders.order_status) RETURNS orders.order_status
	AS 'int2larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (
	LEFTARG = orders.order_status, RIGHTARG = orders.order_status, FUNCTION = orders.order_status_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = orders.order_status, RIGHTARG = orders.order_status, FUNCTION = orders.order_status_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = orders.order_status, RIGHTARG = orders.order_status, FUNCTION = orders.order_status_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = orders.order_status, RIGHTARG = orders.order_status, FUNCTION = orders.order_status_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = orders.order_status, RIGHTARG = orders.order_status, FUNCTION = orders.order_status_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = orders.order_status, RIGHTARG = orders.order_status, FUNCTION = orders.order_status_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS orders.order_status_ops DEFAULT FOR TYPE orders.order_status USING btree AS
	OPERATOR 1 pg_catalog.<,
	OPERATOR 2 pg_catalog.<=,
	OPERATOR 3 pg_catalog.=,
	OPERATOR 4 pg_catalog.>=,
	OPERATOR 5 pg_catalog.>,
	FUNCTION 1 orders.order_status_cmp(orders.order_status, orders.order_status);
CREATE OPERATOR CLASS orders.order_status_hash_ops DEFAULT FOR TYPE orders.order_status USING hash AS
	OPERATOR 1 pg_catalog.=,
	FUNCTION 1 orders.order_status_hash(orders.order_status),
	FUNCTION 2 orders.order_status_hash_extended(orders.order_status, bigint);

CREATE AGGREGATE pg_catalog.min(orders.order_status) (
	SFUNC = orders.order_status_smaller, STYPE = orders.order_status,
	COMBINEFUNC = orders.order_status_smaller, SORTOP = OPERATOR(pg_catalog.<), PARALLEL = SAFE);
CREATE AGGREGATE pg_catalog.max(orders.order_status) (
	SFUNC = orders.order_status_larger, STYPE = orders.order_status,
	COMBINEFUNC = orders.order_status_larger, SORTOP = OPERATOR(pg_catalog.>), PARALLEL = SAFE);

-- text -> type is implicit so that a text parameter ("status = $1") resolves
-- to the type's own = and can use its index; type -> text is an assignment
-- cast so that text comparisons never silently pick the type's ordering.
CREATE CAST (text AS orders.order_status) WITH INOUT AS IMPLICIT;
CREATE CAST (orders.order_status AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS orders.order_status) WITH INOUT AS IMPLICIT;

COMMENT ON FUNCTION orders.order_status_in(cstring) IS 'text input of orders.order_status: any case, aliases';
COMMENT ON FUNCTION orders.order_status_out(orders.order_status) IS 'text output of orders.order_status: canonical UPPERCASE';
COMMENT ON FUNCTION orders.order_status_recv(internal) IS 'binary input of orders.order_status (the label as text)';
COMMENT ON FUNCTION orders.order_status_send(orders.order_status) IS 'binary output of orders.order_status (the label as text)';
COMMENT ON FUNCTION orders.order_status_eq(orders.order_status, orders.order_status) IS 'equal';
COMMENT ON FUNCTION orders.order_status_ne(orders.order_status, orders.order_status) IS 'not equal';
COMMENT ON FUNCTION orders.order_status_lt(orders.order_status, orders.order_status) IS 'less than (label order)';
COMMENT ON FUNCTION orders.order_status_le(orders.order_status, orders.order_status) IS 'less than or equal (label order)';
COMMENT ON FUNCTION orders.order_status_gt(orders.order_status, orders.order_status) IS 'greater than (label order)';
COMMENT ON FUNCTION orders.order_status_ge(orders.order_status, orders.order_status) IS 'greater than or equal (label order)';
COMMENT ON FUNCTION orders.order_status_cmp(orders.order_status, orders.order_status) IS 'btree comparison support';
COMMENT ON FUNCTION orders.order_status_hash(orders.order_status) IS 'hash support';
COMMENT ON FUNCTION orders.order_status_hash_extended(orders.order_status, bigint) IS 'extended hash support';
COMMENT ON FUNCTION orders.order_status_smaller(orders.order_status, orders.order_status) IS 'the smaller of two values (for min)';
COMMENT ON FUNCTION orders.order_status_larger(orders.order_status, orders.order_status) IS 'the larger of two values (for max)';
COMMENT ON AGGREGATE pg_catalog.min(orders.order_status) IS 'the lowest value (label order)';
COMMENT ON AGGREGATE pg_catalog.max(orders.order_status) IS 'the highest value (label order)';
COMMENT ON OPERATOR pg_catalog.= (orders.order_status, orders.order_status) IS 'equal';
COMMENT ON OPERATOR pg_catalog.<> (orders.order_status, orders.order_status) IS 'not equal';
COMMENT ON OPERATOR pg_catalog.< (orders.order_status, orders.order_status) IS 'less than (label order)';
COMMENT ON OPERATOR pg_catalog.<= (orders.order_status, orders.order_status) IS 'less than or equal (label order)';
COMMENT ON OPERATOR pg_catalog.> (orders.order_status, orders.order_status) IS 'greater than (label order)';
COMMENT ON OPERATOR pg_catalog.>= (orders.order_status, orders.order_status) IS 'greater than or equal (label order)';
-- orders.order_sub_status: a C enum type (src/labels.c holds its labels).
-- Stored as int2 (the label's position, append-only); compared, hashed and
-- sorted by PostgreSQL's own int2 functions.  Operators are created in
-- pg_catalog so that "WHERE col = 'delivered'" resolves with any
-- search_path (see docs/types.md).

CREATE TYPE orders.order_sub_status;

CREATE FUNCTION orders.order_sub_status_in(cstring) RETURNS orders.order_sub_status
	AS 'MODULE_PATHNAME', 'order_sub_status_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.order_sub_status_out(orders.order_sub_status) RETURNS cstring
	AS 'MODULE_PATHNAME', 'order_sub_status_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.order_sub_status_recv(internal) RETURNS orders.order_sub_status
	AS 'MODULE_PATHNAME', 'order_sub_status_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.order_sub_status_send(orders.order_sub_status) RETURNS bytea
	AS 'MODULE_PATHNAME', 'order_sub_status_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE orders.order_sub_status (
	INPUT = orders.order_sub_status_in,
	OUTPUT = orders.order_sub_status_out,
	RECEIVE = orders.order_sub_status_recv,
	SEND = orders.order_sub_status_send,
	LIKE = pg_catalog.int2
);

CREATE FUNCTION orders.order_sub_status_eq(orders.order_sub_status, orders.order_sub_status) RETURNS boolean
	AS 'int2eq' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_sub_status_ne(orders.order_sub_status, orders.order_sub_status) RETURNS boolean
	AS 'int2ne' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_sub_status_lt(orders.order_sub_status, orders.order_sub_status) RETURNS boolean
	AS 'int2lt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_sub_status_le(orders.order_sub_status, orders.order_sub_status) RETURNS boolean
	AS 'int2le' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_sub_status_gt(orders.order_sub_status, orders.order_sub_status) RETURNS boolean
	AS 'int2gt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_sub_status_ge(orders.order_sub_status, orders.order_sub_status) RETURNS boolean
	AS 'int2ge' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_sub_status_cmp(orders.order_sub_status, orders.order_sub_status) RETURNS integer
	AS 'btint2cmp' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_sub_status_hash(orders.order_sub_status) RETURNS integer
	AS 'hashint2' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.order_sub_status_hash_extended(orders.order_sub_status, bigint) RETURNS bigint
	AS 'hashint2extended' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

CREATE FUNCTION orders.order_sub_status_smaller(orders.order_sub_status, orders.order_sub_status) RETURNS orders.order_sub_status
	AS 'int2smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.order_sub_status_larger(orders.order_sub_status, orders.order_sub_status) RETURNS orders.order_sub_status
	AS 'int2larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (
	LEFTARG = orders.order_sub_status, RIGHTARG = orders.order_sub_status, FUNCTION = orders.order_sub_status_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = orders.order_sub_status, RIGHTARG = orders.order_sub_status, FUNCTION = orders.order_sub_status_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = orders.order_sub_status, RIGHTARG = orders.order_sub_status, FUNCTION = orders.order_sub_status_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = orders.order_sub_status, RIGHTARG = orders.order_sub_status, FUNCTION = orders.order_sub_status_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = orders.order_sub_status, RIGHTARG = orders.order_sub_status, FUNCTION = orders.order_sub_status_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = orders.order_sub_status, RIGHTARG = orders.order_sub_status, FUNCTION = orders.order_sub_status_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS orders.order_sub_status_ops DEFAULT FOR TYPE orders.order_sub_status USING btree AS
	OPERATOR 1 pg_catalog.<,
	OPERATOR 2 pg_catalog.<=,
	OPERATOR 3 pg_catalog.=,
	OPERATOR 4 pg_catalog.>=,
	OPERATOR 5 pg_catalog.>,
	FUNCTION 1 orders.order_sub_status_cmp(orders.order_sub_status, orders.order_sub_status);
CREATE OPERATOR CLASS orders.order_sub_status_hash_ops DEFAULT FOR TYPE orders.order_sub_status USING hash AS
	OPERATOR 1 pg_catalog.=,
	FUNCTION 1 orders.order_sub_status_hash(orders.order_sub_status),
	FUNCTION 2 orders.order_sub_status_hash_extended(orders.order_sub_status, bigint);

CREATE AGGREGATE pg_catalog.min(orders.order_sub_status) (
	SFUNC = orders.order_sub_status_smaller, STYPE = orders.order_sub_status,
	COMBINEFUNC = orders.order_sub_status_smaller, SORTOP = OPERATOR(pg_catalog.<), PARALLEL = SAFE);
CREATE AGGREGATE pg_catalog.max(orders.order_sub_status) (
	SFUNC = orders.order_sub_status_larger, STYPE = orders.order_sub_status,
	COMBINEFUNC = orders.order_sub_status_larger, SORTOP = OPERATOR(pg_catalog.>), PARALLEL = SAFE);

-- text -> type is implicit so that a text parameter ("status = $1") resolves
-- to the type's own = and can use its index; type -> text is an assignment
-- cast so that text comparisons never silently pick the type's ordering.
CREATE CAST (text AS orders.order_sub_status) WITH INOUT AS IMPLICIT;
CREATE CAST (orders.order_sub_status AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS orders.order_sub_status) WITH INOUT AS IMPLICIT;

COMMENT ON FUNCTION orders.order_sub_status_in(cstring) IS 'text input of orders.order_sub_status: any case, aliases';
COMMENT ON FUNCTION orders.order_sub_status_out(orders.order_sub_status) IS 'text output of orders.order_sub_status: canonical UPPERCASE';
COMMENT ON FUNCTION orders.order_sub_status_recv(internal) IS 'binary input of orders.order_sub_status (the label as text)';
COMMENT ON FUNCTION orders.order_sub_status_send(orders.order_sub_status) IS 'binary output of orders.order_sub_status (the label as text)';
COMMENT ON FUNCTION orders.order_sub_status_eq(orders.order_sub_status, orders.order_sub_status) IS 'equal';
COMMENT ON FUNCTION orders.order_sub_status_ne(orders.order_sub_status, orders.order_sub_status) IS 'not equal';
COMMENT ON FUNCTION orders.order_sub_status_lt(orders.order_sub_status, orders.order_sub_status) IS 'less than (label order)';
COMMENT ON FUNCTION orders.order_sub_status_le(orders.order_sub_status, orders.order_sub_status) IS 'less than or equal (label order)';
COMMENT ON FUNCTION orders.order_sub_status_gt(orders.order_sub_status, orders.order_sub_status) IS 'greater than (label order)';
COMMENT ON FUNCTION orders.order_sub_status_ge(orders.order_sub_status, orders.order_sub_status) IS 'greater than or equal (label order)';
COMMENT ON FUNCTION orders.order_sub_status_cmp(orders.order_sub_status, orders.order_sub_status) IS 'btree comparison support';
COMMENT ON FUNCTION orders.order_sub_status_hash(orders.order_sub_status) IS 'hash support';
COMMENT ON FUNCTION orders.order_sub_status_hash_extended(orders.order_sub_status, bigint) IS 'extended hash support';
COMMENT ON FUNCTION orders.order_sub_status_smaller(orders.order_sub_status, orders.order_sub_status) IS 'the smaller of two values (for min)';
COMMENT ON FUNCTION orders.order_sub_status_larger(orders.order_sub_status, orders.order_sub_status) IS 'the larger of two values (for max)';
COMMENT ON AGGREGATE pg_catalog.min(orders.order_sub_status) IS 'the lowest value (label order)';
COMMENT ON AGGREGATE pg_catalog.max(orders.order_sub_status) IS 'the highest value (label order)';
COMMENT ON OPERATOR pg_catalog.= (orders.order_sub_status, orders.order_sub_status) IS 'equal';
COMMENT ON OPERATOR pg_catalog.<> (orders.order_sub_status, orders.order_sub_status) IS 'not equal';
COMMENT ON OPERATOR pg_catalog.< (orders.order_sub_status, orders.order_sub_status) IS 'less than (label order)';
COMMENT ON OPERATOR pg_catalog.<= (orders.order_sub_status, orders.order_sub_status) IS 'less than or equal (label order)';
COMMENT ON OPERATOR pg_catalog.> (orders.order_sub_status, orders.order_sub_status) IS 'greater than (label order)';
COMMENT ON OPERATOR pg_catalog.>= (orders.order_sub_status, orders.order_sub_status) IS 'greater than or equal (label order)';
-- orders.delivery_time: a C enum type (src/labels.c holds its labels).
-- Stored as int2 (the label's position, append-only); compared, hashed and
-- sorted by PostgreSQL's own int2 functions.  Operators are created in
-- pg_catalog so that "WHERE col = 'delivered'" resolves with any
-- search_path (see docs/types.md).

CREATE TYPE orders.delivery_time;

CREATE FUNCTION orders.delivery_time_in(cstring) RETURNS orders.delivery_time
	AS 'MODULE_PATHNAME', 'delivery_time_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.delivery_time_out(orders.delivery_time) RETURNS cstring
	AS 'MODULE_PATHNAME', 'delivery_time_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.delivery_time_recv(internal) RETURNS orders.delivery_time
	AS 'MODULE_PATHNAME', 'delivery_time_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.delivery_time_send(orders.delivery_time) RETURNS bytea
	AS 'MODULE_PATHNAME', 'delivery_time_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE orders.delivery_time (
	INPUT = orders.delivery_time_in,
	OUTPUT = orders.delivery_time_out,
	RECEIVE = orders.delivery_time_recv,
	SEND = orders.delivery_time_send,
	LIKE = pg_catalog.int2
);

CREATE FUNCTION orders.delivery_time_eq(orders.delivery_time, orders.delivery_time) RETURNS boolean
	AS 'int2eq' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_time_ne(orders.delivery_time, orders.delivery_time) RETURNS boolean
	AS 'int2ne' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_time_lt(orders.delivery_time, orders.delivery_time) RETURNS boolean
	AS 'int2lt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_time_le(orders.delivery_time, orders.delivery_time) RETURNS boolean
	AS 'int2le' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_time_gt(orders.delivery_time, orders.delivery_time) RETURNS boolean
	AS 'int2gt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_time_ge(orders.delivery_time, orders.delivery_time) RETURNS boolean
	AS 'int2ge' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_time_cmp(orders.delivery_time, orders.delivery_time) RETURNS integer
	AS 'btint2cmp' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_time_hash(orders.delivery_time) RETURNS integer
	AS 'hashint2' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_time_hash_extended(orders.delivery_time, bigint) RETURNS bigint
	AS 'hashint2extended' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

CREATE FUNCTION orders.delivery_time_smaller(orders.delivery_time, orders.delivery_time) RETURNS orders.delivery_time
	AS 'int2smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.delivery_time_larger(orders.delivery_time, orders.delivery_time) RETURNS orders.delivery_time
	AS 'int2larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (
	LEFTARG = orders.delivery_time, RIGHTARG = orders.delivery_time, FUNCTION = orders.delivery_time_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = orders.delivery_time, RIGHTARG = orders.delivery_time, FUNCTION = orders.delivery_time_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = orders.delivery_time, RIGHTARG = orders.delivery_time, FUNCTION = orders.delivery_time_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = orders.delivery_time, RIGHTARG = orders.delivery_time, FUNCTION = orders.delivery_time_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = orders.delivery_time, RIGHTARG = orders.delivery_time, FUNCTION = orders.delivery_time_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = orders.delivery_time, RIGHTARG = orders.delivery_time, FUNCTION = orders.delivery_time_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS orders.delivery_time_ops DEFAULT FOR TYPE orders.delivery_time USING btree AS
	OPERATOR 1 pg_catalog.<,
	OPERATOR 2 pg_catalog.<=,
	OPERATOR 3 pg_catalog.=,
	OPERATOR 4 pg_catalog.>=,
	OPERATOR 5 pg_catalog.>,
	FUNCTION 1 orders.delivery_time_cmp(orders.delivery_time, orders.delivery_time);
CREATE OPERATOR CLASS orders.delivery_time_hash_ops DEFAULT FOR TYPE orders.delivery_time USING hash AS
	OPERATOR 1 pg_catalog.=,
	FUNCTION 1 orders.delivery_time_hash(orders.delivery_time),
	FUNCTION 2 orders.delivery_time_hash_extended(orders.delivery_time, bigint);

CREATE AGGREGATE pg_catalog.min(orders.delivery_time) (
	SFUNC = orders.delivery_time_smaller, STYPE = orders.delivery_time,
	COMBINEFUNC = orders.delivery_time_smaller, SORTOP = OPERATOR(pg_catalog.<), PARALLEL = SAFE);
CREATE AGGREGATE pg_catalog.max(orders.delivery_time) (
	SFUNC = orders.delivery_time_larger, STYPE = orders.delivery_time,
	COMBINEFUNC = orders.delivery_time_larger, SORTOP = OPERATOR(pg_catalog.>), PARALLEL = SAFE);

-- text -> type is implicit so that a text parameter ("status = $1") resolves
-- to the type's own = and can use its index; type -> text is an assignment
-- cast so that text comparisons never silently pick the type's ordering.
CREATE CAST (text AS orders.delivery_time) WITH INOUT AS IMPLICIT;
CREATE CAST (orders.delivery_time AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS orders.delivery_time) WITH INOUT AS IMPLICIT;

COMMENT ON FUNCTION orders.delivery_time_in(cstring) IS 'text input of orders.delivery_time: any case, aliases';
COMMENT ON FUNCTION orders.delivery_time_out(orders.delivery_time) IS 'text output of orders.delivery_time: canonical UPPERCASE';
COMMENT ON FUNCTION orders.delivery_time_recv(internal) IS 'binary input of orders.delivery_time (the label as text)';
COMMENT ON FUNCTION orders.delivery_time_send(orders.delivery_time) IS 'binary output of orders.delivery_time (the label as text)';
COMMENT ON FUNCTION orders.delivery_time_eq(orders.delivery_time, orders.delivery_time) IS 'equal';
COMMENT ON FUNCTION orders.delivery_time_ne(orders.delivery_time, orders.delivery_time) IS 'not equal';
COMMENT ON FUNCTION orders.delivery_time_lt(orders.delivery_time, orders.delivery_time) IS 'less than (label order)';
COMMENT ON FUNCTION orders.delivery_time_le(orders.delivery_time, orders.delivery_time) IS 'less than or equal (label order)';
COMMENT ON FUNCTION orders.delivery_time_gt(orders.delivery_time, orders.delivery_time) IS 'greater than (label order)';
COMMENT ON FUNCTION orders.delivery_time_ge(orders.delivery_time, orders.delivery_time) IS 'greater than or equal (label order)';
COMMENT ON FUNCTION orders.delivery_time_cmp(orders.delivery_time, orders.delivery_time) IS 'btree comparison support';
COMMENT ON FUNCTION orders.delivery_time_hash(orders.delivery_time) IS 'hash support';
COMMENT ON FUNCTION orders.delivery_time_hash_extended(orders.delivery_time, bigint) IS 'extended hash support';
COMMENT ON FUNCTION orders.delivery_time_smaller(orders.delivery_time, orders.delivery_time) IS 'the smaller of two values (for min)';
COMMENT ON FUNCTION orders.delivery_time_larger(orders.delivery_time, orders.delivery_time) IS 'the larger of two values (for max)';
COMMENT ON AGGREGATE pg_catalog.min(orders.delivery_time) IS 'the lowest value (label order)';
COMMENT ON AGGREGATE pg_catalog.max(orders.delivery_time) IS 'the highest value (label order)';
COMMENT ON OPERATOR pg_catalog.= (orders.delivery_time, orders.delivery_time) IS 'equal';
COMMENT ON OPERATOR pg_catalog.<> (orders.delivery_time, orders.delivery_time) IS 'not equal';
COMMENT ON OPERATOR pg_catalog.< (orders.delivery_time, orders.delivery_time) IS 'less than (label order)';
COMMENT ON OPERATOR pg_catalog.<= (orders.delivery_time, orders.delivery_time) IS 'less than or equal (label order)';
COMMENT ON OPERATOR pg_catalog.> (orders.delivery_time, orders.delivery_time) IS 'greater than (label order)';
COMMENT ON OPERATOR pg_catalog.>= (orders.delivery_time, orders.delivery_time) IS 'greater than or equal (label order)';
-- orders.delivery_type: a C enum type (src/labels.c holds its labels).
-- Stored as int2 (the label's position, append-only); compared, hashed and
-- sorted by PostgreSQL's own int2 functions.  Operators are created in
-- pg_catalog so that "WHERE col = 'delivered'" resolves with any
-- search_path (see docs/types.md).

CREATE TYPE orders.delivery_type;

CREATE FUNCTION orders.delivery_type_in(cstring) RETURNS orders.delivery_type
	AS 'MODULE_PATHNAME', 'delivery_type_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.delivery_type_out(orders.delivery_type) RETURNS cstring
	AS 'MODULE_PATHNAME', 'delivery_type_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.delivery_type_recv(internal) RETURNS orders.delivery_type
	AS 'MODULE_PATHNAME', 'delivery_type_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.delivery_type_send(orders.delivery_type) RETURNS bytea
	AS 'MODULE_PATHNAME', 'delivery_type_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE orders.delivery_type (
	INPUT = orders.delivery_type_in,
	OUTPUT = orders.delivery_type_out,
	RECEIVE = orders.delivery_type_recv,
	SEND = orders.delivery_type_send,
	LIKE = pg_catalog.int2
);

CREATE FUNCTION orders.delivery_type_eq(orders.delivery_type, orders.delivery_type) RETURNS boolean
	AS 'int2eq' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_type_ne(orders.delivery_type, orders.delivery_type) RETURNS boolean
	AS 'int2ne' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_type_lt(orders.delivery_type, orders.delivery_type) RETURNS boolean
	AS 'int2lt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_type_le(orders.delivery_type, orders.delivery_type) RETURNS boolean
	AS 'int2le' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_type_gt(orders.delivery_type, orders.delivery_type) RETURNS boolean
	AS 'int2gt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_type_ge(orders.delivery_type, orders.delivery_type) RETURNS boolean
	AS 'int2ge' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_type_cmp(orders.delivery_type, orders.delivery_type) RETURNS integer
	AS 'btint2cmp' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_type_hash(orders.delivery_type) RETURNS integer
	AS 'hashint2' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_type_hash_extended(orders.delivery_type, bigint) RETURNS bigint
	AS 'hashint2extended' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

CREATE FUNCTION orders.delivery_type_smaller(orders.delivery_type, orders.delivery_type) RETURNS orders.delivery_type
	AS 'int2smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.delivery_type_larger(orders.delivery_type, orders.delivery_type) RETURNS orders.delivery_type
	AS 'int2larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (
	LEFTARG = orders.delivery_type, RIGHTARG = orders.delivery_type, FUNCTION = orders.delivery_type_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = orders.delivery_type, RIGHTARG = orders.delivery_type, FUNCTION = orders.delivery_type_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = orders.delivery_type, RIGHTARG = orders.delivery_type, FUNCTION = orders.delivery_type_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = orders.delivery_type, RIGHTARG = orders.delivery_type, FUNCTION = orders.delivery_type_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = orders.delivery_type, RIGHTARG = orders.delivery_type, FUNCTION = orders.delivery_type_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = orders.delivery_type, RIGHTARG = orders.delivery_type, FUNCTION = orders.delivery_type_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS orders.delivery_type_ops DEFAULT FOR TYPE orders.delivery_type USING btree AS
	OPERATOR 1 pg_catalog.<,
	OPERATOR 2 pg_catalog.<=,
	OPERATOR 3 pg_catalog.=,
	OPERATOR 4 pg_catalog.>=,
	OPERATOR 5 pg_catalog.>,
	FUNCTION 1 orders.delivery_type_cmp(orders.delivery_type, orders.delivery_type);
CREATE OPERATOR CLASS orders.delivery_type_hash_ops DEFAULT FOR TYPE orders.delivery_type USING hash AS
	OPERATOR 1 pg_catalog.=,
	FUNCTION 1 orders.delivery_type_hash(orders.delivery_type),
	FUNCTION 2 orders.delivery_type_hash_extended(orders.delivery_type, bigint);

CREATE AGGREGATE pg_catalog.min(orders.delivery_type) (
	SFUNC = orders.delivery_type_smaller, STYPE = orders.delivery_type,
	COMBINEFUNC = orders.delivery_type_smaller, SORTOP = OPERATOR(pg_catalog.<), PARALLEL = SAFE);
CREATE AGGREGATE pg_catalog.max(orders.delivery_type) (
	SFUNC = orders.delivery_type_larger, STYPE = orders.delivery_type,
	COMBINEFUNC = orders.delivery_type_larger, SORTOP = OPERATOR(pg_catalog.>), PARALLEL = SAFE);

-- text -> type is implicit so that a text parameter ("status = $1") resolves
-- to the type's own = and can use its index; type -> text is an assignment
-- cast so that text comparisons never silently pick the type's ordering.
CREATE CAST (text AS orders.delivery_type) WITH INOUT AS IMPLICIT;
CREATE CAST (orders.delivery_type AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS orders.delivery_type) WITH INOUT AS IMPLICIT;

COMMENT ON FUNCTION orders.delivery_type_in(cstring) IS 'text input of orders.delivery_type: any case, aliases';
COMMENT ON FUNCTION orders.delivery_type_out(orders.delivery_type) IS 'text output of orders.delivery_type: canonical UPPERCASE';
COMMENT ON FUNCTION orders.delivery_type_recv(internal) IS 'binary input of orders.delivery_type (the label as text)';
COMMENT ON FUNCTION orders.delivery_type_send(orders.delivery_type) IS 'binary output of orders.delivery_type (the label as text)';
COMMENT ON FUNCTION orders.delivery_type_eq(orders.delivery_type, orders.delivery_type) IS 'equal';
COMMENT ON FUNCTION orders.delivery_type_ne(orders.delivery_type, orders.delivery_type) IS 'not equal';
COMMENT ON FUNCTION orders.delivery_type_lt(orders.delivery_type, orders.delivery_type) IS 'less than (label order)';
COMMENT ON FUNCTION orders.delivery_type_le(orders.delivery_type, orders.delivery_type) IS 'less than or equal (label order)';
COMMENT ON FUNCTION orders.delivery_type_gt(orders.delivery_type, orders.delivery_type) IS 'greater than (label order)';
COMMENT ON FUNCTION orders.delivery_type_ge(orders.delivery_type, orders.delivery_type) IS 'greater than or equal (label order)';
COMMENT ON FUNCTION orders.delivery_type_cmp(orders.delivery_type, orders.delivery_type) IS 'btree comparison support';
COMMENT ON FUNCTION orders.delivery_type_hash(orders.delivery_type) IS 'hash support';
COMMENT ON FUNCTION orders.delivery_type_hash_extended(orders.delivery_type, bigint) IS 'extended hash support';
COMMENT ON FUNCTION orders.delivery_type_smaller(orders.delivery_type, orders.delivery_type) IS 'the smaller of two values (for min)';
COMMENT ON FUNCTION orders.delivery_type_larger(orders.delivery_type, orders.delivery_type) IS 'the larger of two values (for max)';
COMMENT ON AGGREGATE pg_catalog.min(orders.delivery_type) IS 'the lowest value (label order)';
COMMENT ON AGGREGATE pg_catalog.max(orders.delivery_type) IS 'the highest value (label order)';
COMMENT ON OPERATOR pg_catalog.= (orders.delivery_type, orders.delivery_type) IS 'equal';
COMMENT ON OPERATOR pg_catalog.<> (orders.delivery_type, orders.delivery_type) IS 'not equal';
COMMENT ON OPERATOR pg_catalog.< (orders.delivery_type, orders.delivery_type) IS 'less than (label order)';
COMMENT ON OPERATOR pg_catalog.<= (orders.delivery_type, orders.delivery_type) IS 'less than or equal (label order)';
COMMENT ON OPERATOR pg_catalog.> (orders.delivery_type, orders.delivery_type) IS 'greater than (label order)';
COMMENT ON OPERATOR pg_catalog.>= (orders.delivery_type, orders.delivery_type) IS 'greater than or equal (label order)';
-- orders.delivery_mode: a C enum type (src/labels.c holds its labels).
-- Stored as int2 (the label's position, append-only); compared, hashed and
-- sorted by PostgreSQL's own int2 functions.  Operators are created in
-- pg_catalog so that "WHERE col = 'delivered'" resolves with any
-- search_path (see docs/types.md).

CREATE TYPE orders.delivery_mode;

CREATE FUNCTION orders.delivery_mode_in(cstring) RETURNS orders.delivery_mode
	AS 'MODULE_PATHNAME', 'delivery_mode_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.delivery_mode_out(orders.delivery_mode) RETURNS cstring
	AS 'MODULE_PATHNAME', 'delivery_mode_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.delivery_mode_recv(internal) RETURNS orders.delivery_mode
	AS 'MODULE_PATHNAME', 'delivery_mode_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.delivery_mode_send(orders.delivery_mode) RETURNS bytea
	AS 'MODULE_PATHNAME', 'delivery_mode_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE orders.delivery_mode (
	INPUT = orders.delivery_mode_in,
	OUTPUT = orders.delivery_mode_out,
	RECEIVE = orders.delivery_mode_recv,
	SEND = orders.delivery_mode_send,
	LIKE = pg_catalog.int2
);

CREATE FUNCTION orders.delivery_mode_eq(orders.delivery_mode, orders.delivery_mode) RETURNS boolean
	AS 'int2eq' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_mode_ne(orders.delivery_mode, orders.delivery_mode) RETURNS boolean
	AS 'int2ne' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_mode_lt(orders.delivery_mode, orders.delivery_mode) RETURNS boolean
	AS 'int2lt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_mode_le(orders.delivery_mode, orders.delivery_mode) RETURNS boolean
	AS 'int2le' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_mode_gt(orders.delivery_mode, orders.delivery_mode) RETURNS boolean
	AS 'int2gt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_mode_ge(orders.delivery_mode, orders.delivery_mode) RETURNS boolean
	AS 'int2ge' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_mode_cmp(orders.delivery_mode, orders.delivery_mode) RETURNS integer
	AS 'btint2cmp' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_mode_hash(orders.delivery_mode) RETURNS integer
	AS 'hashint2' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.delivery_mode_hash_extended(orders.delivery_mode, bigint) RETURNS bigint
	AS 'hashint2extended' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

CREATE FUNCTION orders.delivery_mode_smaller(orders.delivery_mode, orders.delivery_mode) RETURNS orders.delivery_mode
	AS 'int2smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.delivery_mode_larger(orders.delivery_mode, orders.delivery_mode) RETURNS orders.delivery_mode
	AS 'int2larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (
	LEFTARG = orders.delivery_mode, RIGHTARG = orders.delivery_mode, FUNCTION = orders.delivery_mode_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = orders.delivery_mode, RIGHTARG = orders.delivery_mode, FUNCTION = orders.delivery_mode_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = orders.delivery_mode, RIGHTARG = orders.delivery_mode, FUNCTION = orders.delivery_mode_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = orders.delivery_mode, RIGHTARG = orders.delivery_mode, FUNCTION = orders.delivery_mode_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = orders.delivery_mode, RIGHTARG = orders.delivery_mode, FUNCTION = orders.delivery_mode_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = orders.delivery_mode, RIGHTARG = orders.delivery_mode, FUNCTION = orders.delivery_mode_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS orders.delivery_mode_ops DEFAULT FOR TYPE orders.delivery_mode USING btree AS
	OPERATOR 1 pg_catalog.<,
	OPERATOR 2 pg_catalog.<=,
	OPERATOR 3 pg_catalog.=,
	OPERATOR 4 pg_catalog.>=,
	OPERATOR 5 pg_catalog.>,
	FUNCTION 1 orders.delivery_mode_cmp(orders.delivery_mode, orders.delivery_mode);
CREATE OPERATOR CLASS orders.delivery_mode_hash_ops DEFAULT FOR TYPE orders.delivery_mode USING hash AS
	OPERATOR 1 pg_catalog.=,
	FUNCTION 1 orders.delivery_mode_hash(orders.delivery_mode),
	FUNCTION 2 orders.delivery_mode_hash_extended(orders.delivery_mode, bigint);

CREATE AGGREGATE pg_catalog.min(orders.delivery_mode) (
	SFUNC = orders.delivery_mode_smaller, STYPE = orders.delivery_mode,
	COMBINEFUNC = orders.delivery_mode_smaller, SORTOP = OPERATOR(pg_catalog.<), PARALLEL = SAFE);
CREATE AGGREGATE pg_catalog.max(orders.delivery_mode) (
	SFUNC = orders.delivery_mode_larger, STYPE = orders.delivery_mode,
	COMBINEFUNC = orders.delivery_mode_larger, SORTOP = OPERATOR(pg_catalog.>), PARALLEL = SAFE);

-- text -> type is implicit so that a text parameter ("status = $1") resolves
-- to the type's own = and can use its index; type -> text is an assignment
-- cast so that text comparisons never silently pick the type's ordering.
CREATE CAST (text AS orders.delivery_mode) WITH INOUT AS IMPLICIT;
CREATE CAST (orders.delivery_mode AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS orders.delivery_mode) WITH INOUT AS IMPLICIT;

COMMENT ON FUNCTION orders.delivery_mode_in(cstring) IS 'text input of orders.delivery_mode: any case, aliases';
COMMENT ON FUNCTION orders.delivery_mode_out(orders.delivery_mode) IS 'text output of orders.delivery_mode: canonical UPPERCASE';
COMMENT ON FUNCTION orders.delivery_mode_recv(internal) IS 'binary input of orders.delivery_mode (the label as text)';
COMMENT ON FUNCTION orders.delivery_mode_send(orders.delivery_mode) IS 'binary output of orders.delivery_mode (the label as text)';
COMMENT ON FUNCTION orders.delivery_mode_eq(orders.delivery_mode, orders.delivery_mode) IS 'equal';
COMMENT ON FUNCTION orders.delivery_mode_ne(orders.delivery_mode, orders.delivery_mode) IS 'not equal';
COMMENT ON FUNCTION orders.delivery_mode_lt(orders.delivery_mode, orders.delivery_mode) IS 'less than (label order)';
COMMENT ON FUNCTION orders.delivery_mode_le(orders.delivery_mode, orders.delivery_mode) IS 'less than or equal (label order)';
COMMENT ON FUNCTION orders.delivery_mode_gt(orders.delivery_mode, orders.delivery_mode) IS 'greater than (label order)';
COMMENT ON FUNCTION orders.delivery_mode_ge(orders.delivery_mode, orders.delivery_mode) IS 'greater than or equal (label order)';
COMMENT ON FUNCTION orders.delivery_mode_cmp(orders.delivery_mode, orders.delivery_mode) IS 'btree comparison support';
COMMENT ON FUNCTION orders.delivery_mode_hash(orders.delivery_mode) IS 'hash support';
COMMENT ON FUNCTION orders.delivery_mode_hash_extended(orders.delivery_mode, bigint) IS 'extended hash support';
COMMENT ON FUNCTION orders.delivery_mode_smaller(orders.delivery_mode, orders.delivery_mode) IS 'the smaller of two values (for min)';
COMMENT ON FUNCTION orders.delivery_mode_larger(orders.delivery_mode, orders.delivery_mode) IS 'the larger of two values (for max)';
COMMENT ON AGGREGATE pg_catalog.min(orders.delivery_mode) IS 'the lowest value (label order)';
COMMENT ON AGGREGATE pg_catalog.max(orders.delivery_mode) IS 'the highest value (label order)';
COMMENT ON OPERATOR pg_catalog.= (orders.delivery_mode, orders.delivery_mode) IS 'equal';
COMMENT ON OPERATOR pg_catalog.<> (orders.delivery_mode, orders.delivery_mode) IS 'not equal';
COMMENT ON OPERATOR pg_catalog.< (orders.delivery_mode, orders.delivery_mode) IS 'less than (label order)';
COMMENT ON OPERATOR pg_catalog.<= (orders.delivery_mode, orders.delivery_mode) IS 'less than or equal (label order)';
COMMENT ON OPERATOR pg_catalog.> (orders.delivery_mode, orders.delivery_mode) IS 'greater than (label order)';
COMMENT ON OPERATOR pg_catalog.>= (orders.delivery_mode, orders.delivery_mode) IS 'greater than or equal (label order)';
-- orders.classification: a C enum type (src/labels.c holds its labels).
-- Stored as int2 (the label's position, append-only); compared, hashed and
-- sorted by PostgreSQL's own int2 functions.  Operators are created in
-- pg_catalog so that "WHERE col = 'delivered'" resolves with any
-- search_path (see docs/types.md).

CREATE TYPE orders.classification;

CREATE FUNCTION orders.classification_in(cstring) RETURNS orders.classification
	AS 'MODULE_PATHNAME', 'classification_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.classification_out(orders.classification) RETURNS cstring
	AS 'MODULE_PATHNAME', 'classification_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.classification_recv(internal) RETURNS orders.classification
	AS 'MODULE_PATHNAME', 'classification_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.classification_send(orders.classification) RETURNS bytea
	AS 'MODULE_PATHNAME', 'classification_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE orders.classification (
	INPUT = orders.classification_in,
	OUTPUT = orders.classification_out,
	RECEIVE = orders.classification_recv,
	SEND = orders.classification_send,
	LIKE = pg_catalog.int2
);

CREATE FUNCTION orders.classification_eq(orders.classification, orders.classification) RETURNS boolean
	AS 'int2eq' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.classification_ne(orders.classification, orders.classification) RETURNS boolean
	AS 'int2ne' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.classification_lt(orders.classification, orders.classification) RETURNS boolean
	AS 'int2lt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.classification_le(orders.classification, orders.classification) RETURNS boolean
	AS 'int2le' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.classification_gt(orders.classification, orders.classification) RETURNS boolean
	AS 'int2gt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.classification_ge(orders.classification, orders.classification) RETURNS boolean
	AS 'int2ge' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.classification_cmp(orders.classification, orders.classification) RETURNS integer
	AS 'btint2cmp' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.classification_hash(orders.classification) RETURNS integer
	AS 'hashint2' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.classification_hash_extended(orders.classification, bigint) RETURNS bigint
	AS 'hashint2extended' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

CREATE FUNCTION orders.classification_smaller(orders.classification, orders.classification) RETURNS orders.classification
	AS 'int2smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.classification_larger(orders.classification, orders.classification) RETURNS orders.classification
	AS 'int2larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (
	LEFTARG = orders.classification, RIGHTARG = orders.classification, FUNCTION = orders.classification_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = orders.classification, RIGHTARG = orders.classification, FUNCTION = orders.classification_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = orders.classification, RIGHTARG = orders.classification, FUNCTION = orders.classification_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = orders.classification, RIGHTARG = orders.classification, FUNCTION = orders.classification_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = orders.classification, RIGHTARG = orders.classification, FUNCTION = orders.classification_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = orders.classification, RIGHTARG = orders.classification, FUNCTION = orders.classification_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS orders.classification_ops DEFAULT FOR TYPE orders.classification USING btree AS
	OPERATOR 1 pg_catalog.<,
	OPERATOR 2 pg_catalog.<=,
	OPERATOR 3 pg_catalog.=,
	OPERATOR 4 pg_catalog.>=,
	OPERATOR 5 pg_catalog.>,
	FUNCTION 1 orders.classification_cmp(orders.classification, orders.classification);
CREATE OPERATOR CLASS orders.classification_hash_ops DEFAULT FOR TYPE orders.classification USING hash AS
	OPERATOR 1 pg_catalog.=,
	FUNCTION 1 orders.classification_hash(orders.classification),
	FUNCTION 2 orders.classification_hash_extended(orders.classification, bigint);

CREATE AGGREGATE pg_catalog.min(orders.classification) (
	SFUNC = orders.classification_smaller, STYPE = orders.classification,
	COMBINEFUNC = orders.classification_smaller, SORTOP = OPERATOR(pg_catalog.<), PARALLEL = SAFE);
CREATE AGGREGATE pg_catalog.max(orders.classification) (
	SFUNC = orders.classification_larger, STYPE = orders.classification,
	COMBINEFUNC = orders.classification_larger, SORTOP = OPERATOR(pg_catalog.>), PARALLEL = SAFE);

-- text -> type is implicit so that a text parameter ("status = $1") resolves
-- to the type's own = and can use its index; type -> text is an assignment
-- cast so that text comparisons never silently pick the type's ordering.
CREATE CAST (text AS orders.classification) WITH INOUT AS IMPLICIT;
CREATE CAST (orders.classification AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS orders.classification) WITH INOUT AS IMPLICIT;

COMMENT ON FUNCTION orders.classification_in(cstring) IS 'text input of orders.classification: any case, aliases';
COMMENT ON FUNCTION orders.classification_out(orders.classification) IS 'text output of orders.classification: canonical UPPERCASE';
COMMENT ON FUNCTION orders.classification_recv(internal) IS 'binary input of orders.classification (the label as text)';
COMMENT ON FUNCTION orders.classification_send(orders.classification) IS 'binary output of orders.classification (the label as text)';
COMMENT ON FUNCTION orders.classification_eq(orders.classification, orders.classification) IS 'equal';
COMMENT ON FUNCTION orders.classification_ne(orders.classification, orders.classification) IS 'not equal';
COMMENT ON FUNCTION orders.classification_lt(orders.classification, orders.classification) IS 'less than (label order)';
COMMENT ON FUNCTION orders.classification_le(orders.classification, orders.classification) IS 'less than or equal (label order)';
COMMENT ON FUNCTION orders.classification_gt(orders.classification, orders.classification) IS 'greater than (label order)';
COMMENT ON FUNCTION orders.classification_ge(orders.classification, orders.classification) IS 'greater than or equal (label order)';
COMMENT ON FUNCTION orders.classification_cmp(orders.classification, orders.classification) IS 'btree comparison support';
COMMENT ON FUNCTION orders.classification_hash(orders.classification) IS 'hash support';
COMMENT ON FUNCTION orders.classification_hash_extended(orders.classification, bigint) IS 'extended hash support';
COMMENT ON FUNCTION orders.classification_smaller(orders.classification, orders.classification) IS 'the smaller of two values (for min)';
COMMENT ON FUNCTION orders.classification_larger(orders.classification, orders.classification) IS 'the larger of two values (for max)';
COMMENT ON AGGREGATE pg_catalog.min(orders.classification) IS 'the lowest value (label order)';
COMMENT ON AGGREGATE pg_catalog.max(orders.classification) IS 'the highest value (label order)';
COMMENT ON OPERATOR pg_catalog.= (orders.classification, orders.classification) IS 'equal';
COMMENT ON OPERATOR pg_catalog.<> (orders.classification, orders.classification) IS 'not equal';
COMMENT ON OPERATOR pg_catalog.< (orders.classification, orders.classification) IS 'less than (label order)';
COMMENT ON OPERATOR pg_catalog.<= (orders.classification, orders.classification) IS 'less than or equal (label order)';
COMMENT ON OPERATOR pg_catalog.> (orders.classification, orders.classification) IS 'greater than (label order)';
COMMENT ON OPERATOR pg_catalog.>= (orders.classification, orders.classification) IS 'greater than or equal (label order)';
-- orders.link_type: a C enum type (src/labels.c holds its labels).
-- Stored as int2 (the label's position, append-only); compared, hashed and
-- sorted by PostgreSQL's own int2 functions.  Operators are created in
-- pg_catalog so that "WHERE col = 'delivered'" resolves with any
-- search_path (see docs/types.md).

CREATE TYPE orders.link_type;

CREATE FUNCTION orders.link_type_in(cstring) RETURNS orders.link_type
	AS 'MODULE_PATHNAME', 'link_type_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.link_type_out(orders.link_type) RETURNS cstring
	AS 'MODULE_PATHNAME', 'link_type_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.link_type_recv(internal) RETURNS orders.link_type
	AS 'MODULE_PATHNAME', 'link_type_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.link_type_send(orders.link_type) RETURNS bytea
	AS 'MODULE_PATHNAME', 'link_type_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE orders.link_type (
	INPUT = orders.link_type_in,
	OUTPUT = orders.link_type_out,
	RECEIVE = orders.link_type_recv,
	SEND = orders.link_type_send,
	LIKE = pg_catalog.int2
);

CREATE FUNCTION orders.link_type_eq(orders.link_type, orders.link_type) RETURNS boolean
	AS 'int2eq' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.link_type_ne(orders.link_type, orders.link_type) RETURNS boolean
	AS 'int2ne' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.link_type_lt(orders.link_type, orders.link_type) RETURNS boolean
	AS 'int2lt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.link_type_le(orders.link_type, orders.link_type) RETURNS boolean
	AS 'int2le' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.link_type_gt(orders.link_type, orders.link_type) RETURNS boolean
	AS 'int2gt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.link_type_ge(orders.link_type, orders.link_type) RETURNS boolean
	AS 'int2ge' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.link_type_cmp(orders.link_type, orders.link_type) RETURNS integer
	AS 'btint2cmp' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.link_type_hash(orders.link_type) RETURNS integer
	AS 'hashint2' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.link_type_hash_extended(orders.link_type, bigint) RETURNS bigint
	AS 'hashint2extended' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

CREATE FUNCTION orders.link_type_smaller(orders.link_type, orders.link_type) RETURNS orders.link_type
	AS 'int2smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.link_type_larger(orders.link_type, orders.link_type) RETURNS orders.link_type
	AS 'int2larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (
	LEFTARG = orders.link_type, RIGHTARG = orders.link_type, FUNCTION = orders.link_type_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = orders.link_type, RIGHTARG = orders.link_type, FUNCTION = orders.link_type_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = orders.link_type, RIGHTARG = orders.link_type, FUNCTION = orders.link_type_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = orders.link_type, RIGHTARG = orders.link_type, FUNCTION = orders.link_type_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = orders.link_type, RIGHTARG = orders.link_type, FUNCTION = orders.link_type_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = orders.link_type, RIGHTARG = orders.link_type, FUNCTION = orders.link_type_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS orders.link_type_ops DEFAULT FOR TYPE orders.link_type USING btree AS
	OPERATOR 1 pg_catalog.<,
	OPERATOR 2 pg_catalog.<=,
	OPERATOR 3 pg_catalog.=,
	OPERATOR 4 pg_catalog.>=,
	OPERATOR 5 pg_catalog.>,
	FUNCTION 1 orders.link_type_cmp(orders.link_type, orders.link_type);
CREATE OPERATOR CLASS orders.link_type_hash_ops DEFAULT FOR TYPE orders.link_type USING hash AS
	OPERATOR 1 pg_catalog.=,
	FUNCTION 1 orders.link_type_hash(orders.link_type),
	FUNCTION 2 orders.link_type_hash_extended(orders.link_type, bigint);

CREATE AGGREGATE pg_catalog.min(orders.link_type) (
	SFUNC = orders.link_type_smaller, STYPE = orders.link_type,
	COMBINEFUNC = orders.link_type_smaller, SORTOP = OPERATOR(pg_catalog.<), PARALLEL = SAFE);
CREATE AGGREGATE pg_catalog.max(orders.link_type) (
	SFUNC = orders.link_type_larger, STYPE = orders.link_type,
	COMBINEFUNC = orders.link_type_larger, SORTOP = OPERATOR(pg_catalog.>), PARALLEL = SAFE);

-- text -> type is implicit so that a text parameter ("status = $1") resolves
-- to the type's own = and can use its index; type -> text is an assignment
-- cast so that text comparisons never silently pick the type's ordering.
CREATE CAST (text AS orders.link_type) WITH INOUT AS IMPLICIT;
CREATE CAST (orders.link_type AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS orders.link_type) WITH INOUT AS IMPLICIT;

COMMENT ON FUNCTION orders.link_type_in(cstring) IS 'text input of orders.link_type: any case, aliases';
COMMENT ON FUNCTION orders.link_type_out(orders.link_type) IS 'text output of orders.link_type: canonical UPPERCASE';
COMMENT ON FUNCTION orders.link_type_recv(internal) IS 'binary input of orders.link_type (the label as text)';
COMMENT ON FUNCTION orders.link_type_send(orders.link_type) IS 'binary output of orders.link_type (the label as text)';
COMMENT ON FUNCTION orders.link_type_eq(orders.link_type, orders.link_type) IS 'equal';
COMMENT ON FUNCTION orders.link_type_ne(orders.link_type, orders.link_type) IS 'not equal';
COMMENT ON FUNCTION orders.link_type_lt(orders.link_type, orders.link_type) IS 'less than (label order)';
COMMENT ON FUNCTION orders.link_type_le(orders.link_type, orders.link_type) IS 'less than or equal (label order)';
COMMENT ON FUNCTION orders.link_type_gt(orders.link_type, orders.link_type) IS 'greater than (label order)';
COMMENT ON FUNCTION orders.link_type_ge(orders.link_type, orders.link_type) IS 'greater than or equal (label order)';
COMMENT ON FUNCTION orders.link_type_cmp(orders.link_type, orders.link_type) IS 'btree comparison support';
COMMENT ON FUNCTION orders.link_type_hash(orders.link_type) IS 'hash support';
COMMENT ON FUNCTION orders.link_type_hash_extended(orders.link_type, bigint) IS 'extended hash support';
COMMENT ON FUNCTION orders.link_type_smaller(orders.link_type, orders.link_type) IS 'the smaller of two values (for min)';
COMMENT ON FUNCTION orders.link_type_larger(orders.link_type, orders.link_type) IS 'the larger of two values (for max)';
COMMENT ON AGGREGATE pg_catalog.min(orders.link_type) IS 'the lowest value (label order)';
COMMENT ON AGGREGATE pg_catalog.max(orders.link_type) IS 'the highest value (label order)';
COMMENT ON OPERATOR pg_catalog.= (orders.link_type, orders.link_type) IS 'equal';
COMMENT ON OPERATOR pg_catalog.<> (orders.link_type, orders.link_type) IS 'not equal';
COMMENT ON OPERATOR pg_catalog.< (orders.link_type, orders.link_type) IS 'less than (label order)';
COMMENT ON OPERATOR pg_catalog.<= (orders.link_type, orders.link_type) IS 'less than or equal (label order)';
COMMENT ON OPERATOR pg_catalog.> (orders.link_type, orders.link_type) IS 'greater than (label order)';
COMMENT ON OPERATOR pg_catalog.>= (orders.link_type, orders.link_type) IS 'greater than or equal (label order)';
-- orders.inventory_status: a C enum type (src/labels.c holds its labels).
-- Stored as int2 (the label's position, append-only); compared, hashed and
-- sorted by PostgreSQL's own int2 functions.  Operators are created in
-- pg_catalog so that "WHERE col = 'delivered'" resolves with any
-- search_path (see docs/types.md).

CREATE TYPE orders.inventory_status;

CREATE FUNCTION orders.inventory_status_in(cstring) RETURNS orders.inventory_status
	AS 'MODULE_PATHNAME', 'inventory_status_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.inventory_status_out(orders.inventory_status) RETURNS cstring
	AS 'MODULE_PATHNAME', 'inventory_status_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.inventory_status_recv(internal) RETURNS orders.inventory_status
	AS 'MODULE_PATHNAME', 'inventory_status_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.inventory_status_send(orders.inventory_status) RETURNS bytea
	AS 'MODULE_PATHNAME', 'inventory_status_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE orders.inventory_status (
	INPUT = orders.inventory_status_in,
	OUTPUT = orders.inventory_status_out,
	RECEIVE = orders.inventory_status_recv,
	SEND = orders.inventory_status_send,
	LIKE = pg_catalog.int2
);

CREATE FUNCTION orders.inventory_status_eq(orders.inventory_status, orders.inventory_status) RETURNS boolean
	AS 'int2eq' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.inventory_status_ne(orders.inventory_status, orders.inventory_status) RETURNS boolean
	AS 'int2ne' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.inventory_status_lt(orders.inventory_status, orders.inventory_status) RETURNS boolean
	AS 'int2lt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.inventory_status_le(orders.inventory_status, orders.inventory_status) RETURNS boolean
	AS 'int2le' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.inventory_status_gt(orders.inventory_status, orders.inventory_status) RETURNS boolean
	AS 'int2gt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.inventory_status_ge(orders.inventory_status, orders.inventory_status) RETURNS boolean
	AS 'int2ge' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.inventory_status_cmp(orders.inventory_status, orders.inventory_status) RETURNS integer
	AS 'btint2cmp' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.inventory_status_hash(orders.inventory_status) RETURNS integer
	AS 'hashint2' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.inventory_status_hash_extended(orders.inventory_status, bigint) RETURNS bigint
	AS 'hashint2extended' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

CREATE FUNCTION orders.inventory_status_smaller(orders.inventory_status, orders.inventory_status) RETURNS orders.inventory_status
	AS 'int2smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.inventory_status_larger(orders.inventory_status, orders.inventory_status) RETURNS orders.inventory_status
	AS 'int2larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (
	LEFTARG = orders.inventory_status, RIGHTARG = orders.inventory_status, FUNCTION = orders.inventory_status_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = orders.inventory_status, RIGHTARG = orders.inventory_status, FUNCTION = orders.inventory_status_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = orders.inventory_status, RIGHTARG = orders.inventory_status, FUNCTION = orders.inventory_status_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = orders.inventory_status, RIGHTARG = orders.inventory_status, FUNCTION = orders.inventory_status_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = orders.inventory_status, RIGHTARG = orders.inventory_status, FUNCTION = orders.inventory_status_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = orders.inventory_status, RIGHTARG = orders.inventory_status, FUNCTION = orders.inventory_status_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS orders.inventory_status_ops DEFAULT FOR TYPE orders.inventory_status USING btree AS
	OPERATOR 1 pg_catalog.<,
	OPERATOR 2 pg_catalog.<=,
	OPERATOR 3 pg_catalog.=,
	OPERATOR 4 pg_catalog.>=,
	OPERATOR 5 pg_catalog.>,
	FUNCTION 1 orders.inventory_status_cmp(orders.inventory_status, orders.inventory_status);
CREATE OPERATOR CLASS orders.inventory_status_hash_ops DEFAULT FOR TYPE orders.inventory_status USING hash AS
	OPERATOR 1 pg_catalog.=,
	FUNCTION 1 orders.inventory_status_hash(orders.inventory_status),
	FUNCTION 2 orders.inventory_status_hash_extended(orders.inventory_status, bigint);

CREATE AGGREGATE pg_catalog.min(orders.inventory_status) (
	SFUNC = orders.inventory_status_smaller, STYPE = orders.inventory_status,
	COMBINEFUNC = orders.inventory_status_smaller, SORTOP = OPERATOR(pg_catalog.<), PARALLEL = SAFE);
CREATE AGGREGATE pg_catalog.max(orders.inventory_status) (
	SFUNC = orders.inventory_status_larger, STYPE = orders.inventory_status,
	COMBINEFUNC = orders.inventory_status_larger, SORTOP = OPERATOR(pg_catalog.>), PARALLEL = SAFE);

-- text -> type is implicit so that a text parameter ("status = $1") resolves
-- to the type's own = and can use its index; type -> text is an assignment
-- cast so that text comparisons never silently pick the type's ordering.
CREATE CAST (text AS orders.inventory_status) WITH INOUT AS IMPLICIT;
CREATE CAST (orders.inventory_status AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS orders.inventory_status) WITH INOUT AS IMPLICIT;

COMMENT ON FUNCTION orders.inventory_status_in(cstring) IS 'text input of orders.inventory_status: any case, aliases';
COMMENT ON FUNCTION orders.inventory_status_out(orders.inventory_status) IS 'text output of orders.inventory_status: canonical UPPERCASE';
COMMENT ON FUNCTION orders.inventory_status_recv(internal) IS 'binary input of orders.inventory_status (the label as text)';
COMMENT ON FUNCTION orders.inventory_status_send(orders.inventory_status) IS 'binary output of orders.inventory_status (the label as text)';
COMMENT ON FUNCTION orders.inventory_status_eq(orders.inventory_status, orders.inventory_status) IS 'equal';
COMMENT ON FUNCTION orders.inventory_status_ne(orders.inventory_status, orders.inventory_status) IS 'not equal';
COMMENT ON FUNCTION orders.inventory_status_lt(orders.inventory_status, orders.inventory_status) IS 'less than (label order)';
COMMENT ON FUNCTION orders.inventory_status_le(orders.inventory_status, orders.inventory_status) IS 'less than or equal (label order)';
COMMENT ON FUNCTION orders.inventory_status_gt(orders.inventory_status, orders.inventory_status) IS 'greater than (label order)';
COMMENT ON FUNCTION orders.inventory_status_ge(orders.inventory_status, orders.inventory_status) IS 'greater than or equal (label order)';
COMMENT ON FUNCTION orders.inventory_status_cmp(orders.inventory_status, orders.inventory_status) IS 'btree comparison support';
COMMENT ON FUNCTION orders.inventory_status_hash(orders.inventory_status) IS 'hash support';
COMMENT ON FUNCTION orders.inventory_status_hash_extended(orders.inventory_status, bigint) IS 'extended hash support';
COMMENT ON FUNCTION orders.inventory_status_smaller(orders.inventory_status, orders.inventory_status) IS 'the smaller of two values (for min)';
COMMENT ON FUNCTION orders.inventory_status_larger(orders.inventory_status, orders.inventory_status) IS 'the larger of two values (for max)';
COMMENT ON AGGREGATE pg_catalog.min(orders.inventory_status) IS 'the lowest value (label order)';
COMMENT ON AGGREGATE pg_catalog.max(orders.inventory_status) IS 'the highest value (label order)';
COMMENT ON OPERATOR pg_catalog.= (orders.inventory_status, orders.inventory_status) IS 'equal';
COMMENT ON OPERATOR pg_catalog.<> (orders.inventory_status, orders.inventory_status) IS 'not equal';
COMMENT ON OPERATOR pg_catalog.< (orders.inventory_status, orders.inventory_status) IS 'less than (label order)';
COMMENT ON OPERATOR pg_catalog.<= (orders.inventory_status, orders.inventory_status) IS 'less than or equal (label order)';
COMMENT ON OPERATOR pg_catalog.> (orders.inventory_status, orders.inventory_status) IS 'greater than (label order)';
COMMENT ON OPERATOR pg_catalog.>= (orders.inventory_status, orders.inventory_status) IS 'greater than or equal (label order)';
-- orders.recharge_status: a C enum type (src/labels.c holds its labels).
-- Stored as int2 (the label's position, append-only); compared, hashed and
-- sorted by PostgreSQL's own int2 functions.  Operators are created in
-- pg_catalog so that "WHERE col = 'delivered'" resolves with any
-- search_path (see docs/types.md).

CREATE TYPE orders.recharge_status;

CREATE FUNCTION orders.recharge_status_in(cstring) RETURNS orders.recharge_status
	AS 'MODULE_PATHNAME', 'recharge_status_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.recharge_status_out(orders.recharge_status) RETURNS cstring
	AS 'MODULE_PATHNAME', 'recharge_status_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.recharge_status_recv(internal) RETURNS orders.recharge_status
	AS 'MODULE_PATHNAME', 'recharge_status_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.recharge_status_send(orders.recharge_status) RETURNS bytea
	AS 'MODULE_PATHNAME', 'recharge_status_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE orders.recharge_status (
	INPUT = orders.recharge_status_in,
	OUTPUT = orders.recharge_status_out,
	RECEIVE = orders.recharge_status_recv,
	SEND = orders.recharge_status_send,
	LIKE = pg_catalog.int2
);

CREATE FUNCTION orders.recharge_status_eq(orders.recharge_status, orders.recharge_status) RETURNS boolean
	AS 'int2eq' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.recharge_status_ne(orders.recharge_status, orders.recharge_status) RETURNS boolean
	AS 'int2ne' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.recharge_status_lt(orders.recharge_status, orders.recharge_status) RETURNS boolean
	AS 'int2lt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.recharge_status_le(orders.recharge_status, orders.recharge_status) RETURNS boolean
	AS 'int2le' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.recharge_status_gt(orders.recharge_status, orders.recharge_status) RETURNS boolean
	AS 'int2gt' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.recharge_status_ge(orders.recharge_status, orders.recharge_status) RETURNS boolean
	AS 'int2ge' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.recharge_status_cmp(orders.recharge_status, orders.recharge_status) RETURNS integer
	AS 'btint2cmp' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.recharge_status_hash(orders.recharge_status) RETURNS integer
	AS 'hashint2' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
CREATE FUNCTION orders.recharge_status_hash_extended(orders.recharge_status, bigint) RETURNS bigint
	AS 'hashint2extended' LANGUAGE internal IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;

CREATE FUNCTION orders.recharge_status_smaller(orders.recharge_status, orders.recharge_status) RETURNS orders.recharge_status
	AS 'int2smaller' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION orders.recharge_status_larger(orders.recharge_status, orders.recharge_status) RETURNS orders.recharge_status
	AS 'int2larger' LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR pg_catalog.= (
	LEFTARG = orders.recharge_status, RIGHTARG = orders.recharge_status, FUNCTION = orders.recharge_status_eq,
	COMMUTATOR = OPERATOR(pg_catalog.=), NEGATOR = OPERATOR(pg_catalog.<>),
	RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR pg_catalog.<> (
	LEFTARG = orders.recharge_status, RIGHTARG = orders.recharge_status, FUNCTION = orders.recharge_status_ne,
	COMMUTATOR = OPERATOR(pg_catalog.<>), NEGATOR = OPERATOR(pg_catalog.=),
	RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR pg_catalog.< (
	LEFTARG = orders.recharge_status, RIGHTARG = orders.recharge_status, FUNCTION = orders.recharge_status_lt,
	COMMUTATOR = OPERATOR(pg_catalog.>), NEGATOR = OPERATOR(pg_catalog.>=),
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR pg_catalog.<= (
	LEFTARG = orders.recharge_status, RIGHTARG = orders.recharge_status, FUNCTION = orders.recharge_status_le,
	COMMUTATOR = OPERATOR(pg_catalog.>=), NEGATOR = OPERATOR(pg_catalog.>),
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR pg_catalog.> (
	LEFTARG = orders.recharge_status, RIGHTARG = orders.recharge_status, FUNCTION = orders.recharge_status_gt,
	COMMUTATOR = OPERATOR(pg_catalog.<), NEGATOR = OPERATOR(pg_catalog.<=),
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR pg_catalog.>= (
	LEFTARG = orders.recharge_status, RIGHTARG = orders.recharge_status, FUNCTION = orders.recharge_status_ge,
	COMMUTATOR = OPERATOR(pg_catalog.<=), NEGATOR = OPERATOR(pg_catalog.<),
	RESTRICT = scalargesel, JOIN = scalargejoinsel);

CREATE OPERATOR CLASS orders.recharge_status_ops DEFAULT FOR TYPE orders.recharge_status USING btree AS
	OPERATOR 1 pg_catalog.<,
	OPERATOR 2 pg_catalog.<=,
	OPERATOR 3 pg_catalog.=,
	OPERATOR 4 pg_catalog.>=,
	OPERATOR 5 pg_catalog.>,
	FUNCTION 1 orders.recharge_status_cmp(orders.recharge_status, orders.recharge_status);
CREATE OPERATOR CLASS orders.recharge_status_hash_ops DEFAULT FOR TYPE orders.recharge_status USING hash AS
	OPERATOR 1 pg_catalog.=,
	FUNCTION 1 orders.recharge_status_hash(orders.recharge_status),
	FUNCTION 2 orders.recharge_status_hash_extended(orders.recharge_status, bigint);

CREATE AGGREGATE pg_catalog.min(orders.recharge_status) (
	SFUNC = orders.recharge_status_smaller, STYPE = orders.recharge_status,
	COMBINEFUNC = orders.recharge_status_smaller, SORTOP = OPERATOR(pg_catalog.<), PARALLEL = SAFE);
CREATE AGGREGATE pg_catalog.max(orders.recharge_status) (
	SFUNC = orders.recharge_status_larger, STYPE = orders.recharge_status,
	COMBINEFUNC = orders.recharge_status_larger, SORTOP = OPERATOR(pg_catalog.>), PARALLEL = SAFE);

-- text -> type is implicit so that a text parameter ("status = $1") resolves
-- to the type's own = and can use its index; type -> text is an assignment
-- cast so that text comparisons never silently pick the type's ordering.
CREATE CAST (text AS orders.recharge_status) WITH INOUT AS IMPLICIT;
CREATE CAST (orders.recharge_status AS text) WITH INOUT AS ASSIGNMENT;
CREATE CAST (varchar AS orders.recharge_status) WITH INOUT AS IMPLICIT;

COMMENT ON FUNCTION orders.recharge_status_in(cstring) IS 'text input of orders.recharge_status: any case, aliases';
COMMENT ON FUNCTION orders.recharge_status_out(orders.recharge_status) IS 'text output of orders.recharge_status: canonical UPPERCASE';
COMMENT ON FUNCTION orders.recharge_status_recv(internal) IS 'binary input of orders.recharge_status (the label as text)';
COMMENT ON FUNCTION orders.recharge_status_send(orders.recharge_status) IS 'binary output of orders.recharge_status (the label as text)';
COMMENT ON FUNCTION orders.recharge_status_eq(orders.recharge_status, orders.recharge_status) IS 'equal';
COMMENT ON FUNCTION orders.recharge_status_ne(orders.recharge_status, orders.recharge_status) IS 'not equal';
COMMENT ON FUNCTION orders.recharge_status_lt(orders.recharge_status, orders.recharge_status) IS 'less than (label order)';
COMMENT ON FUNCTION orders.recharge_status_le(orders.recharge_status, orders.recharge_status) IS 'less than or equal (label order)';
COMMENT ON FUNCTION orders.recharge_status_gt(orders.recharge_status, orders.recharge_status) IS 'greater than (label order)';
COMMENT ON FUNCTION orders.recharge_status_ge(orders.recharge_status, orders.recharge_status) IS 'greater than or equal (label order)';
COMMENT ON FUNCTION orders.recharge_status_cmp(orders.recharge_status, orders.recharge_status) IS 'btree comparison support';
COMMENT ON FUNCTION orders.recharge_status_hash(orders.recharge_status) IS 'hash support';
COMMENT ON FUNCTION orders.recharge_status_hash_extended(orders.recharge_status, bigint) IS 'extended hash support';
COMMENT ON FUNCTION orders.recharge_status_smaller(orders.recharge_status, orders.recharge_status) IS 'the smaller of two values (for min)';
COMMENT ON FUNCTION orders.recharge_status_larger(orders.recharge_status, orders.recharge_status) IS 'the larger of two values (for max)';
COMMENT ON AGGREGATE pg_catalog.min(orders.recharge_status) IS 'the lowest value (label order)';
COMMENT ON AGGREGATE pg_catalog.max(orders.recharge_status) IS 'the highest value (label order)';
COMMENT ON OPERATOR pg_catalog.= (orders.recharge_status, orders.recharge_status) IS 'equal';
COMMENT ON OPERATOR pg_catalog.<> (orders.recharge_status, orders.recharge_status) IS 'not equal';
COMMENT ON OPERATOR pg_catalog.< (orders.recharge_status, orders.recharge_status) IS 'less than (label order)';
COMMENT ON OPERATOR pg_catalog.<= (orders.recharge_status, orders.recharge_status) IS 'less than or equal (label order)';
COMMENT ON OPERATOR pg_catalog.> (orders.recharge_status, orders.recharge_status) IS 'greater than (label order)';
COMMENT ON OPERATOR pg_catalog.>= (orders.recharge_status, orders.recharge_status) IS 'greater than or equal (label order)';

-- What each enum type is, in the words of the reference (001).
COMMENT ON TYPE orders.order_status IS
'primary order status: PLACED, PENDING, PROCESSING, DELIVERED, PARTIALLY_DELIVERED, CANCELLED, FAILED';
COMMENT ON TYPE orders.order_sub_status IS
'detailed order sub-status; new labels are appended over time';
COMMENT ON TYPE orders.delivery_time IS
'how fast a voucher is expected: INSTANT (alias REALTIME) or DELAYED';
COMMENT ON TYPE orders.delivery_type IS
'delivery format of a voucher: CODE_WITH_PIN or URL';
COMMENT ON TYPE orders.delivery_mode IS
'where a voucher is redeemed: ONLINE, OFFLINE, ONLINE_OR_OFFLINE, NA';
COMMENT ON TYPE orders.classification IS
'redemption scope: OPEN_LOOP, CLOSED_LOOP, SEMI_OPEN, SEMI_CLOSE';
COMMENT ON TYPE orders.link_type IS
'access model of a redemption URL: PUBLIC or PROTECTED';
COMMENT ON TYPE orders.inventory_status IS
'state of one voucher unit: AVAILABLE, ALLOCATED, DELIVERED, COMPLETED, BLOCKED, REVOKED';
COMMENT ON TYPE orders.recharge_status IS
'state of a mobile recharge: PENDING, DELIVERED, RECHARGED, FAILED, CANCELLED';

CREATE FUNCTION orders.labels(regtype) RETURNS SETOF text
	AS 'MODULE_PATHNAME', 'enum_labels' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.labels(regtype) IS
'the canonical labels of an enum type of orders, in sort order';

-- The entities that carry a status.  Every client-owned table leads with
-- client_id, so clients shard cleanly (docs/design.md).  Status columns are
-- guarded by orders.lifecycle_guard (schema/30_lifecycle.sql).

CREATE TABLE orders.clients (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
	created_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE orders.clients IS 'API clients: the owners of orders and wallets';

CREATE TABLE orders.products (
	id			bigint PRIMARY KEY CHECK (id > 0),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	currency	char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
	delivery_type orders.delivery_type NOT NULL DEFAULT 'CODE_WITH_PIN',
	-- the catalog (schema/50_catalog.sql, docs/orders.md)
	kind		text NOT NULL DEFAULT 'GIFT_CARD' CHECK (kind IN ('GIFT_CARD', 'TOPUP')),
	-- denominations: a fixed list, or a range min..max in steps of step
	-- from min; neither means the product is not orderable yet
	denominations numeric(14, 2)[] CHECK (0 < ALL (denominations)),
	min_denomination numeric(14, 2) CHECK (min_denomination > 0),
	max_denomination numeric(14, 2),
	denomination_step numeric(14, 2) CHECK (denomination_step > 0),
	delivery_mode orders.delivery_mode NOT NULL DEFAULT 'ONLINE',
	classification orders.classification NOT NULL DEFAULT 'CLOSED_LOOP',
	link_type	orders.link_type,
	order_quantity_limit integer NOT NULL DEFAULT 1 CHECK (order_quantity_limit BETWEEN 1 AND 10000),
	discount_percent numeric(5, 2) NOT NULL DEFAULT 0 CHECK (discount_percent >= 0 AND discount_percent < 100),
	vendor_logo text NOT NULL DEFAULT '',
	active		boolean NOT NULL DEFAULT true,
	CHECK (denominations IS NULL OR min_denomination IS NULL),
	CHECK ((min_denomination IS NULL) = (max_denomination IS NULL)
		   AND (min_denomination IS NULL) = (denomination_step IS NULL)),
	CHECK (max_denomination >= min_denomination)
);
COMMENT ON TABLE orders.products IS 'the catalog of products that can be ordered';

CREATE TABLE orders.orders (
	client_id	bigint NOT NULL REFERENCES orders.clients,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	po_number	text NOT NULL CHECK (length(po_number) BETWEEN 1 AND 100),
	product_id	bigint NOT NULL REFERENCES orders.products,
	denomination numeric(14, 2) NOT NULL CHECK (denomination > 0),
	quantity	integer NOT NULL CHECK (quantity > 0),
	status		orders.order_status NOT NULL DEFAULT 'PLACED',
	sub_status	orders.order_sub_status NOT NULL DEFAULT 'INITIAL',
	placed_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	-- client_seq defaults to the id (a trigger, schema/54_order_listing.sql);
	-- the rest is set by orders.create_order (schema/53_order_create.sql) and
	-- nullable, so that tests of other concerns can insert bare orders
	client_seq	bigint NOT NULL,	-- the place in the client's list: increasing, gaps allowed
	reference_code text NOT NULL UNIQUE
		DEFAULT 'ORD-' || upper(substr(md5(gen_random_uuid()::text), 1, 16)),
	request_fingerprint bytea,		-- sha256 of the normalized request
	email		text,
	tag			text,
	notify_receiver_email boolean NOT NULL DEFAULT false,
	notify_admin_email boolean NOT NULL DEFAULT false,
	mobile_country_code text,
	mobile_number text,
	charge_currency char(3),		-- the wallet debited
	currency_value numeric(20, 10),	-- product currency -> charge currency
	discount_percent numeric(5, 2),
	raw_order_total numeric,
	order_total numeric(14, 2),
	raw_order_discount numeric,
	order_discount numeric(14, 2),
	amount_charged numeric(14, 2),
	transaction_id bigint,			-- the DEBIT ledger entry
	UNIQUE (client_id, po_number),
	UNIQUE (client_id, client_seq)
);
COMMENT ON TABLE orders.orders IS 'orders; (client_id, po_number) is the idempotency key';

CREATE TABLE orders.inventory_units (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	product_id	bigint NOT NULL REFERENCES orders.products,
	denomination numeric(14, 2) NOT NULL CHECK (denomination > 0),
	status		orders.inventory_status NOT NULL DEFAULT 'AVAILABLE',
	expires_at	timestamptz NOT NULL,
	-- written and read only through the vault (src/vault*.c): ciphertexts
	-- bound to this row and field; no plaintext column exists.
	card_number_enc bytea,
	pin_code_enc bytea,
	claim_url_enc bytea,
	reference_enc bytea,
	-- keyed HMAC of the card number (of the claim URL for URL-only units),
	-- to refuse a code loaded twice without storing it; and the vault key
	-- the row's values are under (NULL: no values), for rotation.
	fingerprint	bytea,
	key_id		integer,
	loaded_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE orders.inventory_units IS 'voucher units, one row a voucher, codes encrypted';

CREATE TABLE orders.order_items (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_id	bigint NOT NULL REFERENCES orders.orders,
	status		orders.order_status NOT NULL DEFAULT 'PENDING',
	-- unique: a unit is linked to at most one item, so no double sale
	unit_id		bigint UNIQUE REFERENCES orders.inventory_units,
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON orders.order_items (order_id);
COMMENT ON TABLE orders.order_items IS 'one row per unit of an order''s quantity';

CREATE TABLE orders.recharges (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_item_id bigint NOT NULL UNIQUE REFERENCES orders.order_items,
	status		orders.recharge_status NOT NULL DEFAULT 'PENDING',
	-- the operator's id of the recharge, from its submission on (fulfilment)
	operator_reference text,
	detail		text,
	updated_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE orders.recharges IS 'mobile top-up recharges, one per top-up item';

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

-- The voucher vault (docs/vault.md): AES-256-GCM in C (src/vault*.c) under
-- keys read from an external key file (orders.vault_key_file).
--
-- These primitives are executable by the extension's owner only (nothing is
-- granted): roles reach the vault through orders.load_inventory,
-- orders.reveal_vouchers and orders.vault_rotate, which decide who may see
-- what.  The schema's default privileges do not take EXECUTE from PUBLIC
-- (per-schema defaults can only add to the global ones), so each function is
-- revoked from PUBLIC explicitly.

CREATE FUNCTION orders.vault_encrypt(p_plaintext text, p_row_id bigint, p_field text)
RETURNS bytea
	AS 'MODULE_PATHNAME', 'vault_encrypt' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION orders.vault_encrypt(text, bigint, text) IS
'AES-256-GCM ciphertext of a value under the newest vault key, bound to its row id and field name (owner only)';

CREATE FUNCTION orders.vault_decrypt(p_ciphertext bytea, p_row_id bigint, p_field text)
RETURNS text
	AS 'MODULE_PATHNAME', 'vault_decrypt' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.vault_decrypt(bytea, bigint, text) IS
'plaintext of a vault ciphertext of that row and field; an error if it was altered, moved or its key is wrong or missing (owner only)';

CREATE FUNCTION orders.vault_reencrypt(p_ciphertext bytea, p_row_id bigint, p_field text)
RETURNS bytea
	AS 'MODULE_PATHNAME', 'vault_reencrypt' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION orders.vault_reencrypt(bytea, bigint, text) IS
'the ciphertext under the newest vault key (unchanged if it already is); the plaintext never leaves C (owner only)';

CREATE FUNCTION orders.vault_fingerprints(p_value text, p_field text)
RETURNS bytea[]
	AS 'MODULE_PATHNAME', 'vault_fingerprints' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.vault_fingerprints(text, text) IS
'keyed HMAC-SHA256 fingerprints of a value under every vault key, newest first (owner only)';

CREATE FUNCTION orders.vault_fingerprint_of(p_ciphertext bytea, p_row_id bigint, p_field text)
RETURNS bytea
	AS 'MODULE_PATHNAME', 'vault_fingerprint_of' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.vault_fingerprint_of(bytea, bigint, text) IS
'fingerprint under the newest vault key of the value a ciphertext holds, computed in C (owner only)';

CREATE FUNCTION orders.vault_key_id(p_ciphertext bytea)
RETURNS integer
	AS 'MODULE_PATHNAME', 'vault_key_id' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.vault_key_id(bytea) IS
'id of the vault key a ciphertext or fingerprint is under (read from its header; owner only)';

CREATE FUNCTION orders.vault_keys(OUT key_id integer, OUT newest boolean)
RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'vault_keys' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION orders.vault_keys() IS
'ids of the keys of the vault key ring (never the keys); newest is the one that encrypts (owner only)';

CREATE FUNCTION orders.calling_role() RETURNS text
	AS 'MODULE_PATHNAME', 'calling_role' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.calling_role() IS
'the role that issued the statement (not the owner of a SECURITY DEFINER function it runs in), for audit rows';

REVOKE EXECUTE ON FUNCTION
	orders.vault_encrypt(text, bigint, text),
	orders.vault_decrypt(bytea, bigint, text),
	orders.vault_reencrypt(bytea, bigint, text),
	orders.vault_fingerprints(text, text),
	orders.vault_fingerprint_of(bytea, bigint, text),
	orders.vault_key_id(bytea),
	orders.vault_keys(),
	orders.calling_role()
FROM PUBLIC;

-- A code loaded twice for a product is refused by the fingerprint (under the
-- newest key; orders.load_inventory also checks older keys' fingerprints).
CREATE UNIQUE INDEX inventory_units_fingerprint_key
	ON orders.inventory_units (product_id, fingerprint);
-- Rotation walks the rows under older keys.
CREATE INDEX inventory_units_key_id ON orders.inventory_units (key_id);

-- Loading voucher units into inventory, encrypted on the way in (the vault,
-- docs/vault.md).  Three entry points share one implementation:
--   orders.load_inventory(orders.voucher_input[])   a set of typed rows
--   orders.load_inventory(jsonb)                    a JSON array of objects
--   orders.load_inventory(product, denomination, expires_at, codes...)  one unit
-- for orders_admin and orders_vendor.  A batch is loaded whole or not at all;
-- errors name the entry and the field, never a value.  The functions set
-- log_min_error_statement = panic so a failing call's statement (which may
-- hold codes as literals) is not written to the server log.

CREATE TYPE orders.voucher_input AS (
	product_id	bigint,
	denomination numeric,
	expires_at	timestamptz,
	card_number	text,
	pin_code	text,
	claim_url	text,
	voucher_reference_number text
);
COMMENT ON TYPE orders.voucher_input IS
'one voucher unit to load: product, denomination, expiry and its codes in plaintext (encrypted by orders.load_inventory)';

-- The helpers below are plain SQL functions without SET clauses so that the
-- planner inlines them into load_inventory's set-based queries (one call
-- per unit would cost more than the encryption); everything in them is
-- schema-qualified or in pg_catalog, and only the owner may execute them.

-- What is wrong with one text field of a unit, or NULL.
CREATE FUNCTION orders.voucher_text_problem(p_name text, p_value text, p_max_bytes integer)
RETURNS text
LANGUAGE sql STABLE
AS $$
	SELECT CASE
		WHEN p_value = '' THEN p_name || ' is empty (omit it or pass null)'
		WHEN p_value ~ '^\s|\s$' THEN p_name || ' has leading or trailing white space'
		WHEN octet_length(p_value) > p_max_bytes THEN
			p_name || ' is longer than ' || p_max_bytes || ' bytes'
	END
$$;
COMMENT ON FUNCTION orders.voucher_text_problem(text, text, integer) IS
'what is wrong with one code field of a unit to load, or NULL; names the field, never the value';

-- What is wrong with one entry of a batch (its product row joined), or NULL.
CREATE FUNCTION orders.voucher_input_problem(u orders.voucher_input, p orders.products)
RETURNS text
LANGUAGE sql STABLE
AS $$
	SELECT CASE
		WHEN u.product_id IS NULL THEN 'product_id is missing'
		WHEN p.id IS NULL THEN 'product ' || u.product_id || ' does not exist'
		WHEN u.denomination IS NULL THEN 'denomination is missing'
		WHEN NOT (u.denomination > 0 AND u.denomination < 1e12) THEN
			'denomination must be greater than 0 and less than 10^12'
		WHEN u.denomination <> round(u.denomination, 2) THEN 'denomination has more than 2 decimals'
		WHEN u.expires_at IS NULL THEN 'expires_at is missing'
		WHEN p.delivery_type = 'CODE_WITH_PIN' AND u.card_number IS NULL THEN
			'card_number is required: the product is delivered as CODE_WITH_PIN'
		WHEN p.delivery_type = 'URL' AND u.claim_url IS NULL THEN
			'claim_url is required: the product is delivered as URL'
		ELSE coalesce(orders.voucher_text_problem('card_number', u.card_number, 256),
					  orders.voucher_text_problem('pin_code', u.pin_code, 64),
					  orders.voucher_text_problem('claim_url', u.claim_url, 2048),
					  orders.voucher_text_problem('voucher_reference_number',
												  u.voucher_reference_number, 256))
	END
$$;
COMMENT ON FUNCTION orders.voucher_input_problem(orders.voucher_input, orders.products) IS
'what is wrong with a unit to load (its product row joined), or NULL; names fields, never values';

CREATE FUNCTION orders.load_inventory(p_units orders.voucher_input[])
RETURNS TABLE (entry integer, unit_id bigint, status orders.inventory_status)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
-- the duplicate checks hash a batch's fingerprints: keep them in memory
SET work_mem = '64MB'
AS $$
#variable_conflict use_column
DECLARE
	max_batch CONSTANT integer := 1000000;
	v_key_id integer;
	v_entry bigint;
	v_problem text;
BEGIN
	IF coalesce(cardinality(p_units), 0) = 0 THEN
		RAISE EXCEPTION 'inventory batch is empty' USING ERRCODE = '22023';
	END IF;
	IF cardinality(p_units) > max_batch THEN
		RAISE EXCEPTION 'inventory batch has % entries; at most % are loaded at once',
			cardinality(p_units), max_batch USING ERRCODE = '54000';
	END IF;

	-- The key first: without one, nothing is checked and nothing written.
	SELECT k.key_id INTO v_key_id FROM orders.vault_keys() k WHERE k.newest;

	SELECT q.ord, q.problem INTO v_entry, v_problem
	FROM (SELECT u.ordinality AS ord,
				 orders.voucher_input_problem(
					ROW(u.product_id, u.denomination, u.expires_at, u.card_number,
						u.pin_code, u.claim_url, u.voucher_reference_number)::orders.voucher_input,
					p) AS problem
		  FROM unnest(p_units) WITH ORDINALITY AS u
		  LEFT JOIN orders.products p ON p.id = u.product_id) q
	WHERE q.problem IS NOT NULL
	ORDER BY q.ord LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'inventory batch entry %: %', v_entry, v_problem
			USING ERRCODE = '22023', HINT = 'Nothing was loaded.';
	END IF;

	-- A code already loaded for the product, in this batch or before (under
	-- any key of the ring: rows not rotated yet carry an older fingerprint).
	WITH prints AS MATERIALIZED (
		SELECT u.ordinality AS ord, u.product_id,
			   orders.vault_fingerprints(coalesce(u.card_number, u.claim_url),
										 CASE WHEN u.card_number IS NULL
										 THEN 'claim_url' ELSE 'card_number' END) AS fps
		FROM unnest(p_units) WITH ORDINALITY AS u
	)
	SELECT d.ord, d.problem INTO v_entry, v_problem
	FROM (
		SELECT b.ord, format('its code is the code of entry %s', min(a.ord)) AS problem
		FROM prints a JOIN prints b
			ON a.product_id = b.product_id AND a.fps[1] = b.fps[1] AND a.ord < b.ord
		GROUP BY b.ord
		UNION ALL
		-- one row per (entry, fingerprint), joined on both columns of the
		-- unique index: linear whatever the plan (a fingerprint computed
		-- inside the join would leave product_id alone as the index key)
		SELECT n.ord, 'its code is already loaded for this product'
		FROM (SELECT p.ord, p.product_id, unnest(p.fps) AS fp FROM prints p) n
		JOIN orders.inventory_units i
			ON i.product_id = n.product_id AND i.fingerprint = n.fp
	) d
	ORDER BY d.ord LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'inventory batch entry %: %', v_entry, v_problem
			USING ERRCODE = '23505', HINT = 'Nothing was loaded.';
	END IF;

	-- Ids first: each value is bound to its row id when it is encrypted.
	-- nextval runs after the ORDER BY (volatile output expressions are
	-- evaluated in sorted order), so ids ascend with the entries and an
	-- entry's number is its id's rank.
	BEGIN
		RETURN QUERY
		WITH staged AS MATERIALIZED (
			SELECT nextval('orders.inventory_units_id_seq'::regclass) AS id, u.*
			FROM unnest(p_units) WITH ORDINALITY AS u
			ORDER BY u.ordinality
		), loaded AS (
			INSERT INTO orders.inventory_units AS t
				(id, product_id, denomination, status, expires_at,
				 card_number_enc, pin_code_enc, claim_url_enc, reference_enc,
				 fingerprint, key_id)
			OVERRIDING SYSTEM VALUE
			SELECT s.id, s.product_id, s.denomination,
				   -- a unit loaded already expired never joins the pool
				   CASE WHEN s.expires_at <= now() THEN 'BLOCKED' ELSE 'AVAILABLE' END,
				   s.expires_at,
				   orders.vault_encrypt(s.card_number, s.id, 'card_number'),
				   orders.vault_encrypt(s.pin_code, s.id, 'pin_code'),
				   orders.vault_encrypt(s.claim_url, s.id, 'claim_url'),
				   orders.vault_encrypt(s.voucher_reference_number, s.id, 'voucher_reference_number'),
				   (orders.vault_fingerprints(coalesce(s.card_number, s.claim_url),
											  CASE WHEN s.card_number IS NULL
											  THEN 'claim_url' ELSE 'card_number' END))[1],
				   v_key_id
			FROM staged s
			RETURNING t.id, t.status
		)
		SELECT (row_number() OVER (ORDER BY l.id))::integer, l.id, l.status
		FROM loaded l
		ORDER BY l.id;
	EXCEPTION WHEN unique_violation THEN
		-- a concurrent load of the same code won the race; the constraint's
		-- message would show the fingerprint, so say it in our words
		RAISE EXCEPTION 'inventory batch: a code of this batch was loaded concurrently for the same product'
			USING ERRCODE = '23505', HINT = 'Nothing was loaded; load the batch again to see which entry.';
	END;
END
$$;
COMMENT ON FUNCTION orders.load_inventory(orders.voucher_input[]) IS
'loads voucher units, encrypting their codes; all or nothing; returns each entry''s unit id and status (BLOCKED if already expired)';

-- The typed value of one JSON entry (casts may fail: the caller catches).
CREATE FUNCTION orders.voucher_input_of_json(u jsonb) RETURNS orders.voucher_input
LANGUAGE sql STABLE
AS $$
	SELECT ROW((u->>'product_id')::bigint, (u->>'denomination')::numeric,
			   (u->>'expires_at')::timestamptz, u->>'card_number', u->>'pin_code',
			   u->>'claim_url', u->>'voucher_reference_number')::orders.voucher_input
$$;
COMMENT ON FUNCTION orders.voucher_input_of_json(jsonb) IS
'one JSON entry of an inventory batch as an orders.voucher_input (casts may raise data exceptions)';

-- What is wrong with the shape of one JSON entry, or NULL.
CREATE FUNCTION orders.voucher_json_problem(u jsonb) RETURNS text
LANGUAGE sql STABLE
AS $$
	SELECT CASE
		WHEN jsonb_typeof(u) <> 'object' THEN 'is not a JSON object'
		WHEN u - ARRAY['product_id', 'denomination', 'expires_at', 'card_number', 'pin_code',
					   'claim_url', 'voucher_reference_number'] <> '{}'::jsonb THEN
			'has a field that is not one of product_id, denomination, expires_at, '
			'card_number, pin_code, claim_url, voucher_reference_number'
		WHEN jsonb_typeof(u->'product_id') NOT IN ('number', 'null') THEN
			'product_id must be a JSON number'
		WHEN jsonb_typeof(u->'denomination') NOT IN ('number', 'string', 'null') THEN
			'denomination must be a JSON number or string'
		WHEN jsonb_typeof(u->'expires_at') NOT IN ('string', 'null') THEN
			'expires_at must be a JSON string'
		WHEN u->>'expires_at' !~ '(Z|z|[+-]\d\d(:?\d\d)?)$' THEN
			'expires_at must be an RFC 3339 time with a time zone offset (e.g. 2030-12-31T23:59:59Z)'
		WHEN jsonb_typeof(u->'card_number') NOT IN ('string', 'null') THEN
			'card_number must be a JSON string'
		WHEN jsonb_typeof(u->'pin_code') NOT IN ('string', 'null') THEN
			'pin_code must be a JSON string'
		WHEN jsonb_typeof(u->'claim_url') NOT IN ('string', 'null') THEN
			'claim_url must be a JSON string'
		WHEN jsonb_typeof(u->'voucher_reference_number') NOT IN ('string', 'null') THEN
			'voucher_reference_number must be a JSON string'
	END
$$;
COMMENT ON FUNCTION orders.voucher_json_problem(jsonb) IS
'what is wrong with the shape of one JSON entry of an inventory batch, or NULL; names fields, never values';

CREATE FUNCTION orders.load_inventory(p_units jsonb)
RETURNS TABLE (entry integer, unit_id bigint, status orders.inventory_status)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
DECLARE
	v_entry bigint;
	v_problem text;
	v_unit jsonb;
	v_field text;
	v_units orders.voucher_input[];
BEGIN
	IF jsonb_typeof(p_units) IS DISTINCT FROM 'array' THEN
		RAISE EXCEPTION 'inventory batch must be a JSON array of objects' USING ERRCODE = '22023';
	END IF;
	SELECT q.ord, q.problem INTO v_entry, v_problem
	FROM (SELECT e.ord, orders.voucher_json_problem(e.u) AS problem
		  FROM jsonb_array_elements(p_units) WITH ORDINALITY AS e(u, ord)) q
	WHERE q.problem IS NOT NULL
	ORDER BY q.ord LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'inventory batch entry %: %', v_entry, v_problem
			USING ERRCODE = '22023', HINT = 'Nothing was loaded.';
	END IF;

	BEGIN
		SELECT array_agg(orders.voucher_input_of_json(e.u) ORDER BY e.ord) INTO v_units
		FROM jsonb_array_elements(p_units) WITH ORDINALITY AS e(u, ord);
	EXCEPTION WHEN data_exception THEN
		-- the cast's message quotes the value: find the entry and field instead
		FOR v_entry, v_unit IN
			SELECT e.ord, e.u FROM jsonb_array_elements(p_units) WITH ORDINALITY AS e(u, ord)
			ORDER BY e.ord
		LOOP
			FOREACH v_field IN ARRAY ARRAY['product_id', 'denomination', 'expires_at'] LOOP
				BEGIN
					PERFORM orders.voucher_input_of_json(jsonb_build_object(v_field, v_unit->v_field));
				EXCEPTION WHEN data_exception THEN
					RAISE EXCEPTION 'inventory batch entry %: % is not a valid %', v_entry, v_field,
						CASE v_field WHEN 'product_id' THEN 'bigint'
									 WHEN 'denomination' THEN 'number'
									 ELSE 'time' END
						USING ERRCODE = '22023', HINT = 'Nothing was loaded.';
				END;
			END LOOP;
		END LOOP;
		RAISE EXCEPTION 'inventory batch: an entry could not be converted'
			USING ERRCODE = '22023', HINT = 'Nothing was loaded.';
	END;
	RETURN QUERY SELECT * FROM orders.load_inventory(v_units);
END
$$;
COMMENT ON FUNCTION orders.load_inventory(jsonb) IS
'loads voucher units from a JSON array of {product_id, denomination, expires_at, card_number, pin_code, claim_url, voucher_reference_number}; all or nothing';

CREATE FUNCTION orders.load_inventory(
	p_product_id bigint, p_denomination numeric, p_expires_at timestamptz,
	p_card_number text DEFAULT NULL, p_pin_code text DEFAULT NULL,
	p_claim_url text DEFAULT NULL, p_voucher_reference_number text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
	SELECT l.unit_id
	FROM orders.load_inventory(ARRAY[ROW(p_product_id, p_denomination, p_expires_at,
										 p_card_number, p_pin_code, p_claim_url,
										 p_voucher_reference_number)::orders.voucher_input]) AS l
$$;
COMMENT ON FUNCTION orders.load_inventory(bigint, numeric, timestamptz, text, text, text, text) IS
'loads one voucher unit, encrypting its codes; returns its id';

REVOKE EXECUTE ON FUNCTION
	orders.voucher_text_problem(text, text, integer),
	orders.voucher_input_problem(orders.voucher_input, orders.products),
	orders.load_inventory(orders.voucher_input[]),
	orders.voucher_input_of_json(jsonb),
	orders.voucher_json_problem(jsonb),
	orders.load_inventory(jsonb),
	orders.load_inventory(bigint, numeric, timestamptz, text, text, text, text)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	orders.load_inventory(orders.voucher_input[]),
	orders.load_inventory(jsonb),
	orders.load_inventory(bigint, numeric, timestamptz, text, text, text, text)
TO orders_admin, orders_vendor;

-- Reveal: the one read path that decrypts vouchers (docs/vault.md).  Only an
-- order's own client, only DELIVERED items of a DELIVERED or
-- PARTIALLY_DELIVERED order; anything else is an empty array (never an
-- error that would tell an order exists).  Every revealed item has a row in
-- orders.voucher_reveals, committed by the reveal audit worker before the
-- first decryption: so the reveal works in a READ ONLY transaction, and its
-- audit stands even if the caller's transaction rolls back.

CREATE TABLE orders.voucher_reveals (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_id	bigint NOT NULL,
	order_item_id bigint NOT NULL,
	unit_id		bigint NOT NULL,
	revealed_at timestamptz NOT NULL DEFAULT now(),
	revealed_by text NOT NULL
);
CREATE INDEX ON orders.voucher_reveals (client_id, order_id);
COMMENT ON TABLE orders.voucher_reveals IS
'append-only audit of every voucher reveal: client, order, item, unit, when, by which role';

SELECT orders.make_append_only('orders.voucher_reveals');

-- Hands the audit records to the worker and returns once they are committed
-- (src/reveal_audit.c); raises OR303 when they cannot be.  Owner only.
CREATE FUNCTION orders.vault_audit_reveal(p_client_id bigint, p_order_id bigint,
										  p_item_ids bigint[], p_unit_ids bigint[])
RETURNS void
AS 'MODULE_PATHNAME', 'vault_audit_reveal' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orders.vault_audit_reveal(bigint, bigint, bigint[], bigint[]) IS
'commits, through the reveal audit worker, one orders.voucher_reveals row per item (by the calling role) and returns only then; OR303 when it cannot';
REVOKE EXECUTE ON FUNCTION orders.vault_audit_reveal(bigint, bigint, bigint[], bigint[]) FROM PUBLIC;

CREATE FUNCTION orders.reveal_vouchers(p_client_id bigint, p_order_id bigint)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, orders
AS $$
DECLARE
	v_items bigint[];
	v_units bigint[];
	v_expires timestamptz[];
	v_cards bytea[];
	v_pins bytea[];
	v_urls bytea[];
	v_refs bytea[];
BEGIN
	-- One read of what is revealed: what is audited is what is decrypted.
	SELECT array_agg(i.id ORDER BY i.id), array_agg(u.id ORDER BY i.id),
		   array_agg(u.expires_at ORDER BY i.id), array_agg(u.card_number_enc ORDER BY i.id),
		   array_agg(u.pin_code_enc ORDER BY i.id), array_agg(u.claim_url_enc ORDER BY i.id),
		   array_agg(u.reference_enc ORDER BY i.id)
	INTO v_items, v_units, v_expires, v_cards, v_pins, v_urls, v_refs
	FROM orders.orders o
	JOIN orders.order_items i ON i.order_id = o.id
	JOIN orders.inventory_units u ON u.id = i.unit_id
	WHERE o.id = p_order_id AND o.client_id = p_client_id
	  AND o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED')
	  AND i.client_id = p_client_id AND i.status = 'DELIVERED';
	IF v_items IS NULL THEN
		RETURN '[]';
	END IF;
	-- Committed before anything is decrypted; an error here reveals nothing.
	PERFORM orders.vault_audit_reveal(p_client_id, p_order_id, v_items, v_units);
	RETURN (
		SELECT jsonb_agg(jsonb_build_object(
				'card_number', orders.vault_decrypt(r.card, r.unit_id, 'card_number'),
				'pin_code', orders.vault_decrypt(r.pin, r.unit_id, 'pin_code'),
				'claim_url', orders.vault_decrypt(r.url, r.unit_id, 'claim_url'),
				'voucher_reference_number',
					orders.vault_decrypt(r.ref, r.unit_id, 'voucher_reference_number'),
				'expires_at', orders.rfc3339(r.expires_at))
				ORDER BY r.item_id)
		FROM unnest(v_items, v_units, v_expires, v_cards, v_pins, v_urls, v_refs)
			AS r(item_id, unit_id, expires_at, card, pin, url, ref));
END
$$;
COMMENT ON FUNCTION orders.reveal_vouchers(bigint, bigint) IS
'decrypted vouchers of the DELIVERED items of a client''s DELIVERED / PARTIALLY_DELIVERED order, [] otherwise; each audited (committed by the reveal audit worker) before it is decrypted';

-- Not granted to any role: the read paths (orders.order_details, the api
-- schema) call it as the extension's owner, with the client they derived.
REVOKE EXECUTE ON FUNCTION orders.reveal_vouchers(bigint, bigint) FROM PUBLIC;

-- Key rotation (docs/vault.md#rotation): after a new key is added to the key
-- file (and the configuration reloaded), it encrypts every new value;
-- orders.vault_rotate re-encrypts the rows still under older keys, one batch
-- per call, online (rows locked by others are skipped and picked up by a
-- later call) and resumable (the state is the rows' key_id).  Once
-- orders.vault_key_usage() shows no unit under an old key, the key can be
-- removed from the file.

CREATE FUNCTION orders.vault_rotate(p_batch_size integer DEFAULT 1000)
RETURNS TABLE (rotated integer, remaining bigint, newest_key_id integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, orders
AS $$
#variable_conflict use_column
DECLARE
	v_newest integer;
	v_rotated integer;
BEGIN
	IF p_batch_size IS NULL OR p_batch_size NOT BETWEEN 1 AND 100000 THEN
		RAISE EXCEPTION 'batch size must be between 1 and 100000' USING ERRCODE = '22023';
	END IF;
	SELECT k.key_id INTO v_newest FROM orders.vault_keys() k WHERE k.newest;

	-- The fingerprint is recomputed from the old ciphertext (the SET
	-- expressions see the row before the update).
	WITH batch AS (
		SELECT u.id FROM orders.inventory_units u
		WHERE u.key_id < v_newest
		ORDER BY u.key_id
		LIMIT p_batch_size
		FOR UPDATE SKIP LOCKED
	)
	UPDATE orders.inventory_units u SET
		card_number_enc = orders.vault_reencrypt(u.card_number_enc, u.id, 'card_number'),
		pin_code_enc = orders.vault_reencrypt(u.pin_code_enc, u.id, 'pin_code'),
		claim_url_enc = orders.vault_reencrypt(u.claim_url_enc, u.id, 'claim_url'),
		reference_enc = orders.vault_reencrypt(u.reference_enc, u.id, 'voucher_reference_number'),
		fingerprint = CASE
			WHEN u.card_number_enc IS NOT NULL THEN
				orders.vault_fingerprint_of(u.card_number_enc, u.id, 'card_number')
			WHEN u.claim_url_enc IS NOT NULL THEN
				orders.vault_fingerprint_of(u.claim_url_enc, u.id, 'claim_url')
		END,
		key_id = v_newest
	FROM batch
	WHERE u.id = batch.id;
	GET DIAGNOSTICS v_rotated = ROW_COUNT;

	rotated := v_rotated;
	remaining := (SELECT count(*) FROM orders.inventory_units u WHERE u.key_id < v_newest);
	newest_key_id := v_newest;
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION orders.vault_rotate(integer) IS
're-encrypts one batch of units under older vault keys with the newest key; returns how many, how many remain, and the newest key id';

CREATE PROCEDURE orders.vault_rotate_all(p_batch_size integer DEFAULT 1000)
LANGUAGE plpgsql
-- No SET clause and not SECURITY DEFINER: both forbid the COMMIT between
-- batches.  It runs with the caller's rights and calls only qualified names.
AS $$
DECLARE
	r record;
BEGIN
	LOOP
		SELECT * INTO STRICT r FROM orders.vault_rotate(p_batch_size);
		COMMIT;
		RAISE NOTICE 'vault rotation: % units re-encrypted under key %, % remain',
			r.rotated, r.newest_key_id, r.remaining;
		EXIT WHEN r.remaining = 0;
		IF r.rotated = 0 THEN
			RAISE WARNING 'vault rotation: the % remaining units are locked by other transactions', r.remaining
				USING HINT = 'Call orders.vault_rotate_all() again later; rotation resumes where it stopped.';
			EXIT;
		END IF;
	END LOOP;
END
$$;
COMMENT ON PROCEDURE orders.vault_rotate_all(integer) IS
'rotates every unit to the newest vault key, committing after each batch and reporting progress; resumable';

CREATE FUNCTION orders.vault_key_usage()
RETURNS TABLE (key_id integer, units bigint, in_key_ring boolean, newest boolean)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, orders
AS $$
	SELECT coalesce(u.key_id, k.key_id), coalesce(u.units, 0),
		   k.key_id IS NOT NULL, coalesce(k.newest, false)
	FROM (SELECT i.key_id, count(*) AS units FROM orders.inventory_units i
		  WHERE i.key_id IS NOT NULL GROUP BY i.key_id) u
	FULL JOIN orders.vault_keys() k ON k.key_id = u.key_id
	ORDER BY 1
$$;
COMMENT ON FUNCTION orders.vault_key_usage() IS
'for each vault key id in use or in the key ring: how many units are under it; a key with 0 units can leave the key file';

REVOKE EXECUTE ON FUNCTION orders.vault_rotate(integer), orders.vault_key_usage() FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE orders.vault_rotate_all(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orders.vault_rotate(integer), orders.vault_key_usage() TO orders_admin;
GRANT EXECUTE ON PROCEDURE orders.vault_rotate_all(integer) TO orders_admin;

-- Log hygiene for the roles that handle voucher codes (docs/vault.md#logs).
-- What protects a code from the server log:
--   1. bind parameters: a code sent as a parameter is not in the statement
--      text, and parameters are logged only through the settings below;
--   2. errors that never quote values (the vault's and load_inventory's);
--   3. settings on the login roles that load or read codes: no statement
--      logging, no statement or parameters on error, and their errors not
--      logged at all: built-in errors quote input (a code passed where a
--      number is expected: invalid input syntax for type numeric: "<code>";
--      malformed JSON: DETAIL and CONTEXT quote the text).  The client still
--      gets every error; terse verbosity stays as a second line of defence
--      should an operator lower log_min_messages;
--   4. load_inventory itself sets log_min_error_statement = panic for the
--      errors raised inside it, whoever calls it.
-- Role settings apply to sessions that log in as that role: membership in
-- orders_vendor does not carry them, so apply orders.quiet_logging() to each
-- login role that loads codes.

CREATE FUNCTION orders.quiet_logging(p_role regrole) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
	s record;
BEGIN
	FOR s IN SELECT * FROM (VALUES
			('log_statement', 'none'),
			('log_min_duration_statement', '-1'),
			('log_min_duration_sample', '-1'),
			('log_transaction_sample_rate', '0'),
			('log_min_error_statement', 'panic'),
			('log_parameter_max_length', '0'),
			('log_parameter_max_length_on_error', '0'),
			('log_error_verbosity', 'terse'),
			('log_min_messages', 'fatal')) AS v(name, value)
	LOOP
		EXECUTE format('ALTER ROLE %s SET %I = %L', p_role, s.name, s.value);
	END LOOP;
END
$$;
COMMENT ON FUNCTION orders.quiet_logging(regrole) IS
'sets on a login role the settings that keep statements, parameters and error details of its sessions out of the server log';
REVOKE EXECUTE ON FUNCTION orders.quiet_logging(regrole) FROM PUBLIC;

SELECT orders.quiet_logging('orders_admin');
SELECT orders.quiet_logging('orders_vendor');

-- The catalog: currencies, exchange rates, per-client discounts, and the
-- rules a product imposes on an order (denominations, quantity limit), with
-- the live delivery_time.  The product columns are in
-- schema/20_core_tables.sql; docs/orders.md explains them.

CREATE TABLE orders.currencies (
	code		char(3) PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
	-- ISO 4217 minor unit: amounts are rounded to it.  At most 2, since
	-- every API amount is a string with 2 decimals.
	minor_unit	smallint NOT NULL CHECK (minor_unit BETWEEN 0 AND 2)
);
COMMENT ON TABLE orders.currencies IS
'ISO 4217 currencies the engine knows, with the minor unit amounts are rounded to';

INSERT INTO orders.currencies (code, minor_unit) VALUES
	('USD', 2), ('EUR', 2), ('GBP', 2), ('INR', 2), ('AED', 2), ('AUD', 2),
	('CAD', 2), ('CHF', 2), ('CNY', 2), ('HKD', 2), ('SGD', 2), ('SEK', 2),
	('NOK', 2), ('DKK', 2), ('PLN', 2), ('BRL', 2), ('MXN', 2), ('ZAR', 2),
	('NZD', 2), ('SAR', 2), ('THB', 2), ('PHP', 2), ('MYR', 2), ('IDR', 2),
	('TRY', 2), ('JPY', 0), ('KRW', 0), ('VND', 0), ('CLP', 0), ('HUF', 2);

ALTER TABLE orders.products
	ADD FOREIGN KEY (currency) REFERENCES orders.currencies;

CREATE TABLE orders.fx_rates (
	base		char(3) NOT NULL REFERENCES orders.currencies,
	quote		char(3) NOT NULL REFERENCES orders.currencies,
	rate		numeric(20, 10) NOT NULL CHECK (rate > 0),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (base, quote),
	CHECK (base <> quote)
);
COMMENT ON TABLE orders.fx_rates IS
'exchange rates: 1 unit of base costs rate units of quote (the currencyValue of an order)';

CREATE TABLE orders.client_discounts (
	client_id	bigint NOT NULL REFERENCES orders.clients,
	product_id	bigint NOT NULL REFERENCES orders.products,
	discount_percent numeric(5, 2) NOT NULL
		CHECK (discount_percent >= 0 AND discount_percent < 100),
	PRIMARY KEY (client_id, product_id)
);
COMMENT ON TABLE orders.client_discounts IS
'per-client discount percent of a product; replaces the product''s own discount for that client';

-- The allocation order of units (earliest expiry first) and the live
-- availability count both read this index.
CREATE INDEX inventory_units_available
	ON orders.inventory_units (product_id, denomination, expires_at, id)
	WHERE status = 'AVAILABLE';

CREATE FUNCTION orders.denomination_offered(p_product orders.products, p_denomination numeric)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, orders AS $$
	SELECT CASE
		WHEN p_product.denominations IS NOT NULL THEN
			p_denomination = ANY (p_product.denominations)
		WHEN p_product.min_denomination IS NOT NULL THEN
			p_denomination BETWEEN p_product.min_denomination AND p_product.max_denomination
			AND (p_denomination - p_product.min_denomination) % p_product.denomination_step = 0
		ELSE false
	END
$$;
COMMENT ON FUNCTION orders.denomination_offered(orders.products, numeric) IS
'whether a product offers a denomination: in its fixed list, or in its range on its step';

CREATE FUNCTION orders.denominations_text(p_product orders.products)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, orders AS $$
	SELECT CASE
		WHEN p_product.denominations IS NOT NULL THEN
			array_to_string(p_product.denominations, ', ')
		WHEN p_product.min_denomination IS NOT NULL THEN
			format('%s to %s in steps of %s', p_product.min_denomination,
				   p_product.max_denomination, p_product.denomination_step)
		ELSE 'none'
	END
$$;
COMMENT ON FUNCTION orders.denominations_text(orders.products) IS
'the denominations a product offers, in words (for error messages)';

CREATE FUNCTION orders.delivery_time(p_product_id bigint, p_denomination numeric,
									 p_quantity integer DEFAULT 1)
RETURNS orders.delivery_time
-- SECURITY DEFINER: the API role may learn availability, not read the units.
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	-- Counts at most p_quantity units: cheap whatever the stock.
	SELECT CASE WHEN count(*) >= p_quantity AND p_quantity > 0
				THEN 'INSTANT' ELSE 'DELAYED' END::orders.delivery_time
	FROM (SELECT 1 FROM orders.inventory_units u
		  WHERE u.product_id = p_product_id AND u.denomination = p_denomination
			AND u.status = 'AVAILABLE' AND u.expires_at > now()
		  LIMIT greatest(p_quantity, 0)) AS available
$$;
COMMENT ON FUNCTION orders.delivery_time(bigint, numeric, integer) IS
'live delivery_time: INSTANT when enough AVAILABLE unexpired units exist now for that denomination and quantity, else DELAYED';

GRANT SELECT ON orders.currencies, orders.fx_rates TO orders_admin, orders_api, orders_vendor;
GRANT SELECT ON orders.products TO orders_admin, orders_api, orders_vendor;
GRANT INSERT, UPDATE ON orders.products, orders.fx_rates TO orders_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON orders.client_discounts TO orders_admin;
GRANT EXECUTE ON FUNCTION orders.delivery_time(bigint, numeric, integer),
	orders.denomination_offered(orders.products, numeric),
	orders.denominations_text(orders.products)
	TO orders_admin, orders_api, orders_vendor;

-- The schema's default privileges cannot take EXECUTE from PUBLIC (they only
-- add to the global defaults): revoke it from each function here.
REVOKE EXECUTE ON FUNCTION
	orders.denomination_offered(orders.products, numeric),
	orders.denominations_text(orders.products),
	orders.delivery_time(bigint, numeric, integer)
	FROM PUBLIC;

-- Money: a wallet per (client, currency) and the append-only ledger that
-- moves it.  The only way to change a balance is to append a ledger entry:
-- a trigger on the ledger moves the balance in the same statement, and the
-- balance can never go negative (a CHECK).  orders.verify_ledger() proves
-- balance = sum(ledger) for every wallet.  docs/money.md.

CREATE TABLE orders.wallets (
	client_id	bigint NOT NULL REFERENCES orders.clients,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	currency	char(3) NOT NULL REFERENCES orders.currencies,
	balance		numeric(14, 2) NOT NULL DEFAULT 0 CHECK (balance >= 0),
	-- the wallet charged (with an exchange rate) for products in a
	-- currency the client has no wallet in; at most one per client
	is_default	boolean NOT NULL DEFAULT false,
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (client_id, currency)
);
CREATE UNIQUE INDEX wallets_one_default ON orders.wallets (client_id) WHERE is_default;
COMMENT ON TABLE orders.wallets IS
'one wallet per client and currency; the balance moves only with a ledger entry and never goes negative';

CREATE TABLE orders.ledger_entries (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	wallet_id	bigint NOT NULL REFERENCES orders.wallets,
	kind		text NOT NULL CHECK (kind IN ('FUNDING', 'DEBIT', 'REFUND', 'ADJUSTMENT')),
	amount		numeric(14, 2) NOT NULL,
	balance_after numeric(14, 2) NOT NULL,	-- set by the trigger
	order_id	bigint REFERENCES orders.orders,
	note		text CHECK (length(note) <= 500),
	actor		text NOT NULL DEFAULT current_user,
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (CASE kind
		   WHEN 'FUNDING' THEN amount > 0 AND order_id IS NULL
		   WHEN 'DEBIT' THEN amount <= 0 AND order_id IS NOT NULL
		   WHEN 'REFUND' THEN amount > 0 AND order_id IS NOT NULL
		   ELSE amount <> 0 END)
);
CREATE INDEX ON orders.ledger_entries (wallet_id, id);
-- An order is debited once and refunded at most once: constraints, so a
-- second refund fails whatever the code that tries it.
CREATE UNIQUE INDEX ledger_one_debit_per_order
	ON orders.ledger_entries (order_id) WHERE kind = 'DEBIT';
CREATE UNIQUE INDEX ledger_one_refund_per_order
	ON orders.ledger_entries (order_id) WHERE kind = 'REFUND';
COMMENT ON TABLE orders.ledger_entries IS
'append-only ledger: every wallet movement (funding, order debit, refund, adjustment) with the balance after it';

-- Append-only, like the status history.
SELECT orders.make_append_only('orders.ledger_entries');

CREATE FUNCTION orders.ledger_apply() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	w orders.wallets;
BEGIN
	-- The row lock of this UPDATE serializes the movements of one wallet; a
	-- concurrent movement re-checks the balance after ours commits.
	UPDATE orders.wallets SET balance = balance + NEW.amount
	WHERE id = NEW.wallet_id AND balance + NEW.amount >= 0
	RETURNING * INTO w;
	IF NOT FOUND THEN
		SELECT * INTO w FROM orders.wallets WHERE id = NEW.wallet_id;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'wallet % does not exist', NEW.wallet_id
				USING ERRCODE = 'OR101';
		END IF;
		RAISE EXCEPTION 'insufficient balance: % % needed, % % available',
			-NEW.amount, w.currency, w.balance, w.currency
			USING ERRCODE = 'OR103';
	END IF;
	IF w.client_id <> NEW.client_id THEN
		RAISE EXCEPTION 'ledger entry of client % names wallet % of client %',
			NEW.client_id, w.id, w.client_id USING ERRCODE = 'OR100';
	END IF;
	NEW.balance_after := w.balance;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION orders.ledger_apply() IS
'trigger: moves the wallet balance by the ledger entry''s amount in the same statement; refuses to go below zero';

CREATE TRIGGER ledger_apply
	BEFORE INSERT ON orders.ledger_entries
	FOR EACH ROW EXECUTE FUNCTION orders.ledger_apply();
ALTER TABLE orders.ledger_entries ENABLE ALWAYS TRIGGER ledger_apply;

CREATE FUNCTION orders.wallet_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	-- A balance moves only from orders.ledger_apply (a trigger of the
	-- ledger: depth 2 here); a new wallet starts empty.
	IF TG_OP = 'INSERT' AND NEW.balance <> 0 THEN
		RAISE EXCEPTION 'a wallet starts with balance 0: fund it through the ledger'
			USING ERRCODE = 'OR003', HINT = 'Use orders.fund_wallet().';
	ELSIF TG_OP = 'UPDATE' AND (NEW.balance IS DISTINCT FROM OLD.balance
								OR NEW.currency <> OLD.currency
								OR NEW.client_id <> OLD.client_id)
		  AND pg_trigger_depth() < 2 THEN
		RAISE EXCEPTION 'wallet %: balance, currency and client change only through the ledger', OLD.id
			USING ERRCODE = 'OR003', HINT = 'Use orders.fund_wallet() or orders.refund_order().';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION orders.wallet_guard() IS
'trigger: a wallet''s balance changes only through a ledger entry';

CREATE TRIGGER wallet_guard
	BEFORE INSERT OR UPDATE ON orders.wallets
	FOR EACH ROW EXECUTE FUNCTION orders.wallet_guard();
ALTER TABLE orders.wallets ENABLE ALWAYS TRIGGER wallet_guard;

CREATE FUNCTION orders.open_wallet(p_client_id bigint, p_currency text,
								   p_default boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	wid bigint;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM orders.clients WHERE id = p_client_id) THEN
		RAISE EXCEPTION 'client % does not exist', p_client_id USING ERRCODE = 'OR101';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM orders.currencies WHERE code = p_currency) THEN
		RAISE EXCEPTION 'currency: unknown currency code "%"', p_currency
			USING ERRCODE = 'OR100', HINT = 'See orders.currencies.';
	END IF;
	INSERT INTO orders.wallets (client_id, currency)
	VALUES (p_client_id, p_currency)
	ON CONFLICT (client_id, currency) DO NOTHING;
	SELECT id INTO wid FROM orders.wallets
	WHERE client_id = p_client_id AND currency = p_currency;
	IF p_default THEN
		UPDATE orders.wallets SET is_default = false
		WHERE client_id = p_client_id AND is_default AND id <> wid;
		UPDATE orders.wallets SET is_default = true WHERE id = wid AND NOT is_default;
	END IF;
	RETURN wid;
END
$$;
COMMENT ON FUNCTION orders.open_wallet(bigint, text, boolean) IS
'the id of the client''s wallet in a currency, created empty if missing; p_default makes it the default wallet';

CREATE FUNCTION orders.fund_wallet(p_client_id bigint, p_currency text, p_amount numeric,
								   p_note text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	eid bigint;
BEGIN
	IF p_amount IS NULL OR p_amount <= 0 OR p_amount <> round(p_amount, 2) THEN
		RAISE EXCEPTION 'amount: must be a positive amount with at most 2 decimals, got %',
			coalesce(p_amount::text, 'null') USING ERRCODE = 'OR100';
	END IF;
	INSERT INTO orders.ledger_entries (client_id, wallet_id, kind, amount, note)
	VALUES (p_client_id, orders.open_wallet(p_client_id, p_currency), 'FUNDING', p_amount, p_note)
	RETURNING id INTO eid;
	RETURN eid;
END
$$;
COMMENT ON FUNCTION orders.fund_wallet(bigint, text, numeric, text) IS
'credits a client''s wallet in a currency (opened if missing) with a FUNDING ledger entry; returns the entry id';

CREATE FUNCTION orders.refund_order(p_order_id bigint, p_amount numeric DEFAULT NULL,
									p_note text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	debit orders.ledger_entries;
	amount numeric;
	eid bigint;
BEGIN
	SELECT * INTO debit FROM orders.ledger_entries
	WHERE order_id = p_order_id AND kind = 'DEBIT';
	IF NOT FOUND THEN
		RAISE EXCEPTION 'order % was never debited: nothing to refund', p_order_id
			USING ERRCODE = 'OR101';
	END IF;
	amount := coalesce(p_amount, -debit.amount);
	IF amount <= 0 OR amount > -debit.amount OR amount <> round(amount, 2) THEN
		RAISE EXCEPTION 'refund of order %: amount must be > 0 and at most the % % charged, got %',
			p_order_id, -debit.amount,
			(SELECT currency FROM orders.wallets WHERE id = debit.wallet_id), amount
			USING ERRCODE = 'OR100';
	END IF;
	BEGIN
		INSERT INTO orders.ledger_entries (client_id, wallet_id, kind, amount, order_id, note)
		VALUES (debit.client_id, debit.wallet_id, 'REFUND', amount, p_order_id, p_note)
		RETURNING id INTO eid;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'order % is already refunded', p_order_id
			USING ERRCODE = 'OR104',
				  DETAIL = 'An order is refunded at most once (ledger_one_refund_per_order).';
	END;
	RETURN eid;
END
$$;
COMMENT ON FUNCTION orders.refund_order(bigint, numeric, text) IS
'credits back an order''s debit (all of it, or p_amount of it) to the wallet it came from, exactly once per order; returns the REFUND entry id';

CREATE FUNCTION orders.verify_ledger(
	OUT client_id bigint, OUT wallet_id bigint, OUT currency char(3),
	OUT balance numeric, OUT ledger_sum numeric)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT w.client_id, w.id, w.currency, w.balance, coalesce(l.total, 0)
	FROM orders.wallets w
	LEFT JOIN (SELECT e.wallet_id, sum(e.amount) AS total
			   FROM orders.ledger_entries e GROUP BY e.wallet_id) l ON l.wallet_id = w.id
	WHERE w.balance <> coalesce(l.total, 0)
	ORDER BY w.id
$$;
COMMENT ON FUNCTION orders.verify_ledger() IS
'every wallet whose balance differs from the sum of its ledger entries: always none';

-- fund_wallet, open_wallet and refund_order are SECURITY DEFINER: the
-- admin role moves money only through them, never by writing the tables.
GRANT SELECT ON orders.wallets, orders.ledger_entries TO orders_admin;
GRANT EXECUTE ON FUNCTION orders.open_wallet(bigint, text, boolean),
	orders.fund_wallet(bigint, text, numeric, text),
	orders.verify_ledger()
	TO orders_admin;
GRANT EXECUTE ON FUNCTION orders.refund_order(bigint, numeric, text) TO orders_admin;

-- The schema's default privileges cannot take EXECUTE from PUBLIC (they only
-- add to the global defaults): revoke it from each function here.
REVOKE EXECUTE ON FUNCTION
	orders.ledger_apply(),
	orders.wallet_guard(),
	orders.open_wallet(bigint, text, boolean),
	orders.fund_wallet(bigint, text, numeric, text),
	orders.refund_order(bigint, numeric, text),
	orders.verify_ledger()
	FROM PUBLIC;

-- Pricing, the reference's "Charges" step: what an order of a product,
-- denomination and quantity costs a client, in the currency of the wallet
-- it is charged to.  orders.create_order charges exactly what orders.quote
-- says: both price through the same C function (src/order_money.c).  Rules and rounding: docs/money.md.

CREATE TYPE orders.charge AS (
	wallet_id	bigint,
	currency	char(3),			-- the wallet's: the currencyCode
	currency_value numeric,			-- product currency -> wallet currency
	discount_percent numeric(5, 2),
	raw_order_total numeric,		-- exact
	order_total numeric(14, 2),		-- rounded to the currency's minor unit
	raw_order_discount numeric,		-- exact
	order_discount numeric(14, 2),	-- rounded
	amount_charged numeric(14, 2)	-- order_total - order_discount
);
COMMENT ON TYPE orders.charge IS
'what an order costs: the wallet charged, conversion, discount, raw and rounded totals';

-- An amount as the reference prints it: 2 decimals, or every decimal of an
-- exact (raw) amount that has more.
CREATE FUNCTION orders.money_text(p_amount numeric) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT pg_catalog.round(p_amount, 2)::text
$$;
COMMENT ON FUNCTION orders.money_text(numeric) IS
'an amount as an API string with 2 decimals ("25.00")';

CREATE FUNCTION orders.exact_amount(p_amount numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN pg_catalog.scale(pg_catalog.trim_scale(p_amount)) OPERATOR(pg_catalog.<=) 2
				THEN pg_catalog.round(p_amount, 2)
				ELSE pg_catalog.trim_scale(p_amount) END
$$;
COMMENT ON FUNCTION orders.exact_amount(numeric) IS
'an unrounded amount with its significant decimals, at least 2 (25.00, 10.005)';

-- The numbers of an order line, before looking at the catalog (C: the
-- create path runs the same check, src/order_money.c).  Not STRICT: a
-- missing number is an error naming the field.
CREATE FUNCTION orders.check_order_line(p_product_id bigint, p_denomination numeric,
										p_quantity integer)
RETURNS void
	AS 'MODULE_PATHNAME', 'order_check_line_sql' LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION orders.check_order_line(bigint, numeric, integer) IS
'checks productId, quantity and denomination are well-formed; raises OR100 naming the field';

-- The product, checked for an order of p_quantity units of p_denomination.
CREATE FUNCTION orders.orderable_product(p_product_id bigint, p_denomination numeric,
										 p_quantity integer)
RETURNS orders.products
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	p orders.products;
BEGIN
	PERFORM orders.check_order_line(p_product_id, p_denomination, p_quantity);
	SELECT * INTO p FROM orders.products WHERE id = p_product_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'productId: no product %', p_product_id USING ERRCODE = 'OR101';
	END IF;
	IF NOT p.active THEN
		RAISE EXCEPTION 'productId: product % is not available for ordering', p_product_id
			USING ERRCODE = 'OR103';
	END IF;
	IF NOT orders.denomination_offered(p, p_denomination) THEN
		RAISE EXCEPTION 'denomination: % is not offered by product %', p_denomination, p_product_id
			USING ERRCODE = 'OR100',
				  HINT = format('Denominations of product %s: %s.', p_product_id,
								orders.denominations_text(p));
	END IF;
	IF p_quantity > p.order_quantity_limit THEN
		RAISE EXCEPTION 'quantity: % is over the order quantity limit of product % (%)',
			p_quantity, p_product_id, p.order_quantity_limit USING ERRCODE = 'OR100';
	END IF;
	RETURN p;
END
$$;
COMMENT ON FUNCTION orders.orderable_product(bigint, numeric, integer) IS
'the product, after checking it exists, is active, offers the denomination and allows the quantity';

-- In C (src/order_money.c, order_price): one saved query reads the wallet,
-- the rate, the discount and the minor unit and computes the amounts;
-- orders.create_order calls the same C function, so a quote is exactly what
-- create charges.  The wallet is the one in the product's currency, else the
-- default one; amounts are rounded half-up to the wallet currency's minor
-- unit (docs/money.md).
CREATE FUNCTION orders.price(p_client_id bigint, p_product orders.products,
							 p_denomination numeric, p_quantity integer)
RETURNS orders.charge
	AS 'MODULE_PATHNAME', 'order_price_sql'
	LANGUAGE C STABLE SET search_path = pg_catalog, orders;
COMMENT ON FUNCTION orders.price(bigint, orders.products, numeric, integer) IS
'what p_quantity units of p_denomination of a product cost a client, charged to which wallet (see docs/money.md)';

CREATE FUNCTION orders.charge_json(p_charge orders.charge) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT pg_catalog.jsonb_build_object(
		'orderTotal', p_charge.order_total,
		'rawOrderTotal', orders.exact_amount(p_charge.raw_order_total),
		'orderDiscount', orders.money_text(p_charge.order_discount),
		'rawOrderDiscount', orders.exact_amount(p_charge.raw_order_discount)::text,
		'discountPercent', orders.money_text(p_charge.discount_percent),
		'currencyCode', p_charge.currency,
		'currencyValue', pg_catalog.trim_scale(p_charge.currency_value),
		'amountCharged', p_charge.amount_charged)
$$;
COMMENT ON FUNCTION orders.charge_json(orders.charge) IS
'the pricing fields of the reference''s placeOrder data (numbers and strings as the reference types them)';

CREATE FUNCTION orders.quote(p_client_id bigint, p_product_id bigint,
							 p_denomination numeric, p_quantity integer DEFAULT 1)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT jsonb_build_object('productId', p_product_id, 'denomination', round(p_denomination, 2),
							  'quantity', p_quantity)
		|| orders.charge_json(orders.price(p_client_id,
										   orders.orderable_product(p_product_id, p_denomination, p_quantity),
										   p_denomination, p_quantity))
$$;
COMMENT ON FUNCTION orders.quote(bigint, bigint, numeric, integer) IS
'the charges of an order before placing it: exactly what orders.create_order would charge (reference "Charges" step)';

-- The schema's default privileges cannot take EXECUTE from PUBLIC (they only
-- add to the global defaults): revoke it from each function here.
REVOKE EXECUTE ON FUNCTION
	orders.money_text(numeric),
	orders.exact_amount(numeric),
	orders.check_order_line(bigint, numeric, integer),
	orders.orderable_product(bigint, numeric, integer),
	orders.price(bigint, orders.products, numeric, integer),
	orders.charge_json(orders.charge),
	orders.quote(bigint, bigint, numeric, integer)
	FROM PUBLIC;

-- Placing an order (reference 003): validation, idempotency on
-- (client, poNumber), the wallet debit, one item per unit, and the INSTANT
-- path that delivers from inventory in the same transaction.  The response
-- is the reference's {"data": {"placeOrder": ...}} body.  docs/orders.md.

-- The request fields that are checked without looking at the catalog.
-- Raises OR100 naming the field (the reference's request names).  C: the
-- create path runs the same check (src/order_money.c), with the server's
-- regular expressions.
CREATE FUNCTION orders.check_order_request(
	p_po_number text, p_email text, p_tag text,
	p_topup_phone_code text, p_topup_phone_number text)
RETURNS void
	AS 'MODULE_PATHNAME', 'order_check_request_sql' LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION orders.check_order_request(text, text, text, text, text) IS
'checks the free-form fields of an order request (poNumber, email, tag, topupData); raises OR100 naming the field';

-- The reference's placeOrder body for an order, as it is now.  VOLATILE:
-- revealing vouchers writes audit rows.  The vault's orders.reveal_vouchers
-- is called (and planned) only for a delivered gift-card order.
CREATE FUNCTION orders.place_order_response(p_order_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	o orders.orders;
	p orders.products;
	vouchers jsonb := '[]';
	total bigint;
	delivered bigint;
	details jsonb;
BEGIN
	SELECT * INTO o FROM orders.orders WHERE id = p_order_id;
	SELECT * INTO p FROM orders.products WHERE id = o.product_id;
	IF p.kind = 'GIFT_CARD' AND o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED') THEN
		vouchers := orders.reveal_vouchers(o.client_id, o.id);
	END IF;
	SELECT count(*), count(*) FILTER (WHERE it.status = 'DELIVERED'),
		   coalesce(jsonb_agg(jsonb_build_object(
				'orderId', o.id,
				'productId', p.id,
				'productName', p.name,
				'currencyCode', p.currency,
				'productStatus', coalesce(r.status::text, it.status::text),
				'denomination', o.denomination,
				'vendorLogo', p.vendor_logo) ORDER BY it.id), '[]')
	INTO total, delivered, details
	FROM orders.order_items it
	LEFT JOIN orders.recharges r ON r.order_item_id = it.id
	WHERE it.order_id = o.id;
	RETURN jsonb_build_object('data', jsonb_build_object('placeOrder', jsonb_build_object(
		'status', 1,
		'data', jsonb_build_object('orderId', o.id)
			|| orders.charge_json(ROW(NULL, o.charge_currency, o.currency_value, o.discount_percent,
									  o.raw_order_total, o.order_total, o.raw_order_discount,
									  o.order_discount, o.amount_charged)::orders.charge)
			|| jsonb_build_object(
				'orderStatus', o.status,
				'deliveryStatus', CASE
					WHEN total > 0 AND delivered = total THEN 'DELIVERED'
					WHEN delivered > 0 THEN 'PARTIALLY_DELIVERED'
					WHEN o.status IN ('FAILED', 'CANCELLED') THEN o.status::text
					ELSE 'PENDING' END,
				'tag', o.tag,
				'quantity', o.quantity,
				'vouchers', vouchers,
				'voucherDetails', details,
				'orderMeta', jsonb_build_object('email', o.email)))));
END
$$;
COMMENT ON FUNCTION orders.place_order_response(bigint) IS
'the reference 003 response body {"data":{"placeOrder":{"status":1,"data":{...}}}} of an order, as it is now';

-- Delivers a PENDING order from inventory, all units or none: takes
-- p_quantity AVAILABLE unexpired units, earliest expiry first, skipping
-- units other transactions hold, links one to each item and marks all
-- DELIVERED.  Returns false (nothing changed) when there are not enough.
CREATE FUNCTION orders.deliver_from_inventory(p_order orders.orders) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	units bigint[];
	items bigint[];
BEGIN
	SELECT array_agg(s.id ORDER BY s.expires_at, s.id) INTO units
	FROM (SELECT u.id, u.expires_at FROM orders.inventory_units u
		  WHERE u.product_id = p_order.product_id AND u.denomination = p_order.denomination
			AND u.status = 'AVAILABLE' AND u.expires_at > now()
		  ORDER BY u.expires_at, u.id
		  LIMIT p_order.quantity
		  FOR UPDATE SKIP LOCKED) s;
	IF coalesce(cardinality(units), 0) < p_order.quantity THEN
		RETURN false;
	END IF;
	PERFORM orders.transition_inventory_units(units, 'ALLOCATED', 'allocated to order ' || p_order.id);
	WITH linked AS (
		UPDATE orders.order_items it SET unit_id = pick.unit_id
		FROM (SELECT i.id AS item_id, u.unit_id
			  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n
					FROM orders.order_items WHERE order_id = p_order.id) i
			  JOIN unnest(units) WITH ORDINALITY AS u(unit_id, n) USING (n)) pick
		WHERE it.id = pick.item_id
		RETURNING it.id)
	SELECT array_agg(id) INTO items FROM linked;
	PERFORM orders.transition_order_items(items, 'DELIVERED', 'delivered from inventory');
	PERFORM orders.transition_inventory_units(units, 'DELIVERED', 'delivered from inventory');
	PERFORM orders.transition_orders(ARRAY[p_order.id], 'DELIVERED', 'INVENTORY_FULFILLED',
									 'delivered from inventory');
	RETURN true;
END
$$;
COMMENT ON FUNCTION orders.deliver_from_inventory(orders.orders) IS
'delivers a PENDING order from AVAILABLE units (earliest expiry first, SKIP LOCKED), all or nothing; an admin approval uses it (schema/62), the create path claims its units in C';

-- In C (src/order_create.c): validation once, the idempotency check on
-- (client, poNumber), pricing, the units claimed before anything is written,
-- then the order inserted once in its final state with its lifecycle path
-- (history and outbox of every step), the debit, the items, the units and
-- the recharges; the response built from those values.  The write set and
-- why: docs/design.md, "Orders and money".
CREATE FUNCTION orders.create_order(
	p_client_id bigint,
	p_product_id bigint,
	p_quantity integer,
	p_denomination numeric,
	p_email text,
	p_tag text,
	p_po_number text,
	p_notify_receiver_email boolean DEFAULT false,
	p_notify_admin_email boolean DEFAULT false,
	p_topup_phone_code text DEFAULT NULL,
	p_topup_phone_number text DEFAULT NULL,
	OUT response jsonb,
	OUT replayed boolean)
	AS 'MODULE_PATHNAME', 'order_create'
	LANGUAGE C VOLATILE SET search_path = pg_catalog, orders;
COMMENT ON FUNCTION orders.create_order(bigint, bigint, integer, numeric, text, text, text,
										boolean, boolean, text, text) IS
'places an order (reference 003) for a client, idempotent on (client, poNumber): response is the placeOrder body, replayed tells a replay of an earlier order';

-- Reading a field of the request object with the type the reference gives
-- it; raises OR100 naming the field otherwise.  For the API's other JSON
-- requests (schema/82); the create path parses in C with the same rules
-- (src/order_request_json.c).
CREATE FUNCTION orders.request_field(p_request jsonb, p_path text[], p_type text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
DECLARE
	v jsonb := p_request #> p_path;
	field text := array_to_string(p_path, '.');
BEGIN
	IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
		RETURN NULL;
	END IF;
	CASE p_type
	WHEN 'integer' THEN
		IF jsonb_typeof(v) <> 'number' OR v::text !~ '^-?[0-9]{1,18}$' THEN
			RAISE EXCEPTION '%: must be an integer', field USING ERRCODE = 'OR100';
		END IF;
		RETURN v::text;
	WHEN 'amount' THEN
		-- a number, or a string holding one ("25.00")
		IF jsonb_typeof(v) = 'number' THEN
			RETURN v::text;
		ELSIF jsonb_typeof(v) = 'string' AND v #>> '{}' ~ '^[0-9]{1,12}(\.[0-9]+)?$' THEN
			RETURN v #>> '{}';
		END IF;
		RAISE EXCEPTION '%: must be a number', field USING ERRCODE = 'OR100';
	WHEN 'flag' THEN
		-- the reference sends 1 or 0; true and false are accepted too
		IF v IN ('1', 'true') THEN RETURN 'true'; END IF;
		IF v IN ('0', 'false') THEN RETURN 'false'; END IF;
		RAISE EXCEPTION '%: must be 1 or 0', field USING ERRCODE = 'OR100';
	WHEN 'digits' THEN
		-- a phone number, as a string or a JSON integer
		IF jsonb_typeof(v) = 'string' OR (jsonb_typeof(v) = 'number' AND v::text ~ '^[0-9]+$') THEN
			RETURN v #>> '{}';
		END IF;
		RAISE EXCEPTION '%: must be a string of digits', field USING ERRCODE = 'OR100';
	ELSE
		IF jsonb_typeof(v) <> 'string' THEN
			RAISE EXCEPTION '%: must be a string', field USING ERRCODE = 'OR100';
		END IF;
		RETURN v #>> '{}';
	END CASE;
END
$$;
COMMENT ON FUNCTION orders.request_field(jsonb, text[], text) IS
'a field of a JSON request as text, checked against its type (integer, amount, flag, digits, string); OR100 naming the field otherwise';

-- In C (src/order_request_json.c): the request object parsed once, each
-- field checked against the type the reference gives it (OR100 naming the
-- field), then placed by the same core as the typed function.
CREATE FUNCTION orders.create_order(p_client_id bigint, p_request jsonb,
									OUT response jsonb, OUT replayed boolean)
	AS 'MODULE_PATHNAME', 'order_create_json'
	LANGUAGE C VOLATILE SET search_path = pg_catalog, orders;
COMMENT ON FUNCTION orders.create_order(bigint, jsonb) IS
'places an order from the reference 003 request object (the "data" member: productId, quantity, denomination, email, tag, poNumber, notifyReceiverEmail, notifyAdminEmail, topupData)';

-- The schema's default privileges cannot take EXECUTE from PUBLIC (they only
-- add to the global defaults): revoke it from each function here.
REVOKE EXECUTE ON FUNCTION
	orders.check_order_request(text, text, text, text, text),
	orders.place_order_response(bigint),
	orders.deliver_from_inventory(orders.orders),
	orders.create_order(bigint, bigint, integer, numeric, text, text, text, boolean, boolean, text, text),
	orders.request_field(jsonb, text[], text),
	orders.create_order(bigint, jsonb)
	FROM PUBLIC;

-- Listing a client's orders (reference 004), built for a client with
-- millions of orders placing orders from many connections at once
-- (docs/design.md, "Listing orders" and "Orders and money"):
--   - every order has a client_seq, unique per client and increasing in the
--     order the orders were numbered: its id (drawn from the identity
--     sequence), so numbering takes no lock; gaps are allowed, newest first
--     is client_seq DESC;
--   - counts per (client, product, status) and per block of 1024 client_seq
--     are append-only deltas written by statement triggers (an INSERT, never
--     an update of a shared counter row), rolled up into order_counts and
--     order_count_blocks by orders.roll_up_order_counts() (run by
--     orders.run_maintenance()); a reader sums the rolled-up rows and the
--     deltas not rolled up yet, in one snapshot, so totals stay exact;
--   - a page finds the block holding its first row from those counts and
--     walks at most that block's matching rows, not every row before it.

CREATE TABLE orders.order_counts (
	client_id	bigint NOT NULL,
	product_id	bigint NOT NULL,
	status		orders.order_status NOT NULL,
	n			bigint NOT NULL,	-- no CHECK: a status moved away is a negative delta
	PRIMARY KEY (client_id, product_id, status)
);
COMMENT ON TABLE orders.order_counts IS
'number of orders per client, product and status, as of the last roll-up (add orders.order_count_deltas for the exact count)';

-- Block size of order_count_blocks (docs/design.md, "Listing orders"): a
-- page walks at most one block of the filter's index before its rows, and
-- summing to the page's block reads one counter per block above it.
CREATE FUNCTION orders.order_block_size() RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 1024::bigint $$;
COMMENT ON FUNCTION orders.order_block_size() IS
'client_seq per block of orders.order_count_blocks (block = client_seq / this)';

CREATE TABLE orders.order_count_blocks (
	client_id	bigint NOT NULL,
	product_id	bigint NOT NULL,
	status		orders.order_status NOT NULL,
	block		bigint NOT NULL,	-- client_seq / orders.order_block_size()
	n			bigint NOT NULL,
	PRIMARY KEY (client_id, product_id, status, block)
);
COMMENT ON TABLE orders.order_count_blocks IS
'number of orders per client, product, status and block of client_seq, as of the last roll-up: where a deep page of the order list starts';
-- One index per filter shape, newest block first: status and product
-- (the primary key), status only, product only, none.
CREATE INDEX order_count_blocks_by_status ON orders.order_count_blocks (client_id, status, block);
CREATE INDEX order_count_blocks_by_product ON orders.order_count_blocks (client_id, product_id, block);
CREATE INDEX order_count_blocks_by_client ON orders.order_count_blocks (client_id, block);

-- Append-only between roll-ups: every order inserted, deleted or moved to
-- another status adds +1 / -1 here.  Concurrent orders of one client insert
-- rows side by side instead of waiting for each other on a counter row.
CREATE TABLE orders.order_count_deltas (
	client_id	bigint NOT NULL,
	product_id	bigint NOT NULL,
	status		orders.order_status NOT NULL,
	block		bigint NOT NULL,
	n			bigint NOT NULL
);
CREATE INDEX order_count_deltas_by_client ON orders.order_count_deltas (client_id, block);
COMMENT ON TABLE orders.order_count_deltas IS
'order count changes not rolled up yet (orders.roll_up_order_counts): readers add them to order_counts / order_count_blocks';

-- client_seq is the order's id unless the writer gives one: unique,
-- increasing in the order the orders were numbered, no lock.  The create
-- path writes it itself (src/order_create.c), so this trigger only runs for
-- other inserts (imports, tests): the WHEN clause skips it otherwise.
CREATE FUNCTION orders.order_client_seq() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	NEW.client_seq := NEW.id;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION orders.order_client_seq() IS
'trigger: an order inserted without a client_seq takes its id as client_seq';
CREATE TRIGGER order_client_seq
	BEFORE INSERT ON orders.orders
	FOR EACH ROW WHEN (NEW.client_seq IS NULL)
	EXECUTE FUNCTION orders.order_client_seq();
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER order_client_seq;

CREATE INDEX orders_by_client_status ON orders.orders (client_id, status, client_seq);
CREATE INDEX orders_by_client_product ON orders.orders (client_id, product_id, client_seq);
CREATE INDEX orders_by_client_placed_at ON orders.orders (client_id, placed_at);

-- SECURITY DEFINER: counting must work whoever writes the orders.
CREATE FUNCTION orders.order_count() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	-- Once per statement, from its transition tables: one delta per
	-- (client, product, status, block) the statement changed.
	IF TG_OP = 'INSERT' THEN
		INSERT INTO orders.order_count_deltas (client_id, product_id, status, block, n)
		SELECT client_id, product_id, status, client_seq / orders.order_block_size(), count(*)
		FROM new_rows GROUP BY 1, 2, 3, 4;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO orders.order_count_deltas (client_id, product_id, status, block, n)
		SELECT client_id, product_id, status, client_seq / orders.order_block_size(), -count(*)
		FROM old_rows GROUP BY 1, 2, 3, 4;
	ELSE
		INSERT INTO orders.order_count_deltas (client_id, product_id, status, block, n)
		SELECT client_id, product_id, status, client_seq / orders.order_block_size(), sum(d)
		FROM (SELECT client_id, product_id, status, client_seq, 1 AS d FROM new_rows
			  UNION ALL
			  SELECT client_id, product_id, status, client_seq, -1 FROM old_rows) m
		GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.order_count() IS
'statement trigger: appends to orders.order_count_deltas the count changes of the orders inserted, moved or deleted';

-- Transition tables allow one event per trigger.
CREATE TRIGGER order_count_insert AFTER INSERT ON orders.orders
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION orders.order_count();
CREATE TRIGGER order_count_update AFTER UPDATE ON orders.orders
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION orders.order_count();
CREATE TRIGGER order_count_delete AFTER DELETE ON orders.orders
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION orders.order_count();
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER order_count_insert;
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER order_count_update;
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER order_count_delete;

-- Folds the committed deltas into order_counts and order_count_blocks, in
-- one statement (a reader sees the deltas or their sum, never both or
-- neither).  Deltas of transactions still running are not visible and wait
-- for the next round; two roll-ups at once fold each delta once (the second
-- skips the rows the first deleted).  Counters in key order: two roll-ups
-- cannot deadlock.  Returns the number of deltas folded.
CREATE FUNCTION orders.roll_up_order_counts() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	WITH taken AS (
		DELETE FROM orders.order_count_deltas RETURNING *
	), per_block AS (
		SELECT client_id, product_id, status, block, sum(n) AS n, count(*) AS deltas
		FROM taken GROUP BY 1, 2, 3, 4
	), blocks AS (
		INSERT INTO orders.order_count_blocks AS c (client_id, product_id, status, block, n)
		SELECT client_id, product_id, status, block, n FROM per_block ORDER BY 1, 2, 3, 4
		ON CONFLICT (client_id, product_id, status, block) DO UPDATE SET n = c.n + excluded.n
	), totals AS (
		INSERT INTO orders.order_counts AS c (client_id, product_id, status, n)
		SELECT client_id, product_id, status, sum(n) FROM per_block GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
		ON CONFLICT (client_id, product_id, status) DO UPDATE SET n = c.n + excluded.n
	)
	SELECT coalesce(sum(deltas), 0)::bigint FROM per_block
$$;
COMMENT ON FUNCTION orders.roll_up_order_counts() IS
'folds the committed orders.order_count_deltas into order_counts and order_count_blocks (run by orders.run_maintenance); returns how many it folded';

CREATE FUNCTION orders.rfc3339(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
	SELECT pg_catalog.to_char(pg_catalog.timezone('UTC', p_at), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
COMMENT ON FUNCTION orders.rfc3339(timestamptz) IS
'a time as RFC 3339 in UTC, to the second ("2024-01-15T10:30:00Z")';

-- The fields references 002 (details) and 004 (list) share.
CREATE FUNCTION orders.order_common_json(o orders.orders) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT pg_catalog.jsonb_build_object(
		'id', o.id,
		'reference_code', o.reference_code,
		'transaction_id', o.transaction_id,
		'product_id', o.product_id,
		'denomination', orders.money_text(o.denomination),
		'quantity', o.quantity,
		'amount', orders.money_text(o.amount_charged),
		'status', o.status,
		'placed_at', orders.rfc3339(o.placed_at))
$$;
COMMENT ON FUNCTION orders.order_common_json(orders.orders) IS
'the fields of an order that order details (reference 002) and the order list (reference 004) share';

-- An order as an element of the reference 004 list.
CREATE FUNCTION orders.order_list_item(o orders.orders, p orders.products) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT orders.order_common_json(o) OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
		'product_name', p.name,
		'currency', coalesce(o.charge_currency, p.currency),
		'email', o.email,
		'mobile', CASE WHEN o.mobile_number IS NOT NULL THEN
			pg_catalog.jsonb_build_object('mobile_country_code', o.mobile_country_code,
							   'mobile_number', o.mobile_number) END)
$$;
COMMENT ON FUNCTION orders.order_list_item(orders.orders, orders.products) IS
'an order as an element of the reference 004 list response';

CREATE FUNCTION orders.list_orders(
	p_client_id bigint,
	p_page integer DEFAULT 1,
	p_limit integer DEFAULT 10,
	p_status text DEFAULT NULL,
	p_product_id bigint DEFAULT NULL,
	p_placed_from timestamptz DEFAULT NULL,
	p_placed_to timestamptz DEFAULT NULL,
	OUT items jsonb,
	OUT page integer,
	OUT per_page integer,
	OUT total_count bigint,
	OUT total_pages bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	st orders.order_status;
	seqs bigint[];
	skip bigint;		-- matching rows before the page
	blocks refcursor;	-- a filter's block counters, newest block first
	blk bigint;
	blk_rows bigint;
	above bigint := 0;	-- matching rows in the blocks above blk
	below bigint;		-- the page's rows have a client_seq below this
BEGIN
	page := coalesce(p_page, 1);
	per_page := coalesce(p_limit, 10);
	IF page < 1 THEN
		RAISE EXCEPTION 'page: must be an integer >= 1, got %', page USING ERRCODE = 'OR100';
	END IF;
	IF per_page NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'limit: must be an integer from 1 to 100, got %', per_page USING ERRCODE = 'OR100';
	END IF;
	IF p_status IS NOT NULL THEN
		BEGIN
			st := p_status::orders.order_status;
		EXCEPTION WHEN invalid_text_representation THEN
			RAISE EXCEPTION 'status: unknown order status "%"', left(p_status, 40)
				USING ERRCODE = 'OR100',
					  HINT = 'Use one of ' || (SELECT string_agg(l, ', ')
											  FROM orders.labels('orders.order_status') l) || ', in any case.';
		END;
	END IF;
	IF p_product_id <= 0 THEN
		RAISE EXCEPTION 'product_id: must be a positive integer' USING ERRCODE = 'OR100';
	END IF;
	IF p_placed_from >= p_placed_to THEN
		RAISE EXCEPTION 'placed-at range: from (%) must be before to (%)',
			orders.rfc3339(p_placed_from), orders.rfc3339(p_placed_to) USING ERRCODE = 'OR100';
	END IF;

	IF p_placed_from IS NULL AND p_placed_to IS NULL THEN
		-- The total: the rolled-up counts plus the deltas not rolled up yet,
		-- both read in this statement's snapshot, so exact.
		SELECT coalesce(sum(x.n), 0) INTO total_count
		FROM (SELECT c.n FROM orders.order_counts c
			  WHERE c.client_id = p_client_id AND (st IS NULL OR c.status = st)
				AND (p_product_id IS NULL OR c.product_id = p_product_id)
			  UNION ALL
			  SELECT d.n FROM orders.order_count_deltas d
			  WHERE d.client_id = p_client_id AND (st IS NULL OR d.status = st)
				AND (p_product_id IS NULL OR d.product_id = p_product_id)) x;
		-- The page from the block holding its first row (block counts,
		-- newest block down, stopping there), then the filter's index from
		-- the top of that block, skipping only that block's rows above the
		-- page (at most a block) -- not every matching row before the page.
		skip := (page - 1)::bigint * per_page;
		IF skip < total_count THEN
			-- One query per filter shape, each on its own index.
			IF st IS NULL AND p_product_id IS NULL THEN
				OPEN blocks FOR SELECT x.block, sum(x.n) FROM (
					SELECT c.block, c.n FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id
					UNION ALL
					SELECT d.block, d.n FROM orders.order_count_deltas d
					WHERE d.client_id = p_client_id) x
					GROUP BY x.block ORDER BY x.block DESC;
			ELSIF p_product_id IS NULL THEN
				OPEN blocks FOR SELECT x.block, sum(x.n) FROM (
					SELECT c.block, c.n FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id AND c.status = st
					UNION ALL
					SELECT d.block, d.n FROM orders.order_count_deltas d
					WHERE d.client_id = p_client_id AND d.status = st) x
					GROUP BY x.block ORDER BY x.block DESC;
			ELSIF st IS NULL THEN
				OPEN blocks FOR SELECT x.block, sum(x.n) FROM (
					SELECT c.block, c.n FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id AND c.product_id = p_product_id
					UNION ALL
					SELECT d.block, d.n FROM orders.order_count_deltas d
					WHERE d.client_id = p_client_id AND d.product_id = p_product_id) x
					GROUP BY x.block ORDER BY x.block DESC;
			ELSE
				OPEN blocks FOR SELECT x.block, sum(x.n) FROM (
					SELECT c.block, c.n FROM orders.order_count_blocks c
					WHERE c.client_id = p_client_id AND c.status = st AND c.product_id = p_product_id
					UNION ALL
					SELECT d.block, d.n FROM orders.order_count_deltas d
					WHERE d.client_id = p_client_id AND d.status = st AND d.product_id = p_product_id) x
					GROUP BY x.block ORDER BY x.block DESC;
			END IF;
			LOOP
				FETCH blocks INTO blk, blk_rows;
				EXIT WHEN NOT FOUND OR above + blk_rows > skip;
				above := above + blk_rows;
			END LOOP;
			CLOSE blocks;
			-- The page's first row is in block blk (skip < total_count):
			-- skip - above matching rows of that block come before it.
			below := (blk + 1) * orders.order_block_size();
			skip := skip - above;
			IF st IS NULL AND p_product_id IS NULL THEN
				SELECT array_agg(f.client_seq) INTO seqs
				FROM (SELECT o.client_seq FROM orders.orders o
					  WHERE o.client_id = p_client_id AND o.client_seq < below
					  ORDER BY o.client_seq DESC OFFSET skip LIMIT per_page) f;
			ELSIF p_product_id IS NULL THEN
				SELECT array_agg(f.client_seq) INTO seqs
				FROM (SELECT o.client_seq FROM orders.orders o
					  WHERE o.client_id = p_client_id AND o.status = st AND o.client_seq < below
					  ORDER BY o.client_seq DESC OFFSET skip LIMIT per_page) f;
			ELSIF st IS NULL THEN
				SELECT array_agg(f.client_seq) INTO seqs
				FROM (SELECT o.client_seq FROM orders.orders o
					  WHERE o.client_id = p_client_id AND o.product_id = p_product_id AND o.client_seq < below
					  ORDER BY o.client_seq DESC OFFSET skip LIMIT per_page) f;
			ELSE
				SELECT array_agg(f.client_seq) INTO seqs
				FROM (SELECT o.client_seq FROM orders.orders o
					  WHERE o.client_id = p_client_id AND o.status = st AND o.product_id = p_product_id AND o.client_seq < below
					  ORDER BY o.client_seq DESC OFFSET skip LIMIT per_page) f;
			END IF;
		END IF;
	ELSE
		-- Within a placed-at range: counted and walked in the range
		-- (client_seq is not ordered by placed_at: docs/design.md,
		-- "Listing orders").
		SELECT count(*) INTO total_count FROM orders.orders o
		WHERE o.client_id = p_client_id
		  AND (p_placed_from IS NULL OR o.placed_at >= p_placed_from)
		  AND (p_placed_to IS NULL OR o.placed_at < p_placed_to)
		  AND (st IS NULL OR o.status = st)
		  AND (p_product_id IS NULL OR o.product_id = p_product_id);
		SELECT array_agg(f.client_seq) INTO seqs
		FROM (SELECT o.client_seq FROM orders.orders o
			  WHERE o.client_id = p_client_id
				AND (p_placed_from IS NULL OR o.placed_at >= p_placed_from)
				AND (p_placed_to IS NULL OR o.placed_at < p_placed_to)
				AND (st IS NULL OR o.status = st)
				AND (p_product_id IS NULL OR o.product_id = p_product_id)
			  ORDER BY o.client_seq DESC
			  OFFSET (page - 1)::bigint * per_page LIMIT per_page) f;
	END IF;
	SELECT coalesce(jsonb_agg(orders.order_list_item(o, p) ORDER BY o.client_seq DESC), '[]')
	INTO items
	FROM orders.orders o JOIN orders.products p ON p.id = o.product_id
	WHERE o.client_id = p_client_id AND o.client_seq = ANY (seqs);
	total_pages := (total_count + per_page - 1) / per_page;
END
$$;
COMMENT ON FUNCTION orders.list_orders(bigint, integer, integer, text, bigint, timestamptz, timestamptz) IS
'a page of the client''s orders (reference 004), newest first, with the totals for X-Total-Count and X-Total-Pages; placed-at range is [from, to)';

-- The schema's default privileges cannot take EXECUTE from PUBLIC (they only
-- add to the global defaults): revoke it from each function here.
REVOKE EXECUTE ON FUNCTION
	orders.order_block_size(),
	orders.order_client_seq(),
	orders.order_count(),
	orders.roll_up_order_counts(),
	orders.rfc3339(timestamptz),
	orders.order_common_json(orders.orders),
	orders.order_list_item(orders.orders, orders.products),
	orders.list_orders(bigint, integer, integer, text, bigint, timestamptz, timestamptz)
	FROM PUBLIC;

-- One order of a client (reference 002), and the lookup by poNumber the
-- reference advises after a 5xx.  Vouchers come decrypted from the vault
-- (orders.reveal_vouchers, schema/4x), which reveals only the DELIVERED
-- items of a DELIVERED or PARTIALLY_DELIVERED order of that client, and
-- audits each reveal.

-- VOLATILE: revealing writes audit rows.  The vault's function is called
-- (and planned) only for a delivered order.
CREATE FUNCTION orders.order_details(p_client_id bigint, p_order_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	o orders.orders;
	vouchers jsonb := '[]';
BEGIN
	IF p_order_id IS NULL OR p_order_id <= 0 THEN
		RAISE EXCEPTION 'id: must be an integer > 0' USING ERRCODE = 'OR100';
	END IF;
	-- Another client's order is answered exactly like a missing one.
	SELECT * INTO o FROM orders.orders WHERE id = p_order_id AND client_id = p_client_id;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	IF o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED') THEN
		vouchers := orders.reveal_vouchers(p_client_id, o.id);
	END IF;
	RETURN orders.order_common_json(o) || jsonb_build_object(
		'discount', orders.money_text(o.order_discount),
		'vouchers', vouchers);
END
$$;
COMMENT ON FUNCTION orders.order_details(bigint, bigint) IS
'the client''s order as reference 002 shows it, vouchers decrypted when delivered; NULL when the client has no such order (unknown and another client''s alike)';

CREATE FUNCTION orders.find_order_by_po(p_client_id bigint, p_po_number text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	oid bigint;
BEGIN
	SELECT o.id INTO oid FROM orders.orders o
	WHERE o.client_id = p_client_id AND o.po_number = p_po_number;
	RETURN CASE WHEN oid IS NOT NULL THEN orders.order_details(p_client_id, oid) END;
END
$$;
COMMENT ON FUNCTION orders.find_order_by_po(bigint, text) IS
'the order details (reference 002) of the client''s order with that poNumber, NULL when there is none';

-- The schema's default privileges cannot take EXECUTE from PUBLIC (they only
-- add to the global defaults): revoke it from each function here.
REVOKE EXECUTE ON FUNCTION
	orders.order_details(bigint, bigint),
	orders.find_order_by_po(bigint, text)
	FROM PUBLIC;

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
	UNIQUE (order_id, seq)
);
CREATE INDEX order_events_unacknowledged ON orders.order_events (id)
	WHERE acknowledged_at IS NULL;
COMMENT ON TABLE orders.order_events IS
'outbox: one row per order status change (and refund), numbered per order (seq); polled by index, announced by maintenance (NOTIFY orders_events)';

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

-- The vendor job queue.  An order whose items inventory could not serve
-- (PENDING / VENDOR_ORDER_PENDING) gets one job; vendor workers claim jobs
-- with SKIP LOCKED and hold them for a lease (orders.vendor_lease_timeout).
-- Each claim is one attempt, kept in vendor_job_attempts with its lease
-- token: the token is what a vendor's reports must carry.
--
-- Lock order, everywhere in fulfilment: the order row, then its job, then
-- its items, then units.  Claims and maintenance never wait (SKIP LOCKED).

CREATE TABLE orders.vendor_jobs (
	client_id	bigint NOT NULL,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	order_id	bigint NOT NULL UNIQUE REFERENCES orders.orders,
	status		text NOT NULL DEFAULT 'QUEUED'
				CHECK (status IN ('QUEUED', 'LEASED', 'DONE', 'FAILED', 'CANCELLED')),
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	-- end of the retry window: not claimed after it, failed by maintenance
	deadline	timestamptz NOT NULL,
	lease_token uuid UNIQUE,
	leased_by	text,
	lease_until timestamptz,
	vendor_reference text,
	last_error	text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	CHECK ((status = 'LEASED') = (lease_token IS NOT NULL)),
	CHECK ((status = 'LEASED') = (lease_until IS NOT NULL AND leased_by IS NOT NULL))
);
CREATE INDEX vendor_jobs_ready ON orders.vendor_jobs (next_attempt_at, id)
	WHERE status = 'QUEUED';
CREATE INDEX vendor_jobs_leased ON orders.vendor_jobs (lease_until)
	WHERE status = 'LEASED';
COMMENT ON TABLE orders.vendor_jobs IS
'vendor job queue: one job per order waiting for vendor vouchers; QUEUED, LEASED (claimed), DONE, FAILED, CANCELLED';

CREATE TABLE orders.vendor_job_attempts (
	job_id		bigint NOT NULL REFERENCES orders.vendor_jobs,
	attempt		integer NOT NULL CHECK (attempt > 0),
	lease_token uuid NOT NULL UNIQUE,
	leased_by	text NOT NULL,
	claimed_at	timestamptz NOT NULL DEFAULT now(),
	items		integer NOT NULL CHECK (items > 0),
	vendor_reference text,
	order_created_at timestamptz,
	ended_at	timestamptz,
	outcome		text CHECK (outcome IN ('delivered', 'partial', 'submitted',
				'failed_transiently', 'failed_finally', 'lease_expired', 'cancelled')),
	delivered	integer NOT NULL DEFAULT 0 CHECK (delivered >= 0),
	detail		text,
	PRIMARY KEY (job_id, attempt),
	CHECK ((ended_at IS NULL) = (outcome IS NULL))
);
COMMENT ON TABLE orders.vendor_job_attempts IS
'one row per claim of a vendor job: who held it, the lease token, the vendor reference, how it ended';

-- A job for every order that starts waiting for a vendor.
CREATE FUNCTION orders.queue_vendor_job() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	INSERT INTO orders.vendor_jobs (client_id, order_id, deadline)
	VALUES (NEW.client_id, NEW.id, now() + (orders.vendor_policy()).retry_window)
	ON CONFLICT (order_id) DO NOTHING;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.queue_vendor_job() IS
'trigger: queues a vendor job for an order entering PENDING / VENDOR_ORDER_PENDING';

CREATE TRIGGER queue_vendor_job
	AFTER INSERT OR UPDATE OF status, sub_status ON orders.orders
	FOR EACH ROW
	WHEN (NEW.status = 'PENDING' AND NEW.sub_status = 'VENDOR_ORDER_PENDING')
	EXECUTE FUNCTION orders.queue_vendor_job();
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER queue_vendor_job;

CREATE FUNCTION orders.vendor_policy(
	OUT lease_timeout interval, OUT retry_base interval, OUT retry_max interval,
	OUT retry_window interval, OUT sandbox boolean)
	AS 'MODULE_PATHNAME', 'vendor_policy' LANGUAGE C STABLE;
COMMENT ON FUNCTION orders.vendor_policy() IS
'the settings orders.vendor_lease_timeout, vendor_retry_base, vendor_retry_max, vendor_retry_window, sandbox_vendor';

CREATE FUNCTION orders.vendor_retry_delay(attempt integer) RETURNS interval
	AS 'MODULE_PATHNAME', 'vendor_retry_delay' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.vendor_retry_delay(integer) IS
'delay before the next attempt after the given number of failed attempts: retry_base * 2^(attempt-1), at most retry_max';

-- A short, printable name of a vendor worker or a reason: what the
-- history and the attempts keep.
CREATE FUNCTION orders.check_label(p_what text, p_value text, p_max integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_value IS NULL OR length(btrim(p_value)) = 0 THEN
		RAISE EXCEPTION '% must not be empty', p_what USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF length(p_value) > p_max THEN
		RAISE EXCEPTION '% is too long (% characters, at most %)', p_what, length(p_value), p_max
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN p_value;
END
$$;
COMMENT ON FUNCTION orders.check_label(text, text, integer) IS
'p_value if it is non-empty and at most p_max characters, else an error naming p_what';

-- Every id of p_ids is a row of p_table: else an error naming the first
-- missing one (p_what: "event", "inventory unit").
CREATE FUNCTION orders.check_ids(p_what text, p_ids bigint[], p_table regclass) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
	missing bigint;
BEGIN
	IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN
		RAISE EXCEPTION 'no % ids given', p_what USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format('SELECT i FROM unnest($1) i WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE t.id = i) LIMIT 1',
				   p_table) INTO missing USING p_ids;
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION '% % does not exist', p_what, missing USING ERRCODE = 'no_data_found';
	END IF;
END
$$;
COMMENT ON FUNCTION orders.check_ids(text, bigint[], regclass) IS
'raises an error unless p_ids is non-empty and every id is a row of p_table; names the first missing one';

CREATE FUNCTION orders.claim_vendor_jobs(p_worker text, p_limit integer DEFAULT 1,
										 p_product_ids bigint[] DEFAULT NULL)
RETURNS TABLE (job_id bigint, lease_token uuid, lease_until timestamptz,
	order_id bigint, po_number text, product_id bigint, kind text, denomination numeric,
	items integer, recharge_ids bigint[], phone_code text, phone_number text, attempt integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	j record;
	token uuid;
	held integer;
	lease interval := (orders.vendor_policy()).lease_timeout;
	reason text := 'claimed by vendor worker ' || p_worker;
BEGIN
	PERFORM orders.check_label('worker name', p_worker, 100);
	IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'limit must be between 1 and 100, not %', coalesce(p_limit::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- Never waits: a job or order locked by someone else is skipped.
	FOR j IN
		SELECT vj.id, vj.attempts, o.id AS oid, o.po_number, o.product_id, o.denomination,
			o.mobile_country_code, o.mobile_number, p.kind
		FROM orders.vendor_jobs vj JOIN orders.orders o ON o.id = vj.order_id
		JOIN orders.products p ON p.id = o.product_id
		WHERE vj.status = 'QUEUED' AND vj.next_attempt_at <= now() AND vj.deadline > now()
			AND o.status IN ('PENDING', 'PARTIALLY_DELIVERED')
			AND (p_product_ids IS NULL OR o.product_id = ANY (p_product_ids))
		ORDER BY vj.next_attempt_at, vj.id
		LIMIT p_limit
		FOR UPDATE OF vj, o SKIP LOCKED
	LOOP
		-- the items are stable: their order's row is locked
		held := orders.transition_order_items(ARRAY(
			SELECT i.id FROM orders.order_items i
			WHERE i.order_id = j.oid AND i.status = 'PENDING' AND i.unit_id IS NULL
				AND NOT EXISTS (SELECT 1 FROM orders.recharges r
								WHERE r.order_item_id = i.id AND r.status <> 'PENDING')
			ORDER BY i.id), 'PROCESSING', reason);
		IF held = 0 THEN
			-- served meanwhile (restock): nothing left for the vendor
			UPDATE orders.vendor_jobs SET status = 'DONE', updated_at = now() WHERE id = j.id;
			CONTINUE;
		END IF;
		token := gen_random_uuid();
		UPDATE orders.vendor_jobs vj SET status = 'LEASED', attempts = vj.attempts + 1,
			lease_token = token, leased_by = p_worker, lease_until = now() + lease,
			updated_at = now()
		WHERE vj.id = j.id;
		INSERT INTO orders.vendor_job_attempts (job_id, attempt, lease_token, leased_by, items)
		VALUES (j.id, j.attempts + 1, token, p_worker, held);
		job_id := j.id; lease_token := token; lease_until := now() + lease;
		order_id := j.oid; po_number := j.po_number; product_id := j.product_id;
		kind := j.kind; denomination := j.denomination; items := held;
		recharge_ids := (SELECT array_agg(r.id ORDER BY r.id) FROM orders.recharges r
						 JOIN orders.order_items i ON i.id = r.order_item_id
						 WHERE i.order_id = j.oid AND i.status = 'PROCESSING'
							AND r.status = 'PENDING');
		phone_code := j.mobile_country_code; phone_number := j.mobile_number;
		attempt := j.attempts + 1;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION orders.claim_vendor_jobs(text, integer, bigint[]) IS
'vendor side: claims up to p_limit ready jobs (of the given products; NULL: any) with SKIP LOCKED for a lease; returns each with its lease token and what to fetch (vouchers, or the recharges of a top-up)';

-- The open attempt a lease token names, its job and order locked in the
-- fulfilment lock order.  A token whose attempt already ended with the
-- same report is a duplicate (found = false, outcome set); any other use
-- of a token that no longer holds its job is refused.
CREATE FUNCTION orders.lock_vendor_lease(p_job_id bigint, p_lease_token uuid, p_report text,
	OUT duplicate boolean, OUT job orders.vendor_jobs, OUT attempt orders.vendor_job_attempts)
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	order_id bigint;
BEGIN
	IF p_job_id IS NULL OR p_lease_token IS NULL THEN
		RAISE EXCEPTION 'job id and lease token are required' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT vj.order_id INTO order_id FROM orders.vendor_jobs vj WHERE vj.id = p_job_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'vendor job % does not exist', p_job_id USING ERRCODE = 'no_data_found';
	END IF;
	PERFORM 1 FROM orders.orders o WHERE o.id = order_id FOR UPDATE;
	SELECT * INTO job FROM orders.vendor_jobs vj WHERE vj.id = p_job_id FOR UPDATE;
	SELECT * INTO attempt FROM orders.vendor_job_attempts a
	WHERE a.lease_token = p_lease_token AND a.job_id = p_job_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'vendor job %: lease token is not one of its leases', p_job_id
			USING ERRCODE = 'OR501';
	END IF;
	duplicate := CASE p_report
		WHEN 'order_created' THEN attempt.order_created_at IS NOT NULL
		WHEN 'vouchers_fetched' THEN attempt.outcome IN ('delivered', 'partial')
		ELSE attempt.outcome IS NOT DISTINCT FROM p_report END;
	IF duplicate THEN
		RETURN;
	END IF;
	IF attempt.ended_at IS NOT NULL THEN
		RAISE EXCEPTION 'vendor job %: attempt % no longer holds the job (it ended: %)',
			p_job_id, attempt.attempt, attempt.outcome
			USING ERRCODE = 'OR501',
				  HINT = 'Claim the job again with orders.claim_vendor_jobs().';
	END IF;
	IF job.lease_until <= now() THEN
		RAISE EXCEPTION 'vendor job %: the lease of attempt % expired', p_job_id, attempt.attempt
			USING ERRCODE = 'OR501',
				  DETAIL = format('The lease ran out at %s.', job.lease_until),
				  HINT = 'The job returns to the queue; extend a lease in time with orders.extend_vendor_lease().';
	END IF;
END
$$;
COMMENT ON FUNCTION orders.lock_vendor_lease(bigint, uuid, text) IS
'locks a job and its order for a vendor report; flags a repeated report; refuses a lease that no longer holds the job';

CREATE FUNCTION orders.extend_vendor_lease(p_job_id bigint, p_lease_token uuid)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	l record;
	until timestamptz := now() + (orders.vendor_policy()).lease_timeout;
BEGIN
	l := orders.lock_vendor_lease(p_job_id, p_lease_token, 'extend');
	UPDATE orders.vendor_jobs SET lease_until = until, updated_at = now() WHERE id = p_job_id;
	RETURN until;
END
$$;
COMMENT ON FUNCTION orders.extend_vendor_lease(bigint, uuid) IS
'vendor side: keeps holding a job for another orders.vendor_lease_timeout; refused once the lease is lost';

-- Ends the open attempt of a job (the lease is given up) and puts the job
-- back in the queue for its remaining items, after the backoff delay.
CREATE FUNCTION orders.requeue_vendor_job(p_job orders.vendor_jobs, p_outcome text,
	p_detail text, p_delivered integer DEFAULT 0)
RETURNS timestamptz
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	next_at timestamptz := now() + orders.vendor_retry_delay(greatest(p_job.attempts, 1));
	reason text := format('vendor job %s queued again (%s): %s', p_job.id, p_outcome, p_detail);
BEGIN
	UPDATE orders.vendor_job_attempts SET ended_at = now(), outcome = p_outcome,
		delivered = p_delivered, detail = p_detail
	WHERE lease_token = p_job.lease_token;
	-- an item whose recharge was submitted waits for the operator instead
	PERFORM orders.transition_order_items(ARRAY(
		SELECT i.id FROM orders.order_items i
		WHERE i.order_id = p_job.order_id AND i.status = 'PROCESSING'
			AND NOT EXISTS (SELECT 1 FROM orders.recharges r
							WHERE r.order_item_id = i.id AND r.status <> 'PENDING')
		ORDER BY i.id), 'PENDING', reason);
	UPDATE orders.vendor_jobs SET status = 'QUEUED', lease_token = NULL, leased_by = NULL,
		lease_until = NULL, next_attempt_at = next_at, last_error = p_detail, updated_at = now()
	WHERE id = p_job.id;
	-- An order the vendor had accepted waits again; a partly delivered
	-- one stays PARTIALLY_DELIVERED / PARTIAL.
	PERFORM orders.transition_orders(ARRAY(
		SELECT o.id FROM orders.orders o
		WHERE o.id = p_job.order_id AND o.status IN ('PENDING', 'PROCESSING')),
		'PENDING', 'PENDING_REPROCESS', reason);
	RETURN next_at;
END
$$;
COMMENT ON FUNCTION orders.requeue_vendor_job(orders.vendor_jobs, text, text, integer) IS
'ends a job''s open attempt with an outcome and queues the job again after the backoff delay (order PENDING / PENDING_REPROCESS)';

-- Ends a job for good: its open attempt (if any) and the job itself.
CREATE FUNCTION orders.close_vendor_job(p_job orders.vendor_jobs, p_status text,
	p_outcome text, p_detail text, p_delivered integer DEFAULT 0)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	IF p_job.lease_token IS NOT NULL THEN
		UPDATE orders.vendor_job_attempts SET ended_at = now(), outcome = p_outcome,
			delivered = p_delivered, detail = p_detail
		WHERE lease_token = p_job.lease_token;
	END IF;
	UPDATE orders.vendor_jobs SET status = p_status, lease_token = NULL, leased_by = NULL,
		lease_until = NULL, last_error = coalesce(p_detail, last_error), updated_at = now()
	WHERE id = p_job.id;
END
$$;
COMMENT ON FUNCTION orders.close_vendor_job(orders.vendor_jobs, text, text, text, integer) IS
'ends a vendor job (DONE, FAILED or CANCELLED) and its open attempt';

GRANT EXECUTE ON FUNCTION orders.claim_vendor_jobs(text, integer, bigint[]),
	orders.extend_vendor_lease(bigint, uuid) TO orders_vendor, orders_admin;
GRANT EXECUTE ON FUNCTION orders.vendor_policy(), orders.vendor_retry_delay(integer)
	TO orders_vendor, orders_admin;

-- Settling an order from its items: the order's status is derived from
-- its items, and an order none of whose items is still open is settled
-- with money: what was not delivered is refunded, exactly once (the ledger's
-- ledger_one_refund_per_order index and the final sub-status REFUNDED).
-- Cancellation and the admin actions on waiting orders live here too.
-- docs/fulfilment.md.

-- What the delivered part of an order costs: its share of the amount
-- charged, rounded to the cent.  The refund is the rest, so kept + refund
-- is exactly the amount charged.
CREATE FUNCTION orders.undelivered_refund(p_amount_charged numeric, p_quantity integer,
										  p_delivered integer)
RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT p_amount_charged OPERATOR(pg_catalog.-)
		pg_catalog.round(p_amount_charged OPERATOR(pg_catalog.*) p_delivered OPERATOR(pg_catalog./) p_quantity, 2)
$$;
COMMENT ON FUNCTION orders.undelivered_refund(numeric, integer, integer) IS
'refund of the undelivered part: amount charged minus round(amount charged * delivered / quantity, 2)';

-- Refunds what an order did not deliver, if it was debited; returns the
-- amount refunded (0: nothing to refund).  The order stays NOT_REFUNDED
-- (or its failure sub-status) when there was nothing to refund.
CREATE FUNCTION orders.refund_undelivered(p_order orders.orders, p_delivered integer,
										  p_reason text)
RETURNS numeric
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	amount numeric;
BEGIN
	IF p_order.amount_charged IS NULL OR NOT EXISTS (
		SELECT 1 FROM orders.ledger_entries e WHERE e.order_id = p_order.id AND e.kind = 'DEBIT') THEN
		RETURN 0;
	END IF;
	amount := orders.undelivered_refund(p_order.amount_charged, p_order.quantity, p_delivered);
	IF amount <= 0 THEN
		RETURN 0;
	END IF;
	PERFORM orders.refund_order(p_order.id, amount, p_reason);
	PERFORM orders.transition_orders(ARRAY[p_order.id], p_order.status, 'REFUNDED', 'refunded: ' || p_reason);
	RETURN amount;
END
$$;
COMMENT ON FUNCTION orders.refund_undelivered(orders.orders, integer, text) IS
'credits the undelivered part of a debited order back (orders.refund_order, once per order) and marks it REFUNDED';

-- Derives an order's status from its items.  The caller holds the order's
-- row lock and has already moved the items.
--   items still open, some delivered   PARTIALLY_DELIVERED / PARTIAL
--   items still open, none delivered   unchanged
--   all delivered                      DELIVERED / p_delivered_sub
--   none delivered                     p_ended / p_ended_sub, then refund
--                                      (FAILED or CANCELLED, as the caller says)
--   some delivered, the rest ended     PARTIALLY_DELIVERED / NOT_REFUNDED, then refund
CREATE FUNCTION orders.settle_order(p_order_id bigint, p_delivered_sub orders.order_sub_status,
									p_ended orders.order_status,
									p_ended_sub orders.order_sub_status, p_reason text)
RETURNS orders.orders
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	o orders.orders;
	n record;
BEGIN
	SELECT count(*)::integer AS total,
		   (count(*) FILTER (WHERE status = 'DELIVERED'))::integer AS delivered,
		   (count(*) FILTER (WHERE status IN ('PENDING', 'PROCESSING')))::integer AS open
	INTO n FROM orders.order_items WHERE order_id = p_order_id;

	IF n.open > 0 THEN
		IF n.delivered > 0 THEN
			PERFORM orders.transition_orders(ARRAY[p_order_id], 'PARTIALLY_DELIVERED', 'PARTIAL', p_reason);
		END IF;
	ELSIF n.total > 0 AND n.delivered = n.total THEN
		PERFORM orders.transition_orders(ARRAY[p_order_id], 'DELIVERED', p_delivered_sub, p_reason);
	ELSIF n.delivered > 0 THEN
		PERFORM orders.transition_orders(ARRAY[p_order_id], 'PARTIALLY_DELIVERED', 'NOT_REFUNDED', p_reason);
	ELSE
		PERFORM orders.transition_orders(ARRAY[p_order_id], p_ended, p_ended_sub, p_reason);
	END IF;

	SELECT * INTO o FROM orders.orders WHERE id = p_order_id;
	IF n.open = 0 AND n.delivered < n.total THEN
		PERFORM orders.refund_undelivered(o, n.delivered, p_reason);
		SELECT * INTO o FROM orders.orders WHERE id = p_order_id;
	END IF;
	RETURN o;
END
$$;
COMMENT ON FUNCTION orders.settle_order(bigint, orders.order_sub_status, orders.order_status,
										orders.order_sub_status, text) IS
'derives an order''s status from its items; once no item is open, refunds the undelivered part';

-- The order row, locked; "not found" for a missing order and for another
-- client's order alike (p_client_id NULL: any client, for admins).
CREATE FUNCTION orders.lock_order(p_client_id bigint, p_order_id bigint) RETURNS orders.orders
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	o orders.orders;
BEGIN
	SELECT * INTO o FROM orders.orders
	WHERE id = p_order_id AND (p_client_id IS NULL OR client_id = p_client_id)
	FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'order % not found', coalesce(p_order_id::text, 'NULL')
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN o;
END
$$;
COMMENT ON FUNCTION orders.lock_order(bigint, bigint) IS
'locks and returns an order (of that client, or of anyone when p_client_id is NULL); no_data_found otherwise';

-- Cancels an order (of that client; of anyone when p_client_id is NULL)
-- while nothing of it is delivered; returns its state.
CREATE FUNCTION orders.cancel_order_of(p_client_id bigint, p_order_id bigint, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	o orders.orders;
	delivered integer;
	submitted integer;
	items bigint[];
	units bigint[];
	j orders.vendor_jobs;
	reason text := 'cancelled: ' || p_reason;
BEGIN
	PERFORM orders.check_label('reason', p_reason, 500);
	o := orders.lock_order(p_client_id, p_order_id);
	SELECT count(*) INTO delivered FROM orders.order_items
	WHERE order_id = o.id AND status = 'DELIVERED';
	IF o.status NOT IN ('PLACED', 'PENDING', 'PROCESSING') OR delivered > 0 THEN
		RAISE EXCEPTION 'order % cannot be cancelled: it is % / %', o.id,
			o.status, o.sub_status
			USING ERRCODE = 'OR502',
				  DETAIL = CASE WHEN delivered > 0
					THEN format('%s of its %s items are delivered.', delivered, o.quantity)
					ELSE 'Only an order that is PLACED, PENDING or PROCESSING can be cancelled.' END;
	END IF;
	SELECT count(*) INTO submitted FROM orders.recharges r
	JOIN orders.order_items i ON i.id = r.order_item_id
	WHERE i.order_id = o.id AND r.status IN ('DELIVERED', 'RECHARGED');
	IF submitted > 0 THEN
		RAISE EXCEPTION 'order % cannot be cancelled: its recharge was submitted to the operator', o.id
			USING ERRCODE = 'OR502',
				  DETAIL = 'A recharge can be cancelled only before it is submitted; wait for the operator''s answer.';
	END IF;

	SELECT * INTO j FROM orders.vendor_jobs WHERE order_id = o.id FOR UPDATE;
	IF FOUND AND j.status IN ('QUEUED', 'LEASED') THEN
		PERFORM orders.close_vendor_job(j, 'CANCELLED', 'cancelled', p_reason);
	END IF;
	PERFORM orders.transition_recharges(ARRAY(
		SELECT r.id FROM orders.recharges r JOIN orders.order_items i ON i.id = r.order_item_id
		WHERE i.order_id = o.id AND r.status = 'PENDING' ORDER BY r.id), 'CANCELLED', reason);
	-- A unit reserved for an open item goes back to the pool.
	SELECT array_agg(id ORDER BY id), array_agg(unit_id) FILTER (WHERE unit_id IS NOT NULL)
	INTO items, units FROM orders.order_items
	WHERE order_id = o.id AND status IN ('PENDING', 'PROCESSING');
	UPDATE orders.order_items SET unit_id = NULL WHERE id = ANY (items) AND unit_id IS NOT NULL;
	PERFORM orders.transition_order_items(items, 'CANCELLED', reason);
	PERFORM orders.transition_inventory_units(ARRAY(
		SELECT u.id FROM orders.inventory_units u
		WHERE u.id = ANY (units) AND u.status = 'ALLOCATED' ORDER BY u.id), 'AVAILABLE', reason);
	PERFORM orders.settle_order(o.id, 'COMPLETED', 'CANCELLED', 'NOT_REFUNDED', reason);
	RETURN orders.order_state(o.id);
END
$$;
COMMENT ON FUNCTION orders.cancel_order_of(bigint, bigint, text) IS
'cancels an order (of a client, or any when p_client_id is NULL) while nothing of it is delivered: job, recharges, items cancelled, units released, full refund';

CREATE FUNCTION orders.cancel_order(p_client_id bigint, p_order_id bigint,
									p_reason text DEFAULT 'cancelled by the client')
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	IF p_client_id IS NULL THEN
		RAISE EXCEPTION 'client id is required' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN orders.cancel_order_of(p_client_id, p_order_id, p_reason);
END
$$;
COMMENT ON FUNCTION orders.cancel_order(bigint, bigint, text) IS
'a client cancels its own order while nothing of it is delivered: CANCELLED and a full refund; refused (OR502) after a delivery';

CREATE FUNCTION orders.admin_cancel_order(p_order_id bigint, p_reason text)
RETURNS jsonb
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	SELECT orders.cancel_order_of(NULL, p_order_id, p_reason)
$$;
COMMENT ON FUNCTION orders.admin_cancel_order(bigint, text) IS
'an admin cancels any order while nothing of it is delivered: CANCELLED and a full refund';

-- What fulfilment functions answer: the order's state in a few fields.
CREATE FUNCTION orders.order_state(p_order_id bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT jsonb_build_object(
		'order_id', o.id, 'status', o.status, 'sub_status', o.sub_status,
		'items', (SELECT jsonb_object_agg(s.status, s.n) FROM (
			SELECT i.status::text AS status, count(*) AS n FROM orders.order_items i
			WHERE i.order_id = o.id GROUP BY i.status) s),
		'refunded', (SELECT e.amount FROM orders.ledger_entries e
					 WHERE e.order_id = o.id AND e.kind = 'REFUND'))
	FROM orders.orders o WHERE o.id = p_order_id
$$;
COMMENT ON FUNCTION orders.order_state(bigint) IS
'an order''s status, sub-status, item counts by status and refunded amount, as JSON';

-- Orders waiting for someone: over the bulk limit (an admin approves),
-- out of stock (the vendor queue, or an admin), retrying.
CREATE VIEW orders.orders_awaiting_action AS
SELECT o.client_id, o.id AS order_id, o.po_number, o.product_id, o.denomination, o.quantity,
	   o.status, o.sub_status, o.placed_at,
	   j.id AS job_id, j.status AS job_status, j.attempts, j.next_attempt_at, j.deadline,
	   j.last_error
FROM orders.orders o
LEFT JOIN orders.vendor_jobs j ON j.order_id = o.id
WHERE o.status = 'PENDING'
	AND o.sub_status IN ('BULK_LIMIT_EXCEEDED', 'VENDOR_ORDER_PENDING', 'PENDING_REPROCESS');
COMMENT ON VIEW orders.orders_awaiting_action IS
'PENDING orders waiting for an admin (BULK_LIMIT_EXCEEDED), for stock or a vendor (VENDOR_ORDER_PENDING, PENDING_REPROCESS), with their vendor job';

-- An admin releases a waiting order: one over the bulk limit is approved
-- (served from inventory now if there is enough, else queued for the
-- vendor); one waiting for stock or a retry is retried now.
CREATE FUNCTION orders.admin_release_order(p_order_id bigint, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	o orders.orders;
BEGIN
	PERFORM orders.check_label('reason', p_reason, 500);
	o := orders.lock_order(NULL, p_order_id);
	IF o.status <> 'PENDING' OR o.sub_status NOT IN
		('BULK_LIMIT_EXCEEDED', 'VENDOR_ORDER_PENDING', 'PENDING_REPROCESS') THEN
		RAISE EXCEPTION 'order % is not waiting for action: it is % / %', o.id, o.status, o.sub_status
			USING ERRCODE = 'OR504',
				  HINT = 'orders.orders_awaiting_action lists the orders an admin can release.';
	END IF;
	IF o.sub_status = 'BULK_LIMIT_EXCEEDED' THEN
		IF NOT orders.deliver_from_inventory(o) THEN
			PERFORM orders.transition_orders(ARRAY[o.id], 'PENDING', 'VENDOR_ORDER_PENDING',
									  'approved by an admin, inventory short: ' || p_reason);
		END IF;
	ELSE
		UPDATE orders.vendor_jobs SET next_attempt_at = now(), updated_at = now(),
			last_error = coalesce(last_error || '; ', '') || 'retry now: ' || p_reason
		WHERE order_id = o.id AND status = 'QUEUED';
		IF NOT FOUND THEN
			RAISE EXCEPTION 'order % has no queued vendor job to retry', o.id
				USING ERRCODE = 'OR504',
					  DETAIL = 'Its job is being worked on by a vendor, or already ended.';
		END IF;
	END IF;
	RETURN orders.order_state(o.id);
END
$$;
COMMENT ON FUNCTION orders.admin_release_order(bigint, text) IS
'admin: approves an order over the bulk limit (inventory now, else the vendor queue) or retries a waiting order now';

GRANT EXECUTE ON FUNCTION orders.admin_cancel_order(bigint, text),
	orders.admin_release_order(bigint, text), orders.order_state(bigint) TO orders_admin;
GRANT SELECT ON orders.orders_awaiting_action TO orders_admin;

-- What a vendor worker reports about a job it holds (a lease token from
-- orders.claim_vendor_jobs): vendor order created, vouchers fetched, failed
-- transiently or finally.  Each report is idempotent: the same report again
-- with the same token changes nothing and answers "duplicate": true.  A
-- token that no longer holds its job is refused (OR501).

-- Fails every item of an order that is still open (and its recharge, if
-- it was never submitted).
CREATE FUNCTION orders.fail_open_items(p_order_id bigint, p_reason text) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	PERFORM orders.transition_recharges(ARRAY(
		SELECT r.id FROM orders.recharges r JOIN orders.order_items i ON i.id = r.order_item_id
		WHERE i.order_id = p_order_id AND i.status IN ('PENDING', 'PROCESSING')
			AND r.status = 'PENDING' ORDER BY r.id), 'FAILED', p_reason);
	RETURN orders.transition_order_items(ARRAY(
		SELECT i.id FROM orders.order_items i
		WHERE i.order_id = p_order_id AND i.status IN ('PENDING', 'PROCESSING') ORDER BY i.id),
		'FAILED', p_reason);
END
$$;
COMMENT ON FUNCTION orders.fail_open_items(bigint, text) IS
'marks the open items of an order FAILED (and their unsubmitted recharges); returns how many';

-- The answer of a report: the order's state, the job's, and whether the
-- report was a repeat that changed nothing.
CREATE FUNCTION orders.vendor_report_answer(p_job_id bigint, p_duplicate boolean) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT orders.order_state(j.order_id) || jsonb_build_object(
		'job_id', j.id, 'job_status', j.status, 'attempts', j.attempts,
		'next_attempt_at', CASE WHEN j.status = 'QUEUED' THEN j.next_attempt_at END,
		'duplicate', p_duplicate)
	FROM orders.vendor_jobs j WHERE j.id = p_job_id
$$;
COMMENT ON FUNCTION orders.vendor_report_answer(bigint, boolean) IS
'what a vendor report returns: the order''s state, the job''s status and attempts, and whether the report was a duplicate';

CREATE FUNCTION orders.report_vendor_order_created(p_job_id bigint, p_lease_token uuid,
												   p_vendor_reference text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	l record;
BEGIN
	PERFORM orders.check_label('vendor reference', p_vendor_reference, 200);
	l := orders.lock_vendor_lease(p_job_id, p_lease_token, 'order_created');
	IF l.duplicate THEN
		IF (l.attempt).vendor_reference <> p_vendor_reference THEN
			RAISE EXCEPTION 'vendor job %: attempt % already reported another vendor order',
				p_job_id, (l.attempt).attempt USING ERRCODE = 'OR503';
		END IF;
		RETURN orders.vendor_report_answer(p_job_id, true);
	END IF;
	UPDATE orders.vendor_job_attempts SET vendor_reference = p_vendor_reference,
		order_created_at = now()
	WHERE lease_token = p_lease_token;
	UPDATE orders.vendor_jobs SET vendor_reference = p_vendor_reference, updated_at = now()
	WHERE id = p_job_id;
	IF (SELECT status FROM orders.orders WHERE id = (l.job).order_id) = 'PENDING' THEN
		PERFORM orders.transition_orders(ARRAY[(l.job).order_id], 'PROCESSING', 'VENDOR_ORDER_CREATED',
								  'vendor order created');
	END IF;
	RETURN orders.vendor_report_answer(p_job_id, false);
END
$$;
COMMENT ON FUNCTION orders.report_vendor_order_created(bigint, uuid, text) IS
'vendor side: the vendor accepted the order (PROCESSING / VENDOR_ORDER_CREATED); the vendor reference is kept';

-- The vouchers are codes: a failing call's statement and parameters stay
-- out of the server log, as in orders.load_inventory.
CREATE FUNCTION orders.report_vouchers_fetched(p_job_id bigint, p_lease_token uuid,
											   p_vouchers jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
DECLARE
	l record;
	o orders.orders;
	held bigint[];
	units bigint[];
	n integer;
BEGIN
	IF jsonb_typeof(p_vouchers) IS DISTINCT FROM 'array' OR jsonb_array_length(p_vouchers) = 0 THEN
		RAISE EXCEPTION 'vouchers must be a non-empty JSON array'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Report a failure with orders.report_vendor_failure() when the vendor delivered nothing.';
	END IF;
	n := jsonb_array_length(p_vouchers);
	l := orders.lock_vendor_lease(p_job_id, p_lease_token, 'vouchers_fetched');
	IF l.duplicate THEN
		RETURN orders.vendor_report_answer(p_job_id, true);
	END IF;
	SELECT * INTO o FROM orders.orders WHERE id = (l.job).order_id;
	SELECT array_agg(id ORDER BY id) INTO held FROM orders.order_items
	WHERE order_id = o.id AND status = 'PROCESSING';
	IF n > coalesce(cardinality(held), 0) THEN
		RAISE EXCEPTION 'vendor job %: % vouchers for % held items', p_job_id, n,
			coalesce(cardinality(held), 0) USING ERRCODE = 'invalid_parameter_value';
	END IF;

	units := orders.store_vendor_vouchers(o.product_id, o.denomination, p_vouchers);
	PERFORM orders.deliver_items(held[1:n], units, 'vouchers fetched from the vendor');
	-- Settle first, so that a partial delivery goes straight to
	-- PARTIALLY_DELIVERED; then give the lease up.
	PERFORM orders.settle_order(o.id, 'VENDOR_VOUCHER_FETCHED', 'FAILED', 'VENDOR_ORDER_FAILED',
								'vouchers fetched from the vendor');
	IF n = cardinality(held) THEN
		PERFORM orders.close_vendor_job(l.job, 'DONE', 'delivered', NULL, n);
	ELSE
		PERFORM orders.requeue_vendor_job(l.job, 'partial',
			format('the vendor delivered %s of %s vouchers', n, cardinality(held)), n);
	END IF;
	RETURN orders.vendor_report_answer(p_job_id, false);
END
$$;
COMMENT ON FUNCTION orders.report_vouchers_fetched(bigint, uuid, jsonb) IS
'vendor side: vouchers for the held items (JSON array, as orders.load_inventory takes them) go into the vault and are delivered; fewer than held is a partial delivery, the rest is retried';

CREATE FUNCTION orders.report_vendor_failure(p_job_id bigint, p_lease_token uuid,
											 p_final boolean, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	l record;
BEGIN
	PERFORM orders.check_label('reason', p_reason, 500);
	IF p_final IS NULL THEN
		RAISE EXCEPTION 'final must be true or false' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	l := orders.lock_vendor_lease(p_job_id, p_lease_token,
		CASE WHEN p_final THEN 'failed_finally' ELSE 'failed_transiently' END);
	IF l.duplicate THEN
		RETURN orders.vendor_report_answer(p_job_id, true);
	END IF;
	IF NOT p_final THEN
		PERFORM orders.requeue_vendor_job(l.job, 'failed_transiently', p_reason);
	ELSE
		PERFORM orders.fail_open_items((l.job).order_id, 'vendor failed: ' || p_reason);
		PERFORM orders.close_vendor_job(l.job, 'FAILED', 'failed_finally', p_reason);
		PERFORM orders.settle_order((l.job).order_id, 'VENDOR_VOUCHER_FETCHED', 'FAILED',
									'VENDOR_ORDER_FAILED', 'vendor failed: ' || p_reason);
	END IF;
	RETURN orders.vendor_report_answer(p_job_id, false);
END
$$;
COMMENT ON FUNCTION orders.report_vendor_failure(bigint, uuid, boolean, text) IS
'vendor side: a transient failure queues the job again after the backoff (PENDING / PENDING_REPROCESS); a final one fails the open items and refunds (FAILED / VENDOR_ORDER_FAILED, then REFUNDED)';

GRANT EXECUTE ON FUNCTION orders.report_vendor_order_created(bigint, uuid, text),
	orders.report_vouchers_fetched(bigint, uuid, jsonb),
	orders.report_vendor_failure(bigint, uuid, boolean, text)
	TO orders_vendor, orders_admin;

-- Inventory seen from fulfilment: delivering units to items, restock
-- (loading units first serves the items waiting for them, oldest first),
-- expiry (BLOCKED, never allocated) and vendor recall (REVOKED).

-- Links units to items pairwise (p_items[k] gets p_units[k]) and delivers
-- them: unit AVAILABLE -> ALLOCATED -> DELIVERED, item -> DELIVERED.  The
-- unique item -> unit link makes a double sale impossible.
CREATE FUNCTION orders.deliver_items(p_items bigint[], p_units bigint[], p_reason text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	IF coalesce(cardinality(p_items), 0) <> coalesce(cardinality(p_units), 0) THEN
		RAISE EXCEPTION 'deliver_items: % items but % units',
			coalesce(cardinality(p_items), 0), coalesce(cardinality(p_units), 0);
	END IF;
	PERFORM orders.transition_inventory_units(p_units, 'ALLOCATED', p_reason);
	UPDATE orders.order_items i SET unit_id = pair.unit_id
	FROM unnest(p_items, p_units) AS pair(item_id, unit_id)
	WHERE i.id = pair.item_id;
	PERFORM orders.transition_order_items(p_items, 'DELIVERED', p_reason);
	PERFORM orders.transition_inventory_units(p_units, 'DELIVERED', p_reason);
END
$$;
COMMENT ON FUNCTION orders.deliver_items(bigint[], bigint[], text) IS
'delivers units to items pairwise: each unit ALLOCATED then DELIVERED, each item DELIVERED and linked to its unit';

-- Serves the items waiting in the vendor queue for a product and
-- denomination from AVAILABLE unexpired units (earliest expiry first),
-- oldest order first.  Waits for the lock of a waiting order (first in,
-- first out); never takes a unit another transaction holds.  Returns the
-- number of items served.
CREATE FUNCTION orders.serve_waiting_items(p_product_id bigint, p_denomination numeric)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	w record;
	items bigint[];
	units bigint[];
	served integer := 0;
BEGIN
	FOR w IN
		SELECT o.id AS order_id, j AS job
		FROM orders.orders o JOIN orders.vendor_jobs j ON j.order_id = o.id
		WHERE o.product_id = p_product_id AND o.denomination = p_denomination
			AND o.status IN ('PENDING', 'PARTIALLY_DELIVERED') AND j.status = 'QUEUED'
		ORDER BY o.placed_at, o.id
		FOR UPDATE OF o, j
	LOOP
		SELECT array_agg(i.id ORDER BY i.id) INTO items FROM orders.order_items i
		WHERE i.order_id = w.order_id AND i.status = 'PENDING' AND i.unit_id IS NULL;
		CONTINUE WHEN items IS NULL;
		SELECT array_agg(u.id ORDER BY u.expires_at, u.id) INTO units
		FROM (SELECT id, expires_at FROM orders.inventory_units
			  WHERE product_id = p_product_id AND denomination = p_denomination
				AND status = 'AVAILABLE' AND expires_at > now()
			  ORDER BY expires_at, id
			  LIMIT cardinality(items)
			  FOR UPDATE SKIP LOCKED) u;
		EXIT WHEN units IS NULL;
		items := items[1:cardinality(units)];
		PERFORM orders.deliver_items(items, units, 'served by a restock');
		served := served + cardinality(items);
		PERFORM orders.settle_order(w.order_id, 'INVENTORY_FULFILLED', 'FAILED',
									'VENDOR_ORDER_FAILED', 'served by a restock');
		IF NOT EXISTS (SELECT 1 FROM orders.order_items
					   WHERE order_id = w.order_id AND status IN ('PENDING', 'PROCESSING')) THEN
			PERFORM orders.close_vendor_job(w.job, 'DONE', NULL, 'served by a restock');
		END IF;
	END LOOP;
	RETURN served;
END
$$;
COMMENT ON FUNCTION orders.serve_waiting_items(bigint, numeric) IS
'serves items waiting in the vendor queue for a product and denomination from available units, oldest order first; returns how many';

CREATE FUNCTION orders.restock_on_load() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	pd record;
BEGIN
	IF NOT current_setting('orders.restock_on_load')::boolean THEN
		RETURN NULL;
	END IF;
	FOR pd IN
		SELECT DISTINCT product_id, denomination FROM loaded
		WHERE status = 'AVAILABLE' ORDER BY product_id, denomination
	LOOP
		PERFORM orders.serve_waiting_items(pd.product_id, pd.denomination);
	END LOOP;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.restock_on_load() IS
'trigger: units just loaded first serve the items waiting for their product and denomination (unless orders.restock_on_load is off)';

CREATE TRIGGER restock_on_load
	AFTER INSERT ON orders.inventory_units
	REFERENCING NEW TABLE AS loaded
	FOR EACH STATEMENT EXECUTE FUNCTION orders.restock_on_load();
ALTER TABLE orders.inventory_units ENABLE ALWAYS TRIGGER restock_on_load;

-- Vouchers a vendor delivered for a job's items: into the vault through
-- its loader (encrypted on the way in, a code loaded twice refused), with
-- restock suspended so that they do not serve anyone else's waiting items.
-- Product and denomination are the order's.  Returns the new units' ids in
-- the order of the array.  A voucher already expired is refused: the
-- caller's whole report fails and changes nothing.
CREATE FUNCTION orders.store_vendor_vouchers(p_product_id bigint, p_denomination numeric,
											 p_vouchers jsonb)
RETURNS bigint[]
LANGUAGE plpgsql
SET search_path = pg_catalog, orders
SET log_min_error_statement = panic
SET log_parameter_max_length_on_error = 0
AS $$
DECLARE
	restock text := current_setting('orders.restock_on_load');
	units bigint[];
	expired integer;
BEGIN
	PERFORM set_config('orders.restock_on_load', 'off', true);
	SELECT array_agg(l.unit_id ORDER BY l.entry), min(l.entry) FILTER (WHERE l.status <> 'AVAILABLE')
	INTO units, expired
	FROM orders.load_inventory((
		SELECT jsonb_agg(CASE WHEN jsonb_typeof(e.v) = 'object'
						 THEN e.v || jsonb_build_object('product_id', p_product_id,
														'denomination', p_denomination)
						 ELSE e.v END ORDER BY e.ord)
		FROM jsonb_array_elements(p_vouchers) WITH ORDINALITY AS e(v, ord))) AS l;
	PERFORM set_config('orders.restock_on_load', restock, true);
	IF expired IS NOT NULL THEN
		RAISE EXCEPTION 'vendor voucher % is already expired', expired
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Nothing was stored.';
	END IF;
	RETURN units;
END
$$;
COMMENT ON FUNCTION orders.store_vendor_vouchers(bigint, numeric, jsonb) IS
'stores vendor vouchers in the vault (orders.load_inventory) as units of the order''s product and denomination, restock suspended; returns their ids in array order';

-- A unit another transaction holds (being allocated) is left to the next
-- round: once locked here, a unit cannot change under the transition.
CREATE FUNCTION orders.expire_units() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
BEGIN
	RETURN orders.transition_inventory_units(ARRAY(
		SELECT u.id FROM orders.inventory_units u
		WHERE u.status = 'AVAILABLE' AND u.expires_at <= now()
		ORDER BY u.id FOR UPDATE SKIP LOCKED), 'BLOCKED', 'expired');
END
$$;
COMMENT ON FUNCTION orders.expire_units() IS
'AVAILABLE units past their expiry become BLOCKED (never allocated again); returns how many';

-- A vendor recall.  A unit not yet sold leaves the pool for good.  A unit
-- already delivered is marked REVOKED too, but its order and item stay
-- DELIVERED and nothing is refunded automatically: the client holds the
-- code (and may have redeemed it); the answer lists the orders concerned,
-- so that an operator settles them with the vendor and the client.
CREATE FUNCTION orders.revoke_units(p_unit_ids bigint[], p_reason text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	revoked integer;
	delivered jsonb;
BEGIN
	PERFORM orders.check_label('reason', p_reason, 500);
	PERFORM orders.check_ids('inventory unit', p_unit_ids, 'orders.inventory_units');
	SELECT coalesce(jsonb_agg(jsonb_build_object('unit_id', i.unit_id, 'order_id', i.order_id,
			'client_id', i.client_id) ORDER BY i.unit_id), '[]')
	INTO delivered
	FROM orders.order_items i JOIN orders.inventory_units u ON u.id = i.unit_id
	WHERE u.id = ANY (p_unit_ids) AND u.status IN ('DELIVERED', 'COMPLETED');
	revoked := orders.transition_inventory_units(p_unit_ids, 'REVOKED',
												'recalled by the vendor: ' || p_reason);
	RETURN jsonb_build_object('revoked', revoked, 'delivered_units', delivered);
END
$$;
COMMENT ON FUNCTION orders.revoke_units(bigint[], text) IS
'vendor recall: units become REVOKED; delivered ones keep their order DELIVERED and are listed for an operator (no automatic refund)';

GRANT EXECUTE ON FUNCTION orders.revoke_units(bigint[], text) TO orders_vendor, orders_admin;

-- Mobile top-ups.  A top-up order has one recharge per item and a vendor
-- job like any DELAYED order; the operator side claims the job, submits
-- each recharge (PENDING -> DELIVERED, under the job's lease) and later
-- answers for each (DELIVERED -> RECHARGED or FAILED, keyed by the
-- operator's reference: that answer may come long after the lease).
-- RECHARGED delivers the item, FAILED fails it; the order is settled from
-- its items, so a failed recharge is refunded.

-- The recharge, its item and its order (locked).
CREATE FUNCTION orders.lock_recharge(p_recharge_id bigint,
	OUT recharge orders.recharges, OUT item orders.order_items, OUT ord orders.orders)
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	order_id bigint;
BEGIN
	SELECT i.order_id INTO order_id FROM orders.recharges r
	JOIN orders.order_items i ON i.id = r.order_item_id WHERE r.id = p_recharge_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'recharge % does not exist', coalesce(p_recharge_id::text, 'NULL')
			USING ERRCODE = 'no_data_found';
	END IF;
	ord := orders.lock_order(NULL, order_id);
	SELECT * INTO recharge FROM orders.recharges WHERE id = p_recharge_id FOR UPDATE;
	SELECT * INTO item FROM orders.order_items WHERE id = recharge.order_item_id FOR UPDATE;
END
$$;
COMMENT ON FUNCTION orders.lock_recharge(bigint) IS
'locks a recharge''s order, then the recharge and its item; no_data_found for an unknown recharge';

CREATE FUNCTION orders.recharge_answer(p_recharge_id bigint, p_duplicate boolean) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT orders.order_state(i.order_id) || jsonb_build_object(
		'recharge_id', r.id, 'recharge_status', r.status, 'duplicate', p_duplicate)
	FROM orders.recharges r JOIN orders.order_items i ON i.id = r.order_item_id
	WHERE r.id = p_recharge_id
$$;
COMMENT ON FUNCTION orders.recharge_answer(bigint, boolean) IS
'what a recharge report returns: the order''s state, the recharge''s status, whether the report was a duplicate';

CREATE FUNCTION orders.report_recharge_submitted(p_job_id bigint, p_lease_token uuid,
	p_recharge_id bigint, p_operator_reference text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	r record;
	l record;
BEGIN
	PERFORM orders.check_label('operator reference', p_operator_reference, 200);
	r := orders.lock_recharge(p_recharge_id);
	IF NOT EXISTS (SELECT 1 FROM orders.vendor_jobs WHERE id = p_job_id AND order_id = (r.ord).id) THEN
		RAISE EXCEPTION 'recharge % is not part of vendor job %', p_recharge_id, p_job_id
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF (r.recharge).operator_reference IS NOT DISTINCT FROM p_operator_reference THEN
		RETURN orders.recharge_answer(p_recharge_id, true);
	END IF;
	l := orders.lock_vendor_lease(p_job_id, p_lease_token, 'recharge_submitted');
	IF (r.recharge).status <> 'PENDING' OR (r.item).status <> 'PROCESSING' THEN
		RAISE EXCEPTION 'recharge % cannot be submitted: it is %, its item %', p_recharge_id,
			(r.recharge).status, (r.item).status USING ERRCODE = 'OR503';
	END IF;
	UPDATE orders.recharges SET operator_reference = p_operator_reference WHERE id = p_recharge_id;
	PERFORM orders.transition_recharges(ARRAY[p_recharge_id], 'DELIVERED', 'submitted to the operator');
	IF (r.ord).status = 'PENDING' THEN
		PERFORM orders.transition_orders(ARRAY[(r.ord).id], 'PROCESSING', 'VENDOR_ORDER_CREATED',
								  'recharge submitted to the operator');
	END IF;
	-- Every held recharge submitted: the queue's part is done.
	IF NOT EXISTS (SELECT 1 FROM orders.recharges rc JOIN orders.order_items i ON i.id = rc.order_item_id
				   WHERE i.order_id = (r.ord).id AND i.status = 'PROCESSING' AND rc.status = 'PENDING') THEN
		PERFORM orders.close_vendor_job(l.job, 'DONE', 'submitted', NULL,
			(SELECT count(*)::integer FROM orders.recharges rc
			 JOIN orders.order_items i ON i.id = rc.order_item_id
			 WHERE i.order_id = (r.ord).id AND rc.status <> 'PENDING'));
	END IF;
	RETURN orders.recharge_answer(p_recharge_id, false);
END
$$;
COMMENT ON FUNCTION orders.report_recharge_submitted(bigint, uuid, bigint, text) IS
'operator side: a recharge of a held top-up job was submitted (PENDING -> DELIVERED), with the operator''s reference';

CREATE FUNCTION orders.report_recharge_result(p_recharge_id bigint, p_operator_reference text,
	p_status orders.recharge_status, p_detail text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	r record;
	reason text;
BEGIN
	IF p_status IS NULL OR p_status NOT IN ('RECHARGED', 'FAILED') THEN
		RAISE EXCEPTION 'a recharge result is RECHARGED or FAILED, not %', coalesce(p_status::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_detail IS NOT NULL THEN
		PERFORM orders.check_label('detail', p_detail, 500);
	END IF;
	r := orders.lock_recharge(p_recharge_id);
	IF (r.recharge).operator_reference IS DISTINCT FROM p_operator_reference THEN
		RAISE EXCEPTION 'recharge %: the operator reference does not match', p_recharge_id
			USING ERRCODE = 'OR501',
				  DETAIL = CASE WHEN (r.recharge).operator_reference IS NULL
					THEN 'The recharge was not submitted yet.'
					ELSE 'It is not the reference the recharge was submitted with.' END;
	END IF;
	IF (r.recharge).status = p_status THEN
		RETURN orders.recharge_answer(p_recharge_id, true);
	END IF;
	IF (r.recharge).status <> 'DELIVERED' THEN
		RAISE EXCEPTION 'recharge % is already %: % is refused', p_recharge_id,
			(r.recharge).status, p_status USING ERRCODE = 'OR503';
	END IF;
	reason := CASE WHEN p_status = 'RECHARGED' THEN 'the operator confirmed the recharge'
			  ELSE 'the operator rejected the recharge' END
			  || coalesce(': ' || p_detail, '');
	UPDATE orders.recharges SET detail = p_detail WHERE id = p_recharge_id;
	PERFORM orders.transition_recharges(ARRAY[p_recharge_id], p_status, reason);
	PERFORM orders.transition_order_items(ARRAY[(r.item).id],
		CASE WHEN p_status = 'RECHARGED' THEN 'DELIVERED' ELSE 'FAILED' END::orders.order_status,
		reason);
	PERFORM orders.settle_order((r.ord).id, 'COMPLETED', 'FAILED', 'VENDOR_ORDER_FAILED', reason);
	RETURN orders.recharge_answer(p_recharge_id, false);
END
$$;
COMMENT ON FUNCTION orders.report_recharge_result(bigint, text, orders.recharge_status, text) IS
'operator side: the answer for a submitted recharge, RECHARGED (item delivered) or FAILED (item failed, refunded when the order ends)';

GRANT EXECUTE ON FUNCTION orders.report_recharge_submitted(bigint, uuid, bigint, text),
	orders.report_recharge_result(bigint, text, orders.recharge_status, text)
	TO orders_vendor, orders_admin;

-- Maintenance: what time alone changes.  orders.run_maintenance() is what
-- the background worker (src/worker.c) runs every orders.worker_interval,
-- and what an operator calls or schedules where orders cannot be preloaded.
-- It also wakes the consumers of the events outbox (orders.announce_events).
-- Each job is handled in its own subtransaction: one that fails is logged
-- (WARNING) and left for the next round; the others go on.

-- A job whose retry window closed: REPROCESS_EXPIRED, then FAILED, then
-- the refund (of the undelivered part, for a partly delivered order).
CREATE FUNCTION orders.expire_vendor_job(p_job orders.vendor_jobs) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	reason text := format('retry window of vendor job %s closed after %s attempts',
						  p_job.id, p_job.attempts);
BEGIN
	IF (SELECT status FROM orders.orders WHERE id = p_job.order_id) = 'PENDING' THEN
		PERFORM orders.transition_orders(ARRAY[p_job.order_id], 'PENDING', 'REPROCESS_EXPIRED', reason);
	END IF;
	PERFORM orders.fail_open_items(p_job.order_id, reason);
	PERFORM orders.close_vendor_job(p_job, 'FAILED', NULL, reason);
	PERFORM orders.settle_order(p_job.order_id, 'VENDOR_VOUCHER_FETCHED', 'FAILED',
								'REPROCESS_EXPIRED', reason);
END
$$;
COMMENT ON FUNCTION orders.expire_vendor_job(orders.vendor_jobs) IS
'ends a vendor job past its retry window: order REPROCESS_EXPIRED, then FAILED (or PARTIALLY_DELIVERED), then refunded';

-- Waking the outbox's consumers, after commit.  The order's own transaction
-- sends no NOTIFY (every notifying transaction takes one lock shared by all
-- of them until after its commit: orders would commit one at a time), so
-- maintenance does it, once per round at most: when the newest
-- unacknowledged event is not the one it announced last.  That covers new
-- events, and an event of a lower id that committed after the last
-- announcement (once the events above it are acknowledged).  Cost per
-- round: one backward step in the partial index order_events_unacknowledged
-- and one row read; a write and a NOTIFY only when there is news.
CREATE TABLE orders.outbox_announcement (
	only_row	boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	last_event_id bigint,		-- the newest unacknowledged event when announced
	announced_at timestamptz
);
INSERT INTO orders.outbox_announcement DEFAULT VALUES;
COMMENT ON TABLE orders.outbox_announcement IS
'one row: the newest unacknowledged outbox event that maintenance last announced on channel orders_events, and when';

CREATE FUNCTION orders.announce_events() RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	newest bigint := (SELECT max(e.id) FROM orders.order_events e WHERE e.acknowledged_at IS NULL);
BEGIN
	IF newest IS NULL THEN
		RETURN NULL;
	END IF;
	-- two rounds at once: the second waits for the row, then finds it done
	UPDATE orders.outbox_announcement SET last_event_id = newest, announced_at = now()
	WHERE last_event_id IS DISTINCT FROM newest;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	-- delivered when this (maintenance) transaction commits
	PERFORM pg_notify('orders_events', json_build_object('last_event_id', newest)::text);
	RETURN newest;
END
$$;
COMMENT ON FUNCTION orders.announce_events() IS
'sends NOTIFY orders_events {"last_event_id": id} when the newest unacknowledged outbox event is not the one announced last; returns it (NULL: nothing new)';

CREATE FUNCTION orders.run_maintenance() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	j orders.vendor_jobs;
	pd record;
	blocked integer;
	recovered integer := 0;
	expired integer := 0;
	served integer := 0;
	errors integer := 0;
	sandbox jsonb;
	announced bigint;
	counts bigint;
BEGIN
	blocked := orders.expire_units();

	-- Leases that ran out: the job returns to the queue (after the backoff,
	-- as a failed attempt).  Retry windows that closed: the job ends.  Busy
	-- orders are left to the next round.
	FOR j IN
		SELECT vj.* FROM orders.vendor_jobs vj JOIN orders.orders o ON o.id = vj.order_id
		WHERE (vj.status = 'LEASED' AND vj.lease_until <= now())
		   OR (vj.status = 'QUEUED' AND vj.deadline <= now())
		ORDER BY vj.id
		FOR UPDATE OF vj, o SKIP LOCKED
	LOOP
		BEGIN
			IF j.status = 'LEASED' THEN
				PERFORM orders.requeue_vendor_job(j, 'lease_expired',
					format('the lease of %s expired', j.leased_by));
				recovered := recovered + 1;
			ELSE
				PERFORM orders.expire_vendor_job(j);
				expired := expired + 1;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			errors := errors + 1;
			RAISE WARNING 'orders maintenance: vendor job % (%): %', j.id, j.status, SQLERRM;
		END;
	END LOOP;

	-- Units loaded while restock was off, or freed by a cancellation,
	-- serve the waiting items.
	FOR pd IN
		SELECT DISTINCT o.product_id, o.denomination
		FROM orders.vendor_jobs vj JOIN orders.orders o ON o.id = vj.order_id
		WHERE vj.status = 'QUEUED' AND o.status IN ('PENDING', 'PARTIALLY_DELIVERED')
			AND EXISTS (SELECT 1 FROM orders.inventory_units u
						WHERE u.product_id = o.product_id AND u.denomination = o.denomination
							AND u.status = 'AVAILABLE' AND u.expires_at > now())
		ORDER BY 1, 2
	LOOP
		BEGIN
			served := served + orders.serve_waiting_items(pd.product_id, pd.denomination);
		EXCEPTION WHEN OTHERS THEN
			errors := errors + 1;
			RAISE WARNING 'orders maintenance: serving product % / % failed: %',
				pd.product_id, pd.denomination, SQLERRM;
		END;
	END LOOP;

	IF (orders.vendor_policy()).sandbox THEN
		sandbox := orders.sandbox_vendor_round();
	END IF;

	-- The list counts: fold the committed deltas (schema/54_order_listing.sql).
	counts := orders.roll_up_order_counts();

	-- last: the events of this round's own changes are announced too
	announced := orders.announce_events();

	RETURN jsonb_build_object(
		'units_blocked', blocked,
		'leases_recovered', recovered,
		'jobs_expired', expired,
		'items_restocked', served,
		'jobs_ready', (SELECT count(*) FROM orders.vendor_jobs
					   WHERE status = 'QUEUED' AND next_attempt_at <= now()),
		'sandbox', sandbox,
		'events_announced', announced,
		'order_count_deltas_folded', counts,
		'errors', errors);
END
$$;
COMMENT ON FUNCTION orders.run_maintenance() IS
'one maintenance round (what the background worker runs): expired units BLOCKED, lost leases back to the queue, closed retry windows failed and refunded, waiting items served from stock, the sandbox vendor if on, the order list counts rolled up, new outbox events announced (NOTIFY orders_events)';

GRANT EXECUTE ON FUNCTION orders.run_maintenance() TO orders_admin;
REVOKE EXECUTE ON FUNCTION orders.announce_events() FROM PUBLIC;

-- The sandbox vendor: a deterministic stand-in for real vendors and
-- operators, for tests and the demo.  It claims jobs through the same
-- functions a real vendor worker uses and answers according to scenarios:
-- the order's poNumber picks the scenario with the longest matching
-- prefix, attempt k plays outcome k (the last one repeats); no scenario
-- means 'ok'.  Outcomes:
--   ok         vendor order created, every voucher delivered (top-up:
--              every recharge submitted and confirmed)
--   partial    half of the held items delivered (rounded down; at least one
--              held item stays open), the rest retried; top-up: half
--              confirmed, the rest rejected by the operator
--   transient  a transient failure: retried after the backoff
--   final      the vendor rejects the order (top-up: the operator rejects
--              every submitted recharge)
--   slow       vendor order created, then silence: the lease runs out and
--              maintenance puts the job back in the queue
-- Voucher codes are derived from the job, attempt and position, so a run
-- is reproducible; they are fake and never printed.

CREATE TABLE orders.sandbox_vendor_scenarios (
	po_prefix	text PRIMARY KEY CHECK (length(po_prefix) BETWEEN 1 AND 100),
	outcomes	text[] NOT NULL CHECK (cardinality(outcomes) BETWEEN 1 AND 100
				AND outcomes <@ ARRAY['ok', 'partial', 'transient', 'final', 'slow']),
	note		text
);
COMMENT ON TABLE orders.sandbox_vendor_scenarios IS
'sandbox vendor: outcome of attempt k of orders whose poNumber starts with po_prefix (longest prefix wins; none: ok)';

CREATE FUNCTION orders.sandbox_outcome(p_po_number text, p_attempt integer) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT coalesce((
		SELECT s.outcomes[least(p_attempt, cardinality(s.outcomes))]
		FROM orders.sandbox_vendor_scenarios s
		WHERE starts_with(p_po_number, s.po_prefix)
		ORDER BY length(s.po_prefix) DESC LIMIT 1), 'ok')
$$;
COMMENT ON FUNCTION orders.sandbox_outcome(text, integer) IS
'the sandbox vendor''s outcome for attempt p_attempt of the order with that poNumber';

-- n fake vouchers for a job's attempt, in the vault loader's format.
CREATE FUNCTION orders.sandbox_vouchers(p_job_id bigint, p_attempt integer, p_count integer)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object(
		'card_number', 'SBX' || upper(substr(md5(seed), 1, 13)),
		'pin_code', lpad((('x' || substr(md5(seed || '/pin'), 1, 8))::bit(32)::bigint % 10000)::text, 4, '0'),
		'voucher_reference_number', format('SBX-%s-%s-%s', p_job_id, p_attempt, k),
		'expires_at', orders.rfc3339((date_trunc('day', now() AT TIME ZONE 'UTC') + interval '365 days')
									 AT TIME ZONE 'UTC')) ORDER BY k), '[]')
	FROM generate_series(1, p_count) AS k,
		 LATERAL (SELECT format('sandbox/%s/%s/%s', p_job_id, p_attempt, k) AS seed) s
$$;
COMMENT ON FUNCTION orders.sandbox_vouchers(bigint, integer, integer) IS
'p_count fake, reproducible vouchers for a sandbox job attempt (card number, PIN, reference, expiry in a year)';

-- The sandbox's answer to one claimed job.
CREATE FUNCTION orders.sandbox_answer(c record, p_outcome text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	rid bigint;
	k integer := 0;
	half integer := c.items / 2;
BEGIN
	IF p_outcome = 'transient' OR (p_outcome = 'partial' AND half = 0) THEN
		PERFORM orders.report_vendor_failure(c.job_id, c.lease_token, false,
											 'sandbox: vendor temporarily unavailable');
		RETURN;
	END IF;
	IF p_outcome = 'final' AND c.kind <> 'TOPUP' THEN
		PERFORM orders.report_vendor_failure(c.job_id, c.lease_token, true,
											 'sandbox: vendor rejected the order');
		RETURN;
	END IF;
	PERFORM orders.report_vendor_order_created(c.job_id, c.lease_token,
											   format('SBX-%s-%s', c.job_id, c.attempt));
	IF p_outcome = 'slow' THEN
		RETURN;
	END IF;
	IF c.kind = 'TOPUP' THEN
		FOREACH rid IN ARRAY c.recharge_ids LOOP
			PERFORM orders.report_recharge_submitted(c.job_id, c.lease_token, rid,
													 format('SBX-R-%s-%s', rid, c.attempt));
		END LOOP;
		FOREACH rid IN ARRAY c.recharge_ids LOOP
			k := k + 1;
			IF p_outcome = 'ok' OR (p_outcome = 'partial' AND k <= half) THEN
				PERFORM orders.report_recharge_result(rid, format('SBX-R-%s-%s', rid, c.attempt),
													  'RECHARGED');
			ELSE
				PERFORM orders.report_recharge_result(rid, format('SBX-R-%s-%s', rid, c.attempt),
													  'FAILED', 'sandbox: number not rechargeable');
			END IF;
		END LOOP;
		RETURN;
	END IF;
	PERFORM orders.report_vouchers_fetched(c.job_id, c.lease_token,
		orders.sandbox_vouchers(c.job_id, c.attempt,
								CASE WHEN p_outcome = 'partial' THEN half ELSE c.items END));
END
$$;
COMMENT ON FUNCTION orders.sandbox_answer(record, text) IS
'plays one outcome of the sandbox vendor for a claimed job through the vendor report functions';

CREATE FUNCTION orders.sandbox_vendor_round(p_limit integer DEFAULT 20,
											p_product_ids bigint[] DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	c record;
	outcome text;
	played jsonb := '{}';
BEGIN
	FOR c IN SELECT * FROM orders.claim_vendor_jobs('sandbox', p_limit, p_product_ids) LOOP
		outcome := orders.sandbox_outcome(c.po_number, c.attempt);
		BEGIN
			PERFORM orders.sandbox_answer(c, outcome);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'orders sandbox vendor: job % (%): %', c.job_id, outcome, SQLERRM;
			outcome := 'error';
		END;
		played := jsonb_set(played, ARRAY[outcome],
							to_jsonb(coalesce((played ->> outcome)::integer, 0) + 1));
	END LOOP;
	RETURN played;
END
$$;
COMMENT ON FUNCTION orders.sandbox_vendor_round(integer, bigint[]) IS
'sandbox vendor: claims up to p_limit ready jobs (of the given products; NULL: any) and answers each as its scenario says; returns how many of each outcome';

GRANT EXECUTE ON FUNCTION orders.sandbox_vendor_round(integer, bigint[]) TO orders_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON orders.sandbox_vendor_scenarios TO orders_admin;

-- Identity: the authenticated client of the transaction (src/identity.c),
-- the credential primitives (src/credentials.c), API keys and the server
-- secrets they are hashed and signed with.  docs/api.md explains the design.

CREATE FUNCTION orders.current_client_id() RETURNS bigint
	AS 'MODULE_PATHNAME', 'identity_current_client_id'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION orders.current_client_id() IS
'the client authenticated in this transaction (backend memory, not a setting), NULL when none; row-level security reads it';

CREATE FUNCTION orders.current_api_key_id() RETURNS bigint
	AS 'MODULE_PATHNAME', 'identity_current_api_key_id'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION orders.current_api_key_id() IS
'orders.api_keys.id of the key the current client authenticated with (directly or through a token), NULL when none';

CREATE FUNCTION orders.current_auth_method() RETURNS text
	AS 'MODULE_PATHNAME', 'identity_current_auth_method'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION orders.current_auth_method() IS
'how the current client authenticated: key (X-API-Key + X-API-Secret) or token (Authorization: Bearer); NULL when none';

CREATE FUNCTION orders.set_current_client(client_id bigint, api_key_id bigint, method text)
RETURNS void
	AS 'MODULE_PATHNAME', 'identity_set_current_client'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION orders.set_current_client(bigint, bigint, text) IS
'internal: makes a client the authenticated one until the end of the (sub)transaction; refuses unless running as the extension owner, i.e. inside an authentication function; granted to nobody';

-- Credential primitives (OpenSSL).  Internal: granted to nobody.
CREATE FUNCTION orders.hmac_sha256(key bytea, message bytea) RETURNS bytea
	AS 'MODULE_PATHNAME', 'credentials_hmac_sha256' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.hmac_sha256(bytea, bytea) IS 'HMAC-SHA256 of message under key';

CREATE FUNCTION orders.secure_equal(a bytea, b bytea) RETURNS boolean
	AS 'MODULE_PATHNAME', 'credentials_secure_equal' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.secure_equal(bytea, bytea) IS
'constant-time equality (CRYPTO_memcmp) of two byte strings of the same length';

CREATE FUNCTION orders.random_bytes(n integer) RETURNS bytea
	AS 'MODULE_PATHNAME', 'credentials_random_bytes' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION orders.random_bytes(integer) IS 'n (1-1024) bytes from the strong random source';

CREATE FUNCTION orders.base64url_encode(data bytea) RETURNS text
	AS 'MODULE_PATHNAME', 'credentials_base64url_encode' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.base64url_encode(bytea) IS 'base64url (RFC 4648 section 5) without padding';

CREATE FUNCTION orders.base64url_decode(data text) RETURNS bytea
	AS 'MODULE_PATHNAME', 'credentials_base64url_decode' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.base64url_decode(text) IS
'strict base64url decoding: no padding, no white space, canonical trailing bits';

CREATE FUNCTION orders.jwt_sign(claims text, secret bytea) RETURNS text
	AS 'MODULE_PATHNAME', 'credentials_jwt_sign' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.jwt_sign(text, bytea) IS
'compact HS256 JSON Web Token of the claims (a JSON object as text)';

CREATE FUNCTION orders.jwt_verify(token text, secret bytea, OUT header text, OUT payload text)
RETURNS record
	AS 'MODULE_PATHNAME', 'credentials_jwt_verify' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.jwt_verify(text, bytea) IS
'decoded header and payload of a token whose HS256 signature is valid; NULL otherwise (claims are not checked here)';

-- Server secrets: the pepper of the API secret hashes and the token signing
-- key.  Random at installation; no role but the owner can read them.
CREATE TABLE orders.server_secrets (
	name		text PRIMARY KEY CHECK (name IN ('api_key_pepper', 'jwt_secret')),
	value		bytea NOT NULL CHECK (length(value) >= 32),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE orders.server_secrets IS
'the API key pepper and the access-token signing key; readable by the owner only (never granted)';
INSERT INTO orders.server_secrets (name, value) VALUES
	('api_key_pepper', orders.random_bytes(32)),
	('jwt_secret', convert_to(orders.base64url_encode(orders.random_bytes(48)), 'UTF8'));
SELECT pg_catalog.pg_extension_config_dump('orders.server_secrets', '');

CREATE FUNCTION orders.server_secret(p_name text) RETURNS bytea
LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, orders AS $$
	SELECT value FROM orders.server_secrets WHERE name = p_name
$$;
COMMENT ON FUNCTION orders.server_secret(text) IS 'internal: the value of a server secret';

CREATE TABLE orders.api_keys (
	client_id	bigint NOT NULL REFERENCES orders.clients,
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key_id		text NOT NULL UNIQUE CHECK (key_id ~ '^sk_live_[0-9a-f]{24}$'),
	-- HMAC-SHA256(pepper, key_id || ':' || secret): the secret itself is
	-- never stored, and a stolen table is useless without the pepper.
	secret_hash bytea NOT NULL CHECK (length(secret_hash) = 32),
	label		text CHECK (length(label) <= 200),
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz,
	revoked_at	timestamptz
);
CREATE INDEX ON orders.api_keys (client_id);
COMMENT ON TABLE orders.api_keys IS
'API keys of clients: public key id (X-API-Key), keyed hash of the secret, expiry and revocation';
SELECT pg_catalog.pg_extension_config_dump('orders.api_keys', '');

CREATE FUNCTION orders.api_secret_hash(p_key_id text, p_secret text) RETURNS bytea
LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, orders AS $$
	SELECT orders.hmac_sha256(orders.server_secret('api_key_pepper'),
							  convert_to(p_key_id || ':' || p_secret, 'UTF8'))
$$;
COMMENT ON FUNCTION orders.api_secret_hash(text, text) IS
'internal: the stored form of an API secret, HMAC-SHA256 under the server pepper';

-- Whether a key may be used now.
CREATE FUNCTION orders.api_key_usable(k orders.api_keys) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT k.id IS NOT NULL AND k.revoked_at IS NULL
		AND (k.expires_at IS NULL OR k.expires_at > pg_catalog.now())
$$;
COMMENT ON FUNCTION orders.api_key_usable(orders.api_keys) IS
'internal: true when the key exists, is not revoked and has not expired';

-- Authentication.  Both functions run as the owner (so they may set the
-- identity) and are granted to nobody: api.pre_request() calls them.
CREATE FUNCTION orders.authenticate_key(p_key_id text, p_secret text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	k orders.api_keys;
	computed bytea;
BEGIN
	IF p_key_id IS NULL OR p_secret IS NULL
		OR length(p_key_id) > 64 OR length(p_secret) > 256 THEN
		RETURN NULL;
	END IF;
	SELECT * INTO k FROM orders.api_keys WHERE key_id = p_key_id;
	-- Hash and compare even for an unknown key id: the time taken does not
	-- tell whether a key id exists.
	computed := orders.api_secret_hash(p_key_id, p_secret);
	IF NOT orders.secure_equal(computed, coalesce(k.secret_hash,
			set_byte(computed, 0, (get_byte(computed, 0) + 1) % 256)))
		OR NOT orders.api_key_usable(k) THEN
		RETURN NULL;
	END IF;
	PERFORM orders.set_current_client(k.client_id, k.id, 'key');
	RETURN k.client_id;
END
$$;
COMMENT ON FUNCTION orders.authenticate_key(text, text) IS
'internal: verifies an API key id and secret (constant-time) and makes its client the current one; NULL when refused';

-- Access tokens: an API key and secret exchanged for a short-lived HS256
-- JWT (Authorization: Bearer).  The claims carry "role" so that PostgREST,
-- configured with the same secret (docs/postgrest.conf), switches to
-- orders_api; the database verifies the signature itself and never trusts
-- request.jwt.claims, which any session can set_config().

CREATE FUNCTION orders.issue_access_token(p_client_id bigint, p_api_key_id bigint)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	lifetime integer := current_setting('orders.access_token_lifetime')::integer;
	issued bigint := floor(extract(epoch FROM clock_timestamp()))::bigint;
	k orders.api_keys;
	claims jsonb;
BEGIN
	SELECT * INTO k FROM orders.api_keys WHERE id = p_api_key_id AND client_id = p_client_id;
	IF NOT orders.api_key_usable(k) THEN
		RAISE EXCEPTION 'API key % of client % cannot issue a token', p_api_key_id, p_client_id
			USING ERRCODE = 'invalid_authorization_specification';
	END IF;
	-- A token never outlives its key.
	IF k.expires_at IS NOT NULL THEN
		lifetime := least(lifetime, floor(extract(epoch FROM k.expires_at))::bigint - issued);
	END IF;
	claims := jsonb_build_object(
		'role', 'orders_api',
		'aud', 'orders',
		'sub', p_client_id::text,
		'client_id', p_client_id,
		'kid', k.key_id,
		'iat', issued,
		'exp', issued + lifetime);
	RETURN jsonb_build_object(
		'access_token', orders.jwt_sign(claims::text, orders.server_secret('jwt_secret')),
		'token_type', 'Bearer',
		'expires_in', lifetime,
		'expires_at', orders.rfc3339(to_timestamp(issued + lifetime)));
END
$$;
COMMENT ON FUNCTION orders.issue_access_token(bigint, bigint) IS
'internal: signs an access token for a client and one of its usable keys (lifetime orders.access_token_lifetime, never past the key''s expiry)';

CREATE FUNCTION orders.authenticate_token(p_token text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	verified record;
	header jsonb;
	claims jsonb;
	k orders.api_keys;
BEGIN
	IF p_token IS NULL THEN
		RETURN NULL;
	END IF;
	verified := orders.jwt_verify(p_token, orders.server_secret('jwt_secret'));
	IF verified IS NULL THEN
		RETURN NULL;
	END IF;
	BEGIN
		header := verified.header::jsonb;
		claims := verified.payload::jsonb;
	EXCEPTION WHEN invalid_text_representation THEN
		RETURN NULL;
	END;
	IF jsonb_typeof(header) IS DISTINCT FROM 'object' OR header->>'alg' IS DISTINCT FROM 'HS256'
		OR jsonb_typeof(claims) IS DISTINCT FROM 'object'
		OR jsonb_typeof(claims->'exp') IS DISTINCT FROM 'number'
		OR jsonb_typeof(claims->'client_id') IS DISTINCT FROM 'number'
		OR jsonb_typeof(claims->'kid') IS DISTINCT FROM 'string'
		OR (claims->>'exp')::numeric <= extract(epoch FROM clock_timestamp()) THEN
		RETURN NULL;
	END IF;
	-- The key must still be usable: revoking a key kills its tokens.
	SELECT * INTO k FROM orders.api_keys WHERE key_id = claims->>'kid';
	IF NOT orders.api_key_usable(k) OR k.client_id::numeric <> (claims->>'client_id')::numeric THEN
		RETURN NULL;
	END IF;
	PERFORM orders.set_current_client(k.client_id, k.id, 'token');
	RETURN k.client_id;
END
$$;
COMMENT ON FUNCTION orders.authenticate_token(text) IS
'internal: verifies an access token (signature, alg HS256, expiry, key still usable) and makes its client the current one; NULL when refused';

-- Rate limits: token buckets in shared memory (src/ratelimit.c).  Internal:
-- an API role that could call rate_limit_take() could drain another
-- client's budget, so only the API layer's SECURITY DEFINER functions do.

CREATE FUNCTION orders.rate_limit_take(scope text, id bigint,
	OUT allowed boolean, OUT "limit" integer, OUT remaining integer,
	OUT reset_seconds integer, OUT retry_after integer)
RETURNS record
	AS 'MODULE_PATHNAME', 'ratelimit_take' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION orders.rate_limit_take(text, bigint) IS
'internal: takes one request from the buckets of a client (scope client) or an order (scope order), or refuses it; figures of the binding bucket; allowed and NULL figures when limits are off';

CREATE FUNCTION orders.rate_limit_status(
	OUT enabled boolean, OUT entries bigint, OUT capacity integer,
	OUT denied bigint, OUT table_full bigint)
RETURNS record
	AS 'MODULE_PATHNAME', 'ratelimit_status' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orders.rate_limit_status() IS
'whether rate limits are on (orders in shared_preload_libraries), entries in use, capacity, requests refused, requests let through for want of room';

CREATE FUNCTION orders.rate_limit_reset() RETURNS bigint
	AS 'MODULE_PATHNAME', 'ratelimit_reset' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orders.rate_limit_reset() IS
'forgets every rate-limit bucket (all start full again); returns the number of entries dropped';

-- Audit of API calls: one row per call, never a secret, a token or a code.
-- Append-only for everybody (the same triggers as status_history).

CREATE TABLE orders.api_audit (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at			timestamptz NOT NULL DEFAULT clock_timestamp(),
	client_id	bigint,			-- NULL: not authenticated
	api_key_id	bigint,
	auth_method text CHECK (auth_method IN ('key', 'token')),
	operation	text NOT NULL,
	order_id	bigint,
	status		integer NOT NULL CHECK (status BETWEEN 100 AND 599)
);
CREATE INDEX ON orders.api_audit (client_id, at);
COMMENT ON TABLE orders.api_audit IS
'append-only audit of API calls: when, which client and key, which operation and order, which HTTP status';
SELECT pg_catalog.pg_extension_config_dump('orders.api_audit', '');

SELECT orders.make_append_only('orders.api_audit');

-- The client comes from the identity, never from an argument.  In a
-- READ ONLY transaction (PostgREST serves GET that way) nothing can be
-- written: the call is skipped and docs/api.md says so.
CREATE FUNCTION orders.api_audit_write(p_operation text, p_order_id bigint, p_status integer)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	IF current_setting('transaction_read_only')::boolean THEN
		RETURN;
	END IF;
	INSERT INTO orders.api_audit (client_id, api_key_id, auth_method, operation, order_id, status)
	VALUES (orders.current_client_id(), orders.current_api_key_id(),
			orders.current_auth_method(), p_operation, p_order_id, p_status);
END
$$;
COMMENT ON FUNCTION orders.api_audit_write(text, bigint, integer) IS
'internal: appends the audit row of an API call for the current client (skipped in a read-only transaction)';

-- Administration of clients and their API keys, for operators
-- (orders_admin): onboarding a customer without writing SQL by hand.
-- SECURITY DEFINER: orders_admin holds no privilege on the tables.
-- Wallet funding and the catalog are wrapped in schema/9x once they exist.

CREATE FUNCTION orders.admin_require_client(p_client_id bigint) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM orders.clients WHERE id = p_client_id) THEN
		RAISE EXCEPTION 'client % does not exist', p_client_id
			USING ERRCODE = 'foreign_key_violation';
	END IF;
END
$$;
COMMENT ON FUNCTION orders.admin_require_client(bigint) IS
'internal: raises foreign_key_violation naming the client id when no such client exists';

CREATE FUNCTION orders.admin_create_client(p_name text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	new_id bigint;
BEGIN
	IF p_name IS NULL OR length(btrim(p_name)) = 0 OR length(p_name) > 200 THEN
		RAISE EXCEPTION 'client name must be 1 to 200 characters'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO orders.clients (name) VALUES (p_name) RETURNING id INTO new_id;
	RETURN new_id;
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'a client named "%" already exists', p_name
		USING ERRCODE = 'unique_violation';
END
$$;
COMMENT ON FUNCTION orders.admin_create_client(text) IS
'creates an API client (unique name, 1-200 characters) and returns its id';

CREATE FUNCTION orders.admin_issue_api_key(p_client_id bigint, p_label text DEFAULT NULL,
	p_expires_at timestamptz DEFAULT NULL,
	OUT key_id text, OUT secret text, OUT expires_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	PERFORM orders.admin_require_client(p_client_id);
	IF p_expires_at IS NOT NULL AND p_expires_at <= now() THEN
		RAISE EXCEPTION 'expiry must be in the future'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	key_id := 'sk_live_' || encode(orders.random_bytes(12), 'hex');
	secret := orders.base64url_encode(orders.random_bytes(32));
	expires_at := p_expires_at;
	INSERT INTO orders.api_keys (client_id, key_id, secret_hash, label, expires_at)
	VALUES (p_client_id, key_id, orders.api_secret_hash(key_id, secret), p_label, p_expires_at);
END
$$;
COMMENT ON FUNCTION orders.admin_issue_api_key(bigint, text, timestamptz) IS
'issues an API key for a client: returns the key id (X-API-Key) and the secret (X-API-Secret); the secret is shown this once and stored only as a keyed hash';

CREATE FUNCTION orders.admin_list_api_keys(p_client_id bigint)
RETURNS TABLE (key_id text, label text, created_at timestamptz, expires_at timestamptz,
			   revoked_at timestamptz, state text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	SELECT k.key_id, k.label, k.created_at, k.expires_at, k.revoked_at,
		   CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'
				WHEN k.expires_at <= now() THEN 'expired'
				ELSE 'active' END
	FROM orders.api_keys k
	WHERE k.client_id = p_client_id
	ORDER BY k.created_at, k.id
$$;
COMMENT ON FUNCTION orders.admin_list_api_keys(bigint) IS
'the API keys of a client with their state (active, expired, revoked); never a secret';

CREATE FUNCTION orders.admin_revoke_api_key(p_key_id text) RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	at timestamptz;
BEGIN
	UPDATE orders.api_keys SET revoked_at = coalesce(revoked_at, now())
	WHERE key_id = p_key_id RETURNING revoked_at INTO at;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'API key "%" does not exist', p_key_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN at;
END
$$;
COMMENT ON FUNCTION orders.admin_revoke_api_key(text) IS
'revokes an API key at once (and every token issued for it); idempotent; returns when it was revoked';

CREATE FUNCTION orders.admin_expire_api_key(p_key_id text, p_at timestamptz DEFAULT now())
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	IF p_at IS NULL THEN
		RAISE EXCEPTION 'expiry time must not be null'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE orders.api_keys SET expires_at = p_at WHERE key_id = p_key_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'API key "%" does not exist', p_key_id
			USING ERRCODE = 'no_data_found';
	END IF;
	RETURN p_at;
END
$$;
COMMENT ON FUNCTION orders.admin_expire_api_key(text, timestamptz) IS
'sets when an API key (and its tokens) stops working: now by default, or a later time for a rotation window';

CREATE FUNCTION orders.admin_rotate_jwt_secret() RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	secret text := orders.base64url_encode(orders.random_bytes(48));
BEGIN
	UPDATE orders.server_secrets SET value = convert_to(secret, 'UTF8'), updated_at = now()
	WHERE name = 'jwt_secret';
	RETURN secret;
END
$$;
COMMENT ON FUNCTION orders.admin_rotate_jwt_secret() IS
'replaces the access-token signing key and returns it once (64 characters), for PostgREST''s jwt-secret; tokens signed before stop working';

-- Money and catalog, for operators: thin wrappers over the internal
-- functions and tables of the orders/money concern.
CREATE FUNCTION orders.admin_fund_wallet(p_client_id bigint, p_currency text, p_amount numeric,
	p_note text DEFAULT NULL) RETURNS numeric
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	PERFORM orders.admin_require_client(p_client_id);
	PERFORM orders.fund_wallet(p_client_id, upper(p_currency), p_amount, p_note);
	RETURN (SELECT balance FROM orders.wallets
			WHERE client_id = p_client_id AND currency = upper(p_currency));
END
$$;
COMMENT ON FUNCTION orders.admin_fund_wallet(bigint, text, numeric, text) IS
'credits a client''s wallet in a currency (opened if missing) through the ledger; returns the new balance';

CREATE FUNCTION orders.admin_put_product(p_product jsonb) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	p orders.products;
	unknown text;
BEGIN
	IF jsonb_typeof(p_product) IS DISTINCT FROM 'object' OR NOT p_product ? 'id' THEN
		RAISE EXCEPTION 'product must be a JSON object with at least "id"'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT k INTO unknown FROM jsonb_object_keys(p_product) k
	WHERE k NOT IN (SELECT attname FROM pg_attribute
					WHERE attrelid = 'orders.products'::regclass AND attnum > 0 AND NOT attisdropped)
	ORDER BY k LIMIT 1;
	IF unknown IS NOT NULL THEN
		RAISE EXCEPTION 'product has no field "%"', unknown
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The fields are the columns of orders.products.';
	END IF;
	-- Fields not given keep their current value (or the default for a new product).
	SELECT * INTO p FROM orders.products WHERE id = (p_product->>'id')::bigint;
	IF NOT FOUND THEN
		INSERT INTO orders.products (id, name, currency)
		VALUES ((p_product->>'id')::bigint, p_product->>'name', p_product->>'currency')
		RETURNING * INTO p;
	END IF;
	p := jsonb_populate_record(p, p_product);
	UPDATE orders.products SET (name, currency, delivery_type, kind, denominations,
		min_denomination, max_denomination, denomination_step, delivery_mode, classification,
		link_type, order_quantity_limit, discount_percent, vendor_logo, active) =
		(p.name, p.currency, p.delivery_type, p.kind, p.denominations, p.min_denomination,
		 p.max_denomination, p.denomination_step, p.delivery_mode, p.classification,
		 p.link_type, p.order_quantity_limit, p.discount_percent, p.vendor_logo, p.active)
	WHERE id = p.id;
	RETURN p.id;
END
$$;
COMMENT ON FUNCTION orders.admin_put_product(jsonb) IS
'creates or updates a catalog product from a JSON object of orders.products columns (id required; omitted fields keep their value); "active": false withdraws it from sale';

-- Importing a key issued elsewhere (a migration from another platform, or
-- the fixed demo credentials of make run): the secret is chosen by the
-- caller, so it must be long enough to resist guessing.
CREATE FUNCTION orders.admin_import_api_key(p_client_id bigint, p_key_id text, p_secret text,
	p_label text DEFAULT NULL, p_expires_at timestamptz DEFAULT NULL) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
BEGIN
	PERFORM orders.admin_require_client(p_client_id);
	IF p_key_id IS NULL OR p_key_id !~ '^sk_live_[0-9a-f]{24}$' THEN
		RAISE EXCEPTION 'key id must be sk_live_ followed by 24 lower-case hex digits'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_secret IS NULL OR length(p_secret) NOT BETWEEN 16 AND 256 THEN
		RAISE EXCEPTION 'secret must be 16 to 256 characters'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO orders.api_keys (client_id, key_id, secret_hash, label, expires_at)
	VALUES (p_client_id, p_key_id, orders.api_secret_hash(p_key_id, p_secret), p_label, p_expires_at);
	RETURN p_key_id;
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'API key "%" already exists', p_key_id USING ERRCODE = 'unique_violation';
END
$$;
COMMENT ON FUNCTION orders.admin_import_api_key(bigint, text, text, text, timestamptz) IS
'registers a key id and secret issued elsewhere (migration, demo) for a client; the secret (16-256 characters) is stored only as a keyed hash';

-- The API adapter's plumbing: the response value every handler returns,
-- the error catalog, the route table and the conversion of request
-- parameters.  Data flows through arguments and return values only: a
-- handler takes the authenticated client and its parsed parameters and
-- returns status, headers and body (errors included).  PostgREST's
-- request.* / response.* settings and SQLSTATE PGRST exist only at the
-- PostgREST boundary (schema/81_api_auth.sql: api.pre_request and
-- orders.postgrest_reply), never between the project's own functions.
-- Everything here lives in schema orders and is granted to nobody:
-- PostgREST publishes every function of schema api the role may execute.

CREATE SCHEMA api;
COMMENT ON SCHEMA api IS
'the REST API, version 1: one function per operation, publishable by PostgREST unchanged (docs/api.md, docs/postgrest.conf)';
REVOKE ALL ON SCHEMA api FROM PUBLIC;

-- What a handler returns.  order_id: the order the call concerned (the
-- audit row names it), not part of the HTTP answer.
CREATE TYPE orders.api_response AS (
	status		integer,
	headers		jsonb,
	body		jsonb,
	order_id	bigint
);
COMMENT ON TYPE orders.api_response IS
'internal: an HTTP answer of the API as a value: status, headers (a JSON object of strings), body (JSON), and the order it concerned (for the audit)';

CREATE FUNCTION orders.api_ok(p_body jsonb, p_status integer DEFAULT 200,
	p_headers jsonb DEFAULT '{}', p_order_id bigint DEFAULT NULL)
RETURNS orders.api_response
LANGUAGE sql IMMUTABLE AS $$
	SELECT ROW(p_status, p_headers, p_body, p_order_id)::orders.api_response
$$;
-- No SET clause: the body is fully qualified, and a SET would keep the
-- planner from inlining the call of every successful request.
COMMENT ON FUNCTION orders.api_ok(jsonb, integer, jsonb, bigint) IS
'internal: a successful answer (status 200 unless given)';

-- The error catalog: one table in C (src/error_catalog.c).
CREATE FUNCTION orders.error_catalog(
	OUT name text, OUT sqlstate text, OUT http_status integer, OUT error text,
	OUT message text, OUT meaning text, OUT raised_by text)
RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'error_catalog' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION orders.error_catalog() IS
'the project''s errors (src/error_catalog.c): SQLSTATE (NULL: an answer of the API only), HTTP status and error code of the API''s answer, its fixed message (NULL: the raised message), meaning; docs/errors.md is rendered from it';

-- An error answer of the catalog, by name.  p_message replaces the
-- catalog's message (or gives it, where the catalog has none).
CREATE FUNCTION orders.api_error(p_name text, p_message text DEFAULT NULL,
	p_headers jsonb DEFAULT '{}', p_order_id bigint DEFAULT NULL)
RETURNS orders.api_response
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT ROW(e.http_status, p_headers,
			   jsonb_build_object('error', e.error, 'message', coalesce(p_message, e.message)),
			   p_order_id)::orders.api_response
	FROM orders.error_catalog() e WHERE e.name = p_name
$$;
COMMENT ON FUNCTION orders.api_error(text, text, jsonb, bigint) IS
'internal: the answer of the error catalog entry p_name, body {"error", "message"} (p_message, else the catalog''s message)';

CREATE FUNCTION orders.api_unauthorized() RETURNS orders.api_response
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_error('unauthorized', p_headers => '{"WWW-Authenticate": "Bearer"}')
$$;
COMMENT ON FUNCTION orders.api_unauthorized() IS
'internal: 401 unauthorized with WWW-Authenticate: Bearer';

CREATE FUNCTION orders.api_invalid(p_message text) RETURNS orders.api_response
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_error('invalid_input', p_message)
$$;
COMMENT ON FUNCTION orders.api_invalid(text) IS
'internal: 400 bad_request; the message names the field and what was wrong';

-- Operations: the one route table.  It drives dispatch (the generated
-- orders.api_call, schema/85_api_dispatch.sql), the grants
-- (schema/96_api_security.sql) and is checked against docs/openapi.yaml
-- (sql/rest_routes.sql).  The PostgREST function of an operation is
-- api.<operation>.
CREATE TYPE orders.api_parameter AS (
	name		text,
	source		text,	-- query, path, body; client: the authenticated client; key: its API key
	type		text,	-- integer (>= minimum), id (an integer > 0), string, object
	minimum		bigint
);
COMMENT ON TYPE orders.api_parameter IS
'internal: a parameter of an API operation: where it comes from (query, path, body, or the authenticated client / key), its type and minimum';

CREATE TABLE orders.api_operations (
	operation	text PRIMARY KEY CHECK (operation ~ '^[a-z_]+$'),
	method		text NOT NULL CHECK (method IN ('GET', 'POST')),
	path		text NOT NULL,			-- as in OpenAPI: /api/v1/orders/{id}
	path_pattern text NOT NULL GENERATED ALWAYS AS
		('^' || regexp_replace(path, '\{[a-z_]+\}', '([^/]*)', 'g') || '$') STORED,
	openapi_id	text NOT NULL UNIQUE,	-- the operationId in docs/openapi.yaml
	handler		text NOT NULL,			-- a function of schema orders returning orders.api_response
	parameters	orders.api_parameter[] NOT NULL DEFAULT '{}',	-- the handler's arguments, in order
	failure_message text NOT NULL,		-- the message of a 500
	description	text NOT NULL,			-- the comment of api.<operation>
	UNIQUE (method, path)
);
COMMENT ON TABLE orders.api_operations IS
'the route table of the REST API: method, path, handler and its parameters, the message of a 500; drives dispatch and grants, checked against docs/openapi.yaml';
INSERT INTO orders.api_operations (operation, method, path, openapi_id, handler, parameters, failure_message, description) VALUES
	('create_order', 'POST', '/api/v1/orders', 'placeOrder', 'handle_create_order',
	 ARRAY[('client', 'client', NULL, NULL), ('data', 'body', 'object', NULL)]::orders.api_parameter[],
	 'Failed to place order',
	 'POST /api/v1/orders (reference 003): body {"data": {productId, quantity, denomination, email, tag, poNumber, notifyReceiverEmail, notifyAdminEmail, topupData}}; 201 and the placeOrder envelope for a new order, 200 for a replay of the same poNumber and parameters, 409 for the same poNumber with other parameters'),
	('list_orders', 'GET', '/api/v1/orders', 'listOrders', 'handle_list_orders',
	 ARRAY[('client', 'client', NULL, NULL), ('page', 'query', 'integer', 1), ('limit', 'query', 'integer', 1),
		   ('status', 'query', 'string', NULL), ('product_id', 'query', 'integer', 1)]::orders.api_parameter[],
	 'Failed to list orders',
	 'GET /api/v1/orders (reference 004): page (>= 1, default 1), limit (1-100, default 10), status (any case), product_id; newest first; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches'),
	('order_details', 'GET', '/api/v1/orders/{id}', 'getOrderDetails', 'handle_order_details',
	 ARRAY[('client', 'client', NULL, NULL), ('id', 'path', 'id', 1)]::orders.api_parameter[],
	 'Failed to retrieve order',
	 'GET /api/v1/orders/{id} (reference 002): the order with its vouchers decrypted once delivered; 400 for an id that is not an integer > 0, 404 not_found for an unknown id and for another client''s order alike, 429 past the per-order read limit'),
	('products', 'GET', '/api/v1/products', 'listProducts', 'handle_products',
	 ARRAY[('client', 'client', NULL, NULL)]::orders.api_parameter[],
	 'Failed to retrieve products',
	 'GET /api/v1/products: the active products of the catalog with denominations, limits, discount and live delivery_time (INSTANT: deliverable from stock now)'),
	('charges', 'POST', '/api/v1/charges', 'getCharges', 'handle_charges',
	 ARRAY[('client', 'client', NULL, NULL), ('data', 'body', 'object', NULL)]::orders.api_parameter[],
	 'Failed to compute charges',
	 'POST /api/v1/charges: body {"data": {productId, denomination, quantity}}; what placing that order would charge now (orderTotal, rawOrderTotal, orderDiscount, rawOrderDiscount, discountPercent, currencyCode, currencyValue, amountCharged) and its live deliveryTime'),
	('token', 'POST', '/api/v1/auth/token', 'issueAccessToken', 'handle_token',
	 ARRAY[('client', 'client', NULL, NULL), ('api_key', 'key', NULL, NULL)]::orders.api_parameter[],
	 'Failed to issue access token',
	 'POST /api/v1/auth/token: exchanges X-API-Key + X-API-Secret for a short-lived HS256 access token {access_token, token_type, expires_in, expires_at}'),
	('health', 'GET', '/api/v1/health', 'apiHealth', 'handle_health', '{}',
	 'Health check failed',
	 'GET /api/v1/health: {"status": "ok", "database": "ok", "version", "rate_limits": "on"|"off"} (off: orders is not in shared_preload_libraries)');

-- An error of a handler or of the core functions it calls, as an answer:
-- SQLSTATEs of the catalog with their own message, anything else (or a
-- catalog entry whose status is 500) a 500 whose message names the
-- operation only.  A generic SQLSTATE (say 22P02) may come from a bug
-- anywhere with a message quoting internals: the client learns nothing of
-- it, the log gets SQLSTATE and message (never the detail, which may quote
-- values).
CREATE FUNCTION orders.api_error_from(p_operation text, p_sqlstate text, p_message text)
RETURNS orders.api_response
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, orders AS $$
DECLARE
	e record;
BEGIN
	SELECT * INTO e FROM orders.error_catalog() c WHERE c.sqlstate = p_sqlstate;
	IF FOUND AND e.http_status < 500 THEN
		RETURN orders.api_error(e.name, coalesce(e.message, p_message));
	END IF;
	RAISE WARNING 'api operation % failed: SQLSTATE %: %', p_operation, p_sqlstate, p_message;
	RETURN orders.api_error('internal_error',
		coalesce((SELECT o.failure_message FROM orders.api_operations o WHERE o.operation = p_operation),
				 'Internal error'));
END
$$;
COMMENT ON FUNCTION orders.api_error_from(text, text, text) IS
'internal: the answer to an error raised under an operation: catalogued SQLSTATEs with their message, anything else 500 internal_error naming the operation (logged as a WARNING with SQLSTATE and message)';

-- Parameters arrive as text (query string, path, PostgREST's arguments)
-- or JSON (the body), and are converted once, by the types of the route
-- table.  A bad value raises invalid_input (OR100) naming the parameter:
-- the caller (orders.api_call) answers it from the catalog.
CREATE FUNCTION orders.api_integer_param(p_name text, p_value text, p_min bigint)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_value IS NULL THEN
		RETURN NULL;
	END IF;
	IF p_value !~ '^\s*[+-]?[0-9]{1,18}\s*$' OR btrim(p_value)::bigint < p_min THEN
		RAISE EXCEPTION '%: must be an integer >= %', p_name, p_min USING ERRCODE = 'OR100';
	END IF;
	RETURN btrim(p_value)::bigint;
END
$$;
COMMENT ON FUNCTION orders.api_integer_param(text, text, bigint) IS
'internal: a parameter that must be an integer >= p_min; invalid_input (OR100) naming it otherwise; NULL stays NULL';

CREATE FUNCTION orders.api_id_param(p_name text, p_value text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_value IS NULL OR p_value !~ '^[0-9]{1,18}$' OR p_value::bigint = 0 THEN
		RAISE EXCEPTION '%: must be an integer > 0', p_name USING ERRCODE = 'OR100';
	END IF;
	RETURN p_value::bigint;
END
$$;
COMMENT ON FUNCTION orders.api_id_param(text, text) IS
'internal: an id (digits only, > 0); invalid_input (OR100) naming it otherwise';

CREATE FUNCTION orders.api_object_param(p_name text, p_value jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
	IF jsonb_typeof(p_value) IS DISTINCT FROM 'object' THEN
		RAISE EXCEPTION '%: is required and must be a JSON object', p_name USING ERRCODE = 'OR100';
	END IF;
	RETURN p_value;
END
$$;
COMMENT ON FUNCTION orders.api_object_param(text, jsonb) IS
'internal: a member of the request body that must be a JSON object; invalid_input (OR100) naming it otherwise';

-- Rate limit of a scope (client or order): NULL when the request passes,
-- else the 429 answer with Retry-After and the RateLimit-* headers.
CREATE FUNCTION orders.api_rate_limit(p_scope text, p_id bigint) RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	r record;
BEGIN
	r := orders.rate_limit_take(p_scope, p_id);
	IF r.allowed THEN
		RETURN NULL;
	END IF;
	RETURN orders.api_error('rate_limit_exceeded', p_headers =>
		jsonb_build_object('Retry-After', r.retry_after::text,
						   'RateLimit-Limit', r."limit"::text,
						   'RateLimit-Remaining', r.remaining::text,
						   'RateLimit-Reset', r.reset_seconds::text));
END
$$;
COMMENT ON FUNCTION orders.api_rate_limit(text, bigint) IS
'internal: counts a request against the client''s or order''s rate limits; NULL when it passes, else 429 rate_limit_exceeded with Retry-After and RateLimit-* headers';

-- Authentication of API requests, and the handlers of the token exchange
-- and the health check.

-- Credentials come from the request's headers (lower-case names), never
-- from request.jwt.claims, which any session can set: X-API-Key +
-- X-API-Secret, or Authorization: Bearer <token>.  A good credential makes
-- its client the current one (backend memory, src/identity.c) and answers
-- NULL; a bad one answers 401; none leaves the request anonymous (NULL),
-- and each operation that needs a client says 401 itself.
CREATE FUNCTION orders.api_authenticate(p_headers jsonb) RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	key_id text := nullif(p_headers->>'x-api-key', '');
	secret text := nullif(p_headers->>'x-api-secret', '');
	auth_header text := nullif(p_headers->>'authorization', '');
	client bigint;
BEGIN
	IF key_id IS NOT NULL OR secret IS NOT NULL THEN
		client := orders.authenticate_key(key_id, secret);
	ELSIF auth_header IS NOT NULL THEN
		IF auth_header ~* '^bearer +[^ ]+$' THEN
			client := orders.authenticate_token(substring(auth_header FROM '[^ ]+$'));
		END IF;
	ELSE
		RETURN NULL;
	END IF;
	IF client IS NULL THEN
		RETURN orders.api_unauthorized();
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders.api_authenticate(jsonb) IS
'internal: authenticates a request from its headers (lower-case names: X-API-Key + X-API-Secret, or Authorization: Bearer); NULL when authenticated or anonymous, 401 on bad credentials';

-- POST /api/v1/auth/token: exchange the key and secret of this request for
-- an access token.  A token cannot be exchanged for a longer-lived one:
-- the route gives this handler the API key only when the request was
-- authenticated by key and secret.
CREATE FUNCTION orders.handle_token(p_client bigint, p_api_key_id bigint)
RETURNS orders.api_response
LANGUAGE sql VOLATILE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_ok(orders.issue_access_token(p_client, p_api_key_id), 200,
						 '{"Cache-Control": "no-store"}')
$$;
COMMENT ON FUNCTION orders.handle_token(bigint, bigint) IS
'internal: POST /api/v1/auth/token for a client authenticated by an API key: a short-lived HS256 access token {access_token, token_type, expires_in, expires_at}';

-- GET /api/v1/health: no authentication needed.
CREATE FUNCTION orders.handle_health() RETURNS orders.api_response
LANGUAGE sql VOLATILE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_ok(jsonb_build_object(
			   'status', 'ok',
			   'database', 'ok',
			   'version', (SELECT extversion FROM pg_extension WHERE extname = 'orders'),
			   'rate_limits', CASE WHEN l.enabled THEN 'on' ELSE 'off' END),
		   200, '{"Cache-Control": "no-store"}')
	FROM orders.rate_limit_status() l
$$;
COMMENT ON FUNCTION orders.handle_health() IS
'internal: GET /api/v1/health: {"status": "ok", "database": "ok", "version", "rate_limits": "on"|"off"} (off: orders is not in shared_preload_libraries)';

-- The handlers of the reference's operations: place an order (003), list
-- orders (004), order details (002), the catalog, the charges (quote).
-- Each takes the authenticated client and its parsed parameters as
-- arguments (orders.api_call passes them, by the route table) and returns
-- the answer as a value, errors included.  Errors raised by the core
-- functions (class OR) are answered from the error catalog by the caller.

-- POST /api/v1/orders
CREATE FUNCTION orders.handle_create_order(p_client bigint, p_data jsonb)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	r record;
	order_id bigint;
BEGIN
	SELECT * INTO r FROM orders.create_order(p_client, p_data);
	order_id := (r.response #>> '{data,placeOrder,data,orderId}')::bigint;
	RETURN orders.api_ok(r.response, CASE WHEN r.replayed THEN 200 ELSE 201 END,
		jsonb_build_object('Location', '/api/v1/orders/' || order_id), order_id);
END
$$;
COMMENT ON FUNCTION orders.handle_create_order(bigint, jsonb) IS
'internal: POST /api/v1/orders (reference 003): 201 and the placeOrder envelope for a new order, 200 for a replay of the same poNumber and parameters; Location of the order';

-- POST /api/v1/charges
CREATE FUNCTION orders.handle_charges(p_client bigint, p_data jsonb)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	product_id bigint := orders.request_field(p_data, '{productId}', 'integer')::bigint;
	denomination numeric := orders.request_field(p_data, '{denomination}', 'amount')::numeric;
	quantity numeric := coalesce(orders.request_field(p_data, '{quantity}', 'integer')::numeric, 1);
BEGIN
	IF product_id IS NULL THEN
		RETURN orders.api_invalid('productId: is required');
	ELSIF denomination IS NULL THEN
		RETURN orders.api_invalid('denomination: is required');
	ELSIF quantity NOT BETWEEN -2147483648 AND 2147483647 THEN
		RETURN orders.api_invalid('quantity: must be an integer >= 1');
	END IF;
	RETURN orders.api_ok(orders.quote(p_client, product_id, denomination, quantity::integer)
		|| jsonb_build_object('deliveryTime', orders.delivery_time(product_id, denomination, quantity::integer)));
END
$$;
COMMENT ON FUNCTION orders.handle_charges(bigint, jsonb) IS
'internal: POST /api/v1/charges: what placing that order would charge now (orderTotal, rawOrderTotal, orderDiscount, rawOrderDiscount, discountPercent, currencyCode, currencyValue, amountCharged) and its live deliveryTime';

-- GET /api/v1/orders
CREATE FUNCTION orders.handle_list_orders(p_client bigint, p_page bigint, p_limit bigint,
	p_status text, p_product_id bigint)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	r record;
	paging jsonb;
BEGIN
	IF p_page > 2147483647 OR p_limit > 2147483647 THEN
		RETURN orders.api_invalid('page and limit: must be integers within range');
	END IF;
	SELECT * INTO r FROM orders.list_orders(
		p_client,
		p_page => coalesce(p_page, 1)::integer,
		p_limit => coalesce(p_limit, 10)::integer,
		p_status => nullif(btrim(p_status), ''),
		p_product_id => p_product_id);
	paging := jsonb_build_object('X-Page', r.page::text, 'X-Per-Page', r.per_page::text,
								 'X-Total-Count', r.total_count::text,
								 'X-Total-Pages', r.total_pages::text);
	-- The reference answers a list without any match with its 404.
	IF jsonb_array_length(r.items) = 0 THEN
		RETURN orders.api_error('no_match', p_headers => paging);
	END IF;
	RETURN orders.api_ok(r.items, 200, paging);
END
$$;
COMMENT ON FUNCTION orders.handle_list_orders(bigint, bigint, bigint, text, bigint) IS
'internal: GET /api/v1/orders (reference 004): newest first; headers X-Page, X-Per-Page, X-Total-Count, X-Total-Pages; 404 not_found when nothing matches';

-- GET /api/v1/orders/{id}
CREATE FUNCTION orders.handle_order_details(p_client bigint, p_order_id bigint)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	limited orders.api_response;
	result jsonb;
BEGIN
	-- Another client's order is answered like a missing one, and costs
	-- that order's budget nothing.
	IF NOT EXISTS (SELECT 1 FROM orders.orders o WHERE o.id = p_order_id AND o.client_id = p_client) THEN
		RETURN orders.api_error('no_match', p_order_id => p_order_id);
	END IF;
	limited := orders.api_rate_limit('order', p_order_id);
	IF limited.status IS NOT NULL THEN
		limited.order_id := p_order_id;
		RETURN limited;
	END IF;
	-- The vouchers' reveal is audited by the background worker (its commit
	-- comes before any code leaves the database), so this works in a READ
	-- ONLY transaction too: PostgREST's GET.
	result := orders.order_details(p_client, p_order_id);
	IF result IS NULL THEN
		RETURN orders.api_error('no_match', p_order_id => p_order_id);
	END IF;
	RETURN orders.api_ok(result, 200, '{}', p_order_id);
END
$$;
COMMENT ON FUNCTION orders.handle_order_details(bigint, bigint) IS
'internal: GET /api/v1/orders/{id} (reference 002): the order with its vouchers decrypted once delivered; 404 not_found for an unknown id and for another client''s order alike, 429 past the per-order read limit';

-- GET /api/v1/products
CREATE FUNCTION orders.product_json(p orders.products) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT jsonb_build_object(
		'id', p.id,
		'name', p.name,
		'kind', p.kind,
		'currency', p.currency,
		'delivery_type', p.delivery_type,
		'delivery_mode', p.delivery_mode,
		'classification', p.classification,
		'link_type', p.link_type,
		'order_quantity_limit', p.order_quantity_limit,
		'discount_percent', orders.money_text(p.discount_percent),
		'vendor_logo', p.vendor_logo,
		'denominations', (SELECT jsonb_agg(jsonb_build_object(
									'denomination', orders.money_text(d),
									'delivery_time', orders.delivery_time(p.id, d, 1)) ORDER BY d)
						  FROM unnest(p.denominations) AS d),
		'denomination_range', CASE WHEN p.min_denomination IS NOT NULL THEN jsonb_build_object(
			'min', orders.money_text(p.min_denomination),
			'max', orders.money_text(p.max_denomination),
			'step', orders.money_text(p.denomination_step)) END,
		-- INSTANT when some denomination can be delivered from stock now
		'delivery_time', CASE WHEN EXISTS (
			SELECT 1 FROM orders.inventory_units u
			WHERE u.product_id = p.id AND u.status = 'AVAILABLE' AND u.expires_at > now()
			  AND orders.denomination_offered(p, u.denomination))
			THEN 'INSTANT' ELSE 'DELAYED' END)
$$;
COMMENT ON FUNCTION orders.product_json(orders.products) IS
'internal: a product as the catalog endpoint shows it, with the live delivery_time of each fixed denomination and of the product';

CREATE FUNCTION orders.handle_products(p_client bigint) RETURNS orders.api_response
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT orders.api_ok(coalesce(jsonb_agg(orders.product_json(p) ORDER BY p.id), '[]'))
	FROM orders.products p WHERE p.active
$$;
COMMENT ON FUNCTION orders.handle_products(bigint) IS
'internal: GET /api/v1/products: the active products of the catalog with denominations, limits, discount and live delivery_time (INSTANT: deliverable from stock now)';

-- api.dispatch: the one SQL call the gateway makes per HTTP request.  It
-- parses the request once, routes it by the route table, authenticates,
-- counts it against the rate limits, calls the operation's handler through
-- orders.api_call (generated from the route table), writes the audit row
-- and returns status, headers and body: the gateway only relays.  No
-- setting carries anything: every step takes arguments and returns values.

CREATE FUNCTION orders.url_decode(p_text text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
	SELECT coalesce(convert_from(string_agg(
		CASE WHEN m[1] IS NOT NULL THEN decode(substr(m[1], 2), 'hex')
			 ELSE convert_to(m[2], 'UTF8') END, ''::bytea ORDER BY n), 'UTF8'), '')
	FROM regexp_matches(replace(p_text, '+', ' '), '(%[0-9A-Fa-f]{2})|([^%]+|%)', 'g')
		 WITH ORDINALITY AS t(m, n)
$$;
COMMENT ON FUNCTION orders.url_decode(text) IS
'internal: decodes a URL query component (%XX escapes as UTF-8, + as space); invalid UTF-8 is an error';

CREATE FUNCTION orders.query_params(p_query text) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, orders AS $$
	SELECT coalesce(jsonb_object_agg(name, value ORDER BY n DESC), '{}')
	FROM (SELECT orders.url_decode(split_part(pair, '=', 1)) AS name,
				 orders.url_decode(substr(pair, length(split_part(pair, '=', 1)) + 2)) AS value, n
		  FROM regexp_split_to_table(ltrim(coalesce(p_query, ''), '?'), '&') WITH ORDINALITY AS t(pair, n)
		  WHERE pair <> '') AS p
$$;
COMMENT ON FUNCTION orders.query_params(text) IS
'internal: a query string (a=1&b=x%20y) as a JSON object of strings; for a repeated name the first value wins';

-- orders.api_call(operation, client, api key, auth method, parameters,
-- body): converts the operation's parameters by their types in the route
-- table, calls its handler and answers any error it raises from the error
-- catalog (the subtransaction of the EXCEPTION block rolls the handler's
-- writes back).  Generated from orders.api_operations: one branch per
-- operation, each a static call whose plan PL/pgSQL caches, instead of a
-- dynamic EXECUTE per request.  Used by api.dispatch and by the PostgREST
-- functions alike.
CREATE FUNCTION orders.api_call_source() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $gen$
	SELECT format($f$CREATE OR REPLACE FUNCTION orders.api_call(p_operation text, p_client bigint,
	p_api_key_id bigint, p_auth_method text, p_params jsonb, p_body jsonb)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $body$
BEGIN
	CASE p_operation
%s
	ELSE
		RETURN orders.api_error('no_match');
	END CASE;
EXCEPTION WHEN OTHERS THEN
	RETURN orders.api_error_from(p_operation, SQLSTATE, SQLERRM);
END
$body$$f$,
		string_agg(format(E'\tWHEN %L THEN\n%s\t\tRETURN orders.%I(%s);',
						  o.operation, g.guards, o.handler, g.args),
				   E'\n' ORDER BY o.operation))
	FROM orders.api_operations o,
	LATERAL (
		SELECT coalesce(string_agg(CASE p.source
					WHEN 'client' THEN E'\t\tIF p_client IS NULL THEN RETURN orders.api_unauthorized(); END IF;\n'
					WHEN 'key' THEN E'\t\tIF p_auth_method IS DISTINCT FROM ''key'' THEN RETURN orders.api_unauthorized(); END IF;\n'
					END, '' ORDER BY n), '') AS guards,
			   coalesce(string_agg(CASE
					WHEN p.source = 'client' THEN 'p_client'
					WHEN p.source = 'key' THEN 'p_api_key_id'
					WHEN p.source = 'body' AND p.type = 'object' THEN
						format('orders.api_object_param(%L, p_body->%L)', p.name, p.name)
					WHEN p.source IN ('query', 'path') AND p.type = 'integer' THEN
						format('orders.api_integer_param(%L, p_params->>%L, %s)', p.name, p.name, p.minimum)
					WHEN p.source IN ('query', 'path') AND p.type = 'id' THEN
						format('orders.api_id_param(%L, p_params->>%L)', p.name, p.name)
					WHEN p.source IN ('query', 'path') AND p.type = 'string' THEN
						format('p_params->>%L', p.name)
					END, ', ' ORDER BY n), '') AS args
		FROM unnest(o.parameters) WITH ORDINALITY AS p(name, source, type, minimum, n)
	) g
$gen$;
COMMENT ON FUNCTION orders.api_call_source() IS
'internal: the source of orders.api_call, generated from the route table orders.api_operations';

DO $$
DECLARE
	bad record;
BEGIN
	-- A parameter the generator does not know would become a NULL argument.
	SELECT o.operation, p.name INTO bad
	FROM orders.api_operations o, unnest(o.parameters) p
	WHERE NOT (p.source IN ('client', 'key')
			   OR (p.source = 'body' AND p.type = 'object')
			   OR (p.source IN ('query', 'path') AND p.type IN ('integer', 'id', 'string')))
	LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'route table: parameter % of operation % has an unknown source or type',
			bad.name, bad.operation;
	END IF;
	EXECUTE orders.api_call_source();
END $$;
COMMENT ON FUNCTION orders.api_call(text, bigint, bigint, text, jsonb, jsonb) IS
'internal: calls the handler of an operation with its parameters converted by the route table; errors become answers from the error catalog (generated by orders.api_call_source())';

CREATE FUNCTION orders.api_dispatch(p_method text, p_path text, p_query text,
	p_headers jsonb, p_body text)
RETURNS orders.api_response
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
DECLARE
	req_method text := upper(coalesce(p_method, ''));
	req_path text := coalesce(p_path, '');
	req_headers jsonb;
	op orders.api_operations;
	path_param text;			-- the route's path parameter (one at most)
	path_value text;
	order_id bigint;
	params jsonb;
	payload jsonb;
	unknown_param text;
	client bigint;
	r orders.api_response;
BEGIN
	-- Header names lower-case (HTTP's are case-insensitive).
	SELECT coalesce(jsonb_object_agg(lower(h.key), h.value), '{}') INTO req_headers
	FROM jsonb_each_text(CASE WHEN jsonb_typeof(p_headers) = 'object'
							  THEN p_headers ELSE '{}' END) AS h;

	-- Route.
	SELECT * INTO op FROM orders.api_operations o
	WHERE req_path ~ o.path_pattern AND o.method = req_method;
	IF NOT FOUND THEN
		r := coalesce((SELECT orders.api_error('method_not_allowed',
									format('Method %s is not allowed on %s', req_method, p_path),
									jsonb_build_object('Allow', string_agg(o.method, ', ' ORDER BY o.method)))
					   FROM orders.api_operations o WHERE req_path ~ o.path_pattern
					   HAVING count(*) > 0),
					  orders.api_error('no_match'));
	ELSE
		path_param := (SELECT p.name FROM unnest(op.parameters) p WHERE p.source = 'path');
		IF path_param IS NOT NULL THEN
			path_value := substring(req_path FROM op.path_pattern);
		END IF;
		IF path_value ~ '^[0-9]{1,18}$' THEN
			order_id := path_value::bigint;
		END IF;
		-- Authenticate, then count the request against the client's limits.
		r := orders.api_authenticate(req_headers);
		client := orders.current_client_id();
		IF r.status IS NULL AND client IS NOT NULL THEN
			r := orders.api_rate_limit('client', client);
		END IF;
	END IF;

	-- Parse the query string and the body.
	IF r.status IS NULL THEN
		BEGIN
			params := orders.query_params(p_query);
		EXCEPTION WHEN character_not_in_repertoire THEN
			r := orders.api_invalid('query string is not valid UTF-8');
		END;
	END IF;
	IF r.status IS NULL THEN
		SELECT k INTO unknown_param FROM jsonb_object_keys(params) AS k
		WHERE k NOT IN (SELECT p.name FROM unnest(op.parameters) p WHERE p.source = 'query')
		ORDER BY k LIMIT 1;
		IF unknown_param IS NOT NULL THEN
			r := orders.api_invalid(format('unknown query parameter "%s"', unknown_param));
		END IF;
	END IF;
	IF r.status IS NULL AND req_method = 'POST' THEN
		BEGIN
			payload := nullif(btrim(p_body), '')::jsonb;
		EXCEPTION WHEN invalid_text_representation THEN
			r := orders.api_invalid('request body is not valid JSON');
		END;
	END IF;

	-- Call.
	IF r.status IS NULL THEN
		IF path_param IS NOT NULL THEN
			params := params || jsonb_build_object(path_param, path_value);
		END IF;
		r := orders.api_call(op.operation, client, orders.current_api_key_id(),
							 orders.current_auth_method(), params, payload);
	END IF;

	PERFORM orders.api_audit_write(coalesce(op.operation, 'unrouted'), coalesce(r.order_id, order_id), r.status);
	r.headers := '{"Content-Type": "application/json; charset=utf-8"}' || r.headers;
	RETURN r;
END
$$;
COMMENT ON FUNCTION orders.api_dispatch(text, text, text, jsonb, text) IS
'internal: the body of api.dispatch: parse, route, authenticate, rate-limit, call, audit';

-- The contract's parameter names; PL/pgSQL cannot have an input and an
-- output column of the same name, SQL can.
CREATE FUNCTION api.dispatch(method text, path text, query text, headers jsonb, body text)
RETURNS TABLE (status integer, headers jsonb, body text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
	SELECT r.status, r.headers, r.body::text FROM orders.api_dispatch($1, $2, $3, $4, $5) r
$$;
COMMENT ON FUNCTION api.dispatch(text, text, text, jsonb, text) IS
'the gateway''s one call per HTTP request: routes /api/v1/... by the route table, authenticates, applies rate limits, calls the operation''s handler and returns status, headers (a JSON object of strings) and body; every failure becomes the reference''s error body, and every call is audited';

-- The PostgREST boundary.  PostgREST passes a request through settings
-- (request.headers, ...), reads the answer's status and headers from
-- settings (response.status, response.headers) and turns SQLSTATE PGRST
-- into an HTTP error.  Those conventions live here only: api.pre_request
-- reads request.headers once, each api.<operation> function calls the
-- same orders.api_call as api.dispatch and hands its answer to
-- orders.postgrest_reply, which writes response.* or raises PGRST once.
-- Nothing of the project reads them back.

-- An error answer the PostgREST way: the message is the body, the detail
-- gives status and headers.
CREATE FUNCTION orders.postgrest_raise(p_response orders.api_response) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
	RAISE SQLSTATE 'PGRST' USING
		MESSAGE = p_response.body::text,
		DETAIL = jsonb_build_object('status', p_response.status, 'headers', p_response.headers)::text;
END
$$;
COMMENT ON FUNCTION orders.postgrest_raise(orders.api_response) IS
'internal: raises an error answer the PostgREST way (SQLSTATE PGRST, message = JSON body, detail = {"status", "headers"})';

-- The answer of an operation under PostgREST: an error is raised as
-- PGRST (PostgREST rolls the transaction back, audit row included); a
-- success is audited, its status and headers set (response.headers: a
-- JSON array of one-key objects) and its body returned.
CREATE FUNCTION orders.postgrest_reply(p_operation text, p_response orders.api_response)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, orders AS $$
BEGIN
	IF p_response.status >= 400 THEN
		PERFORM orders.postgrest_raise(p_response);
	END IF;
	PERFORM orders.api_audit_write(p_operation, p_response.order_id, p_response.status);
	PERFORM set_config('response.status', p_response.status::text, true),
			set_config('response.headers',
					   coalesce((SELECT jsonb_agg(jsonb_build_object(key, value) ORDER BY ord)
								 FROM jsonb_each_text(p_response.headers) WITH ORDINALITY AS h(key, value, ord)),
								'[]')::text,
					   true);
	RETURN p_response.body;
END
$$;
COMMENT ON FUNCTION orders.postgrest_reply(text, orders.api_response) IS
'internal: hands an answer to PostgREST: raises PGRST for an error; for a success writes the audit row, sets response.status and response.headers and returns the body';

-- PostgREST's db-pre-request: called once per request, before the
-- operation, in the request's transaction.  Bad credentials are a 401
-- here; no credentials leave the request anonymous.  Settings read back
-- as '' after a transaction that set them: absent, like NULL.
CREATE FUNCTION api.pre_request() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	headers jsonb;
	r orders.api_response;
BEGIN
	BEGIN
		headers := nullif(current_setting('request.headers', true), '')::jsonb;
	EXCEPTION WHEN invalid_text_representation THEN
		headers := NULL;
	END;
	IF jsonb_typeof(headers) IS DISTINCT FROM 'object' THEN
		headers := '{}';
	END IF;
	r := orders.api_authenticate(headers);
	IF r.status IS NULL AND orders.current_client_id() IS NOT NULL THEN
		r := orders.api_rate_limit('client', orders.current_client_id());
	END IF;
	IF r.status IS NOT NULL THEN
		PERFORM orders.postgrest_raise(r);
	END IF;
END
$$;
COMMENT ON FUNCTION api.pre_request() IS
'PostgREST db-pre-request: authenticates the request from request.headers (401 on bad credentials), then counts it against the client''s rate limits (429)';

-- api.<operation> for each route: its arguments are the route's query and
-- path parameters (text, as PostgREST passes them) and body members
-- (jsonb); the client is the one api.pre_request authenticated.
DO $do$
DECLARE
	o record;
BEGIN
	FOR o IN
		SELECT op.operation, op.description,
			   coalesce(string_agg(format('%I %s', p.name, CASE p.source
							WHEN 'query' THEN 'text DEFAULT NULL' WHEN 'path' THEN 'text' ELSE 'jsonb' END),
						', ' ORDER BY n) FILTER (WHERE p.source IN ('query', 'path', 'body')), '') AS args,
			   coalesce('jsonb_build_object(' || string_agg(format('%L, %I', p.name, p.name), ', ' ORDER BY n)
						FILTER (WHERE p.source IN ('query', 'path')) || ')', '''{}''') AS params,
			   coalesce('jsonb_build_object(' || string_agg(format('%L, %I', p.name, p.name), ', ' ORDER BY n)
						FILTER (WHERE p.source = 'body') || ')', 'NULL') AS body
		FROM orders.api_operations op
		LEFT JOIN LATERAL unnest(op.parameters) WITH ORDINALITY AS p(name, source, type, minimum, n) ON true
		GROUP BY op.operation, op.description
		ORDER BY op.operation
	LOOP
		EXECUTE format($f$CREATE FUNCTION api.%I(%s) RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, orders AS $body$
	SELECT orders.postgrest_reply(%L, orders.api_call(%L, orders.current_client_id(),
		orders.current_api_key_id(), orders.current_auth_method(), %s, %s))
$body$$f$, o.operation, o.args, o.operation, o.operation, o.params, o.body);
		EXECUTE format('COMMENT ON FUNCTION api.%I IS %L', o.operation, o.description);
	END LOOP;
END $do$;

-- Security of the API, applied last so that it covers every table and
-- function the install script created: row-level security on every
-- client-owned table, EXECUTE revoked from PUBLIC everywhere, and the
-- grants of the API and admin roles.

-- Functions are executable by PUBLIC by default, and ALTER DEFAULT
-- PRIVILEGES ... IN SCHEMA cannot take away a global default: revoke
-- explicitly, then grant what each role needs.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA orders FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA api FROM PUBLIC;

-- The one exception: the support functions of the enum types (I/O,
-- comparison, hashing, min/max; schema/10_enum_types.sql.in).  They are
-- part of the types, like int2's: pure, leakproof, touching no data.
-- Without them any role that may read a status column could not compare
-- it ("WHERE status = 'delivered'" needs EXECUTE on the = function).
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT p.oid::regprocedure
		FROM pg_catalog.pg_proc p
		JOIN pg_catalog.pg_type t
			ON t.typnamespace = p.pronamespace AND t.typtype = 'b' AND t.typelem = 0
		WHERE p.pronamespace = 'orders'::regnamespace
		  AND p.proname ~ ('^' || t.typname || '_(in|out|recv|send|eq|ne|lt|le|gt|ge|cmp|hash|hash_extended|smaller|larger)$')
	LOOP
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f);
	END LOOP;
END $$;

-- Row-level security.  Every table of schema orders with a client_id
-- column is client-owned: orders_api sees and touches only the rows of
-- orders.current_client_id(), which only the authentication functions
-- set.  The internal, admin and vendor functions run as the owner (a
-- superuser, who bypasses row-level security even when it is FORCEd: so
-- FORCE would promise nothing here, and is not used).  Operators and the
-- vendor back-channel, which may be granted reads on these tables, see
-- every row.
DO $$
DECLARE
	t regclass;
BEGIN
	FOR t IN
		SELECT c.oid::regclass
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'client_id' AND NOT a.attisdropped
		WHERE c.relnamespace = 'orders'::regnamespace AND c.relkind IN ('r', 'p')
		ORDER BY c.oid
	LOOP
		EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format($p$CREATE POLICY client_isolation ON %s TO orders_api
			USING (client_id = orders.current_client_id())
			WITH CHECK (client_id = orders.current_client_id())$p$, t);
		EXECUTE format('CREATE POLICY operators ON %s TO orders_admin, orders_vendor USING (true)', t);
		EXECUTE format('COMMENT ON POLICY client_isolation ON %s IS %L', t,
			'orders_api sees and changes only the rows of the authenticated client (orders.current_client_id())');
		EXECUTE format('COMMENT ON POLICY operators ON %s IS %L', t,
			'operators and the vendor back-channel see every row (their writes go through functions)');
	END LOOP;
END $$;

-- The API role reads its own client's orders with plain SQL too (row-level
-- security is the guard); it writes only through the api functions.
-- Wallets and the ledger stay unreadable to it (the money concern's
-- choice, tested there); their policies guard them should that change.
DO $$
DECLARE
	t regclass;
BEGIN
	FOR t IN
		SELECT c.oid::regclass FROM pg_catalog.pg_class c
		WHERE c.relnamespace = 'orders'::regnamespace AND c.relkind IN ('r', 'p')
		  AND c.relname IN ('orders', 'order_items', 'recharges')
	LOOP
		EXECUTE format('GRANT SELECT ON %s TO orders_api', t);
	END LOOP;
END $$;

GRANT USAGE ON SCHEMA api TO orders_api, orders_authenticator;
-- The API role executes the function of every route of the route table
-- (api.<operation>), the pre-request and dispatch.
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
		WHERE p.pronamespace = 'api'::regnamespace
		  AND p.proname IN (SELECT o.operation FROM orders.api_operations o)
	LOOP
		EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO orders_api', f);
	END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION api.pre_request(), api.dispatch(text, text, text, jsonb, text) TO orders_api;
-- The gateway's login role calls dispatch without switching roles.
GRANT EXECUTE ON FUNCTION api.dispatch(text, text, text, jsonb, text) TO orders_authenticator;
GRANT EXECUTE ON FUNCTION orders.current_client_id() TO orders_api;

GRANT EXECUTE ON FUNCTION
	orders.admin_create_client(text),
	orders.admin_issue_api_key(bigint, text, timestamptz),
	orders.admin_list_api_keys(bigint),
	orders.admin_revoke_api_key(text),
	orders.admin_expire_api_key(text, timestamptz),
	orders.admin_rotate_jwt_secret(),
	orders.admin_import_api_key(bigint, text, text, text, timestamptz),
	orders.admin_fund_wallet(bigint, text, numeric, text),
	orders.admin_put_product(jsonb),
	orders.rate_limit_status(),
	orders.rate_limit_reset()
TO orders_admin;
GRANT SELECT ON orders.api_audit TO orders_admin;

