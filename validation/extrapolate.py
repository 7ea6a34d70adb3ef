#!/usr/bin/env python3
"""Extrapolates the b/c crossings of several `ohtsuki.py` runs to w -> 0.

(b/c)* = (N - 2)/(N/k - 2) (Allen et al. 2017) is the crossing in the limit of
weak selection; at a finite w the crossing moves (validation/exact_small.py
shows it moving up, roughly in proportion to w, on small rings). Given result
folders of `ohtsuki.py` run at different selection strengths, this fits, for each
(graph, k), the crossing as a straight line in w by weighted least squares
(weights 1/s.e.^2, each s.e. from the width of its 95 % profile-likelihood
interval) and reports the intercept at w = 0 with its 95 % interval, whether
(N - 2)/(N/k - 2) lies in it, and the fit's chi-square (is a line enough?).

    /usr/bin/python3 validation/extrapolate.py validation/results/quick-r3000 \\
        validation/results/k6-w0.005-r15000 validation/results/k6-w0.0025-r50000 \\
        --out validation/results/extrapolation

Writes extrapolation.csv, extrapolation.md and extrapolation.png to --out.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import pathlib
import sys

Z95 = 1.959963984540054


def read_run(folder: pathlib.Path) -> list[dict]:
    """The crossings of one ohtsuki.py result folder, each with its w and N."""
    run = json.loads((folder / "run.json").read_text())
    rows = []
    with open(folder / "ohtsuki_crossings.csv", newline="") as f:
        for row in csv.DictReader(f):
            lo, hi = float(row["ml_lo"]), float(row["ml_hi"])
            rows.append({
                "folder": str(folder), "selection": float(run["selection"]), "firms": int(run["firms"]),
                "replicates": int(run["replicates"]), "topology": row["topology"], "partners": int(row["partners"]),
                "allen": float(row["allen"]), "crossing": float(row["ml_x0"]), "lo": lo, "hi": hi,
                # A profile interval is not symmetric; its half-width over 1.96 is
                # the s.e. of a normal estimate with the same 95 % interval width.
                "se": (hi - lo) / (2 * Z95) if math.isfinite(lo) and math.isfinite(hi) else math.inf,
            })
    return rows


def fit_line(points: list[dict]) -> dict:
    """Weighted least squares crossing = b0 + a w; b0's 95 % interval."""
    usable = [p for p in points if math.isfinite(p["se"]) and p["se"] > 0]
    if len(usable) < 2 or len({p["selection"] for p in usable}) < 2:
        return {}
    s0 = sum(1 / p["se"] ** 2 for p in usable)
    s1 = sum(p["selection"] / p["se"] ** 2 for p in usable)
    s2 = sum(p["selection"] ** 2 / p["se"] ** 2 for p in usable)
    y0 = sum(p["crossing"] / p["se"] ** 2 for p in usable)
    y1 = sum(p["selection"] * p["crossing"] / p["se"] ** 2 for p in usable)
    det = s0 * s2 - s1 * s1
    intercept = (s2 * y0 - s1 * y1) / det
    slope = (s0 * y1 - s1 * y0) / det
    intercept_se = math.sqrt(s2 / det)
    chi2 = sum(((p["crossing"] - intercept - slope * p["selection"]) / p["se"]) ** 2 for p in usable)
    return {"intercept": intercept, "intercept_se": intercept_se, "lo": intercept - Z95 * intercept_se,
            "hi": intercept + Z95 * intercept_se, "slope": slope, "slope_se": math.sqrt(s0 / det), "chi2": chi2,
            "df": len(usable) - 2, "points": len(usable)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=pathlib.Path, help="ohtsuki.py result folders")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="folder for the table and figure")
    args = parser.parse_args(argv)

    rows = [row for folder in args.folders for row in read_run(folder)]
    if len({row["firms"] for row in rows}) != 1:
        print("extrapolate.py: the runs differ in N; they cannot be extrapolated together", file=sys.stderr)
        return 2
    groups: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["topology"], row["partners"]), []).append(row)

    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for (topology, k), points in sorted(groups.items(), key=lambda item: (item[0][1], item[0][0])):
        points.sort(key=lambda p: -p["selection"])
        fit = fit_line(points)
        results.append({"topology": topology, "partners": k, "allen": points[0]["allen"], "points": points, "fit": fit})

    with open(args.out / "extrapolation.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["topology", "partners", "allen", "selection", "replicates", "crossing", "lo", "hi",
                         "allen_in_ci"])
        for r in results:
            for p in r["points"]:
                writer.writerow([r["topology"], r["partners"], r["allen"], p["selection"], p["replicates"],
                                 p["crossing"], p["lo"], p["hi"], p["lo"] <= r["allen"] <= p["hi"]])
            if r["fit"]:
                f_ = r["fit"]
                writer.writerow([r["topology"], r["partners"], r["allen"], 0.0, "", f_["intercept"], f_["lo"],
                                 f_["hi"], f_["lo"] <= r["allen"] <= f_["hi"]])

    selections = sorted({p["selection"] for r in results for p in r["points"]}, reverse=True)
    lines = [f"Crossings of 1/N against b/c (diffusion ML, 95 % profile CI) by selection strength w, "
             f"and the weighted line through them extrapolated to w = 0 (N = {rows[0]['firms']}).", "",
             "| graph | k | (b/c)* Allen | " + " | ".join(f"w = {w:g}" for w in selections) +
             " | w -> 0 (line) [95 % CI] | Allen in CI | slope d(b/c)*/dw | chi2 (df) |",
             "|---|---|---|" + "---|" * len(selections) + "---|---|---|---|"]
    for r in results:
        by_w = {p["selection"]: p for p in r["points"]}
        cells = []
        for w in selections:
            p = by_w.get(w)
            if p is None:
                cells.append("")
            else:
                mark = "" if p["lo"] <= r["allen"] <= p["hi"] else " (Allen outside)"
                cells.append(f"{p['crossing']:.2f} [{p['lo']:.2f}, {p['hi']:.2f}]{mark}, {p['replicates']} runs")
        f_ = r["fit"]
        if f_:
            tail = (f"{f_['intercept']:.2f} [{f_['lo']:.2f}, {f_['hi']:.2f}] | "
                    f"{'yes' if f_['lo'] <= r['allen'] <= f_['hi'] else 'no'} | "
                    f"{f_['slope']:.0f} +- {f_['slope_se']:.0f} | {f_['chi2']:.2f} ({f_['df']})")
        else:
            tail = " | | | "
        lines.append(f"| {r['topology']} | {r['partners']} | {r['allen']:.2f} | " + " | ".join(cells) + f" | {tail} |")
    (args.out / "extrapolation.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in results if r["fit"]]
    if shown:
        fig, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 3.6), squeeze=False)
        for ax, r in zip(axes[0], shown):
            ws = [p["selection"] for p in r["points"]]
            ax.errorbar(ws, [p["crossing"] for p in r["points"]],
                        yerr=[[p["crossing"] - p["lo"] for p in r["points"]],
                              [p["hi"] - p["crossing"] for p in r["points"]]],
                        fmt="o", color="C0", capsize=3, label="crossing at w (95 % CI)")
            f_ = r["fit"]
            grid = [0.0, max(ws) * 1.05]
            ax.plot(grid, [f_["intercept"] + f_["slope"] * w for w in grid], color="C0", lw=1)
            ax.errorbar([0.0], [f_["intercept"]], yerr=[[f_["intercept"] - f_["lo"]], [f_["hi"] - f_["intercept"]]],
                        fmt="s", color="C1", capsize=3, label="line at w = 0 (95 % CI)")
            ax.axhline(r["allen"], color="k", ls="--", lw=1, label="(N-2)/(N/k-2)")
            ax.axhline(r["partners"], color="grey", ls=":", lw=1, label="k (pair approximation)")
            ax.set_title(f"{r['topology']}, k = {r['partners']}")
            ax.set_xlabel("selection intensity w")
            ax.set_ylabel("crossing b/c")
        axes[0][0].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.out / "extrapolation.png", dpi=120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
