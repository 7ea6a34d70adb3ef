"""Peak memory of a sweep does not grow with its size (issue #5): the runner streams
blocks of runs through a bounded pipeline into the file, so 10 million
configuration-replicates run in the memory of one million, far below 1 GiB.

Peak resident set size is measured by a small Python parent that runs the CLI and
reads its child's ru_maxrss, so nothing beyond the standard library is needed."""

import os
import pathlib
import subprocess
import sys

BIN = os.environ["COOPSWEEP_BIN"]

SPEC = """seed = 3
replicates = 1000
[model]
firms = 6
partners = 2
topology = "ring"
rounds = 4
window = 2
[grid]
scope = {{ start = 0.0, stop = 1.0, num = {scope_points} }}
trust_decay = {{ start = 0.0, stop = 0.4, num = 100 }}
"""

MEASURE = (
    "import resource, subprocess, sys\n"
    "result = subprocess.run(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(result.returncode)\n"
)


def peak_rss_kib(tmp_path: pathlib.Path, scope_points: int) -> int:
    spec = tmp_path / f"sweep-{scope_points}.toml"
    spec.write_text(SPEC.format(scope_points=scope_points))
    out = tmp_path / f"sweep-{scope_points}.h5"
    result = subprocess.run([sys.executable, "-c", MEASURE, BIN, "run", str(spec), "-o", str(out), "-q",
                             "--threads", "2"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert out.exists()
    return int(result.stdout.strip().splitlines()[-1])


def test_ten_million_runs_fit_in_the_memory_of_one_million(tmp_path):
    # Below about 10^6 runs the fixed costs (HDF5 chunk caches, compression
    # buffers of the finishing copy) are not all reached yet, so the baseline is 10^6.
    small = peak_rss_kib(tmp_path, scope_points=10)     # 10^3 configurations, 10^6 runs
    large = peak_rss_kib(tmp_path, scope_points=100)    # 10^4 configurations, 10^7 runs
    print(f"peak RSS: {small / 1024:.1f} MiB for 1e6 runs, {large / 1024:.1f} MiB for 1e7 runs")
    assert large < 1024 * 1024, f"10^7 runs peaked at {large / 1024:.0f} MiB"
    # 10 times the runs may not cost more than 32 MiB more (HDF5 chunk caches,
    # the journal's index): nothing proportional to the number of runs.
    assert large - small < 32 * 1024, f"{small / 1024:.0f} MiB -> {large / 1024:.0f} MiB"
