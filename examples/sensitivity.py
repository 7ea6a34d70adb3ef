"""Sobol' indices of cooperation and payoff in the default model: the figure and tables of docs/designs.md.

Usage (from the repository root, after `build/coopsweep run examples/sensitivity.toml`):

    PYTHONPATH=build/python /usr/bin/python3 examples/sensitivity.py sensitivity.h5 \
        [--figure docs/figures/sensitivity_default.png] [--table docs/figures/sensitivity_default.md]

Draws S1 and ST with their 95% bootstrap intervals for each metric, one panel
each, and writes the numbers as a Markdown table.
"""

import argparse
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import coopsweep  # noqa: E402
from coopsweep import analysis  # noqa: E402

METRICS = ("cooperation", "payoff")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", help="results of examples/sensitivity.toml")
    parser.add_argument("--figure", default="docs/figures/sensitivity_default.png")
    parser.add_argument("--table", default=None, help="write the indices as a Markdown table here")
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    results = {}
    with coopsweep.open(args.file) as ds:
        points, replicates = ds.sizes["sample"], ds.sizes["replicate"]
        for metric in METRICS:
            results[metric] = analysis.sobol(ds, metric, bootstrap=args.bootstrap)
    seconds = time.perf_counter() - started

    figure, axes = plt.subplots(1, len(METRICS), figsize=(11, 4.2), layout="constrained", sharey=True)
    for ax, metric in zip(axes, METRICS):
        coopsweep.plot.sobol(results[metric], ax=ax, title=f"{metric} (replicate mean)")
    figure.suptitle(f"Sobol' indices of the default model: Saltelli design, {points} points x {replicates} replicates")
    figure.savefig(args.figure, dpi=130)
    print(f"wrote {args.figure}; indices and {args.bootstrap} bootstrap resamples in {seconds:.1f} s")

    lines = ["| parameter | " + " | ".join(f"{m} S1 | {m} ST" for m in METRICS) + " |",
             "|---|" + "---|---|" * len(METRICS)]
    for name in results[METRICS[0]].names:
        cells = []
        for metric in METRICS:
            r = results[metric]
            cells.append(f"{r.S1[name]:.3f} [{r.S1_conf.loc[name, 'low']:.3f}, {r.S1_conf.loc[name, 'high']:.3f}]")
            cells.append(f"{r.ST[name]:.3f} [{r.ST_conf.loc[name, 'low']:.3f}, {r.ST_conf.loc[name, 'high']:.3f}]")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    table = "\n".join(lines) + "\n"
    if args.table:
        with open(args.table, "w", encoding="utf-8") as out:
            out.write(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
