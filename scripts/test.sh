#!/bin/bash
# make test: build with warnings as errors, install, and run every suite
# (pg_regress, isolation, TAP) and every check (docs, OpenAPI lint, bench
# smoke) against throwaway clusters.
#
# Every step is run and checked on its own (docs/design.md, "A test suite
# that cannot lie"):
#   - a failing build or install stops the run: no suite runs against
#     whatever build happens to be installed;
#   - the pg_regress suites, the isolation specs and each TAP file are
#     separate invocations, so one family failing never skips another;
#   - the closing "make test: N passed, M failed" counts every family: one
#     entry per pg_regress test, isolation spec and TAP file, and one entry
#     per other step (build, install, docs-check, openapi-lint, bench-smoke);
#     a step that fails without a per-test line (cluster setup, a TAP
#     bail-out, a suite that stopped early) counts as one failed entry with
#     its name;
#   - the exit status is non-zero whenever any step failed.
#
# Selecting what runs (the harness self-test and make mutation use these;
# unset means everything, an empty value means none):
#   TEST_REGRESS="lifecycle order_create"   pg_regress suites (sql/*.sql)
#   TEST_ISOLATION="order_last_unit"        isolation specs
#   TEST_TAP="test/t/050_fulfilment_worker.pl"  TAP files
#   TEST_CHECKS="docs-check released-scripts labels-rendered upgrade openapi-lint bench-smoke"
# TEST_PG_PREFIX=DIR (test/harness/private-pg.sh DIR) installs into and
# tests against a private copy of PostgreSQL instead of the machine's: the
# install lock is then not taken, since nothing machine-wide changes.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$PWD

all_regress=$(cd sql && ls *.sql 2>/dev/null | sed 's/\.sql$//' | tr '\n' ' ')
all_isolation=$(cd test/isolation/specs && ls *.spec 2>/dev/null | sed 's/\.spec$//' | tr '\n' ' ')
all_tap=$(ls test/t/*.pl 2>/dev/null | tr '\n' ' ')
regress=${TEST_REGRESS-$all_regress}
isolation=${TEST_ISOLATION-$all_isolation}
tap=${TEST_TAP-$all_tap}
checks=${TEST_CHECKS-docs-check released-scripts labels-rendered upgrade openapi-lint bench-smoke}

logdir=$(mktemp -d /tmp/orders-test.XXXXXX)
vault_keys=
tapdir=
cleanup() {
	rm -rf "$logdir"
	[ -n "$vault_keys" ] && rm -rf "$vault_keys"
	[ -n "$tapdir" ] && rm -rf "$tapdir"
}
trap cleanup EXIT

passed=0
failed=0
failed_names=()
status=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); failed_names+=("$1"); status=1; }

# step NAME COMMAND...: one entry, ok when COMMAND exits 0.
step() {
	local name=$1 rc
	shift
	"$@" 2>&1 | tee "$logdir/${name//\//_}.log"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 0 ]; then
		echo "step $name ... ok"
		pass
	else
		echo "step $name ... FAILED (exit $rc)"
		fail "$name"
	fi
	return "$rc"
}

# suite NAME EXPECTED COMMAND...: a pg_regress or isolation run; one entry
# per "test NAME ... ok|FAILED" line.  If the run fails without a failed
# line, or reports fewer tests than EXPECTED, that counts as one failed
# entry NAME.
suite() {
	local name=$1 expected=$2 rc ok bad
	shift 2
	"$@" 2>&1 | tee "$logdir/$name.log"
	rc=${PIPESTATUS[0]}
	ok=$(grep -Ec '^(test | +)[-a-z0-9_]+ +\.\.\. ok' "$logdir/$name.log")
	bad=$(grep -Ec '^(test | +)[-a-z0-9_]+ +\.\.\. (FAILED|failed)' "$logdir/$name.log")
	passed=$((passed + ok))
	failed=$((failed + bad))
	[ "$bad" -gt 0 ] && {
		status=1
		failed_names+=($(grep -E '^(test | +)[-a-z0-9_]+ +\.\.\. (FAILED|failed)' "$logdir/$name.log" |
			sed -E 's/^(test | +)([-a-z0-9_]+).*/\2/'))
	}
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		echo "step $name ... FAILED (exit $rc, no failed test reported)"
		fail "$name"
	elif [ $((ok + bad)) -lt "$expected" ]; then
		echo "step $name ... FAILED (ran $((ok + bad)) of $expected tests)"
		fail "$name"
	fi
	return 0
}

summary() {
	echo "make test: $passed passed, $failed failed"
	[ "$failed" -gt 0 ] && echo "failed: ${failed_names[*]}"
	if [ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then
		exit 0
	fi
	exit 1
}

count() { set -- $1; echo $#; }

# The vault's key files (docs/vault.md), fresh for each run and readable by
# the server only: the cluster starts with key 1; sql/vault_rotation.sql
# switches to keys 1 and 2 (ORDERS_TEST_KEYS_1_2), then to key 2 alone
# (ORDERS_TEST_KEYS_2).  TAP tests make their own.
make_vault_keys() {
	local k1 k2
	vault_keys=$(mktemp -d /tmp/orders-vault-keys.XXXXXX)
	k1=$(scripts/vault-keygen.sh 1) && k2=$(scripts/vault-keygen.sh 2) || return 1
	(
		umask 077
		printf '%s\n' "$k1" > "$vault_keys/keys-1"
		printf '%s\n%s\n' "$k1" "$k2" > "$vault_keys/keys-1-2"
		printf '%s\n' "$k2" > "$vault_keys/keys-2"
	) || return 1
	if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$vault_keys" || return 1; fi
	export ORDERS_TEST_KEYS_1_2=$vault_keys/keys-1-2 ORDERS_TEST_KEYS_2=$vault_keys/keys-2
}

# as_postgres COMMAND...: initdb and the server refuse root.
as_postgres() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- env PATH="$PATH" "$@"
	else
		"$@"
	fi
}

# in_cluster COMMAND...: run COMMAND in a throwaway cluster with orders
# preloaded and the vault's first key: pg_virtualenv's, or with
# TEST_PG_PREFIX one of the private copy's own (pg_virtualenv always runs
# the machine's server).
in_cluster() {
	local dir port rc
	if [ -z "${TEST_PG_PREFIX:-}" ]; then
		pg_virtualenv -v 15 \
			-o shared_preload_libraries=orders \
			-o orders.vault_key_file="$vault_keys/keys-1" \
			"$@"
		return
	fi
	dir=$(mktemp -d /tmp/orders-cluster.XXXXXX)
	chmod 755 "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
	port=$((20000 + $$ % 20000))
	# The settings go into postgresql.conf, not the command line, which
	# would override what a suite changes with ALTER SYSTEM (vault_rotation).
	if ! as_postgres initdb -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
		! printf '%s\n' "port = $port" "unix_socket_directories = '$dir'" "listen_addresses = ''" \
			"fsync = off" "shared_preload_libraries = 'orders'" \
			"orders.vault_key_file = '$vault_keys/keys-1'" >>"$dir/data/postgresql.conf" ||
		! as_postgres pg_ctl -D "$dir/data" -l "$dir/server.log" -w start >/dev/null; then
		cat "$dir/initdb.log" "$dir/server.log" 2>/dev/null
		rm -rf "$dir"
		return 1
	fi
	PGHOST=$dir PGPORT=$port PGUSER=postgres "$@"
	rc=$?
	as_postgres pg_ctl -D "$dir/data" -m immediate stop >/dev/null
	rm -rf "$dir"
	return "$rc"
}

show_diffs() {
	local f
	for f in regression.diffs output_iso/regression.diffs; do
		[ -f "$f" ] && { echo "== $f"; cat "$f"; }
	done
	return 0
}

# One TAP file in the copy of the tree that postgres can write (initdb
# refuses root); its logs are kept in tmp_check/log/<file> on failure.
tap_file() {
	local t=$1 rc
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- make -s -C "$tapdir" installcheck REGRESS= ISOLATION= PROVE_TESTS="$t" \
			PG_CONFIG="$(command -v pg_config)"
	else
		make -s -C "$tapdir" installcheck REGRESS= ISOLATION= PROVE_TESTS="$t" \
			PG_CONFIG="$(command -v pg_config)"
	fi
	rc=$?
	if [ "$rc" -ne 0 ] && [ -d "$tapdir/tmp_check/log" ]; then
		mkdir -p "$top/tmp_check/log"
		cp -r "$tapdir/tmp_check/log" "$top/tmp_check/log/$(basename "$t" .pl)"
		echo "TAP logs kept in tmp_check/log/$(basename "$t" .pl)"
	fi
	return "$rc"
}

step deps scripts/install-deps.sh || summary
if [ -n "${TEST_PG_PREFIX:-}" ]; then
	export PATH="$TEST_PG_PREFIX/usr/lib/postgresql/15/bin:$PATH"
	[ -x "$TEST_PG_PREFIX/usr/lib/postgresql/15/bin/pg_config" ] || {
		echo "TEST_PG_PREFIX=$TEST_PG_PREFIX: no PostgreSQL there (test/harness/private-pg.sh makes it)"
		fail private-pg
		summary
	}
fi
export PATH="$(pg_config --bindir):$PATH"
rm -rf tmp_check regression.diffs output_iso/regression.diffs

step build make -s WERROR=1 all || summary

# Installing is global to the machine: one test run at a time holds the
# lock from install to the last suite (other sessions rely on it).
if [ -z "${TEST_PG_PREFIX:-}" ]; then
	exec 9>/tmp/orders-install.lock
	flock 9
fi

step install make -s install || summary

# Not through step: its exports must reach the suites (step runs its
# command in a pipeline, a subshell).
if [ -n "$regress$isolation" ] && ! make_vault_keys; then
	echo "step vault-keys ... FAILED"
	fail vault-keys
	summary
fi

# pg_regress suites and isolation specs: separate invocations, so that a
# failing suite never skips the specs.
if [ -n "$regress" ]; then
	suite pg_regress "$(count "$regress")" \
		in_cluster make -s installcheck REGRESS="$regress" ISOLATION= TAP_TESTS=
fi
if [ -n "$isolation" ]; then
	suite isolation "$(count "$isolation")" \
		in_cluster make -s installcheck REGRESS= ISOLATION="$isolation" TAP_TESTS=
fi
show_diffs

for c in $checks; do
	case $c in
	# The lifecycle diagrams in docs/ are drawn from the code.
	docs-check) step docs-check in_cluster env RENDER_DOCS_IN_CLUSTER=1 scripts/render-docs.sh --check ;;
	# Releases (docs/releases.md): released scripts unchanged, the enum
	# labels' comments and docs rendered from src/labels.c, and the upgrade
	# tests from every released version (four tests each, at least one
	# version older than the newest).
	released-scripts) step released-scripts scripts/check-released.sh ;;
	labels-rendered) step labels-rendered scripts/render-labels.sh --check ;;
	upgrade) suite upgrade 4 test/upgrade/run.sh ;;
	# The API description: an established linter (Redocly CLI), pinned.
	openapi-lint) step openapi-lint scripts/lint-openapi.sh ;;
	# The benchmark harness on tiny data, every workload once, so that it
	# never rots; it asserts that each ran without error, never a timing.
	bench-smoke) step bench-smoke bench/run.sh --smoke --installed ;;
	*) echo "unknown check: $c"; fail "$c" ;;
	esac
done

# TAP tests start their own clusters with initdb, which refuses root: run
# them as postgres on a copy of the tree that postgres can write, one
# invocation per file so that a bail-out stops only its own file.
if [ -n "$tap" ]; then
	# The webhook tests' receiver needs its node packages (copied along);
	# the scale-out test delivers webhooks to it too.
	case " $tap " in
	*/09[0-9]_webhooks* | */100_scale_out*) step webhook-receiver test/webhook-receiver/setup.sh ;;
	esac
	tapdir=$(mktemp -d /tmp/orders-tap.XXXXXX)
	if tar --exclude=.git --exclude=.run --exclude=tools/openapi-lint/node_modules -cf - . |
		tar -C "$tapdir" -xf - &&
		{ [ "$(id -u)" -ne 0 ] || chown -R postgres "$tapdir"; }; then
		for t in $tap; do
			step "$t" tap_file "$t"
		done
	else
		fail tap-setup
	fi
fi

exec 9>&-
summary
