#!/usr/bin/env python3
"""Compare two Google Benchmark JSON files run with repetitions.

For each benchmark in both files, the repetitions' times are compared with a
one-sided Mann-Whitney U test (is NEW slower than BASE?) and the change in
medians. A benchmark regresses when its median time grew by more than the
threshold AND the test is significant; a speed-up is never a failure.

    benchmarks/compare.py BASE.json NEW.json [--threshold 0.10] [--alpha 0.05]

Exit status: 0 no regression, 1 at least one regression, 2 unusable input
(unreadable JSON, no repetitions, too few repetitions, nothing in common).
"""

import argparse
import json
import math
import statistics
import sys

from scipy.stats import mannwhitneyu

TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


class InputError(Exception):
    pass


def load_repetitions(path, metric):
    """Maps each benchmark's name to the list of its repetitions' times in seconds."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: cannot read Google Benchmark JSON ({error})")
    if not isinstance(data, dict) or "benchmarks" not in data:
        raise InputError(f"{path}: not Google Benchmark JSON (no 'benchmarks' list)")
    runs = {}
    for entry in data["benchmarks"]:
        if entry.get("run_type", "iteration") != "iteration":
            continue  # mean/median/stddev aggregates: the raw repetitions are what we test
        name = entry.get("run_name", entry["name"])
        value = entry[metric] * TIME_UNITS[entry.get("time_unit", "ns")]
        runs.setdefault(name, []).append(value)
    if not runs:
        raise InputError(f"{path}: no benchmark iterations found")
    return runs


def compare(base, new, threshold, alpha, min_repetitions):
    """Rows of (name, base median, new median, change, p-value, verdict)."""
    common = [name for name in base if name in new]
    if not common:
        raise InputError("the two files have no benchmark in common")
    for name in common:
        for label, runs in (("BASE", base), ("NEW", new)):
            if len(runs[name]) < min_repetitions:
                raise InputError(
                    f"{label} has {len(runs[name])} repetition(s) of '{name}'; at least {min_repetitions} are "
                    f"needed to tell a change from noise: rerun with --benchmark_repetitions={min_repetitions}")
    rows = []
    for name in common:
        b, n = base[name], new[name]
        base_median, new_median = statistics.median(b), statistics.median(n)
        change = new_median / base_median - 1.0
        # Distinct samples only: all-equal inputs make the U statistic undefined.
        p = mannwhitneyu(n, b, alternative="greater").pvalue if len(set(b + n)) > 1 else 1.0
        if change > threshold and p < alpha:
            verdict = "SLOWER"
        elif change < -threshold and mannwhitneyu(n, b, alternative="less").pvalue < alpha:
            verdict = "faster"
        else:
            verdict = "same"
        rows.append((name, base_median, new_median, change, p, verdict))
    return rows


def format_seconds(x):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if x >= scale or unit == "ns":
            return f"{x / scale:.3f} {unit}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base")
    parser.add_argument("new")
    parser.add_argument("--threshold", type=float, default=0.10, help="relative slow-down that fails (default 0.10)")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    parser.add_argument("--min-repetitions", type=int, default=9, help="repetitions required per benchmark (default 9)")
    parser.add_argument("--metric", choices=["real_time", "cpu_time"], default="real_time")
    args = parser.parse_args(argv)
    try:
        rows = compare(load_repetitions(args.base, args.metric), load_repetitions(args.new, args.metric),
                       args.threshold, args.alpha, args.min_repetitions)
    except InputError as error:
        print(f"compare.py: error: {error}", file=sys.stderr)
        return 2
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'base':>12}  {'new':>12}  {'change':>8}  {'p':>7}  verdict")
    for name, b, n, change, p, verdict in rows:
        print(f"{name:<{width}}  {format_seconds(b):>12}  {format_seconds(n):>12}  {change:>+7.1%}  {p:>7.4f}  {verdict}")
    slower = [r[0] for r in rows if r[5] == "SLOWER"]
    if slower:
        print(f"\n{len(slower)} benchmark(s) slower by more than {args.threshold:.0%} (p < {args.alpha}): "
              + ", ".join(slower))
        return 1
    print(f"\nno benchmark slower by more than {args.threshold:.0%} with significance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
