"""The benchmark programs run and write JSON that compare.py can read (seconds, not a measurement)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

BENCH_DIR = pathlib.Path(os.environ.get("COOPSWEEP_BENCH_DIR", ""))
SOURCE_DIR = pathlib.Path(os.environ.get("COOPSWEEP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


@pytest.mark.parametrize("program, pattern", [("bench_kernels", "BM_VectorizedKernel/firms:100/partners:4/topology:1/rounds:200/error_per_mille:0$"), ("bench_sweep", "BM_Sweep/threads:1/block:0/real_time$"), ("bench_sweep", "BM_SweepScaling/threads:1/error_per_mille:10/real_time$"), ("bench_kernels", "BM_AllianceGraph/firms:100/partners:4/topology:1$"), ("bench_kernels", "BM_PhiloxBlocks/blocks:100$"), ("bench_kernels", "BM_VectorizedRounds/firms:100/partners:4/topology:0/rounds:200/error_per_mille:10/manual_time$")])
def test_benchmark_runs_and_its_json_parses(program, pattern, tmp_path):
    binary = BENCH_DIR / program
    if not binary.exists():
        pytest.skip(f"{binary} not built (COOPSWEEP_BUILD_BENCHMARKS=OFF)")
    out = tmp_path / f"{program}.json"
    result = subprocess.run([str(binary), f"--benchmark_filter={pattern}", "--benchmark_min_time=0.01",
                             "--benchmark_repetitions=9", f"--benchmark_out={out}", "--benchmark_out_format=json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    iterations = [b for b in data["benchmarks"] if b["run_type"] == "iteration"]
    assert len(iterations) == 9
    counters = [k for k in iterations[0] if k.endswith("_per_second")]
    assert counters and all(iterations[0][k] > 0 for k in counters)
    # The file is usable by compare.py (against itself: no regression).
    compare = subprocess.run([sys.executable, str(SOURCE_DIR / "benchmarks" / "compare.py"), str(out), str(out)],
                             capture_output=True, text=True)
    assert compare.returncode == 0, compare.stdout + compare.stderr
