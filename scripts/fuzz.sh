#!/usr/bin/env bash
# make fuzz: runs every libFuzzer target in BUILD_DIR/fuzz for SECONDS each
# (default 30), one after the other, each from its committed seeds
# (tests/fuzz/seeds/<target>/, only read) and a scratch corpus emptied first
# (BUILD_DIR/corpus/<target>/, outside git), with a fixed random seed
# (FUZZ_SEED, default 1), so that a run starts from the same place every
# time. FUZZ_TARGETS="fuzz_csv fuzz_import" runs only those.
#
# A target that crashes, leaks, times out on one input (10 s) or breaks one
# of its checks fails the run: its log's end, the input that did it
# (base64, with the command that replays it) are printed, and the input is
# kept in BUILD_DIR/ (crash-*, leak-*, timeout-*). Exit status 1 then.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build/fuzz}
SECONDS_EACH=${2:-30}
SEED=${FUZZ_SEED:-1}
[[ $SECONDS_EACH =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: seconds must be a whole number, not '$SECONDS_EACH'" >&2; exit 2; }
[[ $SEED =~ ^[0-9]+$ ]] || { echo "fuzz: FUZZ_SEED must be a whole number, not '$SEED'" >&2; exit 2; }
# Stack traces with function names and lines (llvm-symbolizer, package llvm-14).
for s in /usr/lib/llvm-14/bin/llvm-symbolizer /usr/bin/llvm-symbolizer; do
  [[ -x $s ]] && { export ASAN_SYMBOLIZER_PATH=$s; break; }
done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

targets=()
if [[ -n ${FUZZ_TARGETS:-} ]]; then
  for n in $FUZZ_TARGETS; do
    [[ -x $B/fuzz/$n ]] || { echo "fuzz: no target $B/fuzz/$n" >&2; exit 2; }
    targets+=("$B/fuzz/$n")
  done
else
  for t in "$B"/fuzz/fuzz_*; do [[ -x $t ]] && targets+=("$t"); done
fi
((${#targets[@]})) || { echo "fuzz: no targets in $B/fuzz (make FUZZ=1 fuzz-bins)" >&2; exit 2; }

status=0
t0=$SECONDS
for t in "${targets[@]}"; do
  name=$(basename "$t")
  corpus=$B/corpus/$name
  rm -rf "$corpus"
  mkdir -p "$corpus"
  seeds=()
  if [[ -d tests/fuzz/seeds/$name ]]; then
    seeds=(tests/fuzz/seeds/$name)
  else
    echo "fuzz: $name has no seeds in tests/fuzz/seeds/$name" >&2
    status=1
  fi
  log=$B/$name.log
  rm -f "$B"/crash-* "$B"/leak-* "$B"/timeout-* "$B"/oom-* 2>/dev/null
  echo "fuzz: $name for ${SECONDS_EACH}s (seed $SEED)"
  if "$t" -max_total_time="$SECONDS_EACH" -seed="$SEED" -timeout=10 -artifact_prefix="$B/" \
      -print_final_stats=1 "$corpus" "${seeds[@]}" >"$log" 2>&1; then
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    echo "  $name: ${execs:-?} inputs, corpus $(ls "$corpus" | wc -l) new"
  else
    status=1
    echo "fuzz: $name FAILED; its log is $log; the end of it:"
    grep -vE '^#[0-9]+' "$log" | tail -60 | sed 's/^/    /'
    for a in "$B"/crash-* "$B"/leak-* "$B"/timeout-* "$B"/oom-*; do
      [[ -f $a ]] || continue
      echo "  the input ($a, $(stat -c %s "$a") bytes), base64:"
      base64 -w 76 "$a" | sed 's/^/    /'
      echo "  to replay it: base64 -d > input <<'EOF' ... EOF; make FUZZ=1 fuzz-bins; $t input"
      # keep it under the target's name: the next target's run clears crash-*
      mv "$a" "$B/$name-$(basename "$a")"
    done
  fi
done
echo "fuzz: ${#targets[@]} targets in $((SECONDS - t0))s, $([[ $status == 0 ]] && echo clean || echo FAILED)"
exit $status
