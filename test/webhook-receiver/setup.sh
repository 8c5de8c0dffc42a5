#!/bin/sh
# Install the webhook receiver's node packages (standardwebhooks, pinned by
# package-lock.json) into test/webhook-receiver/node_modules, on first use
# or when the lock changes.  Run by scripts/test.sh before the webhook TAP
# tests (test/t/09x_webhooks*.pl) and the scale-out test (test/t/100_scale_out.pl).
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/standardwebhooks ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
