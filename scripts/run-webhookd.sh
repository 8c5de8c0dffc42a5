# scripts/run-webhookd.sh: sourced by scripts/run-services.sh once the
# gateway runs and the demo client has a key ($top, $run, $PG*, $curl_cmd,
# $gateway_host, $api_key, $api_secret, $extra_pids set).  Starts a demo
# webhook receiver (scripts/webhook-demo-receiver.py) and the delivery
# daemon orders-webhookd, and prints how to register a webhook and watch a
# delivery.  Both stop with make run.
# shellcheck shell=bash

receiver_port=${ORDERS_WEBHOOK_RECEIVER_PORT:-$((GATEWAY_PORT + 1))}
receiver_log=$run/webhook-receiver.log
webhookd_log=$run/webhookd.log

python3 "$top/scripts/webhook-demo-receiver.py" "$receiver_port" >>"$receiver_log" 2>&1 &
extra_pids="$extra_pids $!"

# --allow-private-addresses: the demo receiver is on 127.0.0.1 (never in
# production: it lets client URLs reach internal addresses).  With
# ORDERS_SHARDS (scripts/run-shards.sh), one daemon for every shard: a
# --conninfo each.
webhookd_conninfo=()
for db in ${ORDERS_WEBHOOKD_DATABASES:-$PGDATABASE}; do
	webhookd_conninfo+=(--conninfo "host=$run port=$PGPORT dbname=$db user=$PGUSER")
done
"$top/webhookd/orders-webhookd" --allow-private-addresses --poll-interval 1 \
	"${webhookd_conninfo[@]}" 2>>"$webhookd_log" &
extra_pids="$extra_pids $!"

cat <<WEBHOOKS

Webhooks: orders-webhookd delivers (log: $webhookd_log); a demo receiver on
http://127.0.0.1:$receiver_port writes what it gets to $receiver_log.

# Register a webhook endpoint (the answer shows its signing secret once)
$curl_cmd -X POST "$gateway_host/api/v1/webhooks" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret" \\
-H "Content-Type: application/json" \\
-d '{"url": "http://127.0.0.1:$receiver_port/demo", "eventTypes": ["order.placed", "order.delivered", "order.failed", "order.refunded"], "description": "make run demo"}'

# Place an order (above), then watch its events arrive
tail -f $receiver_log

# An endpoint's deliveries and their attempts (status, latency, error)
$curl_cmd "$gateway_host/api/v1/webhooks/<id>/deliveries" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret"
WEBHOOKS
