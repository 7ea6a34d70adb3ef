"""The results store seen from outside: crash safety and resume, completion,
inspect, dry runs, provenance, time series and a full disk.

The crash tests kill `coopsweep run` with SIGKILL in the middle of chosen writes
(tear_writes.c, preloaded: it writes half of the chosen write's bytes, then
kills) and at random moments, then resume it, and compare every variable with an
uninterrupted run, bit for bit.
"""

import datetime
import os
import pathlib
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import zlib

import h5py
import numpy as np
import pytest
import xarray as xr

from conftest import BIN, SOURCE_DIR

TEAR_LIB = os.environ.get("COOPSWEEP_TEAR_LIB", str(SOURCE_DIR / "build" / "tests" / "coopsweep_tear_writes.so"))

# 12 configurations x 3 replicates, fermi updating, time series: small enough
# to run dozens of times, with every kind of variable the store writes.
SPEC = """
seed = 11
replicates = 3
[model]
firms = 30
rounds = 40
window = 10
defectors = 0.2
error = 0.05
update_rule = "fermi"
update_every = 5
[grid]
scope = [0.2, 0.5, 0.8]
trust_decay = [0.0, 0.1]
partners = [2, 4]
[output]
timeseries = true
"""
RUNS, REPLICATES, ROUNDS = 36, 3, 40
# Blocks of 2 runs, a checkpoint after each: many writes of each kind.
RUN_OPTIONS = ["-q", "--threads", "2", "--block-size", "2", "--checkpoint-interval", "0"]

# A slower sweep (about a second) for kills at random moments and for live files.
SLOW_SPEC = SPEC.replace("replicates = 3", "replicates = 12").replace("firms = 30", "firms = 80")

METRICS = [
    "cooperation", "trust", "alliances", "payoff", "payoff_gini", "differentiation", "share_conditional",
    "share_cooperator", "share_defector", "freerider_gap", "breakdown_round", "rounds_run",
]
SERIES = ["cooperation_by_round", "trust_by_round", "payoff_by_round", "alliances_by_round"]
PROVENANCE = {"spec_source", "git_commit", "build_type", "compiler", "host_name", "threads", "processes",
              "start_time", "end_time", "wall_time_seconds", "sessions", "history"}


def run(*args, env=None, timeout=120):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout)


def leftovers(out):
    return [p for p in (f"{out}.partial", f"{out}.partial.journal", f"{out}.finishing") if os.path.exists(p)]


def read_all(path):
    with h5py.File(path, "r") as f:
        return {name: f[name][()] for name in f}, dict(f.attrs)


def assert_same_results(reference, path):
    """Every variable bit for bit, every attribute that is not provenance equal."""
    expected, expected_attrs = read_all(reference)
    got, got_attrs = read_all(path)
    assert sorted(got) == sorted(expected)
    for name, values in expected.items():
        assert got[name].dtype == values.dtype and got[name].shape == values.shape, name
        assert got[name].tobytes() == values.tobytes(), name
    for name, value in expected_attrs.items():
        if name not in PROVENANCE:
            assert str(got_attrs[name]) == str(value), name
    assert got_attrs["completed"] == 1


def journal_progress(path):
    """(ready, runs done) from the intact records of a journal, as coopsweep reads it."""
    ready, done = False, 0
    text = pathlib.Path(path).read_bytes()
    for line in text.split(b"\n")[:-1]:  # a last line without newline was cut short
        payload, _, crc = line.rpartition(b" *")
        if format(zlib.crc32(payload), "08x").encode() != crc:
            break
        words = payload.split(b" ")
        ready = ready or words[0] == b"ready"
        if words[0] == b"done":
            done = int(words[1])
    return ready, done


def check_killed_partial(out, reference):
    """A killed run's partial file opens in h5py and xarray, says it is
    incomplete, and holds the reference's values for every run its journal
    records. Returns that number of runs."""
    partial, journal = f"{out}.partial", f"{out}.partial.journal"
    if not (os.path.exists(partial) and os.path.exists(journal)):
        return 0
    ready, done = journal_progress(journal)
    if not ready:
        return 0
    expected, _ = reference
    with h5py.File(partial, "r") as f:
        assert f.attrs["completed"] == 0
        for name in METRICS:
            assert f[name][()].reshape(-1)[:done].tobytes() == expected[name].reshape(-1)[:done].tobytes(), name
            configurations = done // REPLICATES
            for summary in (f"{name}_mean", f"{name}_std"):
                assert (f[summary][()].reshape(-1)[:configurations].tobytes() ==
                        expected[summary].reshape(-1)[:configurations].tobytes()), summary
        for name in SERIES:
            assert (f[name][()].reshape(RUNS, ROUNDS)[:done].tobytes() ==
                    expected[name].reshape(RUNS, ROUNDS)[:done].tobytes()), name
    with xr.open_dataset(partial, engine="h5netcdf") as ds:
        assert ds.attrs["completed"] == 0
        assert ds["cooperation"].dims == ("scope", "trust_decay", "partners", "replicate")
    return done


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """The spec and an uninterrupted run of it (the reference), shared by the crash tests."""
    directory = tmp_path_factory.mktemp("store")
    spec = directory / "spec.toml"
    spec.write_text(SPEC)
    reference = directory / "reference.h5"
    result = run("run", spec, "-o", reference, *RUN_OPTIONS)
    assert result.returncode == 0, result.stderr
    return spec, reference, read_all(reference)


def tear_env(suffix, at=None, count_file=None):
    if not os.path.exists(TEAR_LIB):
        pytest.skip(f"the write-tearing library {TEAR_LIB} is not built (target coopsweep_tear_writes)")
    env = dict(os.environ, LD_PRELOAD=TEAR_LIB, COOPSWEEP_TEAR_SUFFIX=suffix)
    if at is not None:
        env["COOPSWEEP_TEAR_AT"] = str(at)
    if count_file is not None:
        env["COOPSWEEP_TEAR_COUNT"] = str(count_file)
    return env


def count_writes(spec, directory, suffix):
    out = directory / "count.h5"
    counts = directory / "count.txt"
    result = run("run", spec, "-o", out, *RUN_OPTIONS, env=tear_env(suffix, count_file=counts))
    assert result.returncode == 0, result.stderr
    os.remove(out)
    return int(counts.read_text().split()[-1])


@pytest.mark.parametrize("suffix", [".partial", ".partial.journal", ".finishing"])
def test_sigkill_in_the_middle_of_a_write_then_resume_gives_the_uninterrupted_data(sweep, tmp_path, suffix):
    spec, reference, expected = sweep
    writes = count_writes(spec, tmp_path, suffix)
    assert writes >= 3, writes
    points = sorted({1, 2, writes // 3, writes // 2, 2 * writes // 3, writes - 1, writes})
    for at in points:
        out = tmp_path / f"torn-{at}.h5"
        result = run("run", spec, "-o", out, *RUN_OPTIONS, env=tear_env(suffix, at=at))
        assert result.returncode == -signal.SIGKILL, (at, result.returncode, result.stderr)
        if out.exists():  # killed after the rename, as the partial file was closed: complete already
            assert_same_results(reference, out)
        check_killed_partial(out, expected)
        result = run("run", spec, "-o", out, *RUN_OPTIONS, "--resume")
        assert result.returncode == 0, (at, result.stderr)
        assert_same_results(reference, out)
        assert leftovers(out) == []


def test_a_resume_killed_again_mid_write_still_ends_identical(sweep, tmp_path):
    spec, reference, expected = sweep
    out = tmp_path / "twice.h5"
    result = run("run", spec, "-o", out, *RUN_OPTIONS, env=tear_env(".partial.journal", at=6))
    assert result.returncode == -signal.SIGKILL
    first = check_killed_partial(out, expected)
    result = run("run", spec, "-o", out, *RUN_OPTIONS, "--resume", env=tear_env(".partial", at=3))
    assert result.returncode == -signal.SIGKILL
    assert check_killed_partial(out, expected) >= first
    result = run("run", spec, "-o", out, *RUN_OPTIONS, "--resume")
    assert result.returncode == 0, result.stderr
    assert_same_results(reference, out)
    with h5py.File(out, "r") as f:
        assert f.attrs["sessions"] == 3
        assert len(f.attrs["history"].splitlines()) == 3


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_at_random_moments_then_resume_gives_the_uninterrupted_data(tmp_path, seed):
    spec = tmp_path / "slow.toml"
    spec.write_text(SLOW_SPEC)
    reference = tmp_path / "reference.h5"
    options = ["-q", "--threads", "2", "--block-size", "1", "--checkpoint-interval", "0"]
    started = time.monotonic()
    assert run("run", spec, "-o", reference, *options).returncode == 0
    duration = time.monotonic() - started
    expected = read_all(reference)

    rng = random.Random(seed)
    out = tmp_path / "killed.h5"
    kills, resume = 0, []
    while True:
        process = subprocess.Popen([BIN, "run", spec, "-o", out, *options, *resume],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        resume = ["--resume"]
        try:
            process.wait(timeout=rng.uniform(0.0, 0.7) * duration if kills < 6 else 120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            kills += 1
            if out.exists():
                # The kill landed after the final rename, as the process exited:
                # the sweep had finished, and the file must be the complete one.
                break
            if os.path.exists(f"{out}.partial.journal") and journal_progress(f"{out}.partial.journal")[0]:
                with h5py.File(f"{out}.partial", "r") as f:
                    assert f.attrs["completed"] == 0
                    done = journal_progress(f"{out}.partial.journal")[1]
                    assert (f["payoff"][()].reshape(-1)[:done].tobytes() ==
                            expected[0]["payoff"].reshape(-1)[:done].tobytes())
            continue
        assert process.returncode == 0, process.stderr.read()
        if kills == 0:  # finished before the first kill (a fast moment): start over
            out.unlink()
            resume = []
            continue
        break
    assert_same_results(reference, out)


# SIGTERM (Slurm's pre-emption, kill) and SIGINT (Ctrl-C) alike: the blocks in
# hand finish, are written and checkpointed, the file stays marked incomplete,
# and the exit is 130 with a message that says how to continue.
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_stops_after_a_checkpoint_and_resume_finishes(tmp_path, stop_signal):
    spec = tmp_path / "slow.toml"
    spec.write_text(SLOW_SPEC)
    out = tmp_path / "stopped.h5"
    process = subprocess.Popen([BIN, "run", spec, "-o", out, "-q", "--threads", "2", "--block-size", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    journal = f"{out}.partial.journal"
    deadline = time.monotonic() + 30
    while not (os.path.exists(journal) and journal_progress(journal)[0]) and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(stop_signal)
    _, stderr = process.communicate(timeout=60)
    if process.returncode == 0:
        pytest.skip(f"the sweep finished before {stop_signal.name} arrived")
    assert process.returncode == 130, stderr
    assert "--resume" in stderr and f"{out}.partial" in stderr
    ready, done = journal_progress(journal)
    assert ready and done >= 0
    # Every run delivered before the stop was flushed and recorded, none lost.
    assert f"coopsweep: interrupted (stopped after {done} of {RUNS * 4} runs)" in stderr, stderr
    assert "marked incomplete" in stderr
    with h5py.File(f"{out}.partial", "r") as f:
        assert f.attrs["completed"] == 0
        assert not np.isnan(f["rounds_run"][()].reshape(-1)[:done]).any()
    result = run("run", spec, "-o", out, "--threads", "2", "--resume")
    assert result.returncode == 0, result.stderr
    if done > 0:
        assert f"after {done} of {RUNS * 4} runs" in result.stderr
    reference = tmp_path / "reference.h5"
    assert run("run", spec, "-o", reference, "-q").returncode == 0
    assert_same_results(reference, out)


def test_resume_refuses_another_spec_or_engine_version_and_touches_nothing(sweep, tmp_path):
    spec, _, _ = sweep
    out = tmp_path / "partial.h5"
    result = run("run", spec, "-o", out, *RUN_OPTIONS, env=tear_env(".partial.journal", at=8))
    assert result.returncode == -signal.SIGKILL
    partial, journal = pathlib.Path(f"{out}.partial"), pathlib.Path(f"{out}.partial.journal")

    def refused(spec_text, *needles):
        other = tmp_path / "other.toml"
        other.write_text(spec_text)
        before = partial.read_bytes(), journal.read_bytes()
        result = run("run", other, "-o", out, "--resume")
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        for needle in ("cannot resume", str(partial), "--force to start over", *needles):
            assert needle in lines[0], (needle, lines[0])
        assert (partial.read_bytes(), journal.read_bytes()) == before
        assert not out.exists()

    refused(SPEC.replace("seed = 11", "seed = 12"), "seed = 11, this run has seed = 12")
    refused(SPEC.replace("firms = 30", "firms = 31"), "firms = 30, this run has firms = 31")
    refused(SPEC.replace("partners = [2, 4]", "partners = [2, 6]"), "grid axis 'partners' has other values")
    refused(SPEC.replace("replicates = 3", "replicates = 4"), "replicates = 3, this run has replicates = 4")
    refused(SPEC.replace("timeseries = true", "timeseries = false"), "timeseries = 1, this run has timeseries = 0")

    # Files written by another engine version (edited here to look like one).
    version = run("--version").stdout.split()[1]
    with h5py.File(partial, "r+") as f:
        f.attrs.modify("engine_version", "0.0.1")
    refused(SPEC, f"engine_version = '0.0.1', this run has engine_version = '{version}'")
    with h5py.File(partial, "r+") as f:
        f.attrs.modify("engine_version", version)
        f.attrs.modify("model_version", np.int64(0))
    refused(SPEC, "model_version = 0, this run has model_version = 1")


def test_what_stands_in_the_way_of_a_run(sweep, tmp_path):
    spec, _, _ = sweep
    out = tmp_path / "out.h5"
    result = run("run", spec, "-o", out, "--resume", "--force")
    assert result.returncode == 2 and "--resume and --force exclude each other" in result.stderr

    result = run("run", spec, "-o", out, *RUN_OPTIONS, env=tear_env(".partial", at=40))
    assert result.returncode == -signal.SIGKILL
    result = run("run", spec, "-o", out, "-q")
    assert result.returncode == 2
    assert "from an interrupted run exists" in result.stderr and "--resume" in result.stderr

    journal = pathlib.Path(f"{out}.partial.journal")
    saved = journal.read_bytes()
    journal.unlink()
    result = run("run", spec, "-o", out, "--resume")
    assert result.returncode == 2, result.stderr
    assert "has no journal" in result.stderr and "--force" in result.stderr
    assert not journal.exists()
    journal.write_bytes(saved)

    result = run("run", spec, "-o", out, "-q", "--force")
    assert result.returncode == 0, result.stderr
    assert leftovers(out) == []


def test_resume_of_a_finished_file_does_nothing_and_resume_of_nothing_runs(sweep, tmp_path):
    spec, reference, _ = sweep
    out = tmp_path / "fresh.h5"
    result = run("run", spec, "-o", out, *RUN_OPTIONS, "--resume")  # nothing to resume: a plain run
    assert result.returncode == 0, result.stderr
    assert_same_results(reference, out)
    before = out.read_bytes()
    result = run("run", spec, "-o", out, "--resume")
    assert result.returncode == 0, result.stderr
    assert "already complete" in result.stdout
    assert out.read_bytes() == before
    other = tmp_path / "other.toml"
    other.write_text(SPEC.replace("seed = 11", "seed = 1"))
    result = run("run", other, "-o", out, "--resume")
    assert result.returncode == 2 and "seed = 11, this run has seed = 1" in result.stderr
    assert out.read_bytes() == before


def test_a_live_sweep_can_be_inspected_and_is_not_written_twice(tmp_path):
    spec = tmp_path / "slow.toml"
    spec.write_text(SLOW_SPEC)
    out = tmp_path / "live.h5"
    process = subprocess.Popen([BIN, "run", spec, "-o", out, "-q", "--threads", "2", "--block-size", "1",
                                "--checkpoint-interval", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        journal = f"{out}.partial.journal"
        deadline = time.monotonic() + 30
        while not (os.path.exists(journal) and journal_progress(journal)[1] > 0) and time.monotonic() < deadline:
            time.sleep(0.01)
        if process.poll() is not None:
            pytest.skip("the sweep finished before it could be inspected")
        inspected = run("inspect", f"{out}.partial")
        second = run("run", spec, "-o", out, "--resume")
    finally:
        process.kill()
        process.wait()
    assert inspected.returncode == 0, inspected.stderr
    assert "status: incomplete (completed = 0)" in inspected.stdout
    assert "a sweep is writing it now" in inspected.stdout
    assert second.returncode == 2
    assert "another coopsweep process is writing" in second.stderr


def test_inspect_tells_dimensions_metrics_provenance_completion_and_progress(sweep, tmp_path):
    spec, reference, _ = sweep
    result = run("inspect", reference)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "status: complete (completed = 1): 36 runs, 12 configurations" in text
    assert "dimensions: scope = 3, trust_decay = 2, partners = 2, replicate = 3, round = 40" in text
    assert ("variables (scope x trust_decay x partners x replicate), each with <name>_mean and <name>_std "
            "over replicates:\n  cooperation            share of directed") in text
    assert "variables (scope x trust_decay x partners x replicate x round):\n  cooperation_by_round" in text
    assert "  payoff_by_round        payoff per firm in the round [value per firm per round]" in text
    assert "cooperation_mean" not in text
    for name in ("engine_version", "git_commit", "compiler", "host_name", "start_time", "wall_time_seconds"):
        assert re.search(rf"^  {name} +\S", text, re.M), name
    assert "parameters (not swept): firms = 30" in text
    assert "  | seed = 11" in text

    out = tmp_path / "killed.h5"
    result = run("run", spec, "-o", out, *RUN_OPTIONS, env=tear_env(".partial.journal", at=10))
    assert result.returncode == -signal.SIGKILL
    _, done = journal_progress(f"{out}.partial.journal")
    for argument in (out, f"{out}.partial"):  # the final name finds the partial file
        result = run("inspect", argument)
        assert result.returncode == 0, result.stderr
        assert f"file: {out}.partial" in result.stdout
        assert (f"status: incomplete (completed = 0): {done} of 36 runs stored ({100 * done / 36:.1f}%), "
                f"{done // 3} of 12 configurations") in result.stdout
        assert "1 session" in result.stdout and "--resume" in result.stdout

    for bad in (tmp_path / "missing.h5", spec):
        result = run("inspect", bad)
        assert result.returncode == 2
        assert str(bad) in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_dry_run_estimates_and_writes_nothing(sweep, tmp_path):
    spec, _, _ = sweep
    out = tmp_path / "dry.h5"
    result = run("run", spec, "-o", out, "--dry-run", "--threads", "2")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "12 configurations x 3 replicates = 36 runs" in text
    assert re.search(r"time: about [0-9.e+-]+ s on 2 threads \(calibrated on \d+ runs", text)
    assert re.search(r"file: about [0-9.]+ [kMG]?B when finished", text)
    assert "time series: 46.1 kB of the uncompressed size (4 series x 40 rounds per run)" in text
    assert "nothing was run or written" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == []

    result = run("run", spec, "-o", out, *RUN_OPTIONS, env=tear_env(".partial.journal", at=10))
    assert result.returncode == -signal.SIGKILL
    _, done = journal_progress(f"{out}.partial.journal")
    before = sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir())
    result = run("run", spec, "-o", out, "--dry-run", "--resume")
    assert result.returncode == 0, result.stderr
    assert f"({done} done in '{out}.partial', {36 - done} left)" in result.stdout
    assert sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.iterdir()) == before
    result = run("run", spec, "-o", out, "--dry-run")  # a real run would be refused, so is the dry run
    assert result.returncode == 2 and "--resume" in result.stderr


def test_provenance_attributes_of_a_run(sweep, tmp_path):
    spec, reference, _ = sweep
    _, attrs = read_all(reference)
    assert attrs["spec"] == SPEC
    assert attrs["spec_source"] == str(spec)
    assert attrs["seed"] == 11 and attrs["replicates"] == 3
    version = run("--version").stdout.split()
    assert attrs["engine_version"] == version[1]
    assert attrs["model_version"] == 1
    commit = attrs["git_commit"]
    assert commit == "unknown" or re.fullmatch(r"[0-9a-f]{40}(-dirty)?", commit), commit
    if commit != "unknown" and shutil.which("git"):
        exists = subprocess.run(["git", "-C", str(SOURCE_DIR), "cat-file", "-e", commit.split("-")[0] + "^{commit}"],
                                capture_output=True)
        assert exists.returncode == 0, commit
    assert attrs["build_type"] in ("Release", "Debug", "RelWithDebInfo", "MinSizeRel", "")
    assert re.fullmatch(r"\S+ [0-9.]+", attrs["compiler"]), attrs["compiler"]
    assert attrs["host_name"] == socket.gethostname()
    assert attrs["threads"] == 2 and attrs["processes"] == 1 and attrs["sessions"] == 1
    start = datetime.datetime.strptime(attrs["start_time"], "%Y-%m-%dT%H:%M:%SZ")
    end = datetime.datetime.strptime(attrs["end_time"], "%Y-%m-%dT%H:%M:%SZ")
    assert start <= end <= datetime.datetime.utcnow() + datetime.timedelta(seconds=5)
    assert 0 < attrs["wall_time_seconds"] < 120
    assert "runs 0 to 36 of 36" in attrs["history"] and commit in attrs["history"]
    assert attrs["timeseries"] == 1 and attrs["completed"] == 1
    # The full resolved parameter set: each parameter is an axis or an attribute.
    listing = run("parameters").stdout.split("\n\nmetrics")[0].splitlines()[1:]
    names = [line.split()[0] for line in listing if line.strip()]
    assert len(names) == 30
    axes = attrs["grid_axes"].split()
    for name in names:
        assert (name in axes) != (name in attrs), name
    assert attrs["update_rule"] == "fermi" and attrs["update_every"] == 5 and attrs["rewire"] == 0.1


def test_variables_have_long_names_and_units(sweep):
    _, reference, _ = sweep
    with xr.open_dataset(reference, engine="h5netcdf") as ds:
        for name in METRICS + SERIES:
            for variable in ([name, f"{name}_mean", f"{name}_std"] if name in METRICS else [name]):
                assert ds[variable].attrs["long_name"], variable
        assert ds["payoff"].attrs["units"] == "value per firm per round"
        assert ds["payoff_by_round"].attrs["units"] == "value per firm per round"
        assert ds["rounds_run"].attrs["units"] == "rounds"
        assert "units" not in ds["cooperation"].attrs  # dimensionless
        assert ds["scope"].attrs["long_name"]
        assert list(ds["round"].values) == list(range(1, ROUNDS + 1))


def test_timeseries_warn_above_their_limit_and_still_run(tmp_path):
    spec = tmp_path / "series.toml"
    spec.write_text(SPEC + "timeseries_limit_gb = 0.00001\n")
    result = run("run", spec, "-o", tmp_path / "series.h5", "-q")
    assert result.returncode == 0
    assert result.stderr.startswith("coopsweep: warning: the time series")
    assert "about 4.61e-05 GB" in result.stderr and "timeseries_limit_gb = 1e-05" in result.stderr
    with xr.open_dataset(tmp_path / "series.h5", engine="h5netcdf") as ds:
        window = ds["cooperation_by_round"].isel(round=slice(ROUNDS - 10, ROUNDS)).mean("round")
        np.testing.assert_allclose(window.values, ds["cooperation"].values, rtol=0, atol=1e-12)
    result = run("run", spec, "-o", tmp_path / "bad.h5", "-q", "--dry-run")
    assert "warning" in result.stderr
    spec.write_text(SPEC + "timeseries_limit_gb = 0\n")
    result = run("run", spec, "-o", tmp_path / "bad.h5")
    assert result.returncode == 2 and "'[output] timeseries_limit_gb'" in result.stderr


# ---------------------------------------------------------------------------
# A full disk: a tmpfs just large enough for the partial file

@pytest.fixture
def tmpfs(tmp_path):
    """Mounts a small tmpfs and yields a function that (re)sizes it; skips
    where mounting is not allowed."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount(8) here: cannot make a small full disk")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here (needs root and the mount capability): "
                    + result.stderr.strip())

    def resize(size):
        subprocess.run(["mount", "-o", f"remount,size={size}", str(mount_point)], check=True)

    try:
        yield mount_point, resize
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_a_full_disk_fails_clearly_keeps_finished_runs_and_resumes(sweep, tmp_path, tmpfs):
    spec, reference, expected = sweep
    disk, resize = tmpfs
    # The partial file's exact size, from a run killed as it starts the finished file.
    probe = tmp_path / "probe.h5"
    result = run("run", spec, "-o", probe, *RUN_OPTIONS, env=tear_env(".finishing", at=1))
    assert result.returncode == -signal.SIGKILL
    partial_size = os.path.getsize(f"{probe}.partial")
    final_size = os.path.getsize(reference)
    margin = 64 * 1024  # for the journal; far less than the finished file needs
    assert final_size > 2 * margin

    # Too small even for the partial file: nothing is left, nothing is complete.
    resize(partial_size // 2)
    out = disk / "results.h5"
    result = run("run", spec, "-o", out, "-q")
    assert result.returncode == 1, result.stderr
    assert "No space left on device" in result.stderr
    assert list(disk.iterdir()) == []

    # Room for the partial file but not for the finished one.
    resize(partial_size + margin)
    result = run("run", spec, "-o", out, "-q", "--threads", "2")
    assert result.returncode == 1, result.stderr
    assert "No space left on device" in result.stderr
    assert f"finished runs are kept in '{out}.partial'" in result.stderr and "--resume" in result.stderr
    assert not out.exists() and not os.path.exists(f"{out}.finishing")
    assert journal_progress(f"{out}.partial.journal") == (True, RUNS)
    assert check_killed_partial(out, expected) == RUNS  # every finished block readable, marked incomplete

    resize(partial_size + 2 * final_size + margin)
    result = run("run", spec, "-o", out, "--resume")
    assert result.returncode == 0, result.stderr
    assert f"after {RUNS} of {RUNS} runs" in result.stderr  # nothing ran again
    assert_same_results(reference, out)
    assert leftovers(out) == []


# ---------------------------------------------------------------------------
# An unwritable output directory. Tests run as root in CI, and chmod does not
# stop root: there a read-only tmpfs does (the kernel refuses writes to a
# read-only mount whoever asks, EROFS); as another user, chmod 0555 does.

@pytest.fixture
def unwritable_dir(tmp_path):
    """Yields (directory, make_writable, make_unwritable): a directory this
    process cannot write to, and functions that change that; skips where
    neither a mount nor permissions can make one."""
    directory = tmp_path / "locked"
    directory.mkdir()
    if os.geteuid() != 0:
        def lock():
            directory.chmod(0o555)

        def unlock():
            directory.chmod(0o755)
    else:
        if shutil.which("mount") is None:
            pytest.skip("running as root without mount(8): no way to make a directory root cannot write")
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(directory)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip("running as root where mounting a tmpfs is not permitted (needs the mount capability), "
                        "so no directory root cannot write: " + result.stderr.strip())

        def lock():
            subprocess.run(["mount", "-o", "remount,ro", str(directory)], check=True, capture_output=True)

        def unlock():
            subprocess.run(["mount", "-o", "remount,rw", str(directory)], check=True, capture_output=True)
    lock()
    try:
        assert not os.access(directory, os.W_OK)
        with pytest.raises(OSError):
            (directory / "probe").write_text("x")
        yield directory, unlock, lock
    finally:
        if os.geteuid() != 0:
            unlock()
        else:
            subprocess.run(["umount", "-l", str(directory)], capture_output=True)


def test_an_unwritable_output_directory_is_refused_before_anything_runs(sweep, unwritable_dir):
    spec, _, _ = sweep
    directory, _, _ = unwritable_dir
    out = directory / "results.h5"
    for extra in ([], ["--dry-run"], ["--resume"], ["--force"]):
        result = run("run", spec, "-o", out, "-q", *extra)
        assert result.returncode == 2, (extra, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert f"output directory '{directory}' is not writable" in lines[0]
        assert ("Read-only file system" if os.geteuid() == 0 else "Permission denied") in lines[0]
        assert "allowed:" in lines[0]
    assert list(directory.iterdir()) == []


def test_an_output_path_under_a_regular_file_is_refused(sweep, tmp_path):
    spec, _, _ = sweep
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a directory should be\n")
    result = run("run", spec, "-o", blocker / "results.h5", "-q")
    assert result.returncode == 2, result.stderr
    assert f"output directory '{blocker}' is not a directory; allowed: an existing directory" in result.stderr
    assert blocker.read_text() == "a file where a directory should be\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-directory"]


def test_a_directory_made_read_only_after_a_kill_refuses_the_resume_then_resumes(sweep, unwritable_dir):
    # A file system remounted read-only after a crash (ext4's errors=remount-ro).
    spec, reference, expected = sweep
    directory, unlock, lock = unwritable_dir
    unlock()
    out = directory / "results.h5"
    result = run("run", spec, "-o", out, *RUN_OPTIONS, env=tear_env(".partial.journal", at=10))
    assert result.returncode == -signal.SIGKILL
    done = check_killed_partial(out, expected)
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    lock()
    result = run("run", spec, "-o", out, *RUN_OPTIONS, "--resume")
    assert result.returncode == 2 and "is not writable" in result.stderr, result.stderr
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before
    unlock()
    result = run("run", spec, "-o", out, *RUN_OPTIONS[1:], "--resume")  # not quiet: it says where it resumes
    assert result.returncode == 0, result.stderr
    if done > 0:
        assert f"after {done} of {RUNS} runs" in result.stderr
    assert_same_results(reference, out)
    assert leftovers(out) == []


@pytest.mark.parametrize("error, text", [(30, "Read-only file system"), (5, "Input/output error")])
@pytest.mark.parametrize("suffix", [".partial", ".partial.journal"])
def test_writes_that_start_failing_mid_run_fail_clearly_and_the_sweep_resumes(sweep, tmp_path, suffix, error, text):
    # The disk goes read-only or bad under a running sweep: every write to the
    # file from the chosen one on fails with that errno (tear_writes.c).
    spec, reference, expected = sweep
    writes = count_writes(spec, tmp_path, suffix)
    out = tmp_path / "failing.h5"
    env = dict(tear_env(suffix, at=writes // 2), COOPSWEEP_TEAR_ERRNO=str(error))
    result = run("run", spec, "-o", out, *RUN_OPTIONS, env=env)
    assert result.returncode == 1, result.stderr
    assert text in result.stderr, result.stderr
    assert result.stderr.startswith("coopsweep: error: ")
    assert not out.exists()
    done = check_killed_partial(out, expected)  # what the journal promises is there, marked incomplete
    assert done < RUNS
    result = run("run", spec, "-o", out, *RUN_OPTIONS, "--resume")
    assert result.returncode == 0, result.stderr
    assert_same_results(reference, out)
    assert leftovers(out) == []


# ---------------------------------------------------------------------------
# The partial file or its journal deleted or truncated between the
# interruption and the --resume: the resume refuses, naming what is wrong and
# touching nothing, or continues from what the journal can still vouch for;
# never a crash, never wrong data.

def killed_run(spec, out, at=12):
    result = run("run", spec, "-o", out, *RUN_OPTIONS, env=tear_env(".partial.journal", at=at))
    assert result.returncode == -signal.SIGKILL
    return pathlib.Path(f"{out}.partial"), pathlib.Path(f"{out}.partial.journal")


def assert_refused_untouched(spec, out, *needles):
    partial, journal = pathlib.Path(f"{out}.partial"), pathlib.Path(f"{out}.partial.journal")
    before = [p.read_bytes() if p.exists() else None for p in (partial, journal)]
    result = run("run", spec, "-o", out, *RUN_OPTIONS, "--resume")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for needle in ("cannot resume", "--force to start over", *needles):
        assert needle in lines[0], (needle, lines[0])
    assert [p.read_bytes() if p.exists() else None for p in (partial, journal)] == before
    assert not out.exists()


def test_a_partial_file_deleted_before_the_resume_is_refused_and_force_starts_over(sweep, tmp_path):
    spec, reference, expected = sweep
    out = tmp_path / "deleted.h5"
    partial, journal = killed_run(spec, out)
    _, done = journal_progress(journal)
    assert done > 0
    partial.unlink()
    assert_refused_untouched(spec, out, "the file is missing", f"records {done} finished runs")
    result = run("run", spec, "-o", out, *RUN_OPTIONS, "--force")
    assert result.returncode == 0, result.stderr
    assert_same_results(reference, out)
    assert leftovers(out) == []


@pytest.mark.parametrize("keep", ["nothing", "the first 512 bytes", "half", "all but the last byte"])
def test_a_partial_file_truncated_before_the_resume_is_refused_and_force_starts_over(sweep, tmp_path, keep):
    spec, reference, expected = sweep
    out = tmp_path / "truncated.h5"
    partial, journal = killed_run(spec, out)
    size = partial.stat().st_size
    length = {"nothing": 0, "the first 512 bytes": 512, "half": size // 2, "all but the last byte": size - 1}[keep]
    os.truncate(partial, length)
    assert_refused_untouched(spec, out, str(partial), "truncated or damaged")
    result = run("inspect", partial)  # inspect says it cannot read it, and does not crash
    assert result.returncode == 2 and str(partial) in result.stderr
    result = run("run", spec, "-o", out, *RUN_OPTIONS, "--force")
    assert result.returncode == 0, result.stderr
    assert_same_results(reference, out)
    assert leftovers(out) == []


def test_a_journal_truncated_before_the_resume_continues_from_what_it_still_records(sweep, tmp_path):
    spec, reference, expected = sweep
    template = tmp_path / "template.h5"
    partial, journal = killed_run(spec, template, at=14)
    saved_partial, saved_journal = partial.read_bytes(), journal.read_bytes()
    ends = [i + 1 for i, byte in enumerate(saved_journal) if byte == ord("\n")]
    assert len(ends) >= 4, saved_journal
    # Empty; within the first record; after each whole record; within the last one.
    cuts = sorted({0, ends[0] // 2, *ends, ends[-1] - 3})
    for cut in cuts:
        out = tmp_path / f"cut-{cut}.h5"
        pathlib.Path(f"{out}.partial").write_bytes(saved_partial)
        pathlib.Path(f"{out}.partial.journal").write_bytes(saved_journal[:cut])
        ready, done = journal_progress(f"{out}.partial.journal")
        if cut < ends[0]:
            # Not even the header is intact, so nothing records which runs are
            # stored: refused, as without a journal.
            assert_refused_untouched(spec, out, "has no journal")
            continue
        # With the header but before `ready`, the layout is not vouched for and
        # the sweep starts afresh; after it, it continues from the last `done`.
        result = run("run", spec, "-o", out, *RUN_OPTIONS[1:], "--resume")  # not quiet
        assert result.returncode == 0, (cut, result.stderr)
        if ready and done > 0:
            assert f"after {done} of {RUNS} runs" in result.stderr, (cut, result.stderr)
        assert_same_results(reference, out)
        assert leftovers(out) == []
