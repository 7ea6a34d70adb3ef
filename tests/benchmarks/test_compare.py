"""benchmarks/compare.py on synthetic Google Benchmark JSON."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("COOPSWEEP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
COMPARE = SOURCE_DIR / "benchmarks" / "compare.py"


def write_runs(path, times_by_name, time_unit="ms"):
    entries = []
    for name, times in times_by_name.items():
        for i, t in enumerate(times):
            entries.append({"name": name, "run_name": name, "run_type": "iteration", "repetitions": len(times),
                            "repetition_index": i, "real_time": t, "cpu_time": t, "time_unit": time_unit,
                            "iterations": 10})
        entries.append({"name": name + "_median", "run_name": name, "run_type": "aggregate",
                        "aggregate_name": "median", "real_time": float(np.median(times)),
                        "cpu_time": float(np.median(times)), "time_unit": time_unit})
    path.write_text(json.dumps({"context": {"num_cpus": 2}, "benchmarks": entries}))
    return path


def compare(base, new, *extra):
    return subprocess.run([sys.executable, str(COMPARE), str(base), str(new), *extra], capture_output=True, text=True)


def noisy(rng, median, n=12, spread=0.03):
    return list(median * (1 + spread * rng.standard_normal(n)))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def test_noise_passes(tmp_path, rng):
    base = write_runs(tmp_path / "base.json", {"BM_A/100": noisy(rng, 10.0), "BM_B/8": noisy(rng, 2.0)})
    new = write_runs(tmp_path / "new.json", {"BM_A/100": noisy(rng, 10.0), "BM_B/8": noisy(rng, 2.0)})
    result = compare(base, new)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SLOWER" not in result.stdout


def test_a_30_percent_slowdown_fails(tmp_path, rng):
    base = write_runs(tmp_path / "base.json", {"BM_A/100": noisy(rng, 10.0), "BM_B/8": noisy(rng, 2.0)})
    new = write_runs(tmp_path / "new.json", {"BM_A/100": noisy(rng, 13.0), "BM_B/8": noisy(rng, 2.0)})
    result = compare(base, new)
    assert result.returncode == 1, result.stdout + result.stderr
    line = next(l for l in result.stdout.splitlines() if l.startswith("BM_A/100"))
    assert "SLOWER" in line and "+3" in line
    assert "SLOWER" not in next(l for l in result.stdout.splitlines() if l.startswith("BM_B/8"))


def test_a_speedup_passes(tmp_path, rng):
    base = write_runs(tmp_path / "base.json", {"BM_A/100": noisy(rng, 10.0)})
    new = write_runs(tmp_path / "new.json", {"BM_A/100": noisy(rng, 6.0)})
    result = compare(base, new)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "faster" in result.stdout


def test_a_large_but_noisy_change_is_not_called_a_regression(tmp_path, rng):
    # 15% slower medians but repetitions spread over +-60%: not significant.
    base = write_runs(tmp_path / "base.json", {"BM_A": [5, 16, 8, 14, 10, 6, 15, 9, 12]})
    new = write_runs(tmp_path / "new.json", {"BM_A": [6, 15, 9, 13, 11.5, 7, 16, 8, 14]})
    result = compare(base, new)
    assert result.returncode == 0, result.stdout + result.stderr


def test_too_few_repetitions_are_refused(tmp_path, rng):
    base = write_runs(tmp_path / "base.json", {"BM_A": noisy(rng, 10.0, n=3)})
    new = write_runs(tmp_path / "new.json", {"BM_A": noisy(rng, 10.0, n=12)})
    result = compare(base, new)
    assert result.returncode == 2
    assert "3 repetition(s)" in result.stderr and "--benchmark_repetitions=9" in result.stderr


def test_time_units_are_normalised(tmp_path, rng):
    times = noisy(rng, 10.0)
    base = write_runs(tmp_path / "base.json", {"BM_A": times}, time_unit="ms")
    new = write_runs(tmp_path / "new.json", {"BM_A": [t * 1000 for t in times]}, time_unit="us")
    result = compare(base, new)
    assert result.returncode == 0 and "same" in result.stdout


def test_unusable_input_is_refused(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    other = write_runs(tmp_path / "other.json", {"BM_X": [1.0] * 9})
    assert compare(bad, other).returncode == 2
    disjoint = write_runs(tmp_path / "disjoint.json", {"BM_Y": [1.0] * 9})
    result = compare(other, disjoint)
    assert result.returncode == 2 and "no benchmark in common" in result.stderr
