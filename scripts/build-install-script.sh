#!/bin/sh
# Assemble the extension's install script from schema/ (in name order).
# A *.sql.in file is a template expanded once per enum type (@T@).
set -eu
types="$1"
shift
for part in "$@"; do
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
