#!/usr/bin/env bash
# tests/e2e/run.sh BUILD_DIR — browser tests of the web console (every tests/e2e/*.test.mjs):
# Debian's chromium driven by playwright-core from npm (pinned in package-lock.json, installed
# here with `npm ci` when missing; it never downloads a browser of its own).
# The last line printed is always "e2e: N passed, N failed", or "e2e: skipped (reason)" only
# when no browser can run on this machine at all.
set -u
B=${1:-build}
cd "$(dirname "$0")/../.."
case "$B" in /*) ;; *) B="$PWD/$B" ;; esac
here=tests/e2e
CHROMIUM=${PLANTAO_CHROMIUM:-/usr/bin/chromium}
fail() { echo "e2e: $1"; echo "e2e: 0 passed, 1 failed"; exit 1; }

if [ ! -x "$CHROMIUM" ]; then
	echo "e2e: skipped (no browser at $CHROMIUM: install it with scripts/deps test)"
	exit 0
fi
command -v node >/dev/null 2>&1 || fail "node is missing: install it with scripts/deps test"
[ -x "$B/plantao" ] || fail "$B/plantao is missing: run make tests first"

# Can this machine start the browser at all (a container without the needed kernel features)?
profile=$(mktemp -d)
if ! timeout 30 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
	--user-data-dir="$profile" --dump-dom about:blank >"$profile.out" 2>&1; then
	reason=$(grep -v '^\s*$' "$profile.out" | tail -1)
	rm -rf "$profile" "$profile.out"
	echo "e2e: skipped (chromium cannot start here: ${reason:-unknown error})"
	exit 0
fi
rm -rf "$profile" "$profile.out"

mkdir -p "$B/test-output"
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
	echo "e2e: installing playwright-core (npm ci)"
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$here" --no-audit --no-fund --loglevel=error \
		>"$B/test-output/npm-ci.log" 2>&1 || { tail -5 "$B/test-output/npm-ci.log"; fail "npm ci failed"; }
fi

rm -rf "$B/test-output/screenshots"
mkdir -p "$B/test-output/screenshots"
# every *.test.mjs file; each ends with "e2e: N passed, N failed", summed here into one line
passed=0
failed=0
for t in "$here"/*.test.mjs; do
	out=$(mktemp)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 180 node "$t" "$B" 2>&1 | sed '$!b;/^e2e: [0-9]* passed, [0-9]* failed$/s/^e2e:/e2e '"$(basename "$t")"':/' | tee "$out"
	last=$(tail -1 "$out")
	rm -f "$out"
	if [[ "$last" =~ ^e2e\ [^:]+:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		echo "e2e: $(basename "$t") did not finish"
		failed=$((failed + 1))
	fi
done
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
