"""Figures of sweep results (matplotlib): phase diagrams and lines with confidence bands.

Functions
---------
phase
    A heatmap of a metric's replicate mean over two grid axes.
lines
    A metric's replicate mean against one axis, one line per value of another,
    with confidence bands.
sobol, morris
    Sensitivity indices (`coopsweep.analysis`) as bars with their intervals.

Both take a dataset from `coopsweep.run` or `coopsweep.open` (or a results
file's path) and return the matplotlib ``Axes`` they drew on. The command line
``coopsweep plot FILE --x ... [--y ... | --hue ...] --metric ... -o fig.png``
runs `main`, which is also ``python -m coopsweep.plot``.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

if TYPE_CHECKING:
    import matplotlib.axes
    import xarray

__all__ = ["lines", "main", "morris", "phase", "sobol"]

DatasetLike = Union["xarray.Dataset", str, "os.PathLike[str]"]


def phase(
    ds: DatasetLike,
    x: str = "scope",
    y: str = "trust_decay",
    metric: str = "cooperation",
    *,
    sel: Optional[Mapping[str, Any]] = None,
    ax: Optional["matplotlib.axes.Axes"] = None,
    cmap: str = "viridis",
    vmin: Optional[float] = None,
    vmax: Optional[float] = None,
    colorbar: bool = True,
    **kwargs: Any,
) -> "matplotlib.axes.Axes":
    """Phase diagram: a metric's replicate mean as a heatmap over two grid axes.

    Parameters
    ----------
    ds : xarray.Dataset, str or os.PathLike
        Results from `coopsweep.run` / `coopsweep.open`, or a results file.
    x, y : str
        Two grid axes (parameter names), drawn along the horizontal and the
        vertical. Numeric axes are drawn in increasing order with cells
        centred on the grid values; choice axes (``topology``) as categories.
    metric : str, default "cooperation"
        A metric (see `coopsweep.metrics`); its ``<metric>_mean`` is drawn.
    sel : mapping, optional
        Values of other grid axes to draw, e.g. ``{"partners": 4}``. Numbers
        match grid values to a relative 1e-6. Axes neither drawn nor selected
        are averaged over (equal weight per grid point); the title says so.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    cmap, vmin, vmax
        Colour map and its limits (default: the data's range).
    colorbar : bool, default True
        Draw a colour bar labelled with the metric.
    **kwargs
        Passed on to ``Axes.pcolormesh``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; ``ax.figure.savefig(...)`` saves the figure.

    Raises
    ------
    ValueError
        `x` or `y` is not a grid axis (or both are the same), `metric` is not
        in the dataset, or `sel` names an axis or value that is not on the grid.
        The message lists what is allowed.

    Examples
    --------
    >>> ax = coopsweep.plot.phase(ds, x="scope", y="trust_decay", metric="cooperation", sel={"partners": 4})
    >>> ax.figure.savefig("phase.png")  # doctest: +SKIP
    """
    with _opened(ds) as data:
        axes = _grid_axes(data, metric)
        _check_axis(x, axes, "x")
        _check_axis(y, axes, "y")
        if x == y:
            raise ValueError(f"x and y are both '{x}'; allowed: two different grid axes")
        mean = data[f"{metric}_mean"] if f"{metric}_mean" in data else _nanmean(data[metric], "replicate")
        mean, notes = _reduce(mean, axes, (x, y), sel)
        mean = _sorted(_sorted(mean, x), y)
        grid = mean.transpose(y, x).values
        xs, ys = mean[x].values, mean[y].values
        replicates = data.sizes.get("replicate", 1)

    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(layout="constrained")
    x_edges, x_ticks = _edges(xs)
    y_edges, y_ticks = _edges(ys)
    mesh = ax.pcolormesh(x_edges, y_edges, np.ma.masked_invalid(grid), cmap=cmap, vmin=vmin, vmax=vmax,
                         shading="flat", **kwargs)
    _label_axis(ax.xaxis, x, x_ticks)
    _label_axis(ax.yaxis, y, y_ticks)
    ax.set_title(_title(f"{metric}, mean of {replicates} replicates", notes))
    if colorbar:
        bar = ax.figure.colorbar(mesh, ax=ax)
        bar.set_label(metric)
    return ax


def lines(
    ds: DatasetLike,
    x: str = "scope",
    metric: str = "cooperation",
    hue: Optional[str] = None,
    *,
    sel: Optional[Mapping[str, Any]] = None,
    ci: Optional[float] = 0.95,
    ax: Optional["matplotlib.axes.Axes"] = None,
    **kwargs: Any,
) -> "matplotlib.axes.Axes":
    """A metric's replicate mean against one grid axis, with confidence bands.

    Parameters
    ----------
    ds : xarray.Dataset, str or os.PathLike
        Results from `coopsweep.run` / `coopsweep.open`, or a results file.
    x : str, default "scope"
        The grid axis along the horizontal.
    metric : str, default "cooperation"
        A metric (see `coopsweep.metrics`); computed from its replicates.
    hue : str, optional
        A grid axis drawn as one line per value (e.g. ``"partners"``).
    sel : mapping, optional
        Values of other grid axes to draw, e.g. ``{"trust_decay": 0.04}``.
        Axes neither drawn nor selected are averaged over, equal weight per
        grid point; the title says so.
    ci : float or None, default 0.95
        Level of the band around each mean: mean ± z·SE with z the normal
        quantile and SE the standard error over replicates (s/√n, NaN
        replicates skipped; over averaged axes, √(Σ s²/n) / K for K grid
        points). None draws no band. Needs two replicates or more.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    **kwargs
        Passed on to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        `x` or `hue` is not a grid axis, `metric` is not in the dataset, `ci`
        is not between 0 and 1, or `sel` names an axis or value that is not
        on the grid. The message lists what is allowed.

    Examples
    --------
    >>> ax = coopsweep.plot.lines(ds, x="scope", metric="payoff", hue="partners", sel={"trust_decay": 0.0})
    """
    if ci is not None and not 0.0 < ci < 1.0:
        raise ValueError(f"ci = {ci!r} is not allowed; allowed: a level between 0 and 1 (e.g. 0.95), or None")
    with _opened(ds) as data:
        axes = _grid_axes(data, metric)
        _check_axis(x, axes, "x")
        if hue is not None:
            _check_axis(hue, axes, "hue")
            if hue == x:
                raise ValueError(f"x and hue are both '{x}'; allowed: two different grid axes")
        if "replicate" not in data[metric].dims:
            raise ValueError(f"'{metric}' has no replicate dimension; lines() needs a metric's replicates")
        kept = (x,) if hue is None else (x, hue)
        raw, notes = _reduce(data[metric], axes, kept, sel, average=False)
        raw = _sorted(raw, x)
        if hue is not None:
            raw = _sorted(raw, hue)
        extra = [str(d) for d in raw.dims if d not in (*kept, "replicate")]
        order = ([hue] if hue is not None else []) + [x] + extra + ["replicate"]
        values = raw.transpose(*order).values
        hues: list[Any] = list(raw[hue].values) if hue is not None else [None]
        xs = raw[x].values
        replicates = raw.sizes["replicate"]
        units = data[metric].attrs.get("units", "")
    values = values.reshape(len(hues), len(xs), -1, replicates)  # (hue, x, averaged grid points, replicate)
    mean, se = _mean_and_error(values)

    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(layout="constrained")
    positions, ticks = _positions(xs)
    z = statistics.NormalDist().inv_cdf(0.5 + ci / 2) if ci is not None else None
    for h, value in enumerate(hues):
        label = f"{hue} = {_format(value)}" if hue is not None else metric
        (line,) = ax.plot(positions, mean[h], marker="o", label=label, **kwargs)
        if z is not None:
            ax.fill_between(positions, mean[h] - z * se[h], mean[h] + z * se[h], color=line.get_color(), alpha=0.2,
                            linewidth=0)
    _label_axis(ax.xaxis, x, ticks)
    ax.set_ylabel(f"{metric} ({units})" if units else metric)
    band = f" ± {ci:.0%} CI" if ci is not None else ""
    ax.set_title(_title(f"{metric}, mean of {replicates} replicates{band}", notes))
    if hue is not None:
        ax.legend(title=None, frameon=False)
    return ax


def sobol(
    result: Any,
    *,
    ax: Optional["matplotlib.axes.Axes"] = None,
    title: Optional[str] = None,
    colors: Sequence[str] = ("tab:blue", "tab:orange"),
) -> "matplotlib.axes.Axes":
    """First-order and total Sobol' indices as paired bars with their intervals.

    Parameters
    ----------
    result : coopsweep.analysis.SobolResult
        From `coopsweep.analysis.sobol_indices` or `coopsweep.analysis.sobol`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    title : str, optional
        The axes' title.
    colors : two colours
        Of the S1 and the ST bars.

    Returns
    -------
    matplotlib.axes.Axes
        Bars of S1 and ST per parameter, in the order of the design, with
        error bars spanning each confidence interval.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(layout="constrained")
    names = list(result.S1.index)
    positions = np.arange(len(names))
    width = 0.38
    for offset, label, values, conf, color in ((-width / 2, "S1 (first order)", result.S1, result.S1_conf, colors[0]),
                                               (width / 2, "ST (total)", result.ST, result.ST_conf, colors[1])):
        v = np.asarray(values, dtype=float)
        errors = np.vstack([v - conf["low"].to_numpy(), conf["high"].to_numpy() - v])
        ax.bar(positions + offset, v, width, label=label, color=color, yerr=np.clip(errors, 0, None), capsize=3,
               error_kw={"elinewidth": 1})
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    ax.set_xticks(positions, names, rotation=30, ha="right")
    ax.set_ylabel(f"Sobol' index ({result.confidence:.0%} bootstrap interval)")
    ax.legend(frameon=False)
    if title is not None:
        ax.set_title(title)
    return ax


def morris(
    result: Any,
    *,
    ax: Optional["matplotlib.axes.Axes"] = None,
    title: Optional[str] = None,
) -> "matplotlib.axes.Axes":
    """Morris screening: mu* against sigma, one labelled point per parameter.

    Parameters
    ----------
    result : coopsweep.analysis.MorrisResult
    ax : matplotlib.axes.Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        Parameters far right matter; far up, they interact or act
        non-linearly. Horizontal error bars span mu*'s interval.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(layout="constrained")
    mu_star = result.mu_star.to_numpy()
    errors = np.vstack([mu_star - result.mu_star_conf["low"].to_numpy(),
                        result.mu_star_conf["high"].to_numpy() - mu_star])
    ax.errorbar(mu_star, result.sigma.to_numpy(), xerr=np.clip(errors, 0, None), fmt="o", capsize=3)
    for name, x, y in zip(result.mu_star.index, mu_star, result.sigma.to_numpy()):
        ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4))
    ax.set_xlabel("mu* (mean absolute effect per range)")
    ax.set_ylabel("sigma (spread of the effects)")
    if title is not None:
        ax.set_title(title)
    return ax


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line ``coopsweep plot`` (also ``python -m coopsweep.plot``).

    Returns the exit status: 0 done, 1 the figure could not be written, 2 bad
    input (a missing file, an unknown axis or metric, bad options).
    """
    parser = argparse.ArgumentParser(
        prog="coopsweep plot",
        description="Plot a coopsweep results file: a phase diagram of a metric's replicate mean over two "
        "grid axes (--y), or its replicate mean against one axis with confidence bands, one line per "
        "value of --hue.",
        epilog="Examples:\n"
        "  coopsweep plot results.h5 --x scope --y trust_decay --metric cooperation -o phase.png\n"
        "  coopsweep plot results.h5 --x scope --hue partners --metric payoff --sel trust_decay=0 -o payoff.png\n"
        "Axes neither drawn nor selected with --sel are averaged over. The format follows the extension of -o "
        "(png, pdf, svg).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", help="results file (HDF5) written by `coopsweep run`")
    parser.add_argument("--x", required=True, help="grid axis along the horizontal")
    parser.add_argument("--y", help="grid axis along the vertical: draws a phase diagram (heatmap)")
    parser.add_argument("--hue", help="grid axis drawn as one line per value (lines; the default without --y)")
    parser.add_argument("--metric", default="cooperation", help="metric to draw (default: cooperation)")
    parser.add_argument("--sel", action="append", default=[], metavar="NAME=VALUE",
                        help="draw this value of another grid axis (repeatable)")
    parser.add_argument("--ci", type=float, default=0.95, help="confidence level of the bands of lines (default 0.95; 0: none)")
    parser.add_argument("--cmap", default="viridis", help="colour map of phase diagrams (default: viridis)")
    parser.add_argument("--dpi", type=int, default=150, help="resolution of raster formats (default: 150)")
    parser.add_argument("-o", "--output", required=True, help="figure file; the format follows its extension")
    args = parser.parse_args(argv)
    if args.y is not None and args.hue is not None:
        parser.error("--y draws a phase diagram and --hue lines; give one of them")

    try:
        sel = {}
        for item in args.sel:
            name, equals, value = item.partition("=")
            if not equals or not name:
                raise ValueError(f"--sel '{item}' is not NAME=VALUE; allowed: e.g. --sel partners=4")
            sel[name] = value
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure

        import coopsweep

        figure = Figure(figsize=(6.4, 4.8), layout="constrained")
        ax = figure.add_subplot()
        with coopsweep.open(args.file) as ds:
            if args.y is not None:
                phase(ds, x=args.x, y=args.y, metric=args.metric, sel=sel, ax=ax, cmap=args.cmap)
            else:
                lines(ds, x=args.x, metric=args.metric, hue=args.hue, sel=sel, ax=ax,
                      ci=args.ci if args.ci > 0 else None)
    except (ValueError, OSError) as error:
        print(f"coopsweep: error: {error}", file=sys.stderr)
        return 2
    try:
        figure.savefig(args.output, dpi=args.dpi)
    except ValueError as error:  # an unknown format
        print(f"coopsweep: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"coopsweep: error: cannot write '{args.output}': {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}")
    return 0


# ---------------------------------------------------------------------------


class _opened:
    """A dataset as given, or opened from a path and closed afterwards."""

    def __init__(self, ds: DatasetLike):
        self._given = ds
        self._owned: Any = None

    def __enter__(self) -> "xarray.Dataset":
        if isinstance(self._given, (str, os.PathLike)):
            import coopsweep

            self._owned = coopsweep.open(self._given)
            return self._owned
        return self._given

    def __exit__(self, *exc: Any) -> None:
        if self._owned is not None:
            self._owned.close()


def _grid_axes(ds: "xarray.Dataset", metric: str) -> list[str]:
    metrics = [str(name) for name in ds.data_vars if f"{name}_mean" in ds.data_vars]
    if metric not in metrics:
        raise ValueError(f"metric '{metric}' is not in the dataset; allowed: {', '.join(metrics) or 'none found'}")
    return [str(d) for d in ds[metric].dims if d != "replicate"]


def _check_axis(name: str, axes: Sequence[str], role: str) -> None:
    if name not in axes:
        raise ValueError(f"{role} = '{name}' is not a grid axis of the dataset; allowed: {', '.join(axes)}")


def _reduce(da: "xarray.DataArray", axes: Sequence[str], kept: Sequence[str], sel: Optional[Mapping[str, Any]],
            average: bool = True) -> tuple["xarray.DataArray", list[str]]:
    """Selects `sel`, then (when `average`) averages the axes neither kept nor selected."""
    notes = []
    for name, value in (sel or {}).items():
        if name not in axes:
            raise ValueError(f"sel names '{name}', which is not a grid axis; allowed: "
                             f"{', '.join(a for a in axes if a not in kept) or 'none'}")
        if name in kept:
            raise ValueError(f"sel names '{name}', which the figure draws; allowed: "
                             f"{', '.join(a for a in axes if a not in kept) or 'none'}")
        index = _index_of(da[name].values, value, name)
        da = da.isel({name: index})
        notes.append(f"{name} = {_format(da[name].values.item())}")
    rest = [str(d) for d in da.dims if d in axes and d not in kept]
    if rest:
        notes.append("mean over " + ", ".join(rest))
        if average:
            da = _nanmean(da, rest)
    return da, notes


def _index_of(values: np.ndarray, wanted: Any, name: str) -> int:
    shown = ", ".join(_format(v) for v in values)
    if values.dtype.kind in "iufb":
        try:
            target = float(wanted)
        except (TypeError, ValueError):
            raise ValueError(f"sel {name} = {wanted!r} is not a number; allowed: {shown}") from None
        numbers = values.astype(float)
        nearest = int(np.argmin(np.abs(numbers - target)))
        if abs(numbers[nearest] - target) <= 1e-6 * max(1.0, abs(target)):
            return nearest
    else:
        matches = np.flatnonzero(values.astype(str) == str(wanted))
        if matches.size:
            return int(matches[0])
    raise ValueError(f"sel {name} = {_format(wanted)} is not on the grid; allowed: {shown}")


def _nanmean(da: "xarray.DataArray", dims: Union[str, Sequence[str]]) -> "xarray.DataArray":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells stay NaN
        return da.mean(dims, skipna=True, keep_attrs=True)


def _mean_and_error(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the last two axes and its standard error, (..., K, R) -> (...).

    Each of the K grid points has its replicate mean m_k, deviation s_k and
    count n_k; the mean is the average of the m_k and its standard error
    sqrt(sum s_k^2 / n_k) / K, over grid points with a finite mean.
    """
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        n = np.sum(~np.isnan(values), axis=-1)
        m = np.nanmean(values, axis=-1)
        s = np.nanstd(values, axis=-1, ddof=1)
        s = np.where(n > 1, s, np.nan)
        valid = ~np.isnan(m)
        k = np.sum(valid, axis=-1)
        mean = np.nansum(np.where(valid, m, 0.0), axis=-1) / k
        variance = np.sum(np.where(valid, s**2 / np.maximum(n, 1), 0.0), axis=-1)
        se = np.sqrt(variance) / k
        se = np.where(np.any(valid & np.isnan(s), axis=-1), np.nan, se)
    return mean, se


def _sorted(da: "xarray.DataArray", dim: str) -> "xarray.DataArray":
    return da.sortby(dim) if da[dim].dtype.kind in "iufb" else da


def _edges(values: np.ndarray) -> tuple[np.ndarray, Optional[list[str]]]:
    """Cell edges around grid values: midpoints for numbers, unit cells for names."""
    if values.dtype.kind not in "iufb":
        return np.arange(len(values) + 1) - 0.5, [str(v) for v in values]
    v = values.astype(float)
    if len(v) == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5]), None
    middle = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (v[1] - v[0]) / 2], middle, [v[-1] + (v[-1] - v[-2]) / 2]]), None


def _positions(values: np.ndarray) -> tuple[np.ndarray, Optional[list[str]]]:
    if values.dtype.kind not in "iufb":
        return np.arange(len(values)), [str(v) for v in values]
    return values.astype(float), None


def _label_axis(axis: Any, name: str, ticks: Optional[list[str]]) -> None:
    axis.set_label_text(name)
    if ticks is not None:
        axis.set_ticks(range(len(ticks)), ticks)


def _title(head: str, notes: list[str]) -> str:
    return head + ("\n" + "; ".join(notes) if notes else "")


def _format(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}" if math.isfinite(value) else str(value)
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
