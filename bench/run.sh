#!/bin/bash
# make bench / make bench-smoke: measure the order engine (schema orders)
# against two plain PL/pgSQL references, the feature-complete one (schema
# ref, bench/reference/) and the lean one with the core guarantees only
# (schema lean, bench/lean/), and against the machine's own limits (schema
# lim, bench/limit/), in one durable cluster, and write a report.
#
#   bench/run.sh             full run: a million orders, 1/2/8 clients,
#                            bench/results/<date>.md and <date>.svg
#   bench/run.sh --smoke     tiny data, every workload once at 2 clients;
#                            fails only if a workload fails (never on a time)
#   --installed              use the extension installed on the machine (make
#                            test, which installed it and holds the install
#                            lock); by default the run builds this tree and
#                            runs it from a private installation
#
# Knobs (environment): BENCH_DURATION (seconds per run, default 5),
# BENCH_CLIENTS ("1 2 8"), BENCH_ONLY (a regex of workload names),
# BENCH_ORDERS / BENCH_UNITS (data scale), BENCH_PGPORT (54336),
# BENCH_OUT (report path), BENCH_KEEP=1 (keep the cluster's directory).
# docs/benchmarks.md explains the method.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
bench=$top/bench

smoke=0
installed=0
for arg in "$@"; do
	case "$arg" in
	--smoke) smoke=1 ;;
	--installed) installed=1 ;;
	*) echo "usage: bench/run.sh [--smoke] [--installed]" >&2; exit 2 ;;
	esac
done

if [ $smoke -eq 1 ]; then
	CLIENTS=${BENCH_CLIENTS:-2}
	RUN_ARGS=(-t 3)
	WARMUP_ARGS=()
	SCALE=(-v orders_big="${BENCH_ORDERS:-2000}" -v units="${BENCH_UNITS:-400}"
		-v details=10 -v details5=4 -v transition_rows=2000 -v vault_codes=5)
else
	CLIENTS=${BENCH_CLIENTS:-1 2 8}
	RUN_ARGS=(-T "${BENCH_DURATION:-5}")
	WARMUP_ARGS=(-T 1)
	SCALE=(-v orders_big="${BENCH_ORDERS:-1000000}" -v units="${BENCH_UNITS:-100000}"
		-v details=500 -v details5=100 -v transition_rows=8000 -v vault_codes=100)
fi
ONLY=${BENCH_ONLY:-.}
# The tree measured, named before the run writes its reports into bench/results/
# (tracked files: named afterwards, every run would call itself -dirty).
build=$(git -C "$(dirname "$0")" describe --always --dirty 2>/dev/null || echo unknown)

log() { printf '%s  %s\n' "$(date +%T)" "$*" >&2; }

# --- dependencies -----------------------------------------------------------

if [ $installed -eq 0 ]; then
	scripts/install-deps.sh
fi
# gnuplot draws the chart, wrk drives the gateway: bench-only packages.
bench_missing=""
for p in gnuplot-nox wrk; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		bench_missing="$bench_missing $p"
done
if [ -n "$bench_missing" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		log "installing:$bench_missing"
		export DEBIAN_FRONTEND=noninteractive
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $bench_missing >/dev/null 2>&1 || {
			apt-get update -qq
			# shellcheck disable=SC2086
			apt-get install -y -qq --no-install-recommends $bench_missing >/dev/null
		}
	elif [ $smoke -eq 0 ]; then
		echo "missing packages:$bench_missing (apt-get install -y$bench_missing)" >&2
		exit 1
	else
		log "missing$bench_missing: the smoke run skips the chart and HTTP workloads"
	fi
fi
bindir=$(pg_config --bindir)
server_bindir=$bindir
export PATH="$bindir:$PATH"

# --- the cluster --------------------------------------------------------------

work=$(mktemp -d /tmp/orders-bench.XXXXXX)
chmod 755 "$work"
data=$work/data
as_server() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
	chown postgres "$work"
	as_server() { runuser -u postgres -- "$@"; }
fi
export PGHOST=$work PGPORT=${BENCH_PGPORT:-54336} PGUSER=postgres PGDATABASE=bench
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

cleanup() {
	trap - EXIT INT TERM
	# whoever reads our output may be gone already (a pipe): carry on
	trap '' PIPE
	[ "${BENCH_KEEP:-0}" = 1 ] && { echo "cluster kept in $work" >&2 || true; }
	exec >/dev/null 2>&1 </dev/null
	[ -n "${gateway_pid:-}" ] && kill "$gateway_pid"
	as_server "$server_bindir/pg_ctl" -D "$data" -m fast -w stop || true
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Durability as in production: fsync, synchronous_commit and full-page
# writes on.  Sized for this 2-core, 23 GB machine; JIT off as usual for
# OLTP (it would add compile time to the reference's count(*)).
start_cluster() {
	as_server "$server_bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$work/initdb.log"
	cat >>"$data/postgresql.conf" <<-CONF
	listen_addresses = ''
	unix_socket_directories = '$work'
	port = $PGPORT
	max_connections = 40
	shared_preload_libraries = 'orders'
	fsync = on
	synchronous_commit = on
	full_page_writes = on
	wal_level = replica
	shared_buffers = 2GB
	effective_cache_size = 8GB
	work_mem = 16MB
	maintenance_work_mem = 512MB
	max_wal_size = 16GB
	checkpoint_timeout = 30min
	checkpoint_completion_target = 0.9
	random_page_cost = 1.1
	jit = off
	log_min_messages = warning
	log_min_error_statement = panic
	# the request paths are measured, not maintenance: no background worker
	orders.worker_database = ''
	CONF
	# The vault's key ring: one fresh key, readable by the server only.
	printf '1:%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$work/vault.keys"
	chmod 600 "$work/vault.keys"
	[ "$(id -u)" -eq 0 ] && chown postgres "$work/vault.keys"
	echo "orders.vault_key_file = '$work/vault.keys'" >>"$data/postgresql.conf"
	# 9>&-: the server must not inherit the install lock's descriptor.
	as_server "$server_bindir/pg_ctl" -D "$data" -w -l "$work/postgres.log" start >/dev/null 9>&-
	psql_q -d postgres -c "CREATE DATABASE bench"
	psql_q -c "CREATE EXTENSION pgcrypto" -c "CREATE EXTENSION orders"
}

if [ $installed -eq 1 ]; then
	start_cluster
else
	# A private installation: the server runs from a copy of PostgreSQL's
	# bin directory under $work/pg, which finds its lib and share
	# directories beside it (PostgreSQL is relocatable); they hold this
	# tree's build of orders and links to everything else.  Nothing
	# machine-wide is touched, so no lock is needed and other builds
	# installed meanwhile cannot change what is measured.
	make -s WERROR=1 all
	stage=$work/pg
	pkglibdir=$(pg_config --pkglibdir)
	sharedir=$(pg_config --sharedir)
	mkdir -p "$stage$bindir" "$stage$pkglibdir" "$stage$sharedir/extension"
	cp -a "$bindir/." "$stage$bindir/"
	make -s install DESTDIR="$stage" >/dev/null
	for d in "$pkglibdir" "$sharedir" "$sharedir/extension"; do
		for f in "$d"/*; do
			[ -e "$stage$d/$(basename "$f")" ] || ln -s "$f" "$stage$d/"
		done
	done
	chmod -R a+rX "$stage"
	server_bindir=$stage$bindir
	start_cluster
fi
log "cluster up in $work (port $PGPORT)"

# --- schemas and data ---------------------------------------------------------

key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
psql_q -c "ALTER DATABASE bench SET ref.vault_key = '$key'"

# Is every function a script names in "-- requires: schema.function" there?
requirements_met() {
	local names
	names=$(sed -n 's/^-- requires: *//p' "$1" | tr ' ,' '\n\n' | sed '/^$/d')
	[ -z "$names" ] && return 0
	local missing
	missing=$(printf '%s\n' $names | while read -r f; do
		[ "$(psql -X -tAc "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname || '.' || p.proname = '$f'")" = 0 ] && echo "$f"
	done)
	[ -z "$missing" ] && return 0
	echo "$missing" | tr '\n' ' '
	return 1
}

for f in "$bench"/reference/*.sql "$bench"/lean/*.sql "$bench"/limit/*.sql; do
	psql_q -f "$f"
done

# Data files run in name order; files with the same number run at the same
# time (the two implementations' big clients, independent of each other),
# and a file saying "-- parallel: N" runs N times at once (-v part, parts).
load_started=$(date +%s)
for group in $(ls "$bench"/data/*.sql | sed 's|.*/\([0-9]*\)_[^/]*$|\1|' | sort -u); do
	pids=()
	for f in "$bench"/data/"${group}"_*.sql; do
		if ! why=$(requirements_met "$f"); then
			log "data: skip $(basename "$f") (needs $why)"
			continue
		fi
		parts=$(sed -n 's/^-- parallel: *//p' "$f")
		log "data: $(basename "$f")"
		for ((i = 0; i < ${parts:-1}; i++)); do
			psql_q -o /dev/null "${SCALE[@]}" -v part=$i -v parts="${parts:-1}" -f "$f" &
			pids+=($!)
		done
	done
	for p in "${pids[@]}"; do wait "$p"; done
done
psql_q -c "VACUUM (ANALYZE)" -c "CHECKPOINT"
load_seconds=$(($(date +%s) - load_started))
log "data loaded in ${load_seconds}s"

# --- the runs -----------------------------------------------------------------

results=$work/results.tsv
: >"$results"
failures=0
stamp=$(date +%s)

# -D name=value for the parameters of an implementation (bench.params).
# The read limits fetch the engine's own rows, so they see its parameters
# too; an implementation's own come last and win.
params_of() {
	psql -X -tAc "SELECT '-D' || name || '=' || value FROM bench.params
		WHERE impl IN ('*', '$1') OR ('$1' IN ('limit', 'nodecrypt') AND impl = 'ours')
		ORDER BY impl = '$1', name"
}

# The gateway for the HTTP workloads, started on first use: this tree's
# build, its own login role (bench/data/50_http.sql), any free port.
gateway_port=
defines=()
start_gateway() {
	[ -n "$gateway_port" ] && return 0
	[ -x "$top/gateway/orders-gateway" ] || return 1
	"$top/gateway/orders-gateway" --listen 127.0.0.1 --port 0 --pool-size 8 \
		--conninfo "host=$work port=$PGPORT dbname=bench user=bench_gateway" \
		2>"$work/gateway.log" 9>&- &
	gateway_pid=$!
	for _ in $(seq 50); do
		gateway_port=$(sed -n 's/.*listening on .* port \([0-9]*\).*/\1/p' "$work/gateway.log" | awk 'NR == 1')
		[ -n "$gateway_port" ] && return 0
		kill -0 "$gateway_pid" 2>/dev/null || break
		sleep 0.1
	done
	log "the gateway did not start: $(tail -3 "$work/gateway.log")"
	return 1
}

run_pgbench() {	# script clients outdir [extra args]
	local script=$1 clients=$2 out=$3
	shift 3
	local threads=$((clients < 2 ? clients : 2))
	local params runno role
	mapfile -t params < <(params_of "$impl")
	runno=$(psql -X -tAc "SELECT nextval('bench.runs')")
	# "-- before: SQL" lines of the script run first (e.g. a VACUUM, so that
	# each run starts from the same table whatever ran before)
	sed -n 's/^-- before: *//p' "$script" | while read -r sql; do psql_q -c "$sql"; done
	[ -n "${before_pgbench:-}" ] && psql_q -o /dev/null -c "$before_pgbench"
	if [[ $script == *.lua ]]; then
		# wrk, one thread per connection (each its own writer client)
		local duration=1s
		[ "${1:-}" = -T ] && duration=${2}s
		start_gateway || { echo "error: no gateway" >"$out/stderr"; return 1; }
		env "${params[@]/#-D/BENCH_}" "${defines[@]/#-D/BENCH_}" BENCH_run="$w-$impl-$clients-$stamp-$runno" \
			wrk -t "$clients" -c "$clients" -d "$duration" --latency -s "$script" \
			"http://127.0.0.1:$gateway_port" >"$out/stdout" 2>"$out/stderr"
		return
	fi
	# "-- role: R": as the gateway's login role, switched to R (the same
	# statement as the gateway, with the same privileges)
	role=$(sed -n 's/^-- role: *//p' "$script")
	# a workload.conf's "database: impl=name": that implementation's
	# database (the router's, bench/data/51_router.sql)
	PGDATABASE=${database_of[$impl]:-$PGDATABASE} \
	PGOPTIONS=${role:+-c role=$role} pgbench -n -M prepared -c "$clients" -j "$threads" "$@" \
		${role:+-U bench_gateway} \
		-D run="$w-$impl-$clients-$stamp-$runno" -D runno="$runno" \
		-D n=0 "${params[@]}" "${defines[@]}" \
		-f "$script" >"$out/stdout" 2>"$out/stderr"
}

# A workload directory holds its scripts, <impl>.sql or .lua, or a
# workload.conf naming another workload's scripts ("scripts:"), pgbench
# variables that replace the implementations' own ("define: name=value"),
# the client counts it runs at ("clients:"), and the database an
# implementation runs in when not bench ("database: impl=name ...").
conf_value() {	# workload-dir key
	[ -e "$1/workload.conf" ] && sed -n "s/^$2: *//p" "$1/workload.conf"
	return 0
}
workload_clients() {	# workload-dir
	local listed c chosen=
	listed=$(conf_value "$1" clients)
	[ -z "$listed" ] && { echo "$CLIENTS"; return; }
	for c in $CLIENTS; do
		[[ " $listed " == *" $c "* ]] && chosen="$chosen $c"
	done
	echo "${chosen:-${listed##* }}"
}
# sdir: where a workload's scripts are; defines: its pgbench variables
workload_setup() {	# workload-dir
	local d
	sdir=$1
	[ -n "$(conf_value "$1" scripts)" ] && sdir=$bench/workloads/$(conf_value "$1" scripts)
	defines=()
	for d in $(conf_value "$1" define); do defines+=("-D$d"); done
	database_of=()
	for d in $(conf_value "$1" database); do database_of[${d%%=*}]=${d#*=}; done
}
declare -A database_of=()

# The implementations, in the order they alternate: each beside its closest
# comparison.
IMPLS="ours nodecrypt lean ref writeset limit"

for wdir in "$bench"/workloads/*/; do
	wdir=${wdir%/}
	w=$(basename "$wdir")
	[[ $w =~ $ONLY ]] || continue
	workload_setup "$wdir"
	impls=()
	declare -A script_of=()
	for impl in $IMPLS; do
		for ext in sql lua; do
			[ -e "$sdir/$impl.$ext" ] && impls+=("$impl") && script_of[$impl]=$sdir/$impl.$ext
		done
	done
	for impl in "${impls[@]}"; do
		if [[ ${script_of[$impl]} == *.lua ]] && ! command -v wrk >/dev/null; then
			log "$w/$impl: skipped (needs wrk)"
			printf '%s\t%s\t-\tskipped\t%s\n' "$w" "$impl" "needs wrk" >>"$results"
			continue
		fi
		if [[ ${script_of[$impl]} == *.lua ]] && [ ! -x "$top/gateway/orders-gateway" ]; then
			log "$w/$impl: skipped (needs the gateway)"
			printf '%s\t%s\t-\tskipped\t%s\n' "$w" "$impl" "needs the gateway" >>"$results"
			continue
		fi
		if ! why=$(requirements_met "${script_of[$impl]}"); then
			log "$w/$impl: skipped (needs $why)"
			printf '%s\t%s\t-\tskipped\t%s\n' "$w" "$impl" "needs $why" >>"$results"
			continue
		fi
		if [ ${#WARMUP_ARGS[@]} -gt 0 ]; then
			mkdir -p "$work/warmup"
			run_pgbench "${script_of[$impl]}" 1 "$work/warmup" "${WARMUP_ARGS[@]}" || true
		fi
	done
	for clients in $(workload_clients "$wdir"); do
		for impl in "${impls[@]}"; do
			grep -q "^$w	$impl	-	skipped" "$results" && continue
			out=$work/runs/$w/$impl-$clients
			mkdir -p "$out"
			psql_q -c CHECKPOINT
			rc=0
			if [[ ${script_of[$impl]} == *.lua ]]; then
				run_pgbench "${script_of[$impl]}" "$clients" "$out" "${RUN_ARGS[@]}" || rc=$?
				line=$("$bench/report.pl" wrk "$out" "$rc")
			else
				run_pgbench "${script_of[$impl]}" "$clients" "$out" "${RUN_ARGS[@]}" \
					--log --log-prefix="$out/tx" || rc=$?
				line=$("$bench/report.pl" stats "$out" "$rc")
			fi
			printf '%s\t%s\t%s\t%s\n' "$w" "$impl" "$clients" "$line" >>"$results"
			case "$line" in
			ok*) log "$w/$impl c=$clients: $(echo "$line" | cut -f2-5 | tr '\t' ' ')" ;;
			*)
				failures=$((failures + 1))
				log "$w/$impl c=$clients: FAILED"
				sed -n '1,5p' "$out/stderr" >&2
				;;
			esac
		done
	done
done

# The settings the runs had (the profile pass below preloads more).
settings=$(psql -X -tA -F $'\t' -c "SELECT 'setting ' || name, current_setting(name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'effective_cache_size', 'work_mem', 'max_wal_size', 'checkpoint_timeout', 'jit', 'random_page_cost', 'shared_preload_libraries') ORDER BY name")

# --- the trigger probe and the profiles ------------------------------------------

# The lifecycle triggers' own time per row (EXPLAIN ANALYZE), in alternation.
# Microseconds: first let the autovacuum the write workloads set off finish
# (up to 2 minutes), so that it does not run beside the probe.
for waited in $(seq 0 120); do
	[ "$(psql -X -tAc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")" = 0 ] && break
	sleep 1
done
[ "$waited" -gt 0 ] && log "trigger probe: waited ${waited}s for autovacuum"
psql_q -c CHECKPOINT
probe=$(psql -X -tA -F $'\t' -c "SELECT * FROM bench.trigger_probe(21, 100)")
log "trigger time per row (us): $(echo "$probe" | tr '\t\n' ' ;')"

if [ $smoke -eq 1 ]; then
	out=${BENCH_OUT:-$work/report.md}
else
	out=${BENCH_OUT:-$bench/results/$(date +%F).md}
fi
profile_out=${out%.md}-profile.md
mkdir -p "$(dirname "$out")"	# bench/results/ does not exist in a fresh clone

# Where the engine's time goes in the workloads with targets: every SQL
# statement its functions run (pg_stat_statements, track = all) and, if
# perf works here, the server's hottest functions.  One client, after the
# measured runs (pg_stat_statements must be preloaded: a restart).
profiles=$work/profiles
if [ "${BENCH_PROFILE:-1}" = 1 ]; then
	mkdir -p "$profiles"
	perf_ok=0
	if [ $smoke -eq 0 ] && command -v perf >/dev/null &&
		perf record -q -o "$work/perf.test" -a -F 99 -- true >/dev/null 2>&1; then
		perf_ok=1
	fi
	cat >>"$data/postgresql.conf" <<-CONF
	shared_preload_libraries = 'orders,pg_stat_statements'
	pg_stat_statements.track = all
	pg_stat_statements.max = 2000
	CONF
	as_server "$server_bindir/pg_ctl" -D "$data" -w -l "$work/postgres.log" restart >/dev/null 9>&-
	psql_q -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
	# what each table gained (rows inserted, updated, HOT-updated) over a
	# run; backends report their counts when they exit
	table_writes() {
		psql -X -tA -F $'\t' -c "SELECT schemaname || '.' || relname, n_tup_ins, n_tup_upd, n_tup_hot_upd
			FROM pg_stat_user_tables WHERE schemaname <> 'bench' ORDER BY 1"
	}
	# workload:implementation[:clients]
	for entry in ${BENCH_PROFILE_WORKLOADS:-10_create_instant:ours 10_create_instant:lean 11_create_delayed:ours 12_replay:ours 13_create_one_client:ours:8 20_details_1:ours 31_list_p500:ours 33_list_p500_status:ours 51_transition_batch:ours}; do
		IFS=: read -r w impl pclients <<<"$entry"
		[[ $w =~ $ONLY ]] && [ -d "$bench/workloads/$w" ] || continue
		workload_setup "$bench/workloads/$w"
		script=$sdir/$impl.sql
		[ -e "$script" ] && requirements_met "$script" >/dev/null || continue
		pdir=$profiles/$w.$impl
		mkdir -p "$pdir"
		perf_pid=
		if [ $perf_ok -eq 1 ]; then
			perf record -q -o "$pdir/perf.data" -a -F 999 -- sleep "${BENCH_DURATION:-5}" >/dev/null 2>&1 &
			perf_pid=$!
		fi
		table_writes >"$pdir/tables-before.tsv"
		before_pgbench="SELECT pg_stat_statements_reset()" run_pgbench "$script" "${pclients:-1}" "$pdir" "${RUN_ARGS[@]}" ||
			log "profile of $w/$impl: pgbench failed"
		[ -z "$perf_pid" ] || wait "$perf_pid" || true
		sleep 1
		table_writes >"$pdir/tables-after.tsv"
		echo "${pclients:-1}" >"$pdir/clients"
		psql -X -tA -F $'\t' -o "$pdir/statements.tsv" -c "
			SELECT toplevel, calls, round(total_exec_time::numeric, 3), wal_bytes,
				   regexp_replace(left(query, 300), '\s+', ' ', 'g')
			  FROM pg_stat_statements
			 WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_stat_user_tables%'
			 ORDER BY total_exec_time DESC LIMIT 25"
		if [ -s "$pdir/perf.data" ]; then
			perf report -i "$pdir/perf.data" --stdio --no-children --comm postgres --percentage relative \
				--sort dso,symbol 2>/dev/null | awk '/^ +[0-9]/ && ++n <= 25' >"$pdir/perf.txt"
		fi
		log "profiled $w/$impl"
	done
	"$bench/report.pl" profile "$profiles" "$bench/workloads" "$profile_out"
fi

# --- the report -----------------------------------------------------------------

env_file=$work/env.tsv
{
	printf 'cpu\t%s\n' "$(lscpu | awk -F': +' '/^Model name:/ && !n++ {print $2}')"
	printf 'cores\t%s\n' "$(nproc)"
	printf 'memory\t%s\n' "$(free -h | awk '/^Mem:/ {print $2}')"
	printf 'kernel\t%s\n' "$(uname -sr)"
	printf 'disk\t%s\n' "$(df -hT "$work" | awk 'NR == 2 {print $2 ", " $3}')"
	printf 'server\t%s\n' "$(psql -X -tAc 'SHOW server_version')"
	printf 'pgbench\t%s\n' "$(pgbench --version)"
	printf 'mode\t%s\n' "$([ $smoke -eq 1 ] && echo smoke || echo full)"
	printf 'build\t%s\n' "$build ($([ $installed -eq 1 ] && echo "the machine's installation" || echo "private installation of this tree"))"
	printf 'load\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg) (load average before the report; other processes share the machine)"
	printf 'run\t%s\n' "pgbench -M prepared, $(echo "${RUN_ARGS[*]}" | sed 's/-T \(.*\)/\1 s per run/; s/-t \(.*\)/\1 transactions per client/'), clients: $CLIENTS"
	printf 'load_seconds\t%s\n' "$load_seconds"
	echo "$settings"
	psql -X -tA -F $'\t' -c "SELECT 'size ' || label, value FROM bench.sizes() ORDER BY label"
	# the rows one INSTANT order writes, per implementation (bench/data/48_write_sets.sql)
	psql -X -tA -F $'\t' -c "SELECT 'writes ' || impl, relation, inserted, updated, hot_updated
		FROM bench.write_sets ORDER BY impl, relation" 2>/dev/null || true
	psql -X -tA -F $'\t' -c "SELECT 'writeset ' || name, value FROM bench.params
		WHERE impl = 'writeset' AND name LIKE '%_rows' ORDER BY name"
	echo "$probe" | sed 's/^/probe /'
	[ -e "$profile_out" ] && printf 'profile\t%s\n' "$(basename "$profile_out")"
} >"$env_file"

"$bench/report.pl" report "$results" "$env_file" "$bench/workloads" "$out"
log "report: $out"

if [ $failures -gt 0 ]; then
	echo "bench: $failures run(s) failed" >&2
	exit 1
fi
echo "bench: every workload ran$([ $smoke -eq 1 ] && echo " (smoke: timings not meaningful)")"
