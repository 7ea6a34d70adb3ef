"""Long calls release the GIL, and Ctrl-C (SIGINT) stops them within a second."""

import os
import signal
import threading
import time

import numpy as np
import pytest

import coopsweep
from conftest import SLOW, TIME_SCALE


class Ticker:
    """A Python thread that records the time every 10 ms while it can run."""

    def __init__(self):
        self.times = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.times.append(time.monotonic())
            time.sleep(0.01)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def during(self, start, end):
        return [t for t in self.times if start <= t <= end]


def _assert_ran_throughout(ticker, start, end):
    ticks = ticker.during(start, end)
    # Holding the GIL for the whole call would allow no tick at all inside it.
    assert len(ticks) >= 10, f"{len(ticks)} ticks in a {end - start:.2f} s call"
    gaps = np.diff([start, *ticks, end])
    assert gaps.max() < 0.5 * TIME_SCALE, f"the other thread stalled for {gaps.max():.2f} s"


def test_simulate_releases_the_gil():
    with Ticker() as ticker:
        start = time.monotonic()
        coopsweep.simulate(replicates=200, **SLOW)
        end = time.monotonic()
    assert end - start > 0.3
    _assert_ran_throughout(ticker, start, end)


def test_run_releases_the_gil(tmp_path):
    spec = {"replicates": 200, "model": SLOW}
    with Ticker() as ticker:
        start = time.monotonic()
        coopsweep.run(spec, out=tmp_path / "slow.h5", progress=False).close()
        end = time.monotonic()
    assert end - start > 0.3
    _assert_ran_throughout(ticker, start, end)


def test_calls_from_two_threads_run_side_by_side(tmp_path):
    results = {}

    def work(name):
        results[name] = coopsweep.simulate(replicates=8, seed=5, firms=60, rounds=100, window=10, threads=1)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(results[0]["payoff"], results[1]["payoff"])


def _interrupt_after(seconds):
    """Sends SIGINT to this process after `seconds`, as Ctrl-C does; returns when it was sent."""
    sent = {}

    def fire():
        sent["at"] = time.monotonic()
        os.kill(os.getpid(), signal.SIGINT)

    threading.Timer(seconds, fire).start()
    return sent


def test_ctrl_c_stops_run_within_a_second_and_leaves_the_partial_file(tmp_path):
    out = tmp_path / "long.h5"
    spec = {"replicates": 5000, "model": SLOW}  # about a minute if it ran to the end
    sent = _interrupt_after(0.5)
    with pytest.raises(KeyboardInterrupt) as info:
        coopsweep.run(spec, out=out, progress=False)
    latency = time.monotonic() - sent["at"]
    assert latency < 1.0 * TIME_SCALE, f"stopped {latency:.2f} s after SIGINT"
    assert "long.h5.partial" in str(info.value) and "completed = 0" in str(info.value)

    partial = tmp_path / "long.h5.partial"
    assert partial.exists() and not out.exists()
    with pytest.warns(coopsweep.IncompleteResultsWarning):
        ds = coopsweep.open(partial)
    with ds:
        assert ds.attrs["completed"] == 0
        cooperation = ds["cooperation"].values
        finished = np.isfinite(cooperation)
        assert 0 < finished.sum() < cooperation.size
        # Runs are written in order: the finished ones are a prefix.
        assert finished[: finished.sum()].all()
    # The partial file blocks a new run into the same path until asked to replace it.
    with pytest.raises(FileExistsError, match="partial"):
        coopsweep.run(spec, out=out, progress=False)


def test_ctrl_c_stops_simulate():
    sent = _interrupt_after(0.3)
    with pytest.raises(KeyboardInterrupt, match="interrupted: stopped after"):
        coopsweep.simulate(replicates=5000, **SLOW)
    assert time.monotonic() - sent["at"] < 1.0 * TIME_SCALE


def test_ctrl_c_with_a_temporary_file_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    _interrupt_after(0.3)
    with pytest.raises(KeyboardInterrupt, match="temporary file, now deleted"):
        coopsweep.run({"replicates": 5000, "model": SLOW}, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_an_exception_in_progress_stops_the_run_like_ctrl_c(tmp_path):
    calls = []

    def progress(done, total):
        calls.append(done)
        raise RuntimeError("stop here")

    start = time.monotonic()
    with pytest.raises(RuntimeError, match="stop here"):
        coopsweep.run({"replicates": 5000, "model": SLOW}, out=tmp_path / "p.h5", progress=progress)
    assert time.monotonic() - start < 5.0 * TIME_SCALE and len(calls) == 1
    assert (tmp_path / "p.h5.partial").exists() and not (tmp_path / "p.h5").exists()


def test_resume_after_an_interrupt_gives_the_uninterrupted_data(tmp_path):
    # SLOW runs (about 0.8 s of one core in all): the first progress call, 50 ms
    # in, must come before the sweep ends. 400 runs of the default model at
    # N = 200, T = 150 took 80 ms of one core (43 ms on 2 threads) once the
    # course path got faster, and the interrupt sometimes came after the file
    # was complete.
    spec = {"seed": 5, "replicates": 40, "model": SLOW, "grid": {"scope": [0.2, 0.8]}}

    def stop_after_first(done, total):
        raise RuntimeError("stop")

    out = tmp_path / "resumed.h5"
    with pytest.raises(RuntimeError, match="stop"):
        coopsweep.run(spec, out=out, progress=stop_after_first, block_size=4)
    assert (tmp_path / "resumed.h5.partial").exists() and not out.exists()
    resumed = coopsweep.run(spec, out=out, resume=True, progress=False)
    whole = coopsweep.run(spec, out=tmp_path / "whole.h5", progress=False)
    with resumed, whole:
        assert resumed.attrs["completed"] == 1
        for name in whole.data_vars:
            np.testing.assert_array_equal(resumed[name].values, whole[name].values)
    other = dict(spec, seed=6)
    (tmp_path / "again.h5.partial").write_bytes((tmp_path / "resumed.h5").read_bytes())
    with pytest.raises((ValueError, OSError)):
        coopsweep.run(other, out=tmp_path / "again.h5", resume=True, progress=False)
