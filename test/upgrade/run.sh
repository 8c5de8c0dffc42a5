#!/bin/bash
# The upgrade tests (docs/releases.md, issue 12): for every released
# version older than the newest (default_version of orders.control), in a
# throwaway cluster running this tree's installed build:
#   served   the version is created from its frozen script and serves the
#            demo and the fixtures (test/upgrade/fixtures.sql) with the new
#            shared library: every C function it declares still resolves;
#   catalog  after ALTER EXTENSION orders UPDATE, the catalog equals that of a
#            fresh install of the newest version (test/upgrade/catalog-dump.sh,
#            compared as text), and so do the rows the install script ships;
#   data     the data are intact: the row count of every table of the
#            extension unchanged, verify_ledger() empty, every delivered
#            voucher reveals to its owner exactly as before the update;
#   regress  the pg_regress suites (sql/) pass in a database updated from it.
# Prints one "test upgrade-<what>-from-<version> ... ok|FAILED" line each; exits
# non-zero on any failure.  Needs the extension installed (make test holds
# the install lock around it); ORDERS_PG_BINDIR runs another server build.
set -euo pipefail
cd "$(dirname "$0")/../.."
bindir=${ORDERS_PG_BINDIR:-$(pg_config --bindir)}
newest=$(sed -n "s/^default_version = '\([^']*\)'$/\1/p" orders.control)
older=$(sed -n 's/^[0-9a-f]*  orders--\([0-9.]*\)\.sql$/\1/p' released-scripts.sha256 |
	sort -V | grep -vxF "$newest" || true)

work=$(mktemp -d /tmp/orders-upgrade.XXXXXX)
chmod 755 "$work"
as_server() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
	chown postgres "$work"
	as_server() { runuser -u postgres -- "$@"; }
fi
cleanup() {
	as_server "$bindir/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true
	[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# Vault keys as scripts/test.sh makes them (sql/vault_rotation.sql switches
# the cluster to keys 1 and 2, then to key 2).
k1=$(scripts/vault-keygen.sh 1)
k2=$(scripts/vault-keygen.sh 2)
(
	umask 077
	printf '%s\n' "$k1" > "$work/keys-1"
	printf '%s\n%s\n' "$k1" "$k2" > "$work/keys-1-2"
	printf '%s\n' "$k2" > "$work/keys-2"
)
[ "$(id -u)" -eq 0 ] && chown postgres "$work"/keys-*
export ORDERS_TEST_KEYS_1_2=$work/keys-1-2 ORDERS_TEST_KEYS_2=$work/keys-2

as_server "$bindir/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N >/dev/null
# In postgresql.conf, not on the command line: sql/vault_rotation.sql
# changes the key file with ALTER SYSTEM.
cat >> "$work/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$work'
shared_preload_libraries = 'orders'
orders.vault_key_file = '$work/keys-1'
CONF
as_server "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
export PGHOST=$work PGPORT=5432 PGUSER=postgres
psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

status=0
result() {  # result <what> <version> <ok?>: "test upgrade-data-from-1-0 ... ok"
	local name="upgrade-$1-from-${2//./-}"
	if [ "$3" -eq 0 ]; then echo "test $name ... ok"; else echo "test $name ... FAILED"; status=1; fi
}

if [ -z "$older" ]; then
	echo "upgrade tests: no release older than $newest, nothing to update"
	exit 0
fi

psql -d postgres -c "CREATE DATABASE fresh"
psql -d fresh -c "CREATE EXTENSION orders CASCADE" 2>/dev/null
test/upgrade/catalog-dump.sh fresh > "$work/fresh.catalog"
# The rows the install script ships (the route table, the currencies): the
# tables of the extension that a fresh install fills, except configuration
# tables dumped whole (their rows are per database, e.g. a random secret);
# those dumped with a condition keep their shipped rows out of the dump,
# and those are compared here.
shipped_tables=$(psql -d fresh -At -c "
	SELECT c.oid::regclass FROM pg_class c, pg_extension e
	WHERE e.extname = 'orders' AND c.relkind IN ('r', 'p')
	  AND NOT EXISTS (SELECT 1 FROM unnest(e.extconfig, e.extcondition) AS u(t, cond)
					  WHERE u.t = c.oid AND u.cond = '')
	  AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
				  AND d.refobjid = e.oid AND d.deptype = 'e')
	  AND (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass),
											   false, true, '')))[1]::text <> '0'
	ORDER BY 1")
shipped_rows() {
	local t
	for t in $shipped_tables; do
		echo "-- $t"
		psql -d "$1" -At -c "SELECT t::text FROM $t t ORDER BY 1"
	done
}
shipped_rows fresh >> "$work/fresh.catalog"

# What must not change across the update: row counts of every table in the
# extension's schemas, and the balances.
data_snapshot() {
	psql -d "$1" -At -c "
		SELECT format('%s %s', c.oid::regclass,
			(xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass),
												 false, true, '')))[1])
		FROM pg_class c, pg_extension e
		WHERE e.extname = 'orders' AND c.relkind IN ('r', 'p')
		  AND (c.relnamespace = e.extnamespace
			   OR c.relnamespace IN (SELECT objid FROM pg_depend
									 WHERE classid = 'pg_namespace'::regclass
									   AND refobjid = e.oid AND deptype = 'e'))
		ORDER BY 1" -c "
		SELECT format('wallet %s %s %s', client_id, currency, balance) FROM orders.wallets ORDER BY 1"
}
# Every delivered voucher as its owner sees it: one digest per order (the
# codes themselves never leave this function), and the orders that
# revealed nothing although delivered.
reveal_snapshot() {
	psql -d "$1" -At -c "
		SELECT format('%s %s %s', o.id, o.po_number,
			CASE WHEN jsonb_array_length(r.v) = 0 THEN 'NOTHING REVEALED'
				 ELSE md5(r.v::text) END)
		FROM orders.orders o, LATERAL (SELECT orders.reveal_vouchers(o.client_id, o.id)::jsonb AS v) r
		WHERE o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED')
		  AND EXISTS (SELECT 1 FROM orders.order_items i WHERE i.order_id = o.id
					  AND NOT EXISTS (SELECT 1 FROM orders.recharges x WHERE x.order_item_id = i.id))
		ORDER BY o.id"
}

for v in $older; do
	path=$(psql -d fresh -At -c "SELECT path FROM pg_extension_update_paths('orders')
		WHERE source = '$v' AND target = '$newest'")
	if [ -z "$path" ]; then
		echo "no upgrade path from $v to $newest: write orders--$v--...sql (docs/releases.md)" >&2
		result path "$v" 1
		continue
	fi
	echo "upgrade path $v -> $newest: $path"
	db=from_$v

	# served: the old version from its frozen script, with the new library.
	ok=0
	{
		psql -d postgres -c "CREATE DATABASE \"$db\"" &&
		psql -d "$db" -c "CREATE EXTENSION orders VERSION '$v' CASCADE" 2>/dev/null &&
		[ "$(psql -d "$db" -At -c "SELECT extversion FROM pg_extension WHERE extname = 'orders'")" = "$v" ] &&
		for f in demo/*.sql test/upgrade/fixtures.sql; do
			psql -d "$db" -f "$f" >/dev/null 2>"$work/load.err" || { cat "$work/load.err" >&2; exit 1; }
		done &&
		reveal_snapshot "$db" > "$work/reveal.before" &&
		! grep -q 'NOTHING REVEALED' "$work/reveal.before" &&
		data_snapshot "$db" > "$work/data.before"
	} || ok=1
	result served "$v" $ok
	[ $ok -eq 0 ] || continue

	if ! psql -d "$db" -c "ALTER EXTENSION orders UPDATE" ||
		[ "$(psql -d "$db" -At -c "SELECT extversion FROM pg_extension WHERE extname = 'orders'")" != "$newest" ]; then
		result update "$v" 1
		continue
	fi

	# catalog: as a fresh install of the newest version.
	test/upgrade/catalog-dump.sh "$db" > "$work/updated.catalog"
	shipped_rows "$db" >> "$work/updated.catalog"
	ok=0
	diff -u --label "fresh $newest" --label "$v updated to $newest" \
		"$work/fresh.catalog" "$work/updated.catalog" >&2 || ok=1
	result catalog "$v" $ok

	# data: counts, the books, the vouchers.
	ok=0
	# A table the new version adds exists only after the update, and empty:
	# its "<table> 0" line is left out of the comparison; so are the tables
	# whose rows the install script ships (the route table: the catalog
	# test above compares their rows with a fresh install's).
	data_snapshot "$db" | awk 'NR == FNR { seen[$1] = 1; next }
		!($1 in seen) && $0 ~ /^orders\.[a-z_]+ 0$/ { next } { print }' "$work/data.before" - \
		> "$work/data.after"
	diff -u <(grep -v -F -f <(printf '%s \n' ${shipped_tables:-/none/}) "$work/data.before") \
		<(grep -v -F -f <(printf '%s \n' ${shipped_tables:-/none/}) "$work/data.after") >&2 || ok=1
	bad=$(psql -d "$db" -At -c "SELECT count(*) FROM orders.verify_ledger()")
	[ "$bad" = 0 ] || { echo "verify_ledger() reports $bad wallets after the update" >&2; ok=1; }
	reveal_snapshot "$db" > "$work/reveal.after"
	diff -u "$work/reveal.before" "$work/reveal.after" >&2 || ok=1
	# Units a vendor delivered before 1.1 name their job (1.1's vendor_job_id,
	# NULL for stock): every unit delivered as "vouchers fetched from the
	# vendor" carries the job of its item's order, no other unit carries one,
	# and the fixtures have some.
	marks=$(psql -d "$db" -At -c "
		SELECT format('%s %s', count(*) FILTER (WHERE v.fetched),
			count(*) FILTER (WHERE u.vendor_job_id IS DISTINCT FROM
								   CASE WHEN v.fetched THEN j.id END))
		FROM orders.inventory_units u
		LEFT JOIN orders.order_items i ON i.unit_id = u.id
		LEFT JOIN orders.vendor_jobs j ON j.order_id = i.order_id,
		LATERAL (SELECT EXISTS (SELECT 1 FROM orders.status_history h
								WHERE h.entity = 'inventory_unit' AND h.entity_id = u.id
								  AND h.reason = 'vouchers fetched from the vendor') AS fetched) v")
	case $marks in
	'0 '* | *' '[1-9]*) echo "vendor units after the update (delivered by a vendor, wrongly marked): $marks" >&2; ok=1 ;;
	esac
	echo "  $(wc -l < "$work/data.before") tables and wallets, $(wc -l < "$work/reveal.before") delivered orders revealed"
	result data "$v" $ok
done

# dump: a pg_dump of a database with the extension is a backup.  The
# database holds the demo, the fixtures (orders in every resting status,
# vouchers, refunds, top-ups, keys), a webhook endpoint with a test event,
# and rows an operator added to the configuration tables; it is dumped
# (custom format) and restored into a new database in three sections, the
# data between orders.restore_begin() and orders.restore_end()
# (docs/releases.md, "Backups").  The restored database has the same rows
# in every table, the same balances with verify_ledger() empty, reveals the
# same vouchers, the configuration rows (compared as one digest per table:
# the secrets never get printed), the triggers as a fresh install has them,
# and sequences that go on (a new order and a new audit row get new ids).
# In a database of the newest version and in one updated from each older
# version.
config_rows() {
	psql -d "$1" -At -c "
		SELECT format('%s %s rows %s', u.t::regclass,
			(xpath('/row/n/text()', x))[1], coalesce((xpath('/row/d/text()', x))[1]::text, '-'))
		FROM pg_extension e, unnest(e.extconfig) AS u(t),
			 LATERAL query_to_xml(format('SELECT count(*) AS n, md5(string_agg(r::text, '';'' ORDER BY r::text)) AS d FROM %s r',
										 u.t::regclass), false, true, '') AS x
		WHERE e.extname = 'orders' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = u.t) = 'r'
		ORDER BY 1"
}
trigger_states() {
	psql -d "$1" -At -c "
		SELECT format('%s %s %s', t.tgrelid::regclass, t.tgname, t.tgenabled)
		FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		WHERE NOT t.tgisinternal AND c.relnamespace = 'orders'::regnamespace ORDER BY 1"
}
trigger_states fresh > "$work/triggers.fresh"
dump_check() {  # dump_check <version to create> <label>
	local src=dump_src_$2 dst=dump_dst_$2 ok=0 f
	{
		psql -d postgres -c "CREATE DATABASE \"$src\"" -c "CREATE DATABASE \"$dst\"" &&
		psql -d "$src" -c "CREATE EXTENSION orders VERSION '$1' CASCADE" 2>/dev/null &&
		psql -d "$src" -c "ALTER EXTENSION orders UPDATE" &&
		for f in demo/*.sql test/upgrade/fixtures.sql; do
			psql -d "$src" -f "$f" >/dev/null 2>"$work/load.err" || { cat "$work/load.err" >&2; exit 1; }
		done &&
		psql -d "$src" <<-'SQL' &&
			\set ON_ERROR_STOP on
			INSERT INTO orders.currencies (code, minor_unit) VALUES ('ISK', 0);
			INSERT INTO orders.products (id, name, currency, denominations) VALUES (990001, 'Dump Card', 'ISK', '{1000}');
			INSERT INTO orders.fx_rates (base, quote, rate) VALUES ('USD', 'ISK', 138.5);
			INSERT INTO orders.sandbox_vendor_scenarios (po_prefix, outcomes) VALUES ('DUMP-', '{ok}');
			INSERT INTO orders.api_operations (operation, method, path, openapi_id, handler, failure_message, description)
			VALUES ('ping', 'GET', '/api/v1/ping', 'ping', 'handle_health', 'Ping failed', 'GET /api/v1/ping');
			INSERT INTO orders.api_audit (operation, status) VALUES ('dump-test', 200), ('dump-test', 404);
			SELECT (orders.handle_create_webhook(c.id, 'https://hooks.example.com/orders', ARRAY['order.delivered'],
												 'dump test')).status AS webhook_created
			FROM orders.clients c WHERE c.name = 'Upgrade Test Client';
			SELECT (orders.handle_test_webhook(w.client_id, w.id)).status AS webhook_tested
			FROM orders.webhook_endpoints w WHERE w.description = 'dump test';
		SQL
		reveal_snapshot "$src" > "$work/reveal.src" &&
		! grep -q 'NOTHING REVEALED' "$work/reveal.src" &&
		data_snapshot "$src" > "$work/data.src" &&
		config_rows "$src" > "$work/config.src" &&
		"$bindir/pg_dump" -Fc -d "$src" -f "$work/dump-$2.dump" &&
		"$bindir/pg_restore" --exit-on-error --section=pre-data -d "$dst" "$work/dump-$2.dump" 2> "$work/restore.err" &&
		psql -d "$dst" -At -c "SELECT orders.restore_begin() > 0 AS triggers_off" &&
		"$bindir/pg_restore" --exit-on-error --section=data -d "$dst" "$work/dump-$2.dump" 2> "$work/restore.err" &&
		psql -d "$dst" -At -c "SELECT orders.restore_end() > 0 AS triggers_on" &&
		"$bindir/pg_restore" --exit-on-error --section=post-data -d "$dst" "$work/dump-$2.dump" 2> "$work/restore.err" &&
		data_snapshot "$dst" > "$work/data.dst" &&
		diff -u --label "dumped" --label "restored" "$work/data.src" "$work/data.dst" >&2 &&
		config_rows "$dst" > "$work/config.dst" &&
		diff -u --label "dumped" --label "restored" "$work/config.src" "$work/config.dst" >&2 &&
		reveal_snapshot "$dst" > "$work/reveal.dst" &&
		diff -u --label "dumped" --label "restored" "$work/reveal.src" "$work/reveal.dst" >&2 &&
		[ "$(psql -d "$dst" -At -c "SELECT count(*) FROM orders.verify_ledger()")" = 0 ] &&
		[ "$(psql -d "$dst" -At -c "SELECT count(*) FROM orders.webhook_endpoints WHERE description = 'dump test'")" = 1 ] &&
		trigger_states "$dst" > "$work/triggers.dst" &&
		diff -u --label "fresh" --label "restored" "$work/triggers.fresh" "$work/triggers.dst" >&2 &&
		# the restored route is dispatched
		[ "$(psql -d "$dst" -At -c "SELECT status FROM api.dispatch('GET', '/api/v1/ping', NULL, '{}', NULL)")" = 200 ] &&
		# the sequences go on: a new order and a new audit row get new ids
		psql -d "$dst" -v ON_ERROR_STOP=1 -At 2> "$work/restore.err" <<-'SQL'
			SELECT (orders.create_order(c.id, '{"productId": 1001, "quantity": 1, "denomination": 25, "poNumber": "AFTER-RESTORE-1"}')).response
				#>> '{data,placeOrder,data,orderStatus}' AS new_order
			FROM orders.clients c WHERE c.name = 'Upgrade Test Client';
			INSERT INTO orders.api_audit (operation, status) VALUES ('after-restore', 200);
		SQL
	} || { ok=1; cat "$work/restore.err" >&2 2>/dev/null; }
	result dump "$2" $ok
}
dump_check "$newest" "$newest"
for v in $older; do
	dump_check "$v" "$v"
done

# regress: the suites in databases updated from each older version (last:
# sql/vault_rotation.sql switches the cluster's keys).
for v in $older; do
	db=regress_from_$v
	ok=0
	psql -d postgres -c "CREATE DATABASE \"$db\"" &&
		psql -d "$db" -c "CREATE EXTENSION orders VERSION '$v' CASCADE" 2>/dev/null &&
		psql -d "$db" -c "ALTER EXTENSION orders UPDATE" || ok=1
	if [ $ok -eq 0 ]; then
		make -s --no-print-directory installcheck ISOLATION= TAP_TESTS= \
			REGRESS_OPTS="--use-existing --dbname=$db --outputdir=$work/regress-$v" || ok=1
		[ -f "$work/regress-$v/regression.diffs" ] && cat "$work/regress-$v/regression.diffs" >&2
	fi
	result regress "$v" $ok
done
exit $status
