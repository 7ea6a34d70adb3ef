"""benchmarks/scaling/cli_scaling.py: it times the CLI at each thread count and
fails when the files of two thread counts differ (seconds, not a measurement)."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

BENCH_DIR = pathlib.Path(os.environ.get("COOPSWEEP_BENCH_DIR", ""))
SOURCE_DIR = pathlib.Path(os.environ.get("COOPSWEEP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
SCRIPT = SOURCE_DIR / "benchmarks" / "scaling" / "cli_scaling.py"


def run_script(coopsweep, spec, out, threads=("1", "2")):
    return subprocess.run([sys.executable, str(SCRIPT), "--coopsweep", str(coopsweep), "--spec", str(spec),
                           "--threads", *threads, "--repetitions", "1", "--json", str(out)],
                          capture_output=True, text=True, timeout=300)


def test_the_cli_at_two_thread_counts_writes_the_same_data(tmp_path):
    coopsweep = (BENCH_DIR.parent / "coopsweep").resolve()
    if not coopsweep.exists():
        pytest.skip(f"{coopsweep} not built")
    spec = tmp_path / "small.toml"
    spec.write_text("seed = 3\nreplicates = 4\n[model]\nerror = 0.01\n[grid]\nscope = [0.25, 0.75]\n")
    result = run_script(coopsweep, spec, tmp_path / "out.json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((tmp_path / "out.json").read_text())
    assert set(data["results"]) == {"1", "2"}
    assert all(r["identical_to_first"] and len(r["seconds"]) == 1 and r["median"] > 0
               for r in data["results"].values())
    assert data["peak_rss_kib"] > 0


def test_files_that_differ_between_thread_counts_fail_the_check(tmp_path):
    # A stand-in for the CLI whose per-replicate data depends on --threads.
    fake = tmp_path / "fake_coopsweep"
    fake.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys, h5py, numpy as np
        args = sys.argv
        threads = int(args[args.index("--threads") + 1])
        with h5py.File(args[args.index("-o") + 1], "w") as f:
            f["cooperation"] = np.full((1, 1, 1, 2), 0.5 if threads == 1 else 0.5 + 1e-16 * threads)
        """))
    fake.chmod(0o755)
    spec = tmp_path / "any.toml"
    spec.write_text("")
    result = run_script(fake, spec, tmp_path / "out.json")
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["results"]["1"]["identical_to_first"] and not data["results"]["2"]["identical_to_first"]
