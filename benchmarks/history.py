#!/usr/bin/env python3
"""The benchmark history: one JSON line per benchmark and run.

    history.py append RESULT.json    # the medians of a Google Benchmark JSON file
    history.py plot OUT.png          # the trend of every benchmark, relative to its first run
"""

import datetime
import json
import pathlib
import statistics
import subprocess
import sys

HISTORY = pathlib.Path(__file__).resolve().parent / "history.jsonl"


def commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def append(result_path):
    data = json.loads(pathlib.Path(result_path).read_text())
    runs = {}
    for entry in data["benchmarks"]:
        if entry.get("run_type") == "iteration":
            runs.setdefault(entry.get("run_name", entry["name"]), []).append(entry)
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    with HISTORY.open("a") as history:
        for name, entries in runs.items():
            row = {"date": date, "commit": commit(), "host": data["context"].get("host_name", ""),
                   "benchmark": name, "repetitions": len(entries),
                   "median_real_time": statistics.median(e["real_time"] for e in entries),
                   "time_unit": entries[0].get("time_unit", "ns")}
            for key in entries[0]:
                if key.endswith("_per_second"):
                    row["median_" + key] = statistics.median(e[key] for e in entries)
            history.write(json.dumps(row) + "\n")


def plot(out_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in HISTORY.read_text().splitlines() if line.strip()]
    series = {}
    for row in rows:
        value = row.get("median_real_time", row.get("per_edge_round"))
        if value is not None:
            series.setdefault(row["benchmark"], []).append((row["date"], value))
    fig, ax = plt.subplots(figsize=(9, 5))
    for name, points in sorted(series.items()):
        first = points[0][1]
        ax.plot(range(len(points)), [v / first for _, v in points], marker="o", label=name)
    ax.axhline(1.10, color="grey", linestyle=":", label="10% regression threshold")
    ax.set_xlabel("run (oldest first)")
    ax.set_ylabel("time (or instructions) relative to the first run")
    ax.set_title("coopsweep benchmark history")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("append", "plot"):
        sys.exit(__doc__)
    append(sys.argv[2]) if sys.argv[1] == "append" else plot(sys.argv[2])
