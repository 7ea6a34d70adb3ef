#!/usr/bin/env python3
"""Tells whether two coopsweep results files hold identical data.

    compare_results.py REFERENCE.h5 OTHER.h5      exit 0: identical; 1: they differ (each difference
                                                  printed); 2: a file cannot be read

"Identical data" means, for files written by a single process, by `mpirun -np R`,
or by `coopsweep merge` of shards:

- the same datasets (coordinates and variables), each with the same dtype, shape
  and bytes: every value bit for bit, NaN included;
- the same dimensions: each variable's dimension scales have the same names;
- the same dataset attributes (long_name, units, _FillValue, ...), and the same
  storage: chunk shape and compression filters;
- the same root attributes, except those that tell how and where a file was made
  (PROVENANCE below: build, host, threads, processes, times, sessions, history).
  `completed` must be 1 in both.

Uses h5py only, so it checks the files independently of coopsweep's own reader.
"""

import sys

import h5py
import numpy as np

PROVENANCE = {"spec_source", "git_commit", "build_type", "compiler", "host_name", "threads", "processes",
              "start_time", "end_time", "wall_time_seconds", "sessions", "history"}
# Dimension-scale bookkeeping holds object references, which differ between files;
# the dimension names are compared instead.
REFERENCE_ATTRIBUTES = {"DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME"}


def same_value(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind in "fc":
        return a.tobytes() == b.tobytes()
    return bool(np.all(a == b))


def dimension_names(dataset):
    return [[scale.name for scale in dim.values()] for dim in dataset.dims]


def differences(reference_path, other_path):
    found = []
    with h5py.File(reference_path, "r") as a, h5py.File(other_path, "r") as b:
        names_a = sorted(k for k in a if isinstance(a[k], h5py.Dataset))
        names_b = sorted(k for k in b if isinstance(b[k], h5py.Dataset))
        if names_a != names_b:
            found.append(f"datasets differ: only in the first {sorted(set(names_a) - set(names_b))}, "
                         f"only in the second {sorted(set(names_b) - set(names_a))}")
        for name in sorted(set(names_a) & set(names_b)):
            x, y = a[name], b[name]
            if x.dtype != y.dtype or x.shape != y.shape:
                found.append(f"{name}: dtype/shape {x.dtype}{x.shape} vs {y.dtype}{y.shape}")
                continue
            vx, vy = x[()], y[()]
            if x.dtype.kind in "fc":
                if vx.tobytes() != vy.tobytes():
                    count = int(np.sum(vx.view(np.uint8).reshape(-1, x.dtype.itemsize) !=
                                       vy.view(np.uint8).reshape(-1, x.dtype.itemsize)).any(axis=-1)) \
                        if vx.size else 0
                    found.append(f"{name}: {count} of {vx.size} values differ")
            elif not np.array_equal(vx, vy):
                found.append(f"{name}: values differ")
            if dimension_names(x) != dimension_names(y):
                found.append(f"{name}: dimensions {dimension_names(x)} vs {dimension_names(y)}")
            if (x.chunks, x.compression, x.compression_opts, x.shuffle) != \
                    (y.chunks, y.compression, y.compression_opts, y.shuffle):
                found.append(f"{name}: storage {x.chunks, x.compression, x.compression_opts, x.shuffle} vs "
                             f"{y.chunks, y.compression, y.compression_opts, y.shuffle}")
            attrs_x = {k for k in x.attrs if k not in REFERENCE_ATTRIBUTES}
            attrs_y = {k for k in y.attrs if k not in REFERENCE_ATTRIBUTES}
            if attrs_x != attrs_y:
                found.append(f"{name}: attributes {sorted(attrs_x)} vs {sorted(attrs_y)}")
            for key in sorted(attrs_x & attrs_y):
                if not same_value(x.attrs[key], y.attrs[key]):
                    found.append(f"{name}: attribute {key} = {x.attrs[key]!r} vs {y.attrs[key]!r}")
        keys_a = set(a.attrs) - PROVENANCE
        keys_b = set(b.attrs) - PROVENANCE
        if keys_a != keys_b:
            found.append(f"root attributes differ: only in the first {sorted(keys_a - keys_b)}, "
                         f"only in the second {sorted(keys_b - keys_a)}")
        for key in sorted(keys_a & keys_b):
            if not same_value(a.attrs[key], b.attrs[key]):
                found.append(f"root attribute {key} = {a.attrs[key]!r} vs {b.attrs[key]!r}")
        for path, f in ((reference_path, a), (other_path, b)):
            if f.attrs.get("completed") != 1:
                found.append(f"{path}: completed = {f.attrs.get('completed')!r}, not 1")
    return found


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print(f"usage: {argv[0]} REFERENCE.h5 OTHER.h5", file=sys.stderr)
        return 2
    try:
        found = differences(argv[1], argv[2])
    except OSError as error:
        print(f"compare_results: {error}", file=sys.stderr)
        return 2
    for line in found:
        print(f"{argv[2]}: {line}")
    if not found:
        print(f"{argv[2]}: identical data to {argv[1]}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
