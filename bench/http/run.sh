#!/usr/bin/env bash
# bench/http: requests per second of a small JSON route, GET /healthz, against
# nginx serving the same bytes from a file, measured in the same run with the
# same load: wrk -t2 -c64, alternating qianlima and nginx ROUNDS times.
# /healthz reads the store at most once a second per worker; /healthz?deep=1
# reads it on every request and is measured too, to show what one SQLite
# read per request costs. Prints the median rates, the ratios and the
# server's peak resident memory (VmHWM).
#   bench/http/run.sh [BIN]   (environment: DURATION=10s ROUNDS=3 CONNECTIONS=64)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/release/qianlima}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
for tool in wrk nginx curl; do
  command -v $tool >/dev/null || { echo "bench/http: $tool is missing (run: scripts/setup.sh bench)" >&2; exit 1; }
done

W=$(mktemp -d /tmp/qianlima-bench.XXXXXX)
chmod 755 "$W" # nginx workers run as an unprivileged user
QPID=""
cleanup() {
  [[ -n $QPID ]] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null
  [[ -f $W/nginx.pid ]] && nginx -c "$W/nginx.conf" -s stop 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

QPORT=18091
NPORT=18092
"$BIN" serve --listen 127.0.0.1:$QPORT --workers 2 --store "$W/bench.db" --access-log "${ACCESS_LOG:-off}" \
  --log-level warn --ready-file "$W/ready" 2>"$W/qianlima.log" &
QPID=$!
for _ in $(seq 100); do [[ -f $W/ready ]] && break; sleep 0.05; done
[[ -f $W/ready ]] || { echo "bench/http: qianlima did not start" >&2; cat "$W/qianlima.log" >&2; exit 1; }

mkdir -p "$W/www"
curl -sf "http://127.0.0.1:$QPORT/healthz" >"$W/www/healthz"
cat >"$W/nginx.conf" <<CONF
worker_processes 2;
pid $W/nginx.pid;
error_log $W/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/json;
  server { listen 127.0.0.1:$NPORT; root $W/www; }
}
CONF
nginx -c "$W/nginx.conf"
sleep 0.3
curl -sf "http://127.0.0.1:$NPORT/healthz" | cmp -s - "$W/www/healthz" ||
  { echo "bench/http: nginx does not serve the same bytes" >&2; exit 1; }

rate() { # URL -> requests/s
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$1" 2>&1 | awk '/Requests\/sec/ {print $2}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "bench/http: wrk -t2 -c$CONNECTIONS -d$DURATION, $ROUNDS rounds alternating; body $(wc -c <"$W/www/healthz") bytes"
q_rates=() n_rates=() ratios=() d_ratios=()
# Warm both up once.
wrk -t2 -c"$CONNECTIONS" -d2s "http://127.0.0.1:$QPORT/healthz" >/dev/null
wrk -t2 -c"$CONNECTIONS" -d2s "http://127.0.0.1:$NPORT/healthz" >/dev/null
for i in $(seq "$ROUNDS"); do
  q=$(rate "http://127.0.0.1:$QPORT/healthz")
  n=$(rate "http://127.0.0.1:$NPORT/healthz")
  d=$(rate "http://127.0.0.1:$QPORT/healthz?deep=1")
  r=$(awk -v q="$q" -v n="$n" 'BEGIN {printf "%.3f", q / n}')
  dr=$(awk -v q="$d" -v n="$n" 'BEGIN {printf "%.3f", q / n}')
  printf '  round %d: qianlima %8.0f req/s  nginx %8.0f req/s  ratio %s   deep=1 %8.0f req/s ratio %s\n' \
    "$i" "$q" "$n" "$r" "$d" "$dr"
  q_rates+=("$q") n_rates+=("$n") ratios+=("$r") d_ratios+=("$dr")
done
qm=$(printf '%s\n' "${q_rates[@]}" | median)
nm=$(printf '%s\n' "${n_rates[@]}" | median)
rm_=$(printf '%s\n' "${ratios[@]}" | median)
dm=$(printf '%s\n' "${d_ratios[@]}" | median)
hwm=$(awk '/VmHWM/ {print $2}' /proc/$QPID/status)
errors=$(curl -s "http://127.0.0.1:$QPORT/metrics" | awk '/^qianlima_http_requests_total/ && !/status="200"/ {s += $2} END {print s + 0}')
printf 'qianlima GET /healthz: %.0f req/s (median)\n' "$qm"
printf 'nginx same bytes:      %.0f req/s (median)\n' "$nm"
printf 'ratio qianlima/nginx:  %s (median of rounds; target >= 0.8)\n' "$rm_"
printf 'ratio with a store read per request (?deep=1): %s\n' "$dm"
printf 'qianlima peak RSS:     %.1f MB (VmHWM; target < 20 MB)\n' "$(awk -v k="$hwm" 'BEGIN {print k / 1024}')"
printf 'non-200 answers:       %s\n' "$errors"
