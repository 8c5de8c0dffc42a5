#!/bin/bash
# Run inside a throwaway cluster by bench/vault/run.sh (which see):
#   measure.sh SECONDS UNITS
set -euo pipefail
seconds=$1
units=$2
export PGDATABASE=postgres
psql -X -q -v ON_ERROR_STOP=1 -f setup.sql

# tps of a script: pgbench, one client, prepared statements.
tps() {
	pgbench -n -M prepared -c 1 -T "$seconds" -f "$1" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

# Calls per statement of the batch scripts (set in setup.sql): pgp_sym_*
# derive a key from the passphrase on every call (that is its design), so it
# gets fewer calls per statement for the same measuring time.
batch_calls() { case "$1" in pgp) echo 20 ;; *) echo 1000 ;; esac; }

# Three rounds, the implementations in alternation within each; the best
# round counts (other load on the machine only ever slows a measurement down).
raw=$(mktemp)
for round in 1 2 3; do
	for op in encrypt decrypt; do
		for impl in orders pgp raw; do
			b=$(tps "batch_${op}_${impl}.sql")
			s=$(tps "single_${op}_${impl}.sql")
			echo "$op $impl $(awk -v t="$b" -v n="$(batch_calls $impl)" 'BEGIN { printf "%.0f", t * n }') $(printf '%.0f' "$s")" >> "$raw"
		done
	done
done
results=$(mktemp)
awk '{ k = $1 " " $2; if (!(k in c)) order[n++] = k; if ($3 > c[k]) c[k] = $3; if ($4 > s[k]) s[k] = $4 }
	END { for (i = 0; i < n; i++) print order[i], c[order[i]], s[order[i]] }' "$raw" > "$results"
rm -f "$raw"

name() {
	case "$1" in
	orders) echo "orders.vault_* (AES-256-GCM, C)" ;;
	pgp) echo "pgcrypto pgp_sym_*" ;;
	raw) echo "pgcrypto encrypt/decrypt aes" ;;
	esac
}
echo
echo "16-byte code, best of 3 rounds of $seconds s per measurement, $(nproc) CPUs, PostgreSQL $(psql -X -tAc 'SHOW server_version')"
echo
printf '| %-9s | %-33s | %15s | %21s |\n' operation implementation "calls/s (batch)" "statements/s (1 call)"
printf '|%s|%s|%s|%s|\n' ----------- ----------------------------------- ----------------- -----------------------
while read -r op impl calls stmts; do
	printf '| %-9s | %-33s | %15s | %21s |\n' "$op" "$(name "$impl")" "$calls" "$stmts"
done < "$results"
echo
for op in encrypt decrypt; do
	awk -v op="$op" '
		$1 == op { c[$2] = $3; s[$2] = $4 }
		END {
			printf "%s: orders / pgp_sym = %.1fx per call (%.1fx per statement); orders / raw aes = %.2fx per call (%.2fx per statement)\n",
				op, c["orders"] / c["pgp"], s["orders"] / s["pgp"], c["orders"] / c["raw"], s["orders"] / s["raw"]
		}' "$results"
done
rm -f "$results"
echo
psql -X -q -v ON_ERROR_STOP=1 -v n="$units" -f load.sql
