#!/bin/sh
# make run: the fulfilment settings of the demo cluster (docs/fulfilment.md).
# The background worker runs maintenance in database "orders" every 2 s and
# plays the sandbox vendor, so a DELAYED order of the demo reaches DELIVERED
# without anyone's help; retries and leases are short so that the demo's
# scenarios (demo/60_fulfilment.sql) play out within a minute.  Written to
# the cluster's postgresql.auto.conf (orders.worker_database needs a start).
set -eu
data=$2
conf=$data/postgresql.auto.conf
settings="orders.worker_database = 'orders'
orders.worker_interval = '2s'
orders.sandbox_vendor = on
orders.vendor_lease_timeout = '20s'
orders.vendor_retry_base = '3s'
orders.vendor_retry_max = '30s'
orders.vendor_retry_window = '10min'"

# Rewrite the settings in place (cat > keeps the file's owner and mode).
{
	grep -v -e '^orders\.worker_' -e '^orders\.sandbox_vendor' -e '^orders\.vendor_' "$conf" || true
	printf '%s\n' "$settings"
} > "$conf.new"
cat "$conf.new" > "$conf"
rm -f "$conf.new"
