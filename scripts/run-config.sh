#!/bin/sh
# make run hook (scripts/run.sh): called with the run directory and the data
# directory before the server starts.  Runs every scripts/run-config.d/*.sh
# in name order with the same arguments, so each concern configures the demo
# cluster in a file of its own.
set -eu
for part in "$(dirname "$0")"/run-config.d/*.sh; do
	[ -e "$part" ] || continue
	sh "$part" "$@"
done
