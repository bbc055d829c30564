#!/usr/bin/env bash
# Installs what a part of the project needs, only when it is missing, and
# says what it installs. Groups: build test web lint fuzz bench.
#   scripts/setup.sh build test web
# Debian packages come from apt (root needed to install); the web page's
# packages come from npm into web/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A GROUP=(
  [build]="gcc make pkg-config libevent-dev libjansson-dev libsqlite3-dev libpq-dev libinih-dev libsodium-dev libssl-dev libxlsxwriter-dev"
  [test]="libcmocka-dev postgresql chromium fonts-wqy-microhei unzip sqlite3"
  [web]="nodejs"
  [lint]="cppcheck"
  [fuzz]="clang libclang-rt-14-dev llvm-14"
  [bench]="nginx wrk sqlite3 time"
)

missing=()
web=0
for g in "$@"; do
  [[ -n "${GROUP[$g]+x}" ]] || { echo "setup: unknown group '$g' (build test web lint fuzz bench)" >&2; exit 2; }
  [[ $g == web ]] && web=1
  for p in ${GROUP[$g]}; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      # nodejs may come from another source than Debian (e.g. NodeSource): a working node is enough.
      if [[ $p == nodejs ]] && command -v node >/dev/null && command -v npm >/dev/null; then continue; fi
      missing+=("$p")
    fi
  done
done
# Debian's nodejs needs its npm package beside it.
if [[ " ${missing[*]-} " == *" nodejs "* ]]; then missing+=("npm"); fi

if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: not root; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: installed ${missing[*]}"
fi

if ((web)); then
  # Install the npm packages of web/ when package-lock.json changed since the
  # last install; copy the browser files the console serves.
  stamp=web/node_modules/.qianlima-installed
  if [[ ! -f $stamp || web/package-lock.json -nt $stamp || web/package.json -nt $stamp ]]; then
    echo "setup: installing npm packages of web/ (npm ci)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$stamp"
  fi
  mkdir -p web/static/vendor
  cp -f web/node_modules/htmx.org/dist/htmx.min.js web/static/vendor/htmx.min.js
fi
