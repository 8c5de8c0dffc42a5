#!/bin/bash
# make deb: build the Debian packages (debian/, docs/releases.md) from a
# scratch copy of this tree with dpkg-buildpackage -us -uc -b, run lintian
# on them, and leave the .deb files in build/deb/.  Installs the build
# dependencies first (as root; apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

# What dpkg-buildpackage and lintian need, and debian/control's
# Build-Depends.
deps="dpkg-dev debhelper fakeroot lintian postgresql-server-dev-all
	$(sed -n '/^Build-Depends:/,/^[A-Z]/{/^ /p}' debian/control | sed 's/[ ,]*$//; s/ *(.*//; s/^ *//')"
missing=""
for p in $deps; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "missing build dependencies:$missing (install them as root)" >&2; exit 1; }
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# A scratch copy of the files git knows (committed or not, never ignored
# ones): no build products of the work tree end up in the packages.
scratch=$(mktemp -d /tmp/orders-deb.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/orders"
git ls-files -z --cached --others --exclude-standard |
	xargs -0 tar -cf - --no-recursion | tar -C "$scratch/orders" -xf -

# The maintainer: DEBFULLNAME and DEBEMAIL (as dch reads them) when set;
# else debian/control's, whose address is not a real one yet
# (docs/releases.md): a release build sets them.
if [ -n "${DEBEMAIL:-}" ]; then
	maint="${DEBFULLNAME:-the orders developers} <$DEBEMAIL>"
	case $maint in *'|'*|*'&'*|*"\\"*) echo "make deb: DEBFULLNAME/DEBEMAIL: no | & or \\ please" >&2; exit 1 ;; esac
	sed -i "s|^Maintainer: .*|Maintainer: $maint|" "$scratch/orders/debian/control" "$scratch/orders/debian/control.in"
	sed -i "s|^ -- [^<]*<[^>]*>  | -- $maint  |" "$scratch/orders/debian/changelog"
fi

(cd "$scratch/orders" && dpkg-buildpackage -us -uc -b) > "$scratch/build.log" 2>&1 ||
	{ tail -40 "$scratch/build.log" >&2; echo "make deb: dpkg-buildpackage failed" >&2; exit 1; }

out=$top/build/deb
rm -rf "$out"
mkdir -p "$out"
cp "$scratch"/*.deb "$scratch"/*.changes "$scratch"/*.buildinfo "$out/"

# lintian: errors fail the build; warnings are listed in docs/releases.md.
lintian --no-tag-display-limit --info "$out"/*.changes | tee "$out/lintian.txt"
if grep -q '^E: ' "$out/lintian.txt"; then
	echo "make deb: lintian reports errors" >&2
	exit 1
fi
echo "packages in build/deb/:"
ls "$out"/*.deb
