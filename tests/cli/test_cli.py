"""End-to-end tests of the coopsweep command line and the files it writes."""

import json
import math

import h5py
import numpy as np
import pytest
import xarray as xr

SMALL = """
seed = 3
replicates = 4
[model]
firms = 24
rounds = 30
window = 10
defectors = 0.25
error = 0.02
[grid]
scope = [0.2, 0.6, 1.0]
partners = [2, 4]
topology = ["ring", "regular"]
"""

METRICS = [
    "cooperation", "trust", "alliances", "payoff", "payoff_gini", "differentiation", "share_conditional",
    "share_cooperator", "share_defector", "freerider_gap", "breakdown_round", "rounds_run",
]


def test_run_writes_an_xarray_dataset_with_labelled_dimensions(coopsweep, write_spec, tmp_path):
    out = tmp_path / "small.h5"
    result = coopsweep("run", write_spec(SMALL), "-o", out, "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert not (tmp_path / "small.h5.partial").exists()

    ds = xr.open_dataset(out, engine="h5netcdf")
    assert ds.sizes == {"scope": 3, "partners": 2, "topology": 2, "replicate": 4}
    assert list(ds["scope"].values) == [0.2, 0.6, 1.0]
    assert list(ds["partners"].values) == [2, 4]
    assert list(ds["topology"].values) == ["ring", "regular"]
    assert list(ds["replicate"].values) == [0, 1, 2, 3]
    for name in METRICS:
        assert ds[name].dims == ("scope", "partners", "topology", "replicate")
        assert ds[f"{name}_mean"].dims == ("scope", "partners", "topology")
        assert ds[f"{name}_std"].dims == ("scope", "partners", "topology")
        assert "long_name" in ds[name].attrs
    assert ds.attrs["seed"] == 3
    assert ds.attrs["model_version"] == 1
    assert ds.attrs["engine_version"].count(".") == 2
    assert "partners = [2, 4]" in ds.attrs["spec"]
    assert ds.attrs["firms"] == 24 and ds.attrs["rewire"] == 0.1  # fixed and default parameters
    assert ds.attrs["completed"] == 1
    ds.to_netcdf(tmp_path / "resaved.nc", engine="h5netcdf")  # attributes stay netCDF-compatible
    assert np.isfinite(ds["cooperation"].values).all()
    assert (ds["rounds_run"].values == 30).all()
    assert (ds["share_defector"].values == 0.25).all()

    # Replicate summaries: mean and sample standard deviation, NaN replicates skipped.
    for name in METRICS:
        values = ds[name].values
        with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
            __import__("warnings").simplefilter("ignore")
            np.testing.assert_allclose(ds[f"{name}_mean"].values, np.nanmean(values, axis=-1), rtol=1e-12)
            np.testing.assert_allclose(ds[f"{name}_std"].values, np.nanstd(values, axis=-1, ddof=1), rtol=1e-9,
                                       atol=1e-12)

    with h5py.File(out, "r") as f:
        assert f["cooperation"].shape == (3, 2, 2, 4)
        assert f.attrs["completed"] == 1


def test_threads_and_block_sizes_give_identical_files(coopsweep, write_spec, tmp_path):
    spec = write_spec(SMALL)
    datasets = []
    for threads, block in [(1, 1), (2, 0), (2, 5)]:
        out = tmp_path / f"t{threads}-b{block}.h5"
        result = coopsweep("run", spec, "-o", out, "--threads", threads, "--block-size", block, "-q")
        assert result.returncode == 0, result.stderr
        datasets.append(xr.open_dataset(out, engine="h5netcdf"))
    for other in datasets[1:]:
        for name in datasets[0].data_vars:
            np.testing.assert_array_equal(datasets[0][name].values, other[name].values)


def test_simulate_reruns_one_configuration_of_a_sweep_to_the_bit(coopsweep, write_spec, tmp_path):
    out = tmp_path / "small.h5"
    assert coopsweep("run", write_spec(SMALL), "-o", out, "-q").returncode == 0
    ds = xr.open_dataset(out, engine="h5netcdf")
    # Configuration (scope=0.6, partners=4, topology='regular') has row-major index 1*4 + 1*2 + 1 = 7.
    result = coopsweep("simulate", "--seed", 3, "--configuration", 7, "--replicates", 4, "-q",
                       "--set", "firms=24", "--set", "rounds=30", "--set", "window=10", "--set", "defectors=0.25",
                       "--set", "error=0.02", "--set", "scope=0.6", "--set", "partners=4",
                       "--set", "topology=regular")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert list(values) == METRICS
    stored = ds.sel(scope=0.6, partners=4, topology="regular")
    for name in METRICS:
        np.testing.assert_array_equal(np.array(values[name], dtype=float), stored[name].values)


def test_simulate_prints_nan_as_null(coopsweep):
    # Without defectors freerider_gap is undefined (NaN), printed as JSON null.
    result = coopsweep("simulate", "--set", "defectors=0", "--set", "firms=20", "--replicates", "3", "-q")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["freerider_gap"] == [None, None, None]
    assert len(values["cooperation"]) == 3 and all(math.isfinite(v) for v in values["cooperation"])


def test_help_on_every_command(coopsweep):
    for args in [["--help"], ["run", "--help"], ["validate", "--help"], ["simulate", "--help"],
                 ["parameters", "--help"]]:
        result = coopsweep(*args)
        assert result.returncode == 0, args
        assert "Usage" in result.stdout
    assert "xarray.open_dataset" in coopsweep("run", "--help").stdout
    listing = coopsweep("parameters")
    assert listing.returncode == 0
    assert "trust_decay" in listing.stdout and "breakdown_round" in listing.stdout


def test_validate_reports_the_grid(coopsweep, write_spec):
    result = coopsweep("validate", write_spec(SMALL))
    assert result.returncode == 0, result.stderr
    assert "12 configurations x 4 replicates = 48 runs" in result.stdout


def test_progress_line_on_long_runs_and_silence_with_quiet(coopsweep, write_spec, tmp_path):
    # Several seconds of work, so that progress lines appear (the first after 1 s);
    # execution errors keep the runs off the course path, which would finish
    # them in a fraction of that.
    spec = write_spec("replicates = 800\n[model]\nfirms = 400\npartners = 8\nrounds = 300\nerror = 0.01\n")
    result = coopsweep("run", spec, "-o", tmp_path / "long.h5", "--threads", "1", "--block-size", "1")
    assert result.returncode == 0, result.stderr
    assert "runs/s" in result.stderr and "left" in result.stderr
    assert "wrote" in result.stdout


def test_force_overwrites_and_refusal_leaves_the_file_untouched(coopsweep, write_spec, tmp_path):
    spec = write_spec(SMALL)
    out = tmp_path / "results.h5"
    out.write_bytes(b"precious results")
    result = coopsweep("run", spec, "-o", out, "-q")
    assert result.returncode == 2
    assert "exists" in result.stderr and "--force" in result.stderr
    assert out.read_bytes() == b"precious results"
    result = coopsweep("run", spec, "-o", out, "-q", "--force")
    assert result.returncode == 0, result.stderr
    assert h5py.is_hdf5(out)


def test_output_path_from_the_spec_is_relative_to_the_working_directory(coopsweep, write_spec, tmp_path):
    spec = write_spec(SMALL + '\n[output]\npath = "from-spec.h5"\n')
    result = coopsweep("run", spec, "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-spec.h5").exists()


BAD_SPECS = {
    "out of domain": ("[model]\nscope = 1.5\n", ["'scope'", "1.5", "[0, 1]"]),
    "integer out of domain": ("[model]\nfirms = 1\n", ["'firms'", "= 1", "2 to 10^6"]),
    "unknown parameter": ("[model]\ntrust_decy = 0.1\n", ["'trust_decy'", "'trust_decay'"]),
    "unknown section": ("[grids]\nscope = [0.1]\n", ["'grids'", "allowed"]),
    "wrong type": ("[model]\nfirms = \"many\"\n", ["'firms'", "'many'", "integer"]),
    "non-integer for an integer": ("[model]\npartners = 2.5\n", ["'partners'", "2.5"]),
    "NaN": ("[model]\ntrust_gain = nan\n", ["'trust_gain'", "nan", "finite"]),
    "infinity": ("[grid]\nbenefit = [1.0, inf]\n", ["'benefit'", "inf"]),
    "malformed TOML": ("[model\nfirms = 3\n", ["malformed TOML", "line 1"]),
    "empty axis": ("[grid]\nscope = []\n", ["'scope'", "empty"]),
    "odd k on a ring": ("[model]\ntopology = \"ring\"\npartners = 3\n", ["'partners' = 3", "even"]),
    "N k odd on regular": ("[model]\nfirms = 11\npartners = 3\n", ["'partners' = 3", "firms = 11"]),
    "partners too many": ("[model]\nfirms = 5\npartners = 6\n", ["'partners' = 6", "firms - 1 = 4"]),
    "window beyond rounds": ("[model]\nrounds = 10\nwindow = 20\n", ["'window' = 20", "rounds = 10"]),
    "shares above one": ("[model]\ndefectors = 0.7\ncooperators = 0.4\n", ["'cooperators' = 0.4", "<= 1"]),
    "unknown topology": ("[grid]\ntopology = [\"ring\", \"star\"]\n", ["'topology'", "'star'", "'ring'"]),
    "bad combination in the grid": ("[grid]\ntopology = [\"regular\", \"ring\"]\npartners = [3, 4]\n",
                                     ["'partners' = 3", "topology='ring'"]),
    "replicates zero": ("replicates = 0\n", ["'replicates' = 0"]),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_spec_exits_2_with_one_line_and_no_file(case, coopsweep, write_spec, tmp_path):
    text, needles = BAD_SPECS[case]
    spec = write_spec(text)
    out = tmp_path / "out.h5"
    for command in (["run", spec, "-o", out], ["validate", spec]):
        result = coopsweep(*command)
        assert result.returncode == 2, (case, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        for needle in needles:
            assert needle in lines[0], (needle, lines[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


BAD_SETS = {
    "out of domain": (["--set", "error=2"], ["'error'", "2", "[0, 1]"]),
    "unknown name": (["--set", "scoop=0.5"], ["'scoop'", "'scope'"]),
    "wrong type": (["--set", "firms=ten"], ["'firms'", "'ten'"]),
    "NaN": (["--set", "scope=nan"], ["'scope'", "nan"]),
    "infinity": (["--set", "market=inf"], ["'market'", "inf"]),
    "not NAME=VALUE": (["--set", "scope"], ["'scope'", "NAME=VALUE"]),
    "topology rule": (["--set", "topology=scale_free", "--set", "partners=5"], ["'partners' = 5", "even"]),
    "bad replicates": (["--replicates", "0"], ["replicates"]),
    "unknown option": (["--colour", "red"], ["--colour"]),
}


@pytest.mark.parametrize("case", sorted(BAD_SETS))
def test_bad_simulate_input_exits_2(case, coopsweep):
    args, needles = BAD_SETS[case]
    result = coopsweep("simulate", *args)
    assert result.returncode == 2, (case, result.stdout, result.stderr)
    assert result.stdout == ""
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


def test_missing_spec_file_and_missing_output_directory_exit_2(coopsweep, write_spec, tmp_path):
    result = coopsweep("run", tmp_path / "nope.toml")
    assert result.returncode == 2 and "nope.toml" in result.stderr
    result = coopsweep("run", write_spec(SMALL), "-o", tmp_path / "no" / "such" / "dir.h5")
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_attributes_hold_the_parameters_the_runs_used(coopsweep, write_spec, tmp_path):
    # complete sets k = N - 1 whatever partners says; the file must say what ran.
    spec = write_spec('[model]\ntopology = "complete"\nfirms = 10\nrounds = 5\nwindow = 5\n[grid]\nscope = [0.5]\n')
    out = tmp_path / "complete.h5"
    assert coopsweep("run", spec, "-o", out, "-q").returncode == 0
    ds = xr.open_dataset(out, engine="h5netcdf")
    assert ds.attrs["partners"] == 9
    assert ds.attrs["topology"] == "complete"
    assert ds.attrs["grid_axes"] == "scope"


# ---------------------------------------------------------------------------
# Sizes out of range: 10^6 firms with partners near the maximum N - 1. Each is
# refused up front with exit 2 and one line naming the parameters, their values
# and what is allowed, or it runs; never a crash, never the OOM killer.

HUGE = {
    "k = N - 2, beyond the 32-bit edge index": (
        ["--set", "firms=1000000", "--set", "partners=999998"],
        ["'firms' * 'partners' = 1000000 * 999998 is too large", "allowed: at most 1073741824 directed alliance edges"]),
    "complete, k = N - 1": (
        ["--set", "firms=1000000", "--set", "topology=complete"],
        ["'firms' * 'partners' = 1000000 * 999999 is too large", "allowed: at most"]),
    "random, k = N - 1": (
        ["--set", "firms=1000000", "--set", "topology=random", "--set", "partners=999999"],
        ["'firms' * 'partners' = 1000000 * 999999 is too large", "allowed: at most"]),
    # 10^9 directed edges fit the index but need tens of GB per run.
    "10^9 edges, above the memory limit": (
        ["--set", "firms=1000000", "--set", "partners=1000", "--memory-limit", "8"],
        ["parameters firms = 1000000, partners = 1000, topology = 'regular' need about",
         "GB of memory per run", "allowed: at most 8 GB (the memory limit asked for)"]),
    "window buffers of 10^6 firms x 10^5 rounds": (
        ["--set", "firms=1000000", "--set", "rounds=100000", "--set", "window=100000",
         "--set", "stop_on_fixation=true", "--set", "update_rule=fermi", "--memory-limit", "100"],
        ["firms = 1000000", "window = 100000 (stop_on_fixation", "allowed: at most 100 GB"]),
}


@pytest.mark.parametrize("case", sorted(HUGE))
def test_huge_sizes_are_refused_up_front_with_the_parameters_and_the_limit(case, coopsweep, write_spec, tmp_path):
    args, needles = HUGE[case]
    result = coopsweep("simulate", *args, timeout=60)
    assert result.returncode == 2, (case, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])

    # The same configuration as a sweep: refused by run, its dry run (whose
    # calibration would run it) and validate alike, nothing written.
    settings = [a for a in args if "=" in a]
    spec = write_spec("[model]\n" + "".join(f"{s.split('=')[0]} = {toml_value(s.split('=')[1])}\n"
                                            for s in settings))
    limit = args[args.index("--memory-limit"):][:2] if "--memory-limit" in args else []
    for command in (["run", spec, "-o", tmp_path / "huge.h5", *limit], ["run", spec, "--dry-run", *limit]):
        result = coopsweep(*command, timeout=60)
        assert result.returncode == 2, (command, result.stderr)
        assert needles[0] in result.stderr
    if not limit:  # structural limits do not depend on the machine: validate refuses them too
        assert coopsweep("validate", spec).returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


def toml_value(text):
    if text in ("true", "false") or text.lstrip("-").replace(".", "", 1).isdigit():
        return text
    return f'"{text}"'


def test_without_a_limit_a_run_larger_than_the_machine_is_refused(coopsweep):
    # 64 threads each holding a 10^9-edge graph: some 2 TB, more than any machine here.
    with open("/proc/meminfo") as meminfo:
        available = next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:"))
    if available > 2e12:
        pytest.skip("this machine has more than 2 TB available")
    result = coopsweep("simulate", "--set", "firms=1000000", "--set", "partners=1000", "--threads", "64",
                       "--replicates", "64", timeout=60)
    assert result.returncode == 2, result.stderr
    assert "for the 64 runs that 64 threads hold at once" in result.stderr
    assert "allowed: at most" in result.stderr and "fewer threads" in result.stderr


def test_a_million_firms_with_few_partners_runs(coopsweep):
    result = coopsweep("simulate", "--set", "firms=1000000", "--set", "partners=2", "--set", "topology=ring",
                       "--set", "rounds=2", "--set", "window=1", "--threads", "2", "-q", timeout=600)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["rounds_run"] == [2]
    assert all(math.isfinite(values[name][0]) for name in ("cooperation", "trust", "payoff", "differentiation"))
