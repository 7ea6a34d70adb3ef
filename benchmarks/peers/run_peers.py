#!/usr/bin/env python3
"""The engine against the NumPy and Numba peers, side by side in one run.

Runs the same configurations of the model through

- the engine, single thread: coopsweep.simulate(..., threads=1), at least 200
  replicates per measurement so that the call's overhead is amortised;
- numba_model.simulate (compiled before timing: the warm-up is reported, not
  counted);
- numpy_model.simulate (slow: fewer replicates per measurement; its rates are
  work over measured time like the others');
- and, when the C++ benchmark program is built (build/benchmarks/bench_kernels,
  COOPSWEEP_BUILD_BENCHMARKS=ON), Google Benchmark's numbers for the kernels
  themselves (BM_ReferenceKernel, BM_VectorizedKernel) on the configurations it
  has (the default model, regular graph, N = 100 and 1000, k = 4);
- and, with those, the parts of a replicate that every implementation of
  MODEL.md on these random streams must compute, as bench_kernels times them
  alone: the graph G0 (BM_AllianceGraph) and the Philox blocks the execution
  errors draw (BM_VectorizedRounds' error_blocks_per_edge_round at
  BM_PhiloxBlocks' cost a block). Their sum is the floor of a replicate; the
  Numba peer's (the reference's) time over it is the most engine/Numba
  (vectorized/reference) could reach with every other part of the replicate
  free: the "ceilings".

and reports for each the directed edge-rounds per second (directed alliance
edges of G0 x rounds run / time) and configurations (replicates) per second, the
median over repetitions, and the ratios engine/Numba and engine/NumPy. The
implementations take turns within each repetition (the order rotating), so a
change in the machine's load hits all of them alike. Every measurement is a whole
replicate: graph, initialisation, rounds, metrics.

    PYTHONPATH=build/python /usr/bin/python3 benchmarks/peers/run_peers.py --json peers.json

Exit status 0; the numbers are for reading, not for a test (benchmarks/README.md).
"""

from __future__ import annotations

import os

# One thread for everything NumPy might hand to a library; set before NumPy loads.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import numba  # noqa: E402
import numpy as np  # noqa: E402

import numba_model  # noqa: E402
import numpy_model  # noqa: E402

try:
    import coopsweep  # noqa: E402
except ImportError:  # the build tree's package, when PYTHONPATH does not name it
    sys.path.insert(0, str(ROOT / "build" / "python"))
    import coopsweep  # noqa: E402

# The configurations: name -> model parameters (the others at MODEL.md's defaults).
# Only ring and regular graphs: every firm has k partners, so E0 = N k exactly.
CONFIGS = {
    "default": {},  # N = 100, k = 4, T = 200, regular
    "ring": {"topology": "ring"},
    "N=1000": {"firms": 1000},
    # A long run: the engine reuses the rounds after the state's exact fixed
    # point (docs/performance.md, "Exact shortcuts"); the peers compute them all.
    "T=2000": {"rounds": 2000},
    # Execution errors: a random draw per intended act and round, so no course
    # path (docs/performance.md): the engine runs its SIMD rounds.
    "errors": {"error": 0.01},
    "ring+errors": {"topology": "ring", "error": 0.01},
}
QUICK_CONFIGS = {"quick": {"firms": 20, "rounds": 20, "window": 5}}

# bench_kernels' benchmark for a configuration (same model, same graph family).
BENCH_NAMES = {"default": "firms:100/partners:4/topology:1/rounds:200/error_per_mille:0",
               "ring": "firms:100/partners:4/topology:0/rounds:200/error_per_mille:0",
               "N=1000": "firms:1000/partners:4/topology:1/rounds:200/error_per_mille:0",
               "T=2000": "firms:100/partners:4/topology:1/rounds:2000/error_per_mille:0",
               "errors": "firms:100/partners:4/topology:1/rounds:200/error_per_mille:10",
               "ring+errors": "firms:100/partners:4/topology:0/rounds:200/error_per_mille:10"}

# BM_AllianceGraph's arguments (firms, partners, topology) for a configuration's G0.
GRAPH_NAMES = {"default": "firms:100/partners:4/topology:1", "ring": "firms:100/partners:4/topology:0",
               "N=1000": "firms:1000/partners:4/topology:1", "T=2000": "firms:100/partners:4/topology:1",
               "errors": "firms:100/partners:4/topology:1", "ring+errors": "firms:100/partners:4/topology:0"}
# Blocks per call in the BM_PhiloxBlocks run that prices a block.
PHILOX_BLOCKS = "blocks:100"

IMPLEMENTATIONS = ("engine", "numba", "numpy")


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {"host": platform.node(), "cpu": cpu, "cpus": os.cpu_count(), "load_average_start": os.getloadavg(),
            "python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
            "coopsweep": coopsweep.__version__, "git_commit": commit,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "threads": "1 (engine threads=1; Numba without parallel; NumPy with 1 BLAS/OpenMP thread)"}


def run_one(implementation: str, params: dict, replicates: int, seed: int) -> tuple[float, float]:
    """(seconds, directed edge-rounds) of `replicates` replicates of one configuration."""
    if implementation == "engine":
        call = lambda: coopsweep.simulate(replicates=replicates, seed=seed, threads=1, **params)  # noqa: E731
    elif implementation == "numba":
        call = lambda: numba_model.simulate(replicates=replicates, seed=seed, **params)  # noqa: E731
    else:
        call = lambda: numpy_model.simulate(replicates=replicates, seed=seed, **params)  # noqa: E731
    start = time.perf_counter()
    out = call()
    seconds = time.perf_counter() - start
    firms = params.get("firms", 100)
    partners = params.get("partners", 4)
    return seconds, float(firms * partners * out["rounds_run"].sum())


def replicates_for(implementation: str, params: dict, seconds: float, minimum: dict) -> int:
    """Replicates per measurement: about `seconds` of work, at least minimum[implementation]."""
    probe = {"engine": 20, "numba": 3, "numpy": 1}[implementation]
    elapsed, _ = run_one(implementation, params, probe, seed=10_000)
    per_replicate = elapsed / probe
    return max(minimum[implementation], math.ceil(seconds / per_replicate))


def bench_runs(binary: pathlib.Path, repetitions: int, pattern: str, min_time: float | None = None) -> dict:
    """The iterations of the benchmarks matching `pattern`, as Google Benchmark reports them, by run name."""
    extra = [f"--benchmark_min_time={min_time}"] if min_time is not None else []
    result = subprocess.run([str(binary), f"--benchmark_filter={pattern}",
                             f"--benchmark_repetitions={repetitions}", "--benchmark_format=json", *extra],
                            capture_output=True, text=True, check=True)
    runs: dict[str, list[dict]] = {}
    for b in json.loads(result.stdout)["benchmarks"]:
        if b.get("run_type") == "iteration":
            runs.setdefault(b["run_name"], []).append(b)
    return runs


def bench_kernels(binary: pathlib.Path, repetitions: int, names: list[str]) -> dict:
    """Median edge-rounds and configurations per second of the C++ kernel benchmarks."""
    runs = bench_runs(binary, repetitions, "BM_(Reference|Vectorized)Kernel/(" + "|".join(names) + ")$")
    out = {}
    for name, reps in runs.items():
        kernel, rest = name.split("/", 1)
        out.setdefault(rest, {})[kernel] = {
            "repetitions": len(reps),
            "edge_rounds_per_second": [r["edge_rounds_per_second"] for r in reps],
            "configurations_per_second": [r["configurations_per_second"] for r in reps],
            "median_edge_rounds_per_second": statistics.median(r["edge_rounds_per_second"] for r in reps),
            "median_configurations_per_second": statistics.median(r["configurations_per_second"] for r in reps),
        }
    return out


def bench_medians(binary: pathlib.Path, repetitions: int, pattern: str, min_time: float | None = None) -> dict:
    """Per benchmark run name: the median of each counter (and real_time, in seconds) over the repetitions."""
    runs = bench_runs(binary, repetitions, pattern, min_time)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    out = {}
    for name, reps in runs.items():
        keys = [k for k, v in reps[0].items() if isinstance(v, (int, float)) and k.endswith(("_per_second", "_round"))]
        out[name] = {k: statistics.median(r[k] for r in reps) for k in keys}
        out[name]["seconds"] = statistics.median(r["real_time"] * scale[r["time_unit"]] for r in reps)
    return out


def ceilings(binary: pathlib.Path, repetitions: int, results: dict, min_time: float | None = None) -> None:
    """Adds to each configuration the floor of a replicate (graph + execution-error Philox blocks, timed alone by
    bench_kernels) and the ratios the engine could reach at most with everything else free."""
    names = sorted({GRAPH_NAMES[n] for n in results if n in GRAPH_NAMES})
    if not names:
        return
    errors = [BENCH_NAMES[n] for n, e in results.items() if e["params"].get("error", 0.0) > 0 and n in BENCH_NAMES]
    pattern = ("^(BM_AllianceGraph/(" + "|".join(names) + ")|BM_PhiloxBlocks/" + PHILOX_BLOCKS
               + ("|BM_VectorizedRounds/(" + "|".join(errors) + ")/manual_time" if errors else "") + ")$")
    timed = bench_medians(binary, repetitions, pattern, min_time)
    philox = timed[f"BM_PhiloxBlocks/{PHILOX_BLOCKS}"]
    block_seconds = 1.0 / philox["blocks_per_second"]
    for name, entry in results.items():
        if name not in GRAPH_NAMES:
            continue
        p = entry["params"]
        edges = p.get("firms", 100) * p.get("partners", 4)
        rounds = p.get("rounds", 200)
        graph_seconds = timed[f"BM_AllianceGraph/{GRAPH_NAMES[name]}"]["seconds"]
        blocks_per_edge_round = 0.0
        if p.get("error", 0.0) > 0:
            blocks_per_edge_round = timed[f"BM_VectorizedRounds/{BENCH_NAMES[name]}/manual_time"][
                "error_blocks_per_edge_round"]
        philox_seconds = blocks_per_edge_round * edges * rounds * block_seconds
        floor = graph_seconds + philox_seconds
        entry["floor"] = {"graph_seconds": graph_seconds, "error_blocks_per_edge_round": blocks_per_edge_round,
                          "philox_block_seconds": block_seconds, "error_philox_seconds": philox_seconds,
                          "seconds_per_replicate": floor}
        numba = entry["implementations"]["numba"]["median_configurations_per_second"]
        entry["ratios"]["ceiling engine/numba"] = {"of_medians": 1.0 / (numba * floor)}
        reference = entry.get("bench_kernels", {}).get("BM_ReferenceKernel")
        if reference:
            entry["ratios"]["ceiling vectorized/reference"] = {
                "of_medians": 1.0 / (reference["median_configurations_per_second"] * floor)}


def measure(configs: dict, repetitions: int, seconds: float, minimum: dict, log) -> dict:
    results = {}
    for name, params in configs.items():
        plan = {impl: replicates_for(impl, params, seconds, minimum) for impl in IMPLEMENTATIONS}
        log(f"{name}: replicates per measurement {plan}")
        samples = {impl: [] for impl in IMPLEMENTATIONS}
        for rep in range(repetitions):
            order = IMPLEMENTATIONS[rep % 3:] + IMPLEMENTATIONS[:rep % 3]
            for impl in order:
                elapsed, edge_rounds = run_one(impl, params, plan[impl], seed=rep)
                samples[impl].append({"seconds": elapsed, "replicates": plan[impl], "edge_rounds": edge_rounds,
                                      "edge_rounds_per_second": edge_rounds / elapsed,
                                      "configurations_per_second": plan[impl] / elapsed})
        entry = {"params": params, "implementations": {}}
        for impl, s in samples.items():
            rates = [x["edge_rounds_per_second"] for x in s]
            entry["implementations"][impl] = {
                "replicates_per_measurement": plan[impl],
                "repetitions": s,
                "median_edge_rounds_per_second": statistics.median(rates),
                "min_edge_rounds_per_second": min(rates),
                "max_edge_rounds_per_second": max(rates),
                "median_configurations_per_second": statistics.median(x["configurations_per_second"] for x in s),
            }
        impls = entry["implementations"]
        entry["ratios"] = {}
        for peer in ("numba", "numpy"):
            paired = [e["edge_rounds_per_second"] / p["edge_rounds_per_second"]
                      for e, p in zip(samples["engine"], samples[peer])]
            entry["ratios"][f"engine/{peer}"] = {
                "of_medians": impls["engine"]["median_edge_rounds_per_second"] / impls[peer][
                    "median_edge_rounds_per_second"],
                "paired_min": min(paired), "paired_max": max(paired)}
        results[name] = entry
    return results


def table(report: dict) -> str:
    m = report["machine"]
    lines = [f"machine: {m['host']}, {m['cpu']}, {m['cpus']} CPUs; load average {m['load_average_start'][0]:.2f} "
             f"at start, {m['load_average_end'][0]:.2f} at end",
             f"threads: {m['threads']}",
             f"coopsweep {m['coopsweep']} ({m['git_commit']}), numpy {m['numpy']}, numba {m['numba']}, "
             f"python {m['python']}; {report['repetitions']} repetitions, medians; "
             f"numba warm-up (excluded) {report['numba_warm_up_seconds']:.1f} s",
             "",
             f"{'configuration':<14}{'implementation':<34}{'repl/meas':>10}{'edge-rounds/s':>15}"
             f"{'(min - max)':>24}{'configs/s':>12}"]
    def row(label, title, replicates, median, rates, per_second):
        return (f"{label:<14}{title:<34}{replicates:>10}{median:>15.3e}{min(rates):>12.2e} - {max(rates):<9.2e}"
                f"{per_second:>12.1f}")

    for name, entry in report["results"].items():
        label = name
        for impl, title in (("engine", "engine simulate(threads=1)"), ("numba", "numba peer"),
                            ("numpy", "numpy peer")):
            r = entry["implementations"][impl]
            lines.append(row(label, title, r["replicates_per_measurement"], r["median_edge_rounds_per_second"],
                             [x["edge_rounds_per_second"] for x in r["repetitions"]],
                             r["median_configurations_per_second"]))
            label = ""
        for kernel, r in entry.get("bench_kernels", {}).items():
            lines.append(row("", "bench_kernels " + kernel, "", r["median_edge_rounds_per_second"],
                             r["edge_rounds_per_second"], r["median_configurations_per_second"]))
        if "floor" in entry:
            f = entry["floor"]
            lines.append(f"{'':<14}floor of a replicate: graph {f['graph_seconds'] * 1e6:.1f} us + "
                         f"{f['error_blocks_per_edge_round']:.3f} Philox blocks per edge-round x "
                         f"{f['philox_block_seconds'] * 1e9:.2f} ns = {f['seconds_per_replicate'] * 1e6:.1f} us")
    lines += ["", f"{'configuration':<14}{'ratio (edge-rounds/s)':<40}{'of medians':>12}{'paired min - max':>22}"]
    for name, entry in report["results"].items():
        label = name
        for ratio, r in entry["ratios"].items():
            paired = f"{r['paired_min']:.2f} - {r['paired_max']:.2f}" if "paired_min" in r else ""
            lines.append(f"{label:<14}{ratio:<40}{r['of_medians']:>12.2f}{paired:>22}")
            label = ""
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repetitions", type=int, default=9, help="measurements per implementation (default 9)")
    parser.add_argument("--seconds", type=float, default=0.5,
                        help="target length of one measurement; the engine runs at least 200 replicates")
    parser.add_argument("--config", action="append", choices=sorted(CONFIGS),
                        help="run only these configurations (repeatable; default all)")
    parser.add_argument("--bench-kernels", type=pathlib.Path, default=ROOT / "build" / "benchmarks" / "bench_kernels",
                        help="Google Benchmark program to run too, when it exists (default build/benchmarks/...)")
    parser.add_argument("--no-bench-kernels", action="store_true", help="do not run bench_kernels")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: one tiny configuration, 2 repetitions, few replicates (no bench_kernels)")
    parser.add_argument("--json", type=pathlib.Path, help="write every measurement and the machine to this file")
    args = parser.parse_args(argv)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    if args.quick:
        configs, repetitions, seconds = QUICK_CONFIGS, 2, 0.0
        minimum = {"engine": 5, "numba": 2, "numpy": 1}
    else:
        configs = {name: CONFIGS[name] for name in (args.config or CONFIGS)}
        repetitions, seconds = args.repetitions, args.seconds
        minimum = {"engine": 200, "numba": 10, "numpy": 2}

    info = machine()
    start = time.perf_counter()
    numba_model.warm_up()
    warm_up = time.perf_counter() - start
    log(f"numba warm-up (compile or load from cache): {warm_up:.1f} s")

    results = measure(configs, repetitions, seconds, minimum, log)

    binary = args.bench_kernels
    wanted = [BENCH_NAMES[n] for n in configs if n in BENCH_NAMES]
    if not args.quick and not args.no_bench_kernels and binary.exists() and wanted:
        log(f"running {binary}")
        kernels = bench_kernels(binary, repetitions, wanted)
        for name in configs:
            if name in BENCH_NAMES and BENCH_NAMES[name] in kernels:
                entry = results[name]
                entry["bench_kernels"] = kernels[BENCH_NAMES[name]]
                for kernel, r in entry["bench_kernels"].items():
                    for peer in ("numba", "numpy"):
                        entry["ratios"][f"{kernel}/{peer}"] = {
                            "of_medians": r["median_edge_rounds_per_second"]
                            / entry["implementations"][peer]["median_edge_rounds_per_second"]}
        log("timing the floor of a replicate (graph, execution-error draws) for the ceilings")
        ceilings(binary, repetitions, results)

    info["load_average_end"] = os.getloadavg()
    report = {"machine": info, "repetitions": repetitions, "numba_warm_up_seconds": warm_up,
              "edge_rounds": "directed alliance edges of G0 (N k) x rounds run, per second",
              "results": results}
    print(table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
