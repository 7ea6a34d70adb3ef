"""examples/quickstart.ipynb runs clean under nbclient, and the README's Python examples run."""

import asyncio
import os
import pathlib
import re

import nbclient
import nbformat
import pytest

from conftest import SOURCE_DIR

NOTEBOOK = SOURCE_DIR / "examples" / "quickstart.ipynb"
README = SOURCE_DIR / "README.md"
PNG = b"\x89PNG\r\n\x1a\n"


def test_the_committed_notebook_is_valid_and_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_the_quickstart_notebook_runs_clean(tmp_path, monkeypatch):
    import coopsweep

    # The kernel is a child process: it finds this coopsweep through PYTHONPATH.
    package_root = str(pathlib.Path(coopsweep.__file__).parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in [package_root, os.environ.get("PYTHONPATH")] if p))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    asyncio.run(client.async_execute())  # raises CellExecutionError, with the traceback, on any error

    outputs = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stderr")
    assert "coopsweep run" in stderr and "2640/2640" in stderr  # the progress bar (text without ipywidgets)
    assert not re.search(r"Traceback|Warning", stderr), stderr
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2
    for name in ["quickstart.h5", "quickstart-phase.png", "quickstart-payoff.png"]:
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "quickstart-phase.png").read_bytes().startswith(PNG)


def test_the_readme_shows_committed_figures():
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README.read_text())
    assert "docs/quickstart-phase.png" in images and "docs/quickstart-payoff.png" in images
    for image in images:
        assert (SOURCE_DIR / image).read_bytes().startswith(PNG), image


def _python_section_blocks():
    text = README.read_text()
    section = text[text.index("\n## Python\n"):]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readme_python_examples_run(tmp_path, monkeypatch):
    blocks = _python_section_blocks()
    assert blocks
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "quickstart.toml").write_text((SOURCE_DIR / "examples" / "quickstart.toml").read_text())
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - the README's own examples
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
