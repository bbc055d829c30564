#!/usr/bin/env bash
# Runs the console's browser tests (tests/e2e/*.test.mjs) against one
# qianlima binary, from the repository root, with Node's test runner and TAP
# output ("ok N - name" / "not ok N - name", plan "1..N").
# Usage: tests/e2e/run.sh [BINARY]   (default build/release/qianlima)
# Needs /usr/bin/chromium (Debian's chromium, with fonts-wqy-microhei) and
# the devDependencies of web/ (cd web && npm ci). Screenshots are written to
# tests/artifacts/screenshots/.
set -uo pipefail
# A relative BINARY is taken from where the script was called.
BIN=${1:-}
[[ -n $BIN && $BIN != /* ]] && BIN=$PWD/$BIN
cd "$(dirname "$0")/../.." || exit 1
BIN=${BIN:-$PWD/build/release/qianlima}
CHROMIUM=${QL_CHROMIUM:-/usr/bin/chromium}
missing=0
if [[ ! -x $BIN ]]; then
  echo "tests/e2e/run.sh: the qianlima binary $BIN is missing (build it: make, or make SANITIZE=address,undefined test-bins)" >&2
  missing=1
fi
if [[ ! -x $CHROMIUM ]]; then
  echo "tests/e2e/run.sh: $CHROMIUM is missing (install Debian's chromium and fonts-wqy-microhei: apt-get install chromium fonts-wqy-microhei)" >&2
  missing=1
fi
if [[ ! -d web/node_modules/playwright-core ]]; then
  echo "tests/e2e/run.sh: web/node_modules/playwright-core is missing (install the devDependencies: cd web && npm ci)" >&2
  missing=1
fi
if [[ ! -d web/node_modules/@axe-core/playwright ]]; then
  echo "tests/e2e/run.sh: web/node_modules/@axe-core/playwright is missing (install the devDependencies: cd web && npm ci)" >&2
  missing=1
fi
if ! command -v node >/dev/null; then
  echo "tests/e2e/run.sh: node is missing (install Node.js 20 or later)" >&2
  missing=1
fi
((missing)) && exit 1

export QL_BIN=$BIN
export QL_CHROMIUM=$CHROMIUM
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rm -rf tests/artifacts/screenshots
mkdir -p tests/artifacts/screenshots

exec node --test --test-reporter=tap --test-concurrency=1 tests/e2e/
