#!/usr/bin/env python3
"""Exact crossings of 1/N on small rings at finite selection.

Allen et al.'s (N - 2)/(N/k - 2) is the w -> 0 limit. This script solves MODEL.md's
death-birth chain (births = 1, update_every = 1, fitness max(0, 1 - w + w P),
accumulated donation-game payoffs) exactly on rings small enough for it, and finds
the b/c at which the fixation probability of one cooperator equals 1/N for several
w. It shows how far, and in which direction, a finite w moves the crossing, which
docs/validation.md uses to read the simulated crossings at w = 0.01, N = 100.

The ring's rotations commute with the dynamics, so the chain is lumped onto the
rotation classes of the 2^N states (about 2^N / N of them) and solved densely.

Usage:
    nice -n 10 /usr/bin/python3 validation/exact_small.py      # seconds; writes validation/results/exact_small/
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def ring_neighbours(n, k):
    half = k // 2
    return [sorted({(i + m) % n for m in range(1, half + 1)} | {(i - m) % n for m in range(1, half + 1)})
            for i in range(n)]


class RingChain:
    """The lumped death-birth chain of a ring of n firms with k partners each."""

    def __init__(self, n, k):
        self.n, self.k = n, k
        self.neighbours = ring_neighbours(n, k)
        states = np.arange(1 << n, dtype=np.int64)
        mask = (1 << n) - 1
        canon = states.copy()
        for r in range(1, n):
            rotated = ((states << r) | (states >> (n - r))) & mask
            canon = np.minimum(canon, rotated)
        self.reps = np.unique(canon)
        index = np.full(1 << n, -1, dtype=np.int64)
        index[self.reps] = np.arange(len(self.reps))
        self.class_of = index[canon]
        self.bits = ((self.reps[:, None] >> np.arange(n)) & 1).astype(float)
        self.adjacency = np.zeros((n, n))
        for i, row in enumerate(self.neighbours):
            self.adjacency[i, row] = 1.0

    def fixation(self, b, w, c=1.0):
        """Probability that one cooperator among n - 1 defectors takes over."""
        n, x, reps = self.n, self.bits, self.reps
        payoff = b * (x @ self.adjacency.T) - c * self.k * x
        fitness = np.maximum(0.0, 1.0 - w + w * payoff)
        m = len(reps)
        transition = np.zeros((m, m))
        rows = np.arange(m)
        for i, row in enumerate(self.neighbours):
            total = fitness[:, row].sum(axis=1)
            for j in row:
                target = np.where(x[:, j] > 0, reps | (1 << i), reps & ~(1 << i))
                np.add.at(transition, (rows, self.class_of[target]), fitness[:, j] / total / n)
        all_d = self.class_of[0]
        all_c = self.class_of[(1 << n) - 1]
        transient = np.array([s for s in range(m) if s not in (all_d, all_c)])
        a = np.eye(len(transient)) - transition[np.ix_(transient, transient)]
        phi = np.linalg.solve(a, transition[transient, all_c])
        single = self.class_of[1]
        return float(phi[np.searchsorted(transient, single)])

    def crossing(self, w, lo, hi):
        """b/c at which the fixation probability equals 1/n (c = 1)."""
        from scipy.optimize import brentq

        return brentq(lambda b: self.fixation(b, w) - 1.0 / self.n, lo, hi, xtol=1e-6)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "validation" / "results" / "exact_small")
    parser.add_argument("--rings", default="12:2,12:4,14:4", help="N:k pairs")
    parser.add_argument("--selection", default="0.0025,0.005,0.01,0.02", help="values of w")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    rows = []
    start = time.perf_counter()
    for item in args.rings.split(","):
        n, k = (int(v) for v in item.split(":"))
        chain = RingChain(n, k)
        threshold = (n - 2) / (n / k - 2)
        assert abs(chain.fixation(threshold, 0.0) - 1.0 / n) < 1e-12  # neutral drift
        for w in (float(v) for v in args.selection.split(",")):
            x = chain.crossing(w, 0.5 * threshold, 3.0 * threshold)
            rows.append({"ring_firms": n, "partners": k, "selection": w, "threshold_w0": threshold,
                         "crossing": x, "relative_shift": x / threshold - 1.0, "w_threshold_k": w * threshold * k,
                         "classes": len(chain.reps)})
            print(f"ring N={n} k={k}: (N-2)/(N/k-2) = {threshold:.4f}; w = {w}: crossing {x:.4f} "
                  f"({100 * (x / threshold - 1):+.2f} %), w (b/c)* k = {w * threshold * k:.3f}", flush=True)
    wall = time.perf_counter() - start

    with open(args.out / "exact_crossings.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = ["Exact crossings of 1/N on small rings (validation/exact_small.py, "
             f"{wall:.1f} s).", "",
             "| ring N | k | (N-2)/(N/k-2) | w | exact crossing | shift | w (b/c)* k |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['ring_firms']} | {r['partners']} | {r['threshold_w0']:.3f} | {r['selection']} "
                     f"| {r['crossing']:.3f} | {100 * r['relative_shift']:+.2f} % | {r['w_threshold_k']:.3f} |")
    (args.out / "exact_crossings.md").write_text("\n".join(lines) + "\n")
    print(f"exact_small.py: wrote {args.out} in {wall:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
