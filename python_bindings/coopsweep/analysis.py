"""Sensitivity analysis: Sobol' indices and Morris elementary effects.

The designs and the estimators are the engine's (C++), the same that a sweep
with ``[sample] design = "saltelli"`` or ``"morris"`` and ``coopsweep analyze``
use; this module applies them to Python functions and to results datasets.

Functions
---------
sobol_indices
    First-order and total Sobol' indices of a function over a box, with
    bootstrap confidence intervals (Saltelli's design).
morris_indices
    Morris elementary effects (mu*, mu, sigma) of a function over a box.
sobol, morris
    The same for a metric of a saltelli or morris sweep's results.
sample
    The points of a design (lhs, sobol, random, saltelli, morris) over a box.

Examples
--------
>>> import numpy as np
>>> from coopsweep.analysis import sobol_indices
>>> def ishigami(x, a=7.0, b=0.1):
...     return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])
>>> box = {"x1": (-np.pi, np.pi), "x2": (-np.pi, np.pi), "x3": (-np.pi, np.pi)}
>>> result = sobol_indices(ishigami, box, 1024)
>>> round(result.S1["x2"], 1), round(result.ST["x3"], 1)
(0.4, 0.2)
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

from . import _core

if TYPE_CHECKING:
    import pandas
    import xarray

__all__ = ["MorrisResult", "SobolResult", "morris", "morris_indices", "sample", "sobol", "sobol_indices"]

Bounds = Mapping[str, "tuple[float, float]"]
DatasetLike = Union["xarray.Dataset", str, "os.PathLike[str]"]


@dataclass(frozen=True)
class SobolResult:
    """First-order and total Sobol' indices with percentile bootstrap intervals.

    Indexable by parameter name: ``result.S1["scope"]``,
    ``result.ST_conf.loc["scope", "low"]``.
    """

    S1: "pandas.Series"
    """First-order indices (Saltelli et al. 2010), indexed by parameter name."""
    ST: "pandas.Series"
    """Total indices (Jansen 1999), indexed by parameter name."""
    S1_conf: "pandas.DataFrame"
    """Confidence intervals of S1: columns ``low`` and ``high``, one row per parameter."""
    ST_conf: "pandas.DataFrame"
    """Confidence intervals of ST."""
    confidence: float
    """Level of the intervals (0.95 by default)."""
    variance: float
    """Variance of the output over the A and B matrices."""
    base_samples: int
    """Base samples (rows of A and B) used."""
    dropped: int
    """Base samples left out because an output was NaN."""

    @property
    def names(self) -> list[str]:
        """The parameters, in the order of the bounds (the columns of the design)."""
        return list(self.S1.index)

    def to_frame(self) -> "pandas.DataFrame":
        """One row per parameter: S1, S1_low, S1_high, ST, ST_low, ST_high."""
        import pandas as pd

        return pd.DataFrame({"S1": self.S1, "S1_low": self.S1_conf["low"], "S1_high": self.S1_conf["high"],
                             "ST": self.ST, "ST_low": self.ST_conf["low"], "ST_high": self.ST_conf["high"]})

    def __repr__(self) -> str:
        return (f"SobolResult({self.base_samples} base samples, {self.confidence:.0%} intervals)\n"
                f"{self.to_frame().round(4).to_string()}")


@dataclass(frozen=True)
class MorrisResult:
    """Morris elementary effects: mu*, mu and sigma per parameter, effects per whole range."""

    mu_star: "pandas.Series"
    """Mean absolute elementary effect (Campolongo et al. 2007), indexed by parameter name."""
    mu: "pandas.Series"
    """Mean elementary effect."""
    sigma: "pandas.Series"
    """Standard deviation (ddof = 1) of the effects: interactions and non-linearity."""
    mu_star_conf: "pandas.DataFrame"
    """Percentile bootstrap intervals of mu*: columns ``low`` and ``high``."""
    confidence: float
    trajectories: int
    """Trajectories used."""
    dropped: int
    """Trajectories left out because an output was NaN."""

    @property
    def names(self) -> list[str]:
        return list(self.mu_star.index)

    def to_frame(self) -> "pandas.DataFrame":
        """One row per parameter: mu_star, mu_star_low, mu_star_high, mu, sigma."""
        import pandas as pd

        return pd.DataFrame({"mu_star": self.mu_star, "mu_star_low": self.mu_star_conf["low"],
                             "mu_star_high": self.mu_star_conf["high"], "mu": self.mu, "sigma": self.sigma})

    def __repr__(self) -> str:
        return f"MorrisResult({self.trajectories} trajectories)\n{self.to_frame().round(4).to_string()}"


def sample(design: str, bounds: Bounds, n: int, seed: int = 0, *, levels: int = 4) -> np.ndarray:
    """The points of a design over a box, as the engine makes them for a sweep.

    Parameters
    ----------
    design : {"lhs", "sobol", "random", "saltelli", "morris"}
        Latin hypercube, scrambled Sobol' points, uniform random points,
        Saltelli's design for Sobol' indices, or Morris trajectories.
    bounds : mapping of str to (low, high)
        The box, one range per parameter (the columns, in this order).
    n : int
        Points; for "saltelli" the base samples N (N (d + 2) points, N a power
        of 2); for "morris" the trajectories r (r (d + 1) points). "sobol"
        needs a power of 2.
    seed : int, default 0
        The design's seed (a sweep uses its own seed).
    levels : int, default 4
        Levels of the Morris grid (even).

    Returns
    -------
    numpy.ndarray
        (points, d) float64: the unit-cube points mapped linearly onto the
        ranges (real parameters; a sweep also rounds integer ones).

    Raises
    ------
    ValueError
        Bad bounds, a size the design refuses, an unknown design.
    """
    names, low, high = _bounds(bounds)
    n = _integer("n", n, 1, 2**31)
    points = _core.design_points(design, n, len(names), _integer("seed", seed, 0, 2**64 - 1),
                                 _integer("levels", levels, 2, 1024))
    return low + (high - low) * points


def sobol_indices(
    func: Callable[[np.ndarray], Any],
    bounds: Bounds,
    n: int,
    seed: int = 0,
    *,
    bootstrap: int = 1000,
    confidence: float = 0.95,
) -> SobolResult:
    """First-order and total Sobol' indices of a function over a box.

    Evaluates `func` once on Saltelli's design (N (d + 2) points from
    scrambled Sobol' points) and estimates S1 (Saltelli et al. 2010) and ST
    (Jansen 1999), with percentile bootstrap intervals over the base samples.

    Parameters
    ----------
    func : callable
        Maps an (m, d) array (one point per row, columns in the order of
        `bounds`) to m outputs.
    bounds : mapping of str to (low, high)
        The parameters and their ranges; inputs are uniform on each range.
    n : int
        Base samples N, a power of 2 (Sobol' points balance only then).
    seed : int, default 0
        Seed of the scrambling and of the bootstrap.
    bootstrap : int, default 1000
        Bootstrap resamples for the intervals (0: no intervals, NaN).
    confidence : float, default 0.95
        Level of the intervals.

    Returns
    -------
    SobolResult
        ``S1`` and ``ST`` (pandas Series indexed by name), ``S1_conf`` and
        ``ST_conf`` (DataFrames with columns low and high), the variance and
        the base samples used.

    Raises
    ------
    ValueError
        Bad bounds, `n` not a power of 2, outputs of the wrong number, or
        fewer than 2 base samples without NaN outputs.

    Notes
    -----
    Base samples where any output is NaN are left out (``dropped``). The
    engine releases the GIL while it estimates.
    """
    names, low, high = _bounds(bounds)
    n = _integer("n", n, 1, 2**31)
    if n & (n - 1):
        raise ValueError(f"n = {n} is not allowed; allowed: a power of 2 (Sobol' points balance only then), "
                         f"e.g. {1 << (n.bit_length() - 1)} or {1 << n.bit_length()}")
    seed = _integer("seed", seed, 0, 2**64 - 1)
    points = low + (high - low) * _core.design_points("saltelli", n, len(names), seed, 4)
    y = _outputs(func, points)
    raw = _core.sobol_analyze(y, len(names), _integer("bootstrap", bootstrap, 0, 10**7), _level(confidence), seed)
    return _sobol_result(raw, names, confidence)


def morris_indices(
    func: Callable[[np.ndarray], Any],
    bounds: Bounds,
    trajectories: int,
    levels: int = 4,
    seed: int = 0,
    *,
    bootstrap: int = 1000,
    confidence: float = 0.95,
) -> MorrisResult:
    """Morris elementary effects of a function over a box.

    Parameters
    ----------
    func : callable
        Maps an (m, d) array to m outputs, as for `sobol_indices`.
    bounds : mapping of str to (low, high)
    trajectories : int
        Trajectories r; `func` is evaluated at r (d + 1) points.
    levels : int, default 4
        Levels p of the grid (even); each step moves one parameter by
        p / (2 (p - 1)) of its range.
    seed : int, default 0
    bootstrap, confidence
        As for `sobol_indices`; the interval is that of mu*.

    Returns
    -------
    MorrisResult
        mu*, mu, sigma (Series by name; effects are changes of the output per
        whole range of a parameter) and the interval of mu*.
    """
    names, low, high = _bounds(bounds)
    seed = _integer("seed", seed, 0, 2**64 - 1)
    unit = _core.design_points("morris", _integer("trajectories", trajectories, 1, 2**31), len(names), seed,
                               _integer("levels", levels, 2, 1024))
    y = _outputs(func, low + (high - low) * unit)
    raw = _core.morris_analyze(y, unit, _integer("bootstrap", bootstrap, 0, 10**7), _level(confidence), seed)
    return _morris_result(raw, names, confidence)


def sobol(
    ds: DatasetLike,
    metric: str = "cooperation",
    *,
    sel: Optional[Mapping[str, Any]] = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> SobolResult:
    """Sobol' indices of a metric's replicate means in a saltelli sweep.

    Parameters
    ----------
    ds : xarray.Dataset, str or os.PathLike
        Results of a sweep with ``[sample] design = "saltelli"``.
    metric : str, default "cooperation"
        A metric; its ``<metric>_mean`` (over replicates) is analysed.
    sel : mapping, optional
        One value for each grid axis of the sweep, e.g. ``{"topology": "ring"}``.
    bootstrap, confidence, seed
        As for `sobol_indices`; `seed` seeds the bootstrap only.

    Returns
    -------
    SobolResult
        The same numbers ``coopsweep analyze FILE --metric METRIC`` prints.

    Raises
    ------
    ValueError
        Not a saltelli sweep, an unknown metric, or grid axes left unselected.
    """
    with _Opened(ds) as data:
        y = _sample_values(data, metric, sel, "saltelli")
        names = data.attrs["sample_parameters"].split()
    raw = _core.sobol_analyze(y, len(names), _integer("bootstrap", bootstrap, 0, 10**7), _level(confidence),
                              _integer("seed", seed, 0, 2**64 - 1))
    return _sobol_result(raw, names, confidence)


def morris(
    ds: DatasetLike,
    metric: str = "cooperation",
    *,
    sel: Optional[Mapping[str, Any]] = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> MorrisResult:
    """Morris elementary effects of a metric's replicate means in a morris sweep.

    Effects are measured per whole range of each parameter, from the sampled
    values stored in the file (integer parameters as rounded). Arguments and
    errors as for `sobol`.
    """
    import tomllib

    with _Opened(ds) as data:
        y = _sample_values(data, metric, sel, "morris")
        names = data.attrs["sample_parameters"].split()
        ranges = tomllib.loads(data.attrs["spec"])["sample"]["ranges"]
        scaled = np.stack([(np.asarray(data[name].values, dtype=float) - ranges[name][0]) /
                           (ranges[name][1] - ranges[name][0]) for name in names], axis=1)
    raw = _core.morris_analyze(y, scaled, _integer("bootstrap", bootstrap, 0, 10**7), _level(confidence),
                               _integer("seed", seed, 0, 2**64 - 1))
    return _morris_result(raw, names, confidence)


# ---------------------------------------------------------------------------


class _Opened:
    """A dataset as given, or a results file opened (and closed) for the call."""

    def __init__(self, ds: DatasetLike):
        self._given = ds
        self._opened: Optional["xarray.Dataset"] = None

    def __enter__(self) -> "xarray.Dataset":
        if isinstance(self._given, (str, os.PathLike)):
            from . import open as open_results

            self._opened = open_results(self._given)
            return self._opened
        return self._given

    def __exit__(self, *exc: Any) -> None:
        if self._opened is not None:
            self._opened.close()


def _sample_values(data: "xarray.Dataset", metric: str, sel: Optional[Mapping[str, Any]], design: str) -> np.ndarray:
    found = data.attrs.get("sample_design", "none")
    if found != design:
        raise ValueError(f"the dataset holds a '{found}' design; allowed: the results of a sweep with "
                         f"[sample] design = '{design}'")
    name = f"{metric}_mean"
    if name not in data:
        metrics = sorted(v[:-5] for v in data.data_vars if v.endswith("_mean"))
        raise ValueError(f"unknown metric '{metric}'; allowed: {', '.join(metrics)}")
    da = data[name]
    for axis, value in (sel or {}).items():
        if axis not in da.dims or axis == "sample":
            raise ValueError(f"sel names '{axis}', which is not a grid axis; allowed: "
                             f"{', '.join(d for d in da.dims if d != 'sample') or 'none'}")
        da = da.sel({axis: value})
    left = [d for d in da.dims if d != "sample"]
    if left:
        raise ValueError(f"the grid axes {', '.join(left)} remain; allowed: one value of each, "
                         f"e.g. sel={{'{left[0]}': {da[left[0]].values[0]!r}}}")
    return np.asarray(da.values, dtype=float)


def _sobol_result(raw: dict[str, Any], names: list[str], confidence: float) -> SobolResult:
    import pandas as pd

    def conf(pair: tuple[np.ndarray, np.ndarray]) -> "pandas.DataFrame":
        return pd.DataFrame({"low": pair[0], "high": pair[1]}, index=names)

    return SobolResult(S1=pd.Series(raw["S1"], index=names, name="S1"), ST=pd.Series(raw["ST"], index=names, name="ST"),
                       S1_conf=conf(raw["S1_conf"]), ST_conf=conf(raw["ST_conf"]), confidence=float(confidence),
                       variance=float(raw["variance"]), base_samples=int(raw["base_samples"]),
                       dropped=int(raw["dropped"]))


def _morris_result(raw: dict[str, Any], names: list[str], confidence: float) -> MorrisResult:
    import pandas as pd

    low, high = raw["mu_star_conf"]
    return MorrisResult(mu_star=pd.Series(raw["mu_star"], index=names, name="mu_star"),
                        mu=pd.Series(raw["mu"], index=names, name="mu"),
                        sigma=pd.Series(raw["sigma"], index=names, name="sigma"),
                        mu_star_conf=pd.DataFrame({"low": low, "high": high}, index=names),
                        confidence=float(confidence), trajectories=int(raw["trajectories"]),
                        dropped=int(raw["dropped"]))


def _bounds(bounds: Bounds) -> tuple[list[str], np.ndarray, np.ndarray]:
    if not isinstance(bounds, Mapping) or not bounds:
        raise ValueError("bounds must be a non-empty dict of name -> (low, high)")
    names, low, high = [], [], []
    for name, pair in bounds.items():
        try:
            a, b = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ValueError(f"bounds['{name}'] = {pair!r} is not allowed; allowed: (low, high), two numbers") from None
        if not (math.isfinite(a) and math.isfinite(b) and a < b):
            raise ValueError(f"bounds['{name}'] = ({a!r}, {b!r}) is not allowed; allowed: finite low < high")
        names.append(str(name))
        low.append(a)
        high.append(b)
    return names, np.array(low), np.array(high)


def _outputs(func: Callable[[np.ndarray], Any], points: np.ndarray) -> np.ndarray:
    y = np.asarray(func(points), dtype=float).reshape(-1)
    if y.size != len(points):
        raise ValueError(f"func returned {y.size} outputs for {len(points)} points; allowed: one per row")
    return y


def _integer(name: str, value: Any, lower: int, upper: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"'{name}' must be an integer, not {type(value).__name__} ({value!r})")
    if not lower <= int(value) <= upper:
        raise ValueError(f"'{name}' = {value} is not allowed; allowed: an integer, {lower} to {upper}")
    return int(value)


def _level(confidence: Any) -> float:
    if not isinstance(confidence, numbers.Real) or not 0 < float(confidence) < 1:
        raise ValueError(f"confidence = {confidence!r} is not allowed; allowed: a number in (0, 1)")
    return float(confidence)
