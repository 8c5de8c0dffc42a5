#!/bin/sh
# Install the Debian packages the project needs, if any is missing.
# Used by "make run", "make test" and .ci/run; a no-op when all are present.
set -eu

PACKAGES="
	make gcc clang libclang-rt-14-dev
	postgresql-15 postgresql-server-dev-15 postgresql-common postgresql-contrib
	libpq-dev libssl-dev libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev pkg-config
	libipc-run-perl
	postgresql-15-plproxy
	graphviz curl jq ca-certificates procps util-linux openssl valgrind
	python3 python3-yaml
	prometheus
"
# prometheus: promtool checks the gateway's GET /metrics, and its server
# scrapes it in test/t/084_gateway_metrics.pl (the package's systemd service
# is not needed: the test runs its own on a free port).
# node and npm run the OpenAPI linter (scripts/lint-openapi.sh), the OAuth
# 2.0 client of the gateway test (scripts/oauth-client.sh: simple-oauth2)
# and the webhook receiver of the TAP tests (test/webhook-receiver/):
# Debian's, unless a node with npm is already installed (from whatever
# source).  The npm tools themselves are pinned in their package-lock.json
# and installed there on first use.
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs npm"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages:$missing" >&2
	echo "install them as root: apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
