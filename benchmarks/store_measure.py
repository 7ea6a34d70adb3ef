#!/usr/bin/python3
"""Measures chunk shapes and compression filters for coopsweep's results files.

Rewrites every variable of a finished results file (the 10-million-run sweep of
docs/results-store.md) with each candidate storage and reports, per candidate,
the file size, the time to write it (compression included) and the time to read
typical slices with xarray from a cold page cache (the file's pages are evicted
with posix_fadvise before each read; each read runs in a fresh process).
Medians over --repeat repetitions.

    /usr/bin/python3 benchmarks/store_measure.py big.h5 --repeat 5 --out /tmp/store-measure
    /usr/bin/python3 benchmarks/store_measure.py big.h5 --repeat 5 --read-only

The filters of Debian's hdf5-filter-plugin (LZ4, BZip2) are measured when the
package is installed (HDF5_PLUGIN_PATH is set to its directory).
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

PLUGIN_DIR = "/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins"
os.environ.setdefault("HDF5_PLUGIN_PATH", PLUGIN_DIR)

import h5py  # noqa: E402  (after HDF5_PLUGIN_PATH)
import numpy as np  # noqa: E402

LZ4, BZIP2 = 32004, 307


def chunk_shape(dims, elements):
    """coopsweep's rule (io/src/results_file.cpp): full trailing dimensions first,
    at most `elements` per chunk, the first dimension that does not fit split evenly."""
    chunk = [1] * len(dims)
    total = 1
    for i in reversed(range(len(dims))):
        if dims[i] <= elements // total:
            chunk[i] = dims[i]
            total *= dims[i]
        else:
            most = max(1, elements // total)
            parts = -(-dims[i] // most)
            chunk[i] = -(-dims[i] // parts)
            break
    return tuple(chunk)


GZIP1 = {"compression": "gzip", "compression_opts": 1}
GZIP4 = {"compression": "gzip", "compression_opts": 4}
CANDIDATES = [
    # name, chunk elements, h5py keyword arguments
    ("none 64Ki", 1 << 16, {}),
    ("deflate1 16Ki", 1 << 14, GZIP1),
    ("deflate1 64Ki", 1 << 16, GZIP1),
    ("deflate1 256Ki", 1 << 18, GZIP1),
    ("deflate4 64Ki", 1 << 16, GZIP4),
    ("shuffle+deflate1 64Ki", 1 << 16, {"shuffle": True, **GZIP1}),
    ("shuffle+deflate4 64Ki", 1 << 16, {"shuffle": True, **GZIP4}),
    ("lz4 64Ki", 1 << 16, {"compression": LZ4}),
    ("shuffle+lz4 64Ki", 1 << 16, {"shuffle": True, "compression": LZ4}),
    ("shuffle+bzip2 64Ki", 1 << 16, {"shuffle": True, "compression": BZIP2, "compression_opts": (9,)}),
]

# Slices a user takes, as isel keyword arguments on a metric with dims
# (axis0, axis1, axis2, replicate); filled in from the file's dimensions.
SLICES = {
    "one value of the first axis": lambda dims: {dims[0]: dims_mid(dims, 0)},
    "one value of the last grid axis": lambda dims: {dims[-2]: dims_mid(dims, -2)},
    "replicate 0 of every configuration": lambda dims: {"replicate": 0},
    "one configuration's replicates": lambda dims: {d: dims_mid(dims, i) for i, d in enumerate(dims[:-1])},
}


def dims_mid(dims, index):
    return SIZES[dims[index]] // 2


SIZES = {}


def read_slice(path, variable, isel):
    """Runs in a fresh process: evicts the file from the page cache, then times open + slice."""
    import xarray as xr

    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    start = time.perf_counter()
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        values = ds[variable].isel(**isel).values
    elapsed = time.perf_counter() - start
    return elapsed, int(values.size)


def write_candidate(source, target, chunk_elements, options):
    """Copies every variable into a new netCDF-4-style file with the candidate storage."""
    start = time.perf_counter()
    skip = {"CLASS", "NAME", "REFERENCE_LIST", "DIMENSION_LIST", "_Netcdf4Dimid"}
    with h5py.File(source, "r") as src, h5py.File(target, "w", track_order=True) as dst:
        scales = dims_of(src)
        for name in scales:
            dst.create_dataset(name, data=src[name][()])
            dst[name].make_scale(name)
        for name, dataset in src.items():
            if name in scales:
                continue
            data = dataset[()]
            if dataset.ndim == 0:
                copy = dst.create_dataset(name, data=data)
            else:
                copy = dst.create_dataset(name, data=data, chunks=chunk_shape(dataset.shape, chunk_elements),
                                          **options)
            for i in range(dataset.ndim):
                copy.dims[i].attach_scale(dst[dataset.dims[i][0].name.lstrip("/")])
            for key, value in dataset.attrs.items():
                if key not in skip:
                    copy.attrs[key] = value
        for key, value in src.attrs.items():
            dst.attrs[key] = value
    return time.perf_counter() - start


def dims_of(f):
    return [name for name, d in f.items() if d.attrs.get("CLASS") == b"DIMENSION_SCALE"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a finished coopsweep results file")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default="/tmp/store-measure")
    parser.add_argument("--variable", default="cooperation")
    parser.add_argument("--read-only", action="store_true",
                        help="only time the slices of SOURCE as it is (e.g. a file coopsweep wrote)")
    parser.add_argument("--read-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.read_child:
        path, variable, isel = args.read_child
        print(json.dumps(read_slice(path, variable, json.loads(isel))))
        return

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with h5py.File(args.source, "r") as f:
        variable = f[args.variable]
        dims = [f[variable.dims[i][0].name].name.lstrip("/") for i in range(variable.ndim)]
        for name in dims:
            SIZES[name] = f[name].shape[0]
        runs = int(np.prod(variable.shape))
    print(f"source: {args.source}, {runs} runs, {args.variable} dims {dict((d, SIZES[d]) for d in dims)}")
    source_bytes = os.path.getsize(args.source)
    print(f"source size: {source_bytes / 1e6:.1f} MB\n")

    if args.read_only:
        print("| slice | values | seconds (median, cold) |\n|---|---:|---:|")
        for label, make in SLICES.items():
            times, size = [], 0
            for _ in range(args.repeat):
                result = subprocess.run(
                    [sys.executable, __file__, args.source, "--read-child", args.source, args.variable,
                     json.dumps(make(dims))], capture_output=True, text=True, check=True)
                seconds, size = json.loads(result.stdout)
                times.append(seconds)
            print(f"| {label} | {size} | {statistics.median(times):.3f} |")
        return

    rows = []
    for name, elements, options in CANDIDATES:
        target = out / (name.replace(" ", "_").replace("+", "_") + ".h5")
        try:
            write_seconds = [write_candidate(args.source, target, elements, options) for _ in range(max(1, args.repeat // 2))]
        except (ValueError, OSError) as error:  # a plugin that is not installed
            print(f"{name}: skipped ({error})")
            continue
        size = os.path.getsize(target)
        reads = {}
        for label, make in SLICES.items():
            isel = make(dims)
            times = []
            for _ in range(args.repeat):
                result = subprocess.run(
                    [sys.executable, __file__, args.source, "--read-child", str(target), args.variable, json.dumps(isel)],
                    capture_output=True, text=True, check=True)
                times.append(json.loads(result.stdout)[0])
            reads[label] = statistics.median(times)
        rows.append((name, size, statistics.median(write_seconds), reads))
        print(f"{name:24s} {size / 1e6:8.3f} MB  write {statistics.median(write_seconds):6.2f} s  " +
              "  ".join(f"{v:6.3f}" for v in reads.values()), flush=True)
        target.unlink()

    print("\n| storage | size (MB) | write (s) | " + " | ".join(SLICES) + " |")
    print("|---|---:|---:|" + "---:|" * len(SLICES))
    for name, size, write, reads in rows:
        print(f"| {name} | {size / 1e6:.3g} | {write:.2g} | " + " | ".join(f"{v:.3f}" for v in reads.values()) + " |")


if __name__ == "__main__":
    main()
