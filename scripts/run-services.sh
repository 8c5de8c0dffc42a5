# scripts/run-services.sh: sourced by scripts/run.sh once the cluster runs
# and the demo is loaded (PGHOST, PGPORT, PGUSER, PGDATABASE exported; $top,
# $run and $GATEWAY_PORT set).  Starts the REST gateway in the background
# (its PID goes to $extra_pids, so Ctrl-C stops it) with its metrics
# listener on loopback (ORDERS_GATEWAY_METRICS_PORT, default 9464; docs/metrics.md),
# gives the demo client a
# fresh API key, places one demo order through the gateway, and prints the
# reference's curl examples with host, key and ids filled in.
# shellcheck shell=bash

gateway_log=$run/gateway.log
metrics_port=${ORDERS_GATEWAY_METRICS_PORT:-9464}
demo_client=${ORDERS_DEMO_CLIENT:-Demo Client}

# HTTPS (docs/gateway.md, "HTTPS"): ORDERS_GATEWAY_TLS=1 make run serves
# https:// only, with a self-signed certificate for localhost made once in
# $run/tls/ (the curl examples trust it with --cacert);
# ORDERS_GATEWAY_TLS_CERT=... ORDERS_GATEWAY_TLS_KEY=... use your own files.
tls_args=()
curl_cmd=curl
gateway_host=http://localhost:$GATEWAY_PORT
if [ "${ORDERS_GATEWAY_TLS:-0}" = 1 ] || [ -n "${ORDERS_GATEWAY_TLS_CERT:-}" ]; then
	tls_cert=${ORDERS_GATEWAY_TLS_CERT:-$run/tls/gateway.crt}
	tls_key=${ORDERS_GATEWAY_TLS_KEY:-$run/tls/gateway.key}
	if [ -z "${ORDERS_GATEWAY_TLS_CERT:-}" ] && [ ! -f "$tls_cert" ]; then
		mkdir -p "$run/tls"
		openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost \
			-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
			-keyout "$tls_key" -out "$tls_cert" 2>/dev/null
		chmod 600 "$tls_key"
	fi
	tls_args=(--tls-cert "$tls_cert" --tls-key "$tls_key")
	[ -z "${ORDERS_GATEWAY_TLS_CERT:-}" ] && curl_cmd="curl --cacert $tls_cert"
	gateway_host=https://localhost:$GATEWAY_PORT
fi

"$top/gateway/orders-gateway" --listen 127.0.0.1 --port "$GATEWAY_PORT" \
	--conninfo "host=$run port=$PGPORT dbname=${ORDERS_GATEWAY_DATABASE:-$PGDATABASE} user=$PGUSER" \
	--metrics-listen 127.0.0.1 --metrics-port "$metrics_port" \
	"${tls_args[@]}" 2>>"$gateway_log" &
extra_pids="$extra_pids $!"
gateway_pid=$!
for _ in $(seq 50); do
	$curl_cmd -sf "$gateway_host/api/v1/health" >/dev/null 2>&1 && break
	kill -0 "$gateway_pid" 2>/dev/null || break
	sleep 0.1
done
if ! $curl_cmd -sf "$gateway_host/api/v1/health" >/dev/null 2>&1; then
	echo "the gateway did not start (port $GATEWAY_PORT or $metrics_port taken? set ORDERS_GATEWAY_PORT or ORDERS_GATEWAY_METRICS_PORT); see $gateway_log:" >&2
	tail -5 "$gateway_log" >&2
	return 1
fi

# The demo client (demo/*.sql creates and funds it; created here if not),
# and a new API key: the secret is shown once, so every run issues one and
# revokes the keys earlier runs issued.
demo_key=$(psql -X -q -v ON_ERROR_STOP=1 -tA -F ' ' -v name="$demo_client" <<'SQL'
SELECT coalesce((SELECT id FROM orders.clients WHERE name = :'name'),
				orders.admin_create_client(:'name')) AS client_id \gset
\o /dev/null
SELECT orders.admin_revoke_api_key(key_id)
  FROM orders.admin_list_api_keys(:client_id) WHERE label = 'make run' AND state = 'active';
\o
SELECT key_id, secret FROM orders.admin_issue_api_key(:client_id, 'make run');
SQL
)
api_key=${demo_key% *}
api_secret=${demo_key#* }
# The sharded layout (scripts/run-shards.sh): the new key into the router's
# credential directory.
if declare -F sync_router_keys >/dev/null; then sync_router_keys; fi

# A product of the demo catalog that is in stock, so the demo order is
# delivered at once and has vouchers to show.
demo_product=$($curl_cmd -s "$gateway_host/api/v1/products" \
	-H "X-API-Key: $api_key" -H "X-API-Secret: $api_secret" |
	jq -r '[.[] | select(.delivery_time == "INSTANT")
			| {id, d: ([.denominations[]? | select(.delivery_time == "INSTANT") | .denomination][0]
					   // .denomination_range.min)}][0] | "\(.id) \(.d)"' || true)
product_id=${demo_product% *}
denomination=${demo_product#* }
if [ -z "$demo_product" ] || [ "$product_id" = null ] || [ "$denomination" = null ]; then
	echo "no product in stock (is the vault key configured?): the orders below will stay PENDING" >&2
	product_id=1001 denomination=25
fi

# One order, placed through the gateway: the details examples read it.  Its
# poNumber is fixed, so a later make run replays it instead of buying again.
demo_order=$($curl_cmd -s -X POST "$gateway_host/api/v1/orders" \
	-H "X-API-Key: $api_key" -H "X-API-Secret: $api_secret" \
	-H "Content-Type: application/json" \
	-d "{\"data\": {\"productId\": $product_id, \"quantity\": 1, \"denomination\": $denomination, \"email\": \"customer@example.com\", \"poNumber\": \"PO-MAKE-RUN-DEMO\"}}" |
	jq -r '.data.placeOrder.data.orderId // empty' || true)
order_id=${demo_order:-1}
po_number="PO-$(date +%Y%m%d-%H%M%S)"
year=$(date -u +%Y)

cat <<EXAMPLES

REST API: $gateway_host (orders-gateway, log: $gateway_log)
  API description: $gateway_host/api/v1/openapi.json    health: $gateway_host/api/v1/health
  Prometheus metrics: http://127.0.0.1:$metrics_port/metrics   (loopback only; docs/metrics.md)
  client "$demo_client": X-API-Key $api_key
                      X-API-Secret $api_secret   (a new key each make run)

# Place an order (run it twice: the second answer is a 200 replay of the same order)
$curl_cmd -X POST "$gateway_host/api/v1/orders" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret" \\
-H "Content-Type: application/json" \\
-d '{"data": {"productId": $product_id, "quantity": 1, "denomination": $denomination, "email": "customer@example.com", "poNumber": "$po_number"}}'

# Get first page of orders with default pagination (add -i to see X-Page, X-Per-Page, X-Total-Count, X-Total-Pages)
$curl_cmd -X GET "$gateway_host/api/v1/orders" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret"

# Filter by delivered status with custom pagination
$curl_cmd -X GET "$gateway_host/api/v1/orders?status=delivered&limit=20&page=1" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret"

# Get orders for specific product
$curl_cmd -X GET "$gateway_host/api/v1/orders?product_id=$product_id" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret"

# Combine filters
$curl_cmd -X GET "$gateway_host/api/v1/orders?status=delivered&product_id=$product_id&limit=50" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret"

# Orders placed in a date range (placed_from inclusive, placed_to exclusive, RFC 3339 with Z or an offset)
$curl_cmd -X GET "$gateway_host/api/v1/orders?placed_from=$year-01-01T00:00:00Z&placed_to=$((year + 1))-01-01T00:00:00Z&status=delivered" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret"

# After a 5xx from Place Order: does the order with that poNumber exist? 200 with it (X-Total-Count: 1), 404 if not (then place it again)
$curl_cmd -i -X GET "$gateway_host/api/v1/orders?po_number=PO-MAKE-RUN-DEMO" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret"

# Get order details
$curl_cmd -X GET "$gateway_host/api/v1/orders/$order_id" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret"

# Get order and extract vouchers (using jq)
$curl_cmd -X GET "$gateway_host/api/v1/orders/$order_id" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret" \\
| jq '.vouchers'

# Check order status
$curl_cmd -X GET "$gateway_host/api/v1/orders/$order_id" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret" \\
| jq '.status'

# Get voucher codes securely
$curl_cmd -s -X GET "$gateway_host/api/v1/orders/$order_id" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret" \\
| jq -r '.vouchers[] | "Card: \(.card_number) PIN: \(.pin_code)"'

# An access token instead of key and secret (valid a few minutes; send it as -H "Authorization: Bearer \$TOKEN")
$curl_cmd -s -X POST "$gateway_host/api/v1/auth/token" \\
-H "X-API-Key: $api_key" \\
-H "X-API-Secret: $api_secret" | jq -r .access_token

# The same by OAuth 2.0 client credentials (RFC 6749 4.4): the key is the client_id, its secret the client_secret
$curl_cmd -s -X POST "$gateway_host/api/v1/auth/token" \\
-d grant_type=client_credentials \\
--data-urlencode "client_id=$api_key" \\
--data-urlencode "client_secret=$api_secret" | jq .

# ... or with HTTP Basic client authentication (key ids and secrets need no form encoding)
$curl_cmd -s -X POST "$gateway_host/api/v1/auth/token" \\
-u "$api_key:$api_secret" \\
-d grant_type=client_credentials | jq .
EXAMPLES

# Webhooks: the delivery daemon and a demo receiver (scripts/run-webhookd.sh).
. "$top/scripts/run-webhookd.sh"
