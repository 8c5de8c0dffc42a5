#!/bin/sh
# Assemble the install script of the newest version from a schema directory
# (schema/ by default): its *.sql and *.sql.in files in name order.  A
# *.sql.in file is a template expanded once per enum type (@T@).
# Usage: scripts/build-install-script.sh [schema-dir] > orders--X.Y.sql
set -eu
dir=${1:-schema}

# The enum types of the reference, in the order of their type OIDs.
types="order_status order_sub_status delivery_time delivery_type
	delivery_mode classification link_type inventory_status recharge_status"

for part in $(find "$dir" -maxdepth 1 -type f \( -name '*.sql' -o -name '*.sql.in' \) | LC_ALL=C sort); do
	case "$part" in
	*.sql.in)
		for t in $types; do
			sed "s/@T@/$t/g" "$part"
		done
		;;
	*)
		cat "$part"
		;;
	esac
	echo
done
