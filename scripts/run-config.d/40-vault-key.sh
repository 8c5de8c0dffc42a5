#!/bin/sh
# make run: the demo's vault key (docs/vault.md).  Generated once into
# .run/vault.keys and kept (the demo's vouchers are encrypted with it),
# readable by the server only, and named by orders.vault_key_file in the
# cluster's postgresql.auto.conf.  Production keys come from ops, not from
# here (docs/vault.md#production).
set -eu
run=$1
data=$2
keys=$run/vault.keys
owner=$(stat -c %U "$data")

if [ ! -s "$keys" ]; then
	(umask 077 && "$(dirname "$0")/../vault-keygen.sh" 1 > "$keys.new" && mv "$keys.new" "$keys")
	echo "generated a demo vault key in $keys"
fi
[ "$(id -u)" -eq 0 ] && chown "$owner" "$keys"
chmod 600 "$keys"

# Rewrite the setting in place (cat > keeps the file's owner and mode).
conf=$data/postgresql.auto.conf
{ grep -v '^orders\.vault_key_file' "$conf" || true; echo "orders.vault_key_file = '$keys'"; } > "$conf.new"
cat "$conf.new" > "$conf"
rm -f "$conf.new"
