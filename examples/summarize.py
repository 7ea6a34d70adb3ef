#!/usr/bin/env python3
"""Prints what a quick-start sweep found: replicate-mean cooperation and payoff by
cooperation scope and partner count, and where trust decay breaks cooperation.

Usage: /usr/bin/python3 examples/summarize.py quickstart.h5
"""

import sys

import numpy as np
import xarray as xr


def table(da, title, fmt="{:7.3f}"):
    rows, cols = da.dims
    print(title)
    print(f"  {rows:>8} | " + " ".join(f"{cols}={v:<3}".rjust(11) for v in da[cols].values))
    for r in da[rows].values:
        cells = " ".join(fmt.format(x).rjust(11) for x in da.sel({rows: r}).values)
        print(f"  {r:>8.2f} | {cells}")


def main(path):
    ds = xr.open_dataset(path, engine="h5netcdf")
    if not bool(ds.attrs.get("completed", False)):
        sys.exit(f"{path} is incomplete")
    print(f"{path}: {dict(ds.sizes)}, seed {ds.attrs['seed']}, engine {ds.attrs['engine_version']}")
    table(ds["cooperation_mean"].mean("trust_decay"), "\ncooperation (mean over replicates and trust_decay):")
    table(ds["payoff_mean"].mean("trust_decay"), "\npayoff per firm and round (mean over replicates and trust_decay):")
    table(ds["alliances_mean"].mean("trust_decay"), "\nalliances still active at the end:")

    best = ds["payoff_mean"].argmax(...)
    where = {k: ds[k].values[int(v)] for k, v in best.items()}
    print("\nhighest mean payoff %.3f at %s" % (float(ds["payoff_mean"].isel(best)),
                                               ", ".join(f"{k}={float(v):g}" for k, v in where.items())))
    coop = ds["cooperation_mean"].mean(["scope", "partners"])
    print("cooperation against trust_decay: " +
          ", ".join(f"{d:.2f}->{c:.2f}" for d, c in zip(ds["trust_decay"].values, coop.values)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "quickstart.h5")
