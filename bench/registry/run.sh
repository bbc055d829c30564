#!/usr/bin/env bash
# bench/registry: the registry at scale, in one run.
#   (a) qianlima demo --csv: PEOPLE talents (default 1,000,000) and their
#       employers as CSV files in the import format;
#   (b) qianlima import employers, then talents, --commit, into a fresh
#       SQLite file (every row checked, sealed and indexed);
#   (c) the reference: raw SQLite inserts of the same rows into the same
#       schema (bench/registry/raw_insert.c, which says exactly what it does);
#       the ratio import/raw (target: within 3x), on wall-clock and CPU time;
#   (d) qianlima serve on the imported database, and wrk with CONNECTIONS
#       connections on GET /api/v1/talents?employer_id=E&per_page=50 (E the
#       employer with the most staff) and on the unfiltered first page, with
#       an API token, and on the console's page of the same filter
#       (/registry/talents?employer_id=E, 20 rows of HTML) with a signed-in
#       session; rate, p99 latency, the server's peak RSS;
#   (e) with DEMO_STORE=1 (default), qianlima demo storing the same district,
#       with its housing operators, units and leases, straight into another
#       fresh SQLite file (the demo's own bulk path).
# Usage: bench/registry/run.sh [BIN [RAW]]
# Environment: PEOPLE=1000000 DURATION=10s CONNECTIONS=64 DEMO_STORE=1 KEEP=0
#   (KEEP=1 keeps the work directory, e.g. to look at query plans).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/release/qianlima}
RAW=${2:-build/release/bench/raw_insert}
PEOPLE=${PEOPLE:-1000000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
DEMO_STORE=${DEMO_STORE:-1}
for tool in wrk curl /usr/bin/time; do
  command -v $tool >/dev/null || { echo "bench/registry: $tool is missing (run: scripts/setup.sh bench)" >&2; exit 1; }
done
[[ -x $BIN && -x $RAW ]] || { echo "bench/registry: build first (make all bench-bins)" >&2; exit 1; }

W=$(mktemp -d /tmp/qianlima-bench-registry.XXXXXX)
QPID=""
cleanup() {
  [[ -n $QPID ]] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null
  if [[ ${KEEP:-0} == 1 ]]; then echo "bench/registry: kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

# timed NAME CMD...: runs CMD, records "wall user sys maxrss_kb" in $W/NAME.time.
timed() {
  local name=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$W/$name.time" "$@" >"$W/$name.out" 2>"$W/$name.err" ||
    { echo "bench/registry: $name failed:" >&2; tail -5 "$W/$name.err" "$W/$name.out" >&2; exit 1; }
}
field() { awk -v k="$2" '{print $k}' "$W/$1.time"; }
cpu() { awk '{printf "%.2f", $2 + $3}' "$W/$1.time"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

echo "bench/registry: $PEOPLE talents, work directory $W"

# (a) the district as CSV
timed csv "$BIN" demo --people "$PEOPLE" --seed 1 --csv "$W/csv"
printf '  demo --csv:           %7.1f s   (%s)\n' "$(field csv 1)" "$(du -sh "$W/csv" | cut -f1)"

# (b) the importer
common=(--keys-dir "$W/keys" --log-level warn)
"$BIN" migrate --store "$W/import.db" "${common[@]}" >/dev/null
timed imp_emp "$BIN" import employers "$W/csv/employers.csv" --commit --store "$W/import.db" "${common[@]}"
timed imp_tal "$BIN" import talents "$W/csv/talents.csv" --commit --store "$W/import.db" "${common[@]}"
grep -q "stored $PEOPLE row" "$W/imp_tal.out" || { echo "bench/registry: the import did not store every row" >&2; cat "$W/imp_tal.out" >&2; exit 1; }
imp_wall=$(awk '{s += $1} END {printf "%.2f", s}' "$W/imp_emp.time" "$W/imp_tal.time")
imp_cpu=$(awk '{s += $2 + $3} END {printf "%.2f", s}' "$W/imp_emp.time" "$W/imp_tal.time")
printf '  import (checked):     %7.1f s   cpu %7.1f s   peak RSS %d MB\n' "$imp_wall" "$imp_cpu" \
  $(($(field imp_tal 4) / 1024))

# (c) the reference
"$BIN" migrate --store "$W/raw.db" --log-level warn >/dev/null
timed raw "$RAW" "$W/raw.db" "$W/csv/employers.csv" "$W/csv/talents.csv"
raw_wall=$(field raw 1)
raw_cpu=$(cpu raw)
printf '  raw SQLite inserts:   %7.1f s   cpu %7.1f s   peak RSS %d MB\n' "$raw_wall" "$raw_cpu" \
  $(($(field raw 4) / 1024))
printf '  ratio import/raw:     %7s (wall)   %s (cpu)   target <= 3\n' "$(ratio "$imp_wall" "$raw_wall")" \
  "$(ratio "$imp_cpu" "$raw_cpu")"
printf '  rows/s import:        %7.0f\n' "$(awk -v n="$PEOPLE" -v t="$imp_wall" 'BEGIN {print n / t}')"
printf '  database files:       import %s, raw %s\n' "$(du -sh "$W/import.db" | cut -f1)" "$(du -sh "$W/raw.db" | cut -f1)"

# (d) lists under load
printf '%s\n' 'Wrk-Load-2026!x' | "$BIN" user add bench --roles reviewer --name bench --password-stdin \
  --keep-password --store "$W/import.db" "${common[@]}" >/dev/null
token=$("$BIN" token create --user bench --name bench --permissions registry.read --days 1 \
  --store "$W/import.db" "${common[@]}" | tail -1)
"$BIN" serve --listen 127.0.0.1:0 --workers 2 --store "$W/import.db" "${common[@]}" \
  --access-log off --ready-file "$W/ready" 2>"$W/serve.log" &
QPID=$!
for _ in $(seq 200); do [[ -s $W/ready ]] && break; sleep 0.05; done
[[ -s $W/ready ]] || { echo "bench/registry: qianlima did not start" >&2; cat "$W/serve.log" >&2; exit 1; }
addr=$(cat "$W/ready")
auth="Authorization: Bearer $token"
# The employer with the most staff, by credit code in the CSV, then its id.
code=$(awk -F, 'NR > 1 && $8 != "" {n[$8]++} END {for (c in n) if (n[c] > m) {m = n[c]; b = c}; print b}' "$W/csv/talents.csv")
eid=$(curl -sf -H "$auth" "http://$addr/api/v1/employers?q=$code" | sed -n 's/.*"employers": *\[{"id": *\([0-9]*\).*/\1/p')
[[ -n $eid ]] || { echo "bench/registry: employer $code not found through the API" >&2; exit 1; }
staff=$(curl -sf -H "$auth" "http://$addr/api/v1/employers/$eid" | sed -n 's/.*"staff": *\([0-9]*\).*/\1/p')
rows=$(curl -sf -H "$auth" "http://$addr/api/v1/talents?employer_id=$eid&per_page=50" | grep -o '"id_masked"' | wc -l)
[[ $rows == 50 ]] || { echo "bench/registry: the filtered page has $rows rows, not 50" >&2; exit 1; }
load() { # NAME URL TITLE [HEADER]
  local hdr=${4:-$auth}
  wrk -t2 -c"$CONNECTIONS" -d2s -H "$hdr" "$2" >/dev/null # warm-up
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$hdr" "$2" >"$W/$1.wrk" 2>&1
  local rate p99 non2xx
  rate=$(awk '/Requests\/sec/ {print $2}' "$W/$1.wrk")
  p99=$(awk '$1 == "99%" {print $2}' "$W/$1.wrk")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$W/$1.wrk")
  printf '  %-44s %8.0f req/s   p99 %s   non-2xx %s\n' "$3" "$rate" "$p99" "${non2xx:-0}"
}
echo "  wrk -t2 -c$CONNECTIONS -d$DURATION, API token, $PEOPLE talents:"
load employer "http://$addr/api/v1/talents?employer_id=$eid&per_page=50" \
  "talents?employer_id=$eid&per_page=50 ($staff staff)"
load first "http://$addr/api/v1/talents?per_page=50" "talents?per_page=50 (newest first)"
# The console: a reviewer signed in with a password, its session cookie.
jar=$W/cookies
curl -sf -c "$jar" -b "$jar" "http://$addr/signin" >"$W/signin.html"
csrf=$(sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' "$W/signin.html" | head -1)
curl -sf -o /dev/null -c "$jar" -b "$jar" --data-urlencode username=bench \
  --data-urlencode 'password=Wrk-Load-2026!x' --data-urlencode "_csrf=$csrf" "http://$addr/signin"
session=$(awk '$6 == "ql_session" {print $7}' "$jar")
[[ -n $session ]] || { echo "bench/registry: could not sign in to the console" >&2; exit 1; }
page=$(curl -sf -H "Cookie: ql_session=$session" "http://$addr/registry/talents?employer_id=$eid")
[[ $(grep -c 'href="/registry/talents/[0-9]' <<<"$page") -ge 20 ]] ||
  { echo "bench/registry: the console page does not list 20 talents" >&2; exit 1; }
load console "http://$addr/registry/talents?employer_id=$eid" \
  "console /registry/talents?employer_id=$eid (HTML)" "Cookie: ql_session=$session"
hwm=$(awk '/VmHWM/ {print $2}' /proc/$QPID/status)
printf '  server peak RSS:      %.1f MB (VmHWM)\n' "$(awk -v k="$hwm" 'BEGIN {print k / 1024}')"
kill "$QPID" && wait "$QPID" 2>/dev/null || true
QPID=""

# (e) the demo's own path into the store
if [[ $DEMO_STORE == 1 ]]; then
  timed demo "$BIN" demo --people "$PEOPLE" --seed 1 --store "$W/demo.db" --keys-dir "$W/keys-demo" --log-level warn
  printf '  demo into the store:  %7.1f s   cpu %7.1f s   peak RSS %d MB   (%s)\n' "$(field demo 1)" \
    "$(cpu demo)" $(($(field demo 4) / 1024)) "$(head -1 "$W/demo.out")"
fi
