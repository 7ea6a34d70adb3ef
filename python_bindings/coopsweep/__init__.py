"""Parameter sweeps of a co-opetitive network model, from Python.

Firms cooperate with their alliance partners on a share of their activities
(the cooperation *scope*) and compete on the rest; trust grows, breaks and
decays; free riders take without giving; alliances dissolve. The engine is
C++ (oneTBB, HDF5); this package runs it and opens what it writes as
`xarray.Dataset` objects.

Functions
---------
simulate
    Replicates of one configuration, as NumPy arrays.
run
    A full-factorial sweep (a spec file, TOML text or a dict) into an HDF5
    results file, opened as an `xarray.Dataset`.
open
    A results file as an `xarray.Dataset`.
defaults, parameters, metrics
    The model's parameters, their domains and defaults, and the metrics.
plot
    Module of figures: `plot.phase` (heatmaps), `plot.lines`, `plot.sobol`
    and `plot.morris`.
analysis
    Module of sensitivity analysis: `analysis.sobol_indices(func, bounds, n)`,
    `analysis.morris_indices`, and `analysis.sobol` / `analysis.morris` for
    the results of saltelli and morris sweeps.

Examples
--------
>>> import coopsweep
>>> out = coopsweep.simulate(replicates=4, scope=0.8, topology="ring")
>>> out["cooperation"].shape
(4,)
"""

from __future__ import annotations

import numbers
import os
import pathlib
import shutil
import tempfile
import warnings
from typing import TYPE_CHECKING, Any, NamedTuple, Optional, Union

import numpy as np

from . import _core
from ._progress import ProgressLike, Reporter
from ._spec import SpecLike, spec_text, to_toml

if TYPE_CHECKING:
    import xarray

    from . import analysis, plot

__all__ = [
    "IncompleteResultsWarning",
    "Metric",
    "Parameter",
    "analysis",
    "defaults",
    "metrics",
    "model_version",
    "open",
    "parameters",
    "plot",
    "run",
    "simulate",
    "to_toml",
]

__version__: str = _core.engine_version
#: Version of the model specification (MODEL.md) this engine implements.
model_version: int = _core.model_version

PathLike = Union[str, "os.PathLike[str]"]


class IncompleteResultsWarning(UserWarning):
    """A results file from an interrupted run was opened: unwritten values are NaN."""


class Parameter(NamedTuple):
    """One model parameter, as listed by `parameters`."""

    name: str
    """Name in specs, `simulate` keywords and file attributes."""
    symbol: str
    """Symbol in MODEL.md (empty for names without one)."""
    kind: str
    """``"integer"``, ``"real"``, ``"boolean"`` or ``"choice"``."""
    domain: str
    """The allowed values, as MODEL.md writes them."""
    default: Union[int, float, bool, str]
    """The value used when a spec or call does not set it."""
    meaning: str
    """One line on what it is."""
    choices: tuple[str, ...]
    """The allowed names of a ``"choice"`` parameter, else empty."""


class Metric(NamedTuple):
    """One metric of a run, as listed by `metrics`."""

    name: str
    long_name: str
    units: str


def parameters() -> list[Parameter]:
    """Every model parameter: name, symbol, kind, domain, default and meaning.

    Returns
    -------
    list of Parameter
        In the order of MODEL.md's parameter table. Each item is a named tuple,
        so ``pandas.DataFrame(coopsweep.parameters())`` makes a table of them.

    See Also
    --------
    defaults : only the default values.

    Examples
    --------
    >>> scope = next(p for p in coopsweep.parameters() if p.name == "scope")
    >>> scope.domain, scope.default
    ('[0, 1]', 0.5)
    """
    return [Parameter(*row) for row in _core.parameter_table()]


def defaults() -> dict[str, Union[int, float, bool, str]]:
    """The default value of every model parameter.

    Returns
    -------
    dict
        ``{name: default}`` in MODEL.md's order; integers as `int`, reals as
        `float`, choices as `str` (``topology="regular"``), flags as `bool`.

    Examples
    --------
    >>> coopsweep.defaults()["firms"]
    100
    """
    return {p.name: p.default for p in parameters()}


def metrics() -> list[Metric]:
    """Every metric a run reports: name, description and units.

    Returns
    -------
    list of Metric
        In the order `simulate` returns them and results files store them.
    """
    return [Metric(*row) for row in _core.metric_table()]


def simulate(
    replicates: int = 1,
    seed: int = 0,
    threads: Optional[int] = None,
    *,
    configuration: int = 0,
    progress: ProgressLike = False,
    **params: Union[int, float, bool, str],
) -> dict[str, np.ndarray]:
    """Run replicates of one configuration of the model.

    Parameters
    ----------
    replicates : int, default 1
        Number of independent replicates, 1 to 2**32.
    seed : int, default 0
        Sweep seed, 0 to 2**64 - 1.
    threads : int, optional
        Worker threads; all cores when None. Results do not depend on it.
    configuration : int, default 0
        Configuration index in the random streams. With a sweep's seed and the
        row-major index of one of its grid points, this reproduces that grid
        point of the sweep to the bit.
    progress : bool or callable, default False
        True shows a tqdm bar (a widget in Jupyter); a callable is called
        with ``(done, total)`` replicates from this thread while it runs.
    **params
        Any model parameter by name (see `parameters`), e.g. ``scope=0.8``,
        ``topology="ring"``; the others take their defaults.

    Returns
    -------
    dict of str to numpy.ndarray
        One float64 array of length `replicates` per metric (see `metrics`),
        in stored order; NaN where a metric is undefined (``payoff_gini``,
        ``freerider_gap``). The arrays are rows of one (metrics, replicates)
        array, handed over from the engine without a copy.

    Raises
    ------
    ValueError
        An unknown parameter (with the nearest name), a value outside its
        domain, or a rule of MODEL.md broken (``partners <= firms - 1``,
        ...); the message names the parameter, the value and what is allowed.
    TypeError
        A value of a type no parameter takes (None, a list, ...).
    KeyboardInterrupt
        Ctrl-C (SIGINT) while it runs; it stops within about a second.

    Notes
    -----
    Releases the GIL while the engine runs: other Python threads keep running.

    Examples
    --------
    >>> out = coopsweep.simulate(replicates=8, seed=1, scope=0.8, partners=6)
    >>> out["cooperation"].mean()  # doctest: +SKIP
    0.79...
    """
    replicates = _integer("replicates", replicates, 1, int(_core.max_replicates))
    seed = _integer("seed", seed, 0, 2**64 - 1)
    configuration = _integer("configuration", configuration, 0, 2**63 - 1)
    assignments = [(name, _scalar(value)) for name, value in params.items()]
    reporter = Reporter(progress, "coopsweep simulate")
    try:
        values = _core.simulate(assignments, replicates, seed, configuration, _threads(threads), reporter.callback)
    finally:
        reporter.close()
    return {metric.name: values[m] for m, metric in enumerate(metrics())}


def run(
    spec: SpecLike,
    out: Optional[PathLike] = None,
    threads: Optional[int] = None,
    progress: ProgressLike = True,
    resume: bool = False,
    *,
    overwrite: bool = False,
    block_size: Optional[int] = None,
) -> "xarray.Dataset":
    """Run a sweep and return its results as an `xarray.Dataset`.

    Parameters
    ----------
    spec : str, os.PathLike or dict
        The sweep: a spec file's path, TOML text (a `str` holding a newline,
        ``=`` or ``[``; other strings are paths), or a dict shaped like the
        file, e.g. ``{"seed": 1, "replicates": 8, "model": {"firms": 50},
        "grid": {"scope": [0.2, 0.8], "trust_decay": {"start": 0, "stop": 0.2,
        "num": 5}}}``. A dict is written as TOML, and that text is what the
        file stores in its ``spec`` attribute.
    out : str or os.PathLike, optional
        The results file (HDF5). When None, the spec's ``[output] path`` is
        used if it has one (relative to the working directory, as on the
        command line); else the sweep goes to a temporary file that is loaded
        into memory and deleted.
    threads : int, optional
        Worker threads; all cores when None. Results do not depend on it.
    progress : bool or callable, default True
        True shows a tqdm bar: a widget in Jupyter (a text line where
        ipywidgets is missing), else a line on stderr for calls longer than a
        second. A callable is called with ``(done, total)`` runs from this
        thread while the sweep runs; an exception it raises stops the sweep
        like Ctrl-C does, and propagates.
    resume : bool, default False
        Continue an interrupted sweep from ``out + ".partial"`` (its journal
        says which runs are stored): the file ends with exactly the data an
        uninterrupted run writes. A partial file from another spec, seed or
        engine version is refused with ValueError; with nothing to resume the
        sweep starts afresh, and a complete `out` of the same spec is returned
        as it is.
    overwrite : bool, default False
        Replace an existing `out` (and a partial file beside it).
    block_size : int, optional
        Runs per scheduling block; chosen from the cost of a run when None.
        Results do not depend on it.

    Returns
    -------
    xarray.Dataset
        Dimensions: one per grid axis, in the spec's order, then ``sample``
        for a ``[sample]`` design (with one coordinate per sampled parameter
        along it), and ``replicate``. Variables: each metric, dims (axes...,
        replicate), and its replicate ``<metric>_mean`` and ``<metric>_std``,
        dims (axes...); with ``[replication]``, ``replicates_run`` per
        configuration (the rest of the replicates are NaN). Attributes: the
        spec, seed, versions, the design and every fixed parameter. Opened lazily from
        `out` (close it, or use ``with``), or in memory for a temporary file.

    Raises
    ------
    ValueError
        A bad spec: malformed TOML, an unknown key or parameter, a value
        outside its domain, a bad configuration in the grid. The message names
        the parameter, the value and what is allowed. Nothing is created.
    FileExistsError
        `out`, or a partial file from an interrupted run, exists and
        `overwrite` is False.
    OSError
        The results file cannot be written (a missing directory, a full disk).
    KeyboardInterrupt
        Ctrl-C (SIGINT): the sweep stops within about a second, after writing
        the blocks in flight. ``out + ".partial"`` stays, readable with what
        finished and marked ``completed = 0``; the message names it. (With a
        temporary file, nothing stays.)

    Notes
    -----
    Releases the GIL while the engine runs, taking it only briefly every
    50 ms to report progress and to run Python's signal handlers. Ctrl-C
    reaches a call made from the main thread (where Python handles signals).

    Examples
    --------
    >>> ds = coopsweep.run({"replicates": 4, "grid": {"scope": [0.2, 0.8]}}, progress=False)
    >>> ds["cooperation_mean"].sizes
    Frozen({'scope': 2})
    """
    if not isinstance(overwrite, bool):
        raise TypeError(f"overwrite must be True or False, not {overwrite!r}")
    threads_ = _threads(threads)
    block_size_ = 0 if block_size is None else _integer("block_size", block_size, 1, 2**62)
    text, source = spec_text(spec)
    if not isinstance(resume, bool):
        raise TypeError(f"resume must be True or False, not {resume!r}")
    if resume and overwrite:
        raise ValueError("resume=True and overwrite=True contradict each other; allowed: one of them")
    summary = _core.check_spec(text, source)

    chosen = out if out is not None else (summary["output_path"] or None)
    if chosen is not None:
        path = pathlib.Path(os.fspath(chosen)).expanduser()
        partial = path.with_name(path.name + ".partial")
        if not overwrite and not resume:
            if path.exists():
                raise FileExistsError(f"output file '{path}' exists; allowed: a new path, or overwrite=True")
            if partial.exists():
                raise FileExistsError(f"partial file '{partial}' from an interrupted run exists; allowed: "
                                      "overwrite=True to discard it")
        _execute(text, source, path, overwrite, resume, threads_, block_size_, progress)
        return open(path)

    directory = tempfile.mkdtemp(prefix="coopsweep-")
    try:
        path = pathlib.Path(directory) / "results.h5"
        try:
            _execute(text, source, path, False, False, threads_, block_size_, progress)
        except KeyboardInterrupt as interrupt:
            stopped = str(interrupt).split("; finished runs are in")[0] or "interrupted"
            raise KeyboardInterrupt(f"{stopped}; the sweep went to a temporary file, now deleted "
                                    "(pass out=PATH to keep the runs that finish)") from None
        with open(path) as ds:
            return ds.load()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _execute(text: str, source: str, path: pathlib.Path, overwrite: bool, resume: bool, threads: int,
             block_size: int, progress: ProgressLike) -> None:
    reporter = Reporter(progress, "coopsweep run")
    try:
        _core.run_spec(text, source, str(path), overwrite, resume, threads, block_size, reporter.callback)
    finally:
        reporter.close()


def open(path: PathLike) -> "xarray.Dataset":  # noqa: A001 - coopsweep.open, like xarray.open_dataset
    """Open a results file as an `xarray.Dataset`.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by `run` or ``coopsweep run``; a ``.partial`` file of an
        interrupted run opens too.

    Returns
    -------
    xarray.Dataset
        Opened lazily with the h5netcdf engine: values are read when used.
        Close it when done (``ds.close()``), or use ``with coopsweep.open(p) as ds:``.

    Raises
    ------
    FileNotFoundError
        No file at `path` (the message mentions a partial file beside it).
    OSError
        The file is not a results file HDF5 can read.

    Warns
    -----
    IncompleteResultsWarning
        The file is from an interrupted run (``completed = 0``): values of runs
        that did not finish are NaN.
    """
    import xarray as xr

    path = pathlib.Path(os.fspath(path)).expanduser()
    if not path.exists():
        partial = path.with_name(path.name + ".partial")
        hint = f"; an interrupted run left '{partial}'" if partial.exists() else ""
        raise FileNotFoundError(f"results file '{path}' does not exist{hint}")
    ds = xr.open_dataset(path, engine="h5netcdf")
    if not int(ds.attrs.get("completed", 1)):
        warnings.warn(f"'{path}' is from an interrupted run (completed = 0): values of unfinished runs are NaN",
                      IncompleteResultsWarning, stacklevel=2)
    return ds


def _integer(name: str, value: Any, lower: int, upper: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"'{name}' must be an integer, not {type(value).__name__} ({value!r})")
    value = int(value)
    if not lower <= value <= upper:
        raise ValueError(f"'{name}' = {value} is not allowed; allowed: an integer, {lower} to {upper}")
    return value


def _threads(threads: Optional[int]) -> int:
    return 0 if threads is None else _integer("threads", threads, 1, 4096)


def _scalar(value: Any) -> Any:
    """NumPy scalars as the Python scalars the engine takes; others unchanged."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def __getattr__(name: str) -> Any:
    # coopsweep.plot imports matplotlib, which takes a while: only when used
    # (and coopsweep.analysis, pandas, alike).
    if name in ("plot", "analysis"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'coopsweep' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"plot", "analysis"})
