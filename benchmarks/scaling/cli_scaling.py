#!/usr/bin/env python3
"""Thread scaling of a whole `coopsweep run`, file writing included.

Runs benchmarks/scaling/scaling.toml (21120 runs) at each thread count of
--threads, --repetitions times each, and reports the median wall time, the
speed-up over the first thread count, and whether every per-replicate metric in
the file is bit-identical to the first thread count's file (NaN equal to NaN).
Exits 1 if any file differs. The children's peak RSS is recorded in the JSON.

    /usr/bin/python3 benchmarks/scaling/cli_scaling.py --coopsweep build/coopsweep --threads 1 2 --json out.json
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def per_replicate_metrics(path):
    with h5py.File(path, "r") as f:
        return {name: f[name][...] for name in f if isinstance(f[name], h5py.Dataset) and f[name].ndim == 4}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coopsweep", default="build/coopsweep", help="the CLI to time (default: %(default)s)")
    parser.add_argument("--spec", default=os.path.join(HERE, "scaling.toml"), help="sweep spec (default: scaling.toml)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default: 1 2)")
    parser.add_argument("--repetitions", type=int, default=3, help="runs per thread count (default: 3)")
    parser.add_argument("--json", help="write every time, the medians and the peak RSS here")
    args = parser.parse_args()
    coopsweep = os.path.abspath(args.coopsweep) if os.path.isfile(args.coopsweep) else args.coopsweep

    results = {}
    reference = None
    with tempfile.TemporaryDirectory() as scratch:
        for threads in args.threads:
            path = os.path.join(scratch, f"scaling-{threads}.h5")
            seconds = []
            for _ in range(args.repetitions):
                start = time.perf_counter()
                subprocess.run([coopsweep, "run", args.spec, "-o", path, "--threads", str(threads),
                                "--force", "--quiet"], check=True)
                seconds.append(time.perf_counter() - start)
            metrics = per_replicate_metrics(path)
            if reference is None:
                reference = metrics
            identical = metrics.keys() == reference.keys() and all(
                np.array_equal(reference[name], metrics[name], equal_nan=True) for name in reference)
            results[threads] = {"seconds": seconds, "median": statistics.median(seconds),
                                "identical_to_first": identical}
    first = results[args.threads[0]]["median"]
    print(f"{'threads':>7} {'median s':>9} {'speed-up':>8}  identical to {args.threads[0]} thread(s)")
    for threads, result in results.items():
        print(f"{threads:7d} {result['median']:9.3f} {first / result['median']:8.2f}  {result['identical_to_first']}")
    peak_rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"peak RSS of one run: {peak_rss_kib / 1024:.1f} MiB")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"spec": args.spec, "results": results, "peak_rss_kib": peak_rss_kib}, out, indent=1)
    return 0 if all(r["identical_to_first"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
