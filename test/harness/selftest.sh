#!/bin/bash
# make test-harness: a test of scripts/test.sh itself.  In a scratch copy of
# the tree it runs the harness on a few small suites, once as they are and
# once each with a deliberate failure, and checks the exit status and the
# closing "make test: N passed, M failed" line:
#   pass        nothing broken: exit 0, N > 0, M = 0
#   install     make install fails: exit != 0, M > 0, and no suite runs
#   suite       a pg_regress suite fails: exit != 0, M > 0, and the
#               isolation spec still runs
#   bail-out    a TAP file bails out: exit != 0, M > 0
# It installs into a private copy of PostgreSQL (test/harness/private-pg.sh)
# unless TEST_PG_PREFIX is set; TEST_PG_PREFIX= (empty) installs
# machine-wide under the install lock (then do not run it from inside make
# test, which holds the lock).
set -euo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
scratch=$(mktemp -d /tmp/orders-harness.XXXXXX)
chmod 755 "$scratch"  # the private PostgreSQL copy inside is run as postgres
trap 'rm -rf "$scratch"' EXIT

if [ -z "${TEST_PG_PREFIX+set}" ]; then
	TEST_PG_PREFIX=$(test/harness/private-pg.sh "$scratch/pg") || exit 1
fi
export TEST_PG_PREFIX
export TEST_REGRESS=types TEST_ISOLATION=lifecycle_race TEST_TAP='' TEST_CHECKS=''
failures=0

# copy: a fresh scratch copy of the tree (built objects included, so the
# harness's build step has little to do).
copy() {
	rm -rf "$scratch/tree"
	mkdir "$scratch/tree"
	tar -C "$top" --exclude=.git --exclude=node_modules --exclude=tmp_check -cf - . |
		tar -C "$scratch/tree" -xf -
}

# run NAME: run the harness in the scratch copy; sets rc, npassed, nfailed.
run() {
	echo "== harness self-test: $1"
	set +e
	(cd "$scratch/tree" && scripts/test.sh) > "$scratch/$1.log" 2>&1
	rc=$?
	set -e
	local line
	line=$(grep -E '^make test: [0-9]+ passed, [0-9]+ failed$' "$scratch/$1.log" | tail -n 1 || true)
	npassed=$(echo "$line" | sed -nE 's/^make test: ([0-9]+) passed.*/\1/p')
	nfailed=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed$/\1/p')
	echo "   exit $rc; ${line:-no closing line}"
}

# check NAME CONDITION DESCRIPTION
check() {
	if eval "$2"; then
		echo "   ok: $3"
	else
		echo "   FAILED: $3"
		failures=$((failures + 1))
		sed 's/^/   | /' "$scratch/$1.log" | tail -n 40
	fi
}

copy
run pass
check pass '[ "$rc" -eq 0 ]' "exit status 0"
check pass '[ "${npassed:-0}" = 5 ] && [ "$nfailed" = 0 ]' \
	"5 passed (deps, build, install, one suite, one spec), none failed"
check pass 'grep -q "^test lifecycle_race .*\.\.\. ok" "$scratch/pass.log"' "the isolation spec ran"

# A failing install: a prerequisite of install that fails before anything
# is installed.
copy
sed -i 's/^include \$(PGXS)$/.DEFAULT_GOAL := all\ninstall: selftest-install-fails\nselftest-install-fails: ; @echo "selftest: install fails" \&\& exit 1\n&/' \
	"$scratch/tree/Makefile"
grep -q selftest-install-fails "$scratch/tree/Makefile" || { echo "could not break install"; exit 1; }
run install
check install '[ "$rc" -ne 0 ]' "non-zero exit"
check install '[ "${nfailed:-0}" -gt 0 ]' "non-zero failed count"
check install 'grep -q "^failed: install$" "$scratch/install.log"' "the failed entry is named install"
check install '! grep -Eq "^(test | +)[a-z_]+ +\.\.\. " "$scratch/install.log"' "no suite ran on the stale install"

# A failing pg_regress suite: its expected output no longer matches.
copy
echo "a line the suite never prints" >> "$scratch/tree/expected/types.out"
run suite
check suite '[ "$rc" -ne 0 ]' "non-zero exit"
check suite '[ "${nfailed:-0}" -gt 0 ]' "non-zero failed count"
check suite 'grep -q "^failed: types$" "$scratch/suite.log"' "the failed entry is named types"
check suite 'grep -q "^test lifecycle_race .*\.\.\. ok" "$scratch/suite.log"' "the isolation spec still ran"

# A TAP file that bails out: prove prints no per-file failure line.
copy
cat > "$scratch/tree/test/t/000_selftest_bail_out.pl" <<'PERL'
use strict;
use warnings;
use Test::More;
BAIL_OUT('harness self-test: a deliberate bail-out');
PERL
export TEST_TAP=test/t/000_selftest_bail_out.pl
run bail-out
check bail-out '[ "$rc" -ne 0 ]' "non-zero exit"
check bail-out '[ "${nfailed:-0}" -gt 0 ]' "non-zero failed count"
check bail-out 'grep -q "^failed: test/t/000_selftest_bail_out.pl$" "$scratch/bail-out.log"' \
	"the failed entry is named after the TAP file"

if [ "$failures" -ne 0 ]; then
	echo "harness self-test: $failures check(s) FAILED"
	exit 1
fi
echo "harness self-test: ok"
