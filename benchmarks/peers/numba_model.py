"""The model of shared/MODEL.md with Numba: one replicate per compiled call.

The way a researcher who knows Numba writes the model: plain loops over the
directed edges and the firms (CSR arrays with the index of every edge's
reverse), compiled once with @njit (no parallel=True, no fastmath: one thread,
IEEE arithmetic, like the engine it is compared with). Random numbers come from
Numba's own generator (np.random inside jitted code), seeded per replicate. The
ring and random regular graphs (the topologies the benchmarks use) are built in
compiled code too; the other four topologies come from the plain-Python builders
of common.py.

Compiling takes seconds; `warm_up()` does it (and with cache=True the compiled
code is kept in __pycache__, or in NUMBA_CACHE_DIR) so that timings exclude it.
Held to MODEL.md and the engine by benchmarks/peers/test_peers.py.

    >>> import numba_model
    >>> out = numba_model.simulate(replicates=4, seed=1, scope=0.8, topology="ring")
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

import common
from common import CONDITIONAL, COOPERATOR, DEFECTOR, METRICS

# Slots of the float and integer parameter arrays passed to the compiled replicate.
(S, B, C, G, M, KAPPA, LAMBDA, RHO, SIGMA, TAU0, H, ALPHA, BETA, DELTA, THETA, EPSILON, W, MU) = range(18)
(ROUNDS, WINDOW, RULE, EVERY, BIRTHS, STOP, N_DEFECTORS, N_COOPERATORS) = range(8)
RULES = {"none": 0, "fermi": 1, "death_birth": 2}


@njit(cache=True)
def _seed(seed):
    np.random.seed(seed)


@njit(cache=True)
def _regular_edges(n, k):
    """A random k-regular graph: circulant start, 20 |E| double-edge swap attempts
    (see common._sparse_regular_edges); dense graphs as complements."""
    dense = 2 * k > n - 1
    kk = n - 1 - k if dense else k
    m = n * kk // 2
    edges = np.empty((m, 2), dtype=np.int64)
    rows = np.empty((n, max(kk, 1)), dtype=np.int64)  # neighbours of each firm, for the membership test
    fill = np.zeros(n, dtype=np.int64)
    e = 0
    for step in range(1, kk // 2 + 1):
        for i in range(n):
            edges[e, 0] = i
            edges[e, 1] = (i + step) % n
            e += 1
    if kk % 2 == 1:
        for i in range(n // 2):
            edges[e, 0] = i
            edges[e, 1] = i + n // 2
            e += 1
    for e in range(m):
        a, b = edges[e, 0], edges[e, 1]
        rows[a, fill[a]] = b
        fill[a] += 1
        rows[b, fill[b]] = a
        fill[b] += 1
    if m >= 2:
        for _ in range(20 * m):
            e1 = np.random.randint(0, m)
            e2 = np.random.randint(0, m - 1)
            if e2 >= e1:
                e2 += 1
            a, b = edges[e1, 0], edges[e1, 1]
            c, d = edges[e2, 0], edges[e2, 1]
            if np.random.randint(0, 2) == 1:
                c, d = d, c
            if a == d or c == b:
                continue
            clash = False
            for r in range(kk):
                if rows[a, r] == d or rows[c, r] == b:
                    clash = True
                    break
            if clash:
                continue
            _replace(rows, a, b, d, kk)
            _replace(rows, b, a, c, kk)
            _replace(rows, c, d, b, kk)
            _replace(rows, d, c, a, kk)
            edges[e1, 0], edges[e1, 1] = a, d
            edges[e2, 0], edges[e2, 1] = c, b
    if not dense:
        return edges
    adjacent = np.zeros((n, n), dtype=np.bool_)
    for e in range(m):
        adjacent[edges[e, 0], edges[e, 1]] = True
        adjacent[edges[e, 1], edges[e, 0]] = True
    out = np.empty((n * k // 2, 2), dtype=np.int64)
    e = 0
    for i in range(n):
        for j in range(i + 1, n):
            if not adjacent[i, j]:
                out[e, 0], out[e, 1] = i, j
                e += 1
    return out


@njit(cache=True)
def _replace(rows, firm, old, new, width):
    for r in range(width):
        if rows[firm, r] == old:
            rows[firm, r] = new
            return


@njit(cache=True)
def _ring_edges(n, half):
    edges = np.empty((n * half, 2), dtype=np.int64)
    e = 0
    for step in range(1, half + 1):
        for i in range(n):
            edges[e, 0] = i
            edges[e, 1] = (i + step) % n
            e += 1
    return edges


@njit(cache=True)
def _csr(n, edges):
    """(offsets, source, target, reverse), rows sorted by target."""
    m = edges.shape[0]
    offsets = np.zeros(n + 1, dtype=np.int64)
    for e in range(m):
        offsets[edges[e, 0] + 1] += 1
        offsets[edges[e, 1] + 1] += 1
    for i in range(n):
        offsets[i + 1] += offsets[i]
    cursor = offsets[:-1].copy()
    source = np.empty(2 * m, dtype=np.int64)
    target = np.empty(2 * m, dtype=np.int64)
    for e in range(m):
        a, b = edges[e, 0], edges[e, 1]
        source[cursor[a]], target[cursor[a]] = a, b
        cursor[a] += 1
        source[cursor[b]], target[cursor[b]] = b, a
        cursor[b] += 1
    for i in range(n):
        target[offsets[i]:offsets[i + 1]].sort()
    reverse = np.empty(2 * m, dtype=np.int64)
    for e in range(2 * m):
        j = target[e]
        reverse[e] = offsets[j] + np.searchsorted(target[offsets[j]:offsets[j + 1]], source[e])
    return offsets, source, target, reverse


@njit(cache=True)
def _replicate(n, edge_list, fp, ip):
    """The metrics (METRICS order) of one replicate on the undirected edges `edge_list`;
    the generator must be seeded."""
    offsets, src, tgt, rev = _csr(n, edge_list)
    edges = src.shape[0]
    rounds, window, rule, every = ip[ROUNDS], ip[WINDOW], ip[RULE], ip[EVERY]
    s, h, epsilon = fp[S], fp[H], fp[EPSILON]
    alpha, beta, delta, theta = fp[ALPHA], fp[BETA], fp[DELTA], fp[THETA]
    mu = fp[MU]
    may_stop = ip[STOP] == 1 and mu == 0.0

    # Initialisation: sizes, strategies, differentiation, trust.
    size = np.ones(n)
    sigma = fp[SIGMA]
    if sigma > 0.0:
        for i in range(n):
            size[i] = math.exp(sigma * np.random.standard_normal() - sigma * sigma / 2.0)
    strategy = np.full(n, CONDITIONAL, dtype=np.int8)
    order = np.random.permutation(n)
    for r in range(ip[N_DEFECTORS]):
        strategy[order[r]] = DEFECTOR
    for r in range(ip[N_DEFECTORS], ip[N_DEFECTORS] + ip[N_COOPERATORS]):
        strategy[order[r]] = COOPERATOR
    d = np.ones(n)
    trust = np.full(edges, fp[TAU0])
    active = np.ones(edges, dtype=np.bool_)
    action = np.zeros(edges, dtype=np.int64)
    acts = np.zeros(n, dtype=np.int64)
    q = np.empty(n)
    payoff = np.empty(n)

    v = s * (2.0 - s)
    leak = 1.0 - fp[LAMBDA] * s * s
    share_factor = fp[M] * (1.0 - s)

    capacity = min(window, rounds)
    cooperation_by_round = np.zeros(rounds)
    trust_by_round = np.zeros(rounds)
    recent_payoff = np.zeros((capacity, n))
    update_payoff = np.zeros(n)
    fitness = np.zeros(n)
    next_strategy = np.empty(n, dtype=np.int8)
    breakdown_round = rounds + 1
    rounds_run = rounds

    for t in range(1, rounds + 1):
        # 1. Actions, with execution errors.
        for e in range(edges):
            x = 0
            if active[e]:
                st = strategy[src[e]]
                if st == COOPERATOR or (st == CONDITIONAL and trust[e] >= h):
                    x = 1
                if x == 1 and epsilon > 0.0 and np.random.random() < epsilon:
                    x = 0
            action[e] = x

        # 2. Payoffs.
        for i in range(n):
            q[i] = size[i] * d[i]
        acts_total = 0
        for i in range(n):
            alliance = 0.0
            neighbour_quality = 0.0
            n_active = 0
            a_i = 0
            for e in range(offsets[i], offsets[i + 1]):
                j = tgt[e]
                neighbour_quality += q[j]
                if not active[e]:
                    continue
                n_active += 1
                x = action[e]
                y = action[rev[e]]
                a_i += x
                value = v * fp[B] * y - s * fp[C] * x
                if x * y > 0:
                    pair = size[i] + size[j]
                    value += v * fp[G] * (2.0 * size[i] / pair if pair > 0.0 else 1.0)
                alliance += value
            mean_quality = (q[i] + neighbour_quality) / (1.0 + (offsets[i + 1] - offsets[i]))
            share = share_factor * d[i] * q[i] / mean_quality if mean_quality > 0.0 else 0.0
            payoff[i] = alliance + share - fp[KAPPA] * n_active
            acts[i] = a_i
            acts_total += a_i

        # 3. Knowledge leaks, then innovation.
        for i in range(n):
            di = leak ** acts[i] * d[i]
            d[i] = di + fp[RHO] * (1.0 - di)

        # 4. Trust follows the partner's act.
        for e in range(edges):
            if active[e]:
                tau = trust[e]
                if action[rev[e]] == 1:
                    trust[e] = (1.0 - delta) * (tau + alpha * (1.0 - tau))
                else:
                    trust[e] = (1.0 - delta) * (1.0 - beta) * tau

        # 5. Dissolution when either side's trust is below theta.
        for e in range(edges):
            r = rev[e]
            if e < r and active[e] and (trust[e] < theta or trust[r] < theta):
                active[e] = False
                active[r] = False

        # Round metrics, after step 5 and before step 6.
        active_trust = 0.0
        for e in range(edges):
            if active[e]:
                active_trust += trust[e]
        cooperation_t = acts_total / edges if edges > 0 else 0.0
        cooperation_by_round[t - 1] = cooperation_t
        trust_by_round[t - 1] = active_trust / edges if edges > 0 else 0.0
        slot = (t - 1) % capacity
        for i in range(n):
            recent_payoff[slot, i] = payoff[i]
        if breakdown_round > rounds and cooperation_t < 0.05:
            breakdown_round = t

        # 6. Strategy update on the mean payoff of the last u rounds.
        updated = False
        if rule != 0:
            for i in range(n):
                update_payoff[i] += payoff[i]
            if t % every == 0:
                for i in range(n):
                    fitness[i] = update_payoff[i] / every
                    update_payoff[i] = 0.0
                if rule == 1:
                    _fermi(offsets, tgt, fitness, strategy, next_strategy, fp[W], mu)
                else:
                    _death_birth(offsets, tgt, rev, fitness, strategy, d, active, trust, ip[BIRTHS], fp[W], mu,
                                 fp[TAU0])
                updated = True

        # 7. Fixation (strategies change only in step 6).
        if may_stop and (t == 1 or updated):
            fixated = True
            for i in range(1, n):
                if strategy[i] != strategy[0]:
                    fixated = False
                    break
            if fixated:
                rounds_run = t
                break

    # Metrics over the last min(W, R) rounds.
    w = min(window, rounds_run)
    cooperation_sum = 0.0
    trust_sum = 0.0
    y = np.zeros(n)
    for t in range(rounds_run - w + 1, rounds_run + 1):
        cooperation_sum += cooperation_by_round[t - 1]
        trust_sum += trust_by_round[t - 1]
        slot = (t - 1) % capacity
        for i in range(n):
            y[i] += recent_payoff[slot, i]
    out = np.empty(len(METRICS))
    out[0] = cooperation_sum / w
    out[1] = trust_sum / w
    n_active_edges = 0
    for e in range(edges):
        n_active_edges += active[e]
    out[2] = n_active_edges / edges if edges > 0 else 1.0
    out[3] = y.sum() / (w * n)
    out[4] = _gini(y)
    out[5] = d.sum() / n
    counts = np.zeros(3, dtype=np.int64)
    defector_payoff = 0.0
    other_payoff = 0.0
    for i in range(n):
        counts[strategy[i]] += 1
        if strategy[i] == DEFECTOR:
            defector_payoff += y[i] / w
        else:
            other_payoff += y[i] / w
    out[6] = counts[CONDITIONAL] / n
    out[7] = counts[COOPERATOR] / n
    out[8] = counts[DEFECTOR] / n
    others = counts[CONDITIONAL] + counts[COOPERATOR]
    if counts[DEFECTOR] > 0 and others > 0:
        out[9] = defector_payoff / counts[DEFECTOR] - other_payoff / others
    else:
        out[9] = np.nan
    out[10] = breakdown_round
    out[11] = rounds_run
    return out


@njit(cache=True)
def _fermi(offsets, tgt, fitness, strategy, next_strategy, selection, mu):
    n = strategy.shape[0]
    for i in range(n):
        nxt = strategy[i]
        deg = offsets[i + 1] - offsets[i]
        if deg > 0:
            j = tgt[offsets[i] + np.random.randint(0, deg)]
            adopt = 1.0 / (1.0 + math.exp(min(-selection * (fitness[j] - fitness[i]), 700.0)))
            if np.random.random() < adopt:
                nxt = strategy[j]
        if mu > 0.0 and np.random.random() < mu:
            nxt = np.random.randint(0, 3)
        next_strategy[i] = nxt
    strategy[:] = next_strategy


@njit(cache=True)
def _death_birth(offsets, tgt, rev, fitness, strategy, d, active, trust, births, selection, mu, tau0):
    n = strategy.shape[0]
    for _ in range(births):
        i = np.random.randint(0, n)
        lo, hi = offsets[i], offsets[i + 1]
        if lo == hi:
            continue  # no partner in G0, no parent: the firm survives
        total = 0.0
        for e in range(lo, hi):
            total += max(0.0, 1.0 - selection + selection * fitness[tgt[e]])
        if total > 0.0:
            target = np.random.random() * total
            cumulative = 0.0
            parent = tgt[lo]
            for e in range(lo, hi):
                f = max(0.0, 1.0 - selection + selection * fitness[tgt[e]])
                if f <= 0.0:
                    continue
                parent = tgt[e]
                cumulative += f
                if target < cumulative:
                    break
        else:
            parent = tgt[lo + np.random.randint(0, hi - lo)]
        newcomer = strategy[parent]
        if mu > 0.0 and np.random.random() < mu:
            newcomer = np.random.randint(0, 3)
        strategy[i] = newcomer
        d[i] = 1.0
        for e in range(lo, hi):
            active[e] = True
            active[rev[e]] = True
            trust[e] = tau0
            trust[rev[e]] = tau0


@njit(cache=True)
def _gini(y):
    n = y.shape[0]
    total = y.sum()
    if not total > 0.0:
        return np.nan
    sorted_y = np.sort(y)
    pairs = 0.0
    for k in range(1, n):
        pairs += k * (n - k) * (sorted_y[k] - sorted_y[k - 1])
    return 2.0 * pairs / (2.0 * n * total)


def _arrays(p: dict) -> tuple[np.ndarray, np.ndarray]:
    fp = np.empty(18)
    for slot, name in ((S, "scope"), (B, "benefit"), (C, "cost"), (G, "synergy"), (M, "market"),
                       (KAPPA, "upkeep"), (LAMBDA, "leakage"), (RHO, "innovation"), (SIGMA, "size_spread"),
                       (TAU0, "trust_init"), (H, "trust_threshold"), (ALPHA, "trust_gain"),
                       (BETA, "trust_loss"), (DELTA, "trust_decay"), (THETA, "exit_threshold"),
                       (EPSILON, "error"), (W, "selection"), (MU, "mutation")):
        fp[slot] = float(p[name])
    defectors, cooperators = common.strategy_counts(p)
    ip = np.array([int(p["rounds"]), int(p["window"]), RULES[p["update_rule"]], int(p["update_every"]),
                   int(p["births"]), int(bool(p["stop_on_fixation"])), defectors, cooperators], dtype=np.int64)
    return fp, ip


def simulate(replicates: int = 1, seed: int = 0, **params) -> dict[str, np.ndarray]:
    """Replicates of one configuration: one float64 array of length `replicates` per metric.

    The same call as coopsweep.simulate (without threads). Replicate r seeds
    Numba's generator with a word of SeedSequence([seed, r]).
    """
    p = common.resolve(params)
    fp, ip = _arrays(p)
    n, k, topology = int(p["firms"]), int(p["partners"]), p["topology"]
    out = np.empty((len(METRICS), replicates))
    for r in range(replicates):
        sequence = common.replicate_seed(seed, r)
        _seed(int(sequence.generate_state(1)[0]))
        if topology == "ring":
            edges = _ring_edges(n, k // 2)
        elif topology == "regular":
            edges = _regular_edges(n, k)
        else:
            edges = common.build_edges(p, np.random.default_rng(sequence))
        out[:, r] = _replicate(n, edges, fp, ip)
    return dict(zip(METRICS, out))


def warm_up() -> None:
    """Compiles every function (or loads them from the cache): a run of each rule and topology kind."""
    for rule in ("none", "fermi", "death_birth"):
        simulate(firms=10, partners=2, rounds=4, window=2, update_rule=rule, update_every=2, error=0.1,
                 size_spread=0.5, topology="ring")
    simulate(firms=10, partners=4, rounds=2, window=1, topology="regular")
    simulate(firms=10, partners=8, rounds=2, window=1, topology="regular")
    simulate(firms=10, partners=4, rounds=2, window=1, topology="small_world")
