#!/usr/bin/env bash
# Thread scaling, all three measurements in one go, at 1, 2, 4, ... threads up
# to the cores: BM_SweepScaling (both kernel paths, 9 repetitions), the CLI
# with its HDF5 file (cli_scaling.py) and BM_Sweep (the grain at all cores).
#
#   benchmarks/scaling/measure.sh BIN_DIR OUT_DIR
# BIN_DIR is a build folder (build/coopsweep, build/benchmarks/bench_sweep) or
# bundle.sh's folder (both side by side, with lib/). Results: OUT_DIR/{machine.txt, *.json, *.txt}.
set -euo pipefail
bin="$1"
out="$2"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$out"
if [ -d "$bin/lib" ]; then export LD_LIBRARY_PATH="$bin/lib"; fi
bench="$bin/bench_sweep"
if [ -x "$bin/benchmarks/bench_sweep" ]; then bench="$bin/benchmarks/bench_sweep"; fi
{ nproc; lscpu; uname -a; cat /etc/os-release; } >"$out/machine.txt" 2>&1 || true
threads=()
for ((t = 1; t < $(nproc); t *= 2)); do threads+=("$t"); done
threads+=("$(nproc)")
"$bench" --benchmark_filter=BM_SweepScaling --benchmark_repetitions=9 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/bench_sweep_scaling.json" --benchmark_out_format=json | grep -E "median|cv" | tee "$out/bench_sweep_scaling.txt"
python="$(command -v /usr/bin/python3 || command -v python3)"
PYTHONUNBUFFERED=1 "$python" "$here/cli_scaling.py" --coopsweep "$bin/coopsweep" --threads "${threads[@]}" \
  --json "$out/cli_scaling.json" | tee "$out/cli_scaling.txt"
"$bench" --benchmark_filter='BM_Sweep/' --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/bench_sweep_grain.json" --benchmark_out_format=json | grep median | tee "$out/bench_sweep_grain.txt"
