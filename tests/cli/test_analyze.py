"""End-to-end tests of sampled designs, adaptive replication and `coopsweep analyze`."""

import json

import h5py
import numpy as np
import pytest
import xarray as xr

BASE = """
seed = 5
replicates = 2
[model]
firms = 20
rounds = 30
window = 10
error = 0.05
"""

LHS = BASE + """
[grid]
topology = ["random", "regular"]
[sample]
design = "lhs"
samples = 12
[sample.ranges]
scope = [0.2, 1.0]
partners = [2, 8]
trust_decay = [0.0, 0.2]
"""

SALTELLI = BASE + """
[grid]
trust_init = [0.6, 0.9]
[sample]
design = "saltelli"
samples = 32
[sample.ranges]
scope = [0.0, 1.0]
defectors = [0.0, 0.5]
trust_decay = [0.0, 0.2]
"""

MORRIS = BASE + """
[sample]
design = "morris"
trajectories = 8
levels = 4
[sample.ranges]
scope = [0.0, 1.0]
partners = [2, 8]
defectors = [0.0, 0.5]
"""

ADAPTIVE = """
seed = 11
[model]
firms = 20
rounds = 30
window = 10
error = 0.1
[grid]
scope = [0.1, 0.5, 0.9]
defectors = [0.0, 0.3]
[replication]
target_ci = 0.06
min = 4
max = 64
"""


def run(coopsweep, spec, out, *args):
    result = coopsweep("run", spec, "-o", out, "-q", *args)
    assert result.returncode == 0, result.stderr
    return out


def test_a_sampled_sweep_opens_in_xarray_with_a_coordinate_per_sampled_parameter(coopsweep, write_spec, tmp_path):
    out = run(coopsweep, write_spec(LHS), tmp_path / "lhs.h5")
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds.sizes == {"topology": 2, "sample": 12, "replicate": 2}
        assert ds["cooperation"].dims == ("topology", "sample", "replicate")
        assert ds["cooperation_mean"].dims == ("topology", "sample")
        for name in ("scope", "partners", "trust_decay"):
            assert name in ds.coords and ds[name].dims == ("sample",)
        assert ds["partners"].dtype == np.int64
        assert ds.attrs["sample_design"] == "lhs"
        assert ds.attrs["sample_parameters"] == "scope partners trust_decay"
        assert "scope" not in ds.attrs and ds.attrs["grid_axes"] == "topology"
        # Latin hypercube: one point in each twelfth of every range.
        for name, (low, high) in {"scope": (0.2, 1.0), "trust_decay": (0.0, 0.2)}.items():
            strata = np.floor((ds[name].values - low) / (high - low) * 12).astype(int)
            assert sorted(strata) == list(range(12))
        # Integers 2..8 take the 12 points twice or once each, never more, never less.
        counts = np.bincount(ds["partners"].values - 2, minlength=7)
        assert set(counts) <= {1, 2} and counts.sum() == 12
        # A point's value selects its runs, with the coordinates along.
        point = ds["cooperation_mean"].sel(topology="regular").isel(sample=3)
        assert float(point["scope"]) == float(ds["scope"][3])
        ds.to_netcdf(tmp_path / "resaved.nc", engine="h5netcdf")
    with xr.open_dataset(tmp_path / "resaved.nc", engine="h5netcdf") as resaved:
        assert "scope" in resaved.coords

    # One sample point re-run alone gives the file's numbers.
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        c = 1 * 12 + 3
        sets = [f"{n}={ds[n].values[3]!r}" if n != "partners" else f"{n}={int(ds[n].values[3])}"
                for n in ("scope", "partners", "trust_decay")]
        args = ["simulate", "--seed", 5, "--configuration", c, "--replicates", 2, "-q", "--set", "topology=regular",
                "--set", "firms=20", "--set", "rounds=30", "--set", "window=10", "--set", "error=0.05"]
        for s in sets:
            args += ["--set", s]
        result = coopsweep(*args)
        assert result.returncode == 0, result.stderr
        alone = json.loads(result.stdout)["cooperation"]
        assert alone == list(ds["cooperation"].values[1, 3])


@pytest.mark.parametrize("ranges, message", [
    ("scope = [0.0, 1.5]", "parameter 'scope' = 1.5 is not allowed; allowed: [0, 1]"),
    ("partners = [2, 6.5]", "parameter 'partners' = 6.5 is not allowed"),
    ("scope = [0.9, 0.1]", "'[sample.ranges] scope' = [0.9, 0.1]"),
    ("topology = ['ring', 'regular']", "parameter 'topology' (line 13) cannot be sampled; allowed: integer and real parameters"),
    ("scop = [0.0, 1.0]", "unknown parameter 'scop'; did you mean 'scope'?"),
])
def test_bad_ranges_exit_with_status_2_naming_the_parameter_value_and_domain(coopsweep, write_spec, tmp_path, ranges,
                                                                              message):
    spec = write_spec(BASE + "[sample]\ndesign = 'lhs'\nsamples = 4\n[sample.ranges]\n" + ranges + "\n")
    for command in (["validate", spec], ["run", spec, "-o", tmp_path / "bad.h5"]):
        result = coopsweep(*command)
        assert result.returncode == 2
        assert message in result.stderr
        assert result.stderr.count("\n") == 1
    assert not list(tmp_path.glob("bad.h5*"))


def test_a_sampled_point_that_breaks_a_rule_is_refused_before_running(coopsweep, write_spec, tmp_path):
    ring = BASE.replace("error = 0.05", "error = 0.05\ntopology = 'ring'")
    spec = write_spec(ring + "[sample]\ndesign = 'sobol'\nsamples = 16\n[sample.ranges]\npartners = [2, 9]\n")
    result = coopsweep("run", spec, "-o", tmp_path / "ring.h5")
    assert result.returncode == 2
    assert "parameter 'partners' = " in result.stderr and "even" in result.stderr
    assert "(in the configuration sample=" in result.stderr
    assert not list(tmp_path.glob("ring.h5*"))


def test_validate_describes_the_design(coopsweep, write_spec):
    result = coopsweep("validate", write_spec(SALTELLI))
    assert result.returncode == 0, result.stderr
    assert "valid; 320 configurations x 2 replicates = 640 runs" in result.stdout
    assert "sample: saltelli design, 160 points" in result.stdout
    assert "defectors        [0, 0.5]" in result.stdout
    result = coopsweep("validate", write_spec(ADAPTIVE, "adaptive.toml"))
    assert "6 configurations x at most 64 replicates = at most 384 runs" in result.stdout
    assert "replication: adaptive, 4 to 64 replicates (doubling)" in result.stdout


def test_adaptive_replication_writes_the_same_file_whatever_the_threads(coopsweep, write_spec, tmp_path):
    spec = write_spec(ADAPTIVE)
    files = [run(coopsweep, spec, tmp_path / f"t{threads}-b{block}.h5", "--threads", threads, "--block-size", block)
             for threads, block in [(1, 1), (2, 0), (2, 100)]]
    with h5py.File(files[0], "r") as first:
        counts = first["replicates_run"][...]
        assert counts.dtype == np.int64 and counts.shape == (3, 2)
        assert counts.min() < counts.max() and counts.min() >= 4 and counts.max() <= 64
        cooperation = first["cooperation"][...]
        for (i, j), n in np.ndenumerate(counts):
            assert np.isfinite(cooperation[i, j, :n]).all() and np.isnan(cooperation[i, j, n:]).all()
        for other in files[1:]:
            with h5py.File(other, "r") as f:
                for name in first:
                    a, b = first[name][...], f[name][...]
                    assert a.tobytes() == b.tobytes(), name
    result = coopsweep("run", spec, "-o", tmp_path / "shown.h5")
    assert result.returncode == 0, result.stderr
    assert f"6 configurations x {counts.min()} to {counts.max()} replicates (adaptive, at most 64)" in result.stdout
    assert f"= {counts.sum()} runs" in result.stdout


def sobol_reference(y, d):
    """Saltelli (2010) S1 and Jansen ST, written out independently of the engine."""
    y = np.asarray(y).reshape(-1, d + 2)
    y = y - np.r_[y[:, 0], y[:, -1]].mean()
    a, b = y[:, 0], y[:, -1]
    v = np.var(np.r_[a, b])
    s1 = np.array([np.mean(b * (y[:, 1 + i] - a)) / v for i in range(d)])
    st = np.array([0.5 * np.mean((a - y[:, 1 + i]) ** 2) / v for i in range(d)])
    return s1, st


def test_analyze_prints_the_sobol_indices_of_a_saltelli_sweep(coopsweep, write_spec, tmp_path):
    out = run(coopsweep, write_spec(SALTELLI), tmp_path / "saltelli.h5")
    result = coopsweep("analyze", out, "--metric", "cooperation")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Sobol' indices of cooperation (replicate mean)" in text
    assert "32 base samples x (3 parameters + 2) = 160 points" in text
    assert "at trust_init=0.6:" in text and "at trust_init=0.9:" in text
    for name in ("scope", "defectors", "trust_decay"):
        assert text.count(f"\n{name} ") == 2

    result = coopsweep("analyze", out, "--metric", "cooperation", "--json", "--bootstrap", 200, "--seed", 3)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["design"] == "saltelli" and report["parameters"] == ["scope", "defectors", "trust_decay"]
    assert [cell["grid"] for cell in report["cells"]] == [{"trust_init": 0.6}, {"trust_init": 0.9}]
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        for k, cell in enumerate(report["cells"]):
            s1, st = sobol_reference(ds["cooperation_mean"].values[k], 3)
            np.testing.assert_allclose(cell["S1"], s1, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(cell["ST"], st, rtol=1e-9, atol=1e-12)
            assert all(lo <= hi for lo, hi in zip(cell["S1_low"], cell["S1_high"]))
            assert cell["base_samples"] == 32 and cell["dropped"] == 0
            assert all(value >= 0 for value in cell["ST"])  # Jansen's estimator is a mean of squares


def test_analyze_prints_the_elementary_effects_of_a_morris_sweep(coopsweep, write_spec, tmp_path):
    out = run(coopsweep, write_spec(MORRIS), tmp_path / "morris.h5")
    result = coopsweep("analyze", out, "--metric", "payoff", "--json")
    assert result.returncode == 0, result.stderr
    cell = json.loads(result.stdout)["cells"][0]
    assert cell["trajectories"] == 8
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        y = ds["payoff_mean"].values.reshape(8, 4)
        x = np.stack([(ds["scope"].values - 0.0) / 1.0, (ds["partners"].values - 2) / 6.0,
                      (ds["defectors"].values - 0.0) / 0.5], axis=1).reshape(8, 4, 3)
    effects = [[] for _ in range(3)]
    for t in range(8):
        for k in range(1, 4):
            step = x[t, k] - x[t, k - 1]
            j = int(np.flatnonzero(step)[0])
            effects[j].append((y[t, k] - y[t, k - 1]) / step[j])
    np.testing.assert_allclose(cell["mu_star"], [np.mean(np.abs(e)) for e in effects], rtol=1e-9)
    np.testing.assert_allclose(cell["mu"], [np.mean(e) for e in effects], rtol=1e-9)
    np.testing.assert_allclose(cell["sigma"], [np.std(e, ddof=1) for e in effects], rtol=1e-9)
    text = coopsweep("analyze", out, "--metric", "payoff").stdout
    assert "Morris elementary effects of payoff" in text and "8 trajectories x (3 parameters + 1) = 32 points" in text


def test_analyze_says_when_a_metric_does_not_vary(coopsweep, write_spec, tmp_path):
    # With trust below the threshold nobody ever cooperates: no variance, no indices.
    out = run(coopsweep, write_spec(SALTELLI.replace("trust_init = [0.6, 0.9]", "trust_init = [0.3]")),
              tmp_path / "flat.h5")
    result = coopsweep("analyze", out, "--metric", "cooperation")
    assert result.returncode == 0, result.stderr
    assert "cooperation does not vary over the sample: no indices" in result.stdout
    report = json.loads(coopsweep("analyze", out, "--metric", "cooperation", "--json").stdout)
    assert report["cells"][0]["S1"] == [None, None, None] and report["cells"][0]["variance"] == 0


def test_analyze_refuses_files_it_cannot_analyse(coopsweep, write_spec, tmp_path):
    lhs = run(coopsweep, write_spec(LHS), tmp_path / "lhs.h5")
    saltelli = run(coopsweep, write_spec(SALTELLI, "saltelli.toml"), tmp_path / "saltelli.h5")
    cases = [
        (["analyze", lhs, "--metric", "cooperation"], "holds a 'lhs' design"),
        (["analyze", saltelli, "--metric", "coop"], "unknown metric 'coop'; allowed: cooperation, trust"),
        (["analyze", tmp_path / "none.h5", "--metric", "cooperation"], "does not exist"),
        (["analyze", saltelli, "--metric", "cooperation", "--confidence", "1.5"], "--confidence"),
    ]
    partial = tmp_path / "stopped.h5.partial"
    with h5py.File(saltelli, "r") as f, h5py.File(partial, "w") as g:
        for key, value in f.attrs.items():
            g.attrs[key] = value
        g.attrs["completed"] = np.int8(0)
    cases.append((["analyze", partial, "--metric", "cooperation"], "is incomplete (completed = 0)"))
    for args, message in cases:
        result = coopsweep(*args)
        assert result.returncode == 2, args
        assert message in result.stderr, result.stderr
