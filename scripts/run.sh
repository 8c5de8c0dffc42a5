#!/bin/bash
# make run: build and install orders, start a local PostgreSQL cluster with
# it (data kept in .run/, reused by the next run), load the demo, start the
# REST gateway when it is built, print how to use it, and stay in the
# foreground until Ctrl-C or SIGTERM, which stop everything started here.
# ORDERS_GATEWAY_TLS=1 make run: the gateway serves HTTPS only, with a
# self-signed certificate made in .run/tls/ (or ORDERS_GATEWAY_TLS_CERT and
# ORDERS_GATEWAY_TLS_KEY: your own); see scripts/run-services.sh.
# ORDERS_SHARDS=3 make run: the sharded layout, a router database in front
# of three shard databases (scripts/run-shards.sh, docs/scale-out.md).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

scripts/install-deps.sh
bindir=$(pg_config --bindir)
export PATH="$bindir:$PATH"
make -s WERROR=1 all
# Installing is machine-wide: hold the lock of make test from the install
# until the extension is created, so nobody's install comes in between.
exec 9>/tmp/orders-install.lock
flock 9
make -s install

PGPORT=${ORDERS_PGPORT:-54329}
GATEWAY_PORT=${ORDERS_GATEWAY_PORT:-8080}
run=$top/.run
mkdir -p "$run"

# PostgreSQL refuses to run as root: run the server as postgres.
as_server() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
	if ! runuser -u postgres -- test -x "$top"; then
		echo "the postgres user cannot reach $top; clone it somewhere it can (e.g. /srv or /tmp)" >&2
		exit 1
	fi
	chown postgres "$run"
	as_server() { runuser -u postgres -- "$@"; }
fi

data=$run/data
if [ ! -s "$data/PG_VERSION" ]; then
	as_server initdb -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$run/initdb.log"
	echo "created cluster in $data"
fi
[ -x scripts/run-config.sh ] && scripts/run-config.sh "$run" "$data"

cleanup() {
	trap - INT TERM EXIT
	echo
	echo "stopping..."
	[ -n "${sleeper:-}" ] && kill "$sleeper" 2>/dev/null || true
	[ -n "${extra_pids:-}" ] && kill $extra_pids 2>/dev/null || true
	as_server pg_ctl -D "$data" -m fast -w stop >/dev/null 2>&1 || true
	echo "stopped"
}
trap cleanup EXIT
trap "cleanup; exit 0" INT TERM

as_server pg_ctl -D "$data" -w -l "$run/postgres.log" 9>&- \
	-o "-p $PGPORT -k $run -c listen_addresses=localhost -c shared_preload_libraries=orders" start >/dev/null
export PGHOST=$run PGPORT PGUSER=postgres PGDATABASE=orders
psql -X -q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'orders'" | grep -q 1 ||
	psql -X -q -d postgres -c "CREATE DATABASE orders"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS orders CASCADE"
for f in demo/*.sql; do
	[ -e "$f" ] && psql -X -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null
done
flock -u 9
exec 9>&-
# ORDERS_SHARDS=N: the router and N shards (docs/scale-out.md); the gateway
# connects to the router.
[ -n "${ORDERS_SHARDS:-}" ] && [ "$ORDERS_SHARDS" != 1 ] && . scripts/run-shards.sh

extra_pids=""
[ -x scripts/run-services.sh ] && . scripts/run-services.sh

cat <<INFO

orders is running (PostgreSQL $(psql -X -tAc 'SHOW server_version'), extension $(psql -X -tAc "SELECT extversion FROM pg_extension WHERE extname = 'orders'")).

  connect:   psql -h $run -p $PGPORT -U postgres orders
  try:       SELECT 'Delivered'::orders.order_status, 'realtime'::orders.delivery_time;
             SELECT * FROM orders.transitions();
INFO
[ -f demo/README.txt ] && sed "s|@PSQL@|psql -h $run -p $PGPORT -U postgres orders|g; s|@HOST@|${gateway_host:-http://localhost:$GATEWAY_PORT}|g" demo/README.txt
echo
echo "server log: $run/postgres.log    Ctrl-C stops everything."
# Wait in a way that a signal interrupts at once; the sleeper goes with us.
while true; do
	sleep 3600 &
	sleeper=$!
	wait $sleeper || true
done
