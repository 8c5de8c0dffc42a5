#!/bin/bash
# make test: build with warnings as errors, install, and run every suite
# (pg_regress, isolation, TAP) against throwaway clusters.  Exits non-zero
# on any failure; ends with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

scripts/install-deps.sh
export PATH="$(pg_config --bindir):$PATH"

make -s WERROR=1 all

log=$(mktemp /tmp/orders-test.XXXXXX.log)
status=0

# The vault's key files (docs/vault.md), fresh for each run and readable by
# the server only: the cluster starts with key 1; sql/vault_rotation.sql
# switches to keys 1 and 2 (ORDERS_TEST_KEYS_1_2), then to key 2 alone
# (ORDERS_TEST_KEYS_2).  TAP tests make their own.
make_vault_keys() {
	vault_keys=$(mktemp -d /tmp/orders-vault-keys.XXXXXX)
	local k1 k2
	k1=$(scripts/vault-keygen.sh 1)
	k2=$(scripts/vault-keygen.sh 2)
	(
		umask 077
		printf '%s\n' "$k1" > "$vault_keys/keys-1"
		printf '%s\n%s\n' "$k1" "$k2" > "$vault_keys/keys-1-2"
		printf '%s\n' "$k2" > "$vault_keys/keys-2"
	)
	[ "$(id -u)" -eq 0 ] && chown -R postgres "$vault_keys"
	export ORDERS_TEST_KEYS_1_2=$vault_keys/keys-1-2 ORDERS_TEST_KEYS_2=$vault_keys/keys-2
}

run_suites() {
	make -s install

	# pg_regress and isolation specs, in one cluster with orders preloaded.
	make_vault_keys
	pg_virtualenv -v 15 \
		-o shared_preload_libraries=orders \
		-o orders.vault_key_file="$vault_keys/keys-1" \
		make -s installcheck TAP_TESTS= || status=1
	rm -rf "$vault_keys"
	[ -f regression.diffs ] && { echo "== regression.diffs"; cat regression.diffs; }
	[ -f output_iso/regression.diffs ] && { echo "== output_iso/regression.diffs"; cat output_iso/regression.diffs; }

	# The lifecycle diagrams in docs/ are drawn from the code: check them.
	scripts/render-docs.sh --check || status=1

	# Releases (docs/releases.md): released scripts unchanged, the enum
	# labels' comments and docs rendered from src/labels.c, and the upgrade
	# tests from every released version.
	scripts/check-released.sh || status=1
	scripts/render-labels.sh --check || status=1
	test/upgrade/run.sh || status=1

	# The API description: an established linter (Redocly CLI), pinned.
	if scripts/lint-openapi.sh; then
		echo "test openapi-lint ... ok"
	else
		echo "test openapi-lint ... FAILED"
		status=1
	fi

	# The benchmark harness on tiny data, every workload once, so that it
	# never rots; it asserts that each ran without error, never a timing.
	if bench/run.sh --smoke --installed; then
		echo "test bench-smoke ... ok"
	else
		echo "test bench-smoke ... FAILED"
		status=1
	fi

	# TAP tests start their own clusters with initdb, which refuses root:
	# run them as postgres on a copy of the tree that postgres can write.
	if [ -n "$(ls test/t/*.pl 2>/dev/null)" ]; then
		tapdir=$(mktemp -d /tmp/orders-tap.XXXXXX)
		tar --exclude=.git --exclude=.run --exclude=node_modules -cf - . | tar -C "$tapdir" -xf -
		if [ "$(id -u)" -eq 0 ]; then
			chown -R postgres "$tapdir"
			runuser -u postgres -- make -s -C "$tapdir" installcheck REGRESS= ISOLATION= || status=1
		else
			make -s -C "$tapdir" installcheck REGRESS= ISOLATION= || status=1
		fi
		if [ $status -ne 0 ] && [ -d "$tapdir/tmp_check/log" ]; then
			rm -rf "$top/tmp_check"; cp -r "$tapdir/tmp_check" "$top/tmp_check"
			echo "TAP logs kept in tmp_check/log"
		fi
		rm -rf "$tapdir"
	fi
	return $status
}

# Installing is global to the machine: one test run at a time.
(
	flock 9
	run_suites
) 9>/tmp/orders-install.lock 2>&1 | tee "$log" || status=1

passed=$(grep -Ec '^(test | +)[-a-z0-9_]+ +\.\.\. ok|^test/t/[^ ]+\.pl \.+ ok' "$log" || true)
failed=$(grep -Ec '^(test | +)[-a-z0-9_]+ +\.\.\. (FAILED|failed)|^test/t/[^ ]+\.pl +\(Wstat' "$log" || true)
rm -f "$log"
echo "make test: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
