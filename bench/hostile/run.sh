#!/usr/bin/env bash
# bench/hostile: a well-behaved client's GET /healthz (a new connection every
# 20 ms, as a load balancer's check) while the server is under attack, against
# the same probe with no attack in the same run; and the server's peak memory.
#
#   baseline   the probe alone
#   slowloris  CONNS connections (default 21,000, over 3 processes) each
#              sending a header line every 5 s and never ending the head
#   signin     20 clients signing in as admin with wrong passwords (Argon2id
#              at the default cost, as in production)
#   bigbody    40 clients posting 16 MB bodies to /signin (a 16 KiB form)
#   slowread   SLOW_READERS connections (default 8,000) asking for the API
#              description (260 KB) and never reading it
#
# Each phase runs against a freshly started server (so that its peak RSS,
# VmHWM, is that phase's), with the defaults of `qianlima serve` except the
# store, 2 workers and no access log. Prints the probe's p50/p99/max, p99 as
# a ratio of the baseline's, and the server's peak RSS and log growth.
#   bench/hostile/run.sh [BIN] [HOSTILE]   (environment: SECONDS_EACH=30 CONNS=21000)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/release/qianlima}
HOSTILE=${2:-build/release/bench/hostile}
SECONDS_EACH=${SECONDS_EACH:-30}
CONNS=${CONNS:-21000}
[[ -x $BIN && -x $HOSTILE ]] || { echo "bench/hostile: build first: make all bench-bins" >&2; exit 1; }

W=$(mktemp -d /tmp/qianlima-hostile.XXXXXX)
QPID=""
stop_server() {
  if [[ -n $QPID ]]; then
    kill "$QPID" 2>/dev/null || true
    wait "$QPID" 2>/dev/null || true
  fi
  QPID=""
}
trap 'stop_server; rm -rf "$W"' EXIT

PORT=18093
PASSWORD='Wide-Harbor-Lights-26'
"$BIN" migrate --store "$W/q.db" --keys-dir "$W/keys" >/dev/null 2>&1
printf '%s\n' "$PASSWORD" | "$BIN" user add admin --name Admin --roles admin --password-stdin --keep-password \
  --store "$W/q.db" --keys-dir "$W/keys" >/dev/null

start_server() {
  rm -f "$W/ready"
  "$BIN" serve --listen 127.0.0.1:$PORT --workers 2 --store "$W/q.db" --keys-dir "$W/keys" \
    --access-log off --ready-file "$W/ready" 2>"$W/server-$1.log" &
  QPID=$!
  for _ in $(seq 200); do [[ -f $W/ready ]] && return; sleep 0.05; done
  echo "bench/hostile: the server did not start" >&2
  cat "$W/server-$1.log" >&2
  exit 1
}

field() { sed -n "s/.*$1=\([-0-9.]*\).*/\1/p"; }

declare -A P99 LINE
echo "bench/hostile: $SECONDS_EACH s a phase, probe GET /healthz every 20 ms on a new connection"
printf '%-10s %8s %9s %9s %9s %10s %9s %10s  %s\n' phase probes p50_ms p99_ms max_ms p99/base \
  rss_MB log_KB attack
for phase in baseline slowloris signin bigbody slowread; do
  start_server "$phase"
  case $phase in
    baseline) out=$("$HOSTILE" probe $PORT "$SECONDS_EACH") ;;
    slowloris) out=$("$HOSTILE" slowloris $PORT "$SECONDS_EACH" "$CONNS" 3 5000) ;;
    signin) out=$("$HOSTILE" signin $PORT "$SECONDS_EACH" 20 admin) ;;
    bigbody) out=$("$HOSTILE" bigbody $PORT "$SECONDS_EACH" 40 16777216) ;;
    slowread) out=$("$HOSTILE" slowread $PORT "$SECONDS_EACH" "${SLOW_READERS:-8000}") ;;
  esac
  rss=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' /proc/$QPID/status)
  stop_server
  logkb=$(du -k "$W/server-$phase.log" | cut -f1)
  p99=$(field p99_ms <<<"$out")
  P99[$phase]=$p99
  base=${P99[baseline]}
  ratio=$(awk -v a="$p99" -v b="$base" 'BEGIN { if (a < 0 || b <= 0) print "-"; else printf "%.1f", a / b }')
  printf '%-10s %8s %9s %9s %9s %10s %9s %10s  %s\n' "$phase" \
    "$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<<"$out")/$(sed -n 's/^probe n=\([0-9]*\).*/\1/p' <<<"$out")" \
    "$(field p50_ms <<<"$out")" "$p99" "$(field max_ms <<<"$out")" "$ratio" "$rss" "$logkb" \
    "${out#*| attack }"
done
echo "targets: p99 under 100 ms in every phase; peak RSS under 100 MB under bigbody (and slowread)"
