#!/usr/bin/env bash
# Runs every test suite against one build and prints a closing summary line
# "N passed, M failed". Usage: tests/run.sh BUILD_DIR (e.g. build/sanitize-address-undefined)
#
# Suites: the cmocka unit tests; the store contract, API, CLI and crash
# suites on SQLite and again on a PostgreSQL server that this script starts in a
# temporary directory (as the postgres user) and stops when it ends.
# Each suite's output is kept in tests/artifacts/<suite>.log.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:?usage: tests/run.sh BUILD_DIR}
[[ -x $B/qianlima ]] || { echo "tests/run.sh: $B/qianlima is not built" >&2; exit 2; }

export QL_BIN=$PWD/$B/qianlima
export CMOCKA_MESSAGE_OUTPUT=tap
# detect_stack_use_after_return: a handler that leaves a pointer into its own
# frame in the request (read after it returns) is reported, not served by luck.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ART=tests/artifacts
rm -rf "$ART"
mkdir -p "$ART"
# Servers and commands started by the suites keep their logs here (testutil.c,
# tests/e2e/lib.mjs), for the scan of personal data at the end.
export QL_TEST_LOGS=$PWD/$ART/logs
mkdir -p "$QL_TEST_LOGS"

passed=0
failed=0

# run_suite NAME COMMAND...: counts the TAP lines of one cmocka program. A
# program that dies or leaks after its last test counts one failure more.
run_suite() {
  local name=$1; shift
  local log=$ART/$name.log
  local t0=$SECONDS
  "$@" >"$log" 2>&1
  local rc=$?
  local ok nok plan missing
  ok=$(grep -c '^ok ' "$log")
  nok=$(grep -c '^not ok ' "$log")
  plan=$(grep -m1 -oE '^1\.\.[0-9]+' "$log" | cut -c4-)
  plan=${plan:-0}
  missing=$((plan - ok - nok))
  ((missing < 0)) && missing=0
  local extra=0
  if ((rc != 0 && nok == 0 && missing == 0)); then extra=1; fi
  passed=$((passed + ok))
  failed=$((failed + nok + missing + extra))
  if ((nok + missing + extra)); then
    printf '  %-26s FAILED  %d passed, %d failed (exit %d, %ds) — %s\n' "$name" "$ok" \
      $((nok + missing + extra)) "$rc" $((SECONDS - t0)) "$log"
    grep -E '^not ok|^# |ERROR|SUMMARY|runtime error' "$log" | head -40 | sed 's/^/      /'
  else
    printf '  %-26s ok      %d passed (%ds)\n' "$name" "$ok" $((SECONDS - t0))
  fi
}

PGDIR=""
stop_pg() {
  if [[ -n $PGDIR && -d $PGDIR ]]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1
    rm -rf "$PGDIR"
  fi
}
trap stop_pg EXIT

start_pg() {
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [[ -z $PGBIN || ! -x $PGBIN/initdb ]]; then
    echo "tests/run.sh: PostgreSQL server binaries not found (run: make setup)" >&2
    return 1
  fi
  PGDIR=$(mktemp -d /tmp/qianlima-pg.XXXXXX)
  # Only a Unix socket in PGDIR is opened; a port number of its own keeps two
  # runs on one machine from sharing a shared-memory key.
  PGPORT=$((20000 + RANDOM % 20000))
  chmod 755 "$PGDIR"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres "$PGDIR"
    AS_PG=(runuser -u postgres --)
  else
    AS_PG=()
  fi
  "${AS_PG[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
    >"$ART/postgres-initdb.log" 2>&1 || return 1
  "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
    -o "-k $PGDIR -p $PGPORT -c listen_addresses='' -c fsync=off" start >/dev/null || return 1
}

pg_url() { echo "postgresql://postgres@/$1?host=$PGDIR&port=$PGPORT"; }

echo "unit tests"
for t in "$B"/tests/unit/test_*; do
  run_suite "unit-$(basename "$t" | sed 's/^test_//')" "$t"
done

# The suites that run once per backend: every program in tests/store,
# tests/api and tests/crash (the crash-safety harness, docs/ledger.md).
suites=()
for t in "$B"/tests/store/test_* "$B"/tests/api/test_* "$B"/tests/crash/test_*; do
  [[ -x $t ]] && suites+=("$t")
done
suite_name() { basename "$1" | sed 's/^test_//'; }

echo "SQLite"
for t in "${suites[@]}"; do run_suite "$(suite_name "$t")-sqlite" "$t"; done

echo "PostgreSQL"
if start_pg; then
  for t in "${suites[@]}"; do
    db="qianlima_$(suite_name "$t")"
    "${AS_PG[@]}" "$PGBIN/psql" -q -h "$PGDIR" -p "$PGPORT" -U postgres -d postgres \
      -c "CREATE DATABASE $db" >/dev/null
    QL_TEST_PG=$(pg_url "$db") run_suite "$(suite_name "$t")-postgres" "$t"
  done
else
  echo "  could not start PostgreSQL: see $ART/postgres-initdb.log" >&2
  failed=$((failed + 1))
fi

echo "Browser"
run_suite e2e-chromium tests/e2e/run.sh "$B/qianlima"

# Every log this run wrote (the suites' output, the servers' application and
# access logs kept under $QL_TEST_LOGS, PostgreSQL's) holds no ID, mobile or
# card number in plain text.
echo "Logs"
[[ -n $PGDIR && -f $PGDIR/log ]] && cp "$PGDIR/log" "$ART/postgres-server.log"
t0=$SECONDS
if scripts/pii-scan "$ART" >"$ART/pii-scan.txt" 2>&1; then
  passed=$((passed + 1))
  printf '  %-26s ok      %s (%ds)\n' pii-scan "$(tail -1 "$ART/pii-scan.txt")" $((SECONDS - t0))
else
  failed=$((failed + 1))
  printf '  %-26s FAILED  personal data in the logs — %s\n' pii-scan "$ART/pii-scan.txt"
  head -20 "$ART/pii-scan.txt" | sed 's/^/      /'
fi

echo
echo "$passed passed, $failed failed"
((failed == 0))
