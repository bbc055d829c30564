#!/usr/bin/env bash
# make run: serves the console and API on http://127.0.0.1:8080 with a SQLite
# database in var/. Settings can be changed with QIANLIMA_* variables or a
# qianlima.ini (see README), e.g. QIANLIMA_SERVER_LISTEN=0.0.0.0:8080 make run
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/release/qianlima}
mkdir -p var
args=(serve)
if [[ -f qianlima.ini && -z ${QIANLIMA_CONFIG:-} ]]; then args+=(--config qianlima.ini); fi
listen=${QIANLIMA_SERVER_LISTEN:-127.0.0.1:8080}
cat <<MSG

  Qianlima (千里马) is starting on http://$listen
    console   http://$listen/
    health    http://$listen/healthz
    API       http://$listen/api/openapi.json
  Data: ${QIANLIMA_STORE_URL:-var/qianlima.db}. Stop with Ctrl-C.

MSG
exec "$BIN" "${args[@]}"
