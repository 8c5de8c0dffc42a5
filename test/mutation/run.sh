#!/bin/bash
# make mutation [MUTATIONS="name ..."]: deliberate breaks of the invariants
# that matter, applied one at a time to a scratch copy of the tree, each
# built, installed (scripts/test.sh, under the install lock) and run against
# only the suites it names.  A mutation is
#   killed        when one of its suites fails (the report names which);
#   survived      when its suites all pass: the tests miss that break;
#   not applied   when its pattern no longer matches the code exactly once,
#                 or the mutated tree does not build: retarget it.
# Exits non-zero unless every mutation was killed.  First, the union of the
# named suites runs on the unmutated copy (the baseline): a suite failing
# without any mutation would make every kill meaningless.
#
# The mutants are installed into a private copy of PostgreSQL
# (test/harness/private-pg.sh, TEST_PG_PREFIX): a mutant is never the
# machine's installed extension, not even for a moment, so a server running
# beside (make run) never loads one, and the install lock is not held for
# minutes.  TEST_PG_PREFIX= (set, empty) installs machine-wide instead, under
# the install lock, and installs the tree's own build again at the end.
#
# Each mutation is one function below: what it breaks, the suites that
# must catch it, and its edits.  An edit names a file and a Perl regular
# expression that must match exactly once, and the literal text that
# replaces the match; \K in the pattern keeps what precedes it, so an empty
# match after \K inserts.  Patterns follow statements and names, not line
# numbers: when the code moves (the order create path into C, the reveal's
# audit into a worker), change the file and the pattern, nothing else.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD

# ---- the mutations -------------------------------------------------------

mut_illegal_transition() {
	what="the lifecycle trigger allows an illegal order transition"
	regress="lifecycle"
	edit src/lifecycle_trigger.c \
		'if \(\K(?=from != step_to && !lifecycle_move_ok\(m, from, step_to\)\))' 'false && '
}

mut_sub_final_across_status() {
	what="sub-status finality (REFUNDED, RECONCILED) is checked only when the status stays"
	regress="lifecycle"
	edit src/lifecycle_trigger.c \
		'\(\K(?=from_sub >= 0 && !lifecycle_sub_move_ok\(m, from_sub, step_sub\)\)\)\)\s*refuse_sub)' \
		'from == to && '
}

mut_reveal_undelivered_order() {
	what="a voucher is revealed for an order that is not DELIVERED / PARTIALLY_DELIVERED"
	regress="vault_reveal"
	edit schema/42_vault_reveal.sql \
		"\\n\\s*AND o\\.status IN \\('DELIVERED', 'PARTIALLY_DELIVERED'\\)" ''
}

mut_reveal_undelivered_item() {
	what="a voucher is revealed for an item that is not DELIVERED"
	regress="vault_reveal"
	edit schema/42_vault_reveal.sql " AND i\\.status = 'DELIVERED'" ''
}

mut_reveal_other_client() {
	what="a voucher is revealed to a client that does not own the order"
	regress="vault_reveal"
	edit schema/42_vault_reveal.sql \
		'WHERE o\.id = p_order_id\K AND o\.client_id = p_client_id' ''
	edit schema/42_vault_reveal.sql 'AND i\.client_id = p_client_id ' ''
}

mut_reveal_no_audit() {
	what="a reveal writes no audit row (orders.voucher_reveals)"
	regress="vault_reveal"
	edit schema/42_vault_reveal.sql \
		'\n\s*PERFORM orders\.vault_audit_reveal\(p_client_id, p_order_id, v_items, v_units\);' ''
}

mut_reveal_audit_async_commit() {
	what="the reveal audit worker commits asynchronously where the server's default is synchronous_commit = off"
	regress='' tap="test/t/044_reveal_audit_durable.pl"
	edit src/reveal_audit.c \
		'Durable is the point: an asynchronous commit would not do\. \*/\s*if \(\K(?=synchronous_commit == SYNCHRONOUS_COMMIT_OFF\))' 'false && '
}

mut_create_reveal_skips_audit_wait() {
	what="an INSTANT create's response decrypts without waiting for the audit it handed to the worker ahead"
	regress="order_create"
	edit src/reveal_audit.c 'number = prepared_number;\s*prepared_number = 0;' 'prepared_number = 0; return;'
}

mut_restock_serves_vendor_units() {
	what="a vendor job's vouchers serve another order's waiting items (the restock ignores vendor_job_id)"
	regress="fulfilment_vouchers"
	edit schema/64_inventory.sql "WHERE status = 'AVAILABLE'\\K AND vendor_job_id IS NULL" ''
}

mut_replay_other_parameters() {
	what="a replay of a poNumber with other parameters returns the original order instead of a conflict"
	regress="order_create"
	edit src/order_create.c \
		'\*same = DatumGetBool\(column\(0, 3, &isnull\)\);' '*same = true;'
}

mut_duplicate_po_concurrent() {
	what="two concurrent orders with one poNumber both succeed (no unique key on client, poNumber)"
	isolation="order_duplicate_po"
	edit schema/20_core_tables.sql '\n\s*UNIQUE \(client_id, po_number\),' ''
	edit src/order_create.c '" ON CONFLICT \(client_id, po_number\) DO NOTHING"' '""'
}

mut_unit_double_allocation() {
	what="the INSTANT path takes AVAILABLE units without locking them (two orders take one unit)"
	isolation="order_last_unit"
	edit src/order_create.c 'ORDER BY u\.expires_at, u\.id LIMIT \$3\K FOR UPDATE SKIP LOCKED' ''
}

mut_expired_unit_allocated() {
	what="an expired unit is allocated"
	regress="order_create"
	isolation="order_last_unit"
	edit src/order_create.c "AND u\\.status = 'AVAILABLE'\\K AND u\\.expires_at > now\\(\\)" ''
}

mut_debit_without_ledger_row() {
	what="a debit moves the wallet but writes no ledger row"
	regress="order_create"
	edit src/wallet_ledger.c 'SPI_finish\(\);\n\K(?=\n\tbalance_after = )' \
		$'\tif (strcmp(TextDatumGetCString(row_value(entry, rel, "kind", &isnull)), "DEBIT") == 0)\n\t\treturn PointerGetDatum(NULL);\n'
}

mut_refund_twice() {
	what="an order may be refunded twice"
	regress="money"
	edit schema/51_wallets.sql 'CREATE \KUNIQUE (?=INDEX ledger_one_refund_per_order)' ''
}

mut_wallet_negative() {
	what="a wallet may go negative"
	regress="money order_create"
	isolation="order_balance_race"
	edit src/wallet_ledger.c 'WHERE id = \$1\K AND balance \+ \$2 >= 0' ''
	edit schema/51_wallets.sql 'balance\s+numeric\(14, 2\) NOT NULL DEFAULT 0\K CHECK \(balance >= 0\)' ''
}

mut_wrong_secret_accepted() {
	what="a wrong API secret is accepted (the secret comparison always succeeds)"
	regress="rest_auth"
	edit src/credentials.c \
		'PG_RETURN_BOOL\(\KCRYPTO_memcmp\(VARDATA_ANY\(a\), VARDATA_ANY\(b\), len\) == 0(?=\);)' \
		'CRYPTO_memcmp(VARDATA_ANY(a), VARDATA_ANY(b), len) == 0 || true'
}

mut_expired_key_accepted() {
	what="an expired API key is accepted"
	regress="rest_auth"
	edit schema/70_identity.sql \
		'k\.revoked_at IS NULL\K\s*AND \(k\.expires_at IS NULL OR k\.expires_at > pg_catalog\.now\(\)\)' ''
}

mut_tampered_token_accepted() {
	what="a tampered access token is accepted (its signature is not compared)"
	regress="rest_auth"
	edit src/credentials.c \
		'given_len != SHA256_LEN \|\| \KCRYPTO_memcmp\(given, expected, SHA256_LEN\) != 0' \
		'(CRYPTO_memcmp(given, expected, SHA256_LEN) != 0 && false)'
}

mut_orders_rls_policy_dropped() {
	what="the row-level security policy of orders.orders is dropped"
	regress="rest_security"
	edit schema/96_api_security.sql '(?s)CREATE POLICY client_isolation ON .*?END LOOP;\nEND \$\$;\n\K' \
		$'DROP POLICY client_isolation ON orders.orders;\n'
}

mut_burst_limit_not_enforced() {
	what="the burst rate limit is not enforced"
	regress="rest_rate_limits"
	edit src/ratelimit.c '\(RateLimit\) \{\Krate_limit_burst(?=, rate_limit_burst_seconds\})' '0'
}

mut_ciphertext_copied_decrypts() {
	what="a ciphertext copied onto another row decrypts (the row id is left out of the AAD)"
	regress="vault"
	edit src/vault_format.c \
		'out\[VAULT_HEADER_BYTES \+ i\] = \(uint8_t\) \(r >> \(56 - 8 \* i\)\)\K(?=;)' ' * 0'
}

# Breaks that show a test's claim is asserted (issue 16, "claims match
# assertions"): each failed to fail the test before it was fixed.  Not in
# the default run (CI time); make mutation MUTATIONS=claims runs them.

mut_claim_write_isolation() {
	what="rest_security: a role granted UPDATE beyond orders_api retags other clients' orders (a policy added for it)"
	regress="rest_security"
	# SELECT so that its WHERE finds the row; the WITH CHECK still refuses
	# moving a row to another client (tag NULL), which the old test saw
	edit schema/96_api_security.sql '(?s)CREATE POLICY client_isolation ON .*?END LOOP;\nEND \$\$;\n\K' \
		$'CREATE POLICY writer_reads ON orders.orders FOR SELECT TO orders_api USING (current_user <> \'orders_api\');\nCREATE POLICY writer_retags ON orders.orders FOR UPDATE TO orders_api USING (current_user <> \'orders_api\') WITH CHECK (current_user <> \'orders_api\' AND tag IS NOT NULL);\n'
}

mut_claim_backoff_doubling() {
	what="050: retries back off by retry_base every time instead of doubling"
	tap="test/t/050_fulfilment_worker.pl"
	edit src/fulfilment_settings.c 'while \(--attempt > 0 && delay < max\)\s+delay \*= \K2(?=;)' '1'
}

mut_claim_undocumented_path() {
	what="080: GET /healthz is left out of the API document (the conformance check skipped such paths)"
	tap="test/t/080_gateway.pl"
	edit docs/openapi.yaml '(?s)\n  /healthz:\n.*?(?=\n  /api/v1/openapi\.json:)' ''
}

mut_claim_illegal_transition_after_crash() {
	mut_illegal_transition
	what="001: the trigger allows an illegal order transition (the refusal had another cause)"
	regress='' tap="test/t/001_lifecycle_crash.pl"
}

mut_claim_last_unit_paid() {
	mut_debit_without_ledger_row
	what="order_last_unit: a debit moves the wallet but writes no ledger row (\"both orders are paid\")"
	regress='' isolation="order_last_unit"
}

mut_claim_quiet_duration_logging() {
	what="041: the quiet role's settings leave duration-based statement logging on (and log_min_messages lets LOG through)"
	tap="test/t/041_vault_log_hygiene.pl"
	edit schema/44_vault_log_hygiene.sql "\\('log_min_duration_statement', '-1'\\),\\s*" ''
	# 'log' still keeps ERROR messages out (LOG ranks above ERROR in the
	# server log), so only the duration lines get through
	edit schema/44_vault_log_hygiene.sql "\\('log_min_messages', '\\Kfatal(?='\\))" 'log'
}

mut_metrics_deltas_ignored() {
	what="orders by status (metrics) leave out the order count deltas not rolled up yet"
	regress="metrics"
	edit schema/77_metrics.sql '\n\s*UNION ALL\n\s*SELECT status::text, n FROM orders\.order_count_deltas' ''
}

mut_metrics_route_parameter() {
	what="the gateway's metrics route: a {parameter} template segment matches only an empty segment"
	tap="test/t/084_gateway_metrics.pl"
	edit gateway/metrics.c "while \\(i < len && path\\[i\\] != '/'\\)\\s*i\\+\\+;" ''
}

mut_pool_waits_uncounted() {
	what="the gateway's pool does not count an acquisition that waited"
	tap="test/t/084_gateway_metrics.pl"
	edit gateway/pool.c 'pool->waits\+\+;' ''
}

claim_mutations="claim_write_isolation claim_backoff_doubling claim_undocumented_path
	claim_illegal_transition_after_crash claim_last_unit_paid claim_quiet_duration_logging"

all_mutations="illegal_transition sub_final_across_status
	reveal_undelivered_order reveal_undelivered_item reveal_other_client reveal_no_audit
	reveal_audit_async_commit create_reveal_skips_audit_wait restock_serves_vendor_units replay_other_parameters duplicate_po_concurrent
	unit_double_allocation expired_unit_allocated
	debit_without_ledger_row refund_twice wallet_negative
	wrong_secret_accepted expired_key_accepted tampered_token_accepted orders_rls_policy_dropped
	burst_limit_not_enforced ciphertext_copied_decrypts
	metrics_deltas_ignored metrics_route_parameter pool_waits_uncounted"

# ---- the machinery -------------------------------------------------------

tree=
edit_errors=()

# edit FILE PATTERN REPLACEMENT: in the scratch tree, replace the one match
# of PATTERN (Perl, the whole file as one string) with REPLACEMENT (literal).
edit() {
	local file=$1 n
	if [ ! -f "$tree/$file" ]; then
		edit_errors+=("$file does not exist")
		return
	fi
	n=$(PAT=$2 REP=$3 perl -0777 -i -ne '
		my $n = s/$ENV{PAT}/$ENV{REP}/g; print; print STDERR ($n || 0), "\n";' \
		"$tree/$file" 2>&1 >/dev/null)
	if [ "$n" != 1 ]; then
		edit_errors+=("$file: pattern matched ${n:-0} times, not once: $2")
	fi
}

# describe NAME: sets what, regress, isolation, tap without editing (the
# edits go to a throwaway directory).
describe() {
	what='' regress='' isolation='' tap=''
	local real=$tree
	tree=$(mktemp -d /tmp/orders-mutation-describe.XXXXXX)
	"mut_$1"
	rm -rf "$tree"
	tree=$real
	edit_errors=()
}

scratch=$(mktemp -d /tmp/orders-mutation.XXXXXX)
chmod 755 "$scratch"  # the private PostgreSQL copy inside is run as postgres
trap 'rm -rf "$scratch"' EXIT
tree=$scratch/tree
if [ -z "${TEST_PG_PREFIX+set}" ]; then
	TEST_PG_PREFIX=$(test/harness/private-pg.sh "$scratch/pg") || exit 1
fi
export TEST_PG_PREFIX

fresh_copy() {
	rm -rf "$tree"
	mkdir -p "$tree"
	tar -C "$top" --exclude=.git --exclude=node_modules --exclude=tmp_check \
		--exclude=results --exclude=output_iso -cf - . | tar -C "$tree" -xf -
}

# run_suites LOG: the harness in the scratch tree on the chosen suites.
run_suites() {
	(cd "$tree" && TEST_REGRESS="$regress" TEST_ISOLATION="$isolation" TEST_TAP="$tap" \
		TEST_CHECKS='' scripts/test.sh) > "$1" 2>&1
}

# --dry-run [NAME...]: apply each mutation to a scratch copy and show its
# diff; no build, no suites (for retargeting a mutation).
dry_run=
if [ "${1:-}" = --dry-run ]; then
	dry_run=1
	shift
fi
names=${*:-$all_mutations}
names=${names//claims/$claim_mutations}
for name in $names; do
	if ! declare -F "mut_$name" >/dev/null; then
		echo "unknown mutation: $name (known: $(echo $all_mutations $claim_mutations))"
		exit 2
	fi
done

if [ -n "$dry_run" ]; then
	status=0
	for name in $names; do
		fresh_copy
		what='' regress='' isolation='' tap='' edit_errors=()
		"mut_$name"
		echo "== $name: $what (suites: $(echo $regress $isolation $tap))"
		if [ "${#edit_errors[@]}" -ne 0 ]; then
			printf 'mutation could not be applied: %s\n' "${edit_errors[@]}"
			status=1
		fi
		(cd "$scratch" && mkdir -p orig && tar -C "$top" -cf - src schema gateway docs | tar -C orig -xf - &&
			for d in src schema gateway docs; do diff -ru "orig/$d" "tree/$d"; done; rm -rf orig)
	done
	exit $status
fi

# The baseline: every suite named by the chosen mutations, unmutated.
b_regress='' b_isolation='' b_tap=''
for name in $names; do
	describe "$name"
	b_regress+=" $regress" b_isolation+=" $isolation" b_tap+=" $tap"
done
uniq_words() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -u | tr '\n' ' '; }
regress=$(uniq_words "$b_regress") isolation=$(uniq_words "$b_isolation") tap=$(uniq_words "$b_tap")
fresh_copy
echo "mutation baseline: $regress$isolation$tap"
if ! run_suites "$scratch/baseline.log"; then
	cat "$scratch/baseline.log"
	echo "make mutation: the suites fail without any mutation; nothing to measure"
	exit 1
fi

killed=0 survived=0 unapplied=0
report=()
for name in $names; do
	fresh_copy
	what='' regress='' isolation='' tap='' edit_errors=()
	"mut_$name"
	suites=$(echo $regress $isolation $tap)
	if [ "${#edit_errors[@]}" -ne 0 ]; then
		result="NOT APPLIED"
		by=$(printf '%s; ' "${edit_errors[@]}")
		by="mutation could not be applied: ${by%; }"
		unapplied=$((unapplied + 1))
	else
		echo "mutation $name: $what (suites: $suites)"
		started=$SECONDS
		run_suites "$scratch/$name.log"
		rc=$?
		echo "mutation $name: ran in $((SECONDS - started)) s (with any wait for the install lock)"
		if grep -q '^step build \.\.\. FAILED' "$scratch/$name.log"; then
			result="NOT APPLIED"
			by="the mutated tree does not build"
			grep -E 'error:' "$scratch/$name.log" | head -n 5
			unapplied=$((unapplied + 1))
		elif grep -q '^step \(install\|deps\|vault-keys\) \.\.\. FAILED' "$scratch/$name.log"; then
			result="NOT APPLIED"
			by="install or setup failed: $(grep '^step .* FAILED' "$scratch/$name.log" | head -n 1)"
			unapplied=$((unapplied + 1))
		elif [ "$rc" -ne 0 ]; then
			result="killed"
			by=$(sed -n 's/^failed: //p' "$scratch/$name.log" | tail -n 1)
			by=${by:-exit $rc}
			killed=$((killed + 1))
		else
			result="SURVIVED"
			by="every suite passed: $suites"
			survived=$((survived + 1))
		fi
	fi
	echo "mutation $name: $result ($by)"
	report+=("$(printf '%-28s %-12s %s' "$name" "$result" "$by")")
	report+=("$(printf '%-28s %s' '' "$what")")
done

# Installed machine-wide: leave the tree's own build installed, not a mutant.
if [ -z "$TEST_PG_PREFIX" ]; then
	(cd "$top" && flock /tmp/orders-install.lock make -s install >/dev/null) ||
		echo "make mutation: could not install the unmutated tree again"
fi

echo
printf '%-28s %-12s %s\n' mutation result "killed by (failed tests or steps)"
printf '%s\n' "${report[@]}"
echo "make mutation: $killed killed, $survived survived, $unapplied not applied"
[ "$survived" -eq 0 ] && [ "$unapplied" -eq 0 ]
