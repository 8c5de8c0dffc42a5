#!/bin/sh
# Lint docs/openapi.yaml with Redocly CLI (pinned in tools/openapi-lint/,
# installed there from package-lock.json on first use, or when the lock
# changes).  Run by make test; exits non-zero on any problem, warnings
# included (tools/openapi-lint/redocly.yaml).
set -eu
cd "$(dirname "$0")/../tools/openapi-lint"
if [ ! -x node_modules/.bin/redocly ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
node_modules/.bin/redocly lint ../../docs/openapi.yaml --config redocly.yaml --format=stylish
