#!/usr/bin/env bash
# bench/cycle: a month's disbursement cycle over many active subsidies, in
# one run.
#   (a) qianlima demo --people PEOPLE --active-subsidies SUBSIDIES into a
#       fresh SQLite file: the first SUBSIDIES talents drawn as people the
#       district policy takes, each with an active subsidy paid from
#       2026-09-01 (timed, not part of the measure);
#   (b) the measure, each step a process under /usr/bin/time (wall time,
#       CPU and peak RSS): qianlima cycle run MONTH (compute and post),
#       cycle budget (the year's budget: the cycle's total), cycle approve
#       MONTH --as APPROVER (a second person: the cycle is computed as
#       cli:<unix user>, and approved by the finance account APPROVER,
#       signed in with its password on standard input; the account is made
#       before the measure, its finance role confirmed by a security
#       administrator, bench.security, as a grant of a money role must be),
#       and cycle export MONTH --out DIR (when the binary has it: `qianlima
#       cycle export --help` succeeds; otherwise reported as not available);
#   (c) the reference: cycle_bench inserts as many payment rows as the
#       cycle has entitlements (cycle, application, talent, payee, amount,
#       request id under a UNIQUE index) into a new SQLite file beside the
#       database, opened as the store opens its own, 500 rows to a
#       transaction as the cycle writes them.
#   (d) the floor: bench/cycle/floor.sql writes the same rows again for the
#       month after, set-based in SQL with the sqlite3 shell (one statement
#       each: no computation, no page reads, no commits between pages), the
#       least the schema lets a cycle take for them; printed against the
#       reference as well.
# It prints each step and the ratio (cycle run + export) / raw inserts in
# wall time (the raw time is its insert loop's) and in CPU time (a shared
# machine stretches wall times), and fails when the cycle does not pay every
# subsidy. Targets: the ratio at
# most 3, every step's peak RSS under 256 MB.
# Usage: bench/cycle/run.sh [BIN [CYCLE_BENCH]]
# Environment: SUBSIDIES (default PEOPLE, else 1000000), PEOPLE (default
#   SUBSIDIES), MONTH=2026-11, APPROVER=bench.finance, FLOOR=1 (FLOOR=0 skips (d),
#   which writes rows of the month after into the database: skip it to
#   compute that month in a kept database), KEEP=0 (KEEP=1 keeps the work
#   directory and its database), FROM=DIR (instead of (a), copy DIR/cycle.db
#   and DIR/keys, made by the demo of an earlier run of the same size and
#   binary, before any cycle was computed in it).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-build/release/qianlima}")
CB=$(realpath "${2:-build/release/bench/cycle_bench}")
SUBSIDIES=${SUBSIDIES:-${PEOPLE:-1000000}}
PEOPLE=${PEOPLE:-$SUBSIDIES}
MONTH=${MONTH:-2026-11}
APPROVER=${APPROVER:-bench.finance}
APPROVER_PW='Bench-Approve-2026!'
command -v /usr/bin/time >/dev/null || { echo "bench/cycle: /usr/bin/time is missing (run: scripts/setup.sh bench)" >&2; exit 1; }
[[ -x $BIN && -x $CB ]] || { echo "bench/cycle: build first (make all bench-bins)" >&2; exit 1; }

W=$(mktemp -d /tmp/qianlima-bench-cycle.XXXXXX)
cleanup() {
  if [[ ${KEEP:-0} == 1 ]]; then echo "bench/cycle: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

# timed NAME CMD...: runs CMD, records "wall user sys maxrss_kb" in $W/NAME.time.
timed() {
  local name=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$W/$name.time" "$@" >"$W/$name.out" 2>"$W/$name.err" ||
    { echo "bench/cycle: $name failed:" >&2; tail -n 5 "$W/$name.err" "$W/$name.out" >&2; exit 1; }
}
field() { awk -v k="$2" '{print $k}' "$W/$1.time"; }
line() { # NAME LABEL: one line of the table
  printf '  %-34s %8.1f s  cpu %7.1f s  peak RSS %5d MB\n' "$2" "$(field "$1" 1)" \
    "$(awk '{print $2 + $3}' "$W/$1.time")" $(($(field "$1" 4) / 1024))
}

echo "bench/cycle: $SUBSIDIES active subsidies among $PEOPLE talents, month $MONTH, work directory $W"
common=(--store "$W/cycle.db" --keys-dir "$W/keys" --log-level warn)

# (a) the district and its subsidies (or a copy of those made before)
if [[ -n ${FROM:-} ]]; then
  [[ -f $FROM/cycle.db && -d $FROM/keys && ! -s $FROM/cycle.db-wal ]] ||
    { echo "bench/cycle: FROM=$FROM has no closed cycle.db and keys/" >&2; exit 1; }
  cp "$FROM/cycle.db" "$W/cycle.db"
  cp -r "$FROM/keys" "$W/keys"
  echo "  database copied from $FROM (no cycle may be computed in it yet)"
else
  timed demo "$BIN" demo --people "$PEOPLE" --active-subsidies "$SUBSIDIES" "${common[@]}"
  grep -q "made $SUBSIDIES active subsidies" "$W/demo.out" ||
    { echo "bench/cycle: the demo did not make every subsidy" >&2; cat "$W/demo.out" >&2; exit 1; }
  line demo "demo (not measured)"
  printf '  %s\n' "$(grep -m1 'made .* active subsidies' "$W/demo.out")"
fi
printf '  database: %s\n' "$(du -sh "$W/cycle.db" | cut -f1)"

# (b) the cycle
year=${MONTH%%-*}
timed run "$BIN" cycle run "$MONTH" "${common[@]}"
grep -q "$SUBSIDIES subsidies, $SUBSIDIES paid" "$W/run.out" ||
  { echo "bench/cycle: the cycle does not pay every subsidy:" >&2; cat "$W/run.out" >&2; exit 1; }
total=$(sed -n 's/.* paid, \([0-9.]*\) yuan.*/\1/p' "$W/run.out" | head -1)
entitlements=$(sed -n 's/.*; \([0-9]*\) subsidies,.*/\1/p' "$W/run.out" | head -1)
line run "cycle run $MONTH"
printf '    %s\n' "$(head -1 "$W/run.out")"
timed budget "$BIN" cycle budget district-rent "$year" "$total" "${common[@]}"
line budget "cycle budget district-rent $year"
# the approver: a finance account (the grant waits for a second person, a
# security administrator, who confirms it), not part of the measure
if ! "$BIN" user list --search "$APPROVER" "${common[@]}" | grep -q "^[0-9]* *$APPROVER "; then
  printf '%s\n' "$APPROVER_PW" | "$BIN" user add bench.security --roles security_admin \
    --name 'bench security' --password-stdin --keep-password "${common[@]}" >/dev/null
  printf '%s\n' "$APPROVER_PW" | "$BIN" user add "$APPROVER" --roles finance \
    --name 'bench finance' --password-stdin --keep-password "${common[@]}" >/dev/null
  printf '%s\n' "$APPROVER_PW" | "$BIN" user confirm all --as bench.security "${common[@]}" >/dev/null
fi
printf '%s\n' "$APPROVER_PW" >"$W/approver.pw"
timed approve "$BIN" cycle approve "$MONTH" --as "$APPROVER" "${common[@]}" <"$W/approver.pw"
line approve "cycle approve $MONTH (as $APPROVER)"
approved=1
export_s=0
if "$BIN" cycle export --help >/dev/null 2>&1 && ((approved)); then
  mkdir "$W/bank"
  timed export "$BIN" cycle export "$MONTH" --out "$W/bank" "${common[@]}"
  line export "cycle export $MONTH"
  printf '    %s\n' "$(head -1 "$W/export.out")"
  printf '    %s files, %s\n' "$(find "$W/bank" -type f | wc -l)" "$(du -sh "$W/bank" | cut -f1)"
  export_s=$(field export 1)
elif ((approved)); then
  echo "  cycle export $MONTH: not available (qianlima cycle export --help fails)"
else
  echo "  cycle export $MONTH: not measured (the cycle is not approved)"
fi

# (c) the reference
timed raw "$CB" "$W/raw.db" "$entitlements" "$MONTH"
line raw "raw SQLite inserts ($entitlements rows)"
raw_s=$(awk '{print $3}' "$W/raw.out")
run_s=$(field run 1)
cpu() { awk '{print $2 + $3}' "$W/$1.time"; }
export_cpu=0
[[ -f $W/export.time ]] && export_cpu=$(cpu export)
awk -v r="$run_s" -v e="$export_s" -v raw="$raw_s" -v n="$entitlements" \
    -v rc="$(cpu run)" -v ec="$export_cpu" -v rawc="$(cpu raw)" 'BEGIN {
  printf "  ratio (cycle run + export) / raw inserts: %.2f   (cycle run alone %.2f; target <= 3)\n", (r + e) / raw, r / raw
  if (rawc > 0) printf "  the same in CPU time: %.2f   (cycle run alone %.2f)\n", (rc + ec) / rawc, rc / rawc
  printf "  rates: cycle run %.0f entitlements/s, raw inserts %.0f rows/s\n", n / r, n / raw
}'
# (d) the floor: the same rows written set-based in SQL (floor.sql), for the
# month after, with the sqlite3 shell; what the schema alone costs
if [[ ${FLOOR:-1} == 0 ]]; then
  echo "  floor: not measured (FLOOR=0)"
elif command -v sqlite3 >/dev/null && [[ -f $W/export.time ]]; then
  next=$(date -d "$MONTH-01 +1 month" +%Y-%m)
  sqlite3 -cmd ".parameter set @month \"'$MONTH'\"" -cmd ".parameter set @next \"'$next'\"" \
    "$W/cycle.db" <bench/cycle/floor.sql >"$W/floor.out" 2>&1 ||
    { echo "bench/cycle: floor.sql failed:" >&2; tail -n 5 "$W/floor.out" >&2; exit 1; }
  # "Run Time: real R user U sys S" for the four statements: entitlement
  # transfers and rows, payment transfers and rows
  awk -v raw="$(cpu raw)" -v rc="$(cpu run)" -v ec="$export_cpu" '/^Run Time/ {
      n++; c = $6 + $8; if (n <= 2) ent += c; else pay += c }
    END {
      if (n != 4) { print "  floor: " n " statements timed, not 4" > "/dev/stderr"; exit 1 }
      printf "  floor, the same rows set-based in SQL: entitlements %.1f s cpu, payments %.1f s cpu\n", ent, pay
      printf "  floor / raw inserts (CPU): %.2f   (entitlements alone %.2f); cycle run + export / floor: %.2f\n", (ent + pay) / raw, ent / raw, (rc + ec) / (ent + pay)
    }' "$W/floor.out"
else
  echo "  floor: not measured (needs the sqlite3 shell and the export)"
fi

peak=0
for s in run budget approve export; do
  [[ -f $W/$s.time ]] || continue
  kb=$(field "$s" 4)
  ((kb > peak)) && peak=$kb
done
printf '  peak RSS of the cycle steps: %d MB   (target < 256 MB)\n' $((peak / 1024))
