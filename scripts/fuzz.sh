#!/usr/bin/env bash
# Fuzzes the spec parser/validator and the `simulate --set` values with
# libFuzzer (clang, ASan + UBSan) for a fixed time each, starting from the seed
# corpus in tests/fuzz/corpus. A crash is copied to tests/fuzz/regressions/, where
# the ordinary test suite replays it from then on.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
build=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOOPSWEEP_FUZZ=ON \
  -DCOOPSWEEP_SANITIZE=address -DCOOPSWEEP_PYTHON=OFF -DCOOPSWEEP_BUILD_BENCHMARKS=OFF \
  -DPython_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build "$build" --parallel "$(nproc)" --target fuzz_spec fuzz_set
status=0
for target in spec set; do
  work=$(mktemp -d)
  cp tests/fuzz/corpus/"$target"/* "$work"/
  echo "fuzzing $target for ${seconds}s"
  if ! "$build/tests/fuzz_$target" "$work" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$work/" -print_final_stats=1 2>"$work.log"; then
    status=1
    mkdir -p tests/fuzz/regressions/"$target"
    for crash in "$work"/crash-* "$work"/timeout-* "$work"/oom-*; do
      [ -e "$crash" ] && cp "$crash" tests/fuzz/regressions/"$target"/ && echo "kept $(basename "$crash")"
    done
    tail -30 "$work.log"
  else
    grep -E "stat::number_of_executed_units|cov:" "$work.log" | tail -2
  fi
  rm -rf "$work" "$work.log"
done
exit $status
