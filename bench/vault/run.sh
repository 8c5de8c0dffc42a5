#!/bin/bash
# bench/vault/run.sh [SECONDS | --smoke]
#
# Encrypt and decrypt per second of a 16-byte code: the vault (AES-256-GCM
# in C, orders.vault_encrypt / vault_decrypt) against pgcrypto's
# pgp_sym_encrypt / pgp_sym_decrypt and pgcrypto's raw, unauthenticated
# encrypt / decrypt(..., 'aes'), in the same throwaway cluster, in the same
# run, measured in alternation.  Prints the figures and the ratios.
#
# Each measurement runs SECONDS (default 5; --smoke: 1) with pgbench, one
# client, prepared statements, in three rounds (the best counts).  Then the bulk-load rate of 100,000 units
# (--smoke: 1,000) through orders.load_inventory.  Not part of make test
# (benchmarks measure, tests assert).  Installs the extension under the
# machine-wide lock.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-5}
units=100000
[ "$seconds" = --smoke ] && seconds=1 units=1000
export PATH="$(pg_config --bindir):$PATH"
make -s all

work=$(mktemp -d /tmp/orders-vault-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
(umask 077 && scripts/vault-keygen.sh 1 > "$work/keys")
cp bench/vault/*.sql bench/vault/measure.sh "$work/"
[ "$(id -u)" -eq 0 ] && chown -R postgres "$work"

flock /tmp/orders-install.lock sh -c "make -s install && cd '$work' && \
	pg_virtualenv -v 15 -o shared_preload_libraries=orders \
		-o orders.vault_key_file='$work/keys' ./measure.sh $seconds $units"
