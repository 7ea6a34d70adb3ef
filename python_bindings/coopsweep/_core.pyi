# Stub of the compiled extension coopsweep._core (python_bindings/src/module.cpp).
# The package's public API is in coopsweep/__init__.py and coopsweep/plot.py,
# which carry their own annotations; this module is its private engine glue.

from collections.abc import Callable, Sequence
from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

engine_version: str
model_version: int
max_replicates: int

_Scalar = Union[bool, int, float, str]
_Progress = Optional[Callable[[int, int], Any]]

def parameter_table() -> list[tuple[str, str, str, str, _Scalar, str, tuple[str, ...]]]:
    """Every model parameter as (name, symbol, kind, domain, default, meaning, choices)."""

def metric_table() -> list[tuple[str, str, str]]:
    """Every metric as (name, long_name, units), in stored order."""

def simulate(
    assignments: Sequence[tuple[str, _Scalar]],
    replicates: int,
    seed: int,
    configuration: int,
    threads: int,
    progress: _Progress,
) -> npt.NDArray[np.float64]:
    """Runs replicates of one configuration; a (metrics, replicates) array. Releases the GIL.

    Raises ValueError (bad parameter), TypeError (a value of no parameter's type),
    KeyboardInterrupt (Ctrl-C), or what `progress` raises.
    """

def check_spec(text: str, source: str) -> dict[str, Any]:
    """Parses and validates a TOML spec: configurations, replicates, runs, seed, axes, output_path.

    Raises ValueError naming the key or parameter. Releases the GIL.
    """

def run_spec(
    text: str,
    source: str,
    path: str,
    overwrite: bool,
    resume: bool,
    threads: int,
    block_size: int,
    progress: _Progress,
) -> dict[str, Any]:
    """Runs a TOML spec into `path`; returns configurations, runs and seconds. Releases the GIL.

    Raises ValueError (bad spec), OSError (the file), KeyboardInterrupt (Ctrl-C; the
    message names the partial file left), or what `progress` raises.
    """

def sobol_sequence(count: int, dimensions: int) -> npt.NDArray[np.float64]:
    """The first `count` unscrambled Sobol' points (Joe and Kuo), a (count, dimensions) array."""

def design_points(design: str, count: int, dimensions: int, seed: int, levels: int) -> npt.NDArray[np.float64]:
    """Points of a design in the unit cube, a (points, dimensions) array. Raises ValueError."""

def sobol_analyze(
    y: npt.ArrayLike, dimensions: int, resamples: int, confidence: float, seed: int
) -> dict[str, Any]:
    """S1, ST, S1_conf and ST_conf ((low, high) arrays), variance, base_samples, dropped. Raises ValueError."""

def morris_analyze(
    y: npt.ArrayLike, points: npt.ArrayLike, resamples: int, confidence: float, seed: int
) -> dict[str, Any]:
    """mu, mu_star, sigma, mu_star_conf ((low, high) arrays), trajectories, dropped. Raises ValueError."""
