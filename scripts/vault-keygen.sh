#!/bin/sh
# Print vault key lines ("<id>:<64 hex digits>", docs/vault.md) for the ids
# given, each a fresh random 256-bit key.  Used by make run, make test and the
# vault bench; in production the key file comes from ops (docs/vault.md).
#   scripts/vault-keygen.sh 1 > keys && chmod 600 keys
set -eu
[ $# -gt 0 ] || { echo "usage: $0 ID..." >&2; exit 2; }
for id in "$@"; do
	printf '%s:%s\n' "$id" "$(od -An -v -tx1 -N32 /dev/urandom | tr -d ' \n')"
done
