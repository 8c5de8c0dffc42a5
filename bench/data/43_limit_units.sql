-- The units the write set sells, one per order: the engine's units as
-- loaded (same row contents, ciphertexts included), twice (the write set
-- sells faster than the engine), numbered 1 .. n, and the cursor each
-- order of the write set draws the next one from.  The second copy's
-- fingerprints are rehashed (they are unique per product).  The cursor
-- does not cycle: a run that sold them all fails, rather than measure
-- updates of rows already sold.
-- requires: orders.load_inventory
SELECT format('INSERT INTO lim.inventory_units (id, %s) OVERRIDING SYSTEM VALUE'
			  ' SELECT row_number() OVER (ORDER BY k, id), %s'
			  '   FROM orders.inventory_units, generate_series(0, 1) AS k',
			  string_agg(quote_ident(attname), ', ' ORDER BY attnum),
			  string_agg(CASE attname WHEN 'fingerprint'
							 THEN 'CASE k WHEN 0 THEN fingerprint ELSE sha256(fingerprint || int4send(k)) END'
							 ELSE quote_ident(attname) END, ', ' ORDER BY attnum))
  FROM pg_attribute
 WHERE attrelid = 'lim.inventory_units'::regclass AND attnum > 0 AND NOT attisdropped AND attname <> 'id'
\gexec
SELECT format('CREATE SEQUENCE lim.unit_cursor MAXVALUE %s NO CYCLE', greatest(count(*), 1))
  FROM lim.inventory_units
\gexec
COMMENT ON SEQUENCE lim.unit_cursor IS 'the next unit the write set sells';
ANALYZE lim.inventory_units;
