#!/bin/bash
# Print the catalog of database $1 as text, for comparing an updated
# database with a fresh install (test/upgrade/run.sh, docs/releases.md).
#
# pg_dump --schema-only --binary-upgrade is the dump: unlike a plain dump
# it prints every member of an extension (functions, types, operators,
# operator classes, casts, aggregates, tables with their columns in order,
# constraints, indexes, triggers, policies, views), with its grants, its
# comment, its owner and its extension membership (ALTER EXTENSION ADD),
# and the grants the install scripts made (pg_init_privs).  What only
# records the physical state of this database (OIDs, relfilenodes, frozen
# xids, attribute LSNs, sequence values) is removed; the extension's configuration tables
# are listed by name instead of OID, with their conditions, sorted.
set -euo pipefail
db=$1
bindir=${ORDERS_PG_BINDIR:-$(pg_config --bindir)}

"$bindir/pg_dump" --schema-only --binary-upgrade --no-tablespaces -d "$db" | perl -ne '
	# One physical fact per line or per UPDATE statement of pg_class.
	next if /^SELECT pg_catalog\.binary_upgrade_set_next_/;
	next if /^\\(un)?restrict /;                  # a random key per dump
	next if /^SELECT pg_catalog\.setval\(/;        # sequence values are data
	next if /^-- For binary upgrade, (must preserve|set heap|set toast)/;
	if (/^UPDATE pg_catalog\.pg_class$/) { $skip = 1; next }
	if ($skip) { $skip = 0 if /;$/; next }
	# the configuration tables (OIDs) and their conditions, in the order
	# the scripts marked them: listed below by name, sorted
	s/(binary_upgrade_create_empty_extension\(.*?, )\x27\{[0-9,]*\}\x27, \x27(?:[^\x27]|\x27\x27)*\x27(, )/$1<config tables below>$2/;
	print;
' | cat -s

echo "-- Extensions: version and configuration tables (sorted: a fresh install"
echo "-- and an update mark them in different orders)"
"$bindir/psql" -X -q -At -d "$db" -c "
	SELECT e.extname, e.extversion,
		   (SELECT string_agg(format('%s %L', u.c::regclass, u.cond), ', ' ORDER BY u.c::regclass::text)
			FROM unnest(e.extconfig, e.extcondition) AS u(c, cond))
	FROM pg_catalog.pg_extension e ORDER BY e.extname"
