#!/usr/bin/env bash
# The full benchmark comparison: runs every benchmark program with 9
# repetitions, compares each with its committed baseline (compare.py: Mann-Whitney
# U over repetitions, 10% threshold), counts instructions per edge-round
# (instructions.sh), appends the medians to benchmarks/history.jsonl and redraws
# benchmarks/history.png.
#
#   benchmarks/run.sh [--update-baseline]
# Exit status 1 when anything regressed. Baselines are per machine: compare only
# on the machine (and build) the baseline's JSON context names.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${COOPSWEEP_BUILD_DIR:-build}"
update=0
[ "${1:-}" = "--update-baseline" ] && update=1
mkdir -p benchmarks/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
status=0
for program in bench_kernels bench_sweep; do
  out="benchmarks/results/$program-$stamp.json"
  "$build/benchmarks/$program" --benchmark_repetitions=9 --benchmark_out="$out" \
    --benchmark_out_format=json --benchmark_report_aggregates_only=false >/dev/null
  /usr/bin/python3 benchmarks/history.py append "$out"
  if [ "$update" = 1 ]; then
    cp "$out" "benchmarks/baselines/$program.json"
    echo "baseline updated: benchmarks/baselines/$program.json"
  else
    echo "== $program"
    /usr/bin/python3 benchmarks/compare.py "benchmarks/baselines/$program.json" "$out" || status=1
  fi
done
if [ "$update" = 1 ]; then
  benchmarks/instructions.sh --update-baseline || status=1
else
  benchmarks/instructions.sh || status=1
fi
/usr/bin/python3 benchmarks/history.py plot benchmarks/history.png
exit $status
