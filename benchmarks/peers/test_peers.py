"""The benchmark peers (NumPy, Numba) compute the model of shared/MODEL.md.

A speed ratio means something only between implementations of the same model, so
the peers are held to MODEL.md and to the engine before run_peers.py times them:

- exactly (1e-12 relative) on MODEL.md's deterministic cases, every firm
  conditional, sigma = epsilon = 0, no strategy update, on ring and regular graphs:
  against the closed forms of MODEL.md and against coopsweep.simulate;
- in distribution on stochastic configurations (graphs, sizes, errors, both update
  rules, mutation, stop at fixation): each metric's replicate mean agrees with the
  engine's within Z standard errors of the difference.

Run with PYTHONPATH=BUILD/python (CTest: pytest:peers, which also points
NUMBA_CACHE_DIR into the build tree so compiling happens once per build tree).
"""

from __future__ import annotations

import json
import math
import os
import pathlib

import numpy as np
import pytest

import common
import numba_model
import numpy_model

try:
    import coopsweep
except ImportError as error:  # a message instead of skipping: without the engine nothing is tested
    raise ImportError(f"{error}: build coopsweep (cmake --build BUILD) and run with PYTHONPATH=BUILD/python") from error

PEERS = {"numpy": numpy_model, "numba": numba_model}
TOPOLOGIES = ("ring", "regular")

# Relative (and, for values near 0, absolute) tolerance of the deterministic cases.
EXACT = 1e-12

# Stochastic agreement: |mean_peer - mean_engine| <= Z standard errors of the
# difference (pooled variance; see disagreements).
# Two-sided normal tail at 5.3 standard errors: 1.2e-7 per comparison; over the
# at most 200 comparisons below (fewer: constants are compared exactly) a false
# failure has probability below 2.5e-5.
Z = 5.3


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=EXACT, abs_tol=EXACT)


def assert_metrics(got: dict, expected: dict, what: str) -> None:
    bad = {m: (float(got[m]), float(expected[m])) for m in expected if not close(float(got[m]), float(expected[m]))}
    assert not bad, f"{what}: metric: (got, expected): {bad}"


# ---------------------------------------------------------------------------
# MODEL.md's exact cases, in MODEL.md's closed forms.


def cooperation_for_ever(p: dict) -> dict:
    """tau0 >= h and tau_t >= h for every round: everyone cooperates with every partner."""
    k, rounds, window = p["partners"], p["rounds"], p["window"]
    s, b, c, g = p["scope"], p["benefit"], p["cost"], p["synergy"]
    alpha, delta = p["trust_gain"], p["trust_decay"]
    v = s * (2 - s)
    tau, d = p["trust_init"], 1.0
    taus, payoffs = [], []
    for _ in range(rounds):
        assert tau >= p["trust_threshold"], "not a cooperation-for-ever case"
        payoffs.append(k * ((b + g) * v - c * s) + p["market"] * (1 - s) * d - p["upkeep"] * k)  # pi_t
        d = p["innovation"] + (1 - p["innovation"]) * (1 - p["leakage"] * s * s) ** k * d  # d_{t+1}
        tau = (1 - delta) * (tau + alpha * (1 - tau))  # tau_{t+1}, read after the round
        taus.append(tau)
    tau_star = (1 - delta) * alpha / (alpha + delta - alpha * delta)
    assert tau_star >= p["trust_threshold"] or min(taus) >= p["trust_threshold"]
    mean_payoff = sum(payoffs[-window:]) / window
    return {"cooperation": 1.0, "alliances": 1.0, "trust": sum(taus[-window:]) / window, "payoff": mean_payoff,
            "payoff_gini": 0.0 if mean_payoff > 0 else math.nan, "differentiation": d,
            "share_conditional": 1.0, "share_cooperator": 0.0, "share_defector": 0.0,
            "freerider_gap": math.nan, "breakdown_round": rounds + 1.0, "rounds_run": float(rounds)}


def never_cooperating(p: dict) -> dict:
    """tau0 < h: nobody cooperates, tau_t = ((1-delta)(1-beta))^t tau0, and every alliance
    dissolves at the first round with tau_t < theta."""
    k, rounds, window, s = p["partners"], p["rounds"], p["window"], p["scope"]
    assert p["trust_init"] < p["trust_threshold"], "not a never-cooperating case"
    factor = (1 - p["trust_decay"]) * (1 - p["trust_loss"])
    dissolved = next((t for t in range(1, rounds + 1) if factor ** t * p["trust_init"] < p["exit_threshold"]),
                     rounds + 1)
    # d stays 1 (no acts, innovation keeps it at 1); upkeep is paid through the round of dissolution.
    payoffs = [p["market"] * (1 - s) - p["upkeep"] * k * (t <= dissolved) for t in range(1, rounds + 1)]
    trusts = [factor ** t * p["trust_init"] if t < dissolved else 0.0 for t in range(1, rounds + 1)]
    mean_payoff = sum(payoffs[-window:]) / window
    return {"cooperation": 0.0, "alliances": 0.0 if dissolved <= rounds else 1.0,
            "trust": sum(trusts[-window:]) / window, "payoff": mean_payoff,
            "payoff_gini": 0.0 if mean_payoff > 0 else math.nan, "differentiation": 1.0,
            "share_conditional": 1.0, "share_cooperator": 0.0, "share_defector": 0.0,
            "freerider_gap": math.nan, "breakdown_round": 1.0, "rounds_run": float(rounds)}


# Every firm conditional, sigma = 0, epsilon = 0, no update (the defaults but f_D).
DETERMINISTIC = {"defectors": 0.0, "cooperators": 0.0, "size_spread": 0.0, "error": 0.0, "update_rule": "none",
                 "firms": 20}

EXACT_CASES = {
    # tau* = 0.936 >= h: the default model without free riders.
    "cooperate-default": ({}, cooperation_for_ever),
    "cooperate-full-scope": ({"scope": 1.0, "partners": 6, "leakage": 0.3, "innovation": 0.05, "rounds": 30,
                              "window": 30, "upkeep": 1.5}, cooperation_for_ever),
    # tau0 = h exactly cooperates (tau_t >= h).
    "cooperate-at-threshold": ({"trust_init": 0.5, "rounds": 40, "window": 7}, cooperation_for_ever),
    # tau_t = 0.686^t 0.4 falls below theta = 0.05 at t = 6, inside the window.
    "dissolve-round-6": ({"trust_init": 0.4, "rounds": 10, "window": 10}, never_cooperating),
    "dissolve-late": ({"trust_init": 0.45, "trust_loss": 0.1, "trust_decay": 0.05, "exit_threshold": 0.2,
                       "rounds": 40, "window": 25}, never_cooperating),
    # Trust never falls below theta = 0 (upkeep and market off: payoff 0, Gini NaN).
    "never-dissolve": ({"trust_init": 0.3, "exit_threshold": 0.0, "rounds": 15, "window": 5, "market": 0.0,
                        "upkeep": 0.0}, never_cooperating),
}

# Deterministic, but outside the closed forms: tau0 >= h > tau*, so cooperation
# stops after two rounds and the alliances dissolve later. Peers against the engine.
ENGINE_ONLY_CASES = {
    "cooperation-then-dissolution": {"trust_decay": 0.3, "rounds": 20, "window": 20},
    "dense-regular": {"partners": 14, "trust_decay": 0.1, "rounds": 25, "window": 10},
}


def resolved(overrides: dict, topology: str) -> dict:
    return common.resolve({**DETERMINISTIC, **overrides, "topology": topology})


@pytest.mark.parametrize("topology", TOPOLOGIES)
@pytest.mark.parametrize("case", sorted(EXACT_CASES))
def test_engine_matches_the_closed_forms(case, topology):
    overrides, closed_form = EXACT_CASES[case]
    p = resolved(overrides, topology)
    out = coopsweep.simulate(replicates=2, seed=7, **{k: p[k] for k in common.DEFAULTS})
    for r in range(2):
        assert_metrics({m: out[m][r] for m in common.METRICS}, closed_form(p), f"engine, {case}, {topology}")


@pytest.mark.parametrize("topology", TOPOLOGIES)
@pytest.mark.parametrize("case", sorted(EXACT_CASES) + sorted(ENGINE_ONLY_CASES))
@pytest.mark.parametrize("peer", sorted(PEERS))
def test_peer_matches_the_closed_forms_and_the_engine(peer, case, topology):
    overrides = EXACT_CASES[case][0] if case in EXACT_CASES else ENGINE_ONLY_CASES[case]
    p = resolved(overrides, topology)
    params = {k: p[k] for k in common.DEFAULTS}
    got = PEERS[peer].simulate(replicates=2, seed=3, **params)
    engine = coopsweep.simulate(replicates=1, seed=11, **params)
    for r in range(2):
        one = {m: got[m][r] for m in common.METRICS}
        if case in EXACT_CASES:
            assert_metrics(one, EXACT_CASES[case][1](p), f"{peer}, {case}, {topology}, closed form")
        assert_metrics(one, {m: engine[m][0] for m in common.METRICS}, f"{peer}, {case}, {topology}, engine")


# ---------------------------------------------------------------------------
# Stochastic configurations: replicate means against the engine's.

STOCHASTIC = {
    # The default model (regular graph, N = 100, 10 % free riders): the benchmark's.
    "default": ({}, {"engine": 600, "numba": 300, "numpy": 30}),
    # Sizes, execution errors, all three strategies, fermi updating with mutation, small world.
    "fermi-small-world": ({"topology": "small_world", "firms": 40, "rounds": 60, "window": 20,
                           "size_spread": 0.8, "error": 0.1, "defectors": 0.3, "cooperators": 0.2,
                           "update_rule": "fermi", "update_every": 5, "mutation": 0.05, "scope": 0.7},
                          {"engine": 1500, "numba": 600, "numpy": 60}),
    # Death-birth with several births, stop at fixation, scale-free graph.
    "death-birth-fixation": ({"topology": "scale_free", "firms": 16, "rounds": 200, "window": 10,
                              "defectors": 0.5, "update_rule": "death_birth", "update_every": 2, "births": 2,
                              "selection": 0.5, "stop_on_fixation": True, "trust_decay": 0.1},
                             {"engine": 1500, "numba": 600, "numpy": 60}),
    # Erdos-Renyi graph (isolated firms possible), death-birth with mutation, errors.
    "death-birth-random": ({"topology": "random", "firms": 30, "partners": 3, "rounds": 50, "window": 10,
                            "error": 0.05, "update_rule": "death_birth", "update_every": 1, "mutation": 0.1,
                            "cooperators": 0.3}, {"engine": 1500, "numba": 600, "numpy": 60}),
}


def defined(values: np.ndarray) -> np.ndarray:
    return values[~np.isnan(values)]


def disagreements(peer_out: dict, engine_out: dict) -> dict:
    """Metrics whose means differ by more than Z standard errors, and the shares of
    replicates where a metric is NaN (payoff_gini, freerider_gap) likewise.

    The standard error of the difference pools the two samples' variances: under
    the hypothesis tested (one distribution) they are equal, and pooling keeps a
    rare event that one sample happened not to see (a NaN share of 0 out of 60)
    from having a standard error of 0.
    """
    bad = {}
    for m in common.METRICS:
        columns = {m: (defined(peer_out[m]), defined(engine_out[m])),
                   f"{m} is NaN": (np.isnan(peer_out[m]).astype(float), np.isnan(engine_out[m]).astype(float))}
        for name, (a, b) in columns.items():
            na, nb = len(a), len(b)
            if na < 2 or nb < 2:
                if (na == 0) != (nb == 0):
                    bad[name] = f"defined in {na} peer and {nb} engine replicates"
                continue
            ma, mb = float(a.mean()), float(b.mean())
            if np.ptp(a) <= EXACT * max(1.0, abs(ma)) and np.ptp(b) <= EXACT * max(1.0, abs(mb)):
                if not close(ma, mb):  # constant in both: equal
                    bad[name] = f"constant {ma} (peer) vs {mb} (engine)"
                continue
            pooled = ((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2)
            se = math.sqrt(pooled * (1.0 / na + 1.0 / nb))
            if abs(ma - mb) > Z * se:
                bad[name] = f"{ma:.6g} vs {mb:.6g}: {abs(ma - mb) / se:.1f} standard errors"
    return bad


@pytest.fixture(scope="module")
def engine_runs():
    return {name: coopsweep.simulate(replicates=counts["engine"], seed=2024, **params)
            for name, (params, counts) in STOCHASTIC.items()}


@pytest.mark.parametrize("config", sorted(STOCHASTIC))
@pytest.mark.parametrize("peer", sorted(PEERS))
def test_peer_agrees_with_the_engine_in_distribution(peer, config, engine_runs):
    params, counts = STOCHASTIC[config]
    got = PEERS[peer].simulate(replicates=counts[peer], seed=5, **params)
    bad = disagreements(got, engine_runs[config])
    assert not bad, f"{peer} vs engine, {config}: {bad}"


@pytest.mark.parametrize("peer, change, metric", [("numba", {"trust_decay": 0.03}, "trust"),
                                                   ("numpy", {"leakage": 0.055}, "differentiation")])
def test_the_comparison_detects_a_different_model(peer, change, metric, engine_runs):
    """The test has power: a peer run with trust decay 0.03 instead of 0.02, or with
    leakage 0.055 instead of 0.05, fails it, with a third of the replicates."""
    params, counts = STOCHASTIC["default"]
    got = PEERS[peer].simulate(replicates=counts[peer] // 3, seed=5, **{**params, **change})
    assert metric in disagreements(got, engine_runs["default"])


# ---------------------------------------------------------------------------
# The peers' graphs.


@pytest.mark.parametrize("topology, firms, partners", [
    ("ring", 12, 4), ("regular", 30, 3), ("regular", 10, 7), ("small_world", 30, 4),
    ("scale_free", 30, 4), ("random", 30, 4), ("complete", 7, 6)])
@pytest.mark.parametrize("peer", sorted(PEERS))
def test_peer_graphs_are_simple_with_reverse_edges(peer, topology, firms, partners):
    p = common.resolve({"topology": topology, "firms": firms, "partners": partners, "rewire": 0.5})
    for r in range(5):
        rng = np.random.default_rng(r)
        if peer == "numba" and topology in ("ring", "regular"):
            numba_model._seed(r)
            edges = (numba_model._ring_edges(firms, partners // 2) if topology == "ring"
                     else numba_model._regular_edges(firms, partners))
            offsets, src, tgt, rev = numba_model._csr(firms, edges)
        else:
            offsets, src, tgt, rev = common.csr(firms, common.build_edges(p, rng))
        assert np.all(src != tgt)
        assert np.all(rev[rev] == np.arange(len(src)))
        assert np.all(src[rev] == tgt) and np.all(tgt[rev] == src)
        for i in range(firms):
            row = tgt[offsets[i]:offsets[i + 1]]
            assert np.all(np.diff(row) > 0)  # sorted, no multi-edges
            assert np.all(src[offsets[i]:offsets[i + 1]] == i)
        degree = np.diff(offsets)
        if topology in ("ring", "regular", "complete"):
            assert np.all(degree == partners)
        if topology == "small_world":
            assert len(src) == firms * partners
        if topology == "scale_free":
            m = partners // 2
            assert len(src) == 2 * (m * (m + 1) // 2 + m * (firms - m - 1))


def test_regular_graphs_are_shuffled():
    """The swaps leave few ring edges: the regular graph is not the ring."""
    numba_model._seed(1)
    for edges in (numba_model._regular_edges(200, 4),
                  common.regular_edges(200, 4, np.random.default_rng(1))):
        ring_like = np.count_nonzero(np.minimum((edges[:, 0] - edges[:, 1]) % 200, (edges[:, 1] - edges[:, 0]) % 200)
                                     <= 2)
        assert ring_like < 0.1 * len(edges)


# ---------------------------------------------------------------------------
# run_peers.py runs and writes its JSON (a smoke run: it measures nothing).


def test_run_peers_quick_writes_json(tmp_path):
    import run_peers

    out = tmp_path / "peers.json"
    assert run_peers.main(["--quick", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["machine"]["threads"].startswith("1")
    (entry,) = report["results"].values()
    for impl in run_peers.IMPLEMENTATIONS:
        r = entry["implementations"][impl]
        assert len(r["repetitions"]) == report["repetitions"] == 2
        assert r["median_edge_rounds_per_second"] > 0 and r["median_configurations_per_second"] > 0
    assert set(entry["ratios"]) == {"engine/numba", "engine/numpy"}
    assert all(r["of_medians"] > 0 for r in entry["ratios"].values())


# The ceilings: the floor of a replicate from bench_kernels' parts, and the
# ratios it bounds (timed briefly: the numbers are not checked, the arithmetic
# and the counters are).


def test_ceilings_price_the_graph_and_the_error_draws():
    import run_peers

    binary = pathlib.Path(os.environ.get("COOPSWEEP_BENCH_DIR", run_peers.ROOT / "build" / "benchmarks")) / "bench_kernels"
    if not binary.exists():
        pytest.skip(f"{binary} not built (COOPSWEEP_BUILD_BENCHMARKS=OFF)")
    numba_per_second = 1000.0
    reference_per_second = 800.0
    results = {name: {"params": dict(run_peers.CONFIGS[name]),
                      "implementations": {"numba": {"median_configurations_per_second": numba_per_second}},
                      "bench_kernels": {"BM_ReferenceKernel": {"median_configurations_per_second": reference_per_second}},
                      "ratios": {}}
               for name in ("default", "ring+errors")}
    run_peers.ceilings(binary, 1, results, min_time=0.01)
    default, errors = results["default"]["floor"], results["ring+errors"]["floor"]
    # Without errors nothing is drawn in the rounds; the floor is the graph.
    assert default["error_blocks_per_edge_round"] == 0.0
    assert default["seconds_per_replicate"] == default["graph_seconds"] > 0
    # With errors, at most one block per 4 directed edges and round (400 edges here).
    assert 0.0 < errors["error_blocks_per_edge_round"] <= 0.25
    assert errors["error_philox_seconds"] == pytest.approx(
        errors["error_blocks_per_edge_round"] * 400 * 200 * errors["philox_block_seconds"])
    assert errors["seconds_per_replicate"] == pytest.approx(errors["graph_seconds"] + errors["error_philox_seconds"])
    # A random regular graph costs more than the ring.
    assert default["graph_seconds"] > errors["graph_seconds"]
    for name, entry in results.items():
        floor = entry["floor"]["seconds_per_replicate"]
        assert entry["ratios"]["ceiling engine/numba"]["of_medians"] == pytest.approx(1.0 / (numba_per_second * floor))
        assert entry["ratios"]["ceiling vectorized/reference"]["of_medians"] == pytest.approx(
            1.0 / (reference_per_second * floor))
