#!/bin/sh
# tests/e2e/run.sh - the end-to-end tests of the web UI: headless Chromium
# (Debian's chromium package) driven by playwright-core, against nginx and
# `concord serve` started by the tests on loopback.  Ends with one line
# "N passed, N failed" and exits non-zero when a test failed.
#
# Needs: apt-get install chromium nginx-light (and Concord's build
# dependencies); node >= 18 with npm.  Screenshots of every page are saved
# in tests/e2e/artifacts/.
#
# Environment: CONCORD_BIN (default ./concord of the repository, built
# with make when missing), CONCORD_SHARED (the shared/ directory with the
# seed data), CONCORD_CHROMIUM (/usr/bin/chromium), CONCORD_E2E_KEEP=1
# keeps the server's temporary directory.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here" || exit 2

fail() {
	echo "e2e: $*"
	echo "0 passed, 1 failed"
	exit 1
}

if [ -z "${CONCORD_BIN:-}" ] && [ ! -x "$root/concord" ]; then
	(cd "$root" && { [ -x configure ] || autoreconf -fi; } && { [ -f Makefile ] || ./configure; } && make -j2) \
		>/dev/null 2>&1 || fail "building concord failed (run make in $root)"
fi
command -v node >/dev/null 2>&1 || fail "node is not installed"
[ -x "${CONCORD_CHROMIUM:-/usr/bin/chromium}" ] || fail "chromium is not installed (apt-get install chromium)"
if [ ! -d node_modules/playwright-core ]; then
	npm ci --no-audit --no-fund --loglevel=error >/dev/null || fail "npm ci failed in tests/e2e"
fi
sh ./vendor.sh --check >/dev/null || fail "public/vendor/ does not match the pinned chart library: run sh tests/e2e/vendor.sh"

rm -rf artifacts
mkdir -p artifacts
tap=artifacts/results.tap
node --test --test-concurrency=1 --test-timeout=900000 \
	--test-reporter=spec --test-reporter-destination=stdout \
	--test-reporter=tap --test-reporter-destination="$tap" \
	concord.test.mjs review.test.mjs schema.test.mjs ask.test.mjs teams.test.mjs
rc=$?
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
passed=${passed:-0}
failed=${failed:-0}
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1	# the runner failed outside a test (a hook, a crash)
fi
echo "screenshots: $here/artifacts/"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ]
