#!/usr/bin/env bash
# make fuzz: runs every libFuzzer target in BUILD_DIR/fuzz for SECONDS each
# (default 30), with its corpus in tests/fuzz/corpus/<target>/ (created on
# first run; not committed). A crash leaves its input in build/fuzz/.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build/fuzz}
SECONDS_EACH=${2:-30}
status=0
for t in "$B"/fuzz/fuzz_*; do
  name=$(basename "$t")
  corpus=tests/fuzz/corpus/$name
  mkdir -p "$corpus"
  seeds=()
  [[ -d tests/fuzz/seeds/$name ]] && seeds=(tests/fuzz/seeds/$name)
  echo "fuzz: $name for ${SECONDS_EACH}s"
  if ! "$t" -max_total_time="$SECONDS_EACH" -artifact_prefix="$B/" -print_final_stats=1 \
      "$corpus" "${seeds[@]}" >"$B/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; see $B/$name.log"
    tail -30 "$B/$name.log"
    status=1
  else
    grep -E 'stat::number_of_executed_units' "$B/$name.log" | sed "s/^/  $name: /"
  fi
done
exit $status
