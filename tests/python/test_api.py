"""The functions of the coopsweep package: values, equivalences and bad input."""

import ast
import itertools
import pathlib
import tomllib
import warnings

import numpy as np
import pytest
import xarray as xr

import coopsweep
from conftest import SMALL

METRICS = [
    "cooperation", "trust", "alliances", "payoff", "payoff_gini", "differentiation", "share_conditional",
    "share_cooperator", "share_defector", "freerider_gap", "breakdown_round", "rounds_run",
]


# --- parameters, defaults, metrics -------------------------------------------------------------------------------


def test_parameters_list_every_parameter_with_domain_default_and_meaning():
    table = coopsweep.parameters()
    names = [p.name for p in table]
    assert names[:3] == ["firms", "partners", "topology"] and len(names) == len(set(names)) == 30
    scope = table[names.index("scope")]
    assert (scope.symbol, scope.kind, scope.domain, scope.default) == ("s", "real", "[0, 1]", 0.5)
    assert "cooperate" in scope.meaning
    topology = table[names.index("topology")]
    assert topology.kind == "choice" and topology.default == "regular"
    assert topology.choices == ("ring", "regular", "small_world", "scale_free", "random", "complete")
    assert all(p.choices == () for p in table if p.kind != "choice")
    for p in table:
        assert p.domain and p.meaning
        expected = {"integer": int, "real": float, "boolean": bool, "choice": str}[p.kind]
        assert type(p.default) is expected, p
    assert table[0]._asdict()["name"] == "firms"


def test_defaults_are_the_parameters_defaults():
    defaults = coopsweep.defaults()
    assert defaults == {p.name: p.default for p in coopsweep.parameters()}
    assert defaults["firms"] == 100 and defaults["topology"] == "regular" and defaults["stop_on_fixation"] is False


def test_metrics_in_stored_order():
    assert [m.name for m in coopsweep.metrics()] == METRICS
    assert all(m.long_name for m in coopsweep.metrics())
    assert coopsweep.metrics()[3].units == "value per firm per round"


def test_versions():
    assert coopsweep.__version__.count(".") == 2
    assert isinstance(coopsweep.model_version, int) and coopsweep.model_version >= 1


# --- simulate -------------------------------------------------------------------------------------------------------


def test_simulate_returns_one_float64_array_per_metric():
    out = coopsweep.simulate(replicates=5, seed=2, firms=30, rounds=40, window=10)
    assert list(out) == METRICS
    for values in out.values():
        assert isinstance(values, np.ndarray) and values.dtype == np.float64 and values.shape == (5,)
        assert values.flags.c_contiguous
    assert (out["rounds_run"] == 40).all()
    assert np.isfinite(out["cooperation"]).all() and ((0 <= out["cooperation"]) & (out["cooperation"] <= 1)).all()
    # The rows of one array the engine handed over, not copies.
    assert out["cooperation"].base is out["trust"].base and out["trust"].base is not None


def test_simulate_is_deterministic_and_independent_of_threads():
    a = coopsweep.simulate(replicates=6, seed=9, threads=1, firms=40, rounds=50, window=10)
    b = coopsweep.simulate(replicates=6, seed=9, threads=2, firms=40, rounds=50, window=10)
    d = coopsweep.simulate(replicates=6, seed=9, threads=5, firms=40, rounds=50, window=10)  # more than the cores
    c = coopsweep.simulate(replicates=6, seed=10, firms=40, rounds=50, window=10, error=0.1)
    for name in METRICS:
        np.testing.assert_array_equal(a[name], b[name])
        np.testing.assert_array_equal(a[name], d[name])
    assert not np.array_equal(a["payoff"], c["payoff"])


def test_simulate_reproduces_a_configuration_of_a_sweep(small):
    axes = list(SMALL["grid"])
    values = [SMALL["grid"][a] for a in axes]
    for configuration, point in enumerate(itertools.product(*values)):
        params = dict(SMALL["model"], **dict(zip(axes, point)))
        out = coopsweep.simulate(replicates=SMALL["replicates"], seed=SMALL["seed"], configuration=configuration,
                                 **params)
        cell = small.sel(dict(zip(axes, point)))
        for name in METRICS:
            np.testing.assert_array_equal(out[name], cell[name].values, err_msg=f"{name} at {point}")


def test_simulate_takes_numpy_scalars():
    a = coopsweep.simulate(firms=np.int64(30), scope=np.float32(0.5), stop_on_fixation=np.bool_(False), rounds=20,
                           window=5)
    b = coopsweep.simulate(firms=30, scope=0.5, stop_on_fixation=False, rounds=20, window=5)
    np.testing.assert_array_equal(a["payoff"], b["payoff"])


def test_simulate_progress_callable_sees_every_replicate():
    seen = []
    coopsweep.simulate(replicates=40, firms=30, rounds=30, window=10, progress=lambda done, total: seen.append(
        (done, total)))
    assert seen and seen[-1] == (40, 40)
    assert all(total == 40 for _, total in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize("params, message", [
    ({"scope": 1.5}, r"parameter 'scope' = 1.5 is not allowed; allowed: \[0, 1\]"),
    ({"scope": float("nan")}, r"parameter 'scope' = nan .*finite"),
    ({"scop": 0.5}, r"unknown parameter 'scop'; did you mean 'scope'\?"),
    ({"firms": 2.5}, r"parameter 'firms' = 2.5 is not allowed"),
    ({"firms": 10**30}, r"parameter 'firms' = 1000000000000000000000000000000 is not allowed"),
    ({"firms": 10, "partners": 12}, r"parameter 'partners' = 12 .*firms - 1 = 9"),
    ({"topology": "torus"}, r"parameter 'topology' = 'torus' .*'ring', 'regular'"),
    ({"topology": 3}, r"parameter 'topology' = 3 is not allowed"),
    ({"stop_on_fixation": 1}, r"parameter 'stop_on_fixation' = 1 .*true or false"),
    ({"window": 300}, r"parameter 'window' = 300 .*rounds = 200"),
])
def test_simulate_bad_parameters_raise_value_error_naming_them(params, message):
    with pytest.raises(ValueError, match=message):
        coopsweep.simulate(**params)


@pytest.mark.parametrize("params, message", [
    ({"firms": 10**6, "partners": 999998}, r"'firms' \* 'partners' = 1000000 \* 999998 is too large; allowed: at most"),
    ({"firms": 10**6, "topology": "complete"}, r"'firms' \* 'partners' = 1000000 \* 999999 is too large"),
])
def test_simulate_huge_sizes_raise_value_error_before_running(params, message):
    with pytest.raises(ValueError, match=message):
        coopsweep.simulate(**params)


def test_simulate_beyond_the_memory_available_raises_value_error_before_running():
    # 64 threads each holding a 10^9-edge graph: some 2 TB.
    with open("/proc/meminfo") as meminfo:
        available = next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:"))
    if available > 2e12:
        pytest.skip("this machine has more than 2 TB available")
    with pytest.raises(ValueError, match=r"firms = 1000000, partners = 1000, .* GB of memory per run.* allowed: at most"):
        coopsweep.simulate(replicates=64, threads=64, firms=10**6, partners=1000)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"scope": None}, TypeError, r"parameter 'scope' must be a number, a boolean or a string, not NoneType"),
    ({"scope": [0.5]}, TypeError, r"parameter 'scope' must be .* not list"),
    ({"replicates": 0}, ValueError, r"'replicates' = 0 is not allowed; allowed: an integer, 1 to 4294967296"),
    ({"replicates": 2.0}, TypeError, r"'replicates' must be an integer"),
    ({"replicates": True}, TypeError, r"'replicates' must be an integer"),
    ({"seed": -1}, ValueError, r"'seed' = -1 is not allowed"),
    ({"seed": 2**64}, ValueError, r"'seed' = 18446744073709551616 is not allowed"),
    ({"threads": 0}, ValueError, r"'threads' = 0 is not allowed"),
    ({"configuration": -2}, ValueError, r"'configuration' = -2 is not allowed"),
    ({"progress": "yes"}, TypeError, r"progress must be True, False or a callable"),
])
def test_simulate_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        coopsweep.simulate(**kwargs)


# --- run ------------------------------------------------------------------------------------------------------------


def test_run_returns_the_results_file_as_a_dataset(small, small_file):
    assert small.sizes == {"scope": 3, "partners": 2, "topology": 2, "replicate": 4}
    assert list(small["topology"].values) == ["ring", "regular"]
    for name in METRICS:
        assert small[name].dims == ("scope", "partners", "topology", "replicate")
        assert small[f"{name}_mean"].dims == ("scope", "partners", "topology")
    assert small.attrs["completed"] == 1 and small.attrs["seed"] == 3 and small.attrs["firms"] == 24
    assert small.attrs["spec_source"] == "<dict>"
    assert not pathlib.Path(f"{small_file}.partial").exists()


def test_a_dict_spec_is_stored_as_the_toml_it_becomes(small):
    assert small.attrs["spec"] == coopsweep.to_toml(SMALL)
    assert tomllib.loads(small.attrs["spec"]) == SMALL


def test_path_toml_text_and_dict_specs_give_the_same_sweep(small, tmp_path):
    text = coopsweep.to_toml(SMALL)
    spec_file = tmp_path / "small.toml"
    spec_file.write_text(text)
    for i, spec in enumerate([spec_file, str(spec_file), text]):
        with coopsweep.run(spec, out=tmp_path / f"{i}.h5", progress=False) as ds:
            for name in METRICS:
                xr.testing.assert_identical(ds[name], small[name])
            assert ds.attrs["spec"] == text
            assert ds.attrs["spec_source"] == (str(spec_file) if i < 2 else "<string>")


def test_run_matches_the_command_line_and_any_thread_count(small, tmp_path, cli):
    spec_file = tmp_path / "small.toml"
    spec_file.write_text(coopsweep.to_toml(SMALL))
    result = cli("run", spec_file, "-o", tmp_path / "cli.h5", "--quiet", "--threads", 2)
    assert result.returncode == 0, result.stderr
    with xr.open_dataset(tmp_path / "cli.h5", engine="h5netcdf") as from_cli, \
            coopsweep.run(SMALL, out=tmp_path / "t1.h5", threads=1, block_size=1, progress=False) as one_thread:
        for name in METRICS:
            xr.testing.assert_identical(from_cli[name], small[name])
            xr.testing.assert_identical(one_thread[name], small[name])


def test_run_without_out_loads_a_temporary_file_and_deletes_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    ds = coopsweep.run(SMALL, progress=False)
    assert ds["cooperation"].shape == (3, 2, 2, 4) and np.isfinite(ds["cooperation"].values).all()
    assert list(tmp_path.iterdir()) == [tmp_path / "tmp"] and list((tmp_path / "tmp").iterdir()) == []


def test_run_without_out_writes_the_specs_output_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = dict(SMALL, output={"path": "named.h5"})
    with coopsweep.run(spec, progress=False) as ds:
        assert ds.attrs["completed"] == 1
    assert (tmp_path / "named.h5").exists()
    with coopsweep.run(spec, out="other.h5", progress=False):
        assert (tmp_path / "other.h5").exists()


def test_run_progress_callable(tmp_path):
    seen = []
    coopsweep.run(SMALL, out=tmp_path / "p.h5", block_size=5, progress=lambda d, t: seen.append((d, t))).close()
    assert seen[-1] == (48, 48) and all(t == 48 for _, t in seen)


def test_run_progress_bar_in_a_notebook_without_widgets(tmp_path, monkeypatch, capfd):
    # Outside Jupyter the bar waits a second; in Jupyter it shows at once, as
    # text on stderr where ipywidgets is missing.
    monkeypatch.setattr("coopsweep._progress.in_notebook", lambda: True)
    monkeypatch.setattr("tqdm.notebook.IProgress", None)
    coopsweep.run(SMALL, out=tmp_path / "bar.h5", block_size=4).close()
    err = capfd.readouterr().err
    assert "coopsweep run" in err and "48/48" in err and "100%" in err


def test_existing_files_are_not_replaced_without_overwrite(tmp_path):
    out = tmp_path / "r.h5"
    coopsweep.run(SMALL, out=out, progress=False).close()
    before = out.read_bytes()
    with pytest.raises(FileExistsError, match=r"output file '.*r\.h5' exists; allowed: a new path, or overwrite=True"):
        coopsweep.run(SMALL, out=out, progress=False)
    assert out.read_bytes() == before
    changed = dict(SMALL, seed=4)
    with coopsweep.run(changed, out=out, overwrite=True, progress=False) as ds:
        assert ds.attrs["seed"] == 4

    partial = tmp_path / "q.h5.partial"
    partial.write_bytes(b"left by an interrupted run")
    with pytest.raises(FileExistsError, match=r"partial file '.*q\.h5\.partial' from an interrupted run exists"):
        coopsweep.run(SMALL, out=tmp_path / "q.h5", progress=False)
    coopsweep.run(SMALL, out=tmp_path / "q.h5", overwrite=True, progress=False).close()
    assert not partial.exists()


@pytest.mark.parametrize("change, message", [
    ({"grid": {"scope": [0.5, 1.5]}}, r"parameter 'scope' = 1.5 is not allowed; allowed: \[0, 1\]"),
    ({"grid": {"scop": [0.5]}}, r"unknown parameter 'scop'; did you mean 'scope'\?"),
    ({"model": {"firms": 10, "partners": 12}}, r"parameter 'partners' = 12"),
    ({"grid": {"scope": []}}, r"grid axis 'scope' .*is empty"),
    ({"grid": {"scope": [0.5, 0.5]}}, r"scope"),
    ({"model": {"scope": 0.5}, "grid": {"scope": [0.1]}}, r"scope"),
    ({"replicates": 0}, r"'replicates' = 0"),
    ({"seed": -1}, r"'seed' = -1"),
    ({"grid": {"trust_decay": {"start": 0, "stop": 0.2}}}, r"grid axis 'trust_decay' key 'num'"),
    ({"grid": {"scope": [float("inf")]}}, r"parameter 'scope' = inf"),
    ({"modle": {"firms": 10}}, r"modle"),
])
def test_bad_specs_raise_value_error_naming_the_parameter_and_create_nothing(tmp_path, change, message):
    spec = {"replicates": 2, "model": {"rounds": 20, "window": 5}, "grid": {"scope": [0.5]}}
    spec.update(change)
    with pytest.raises(ValueError, match=message):
        coopsweep.run(spec, out=tmp_path / "bad.h5", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_malformed_toml_raises_value_error(tmp_path):
    with pytest.raises(ValueError, match="line"):
        coopsweep.run("seed = \n[grid]\nscope = [0.5", out=tmp_path / "x.h5", progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("spec, kwargs, error, message", [
    ({"grid": {"scope": None}}, {}, TypeError, r"spec value 'grid.scope' = None"),
    ({1: 2}, {}, TypeError, r"spec keys must be strings"),
    (42, {}, TypeError, r"spec must be a path, TOML text or a dict, not int"),
    ("no-such-spec.toml", {}, FileNotFoundError, r"spec file 'no-such-spec.toml' does not exist"),
    ({"replicates": 1}, {"threads": -1}, ValueError, r"'threads' = -1 is not allowed"),
    ({"replicates": 1}, {"block_size": 0}, ValueError, r"'block_size' = 0 is not allowed"),
    ({"replicates": 1}, {"overwrite": "yes"}, TypeError, r"overwrite must be True or False"),
    ({"replicates": 1}, {"resume": True, "overwrite": True}, ValueError, r"contradict"),
    ({"replicates": 1}, {"resume": 1}, TypeError, r"resume must be True or False"),
])
def test_run_bad_arguments(tmp_path, spec, kwargs, error, message):
    with pytest.raises(error, match=message):
        coopsweep.run(spec, out=tmp_path / "x.h5", progress=False, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_run_into_a_missing_directory_raises_os_error(tmp_path):
    with pytest.raises(OSError, match="missing"):
        coopsweep.run({"replicates": 1, "model": {"rounds": 5, "window": 5}}, out=tmp_path / "missing" / "x.h5",
                      progress=False)


# --- open -----------------------------------------------------------------------------------------------------------


def test_open_reads_a_results_file_lazily(small_file):
    with coopsweep.open(small_file) as ds:
        assert isinstance(ds, xr.Dataset) and ds.attrs["completed"] == 1
        assert ds["cooperation"].shape == (3, 2, 2, 4)
    with coopsweep.open(str(small_file)) as ds:
        assert "payoff_mean" in ds


def test_open_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"results file '.*none\.h5' does not exist$"):
        coopsweep.open(tmp_path / "none.h5")
    (tmp_path / "cut.h5.partial").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"an interrupted run left '.*cut\.h5\.partial'"):
        coopsweep.open(tmp_path / "cut.h5")
    (tmp_path / "text.h5").write_text("not HDF5")
    with pytest.raises(OSError):
        coopsweep.open(tmp_path / "text.h5")


def test_open_warns_about_an_incomplete_file(small_file, tmp_path):
    import h5py

    copy = tmp_path / "copy.h5"
    copy.write_bytes(small_file.read_bytes())
    with h5py.File(copy, "r+") as f:
        f.attrs["completed"] = np.int8(0)
    with pytest.warns(coopsweep.IncompleteResultsWarning, match="interrupted run"):
        coopsweep.open(copy).close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coopsweep.open(small_file).close()


# --- the dict -> TOML writer ----------------------------------------------------------------------------------------


def test_to_toml_round_trips_through_tomllib():
    spec = {
        "seed": 7,
        "replicates": np.int64(3),
        "model": {"firms": 50, "topology": "small_world", "stop_on_fixation": True, "scope": np.float64(0.1),
                  "tiny": 1e-300, "big": 1e300},
        "grid": {"trust_decay": {"start": 0, "stop": 0.2, "num": 5}, "partners": np.array([2, 4]),
                 "defectors": (0.0, 0.1), "size_spread": range(3), "flags": [np.bool_(True), False]},
        "output": {"path": 'odd "name" \\ with\ttab and \u00e9 and \x01.h5'},
        "key with space": 1,
    }
    text = coopsweep.to_toml(spec)
    assert text.index("key with space") < text.index("[model]")  # top-level keys before the tables
    back = tomllib.loads(text)
    assert back["model"] == {"firms": 50, "topology": "small_world", "stop_on_fixation": True, "scope": 0.1,
                             "tiny": 1e-300, "big": 1e300}
    assert back["grid"] == {"trust_decay": {"start": 0, "stop": 0.2, "num": 5}, "partners": [2, 4],
                            "defectors": [0.0, 0.1], "size_spread": [0, 1, 2], "flags": [True, False]}
    assert back["output"]["path"] == spec["output"]["path"]
    assert back["replicates"] == 3 and back["key with space"] == 1
    assert tomllib.loads(coopsweep.to_toml({"model": {"scope": float("nan"), "benefit": float("-inf")}}))[
        "model"]["benefit"] == float("-inf")


def test_a_string_is_toml_when_it_looks_like_toml(tmp_path, monkeypatch):
    from coopsweep._spec import spec_text

    assert spec_text("replicates = 2") == ("replicates = 2", "<string>")
    assert spec_text("[grid]") == ("[grid]", "<string>")
    assert spec_text("") == ("", "<string>")
    monkeypatch.chdir(tmp_path)
    pathlib.Path("s.toml").write_text("seed = 1\n")
    assert spec_text("s.toml") == ("seed = 1\n", "s.toml")
    assert spec_text(pathlib.Path("s.toml")) == ("seed = 1\n", "s.toml")


# --- documentation and the stub -------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", [coopsweep.simulate, coopsweep.run, coopsweep.open, coopsweep.defaults,
                                      coopsweep.parameters, coopsweep.metrics, coopsweep.to_toml,
                                      coopsweep.plot.phase, coopsweep.plot.lines])
def test_public_functions_have_numpydoc_docstrings(function):
    doc = function.__doc__
    assert doc and "Returns\n    -------" in doc
    if function.__code__.co_argcount or function.__code__.co_kwonlyargcount:
        assert "Parameters\n    ----------" in doc


def test_the_stub_declares_what_the_extension_defines():
    from coopsweep import _core

    stub = pathlib.Path(_core.__file__).with_name("_core.pyi")
    tree = ast.parse(stub.read_text())
    declared = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    declared |= {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)}
    defined = {name for name in dir(_core) if not name.startswith("_")}
    assert declared == defined


def test_plot_is_imported_only_when_used(python):
    result = python("-c", "import sys, coopsweep; assert 'coopsweep.plot' not in sys.modules; "
                          "coopsweep.plot.phase; assert 'coopsweep.plot' in sys.modules; print(sorted(dir(coopsweep)))")
    assert result.returncode == 0, result.stderr
    assert "'plot'" in result.stdout and "'run'" in result.stdout


def test_the_docstring_examples_run():
    import doctest

    import coopsweep._spec

    for module in [coopsweep, coopsweep._spec]:
        failures, tried = doctest.testmod(module, extraglobs={"coopsweep": coopsweep}, optionflags=doctest.ELLIPSIS)
        assert tried >= 1 and failures == 0, module
