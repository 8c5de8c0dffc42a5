#!/bin/bash
# Run tools/oauth-client/get-token.js: simple-oauth2, a standard OAuth 2.0
# client, obtaining a token by the client-credentials grant (its settings
# in the environment: see get-token.js).  The library is pinned in
# tools/oauth-client/package-lock.json and installed there on first use,
# or when the lock changes, as scripts/lint-openapi.sh installs Redocly.
# Used by test/t/084_gateway_oauth.pl.
set -eu
cd "$(dirname "$0")/../tools/oauth-client"
# npm's cache goes where npm can write (the test suite runs this as
# postgres, with root's HOME).
[ -w "${HOME:-/nonexistent}" ] || export npm_config_cache="$PWD/.npm-cache"
if [ ! -d node_modules/simple-oauth2 ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error --prefer-offline >&2
fi
exec node get-token.js
