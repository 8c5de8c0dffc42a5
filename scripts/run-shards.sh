# ORDERS_SHARDS=N make run (N >= 2): the sharded layout of docs/scale-out.md
# in the demo's cluster.  Sourced by scripts/run.sh after the demo is loaded
# (PGHOST, PGPORT, PGUSER exported, PGDATABASE=orders).  The demo database
# orders becomes shard 0, databases orders_shard1.. the other shards (same
# server secrets; the vault key file is the cluster's, so theirs too), and
# orders_router the router, with the demo's clients placed on shard 0 and
# their keys in its directory.  The gateway then connects to orders_router
# (ORDERS_GATEWAY_DATABASE, read by scripts/run-services.sh), and the
# webhook daemon to every shard (ORDERS_WEBHOOKD_DATABASES, read by
# scripts/run-webhookd.sh).  Made once, kept in .run/.
shards=$ORDERS_SHARDS
case $shards in
'' | *[!0-9]*) echo "ORDERS_SHARDS must be a number of shards, got '$shards'" >&2; exit 1 ;;
esac
db_exists() { psql -X -q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1; }
secrets=$(psql -X -q -d orders -tAc "SELECT string_agg(format('UPDATE orders.server_secrets SET value = %L WHERE name = %L;', value, name), ' ') FROM orders.server_secrets")
for i in $(seq 1 $((shards - 1))); do
	if ! db_exists "orders_shard$i"; then
		psql -X -q -d postgres -c "CREATE DATABASE orders_shard$i"
		psql -X -q -v ON_ERROR_STOP=1 -d "orders_shard$i" -c "CREATE EXTENSION orders CASCADE" -c "$secrets"
		psql -X -q -v ON_ERROR_STOP=1 -d "orders_shard$i" -f demo/10_catalog.sql >/dev/null
	fi
done
if ! db_exists orders_router; then
	psql -X -q -d postgres -c "CREATE DATABASE orders_router"
	psql -X -q -v ON_ERROR_STOP=1 -d orders_router -c "CREATE EXTENSION orders_router CASCADE" \
		-c "SELECT orders_router.add_shard('host=$PGHOST port=$PGPORT dbname=orders')" >/dev/null
	for i in $(seq 1 $((shards - 1))); do
		psql -X -q -v ON_ERROR_STOP=1 -d orders_router \
			-c "SELECT orders_router.add_shard('host=$PGHOST port=$PGPORT dbname=orders_shard$i')" >/dev/null
	done
fi
# The clients and keys of shard 0 (the demo's) into the router's placement
# and credential directory; again after scripts/run-services.sh issued the
# demo client a new key.
sync_router_keys() {
	psql -X -q -v ON_ERROR_STOP=1 -d orders -tAc "
		SELECT format('INSERT INTO orders_router.placement (client_id, shard, placed_by) VALUES (%s, 0, ''operator'') ON CONFLICT DO NOTHING;', id)
		FROM orders.clients
		UNION ALL
		SELECT format('INSERT INTO orders_router.api_keys (key_id, client_id) VALUES (%L, %s) ON CONFLICT DO NOTHING;', key_id, client_id)
		FROM orders.api_keys" | psql -X -q -v ON_ERROR_STOP=1 -d orders_router
}
sync_router_keys
echo "sharded: router database orders_router, $(psql -X -q -d orders_router -tAc 'SELECT count(*) FROM orders_router.shards') shards (orders, orders_shard1..); problems: $(psql -X -q -d orders_router -tAc 'SELECT count(*) FROM orders_router.check_shards()')"
ORDERS_GATEWAY_DATABASE=orders_router
# One orders-webhookd for every shard (scripts/run-webhookd.sh: a
# --conninfo each).
ORDERS_WEBHOOKD_DATABASES="orders$(for i in $(seq 1 $((shards - 1))); do printf ' orders_shard%s' "$i"; done)"
