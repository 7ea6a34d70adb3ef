"""Fixtures of the Python package's tests. Run with PYTHONPATH=BUILD/python (CTest sets it)."""

import os
import pathlib
import subprocess
import sys

import matplotlib
import pytest

matplotlib.use("Agg")  # no display: every figure renders to files

try:
    import coopsweep
except ImportError as error:  # pragma: no cover - a message instead of a wall of import errors
    raise ImportError(f"{error}: build coopsweep (cmake --build BUILD) and run with PYTHONPATH=BUILD/python") from error

SOURCE_DIR = pathlib.Path(os.environ.get("COOPSWEEP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BIN = os.environ.get("COOPSWEEP_BIN", str(SOURCE_DIR / "build" / "coopsweep"))

# A small sweep: 3 x 2 x 2 configurations, 4 replicates; well under a second.
SMALL = {
    "seed": 3,
    "replicates": 4,
    "model": {"firms": 24, "rounds": 30, "window": 10, "defectors": 0.25, "error": 0.02},
    "grid": {"scope": [0.2, 0.6, 1.0], "partners": [2, 4], "topology": ["ring", "regular"]},
}

# The factor by which time limits of the tests stretch: 1, except in sanitizer
# builds, where CTest sets it because the engine runs 5 to 50 times slower
# (ThreadSanitizer) and a "within a second" cannot hold; what the tests check
# besides the time is unchanged.
TIME_SCALE = float(os.environ.get("COOPSWEEP_TEST_TIME_SCALE", "1"))

# One run of this configuration costs about 10 ms of one core: sweeps of it
# run long enough to be interrupted, or to watch other threads run meanwhile.
# Execution errors draw random numbers every round, so the kernel computes all
# 1000 rounds (without them the default model reaches an exact fixed point by
# round ~280 and the rest is replayed at almost no cost).
SLOW = {"firms": 400, "rounds": 1000, "window": 10, "error": 0.01}


@pytest.fixture(scope="session")
def small_file(tmp_path_factory):
    """The SMALL sweep, run once for the session; the file's path."""
    path = tmp_path_factory.mktemp("small") / "small.h5"
    coopsweep.run(SMALL, out=path, progress=False).close()
    return path


@pytest.fixture
def small(small_file):
    """The SMALL sweep's dataset, opened for one test."""
    with coopsweep.open(small_file) as ds:
        yield ds


@pytest.fixture
def cli():
    """Runs the coopsweep command line; returns the CompletedProcess (text mode)."""

    def run(*args, cwd=None, timeout=120):
        return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout)

    return run


@pytest.fixture
def python():
    """Runs this Python in a child process that imports this coopsweep; returns the CompletedProcess."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(pathlib.Path(coopsweep.__file__).parents[1]), env.get("PYTHONPATH", "")] if p)

    def run(*args, cwd=None, timeout=120):
        return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd,
                              timeout=timeout)

    return run
