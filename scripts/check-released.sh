#!/bin/bash
# Check the released scripts (docs/releases.md), run by make test:
#  - every released script still has the checksum recorded when it was
#    frozen (released-scripts.sha256): a released script is never edited;
#  - every orders--*.sql at the top level is released, except the upgrade
#    script into the version in development;
#  - default_version (orders.control) is the newest version;
#  - if the newest version is released, schema/ still builds exactly its
#    frozen script (a change to schema/ needs a new version).
# Needs the build (make all).  Prints "test released-scripts ... ok|FAILED".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

sums=released-scripts.sha256
problems=()
newest=$(sed -n "s/^default_version = '\([^']*\)'$/\1/p" orders.control)

while read -r sum file; do
	if [ ! -f "$file" ]; then
		problems+=("released script $file is missing")
	elif [ "$(sha256sum < "$file" | cut -d' ' -f1)" != "$sum" ]; then
		problems+=("released script $file changed since it was frozen: ship the change in the next version's upgrade script instead")
	fi
done < "$sums"

released() { grep -q "  $1\$" "$sums"; }

for file in orders--*.sql; do
	[ -e "$file" ] || continue
	released "$file" && continue
	case "$file" in
	orders--*--"$newest".sql)
		released "orders--$newest.sql" &&
			problems+=("$file: an upgrade script into the released $newest that is not released itself")
		;;
	*) problems+=("$file is not a released script nor the upgrade script into $newest, the version in development") ;;
	esac
done

for v in $(sed -n 's/^[0-9a-f]*  orders--\([0-9.]*\)\.sql$/\1/p' "$sums"); do
	[ "$(printf '%s\n%s\n' "$v" "$newest" | sort -V | tail -1)" = "$newest" ] ||
		problems+=("default_version $newest is older than the released $v")
done

if released "orders--$newest.sql"; then
	if ! cmp -s "build/orders--$newest.sql" "orders--$newest.sql"; then
		problems+=("schema/ no longer builds the released $newest (orders--$newest.sql): start the next version (docs/releases.md)")
		diff -u "orders--$newest.sql" "build/orders--$newest.sql" | head -40 >&2
	fi
fi

if [ ${#problems[@]} -eq 0 ]; then
	echo "test released-scripts ... ok"
else
	printf '  %s\n' "${problems[@]}" >&2
	echo "test released-scripts ... FAILED"
	exit 1
fi
