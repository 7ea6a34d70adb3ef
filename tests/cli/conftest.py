import os
import pathlib
import subprocess

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("COOPSWEEP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BIN = os.environ.get("COOPSWEEP_BIN", str(SOURCE_DIR / "build" / "coopsweep"))


@pytest.fixture
def coopsweep():
    """Runs the CLI and returns the CompletedProcess (text mode)."""

    def run(*args, cwd=None, timeout=300):
        return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout)

    return run


@pytest.fixture
def write_spec(tmp_path):
    def write(text, name="spec.toml"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
