#!/bin/sh
# make run: the webhook settings of the demo cluster (docs/webhookd.md).  The
# demo's receiver listens on 127.0.0.1, so URLs of private addresses are
# accepted at registration (never in production), and failed deliveries are
# retried within a minute so that a retry can be watched.  Written to the
# cluster's postgresql.auto.conf.
set -eu
data=$2
conf=$data/postgresql.auto.conf
settings="orders.webhook_allow_private_addresses = on
orders.webhook_retry_schedule = '5 seconds, 10 seconds, 30 seconds, 1 minute'"

# Rewrite the settings in place (cat > keeps the file's owner and mode).
{
	grep -v -e '^orders\.webhook_' "$conf" || true
	printf '%s\n' "$settings"
} > "$conf.new"
cat "$conf.new" > "$conf"
rm -f "$conf.new"
