#!/bin/sh
# test/harness/private-pg.sh DIR: a private copy of the machine's
# PostgreSQL 15 installation under DIR (binaries, libraries, share, with
# the server headers linked), for TEST_PG_PREFIX=DIR scripts/test.sh: the
# extension is installed into the copy and the suites run against it, so
# the machine-wide installation is never touched and the install lock is
# not needed (make mutation and the harness self-test on a busy machine).
# PostgreSQL finds its share and library directories relative to its
# binaries, so the copy is self-contained.  Prints DIR.
set -eu
dir=${1:?usage: private-pg.sh DIR}
if [ ! -x "$dir/usr/lib/postgresql/15/bin/postgres" ]; then
	mkdir -p "$dir/usr/lib/postgresql" "$dir/usr/share/postgresql" "$dir/usr/include/postgresql"
	cp -a /usr/lib/postgresql/15 "$dir/usr/lib/postgresql/"
	cp -a /usr/share/postgresql/15 "$dir/usr/share/postgresql/"
	ln -sfn /usr/include/postgresql/15 "$dir/usr/include/postgresql/15"
	# readable and, for the extension's files, writable only by root; the
	# server (as postgres) only reads them
	chmod -R go+rX "$dir"
fi
echo "$dir"
