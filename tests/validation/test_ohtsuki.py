"""Plumbing and statistics of validation/ohtsuki.py, at toy sizes (seconds).

The long comparison itself (validation/ohtsuki.py --quick or --full) stays out of
the test suite; docs/validation.md reports it.
"""

import csv
import json
import math
import os
import pathlib
import sys

import numpy as np
import pytest
import xarray as xr

SOURCE_DIR = pathlib.Path(os.environ.get("COOPSWEEP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
BIN = os.environ.get("COOPSWEEP_BIN", str(SOURCE_DIR / "build" / "coopsweep"))
sys.path.insert(0, str(SOURCE_DIR / "validation"))

import ohtsuki  # noqa: E402


def ring(n, k):
    return [sorted({(i + m) % n for m in range(1, k // 2 + 1)} | {(i - m) % n for m in range(1, k // 2 + 1)})
            for i in range(n)]


def exact_fixation(neighbours, b, c, w):
    """Fixation probability of one cooperator placed uniformly, by solving MODEL.md's
    death-birth chain (births = 1, update_every = 1, fitness max(0, 1 - w + w P),
    P = b (cooperating partners) - c k [cooperator]) over all 2^N states."""
    n = len(neighbours)
    states = 1 << n
    a = np.eye(states)
    rhs = np.zeros(states)
    rhs[states - 1] = 1.0
    for s in range(1, states - 1):
        x = [(s >> i) & 1 for i in range(n)]
        payoff = [b * sum(x[j] for j in neighbours[i]) - c * len(neighbours[i]) * x[i] for i in range(n)]
        fitness = [max(0.0, 1 - w + w * p) for p in payoff]
        for i in range(n):
            total = sum(fitness[j] for j in neighbours[i])
            for j in neighbours[i]:
                t = s | (1 << i) if x[j] else s & ~(1 << i)
                a[s, t] -= fitness[j] / total / n
    phi = np.linalg.solve(a, rhs)
    return float(np.mean([phi[1 << i] for i in range(n)]))


def test_wilson_interval_known_values():
    lo, hi = ohtsuki.wilson_interval(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-12)
    assert hi == pytest.approx(ohtsuki.Z95**2 / (10 + ohtsuki.Z95**2))
    lo, hi = ohtsuki.wilson_interval(5, 10)
    assert lo == pytest.approx(0.2365931, abs=1e-6) and hi == pytest.approx(0.7634069, abs=1e-6)


def test_allen_threshold():
    assert ohtsuki.regular_threshold(100, 4) == pytest.approx(98 / 23)
    assert round(ohtsuki.regular_threshold(100, 4), 2) == 4.26
    assert ohtsuki.regular_threshold(8, 4) == math.inf


# A 3-regular graph on 8 vertices that is not vertex-transitive (the cube is).
IRREGULAR_CUBIC = [[1, 2, 3], [0, 2, 4], [0, 1, 5], [0, 6, 7], [1, 5, 6], [2, 4, 7], [3, 4, 7], [3, 5, 6]]


@pytest.mark.parametrize("neighbours,k", [(ring(8, 2), 2), (ring(9, 4), 4), (IRREGULAR_CUBIC, 3)])
@pytest.mark.parametrize("b", [1.0, 4.0])
def test_first_order_rho_is_the_slope_of_the_exact_chain(neighbours, k, b):
    n = len(neighbours)
    h = 1e-5
    exact_slope = (exact_fixation(neighbours, b, 1.0, h) - exact_fixation(neighbours, b, 1.0, -h)) / (2 * h)
    predicted_slope = (ohtsuki.first_order_rho(b, n, k, 1.0) - 1.0 / n)
    assert exact_fixation(neighbours, b, 1.0, 0.0) == pytest.approx(1.0 / n, abs=1e-12)
    assert exact_slope == pytest.approx(predicted_slope, abs=1e-6)


def test_line_crossing_of_an_exact_line():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    n = np.full(4, 10**6)
    k = (0.002 + 0.004 * x) * n
    a, s, cov = ohtsuki.fit_line(x, k, n)
    assert a == pytest.approx(0.002) and s == pytest.approx(0.004)
    x0, se = ohtsuki.line_crossing(a, s, cov, 0.01)
    assert x0 == pytest.approx(2.0) and 0 < se < 0.1
    assert math.isnan(ohtsuki.line_crossing(a, -s, cov, 0.01)[0])


def test_diffusion_fit_recovers_its_crossing():
    firms = 100
    x = np.array([2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    n = np.full(len(x), 10**7)
    k = n * ohtsuki.diffusion_rho(x, 4.3, 0.8, firms)
    assert ohtsuki.diffusion_rho(4.3, 4.3, 0.8, firms) == pytest.approx(1.0 / firms)
    x0, beta, nll = ohtsuki.fit_diffusion(x, k, n, firms, 4.0, 0.5)
    assert x0 == pytest.approx(4.3, abs=1e-3) and beta == pytest.approx(0.8, rel=1e-3)
    lo, hi = ohtsuki.profile_interval(x, k, n, firms, x0, beta, nll, span=12.0)
    assert lo < 4.3 < hi and hi - lo < 0.1


def test_bootstrap_interval_covers_the_line_crossing():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    n = np.full(4, 20000)
    k = np.round((0.002 + 0.004 * x) * n)
    lo, hi, undefined = ohtsuki.bootstrap_line_crossing(x, k, n, 0.01, 500, np.random.default_rng(0))
    assert lo < 2.0 < hi and undefined == 0.0


needs_binary = pytest.mark.skipif(not pathlib.Path(BIN).exists(), reason=f"no coopsweep at {BIN}")


@needs_binary
def test_smoke_run_writes_tables_figure_and_raw_results(tmp_path):
    out = tmp_path / "smoke"
    assert ohtsuki.main(["--smoke", "--out", str(out), "--bin", BIN, "--bootstrap", "200"]) == 0
    for name in ("ohtsuki_points.csv", "ohtsuki_crossings.csv", "ohtsuki_crossings.md", "ohtsuki.png", "run.json"):
        assert (out / name).stat().st_size > 0, name

    mode = ohtsuki.MODES["smoke"]
    with open(out / "ohtsuki_points.csv") as f:
        points = list(csv.DictReader(f))
    assert len(points) == len(mode.cases) * len(mode.factors)
    for p in points:
        assert int(p["runs"]) == mode.replicates
        assert int(p["capped"]) == 0 and int(p["undecided"]) == 0
        assert int(p["rounds_run_max"]) < mode.rounds
        rho = float(p["rho"])
        assert float(p["rho_wilson_low"]) <= rho <= float(p["rho_wilson_high"])
        assert rho == pytest.approx(int(p["fixations"]) / int(p["runs"]))

    with open(out / "ohtsuki_crossings.csv") as f:
        crossings = list(csv.DictReader(f))
    assert [(c["topology"], int(c["partners"])) for c in crossings] == list(mode.cases)
    meta = json.loads((out / "run.json").read_text())
    assert meta["all_runs_fixed"] and meta["mode"] == "smoke" and set(meta["cases"]) == {"ring_k2", "regular_k4"}

    # The results file holds the spec the runner wrote, with the donation-game settings.
    spec = (out / "specs" / "ring_k2.toml").read_text()
    with xr.open_dataset(out / "h5" / "ring_k2.h5", engine="h5netcdf") as ds:
        assert ds.attrs["spec"] == spec
        assert ds.attrs["update_rule"] == "death_birth" and ds.attrs["trust_threshold"] == 0.0
        assert ds.attrs["selection"] == 0.01 and ds.attrs["scope"] == 1.0
        assert list(ds["benefit"].values) == [2 * f for f in mode.factors]
        share = ds["share_cooperator"].values
        assert set(np.unique(share)) <= {0.0, 1.0}

    # --reuse keeps files written from the same spec and gives the same tables.
    before = (out / "ohtsuki_points.csv").read_text()
    mtime = (out / "h5" / "ring_k2.h5").stat().st_mtime_ns
    assert ohtsuki.main(["--smoke", "--out", str(out), "--bin", BIN, "--bootstrap", "200", "--reuse"]) == 0
    assert (out / "h5" / "ring_k2.h5").stat().st_mtime_ns == mtime
    assert (out / "ohtsuki_points.csv").read_text() == before


@needs_binary
def test_runs_that_do_not_fix_are_reported(tmp_path):
    out = tmp_path / "capped"
    assert ohtsuki.main(["--smoke", "--out", str(out), "--bin", BIN, "--bootstrap", "50", "--rounds", "2",
                         "--cases", "ring:2"]) == 1
    meta = json.loads((out / "run.json").read_text())
    assert not meta["all_runs_fixed"] and "ring_k2" in meta["failures"][0]


def test_lumped_ring_chain_of_exact_small_matches_the_full_chain():
    import exact_small

    for n, k in ((8, 2), (9, 4)):
        chain = exact_small.RingChain(n, k)
        for b, w in ((4.0, 0.05), (1.5, 0.2)):
            assert chain.fixation(b, w) == pytest.approx(exact_fixation(ring(n, k), b, 1.0, w), abs=1e-12)
        threshold = (n - 2) / (n / k - 2)
        assert chain.crossing(1e-6, 0.5 * threshold, 2 * threshold) == pytest.approx(threshold, rel=1e-3)
