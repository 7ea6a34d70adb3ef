"""Shards, merge and MPI runs of the coopsweep command line, compared with a
single-process run by cluster/compare_results.py (h5py): every dataset bit for
bit, dimensions, storage and attributes; root attributes but provenance."""

import importlib.util
import os
import pathlib
import random
import re
import shutil
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("COOPSWEEP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BIN = os.environ.get("COOPSWEEP_BIN", str(SOURCE_DIR / "build" / "coopsweep"))
MPI_BIN = os.environ.get("COOPSWEEP_MPI_BIN", "")
MPIRUN = shutil.which("mpirun")
# As root (containers, CI) Open MPI needs --allow-run-as-root; --oversubscribe
# lets 2 or 3 ranks share fewer cores.
MPIRUN_FLAGS = ["--allow-run-as-root", "--oversubscribe"] if os.geteuid() == 0 else ["--oversubscribe"]

_spec = importlib.util.spec_from_file_location("compare_results", SOURCE_DIR / "cluster" / "compare_results.py")
compare_results = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_results)

SPEC = """
seed = 21
replicates = 5
[model]
firms = 24
window = 6
error = 0.03
defectors = 0.2
[grid]
rounds = [12, 20]
scope = [0.1, 0.4, 0.7, 1.0]
topology = ["ring", "random"]
[output]
timeseries = true
"""
RUNS = 2 * 4 * 2 * 5

# About two seconds on two cores: long enough to stop in the middle.
SLOW_SPEC = """
seed = 4
replicates = 6
[model]
firms = 400
rounds = 200
window = 20
error = 0.05
[grid]
scope = { start = 0.0, stop = 1.0, num = 10 }
trust_decay = [0.0, 0.05, 0.1]
"""

# #9's designs through the cluster paths: a Saltelli design crossed with a
# grid axis, with series (its `sample` dimension and coordinates), and
# adaptive replication (replicates_run per configuration, NaN slots).
SAMPLED_SPEC = """
seed = 8
replicates = 3
[model]
firms = 16
window = 5
[grid]
topology = ["ring", "random"]
[sample]
design = "saltelli"
samples = 4
[sample.ranges]
scope = [0.0, 1.0]
rounds = [8, 16]
[output]
timeseries = true
"""

ADAPTIVE_SPEC = """
seed = 5
[model]
firms = 16
rounds = 12
window = 4
error = 0.05
[grid]
scope = [0.2, 0.5, 0.8]
defectors = [0.0, 0.3]
[replication]
target_ci = 0.05
metrics = ["cooperation"]
min = 4
max = 16
step = 4
"""

needs_mpi = pytest.mark.skipif(
    not MPI_BIN or not MPIRUN,
    reason="no MPI: needs mpirun (Debian openmpi-bin) and an MPI build of coopsweep "
           "(-DCOOPSWEEP_MPI=ON, or build/mpi/coopsweep of a default build where Open MPI is installed)")


def run(*args, timeout=180, env=None):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def mpirun(ranks, *args, timeout=180):
    return subprocess.run([MPIRUN, *MPIRUN_FLAGS, "-np", str(ranks), MPI_BIN, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def assert_identical(reference, path):
    assert compare_results.differences(str(reference), str(path)) == []


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cluster")
    spec = directory / "spec.toml"
    spec.write_text(SPEC)
    reference = directory / "single.h5"
    result = run("run", spec, "-o", reference, "-q", "--threads", 2)
    assert result.returncode == 0, result.stderr
    return spec, reference


def make_shards(spec, directory, count, name="part"):
    paths = []
    for index in range(count):
        path = directory / f"{name}-{index}.h5"
        result = run("run", spec, "--shard", f"{index}/{count}", "-o", path, "-q", "--threads", 1)
        assert result.returncode == 0, result.stderr
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------
# The comparison itself must be able to fail.

def test_compare_results_sees_one_changed_bit_and_ignores_provenance(sweep, tmp_path):
    spec, reference = sweep
    copy = tmp_path / "copy.h5"
    shutil.copy(reference, copy)
    with h5py.File(copy, "r+") as f:
        f.attrs["host_name"] = "elsewhere"
        f.attrs["history"] = "another history"
    assert_identical(reference, copy)
    with h5py.File(copy, "r+") as f:
        values = f["payoff_by_round"][()]
        flat = values.reshape(-1)
        at = int(np.flatnonzero(np.isfinite(flat))[37])
        flat[at] = np.nextafter(flat[at], np.inf)  # one ulp
        f["payoff_by_round"][()] = values
        f.attrs["seed"] = 22
    found = compare_results.differences(str(reference), str(copy))
    assert any("payoff_by_round: 1 of" in line for line in found)
    assert any("root attribute seed" in line for line in found)
    tool = subprocess.run(["/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3",
                           SOURCE_DIR / "cluster" / "compare_results.py", reference, copy],
                          capture_output=True, text=True)
    assert tool.returncode == 1 and "payoff_by_round" in tool.stdout


# ---------------------------------------------------------------------------
# Shards and merge

@pytest.mark.parametrize("count", [1, 3, 7, RUNS])
def test_shards_merged_in_any_order_give_the_single_run(sweep, tmp_path, count):
    spec, reference = sweep
    shards = make_shards(spec, tmp_path, count)
    random.Random(count).shuffle(shards)
    out = tmp_path / "merged.h5"
    result = run("merge", *shards, "-o", out)
    assert result.returncode == 0, result.stderr
    assert f"merged {count} shards" in result.stdout
    assert_identical(reference, out)
    with h5py.File(out, "r") as f:
        assert f.attrs["processes"] == count
        assert f.attrs["history"].count("\n") >= count  # every shard's session, then the merge
        assert f"merge of {count} shards" in f.attrs["history"]


def test_a_shard_file_holds_its_runs_along_run(sweep, tmp_path):
    spec, reference = sweep
    shard = make_shards(spec, tmp_path, 3)[1]
    with h5py.File(shard, "r") as f, h5py.File(reference, "r") as whole:
        runs = f["run"][()]
        assert f.attrs["shard_index"] == 1 and f.attrs["shard_count"] == 3
        assert "replicate" not in f and "cooperation_mean" not in f
        assert f["cooperation"].dims[0][0].name == "/run"
        assert len(runs) == RUNS // 3 + (1 if RUNS % 3 > 1 else 0)
        np.testing.assert_array_equal(f["payoff"][()], whole["payoff"][()].reshape(-1)[runs])
        np.testing.assert_array_equal(f["trust_by_round"][()],
                                      whole["trust_by_round"][()].reshape(RUNS, -1)[runs])


def test_a_shard_without_output_gets_a_name_of_its_own(sweep, tmp_path):
    spec, _ = sweep
    local = tmp_path / "sweep.toml"
    local.write_text(SPEC + 'path = "res.h5"\n')
    result = subprocess.run([BIN, "run", local, "--shard", "2/4", "-q"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "res.shard-2-of-4.h5").exists()
    assert not (tmp_path / "res.h5").exists()


@pytest.mark.parametrize("shard, needle", [
    ("3/3", "--shard '3/3' is not I/N with 0 <= I < N"),
    ("one/3", "--shard 'one/3' is not I/N"),
    ("0/81", "the sweep has only 80 runs; allowed: at most 80 shards"),
])
def test_bad_shards_exit_2_with_one_line(sweep, tmp_path, shard, needle):
    spec, _ = sweep
    out = tmp_path / "x.h5"
    result = run("run", spec, "--shard", shard, "-o", out)
    assert result.returncode == 2
    assert needle in result.stderr and result.stderr.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_merge_refuses_bad_sets_of_shards_with_exit_2(sweep, tmp_path):
    spec, reference = sweep
    shards = make_shards(spec, tmp_path, 3)
    other_spec = tmp_path / "other.toml"
    other_spec.write_text(SPEC.replace("seed = 21", "seed = 99"))
    other = make_shards(other_spec, tmp_path, 3, name="other")
    two = make_shards(spec, tmp_path, 2, name="two")
    unfinished = tmp_path / "unfinished.h5"
    # A shard killed at its start leaves only its partial file.
    (tmp_path / "unfinished.h5.partial").write_bytes(b"")
    out = tmp_path / "merged.h5"
    cases = [
        ([shards[0], shards[2]], "1 of 3 shards missing: shard 1 of 3"),
        ([shards[0], shards[1], shards[1], shards[2]], f"'{shards[1]}' and '{shards[1]}' are both shard 1/3"),
        ([shards[0], other[1], shards[2]], f"are of different sweeps: seed = 21 in '{shards[0]}', 99 in '{other[1]}'"),
        ([shards[0], two[1], shards[2]], f"'{shards[0]}' is 0/3 but '{two[1]}' is 1/2"),
        ([shards[0], unfinished, shards[2]], f"shard '{unfinished}' is unfinished: only '{unfinished}.partial' exists"),
        ([shards[0], reference, shards[2]], f"'{reference}' is not a shard"),
        ([shards[0], tmp_path / "none.h5", shards[2]], f"shard '{tmp_path / 'none.h5'}' does not exist"),
    ]
    for given, needle in cases:
        result = run("merge", *given, "-o", out)
        assert result.returncode == 2, (given, result.stderr)
        assert needle in result.stderr, result.stderr
        assert result.stderr.startswith("coopsweep: error: ") and result.stderr.count("\n") == 1
        assert not out.exists() and not pathlib.Path(f"{out}.partial").exists()
    # An existing output needs --force; the usage needs -o and shards.
    out.write_bytes(b"keep")
    result = run("merge", *shards, "-o", out)
    assert result.returncode == 2 and "exists; allowed: a new path, or --force" in result.stderr
    assert out.read_bytes() == b"keep"
    assert run("merge", *shards).returncode == 2
    assert run("merge", "-o", out).returncode == 2
    result = run("merge", *shards, "-o", out, "--force", "-q")
    assert result.returncode == 0, result.stderr
    assert_identical(reference, out)


def test_a_build_without_mpi_refuses_to_run_once_per_rank(sweep, tmp_path):
    spec, _ = sweep
    env = dict(os.environ, OMPI_COMM_WORLD_RANK="0", OMPI_COMM_WORLD_SIZE="2")
    version = run("--version")
    if "with MPI" in version.stdout:
        pytest.skip("build/coopsweep is an MPI build (-DCOOPSWEEP_MPI=ON)")
    result = run("run", spec, "-o", tmp_path / "x.h5", env=env)
    assert result.returncode == 2
    assert "built without MPI" in result.stderr and "--shard I/N" in result.stderr
    assert not (tmp_path / "x.h5.partial").exists()


# ---------------------------------------------------------------------------
# MPI

@needs_mpi
@pytest.mark.parametrize("ranks", [2, 3])
def test_mpirun_writes_one_file_with_the_single_run_data(sweep, tmp_path, ranks):
    spec, reference = sweep
    out = tmp_path / "mpi.h5"
    result = mpirun(ranks, "run", spec, "-o", out, "--threads", 1, "--block-size", 2)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_identical(reference, out)
    # Dynamic assignment: every rank computed blocks, rank 0 included.
    line = next(l for l in result.stdout.splitlines() if l.startswith("blocks per rank"))
    counts = [(int(b), int(r)) for _, b, r in re.findall(r"(\d+): (\d+) \((\d+) runs", line)]
    assert len(counts) == ranks and all(b > 0 for b, _ in counts), line
    assert sum(b for b, _ in counts) == RUNS // 2 and sum(r for _, r in counts) == RUNS
    with h5py.File(out, "r") as f:
        assert f.attrs["processes"] == ranks
        assert f"MPI over {ranks} ranks" in f.attrs["history"]
    assert not [p for p in tmp_path.iterdir() if p.name != "mpi.h5"]


@needs_mpi
def test_mpirun_shards_merge_to_the_single_run(sweep, tmp_path):
    spec, reference = sweep
    shards = []
    for index in range(2):
        shards.append(tmp_path / f"s{index}.h5")
        result = mpirun(2, "run", spec, "--shard", f"{index}/2", "-o", shards[-1], "-q", "--threads", 1)
        assert result.returncode == 0, result.stderr
    result = run("merge", *shards, "-o", tmp_path / "merged.h5", "-q")
    assert result.returncode == 0, result.stderr
    assert_identical(reference, tmp_path / "merged.h5")


@needs_mpi
def test_mpirun_bad_input_exits_2_on_every_rank_with_one_message(sweep, tmp_path):
    spec, _ = sweep
    out = tmp_path / "exists.h5"
    out.write_bytes(b"keep")
    result = mpirun(2, "run", spec, "-o", out)
    assert result.returncode == 2
    assert result.stderr.count("coopsweep: error: output file") == 1
    assert out.read_bytes() == b"keep"
    result = mpirun(2, "run", tmp_path / "missing.toml", "-o", tmp_path / "y.h5")
    assert result.returncode == 2 and result.stderr.count("coopsweep: error:") == 1


@needs_mpi
def test_mpirun_refuses_a_sweep_too_large_for_the_memory_before_any_file(sweep, tmp_path):
    spec, _ = sweep
    out = tmp_path / "too-large.h5"
    result = mpirun(2, "run", spec, "-o", out, "--memory-limit", "0.000001")
    assert result.returncode == 2, result.stderr
    assert "allowed: at most" in result.stderr and "memory limit" in result.stderr
    assert list(tmp_path.iterdir()) == []


def journal_runs(path):
    """Runs the journal of a partial file records as done (0 if none yet)."""
    try:
        lines = pathlib.Path(f"{path}.partial.journal").read_text().splitlines()
    except FileNotFoundError:
        return 0
    done = [int(line.split()[1]) for line in lines if line.startswith("done ")]
    return max(done, default=0)


def children(pid):
    """Process ids whose parent is `pid`."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def stop_midway(command, out):
    """Starts `command` (mpirun), and once the journal records some runs sends
    SIGTERM to every rank, as Slurm's scancel or a time limit does (mpirun
    itself forwards a SIGTERM only a second later, then kills); waits for it."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while journal_runs(out) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    for pid in children(process.pid):
        os.kill(pid, signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    return stdout + stderr


@needs_mpi
def test_an_mpi_run_stopped_midway_resumes_under_mpi_or_alone(tmp_path):
    spec = tmp_path / "slow.toml"
    spec.write_text(SLOW_SPEC)
    reference = tmp_path / "single.h5"
    assert run("run", spec, "-o", reference, "-q").returncode == 0
    total = 10 * 3 * 6
    for ranks_after in (2, 0):
        out = tmp_path / f"resumed-{ranks_after}.h5"
        output = stop_midway([MPIRUN, *MPIRUN_FLAGS, "-np", "2", MPI_BIN, "run", spec, "-o", out,
                              "--threads", "1", "--block-size", "2", "--checkpoint-interval", "0"], out)
        if out.exists():
            pytest.fail(f"the run finished before it could be stopped; make SLOW_SPEC slower\n{output}")
        done = journal_runs(out)
        assert 0 < done < total, output
        assert "interrupted" in output and "--resume" in output
        if ranks_after:
            result = mpirun(ranks_after, "run", spec, "-o", out, "--resume", "--threads", 1)
        else:  # the partial file of an MPI run, finished by one process
            result = subprocess.run([MPI_BIN, "run", spec, "-o", out, "--resume"], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"after {done} of {total} runs" in result.stderr
        assert_identical(reference, out)
        with h5py.File(out, "r") as f:
            assert f.attrs["sessions"] == 2


def test_help_tells_of_shards_merge_and_mpi():
    merge = run("merge", "--help")
    assert merge.returncode == 0 and "Usage" in merge.stdout
    assert "exits with status 2" in merge.stdout
    usage = run("run", "--help").stdout
    assert "--shard" in usage and "coopsweep merge" in usage and "mpirun -np R" in usage


# ---------------------------------------------------------------------------
# Sampled designs and adaptive replication

@pytest.fixture(scope="module")
def designs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("designs")
    out = {}
    for name, text in (("sampled", SAMPLED_SPEC), ("adaptive", ADAPTIVE_SPEC)):
        spec = directory / f"{name}.toml"
        spec.write_text(text)
        reference = directory / f"{name}-single.h5"
        result = run("run", spec, "-o", reference, "-q", "--threads", 2)
        assert result.returncode == 0, result.stderr
        out[name] = (spec, reference)
    return out


def test_a_sampled_design_in_shards_merges_to_the_single_run(designs, tmp_path):
    spec, reference = designs["sampled"]
    with h5py.File(reference, "r") as f:
        assert f["cooperation"].dims[1][0].name == "/sample" and f["cooperation"].shape == (2, 16, 3)
        assert "scope" in f and f["scope"].shape == (f["sample"].shape[0],)
    shards = make_shards(spec, tmp_path, 3)
    with h5py.File(shards[0], "r") as f:
        assert "run" in f and "sample" not in f and f.attrs["sample_design"] == "saltelli"
    out = tmp_path / "merged.h5"
    result = run("merge", *reversed(shards), "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    assert_identical(reference, out)


def test_adaptive_replication_cannot_be_sharded_exit_2(designs, tmp_path):
    spec, _ = designs["adaptive"]
    out = tmp_path / "part.h5"
    result = run("run", spec, "--shard", "0/2", "-o", out)
    assert result.returncode == 2
    assert "adaptive replication ([replication]) cannot be sharded" in result.stderr
    assert result.stderr.count("coopsweep: error:") == 1
    assert not list(tmp_path.iterdir())


@needs_mpi
def test_mpirun_runs_sampled_and_adaptive_designs_as_one_process(designs, tmp_path):
    for name in ("sampled", "adaptive"):
        spec, reference = designs[name]
        out = tmp_path / f"{name}-mpi.h5"
        result = mpirun(2, "run", spec, "-o", out, "--threads", 1, "--block-size", 4)
        assert result.returncode == 0, result.stdout + result.stderr
        assert_identical(reference, out)
    with h5py.File(tmp_path / "adaptive-mpi.h5", "r") as f:
        counts = f["replicates_run"][()]
        assert counts.min() >= 4 and counts.max() <= 16 and (counts % 4 == 0).all()
    result = mpirun(2, "run", designs["adaptive"][0], "--shard", "1/2", "-o", tmp_path / "s.h5")
    assert result.returncode == 2 and result.stderr.count("cannot be sharded") == 1
