"""What the NumPy and Numba peers share: parameters, alliance graphs, metrics.

The peers are independent implementations of shared/MODEL.md, written the way a
researcher would write the model in Python, to measure the engine against. They
share nothing with the engine but the specification: their random numbers come
from NumPy's and Numba's own generators, so they agree with the engine exactly
where a run is deterministic and in distribution where it is stochastic
(benchmarks/peers/test_peers.py holds them to both).

Everything here runs once per replicate (the graph, the metrics at the end), not
once per round; the per-round work is in numpy_model.py and numba_model.py.
"""

from __future__ import annotations

import math

import numpy as np

# Every parameter of MODEL.md with its default.
DEFAULTS: dict[str, object] = {
    "firms": 100,
    "partners": 4,
    "topology": "regular",
    "rewire": 0.1,
    "rounds": 200,
    "window": 50,
    "scope": 0.5,
    "benefit": 3.0,
    "cost": 1.0,
    "synergy": 0.5,
    "market": 10.0,
    "upkeep": 0.2,
    "leakage": 0.05,
    "innovation": 0.1,
    "size_spread": 0.0,
    "trust_init": 0.6,
    "trust_threshold": 0.5,
    "trust_gain": 0.3,
    "trust_loss": 0.3,
    "trust_decay": 0.02,
    "exit_threshold": 0.05,
    "error": 0.0,
    "defectors": 0.1,
    "cooperators": 0.0,
    "update_rule": "none",
    "update_every": 10,
    "births": 1,
    "selection": 1.0,
    "mutation": 0.0,
    "stop_on_fixation": False,
}

# The metrics of MODEL.md, in the engine's order.
METRICS = (
    "cooperation",
    "trust",
    "alliances",
    "payoff",
    "payoff_gini",
    "differentiation",
    "share_conditional",
    "share_cooperator",
    "share_defector",
    "freerider_gap",
    "breakdown_round",
    "rounds_run",
)

CONDITIONAL, COOPERATOR, DEFECTOR = 0, 1, 2
TOPOLOGIES = ("ring", "regular", "small_world", "scale_free", "random", "complete")
UPDATE_RULES = ("none", "fermi", "death_birth")


def resolve(params: dict) -> dict:
    """The defaults overlaid with `params`, checked against MODEL.md's topology rules.

    Raises ValueError for an unknown name or a broken rule. The peers check
    less than the engine does (no domain of every parameter): they are
    benchmarks, called with configurations the engine has accepted.
    """
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown parameter(s): {', '.join(unknown)}")
    p = {**DEFAULTS, **params}
    n = int(p["firms"])
    if p["topology"] not in TOPOLOGIES:
        raise ValueError(f"topology = {p['topology']!r}; allowed: {TOPOLOGIES}")
    if p["update_rule"] not in UPDATE_RULES:
        raise ValueError(f"update_rule = {p['update_rule']!r}; allowed: {UPDATE_RULES}")
    if p["topology"] == "complete":
        p["partners"] = n - 1
    k = int(p["partners"])
    if n < 2 or not 1 <= k <= n - 1:
        raise ValueError(f"firms = {n}, partners = {k}: need firms >= 2 and 1 <= partners <= firms - 1")
    if p["topology"] in ("ring", "small_world", "scale_free") and k % 2:
        raise ValueError(f"partners = {k} must be even for topology {p['topology']}")
    if p["topology"] == "regular" and (n * k) % 2:
        raise ValueError("firms * partners must be even for a regular graph")
    if not 1 <= int(p["window"]) <= int(p["rounds"]):
        raise ValueError("window must be in [1, rounds]")
    if float(p["defectors"]) + float(p["cooperators"]) > 1.0:
        raise ValueError("cooperators + defectors must be <= 1")
    return p


def strategy_counts(p: dict) -> tuple[int, int]:
    """(defectors, cooperators) of initialisation step 3: round(f N), half away from zero.

    Python's round() rounds half to even; MODEL.md's round is taken as the usual
    half-up one (the engine's std::llround). Cooperators take what the defectors
    leave when the two roundings sum past N (N = 3, f_C = f_D = 0.5).
    """
    n = int(p["firms"])
    defectors = int(math.floor(float(p["defectors"]) * n + 0.5))
    cooperators = min(int(math.floor(float(p["cooperators"]) * n + 0.5)), n - defectors)
    return defectors, cooperators


def replicate_seed(seed: int, replicate: int) -> np.random.SeedSequence:
    """The seed sequence of one replicate: independent streams for every (seed, replicate)."""
    return np.random.SeedSequence([int(seed), int(replicate)])


# ---------------------------------------------------------------------------
# Alliance graphs (initialisation step 1), as arrays of undirected edges (m, 2).


def ring_edges(n: int, half: int) -> np.ndarray:
    """i ~ i + m (mod n) for m = 1..half."""
    i = np.arange(n, dtype=np.int64)
    rings = [np.stack([i, (i + m) % n], axis=1) for m in range(1, half + 1)]
    return np.concatenate(rings) if rings else np.empty((0, 2), dtype=np.int64)


def _sparse_regular_edges(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """A random k-regular graph: the circulant graph, then 20 |E| double-edge swap attempts.

    The count is fixed in attempts (not in successes, which would bias the law of
    the graph); sparse graphs accept nearly all of them, so MODEL.md's "at least
    10 |E| swaps" holds. An attempt takes two distinct edges (a, b), (c, d),
    reversed to (d, c) on a coin, and proposes (a, d), (c, b) unless that makes a
    self-loop or a multi-edge.
    """
    edges = ring_edges(n, k // 2)
    if k % 2:
        half = n // 2
        i = np.arange(half, dtype=np.int64)
        edges = np.concatenate([edges, np.stack([i, i + half], axis=1)])
    m = len(edges)
    if m < 2:
        return edges
    attempts = 20 * m
    first = rng.integers(m, size=attempts)
    second = rng.integers(m - 1, size=attempts)
    second += second >= first
    flips = rng.integers(2, size=attempts).astype(bool)
    present = {(min(a, b), max(a, b)) for a, b in edges.tolist()}
    pairs = edges.tolist()
    for e1, e2, flip in zip(first.tolist(), second.tolist(), flips.tolist()):
        a, b = pairs[e1]
        c, d = pairs[e2]
        if flip:
            c, d = d, c
        if a == d or c == b:
            continue
        ad = (a, d) if a < d else (d, a)
        cb = (c, b) if c < b else (b, c)
        if ad in present or cb in present:
            continue
        present.discard((a, b) if a < b else (b, a))
        present.discard((c, d) if c < d else (d, c))
        present.add(ad)
        present.add(cb)
        pairs[e1] = [a, d]
        pairs[e2] = [c, b]
    return np.asarray(pairs, dtype=np.int64)


def complement_edges(n: int, edges: np.ndarray) -> np.ndarray:
    """Every pair {i, j} not in `edges`."""
    adjacent = np.zeros((n, n), dtype=bool)
    adjacent[edges[:, 0], edges[:, 1]] = True
    adjacent[edges[:, 1], edges[:, 0]] = True
    i, j = np.nonzero(np.triu(~adjacent, 1))
    return np.stack([i, j], axis=1).astype(np.int64)


def regular_edges(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """A random k-regular graph; dense ones (k > (n-1)/2) as complements of (n-1-k)-regular ones."""
    if 2 * k <= n - 1:
        return _sparse_regular_edges(n, k, rng)
    return complement_edges(n, _sparse_regular_edges(n, n - 1 - k, rng))


def small_world_edges(n: int, k: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Watts-Strogatz: each ring edge (i, i+m), m = 1..k/2, is rewired with probability p
    to (i, j), j uniform among the firms that are neither i nor allied with i."""
    half = k // 2
    edges = ring_edges(n, half).tolist()
    neighbours = [set() for _ in range(n)]
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    for m in range(1, half + 1):
        for i in range(n):
            if not rng.random() < p:
                continue
            slot = (m - 1) * n + i
            old = edges[slot][1]
            if len(neighbours[i]) >= n - 1:
                continue
            while True:
                j = int(rng.integers(n))
                if j != i and j not in neighbours[i]:
                    break
            neighbours[i].discard(old)
            neighbours[old].discard(i)
            neighbours[i].add(j)
            neighbours[j].add(i)
            edges[slot] = [i, j]
    return np.asarray(edges, dtype=np.int64).reshape(-1, 2)


def scale_free_edges(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Barabasi-Albert: K_{m+1}, then each new firm attaches to m = k/2 distinct firms
    drawn proportionally to degree (uniform entries of the list of edge endpoints)."""
    m = k // 2
    edges = [[i, j] for i in range(m + 1) for j in range(i + 1, m + 1)]
    endpoints = [f for edge in edges for f in edge]
    for t in range(m + 1, n):
        targets: list[int] = []
        while len(targets) < m:
            f = endpoints[int(rng.integers(len(endpoints)))]
            if f not in targets:
                targets.append(f)
        for f in targets:
            edges.append([t, f])
            endpoints += [t, f]
    return np.asarray(edges, dtype=np.int64).reshape(-1, 2)


def random_edges(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Erdos-Renyi G(n, k/(n-1)): row by row, a binomial number of partners j > i, uniform."""
    if k == n - 1:
        return complete_edges(n)
    p = k / (n - 1)
    rows = []
    for i in range(n - 1):
        count = rng.binomial(n - 1 - i, p)
        if count:
            j = i + 1 + rng.choice(n - 1 - i, size=count, replace=False)
            rows.append(np.stack([np.full(count, i), j], axis=1))
    return np.concatenate(rows).astype(np.int64) if rows else np.empty((0, 2), dtype=np.int64)


def complete_edges(n: int) -> np.ndarray:
    i, j = np.triu_indices(n, 1)
    return np.stack([i, j], axis=1).astype(np.int64)


def build_edges(p: dict, rng: np.random.Generator) -> np.ndarray:
    """The undirected edges of G0 for the resolved parameters `p`."""
    n, k, topology = int(p["firms"]), int(p["partners"]), p["topology"]
    if topology == "ring":
        return ring_edges(n, k // 2)
    if topology == "regular":
        return regular_edges(n, k, rng)
    if topology == "small_world":
        return small_world_edges(n, k, float(p["rewire"]), rng)
    if topology == "scale_free":
        return scale_free_edges(n, k, rng)
    if topology == "random":
        return random_edges(n, k, rng)
    return complete_edges(n)


def csr(n: int, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(offsets, source, target, reverse) of the directed edges, rows sorted by target.

    Directed edge e = (source[e] -> target[e]) and reverse[e] = (target[e] -> source[e]).
    """
    source = np.concatenate([edges[:, 0], edges[:, 1]]).astype(np.int64)
    target = np.concatenate([edges[:, 1], edges[:, 0]]).astype(np.int64)
    order = np.lexsort((target, source))
    source, target = source[order], target[order]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=n), out=offsets[1:])
    key = source * n + target  # ascending
    reverse = np.searchsorted(key, target * n + source)
    return offsets, source, target, reverse


# ---------------------------------------------------------------------------
# Metrics at the end of a replicate.


def gini(y: np.ndarray) -> float:
    """sum_i sum_j |y_i - y_j| / (2 N sum_i y_i), NaN unless sum_i y_i > 0.

    Through the sorted values, 2 sum_k k (N - k) (y_(k) - y_(k-1)): equal
    payoffs give exactly 0.
    """
    total = float(y.sum())
    if not total > 0.0:
        return math.nan
    s = np.sort(y)
    n = len(s)
    k = np.arange(1, n, dtype=np.float64)
    pairs = float(np.sum(k * (n - k) * np.diff(s)))
    return 2.0 * pairs / (2.0 * n * total)


def finish(p: dict, rounds_run: int, breakdown_round: int, cooperation_by_round: np.ndarray,
           trust_by_round: np.ndarray, window_payoff: np.ndarray, differentiation: np.ndarray,
           strategy: np.ndarray, active_edges: int, edges: int) -> np.ndarray:
    """The metrics of MODEL.md, in METRICS order, of one replicate.

    `cooperation_by_round` and `trust_by_round` hold the rounds of the window,
    `window_payoff` is Y_i (each firm's payoff summed over the window).
    """
    n = len(strategy)
    w = float(len(cooperation_by_round))
    defector = strategy == DEFECTOR
    n_defector = int(defector.sum())
    n_other = n - n_defector
    gap = (float(window_payoff[defector].sum() / w / n_defector - window_payoff[~defector].sum() / w / n_other)
           if n_defector and n_other else math.nan)
    return np.array([
        cooperation_by_round.sum() / w,
        trust_by_round.sum() / w,
        active_edges / edges if edges else 1.0,
        window_payoff.sum() / (w * n),
        gini(window_payoff),
        differentiation.mean(),
        np.count_nonzero(strategy == CONDITIONAL) / n,
        np.count_nonzero(strategy == COOPERATOR) / n,
        n_defector / n,
        gap,
        float(breakdown_round),
        float(rounds_run),
    ])
