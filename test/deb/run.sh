#!/bin/bash
# make deb-test: install the packages of make deb (build/deb/) with dpkg -i,
# check what they put where, create the extension in a fresh cluster from
# the packaged files only (and update a 1.0 database from them), serve it
# through the packaged gateway, then purge the packages.  Root only (CI's
# throwaway machine).  Installing packages writes the same machine-wide
# paths as make install: the install lock of make test is held throughout,
# and whatever make install had put there is put back afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "deb-test installs packages: run it as root" >&2; exit 1; }
ext=$(ls build/deb/postgresql-15-orders_*.deb 2>/dev/null | tail -1)
gw=$(ls build/deb/orders-gateway_*.deb 2>/dev/null | tail -1)
[ -n "$ext" ] && [ -n "$gw" ] || { echo "no packages in build/deb/: run make deb" >&2; exit 1; }
newest=$(sed -n "s/^default_version = '\([^']*\)'$/\1/p" orders.control)

pkglibdir=$(pg_config --pkglibdir)
extdir=$(pg_config --sharedir)/extension
pgbindir=$(pg_config --bindir)
work=$(mktemp -d /tmp/orders-deb-test.XXXXXX)
chmod 755 "$work"

status=0
result() { if [ "$2" -eq 0 ]; then echo "test $1 ... ok"; else echo "test $1 ... FAILED"; status=1; fi; }

exec 9>/tmp/orders-install.lock
flock 9

# What make install left (unowned by any package), put back at the end.
tar -C / -cf "$work/make-install.tar" --ignore-failed-read \
	$(cd / && ls -d "${pkglibdir#/}/orders.so" "${pkglibdir#/}/bitcode/orders" "${pkglibdir#/}/bitcode/orders.index.bc" \
		"${extdir#/}"/orders.control "${extdir#/}"/orders--*.sql "${pgbindir#/}/orders-gateway" \
		"${pgbindir#/}/orders-webhookd" 2>/dev/null) 2>/dev/null || true
cleanup() {
	[ -n "${gateway_pid:-}" ] && kill "$gateway_pid" 2>/dev/null || true
	dpkg --purge orders-gateway postgresql-15-orders >/dev/null 2>&1 || true
	rm -f "$pkglibdir/orders.so" "$extdir"/orders.control "$extdir"/orders--*.sql
	[ -s "$work/make-install.tar" ] && tar -C / -xf "$work/make-install.tar"
	rm -rf "$work"
}
trap cleanup EXIT
# Nothing of make install may stand in for a missing packaged file.
rm -rf "$pkglibdir/orders.so" "$pkglibdir/bitcode/orders" "$pkglibdir/bitcode/orders.index.bc" \
	"$extdir"/orders.control "$extdir"/orders--*.sql "$pgbindir/orders-gateway" "$pgbindir/orders-webhookd"

ok=0
dpkg -i "$ext" "$gw" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; ok=1; }
result deb-install $ok

# The files: where a Debian PostgreSQL extension and a daemon put them.
ok=0
for f in "$pkglibdir/orders.so" "$extdir/orders.control" "$extdir/orders--$newest.sql" \
	/usr/bin/orders-gateway /lib/systemd/system/orders-gateway.service \
	/etc/orders-gateway/orders-gateway.conf /usr/bin/orders-webhookd \
	/lib/systemd/system/orders-webhookd.service /etc/orders-gateway/orders-webhookd.conf; do
	dpkg -S "$f" >/dev/null 2>&1 || { echo "not installed by a package: $f" >&2; ok=1; }
done
for f in orders--*.sql; do
	cmp -s "$f" "$extdir/$f" || { echo "the package's $f differs from the tree's" >&2; ok=1; }
done
getent passwd orders-gateway >/dev/null || { echo "no user orders-gateway" >&2; ok=1; }
for conf in orders-gateway.conf orders-webhookd.conf; do
	[ "$(stat -c '%U:%G %a' /etc/orders-gateway/$conf)" = "root:orders-gateway 640" ] ||
		{ echo "$conf: $(stat -c '%U:%G %a' /etc/orders-gateway/$conf)" >&2; ok=1; }
done
grep -qx 'User=orders-gateway' /lib/systemd/system/orders-gateway.service || ok=1
grep -qx 'User=orders-gateway' /lib/systemd/system/orders-webhookd.service || ok=1
dpkg --verify postgresql-15-orders orders-gateway || ok=1
result deb-files $ok

# A fresh cluster with the library preloaded, the extension from the
# packaged files: created at the newest version, a 1.0 database updated,
# and the packaged gateway answering over HTTP.
scripts/vault-keygen.sh 1 > "$work/keys"
chown postgres "$work/keys"
chmod 600 "$work/keys"
port=$((20000 + $$ % 20000))
ok=0
pg_virtualenv -v 15 -o shared_preload_libraries=orders -o orders.vault_key_file="$work/keys" \
	bash -c '
	set -euo pipefail
	newest=$1 port=$2
	q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
	q -c "CREATE DATABASE orders" -c "CREATE DATABASE orders_old"
	q -d orders -c "CREATE EXTENSION orders CASCADE" 2>/dev/null
	[ "$(q -d orders -c "SELECT extversion FROM pg_extension WHERE extname = '"'orders'"'")" = "$newest" ]
	[ "$(q -d orders -c "SELECT '"'delivered'"'::orders.order_status")" = DELIVERED ]
	q -d orders_old -c "CREATE EXTENSION orders VERSION '"'1.0'"' CASCADE" -c "ALTER EXTENSION orders UPDATE" 2>/dev/null
	[ "$(q -d orders_old -c "SELECT extversion FROM pg_extension WHERE extname = '"'orders'"'")" = "$newest" ]
	/usr/bin/orders-gateway --port "$port" --role "" \
		--conninfo "host=$PGHOST port=$PGPORT user=$PGUSER password=$PGPASSWORD dbname=orders" 2>/dev/null &
	gateway=$!
	trap "kill $gateway 2>/dev/null" EXIT
	for i in $(seq 50); do
		curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	curl -fsS "http://127.0.0.1:$port/api/v1/health"
	echo
	# the packaged webhook daemon connects, claims (nothing) and stops on SIGTERM
	/usr/bin/orders-webhookd --poll-interval 0.2 \
		--conninfo "host=$PGHOST port=$PGPORT user=$PGUSER password=$PGPASSWORD dbname=orders" 2>"$3" &
	webhookd=$!
	sleep 2
	kill -TERM "$webhookd"
	wait "$webhookd"
	grep -q "listening on orders_webhooks" "$3" && ! grep -q "failed" "$3" || { cat "$3"; exit 1; }
	' _ "$newest" "$port" "$work/webhookd.log" > "$work/cluster.log" 2>&1 || { cat "$work/cluster.log" >&2; ok=1; }
grep -q '"status": *"ok"' "$work/cluster.log" || { cat "$work/cluster.log" >&2; ok=1; }
result deb-extension $ok

ok=0
dpkg --purge orders-gateway postgresql-15-orders >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; ok=1; }
[ ! -e "$pkglibdir/orders.so" ] && [ ! -e /usr/bin/orders-gateway ] && [ ! -e /usr/bin/orders-webhookd ] &&
	[ ! -e /etc/orders-gateway ] &&
	! getent passwd orders-gateway >/dev/null || { echo "purge left files or the user behind" >&2; ok=1; }
result deb-purge $ok
exit $status
