# The webhook delivery workload (issue 13), sourced by bench/run.sh after the
# order workloads (it uses its cluster, run_pgbench, params_of, log, psql_q;
# BENCH_ONLY matches it as 90_webhooks).  docs/benchmarks.md, "Webhook
# delivery", explains it.
#
# Endpoints of the writer clients point at bench/webhooks/receiver.js (204 at
# once, receipt time per webhook-id; no signature check).  Rounds alternate:
#   off  the order path (10_create_instant, ours) with no daemon running:
#        its events wait in the outbox;
#   drain  orders-webhookd starts and delivers that backlog, nothing else
#        running: deliveries/s, from the daemon's start to the last receipt;
#   on   the same order workload with the daemon running: the order path's
#        tps beside off's, and each delivery's delay from its order's commit
#        (pgbench's per-transaction log: the time the statement, and so its
#        commit, returned) to its receipt.
# Writes $work/webhooks.md (appended to the report); a delivery that does not
# succeed, or a backlog not delivered in time, fails the run.

webhook_wdir=$bench/webhooks
webhook_md=$work/webhooks.md
webhook_endpoints_per_client=${BENCH_WEBHOOK_ENDPOINTS:-2}
webhook_concurrency=${BENCH_WEBHOOK_CONCURRENCY:-64}
webhook_clients=${BENCH_WEBHOOK_CLIENTS:-2}
# The bench runs no background worker, whose maintenance would NOTIFY the
# daemon of new events: it finds them by polling, and by claiming again at
# once after a full batch.
webhook_poll=${BENCH_WEBHOOK_POLL:-0.2}
webhook_rounds=${BENCH_WEBHOOK_ROUNDS:-$([ $smoke -eq 1 ] && echo 1 || echo 3)}
webhook_target=1000	# deliveries/s, issue 13
webhookd_pid=
receiver_pid=

webhook_skip() {
	log "90_webhooks: skipped ($1)"
	printf '## Webhook delivery (issue 13)\n\nNot run: %s.\n' "$1" >"$webhook_md"
}

start_webhookd() {
	"$top/webhookd/orders-webhookd" --conninfo "host=$work port=$PGPORT dbname=bench user=bench_webhookd" \
		--sender bench --concurrency "$webhook_concurrency" --poll-interval "$webhook_poll" --allow-private-addresses \
		>>"$work/webhooks/webhookd.log" 2>&1 9>&- &
	webhookd_pid=$!
}
stop_webhookd() {
	kill -TERM "$webhookd_pid" && wait "$webhookd_pid" || true
	webhookd_pid=
}

# Until every outbox event is fanned out and every delivery succeeded (or
# the time runs out: 1).  Asked every 0.1 s with EXISTS, one index entry
# each: a count of the backlog (as before) cost 20 ms a call, a fifth of
# a core taken from the drain it measures.
webhook_wait_drained() {
	local left
	for _ in $(seq 3000); do
		left=$(psql -X -tAc "SELECT EXISTS (SELECT 1 FROM orders.order_events WHERE webhooks_queued_at IS NULL)
			OR EXISTS (SELECT 1 FROM orders.webhook_deliveries WHERE status = 'pending')")
		[ "$left" = f ] && return 0
		kill -0 "$webhookd_pid" 2>/dev/null || { log "90_webhooks: the daemon exited: $(tail -2 "$work/webhooks/webhookd.log")"; return 1; }
		sleep 0.1
	done
	log "90_webhooks: events or deliveries left after 300 s"
	return 1
}

now_epoch() { date +%s.%N; }

webhook_bench() {
	local wb=$work/webhooks script=$bench/workloads/10_create_instant/ours.sql
	mkdir -p "$wb"
	[ -x "$top/webhookd/orders-webhookd" ] || { webhook_skip "no webhookd/orders-webhookd"; return 0; }
	command -v node >/dev/null || { webhook_skip "no node for the receiver"; return 0; }
	impl=ours
	# the order workload's own settings, not those the last workload left
	workload_setup "$bench/workloads/10_create_instant"

	# The order workloads left their outbox unread by the fan-out: queue it
	# while no endpoint exists (the fan-out then creates nothing).
	psql_q -o /dev/null -c "SELECT orders.webhook_enqueue(2147483647)"

	node "$webhook_wdir/receiver.js" "$wb/received.tsv" >"$wb/receiver.out" 2>&1 9>&- &
	receiver_pid=$!
	local port=
	for _ in $(seq 50); do
		port=$(sed -n 's/^port //p' "$wb/receiver.out")
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { log "90_webhooks: the receiver did not start"; failures=$((failures + 1)); return 0; }

	# N endpoints per writer client, every subscribable event type; loopback
	# URLs are accepted for this session only.
	psql_q -o /dev/null -c "CREATE ROLE bench_webhookd LOGIN IN ROLE orders_webhook_sender"
	local statuses
	statuses=$(psql -X -q -tA -v ON_ERROR_STOP=1 -v port="$port" -v per="$webhook_endpoints_per_client" <<-'SQL'
	SET orders.webhook_allow_private_addresses = on;
	SELECT (orders.handle_create_webhook(w.value::bigint + c,
			format('http://127.0.0.1:%s/e%s-%s', :'port', w.value::bigint + c, k),
			orders.webhook_subscribable_types(), 'bench')).status
	  FROM bench.params w, bench.params n, generate_series(0, n.value::int - 1) AS c,
		   generate_series(1, :per) AS k
	 WHERE w.impl = 'ours' AND w.name = 'writer' AND n.impl = '*' AND n.name = 'writers';
	SQL
	)
	if [ -z "$statuses" ] || echo "$statuses" | grep -qv '^201$'; then
		log "90_webhooks: endpoints not registered: $(echo "$statuses" | sort | uniq -c | tr '\n' ' ')"
		failures=$((failures + 1))
		return 0
	fi
	local endpoints
	endpoints=$(psql -X -tAc "SELECT count(*) FROM orders.webhook_endpoints WHERE deleted_at IS NULL")
	log "90_webhooks: $endpoints endpoints -> 127.0.0.1:$port, daemon --concurrency $webhook_concurrency --poll-interval $webhook_poll"

	local r phase out rc line t0 rows=""
	: >"$wb/commits.tsv"
	for r in $(seq "$webhook_rounds"); do
		for phase in off on; do
			w=90_webhooks-$phase$r
			out=$work/runs/90_webhooks/$phase$r
			mkdir -p "$out"
			psql_q -c CHECKPOINT
			rc=0
			run_pgbench "$script" "$webhook_clients" "$out" "${RUN_ARGS[@]}" --log --log-prefix="$out/tx" || rc=$?
			line=$("$bench/report.pl" stats "$out" "$rc")
			case "$line" in
			ok*) log "90_webhooks $phase$r: order path $(echo "$line" | cut -f2) tps" ;;
			*) failures=$((failures + 1)); log "90_webhooks $phase$r: FAILED"; sed -n '1,5p' "$out/stderr" >&2 ;;
			esac
			echo "$line" | awk -F'\t' -v r="$r" -v p="$phase" '{ print r "\t" p "\t" $1 "\t" ($2 == "" ? "\\N" : $2) }' >>"$wb/tps.tsv"
			if [ $phase = off ]; then
				# the backlog of the off run, delivered with nothing else running
				t0=$(now_epoch)
				start_webhookd
				webhook_wait_drained || { failures=$((failures + 1)); stop_webhookd; return 0; }
				printf '%s\t%s\n' "$r" "$t0" >>"$wb/drains.tsv"
			else
				# per order: pgbench client, transaction number, end time (epoch)
				cat "$out"/tx.* | awk -v r="$r" '{ printf "%s\t%s\t%s\t%s.%06d\n", r, $1, $2, $5, $6 }' >>"$wb/commits.tsv"
				webhook_wait_drained || { failures=$((failures + 1)); stop_webhookd; return 0; }
				stop_webhookd
			fi
		done
	done
	kill -TERM "$receiver_pid" && wait "$receiver_pid" || true
	receiver_pid=

	# Everything in the database: receipts (the first per delivery), the
	# drains' start times, the on runs' commit times.
	psql_q -o "$wb/summary.tsv" -tA -F $'\t' -v target="$webhook_target" <<-SQL
	CREATE TABLE bench.webhook_receipts (msg_id text, path text, at float8);
	CREATE TABLE bench.webhook_drains (round int, started float8);
	CREATE TABLE bench.webhook_commits (round int, client int, txno int, at float8);
	CREATE TABLE bench.webhook_tps (round int, phase text, status text, tps float8);
	\copy bench.webhook_receipts FROM '$wb/received.tsv'
	\copy bench.webhook_drains FROM '$wb/drains.tsv'
	\copy bench.webhook_commits FROM '$wb/commits.tsv'
	\copy bench.webhook_tps FROM '$wb/tps.tsv'
	\i $webhook_wdir/summary.sql
	SQL
}

# The report's section, from summary.tsv; a delivery that failed, or one
# whose commit time was not found, fails the run.
webhook_report() {
	local wb=$work/webhooks
	[ -s "$wb/summary.tsv" ] || return 0
	awk -F'\t' -v target="$webhook_target" -v endpoints="$webhook_endpoints_per_client" \
		-v conc="$webhook_concurrency" -v poll="$webhook_poll" -v clients="$webhook_clients" -v smoke="$smoke" '
	$1 == "drain" { dn[$2] = $3; ds[$2] = $4; dr[$2] = $5; tn += $3; ts += $4 }
	$1 == "delay" { yn[$2] = $3; p50[$2] = $4; p99[$2] = $5; ymin[$2] = $6; nocommit += $7 }
	$1 == "delay_all" { an = $2; a50 = $3; a99 = $4 }
	$1 == "tps" { off[$2] = $3; on[$2] = $4; soff += $3; son += $4; rounds = $2 }
	$1 == "deliveries" { total = $2; ok = $3; receipts = $4; orders = $5 }
	END {
		print "## Webhook delivery (issue 13)\n"
		printf "%s endpoints per writer client (every event type) at `bench/webhooks/receiver.js` on 127.0.0.1 ", endpoints
		printf "(204 at once, no signature check), `orders-webhookd --concurrency %s --poll-interval %s`, the order path ", conc, poll
		printf "`10_create_instant` (ours) at %s clients; %d rounds of: orders with no daemon, their backlog delivered ", clients, rounds
		print "with nothing else running (the drain), orders with the daemon running.\n"
		print "| round | order tps, no daemon | order tps, daemon running | ratio | drained deliveries | s | deliveries/s | delay p50 (ms) | delay p99 (ms) |"
		print "|---|---|---|---|---|---|---|---|---|"
		for (r = 1; r <= rounds; r++)
			printf "| %d | %s | %s | %.2f | %s | %s | %s | %s | %s |\n", r, off[r], on[r], off[r] ? on[r] / off[r] : 0,
				dn[r], ds[r], dr[r], p50[r], p99[r]
		rate = ts ? tn / ts : 0
		printf "\n- deliveries/s (all drains): %.0f, target >= %d: %s\n", rate, target,
			smoke ? "not judged (smoke)" : (rate >= target ? "holds" : "**misses**")
		printf "- delay from commit to receipt with the daemon running (%d deliveries): p50 %s ms, p99 %s ms\n", an, a50, a99
		printf "- order path with the daemon running / without: %.2fx (mean tps %.1f / %.1f)\n", soff ? son / soff : 0, son / rounds, soff / rounds
		printf "- %d deliveries of %d orders, %d succeeded, %d receipts (a retried delivery is received again)\n", total, orders, ok, receipts
		if (nocommit) printf "- %d deliveries without a commit time (bench bug)\n", nocommit
	}' "$wb/summary.tsv" >"$webhook_md"
	# connection reuse: every daemon run logs its attempts and the
	# connections they opened when it stops
	awk '/attempts finished, .* connections opened/ { for (i = 1; i < NF; i++) { if ($(i + 1) == "attempts") a += $i; if ($(i + 1) == "connections") c += $i } }
		END { if (a) printf "- HTTP connections: %d opened for %d attempts (the others reused one)\n", c, a }' \
		"$wb/webhookd.log" >>"$webhook_md"
	local bad
	bad=$(awk -F'\t' '$1 == "deliveries" && ($2 != $3 || $2 == 0) { print "deliveries: " $3 " of " $2 " succeeded" }
		$1 == "delay" && ($7 > 0 || $6 < 0) { print "round " $2 ": commit times not matched" }' "$wb/summary.tsv")
	if [ -n "$bad" ]; then
		log "90_webhooks: FAILED: $bad"
		failures=$((failures + 1))
	fi
	log "90_webhooks: $(grep -e '^- deliveries/s' -e '^- delay' -e '^- order path' "$webhook_md" | tr '\n' ' ')"
}
