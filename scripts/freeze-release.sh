#!/bin/bash
# Freeze a release (docs/releases.md): write the install script built from
# schema/ as orders--<version>.sql at the top level, record its checksum and
# that of the upgrade script into <version> in released-scripts.sha256, and
# make <version> the default_version of orders.control if it is the newest.
# From then on make test fails if either script changes.
#
#   scripts/freeze-release.sh <version> [<git-revision>]
#       <git-revision>: build from schema/ as it is at that commit instead of
#       the work tree (e.g. main's commit before the next version's changes
#       were merged).
#   scripts/freeze-release.sh --redo <version> [<git-revision>]
#       replace a provisional freeze of <version> (only before that release
#       has been published: an installed release must never change).
#
# Then commit orders--<version>.sql, released-scripts.sha256, orders.control.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "freeze-release: $*" >&2; exit 1; }

redo=0
if [ "${1:-}" = --redo ]; then redo=1; shift; fi
version=${1:-}
rev=${2:-}
[[ $version =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] ||
	die "usage: scripts/freeze-release.sh [--redo] <version> [<git-revision>]  (version like 1.1)"

sums=released-scripts.sha256
script=orders--$version.sql
touch "$sums"

# Released full versions, oldest first.
released_versions() {
	sed -n 's/^[0-9a-f]*  orders--\([0-9.]*\)\.sql$/\1/p' "$sums" | sort -V
}

if grep -q "  $script\$" "$sums"; then
	[ $redo -eq 1 ] || die "$version is already released (a released script is never changed; --redo replaces a provisional freeze)"
	# Forget the provisional freeze of this version: its script and the
	# upgrade script into it, so that both are frozen again below.
	grep -v -e "  $script\$" -e "  orders--[0-9.]*--$version\.sql\$" "$sums" > "$sums.tmp" || true
	mv "$sums.tmp" "$sums"
elif [ $redo -eq 1 ]; then
	die "$version was never frozen: nothing to redo"
fi

# The previous release: the newest one older than <version>.
previous=$(released_versions | while read -r v; do
	[ "$(printf '%s\n%s\n' "$v" "$version" | sort -V | head -1)" = "$v" ] && [ "$v" != "$version" ] && echo "$v"
done | tail -1)
upgrade=
if [ -n "$previous" ]; then
	upgrade=orders--$previous--$version.sql
	[ -f "$upgrade" ] || die "no $upgrade: write the upgrade script from $previous first (docs/releases.md)"
fi
# A later release must not exist already: releases are frozen in order.
later=$(released_versions | while read -r v; do
	[ "$(printf '%s\n%s\n' "$v" "$version" | sort -V | tail -1)" = "$v" ] && [ "$v" != "$version" ] && echo "$v"
done | head -1)
[ -z "$later" ] || die "$later is already released; $version would come before it"

src=schema
if [ -n "$rev" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	git rev-parse --verify -q "$rev^{commit}" >/dev/null || die "no commit $rev"
	git archive "$rev" schema | tar -x -C "$tmp"
	src=$tmp/schema
fi
scripts/build-install-script.sh "$src" > "$script"

sha256sum "$script" $upgrade >> "$sums"
sort -k2 -V -o "$sums" "$sums"

current=$(sed -n "s/^default_version = '\([^']*\)'$/\1/p" orders.control)
if [ "$(printf '%s\n%s\n' "$current" "$version" | sort -V | tail -1)" = "$version" ]; then
	sed -i "s/^default_version = '[^']*'$/default_version = '$version'/" orders.control
fi

echo "froze $version: $script${upgrade:+ and $upgrade}${rev:+ (schema/ of $rev)}"
echo "default_version is $(sed -n "s/^default_version = '\([^']*\)'$/\1/p" orders.control)"
echo "commit: git add $script $upgrade $sums orders.control"
