#!/bin/sh
# tests/e2e/vendor.sh - copies the chart library (Chart.js, pinned in
# package.json / package-lock.json) into public/vendor/, with its licences,
# so that serving the UI needs no build step.  The copied files are
# committed; run this after changing the pinned version.
#   sh tests/e2e/vendor.sh          install (npm ci) and copy
#   sh tests/e2e/vendor.sh --check  install and verify public/vendor/ matches
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dst="$here/../../public/vendor"
cd "$here"
# A fresh install from the lock file, except for --check when one exists.
if [ "${1:-}" != --check ] || [ ! -d node_modules/chart.js ]; then
	npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
version=$(node -p 'require("./node_modules/chart.js/package.json").version')
kurkle=$(node -p 'require("./node_modules/@kurkle/color/package.json").version')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp node_modules/chart.js/dist/chart.umd.min.js "$tmp/chart.umd.min.js"
cp node_modules/chart.js/LICENSE.md "$tmp/chart.js-LICENSE.md"
cp node_modules/@kurkle/color/LICENSE.md "$tmp/kurkle-color-LICENSE.md"
cat >"$tmp/README.md" <<README
# Vendored libraries

Copied by \`tests/e2e/vendor.sh\` from the npm packages pinned in
\`tests/e2e/package-lock.json\`; do not edit by hand.

| file | package | version | licence |
|---|---|---|---|
| chart.umd.min.js | chart.js (dist/chart.umd.min.js) | $version | MIT, chart.js-LICENSE.md |
| (bundled inside chart.umd.min.js) | @kurkle/color | $kurkle | MIT, kurkle-color-LICENSE.md |
README
if [ "${1:-}" = --check ]; then
	for f in chart.umd.min.js chart.js-LICENSE.md kurkle-color-LICENSE.md README.md; do
		if ! cmp -s "$tmp/$f" "$dst/$f"; then
			echo "public/vendor/$f differs from the pinned package: run sh tests/e2e/vendor.sh" >&2
			exit 1
		fi
	done
	echo "public/vendor matches chart.js $version"
	exit 0
fi
mkdir -p "$dst"
cp "$tmp"/* "$dst/"
echo "vendored chart.js $version into public/vendor/"
