"""The model of shared/MODEL.md in plain NumPy: one replicate at a time.

This is the implementation a competent researcher writes first: the graph in CSR
arrays with the index of every edge's reverse, each step of a round vectorized
over the directed edges or the firms (boolean masks, fancy indexing,
np.bincount for the sums over a firm's edges), and a Python loop over rounds.
It is a benchmark peer of the engine (benchmarks/peers/run_peers.py) and is held
to MODEL.md and to the engine by benchmarks/peers/test_peers.py.

    >>> import numpy_model
    >>> out = numpy_model.simulate(replicates=4, seed=1, scope=0.8, topology="ring")
    >>> out["cooperation"]            # one value per replicate, like coopsweep.simulate
"""

from __future__ import annotations

import numpy as np

import common
from common import CONDITIONAL, COOPERATOR, DEFECTOR, METRICS


def simulate_replicate(p: dict, rng: np.random.Generator) -> np.ndarray:
    """The metrics (METRICS order) of one replicate of the resolved parameters `p`."""
    n = int(p["firms"])
    rounds, window = int(p["rounds"]), int(p["window"])
    s, b, c, g = float(p["scope"]), float(p["benefit"]), float(p["cost"]), float(p["synergy"])
    market, upkeep = float(p["market"]), float(p["upkeep"])
    leakage, innovation = float(p["leakage"]), float(p["innovation"])
    tau0, h = float(p["trust_init"]), float(p["trust_threshold"])
    alpha, beta, delta, theta = (float(p["trust_gain"]), float(p["trust_loss"]), float(p["trust_decay"]),
                                 float(p["exit_threshold"]))
    epsilon = float(p["error"])
    rule, every, births = p["update_rule"], int(p["update_every"]), int(p["births"])
    selection, mu = float(p["selection"]), float(p["mutation"])
    may_stop = bool(p["stop_on_fixation"]) and mu == 0.0

    # Initialisation.
    offsets, src, tgt, rev = common.csr(n, common.build_edges(p, rng))
    edges = len(src)
    degree = np.diff(offsets).astype(np.float64)
    sigma = float(p["size_spread"])
    size = np.exp(sigma * rng.standard_normal(n) - sigma * sigma / 2.0) if sigma > 0.0 else np.ones(n)
    defectors, cooperators = common.strategy_counts(p)
    strategy = np.full(n, CONDITIONAL, dtype=np.int8)
    order = rng.permutation(n)
    strategy[order[:defectors]] = DEFECTOR
    strategy[order[defectors:defectors + cooperators]] = COOPERATOR
    d = np.ones(n)
    trust = np.full(edges, tau0)
    active = np.ones(edges, dtype=bool)

    # Constants of the round: v(s), the synergy term of each edge with its size
    # weight 2 a_i / (a_i + a_j), the leak per act, the two trust maps.
    v = s * (2.0 - s)
    pair = size[src] + size[tgt]
    synergy_edge = v * g * np.where(pair > 0.0, 2.0 * size[src] / np.where(pair > 0.0, pair, 1.0), 1.0)
    leak = 1.0 - leakage * s * s
    share_factor = market * (1.0 - s)

    def edge_strategies():
        se = strategy[src]
        return se == COOPERATOR, se == CONDITIONAL

    always, conditional = edge_strategies()

    cooperation_by_round = np.zeros(rounds)
    trust_by_round = np.zeros(rounds)
    capacity = min(window, rounds)
    recent_payoff = np.zeros((capacity, n))  # the payoffs of the last `capacity` rounds
    update_payoff = np.zeros(n)
    breakdown_round = rounds + 1
    rounds_run = rounds

    for t in range(1, rounds + 1):
        # 1. Actions, with execution errors.
        x = active & (always | (conditional & (trust >= h)))
        if epsilon > 0.0:
            x &= rng.random(edges) >= epsilon
        xf = x.astype(np.float64)
        y = xf[rev]

        # 2. Payoffs.
        q = size * d
        mean_quality = (q + np.bincount(src, weights=q[tgt], minlength=n)) / (1.0 + degree)
        alliance = np.bincount(src, weights=v * b * y - s * c * xf + synergy_edge * (xf * y), minlength=n)
        acts = np.bincount(src, weights=xf, minlength=n)
        alliances_of_firm = np.bincount(src, weights=active, minlength=n)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(mean_quality > 0.0, share_factor * d * q / mean_quality, 0.0)
        payoff = alliance + share - upkeep * alliances_of_firm

        # 3. Knowledge leaks, then innovation.
        d = leak ** acts * d
        d = d + innovation * (1.0 - d)

        # 4. Trust follows the partner's act (active alliances only).
        trust = np.where(active, np.where(y > 0.0, (1.0 - delta) * (trust + alpha * (1.0 - trust)),
                                          (1.0 - delta) * (1.0 - beta) * trust), trust)

        # 5. Dissolution when either side's trust is below theta.
        low = trust < theta
        active &= ~(low | low[rev])

        # Round metrics, after step 5 and before step 6.
        cooperation_t = acts.sum() / edges if edges else 0.0
        cooperation_by_round[t - 1] = cooperation_t
        trust_by_round[t - 1] = trust[active].sum() / edges if edges else 0.0
        recent_payoff[(t - 1) % capacity] = payoff
        if breakdown_round > rounds and cooperation_t < 0.05:
            breakdown_round = t

        # 6. Strategy update on the mean payoff of the last u rounds.
        updated = False
        if rule != "none":
            update_payoff += payoff
            if t % every == 0:
                fitness = update_payoff / every
                update_payoff[:] = 0.0
                if rule == "fermi":
                    _fermi(offsets, tgt, degree, fitness, strategy, selection, mu, rng)
                else:
                    _death_birth(offsets, tgt, rev, fitness, strategy, d, active, trust, births, selection,
                                 mu, tau0, rng)
                always, conditional = edge_strategies()
                updated = True

        # 7. Fixation (strategies change only in step 6).
        if may_stop and (t == 1 or updated) and np.all(strategy == strategy[0]):
            rounds_run = t
            break

    w = min(window, rounds_run)
    last = np.arange(rounds_run - w, rounds_run)
    return common.finish(p, rounds_run, breakdown_round, cooperation_by_round[last], trust_by_round[last],
                         recent_payoff[last % capacity].sum(axis=0), d, strategy, int(active.sum()), edges)


def _fermi(offsets, tgt, degree, fitness, strategy, selection, mu, rng):
    """Synchronous pairwise comparison with one partner each, then mutation of every firm."""
    n = len(strategy)
    has_partner = degree > 0
    pick = offsets[:-1] + np.floor(rng.random(n) * degree).astype(np.int64)
    j = tgt[np.where(has_partner, pick, 0)] if len(tgt) else np.zeros(n, dtype=np.int64)
    with np.errstate(over="ignore"):
        adopt_probability = 1.0 / (1.0 + np.exp(-selection * (fitness[j] - fitness)))
    adopt = has_partner & (rng.random(n) < adopt_probability)
    new = np.where(adopt, strategy[j], strategy)
    if mu > 0.0:
        new = np.where(rng.random(n) < mu, rng.integers(3, size=n), new)
    strategy[:] = new


def _death_birth(offsets, tgt, rev, fitness, strategy, d, active, trust, births, selection, mu, tau0, rng):
    """`births` replacements in turn: a uniform firm takes the strategy of a partner in G0
    chosen proportionally to max(0, 1 - w + w P_j); its alliances are re-formed."""
    n = len(strategy)
    for _ in range(births):
        i = int(rng.integers(n))
        lo, hi = offsets[i], offsets[i + 1]
        if lo == hi:
            continue  # no partner in G0, no parent: the firm survives
        partners = tgt[lo:hi]
        f = np.maximum(0.0, 1.0 - selection + selection * fitness[partners])
        total = f.sum()
        if total > 0.0:
            cumulative = np.cumsum(f)
            k = int(np.searchsorted(cumulative, rng.random() * total, side="right"))
            k = min(k, int(np.flatnonzero(f > 0.0)[-1]))  # rounding past the end
        else:
            k = int(rng.integers(hi - lo))
        newcomer = strategy[partners[k]]
        if mu > 0.0 and rng.random() < mu:
            newcomer = rng.integers(3)
        strategy[i] = newcomer
        d[i] = 1.0
        active[lo:hi] = True
        active[rev[lo:hi]] = True
        trust[lo:hi] = tau0
        trust[rev[lo:hi]] = tau0


def simulate(replicates: int = 1, seed: int = 0, **params) -> dict[str, np.ndarray]:
    """Replicates of one configuration: one float64 array of length `replicates` per metric.

    The same call as coopsweep.simulate (without threads); replicate r draws from
    numpy.random.default_rng(SeedSequence([seed, r])).
    """
    p = common.resolve(params)
    out = np.empty((len(METRICS), replicates))
    for r in range(replicates):
        out[:, r] = simulate_replicate(p, np.random.default_rng(common.replicate_seed(seed, r)))
    return dict(zip(METRICS, out))
