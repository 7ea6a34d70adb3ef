#!/usr/bin/env python3
"""Reruns Ohtsuki et al. (2006)'s b/c > k comparison with coopsweep's CLI.

With trust switched off (MODEL.md, "Exact cases"), the model is the donation game
on a graph. One cooperator among N - 1 defectors, death-birth updating with one
birth per round, weak selection w: this script estimates the fixation probability
rho of cooperation over a range of b/c for each (graph, k) and compares the
crossing of rho = 1/N with the exact weak-selection threshold for k-regular graphs
of Allen et al. (2017, Nature 544:227) and Chen (2013, Ann. Appl. Probab. 23:637),

    (b/c)* = (N - 2) / (N/k - 2)          (4.26 for N = 100, k = 4),

and with Ohtsuki et al.'s pair approximation, b/c > k.

Estimates (docs/validation.md explains them):

- rho per b/c: the share of runs in which cooperation fixed, with a Wilson 95 % CI;
- the crossing of 1/N, two ways:
  * maximum likelihood fit of the diffusion form
        rho(x) = (1 - exp(-sigma/N)) / (1 - exp(-sigma)),  sigma = beta (x - x0),
    x = b/c, whose crossing of 1/N is x0 exactly; 95 % CI by profile likelihood;
  * weighted least squares line rho = a + s x (weights n / (p (1 - p)) at the
    Wilson centre p); crossing (1/N - a) / s, 95 % CI by the delta method and by a
    binomial bootstrap;
- the first-order (weak-selection) prediction for any connected k-regular graph,
        rho = 1/N + w [b (N - 2k) - c k (N - 2)] / (2N) + O(w^2),
  Allen et al.'s coalescent formula with tau(1) = N - 1, tau(2) = N - 2,
  tau(3) - tau(1) = N/k - 2 (checked against exact Markov chains in
  tests/validation/test_ohtsuki.py).

Outputs, under --out: ohtsuki_points.csv (one row per graph, k, b/c),
ohtsuki_crossings.csv and ohtsuki_crossings.md (one row per graph and k),
ohtsuki.png, run.json (timings, versions, command), and the raw results in
specs/*.toml and h5/*.h5 (ignored by git).

Usage:
    nice -n 10 /usr/bin/python3 validation/ohtsuki.py --quick --threads 1
    /usr/bin/python3 validation/ohtsuki.py --full            # a big machine, all cores
    /usr/bin/python3 validation/ohtsuki.py --smoke --out /tmp/smoke   # seconds, toy size
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
Z95 = 1.959963984540054  # two-sided 95 % normal quantile
CHI2_1_95 = 3.841458820694124  # 95 % quantile of chi-square with 1 degree of freedom

# The donation game of MODEL.md's "Exact cases": trust switched off, scope 1, no
# market, upkeep, leakage or synergy; conditional firms then always cooperate.
TRUST_OFF = {
    "scope": 1.0,
    "cost": 1.0,
    "synergy": 0.0,
    "market": 0.0,
    "upkeep": 0.0,
    "leakage": 0.0,
    "size_spread": 0.0,
    "error": 0.0,
    "trust_init": 1.0,
    "trust_threshold": 0.0,
    "trust_gain": 0.0,
    "trust_loss": 0.0,
    "trust_decay": 0.0,
    "exit_threshold": 0.0,
    "update_rule": "death_birth",
    "update_every": 1,
    "births": 1,
    "mutation": 0.0,
    "stop_on_fixation": True,
    "window": 1,
}

# Every (graph, k) the runner knows, in a fixed order. Random 2-regular graphs are
# left out on purpose: they are unions of cycles (connected with probability about
# 0.19 at N = 100), where a lone cooperator can never take over; the connected
# 2-regular graph is the ring.
ALL_CASES = (("ring", 2), ("ring", 4), ("regular", 4), ("ring", 6), ("regular", 6))
FACTORS = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)  # b/c = k * factor: around the pair approximation


@dataclasses.dataclass(frozen=True)
class Mode:
    firms: int
    cases: tuple
    factors: tuple
    replicates: int
    rounds: int
    threads: int  # 0: all cores


MODES = {
    # Plumbing only: toy sizes, a couple of seconds (tests/validation).
    "smoke": Mode(firms=20, cases=(("ring", 2), ("regular", 4)), factors=(0.5, 1.0, 1.5, 2.0),
                  replicates=60, rounds=10**7, threads=1),
    # A few minutes on one core (108 CPU-s measured); crossings to about +-1 to +-2 in b/c.
    "quick": Mode(firms=100, cases=ALL_CASES, factors=FACTORS, replicates=500, rounds=10**8, threads=1),
    # 100 times the quick mode's runs (about 3 CPU-hours); crossings to about +-0.1.
    "full": Mode(firms=100, cases=ALL_CASES, factors=FACTORS, replicates=50_000, rounds=10**8, threads=0),
}


# --------------------------------------------------------------------------- statistics


def wilson_interval(successes, trials, z=Z95):
    """Wilson score interval for a binomial proportion; arrays or scalars."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # The interval holds p (rounding can put the lower end at 1e-19 above p = 0).
    return np.minimum(centre - half, p), np.maximum(centre + half, p)


def regular_threshold(firms, k):
    """Allen et al. (2017) / Chen (2013): (b/c)* = (N - 2) / (N/k - 2); inf when N <= 2k."""
    denom = firms / k - 2.0
    return (firms - 2.0) / denom if denom > 0 else math.inf


def first_order_rho(x, firms, k, selection, cost=1.0):
    """rho to first order in w on a connected k-regular graph, x = b/c.

    Death-birth with fitness 1 - w + w P and accumulated payoffs
    P = b (cooperating partners) - c k [cooperator]: Allen et al.'s
    rho = 1/N + (delta / 2N) (-c tau2 + b (tau3 - tau1)) with delta = w k (payoffs
    summed over k partners) and, on any k-regular graph, tau1 = N - 1,
    tau2 = N - 2, tau3 - tau1 = N/k - 2.
    """
    b = np.asarray(x, dtype=float) * cost
    return 1.0 / firms + selection * (b * (firms - 2 * k) - cost * k * (firms - 2)) / (2.0 * firms)


def _z_weights(successes, trials):
    centre_num = np.asarray(successes, float) + Z95**2 / 2
    p = centre_num / (np.asarray(trials, float) + Z95**2)
    return np.asarray(trials, float) / (p * (1 - p))


def fit_line(x, successes, trials):
    """Weighted least squares rho = a + s x, weights n / (p (1 - p)) at the Wilson centre.

    Returns (a, s, covariance of (a, s)): the covariance treats the weights as the
    inverse variances, as for a binomial proportion.
    """
    x = np.asarray(x, float)
    y = np.asarray(successes, float) / np.asarray(trials, float)
    w = _z_weights(successes, trials)
    design = np.column_stack([np.ones_like(x), x])
    info = design.T @ (w[:, None] * design)
    cov = np.linalg.inv(info)
    a, s = cov @ (design.T @ (w * y))
    return float(a), float(s), cov


def line_crossing(a, s, cov, level):
    """x where a + s x = level, with its delta-method standard error (nan if s <= 0)."""
    if not s > 0:
        return math.nan, math.nan
    x0 = (level - a) / s
    grad = np.array([-1.0 / s, -x0 / s])
    return float(x0), float(math.sqrt(grad @ cov @ grad))


def bootstrap_line_crossing(x, successes, trials, level, resamples, rng):
    """Percentile 95 % CI of the WLS crossing over binomial resamples of every point.

    Drawing a point's fixation count from Binomial(n, k/n) is resampling its runs.
    Returns (low, high, share of resamples whose line did not rise); a line that
    does not rise has no crossing, and the interval is unbounded when more than
    2.5 % of the resamples have none.
    """
    trials = np.asarray(trials)
    p = np.asarray(successes, float) / trials
    x = np.asarray(x, float)
    draws = rng.binomial(trials, p, size=(resamples, len(trials)))
    # The weights of fit_line, n / (pc (1 - pc)) at the Wilson centre pc, vectorised.
    pc = (draws + Z95**2 / 2) / (trials + Z95**2)
    w = trials / (pc * (1 - pc))
    y = draws / trials
    sw = w.sum(axis=1)
    sx = (w * x).sum(axis=1)
    sxx = (w * x * x).sum(axis=1)
    sy = (w * y).sum(axis=1)
    sxy = (w * x * y).sum(axis=1)
    det = sw * sxx - sx * sx
    slope = (sw * sxy - sx * sy) / det
    intercept = (sxx * sy - sx * sxy) / det
    rising = slope > 0
    undefined = float(1.0 - rising.mean())
    if undefined > 0.025:
        return -math.inf, math.inf, undefined
    lo, hi = np.percentile((level - intercept[rising]) / slope[rising], [2.5, 97.5])
    return float(lo), float(hi), undefined


def diffusion_rho(x, x0, beta, firms):
    """(1 - exp(-sigma/N)) / (1 - exp(-sigma)), sigma = beta (x - x0); 1/N at sigma = 0."""
    sigma = np.clip(beta * (np.asarray(x, float) - x0), -700.0, 700.0)
    small = np.abs(sigma) < 1e-8
    safe = np.where(small, 1.0, sigma)
    value = np.expm1(-safe / firms) / np.expm1(-safe)
    series = (1.0 + sigma * (firms - 1) / (2.0 * firms)) / firms
    return np.where(small, series, value)


def _neg_log_likelihood(x, successes, trials, firms, x0, beta):
    rho = np.clip(diffusion_rho(x, x0, beta, firms), 1e-300, 1 - 1e-16)
    k = np.asarray(successes, float)
    n = np.asarray(trials, float)
    return -float(np.sum(k * np.log(rho) + (n - k) * np.log1p(-rho)))


def fit_diffusion(x, successes, trials, firms, x0_start, beta_start):
    """Maximum likelihood (x0, beta) of the diffusion form; returns (x0, beta, -loglik)."""
    from scipy import optimize

    def nll(theta):
        return _neg_log_likelihood(x, successes, trials, firms, theta[0], theta[1])

    best = None
    for start in ((x0_start, beta_start), (x0_start, 2 * beta_start), (x0_start, 0.5 * beta_start)):
        res = optimize.minimize(nll, np.array(start, float), method="Nelder-Mead",
                                options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000})
        if best is None or res.fun < best.fun:
            best = res
    return float(best.x[0]), float(best.x[1]), float(best.fun)


def profile_interval(x, successes, trials, firms, x0_hat, beta_hat, nll_hat, span):
    """95 % profile-likelihood interval for x0 (inf where it does not close within span)."""
    from scipy import optimize

    def profile(x0):
        res = optimize.minimize_scalar(
            lambda lb: _neg_log_likelihood(x, successes, trials, firms, x0, math.exp(lb)),
            bracket=(math.log(beta_hat) - 1.0, math.log(beta_hat) + 1.0))
        return 2.0 * (res.fun - nll_hat) - CHI2_1_95

    ends = []
    for direction in (-1.0, 1.0):
        step = 0.05 * span
        inner = x0_hat
        found = math.inf * direction
        while abs(inner - x0_hat) < span:
            outer = inner + direction * step
            if profile(outer) > 0:
                found = optimize.brentq(profile, min(inner, outer), max(inner, outer), xtol=1e-6)
                break
            inner = outer
            step *= 1.5
        ends.append(found)
    return ends[0], ends[1]


def pearson_lack_of_fit(successes, trials, fitted):
    """Pearson chi-square of the counts against fitted proportions, and its p-value (df = m - 2)."""
    from scipy import stats

    k = np.asarray(successes, float)
    n = np.asarray(trials, float)
    p = np.clip(np.asarray(fitted, float), 1e-12, 1 - 1e-12)
    chi2 = float(np.sum((k - n * p) ** 2 / (n * p * (1 - p))))
    df = len(k) - 2
    return chi2, df, float(stats.chi2.sf(chi2, df)) if df > 0 else math.nan


# --------------------------------------------------------------------------- running


def case_seed(base_seed, topology, k):
    """One seed per (graph, k), so the cases draw independent streams (the sweep keys
    streams by seed and configuration index, and every case's grid starts at 0)."""
    return base_seed + 10 * k + (0 if topology == "ring" else 1)


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, float):
        return repr(v)
    return str(v)


def initial_shares(firms):
    """f_C = 1/N, f_D = 1 - 1/N, kept at f_C + f_D <= 1 in floating point."""
    cooperators = 1.0 / firms
    defectors = 1.0 - cooperators
    while cooperators + defectors > 1.0:
        defectors = math.nextafter(defectors, 0.0)
    assert round(defectors * firms) == firms - 1 and round(cooperators * firms) == 1
    return cooperators, defectors


def case_spec(mode, topology, k, seed, selection):
    cooperators, defectors = initial_shares(mode.firms)
    model = {"firms": mode.firms, "partners": k, "topology": topology, "rounds": mode.rounds,
             **TRUST_OFF, "selection": selection, "cooperators": cooperators, "defectors": defectors}
    benefits = [float(k * f) for f in mode.factors]
    lines = ["# Written by validation/ohtsuki.py: Ohtsuki et al. 2006 b/c > k, one (graph, k).",
             f"seed = {seed}", f"replicates = {mode.replicates}", "", "[model]"]
    lines += [f"{name} = {toml_value(value)}" for name, value in model.items()]
    lines += ["", "[grid]", "benefit = [" + ", ".join(repr(b) for b in benefits) + "]", ""]
    return "\n".join(lines)


def run_case(binary, spec_path, h5_path, threads, reuse, spec_text):
    """Runs one spec unless --reuse finds a complete file written from the same spec.

    Returns the wall and CPU seconds of the run; they are kept beside the results
    file (NAME.timing.json), so a reused file reports the time it took to make.
    """
    timing_path = h5_path.with_suffix(".timing.json")
    if reuse and h5_path.exists():
        import xarray as xr

        with xr.open_dataset(h5_path, engine="h5netcdf") as ds:
            same = ds.attrs.get("spec") == spec_text and int(ds.attrs.get("completed", 0)) == 1
        if same:
            timing = json.loads(timing_path.read_text()) if timing_path.exists() else {}
            return {"wall_s": math.nan, "cpu_s": math.nan, "threads": None, **timing, "reused": True}
    cmd = [str(binary), "run", str(spec_path), "-o", str(h5_path), "--threads", str(threads), "--quiet", "--force"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"ohtsuki.py: {' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")
    timing = {"wall_s": wall, "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
              "threads": threads}
    timing_path.write_text(json.dumps(timing) + "\n")
    return timing


def load_case(h5_path, rounds):
    """Per b/c: runs, fixations of cooperation, extinctions, and the rounds they took."""
    import xarray as xr

    with xr.open_dataset(h5_path, engine="h5netcdf") as ds:
        share = ds["share_cooperator"].values  # (benefit, replicate)
        rounds_run = ds["rounds_run"].values
        benefits = ds["benefit"].values.astype(float)
        cost = float(ds.attrs["cost"])
        engine_version = str(ds.attrs.get("engine_version", ""))
    fixed_c = (share == 1.0).sum(axis=1)
    fixed_d = (share == 0.0).sum(axis=1)
    return {
        "x": benefits / cost,
        "trials": np.full(len(benefits), share.shape[1]),
        "successes": fixed_c,
        "undecided": share.shape[1] - fixed_c - fixed_d,  # neither all C nor all D at the end
        "capped": (rounds_run >= rounds).sum(axis=1),  # runs that reached the round limit
        "rounds_max": rounds_run.max(axis=1),
        "rounds_mean": rounds_run.mean(axis=1),
        "engine_version": engine_version,
    }


def analyse_case(data, firms, k, selection, rng, bootstrap):
    x, kk, n = data["x"], data["successes"], data["trials"]
    level = 1.0 / firms
    a, s, cov = fit_line(x, kk, n)
    lin_x0, lin_se = line_crossing(a, s, cov, level)
    boot_lo, boot_hi, boot_undefined = bootstrap_line_crossing(x, kk, n, level, bootstrap, rng)
    lin_fit = a + s * x
    lin_chi2, df, lin_p = pearson_lack_of_fit(kk, n, np.clip(lin_fit, 1e-6, 1 - 1e-6))

    # Start the likelihood fit from the line (or from the data's middle if it is flat).
    x0_start = lin_x0 if math.isfinite(lin_x0) and x.min() - 5 < lin_x0 < x.max() + 5 else float(np.median(x))
    slope_start = s if s > 0 else 1.0 / (firms * (x.max() - x.min()))
    beta_start = max(slope_start * 2.0 * firms**2 / (firms - 1), 1e-3)
    x0, beta, nll = fit_diffusion(x, kk, n, firms, x0_start, beta_start)
    span = 2.0 * (x.max() - x.min())
    ml_lo, ml_hi = profile_interval(x, kk, n, firms, x0, beta, nll, span) if beta > 0 else (-math.inf, math.inf)
    ml_chi2, _, ml_p = pearson_lack_of_fit(kk, n, diffusion_rho(x, x0, beta, firms))

    allen = regular_threshold(firms, k)
    return {
        "allen": allen,
        "pair_approx": float(k),
        "ml_x0": x0, "ml_lo": ml_lo, "ml_hi": ml_hi, "ml_beta": beta,
        "ml_slope_at_x0": beta * (firms - 1) / (2.0 * firms**2),
        "ml_chi2": ml_chi2, "ml_p": ml_p,
        "lin_a": a, "lin_s": s, "lin_s_se": float(math.sqrt(cov[1, 1])),
        "lin_x0": lin_x0, "lin_lo": lin_x0 - Z95 * lin_se, "lin_hi": lin_x0 + Z95 * lin_se,
        "boot_lo": boot_lo, "boot_hi": boot_hi, "boot_undefined": boot_undefined,
        "lin_chi2": lin_chi2, "lin_p": lin_p, "df": df,
        "first_order_slope": selection * (firms - 2 * k) / (2.0 * firms),
        "allen_in_ml_ci": bool(ml_lo <= allen <= ml_hi),
        "allen_in_lin_ci": (bool(lin_x0 - Z95 * lin_se <= allen <= lin_x0 + Z95 * lin_se)
                            if math.isfinite(lin_x0) else None),
        "pair_in_ml_ci": bool(ml_lo <= k <= ml_hi),
    }


# --------------------------------------------------------------------------- output


def fmt(v, digits=3):
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if v is None:
        return "n/a"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, float) and math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}f}"


def write_points(path, rows):
    fields = ["topology", "partners", "b_over_c", "runs", "fixations", "rho", "rho_wilson_low", "rho_wilson_high",
              "rho_times_N", "rho_first_order", "undecided", "capped", "rounds_run_max", "rounds_run_mean"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row[key] for key in fields})


CROSSING_FIELDS = ["topology", "partners", "allen", "pair_approx", "ml_x0", "ml_lo", "ml_hi", "allen_in_ml_ci",
                   "pair_in_ml_ci", "lin_x0", "lin_lo", "lin_hi", "allen_in_lin_ci", "boot_lo", "boot_hi",
                   "boot_undefined", "ml_slope_at_x0", "lin_s", "lin_s_se", "first_order_slope", "ml_chi2",
                   "lin_chi2", "df", "ml_p", "lin_p", "runs", "rounds_run_max", "wall_s", "cpu_s"]


def write_crossings(csv_path, md_path, rows, meta):
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CROSSING_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row[key] for key in CROSSING_FIELDS})

    lines = [
        f"Ohtsuki et al. 2006 b/c > k with coopsweep: N = {meta['firms']}, w = {meta['selection']}, "
        f"{meta['replicates']} runs per b/c, seed {meta['seed']} (mode `{meta['mode']}`).",
        "",
        "| graph | k | (b/c)* Allen | pair approx. | crossing, diffusion ML [95 % profile CI] | Allen in CI "
        "| crossing, WLS line [95 % delta CI] | [95 % bootstrap CI] | Allen in CI |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['topology']} | {r['partners']} | {fmt(r['allen'], 2)} | {fmt(r['pair_approx'], 0)} "
            f"| {fmt(r['ml_x0'], 2)} [{fmt(r['ml_lo'], 2)}, {fmt(r['ml_hi'], 2)}] | {fmt(r['allen_in_ml_ci'])} "
            f"| {fmt(r['lin_x0'], 2)} [{fmt(r['lin_lo'], 2)}, {fmt(r['lin_hi'], 2)}] "
            f"| [{fmt(r['boot_lo'], 2)}, {fmt(r['boot_hi'], 2)}] | {fmt(r['allen_in_lin_ci'])} |")
    lines += [
        "",
        "| graph | k | slope drho/d(b/c): ML at crossing | WLS (+- s.e.) | first order | Pearson chi2 ML / WLS (df) "
        "| p ML / WLS | runs | max rounds_run | wall s | CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['topology']} | {r['partners']} | {r['ml_slope_at_x0']:.5f} | {r['lin_s']:.5f} +- {r['lin_s_se']:.5f} "
            f"| {r['first_order_slope']:.5f} | {r['ml_chi2']:.1f} / {r['lin_chi2']:.1f} ({r['df']}) "
            f"| {fmt(r['ml_p'], 3)} / {fmt(r['lin_p'], 3)} | {r['runs']} | {int(r['rounds_run_max'])} "
            f"| {fmt(r['wall_s'], 1)} | {fmt(r['cpu_s'], 1)} |")
    md_path.write_text("\n".join(lines) + "\n")


def plot(path, points, crossings, meta):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    firms = meta["firms"]
    ks = sorted({r["partners"] for r in crossings})
    fig, axes = plt.subplots(1, len(ks), figsize=(4.6 * len(ks), 4.2), squeeze=False)
    style = {"ring": ("o", "tab:blue"), "regular": ("s", "tab:orange")}
    for ax, k in zip(axes[0], ks):
        pts = [p for p in points if p["partners"] == k]
        xs = np.array(sorted({p["b_over_c"] for p in pts}))
        grid = np.linspace(xs.min(), xs.max(), 200)
        ax.axhline(1.0 / firms, color="black", lw=0.8)
        ax.text(xs.min(), 1.0 / firms, " 1/N", va="bottom", ha="left", fontsize=8)
        ax.plot(grid, first_order_rho(grid, firms, k, meta["selection"]), color="grey", ls="--", lw=1,
                label="first order in w (any k-regular)")
        allen = regular_threshold(firms, k)
        ax.axvline(allen, color="tab:red", ls="--", lw=1, label=f"(N-2)/(N/k-2) = {allen:.2f}")
        ax.axvline(k, color="tab:green", ls=":", lw=1.2, label=f"pair approx. b/c = k = {k}")
        offset = 0.012 * (xs.max() - xs.min())
        for topology, (marker, colour) in style.items():
            sel = [p for p in pts if p["topology"] == topology]
            if not sel:
                continue
            cr = next(r for r in crossings if r["partners"] == k and r["topology"] == topology)
            shift = -offset if topology == "ring" else offset
            x = np.array([p["b_over_c"] for p in sel]) + shift
            y = np.array([p["rho"] for p in sel])
            lo = np.array([p["rho_wilson_low"] for p in sel])
            hi = np.array([p["rho_wilson_high"] for p in sel])
            ax.errorbar(x, y, yerr=[np.maximum(y - lo, 0), np.maximum(hi - y, 0)], fmt=marker, color=colour, ms=4, capsize=2, lw=1,
                        label=f"{topology}: simulated, Wilson 95 % CI")
            ax.plot(grid, diffusion_rho(grid, cr["ml_x0"], cr["ml_beta"], firms), color=colour, lw=1.2)
            if math.isfinite(cr["ml_lo"]) and math.isfinite(cr["ml_hi"]):
                level = 1.0 / firms * (0.9 if topology == "ring" else 1.1)
                ax.errorbar([cr["ml_x0"]], [level], xerr=[[cr["ml_x0"] - cr["ml_lo"]], [cr["ml_hi"] - cr["ml_x0"]]],
                            fmt="D", color=colour, ms=4, capsize=3, lw=1.5,
                            label=f"{topology}: crossing {cr['ml_x0']:.2f} [{cr['ml_lo']:.2f}, {cr['ml_hi']:.2f}]")
        ax.set_title(f"k = {k}, N = {firms}")
        ax.set_xlabel("b/c")
        ax.set_ylabel("fixation probability of cooperation")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=6.5, loc="upper left")
    fig.suptitle(f"Death-birth, w = {meta['selection']}, one cooperator among defectors: "
                 f"{meta['replicates']} runs per point (mode {meta['mode']}); lines: diffusion-form ML fits",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


# --------------------------------------------------------------------------- main


def parse_cases(text):
    cases = []
    for item in text.split(","):
        topology, _, k = item.partition(":")
        cases.append((topology.strip(), int(k)))
    return tuple(cases)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group()
    for name in MODES:
        group.add_argument(f"--{name}", dest="mode", action="store_const", const=name,
                           help=f"preset '{name}': {MODES[name]}")
    parser.set_defaults(mode="quick")
    parser.add_argument("--out", type=Path, help="output folder (default validation/results/MODE)")
    parser.add_argument("--bin", type=Path, default=Path(os.environ.get("COOPSWEEP_BIN", REPO / "build" / "coopsweep")),
                        help="coopsweep executable (default $COOPSWEEP_BIN or build/coopsweep)")
    parser.add_argument("--threads", type=int, help="worker threads for coopsweep run (0: all cores)")
    parser.add_argument("--replicates", type=int, help="runs per b/c, overriding the mode")
    parser.add_argument("--firms", type=int, help="N, overriding the mode")
    parser.add_argument("--rounds", type=int, help="round limit T, overriding the mode (every run must fix before it)")
    parser.add_argument("--cases", type=parse_cases, help="e.g. ring:2,regular:4 (default: the mode's)")
    parser.add_argument("--selection", type=float, default=0.01, help="selection intensity w (default 0.01)")
    parser.add_argument("--seed", type=int, default=2006, help="base seed; each (graph, k) adds 10 k + [regular]")
    parser.add_argument("--bootstrap", type=int, default=4000, help="bootstrap resamples (default 4000)")
    parser.add_argument("--reuse", action="store_true", help="keep results files written from the same spec")
    args = parser.parse_args(argv)

    base = MODES[args.mode]
    mode = dataclasses.replace(
        base,
        replicates=args.replicates or base.replicates,
        firms=args.firms or base.firms,
        rounds=args.rounds or base.rounds,
        cases=args.cases or base.cases,
        threads=base.threads if args.threads is None else args.threads)
    out = args.out or (REPO / "validation" / "results" / args.mode)
    (out / "specs").mkdir(parents=True, exist_ok=True)
    (out / "h5").mkdir(parents=True, exist_ok=True)
    if not args.bin.exists():
        raise SystemExit(f"ohtsuki.py: no coopsweep executable at {args.bin} (build it or pass --bin)")

    rng = np.random.default_rng(args.seed)
    points, crossings, timings = [], [], {}
    engine_version = ""
    total_start = time.perf_counter()
    failures = []
    for topology, k in mode.cases:
        name = f"{topology}_k{k}"
        seed = case_seed(args.seed, topology, k)
        spec_text = case_spec(mode, topology, k, seed, args.selection)
        spec_path = out / "specs" / f"{name}.toml"
        spec_path.write_text(spec_text)
        h5_path = out / "h5" / f"{name}.h5"
        print(f"ohtsuki.py: {name}: {len(mode.factors)} b/c x {mode.replicates} runs ...", file=sys.stderr, flush=True)
        timing = run_case(args.bin, spec_path, h5_path, mode.threads, args.reuse, spec_text)
        timings[name] = timing
        print(f"ohtsuki.py: {name}: {timing.get('wall_s', math.nan):.1f} s", file=sys.stderr, flush=True)

        data = load_case(h5_path, mode.rounds)
        engine_version = data["engine_version"]
        if data["capped"].any() or data["undecided"].any():
            failures.append(f"{name}: {int(data['capped'].sum())} runs reached rounds = {mode.rounds}, "
                            f"{int(data['undecided'].sum())} ended without fixation")
        lo, hi = wilson_interval(data["successes"], data["trials"])
        for i, x in enumerate(data["x"]):
            rho = data["successes"][i] / data["trials"][i]
            points.append({
                "topology": topology, "partners": k, "b_over_c": float(x), "runs": int(data["trials"][i]),
                "fixations": int(data["successes"][i]), "rho": float(rho),
                "rho_wilson_low": float(lo[i]), "rho_wilson_high": float(hi[i]), "rho_times_N": float(rho * mode.firms),
                "rho_first_order": float(first_order_rho(x, mode.firms, k, args.selection)),
                "undecided": int(data["undecided"][i]), "capped": int(data["capped"][i]),
                "rounds_run_max": int(data["rounds_max"][i]), "rounds_run_mean": float(data["rounds_mean"][i]),
            })
        result = analyse_case(data, mode.firms, k, args.selection, rng, args.bootstrap)
        crossings.append({"topology": topology, "partners": k, **result,
                          "runs": int(data["trials"].sum()), "rounds_run_max": int(data["rounds_max"].max()),
                          "wall_s": timing.get("wall_s", math.nan), "cpu_s": timing.get("cpu_s", math.nan)})

    meta = {
        "mode": args.mode, "firms": mode.firms, "selection": args.selection, "replicates": mode.replicates,
        "seed": args.seed, "factors": list(mode.factors), "rounds": mode.rounds, "threads": mode.threads,
        "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
        "engine_version": engine_version, "python": platform.python_version(), "host": platform.node(),
        "cpus": os.cpu_count(), "machine": platform.processor() or platform.machine(),
        "total_wall_s": time.perf_counter() - total_start,
        "simulation_wall_s": sum(t.get("wall_s", math.nan) for t in timings.values()),
        "simulation_cpu_s": sum(t.get("cpu_s", math.nan) for t in timings.values()),
        "cases": timings,
        "all_runs_fixed": not failures, "failures": failures,
    }
    write_points(out / "ohtsuki_points.csv", points)
    write_crossings(out / "ohtsuki_crossings.csv", out / "ohtsuki_crossings.md", crossings, meta)
    plot(out / "ohtsuki.png", points, crossings, meta)
    (out / "run.json").write_text(json.dumps(meta, indent=2) + "\n")
    print((out / "ohtsuki_crossings.md").read_text())
    print(f"ohtsuki.py: wrote {out} in {meta['total_wall_s']:.1f} s (simulations: {meta['simulation_wall_s']:.1f} s "
          f"wall, {meta['simulation_cpu_s']:.1f} s CPU)", file=sys.stderr)
    if failures:
        print("ohtsuki.py: not every run fixed: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
