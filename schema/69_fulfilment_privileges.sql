-- Fulfilment's functions are callable only by the roles they are granted to
-- (orders_vendor, orders_admin; the internal ones by nobody but the owner).
-- ALTER DEFAULT PRIVILEGES IN SCHEMA (schema/00_schema.sql) cannot take
-- back the EXECUTE that PostgreSQL grants PUBLIC on every new function:
-- per-schema defaults only add to the global ones.  So revoke it here, for
-- every function of schema orders created so far, except those that make
-- the enum types work for everybody: a status compared in anyone's query
-- runs the operator's function with the caller's privileges (likewise
-- casts, type I/O, index support and aggregates).
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
		WHERE p.pronamespace = 'orders'::regnamespace AND p.prokind <> 'a'
			AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_operator o WHERE o.oprcode = p.oid)
			AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_cast c WHERE c.castfunc = p.oid)
			AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t
							WHERE p.oid IN (t.typinput, t.typoutput, t.typreceive, t.typsend))
			AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_amproc a WHERE a.amproc = p.oid)
			AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_aggregate g
							WHERE p.oid IN (g.aggfnoid, g.aggtransfn, g.aggfinalfn))
		ORDER BY p.oid
	LOOP
		EXECUTE format('REVOKE EXECUTE ON ROUTINE %s FROM PUBLIC', f);
	END LOOP;
END $$;
