"""coopsweep.analysis: Sobol' indices and Morris effects of functions and of sweeps, and their figures."""

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy.stats import qmc

import coopsweep
from coopsweep import _core
from coopsweep.analysis import morris_indices, sample, sobol_indices

PI = np.pi
BOX = {"x1": (-PI, PI), "x2": (-PI, PI), "x3": (-PI, PI)}


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a=7.0, b=0.1):
    v1 = 0.5 * (1 + b * PI**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * PI**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


G_A = [0, 1, 4.5, 9, 99, 99, 99, 99]


def g_function(x):
    return np.prod((np.abs(4 * x - 2) + np.array(G_A)) / (1 + np.array(G_A)), axis=1)


def g_indices():
    vi = np.array([1 / (3 * (1 + a) ** 2) for a in G_A])
    product = np.prod(1 + vi)
    v = product - 1
    return vi / v, vi * product / (1 + vi) / v


def test_ishigami_indices_come_within_their_intervals_of_the_analytic_values():
    result = sobol_indices(ishigami, BOX, 4096, seed=0)
    first, total = ishigami_indices()
    for name, s1, st in zip(BOX, first, total):
        assert result.S1_conf.loc[name, "low"] <= s1 <= result.S1_conf.loc[name, "high"], (name, result)
        assert result.ST_conf.loc[name, "low"] <= st <= result.ST_conf.loc[name, "high"], (name, result)
    # Indexable by name, in the order of the bounds.
    assert result.names == ["x1", "x2", "x3"]
    assert result.S1["x2"] == result.S1.iloc[1]
    assert abs(result.S1["x2"] - 0.4424) < 0.05
    frame = result.to_frame()
    assert list(frame.columns) == ["S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]
    assert result.base_samples == 4096 and result.dropped == 0 and result.confidence == 0.95


def test_g_function_indices_come_within_their_intervals_of_the_analytic_values():
    box = {f"x{i + 1}": (0.0, 1.0) for i in range(8)}
    result = sobol_indices(g_function, box, 4096, seed=3)
    first, total = g_indices()
    for i, name in enumerate(box):
        assert result.S1_conf.loc[name, "low"] <= first[i] <= result.S1_conf.loc[name, "high"], (name, result)
        assert result.ST_conf.loc[name, "low"] <= total[i] <= result.ST_conf.loc[name, "high"], (name, result)


def test_the_same_seed_gives_the_same_indices_and_another_other_ones():
    a = sobol_indices(ishigami, BOX, 256, seed=5, bootstrap=100)
    b = sobol_indices(ishigami, BOX, 256, seed=5, bootstrap=100)
    c = sobol_indices(ishigami, BOX, 256, seed=6, bootstrap=100)
    assert a.to_frame().equals(b.to_frame())
    assert not a.S1.equals(c.S1)


def test_unscrambled_sobol_points_match_scipy_in_every_dimension():
    # SciPy's qmc.Sobol uses the same published direction numbers (Joe and Kuo,
    # new-joe-kuo-6.21201) in its own implementation; 30 bits there, exact here.
    ours = _core.sobol_sequence(1024, 1024)
    theirs = qmc.Sobol(1024, scramble=False).random(1024)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("design", ["lhs", "sobol"])
def test_lhs_and_sobol_samples_are_stratified_in_every_projection(design):
    box = {"a": (2.0, 4.0), "b": (-1.0, 0.0), "c": (0.0, 100.0)}
    points = sample(design, box, 256, seed=9)
    assert points.shape == (256, 3)
    for j, (low, high) in enumerate(box.values()):
        strata = np.floor((points[:, j] - low) / (high - low) * 256).astype(int)
        assert sorted(strata) == list(range(256))


def test_morris_effects_of_a_linear_function_are_its_slopes_per_range():
    result = morris_indices(lambda x: 3 * x[:, 0] - 2 * x[:, 1], {"a": (0, 1), "b": (0, 2), "c": (5, 6)}, 10)
    np.testing.assert_allclose(result.mu_star, [3.0, 4.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(result.mu, [3.0, -4.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(result.sigma, [0.0, 0.0, 0.0], atol=1e-12)
    assert result.mu_star["b"] == result.mu_star.iloc[1] and result.trajectories == 10


def test_bad_arguments_are_refused_with_what_is_allowed():
    with pytest.raises(ValueError, match="n = 1000 is not allowed; allowed: a power of 2.*512 or 1024"):
        sobol_indices(ishigami, BOX, 1000)
    with pytest.raises(ValueError, match=r"bounds\['x'\] = \(1.0, 1.0\) is not allowed; allowed: finite low < high"):
        sobol_indices(ishigami, {"x": (1, 1)}, 8)
    with pytest.raises(ValueError, match="bounds must be a non-empty dict"):
        sobol_indices(ishigami, {}, 8)
    with pytest.raises(ValueError, match="func returned 3 outputs for 40 points"):
        sobol_indices(lambda x: [1, 2, 3], BOX, 8)
    with pytest.raises(ValueError, match="confidence"):
        sobol_indices(ishigami, BOX, 8, confidence=1.0)
    with pytest.raises(TypeError, match="'n' must be an integer"):
        sobol_indices(ishigami, BOX, 8.0)
    with pytest.raises(ValueError, match="even"):
        morris_indices(ishigami, BOX, 4, levels=5)
    with pytest.raises(ValueError, match="not one of"):
        sample("grid", BOX, 8)


SALTELLI = {
    "seed": 2,
    "replicates": 2,
    "model": {"firms": 20, "rounds": 30, "window": 10, "error": 0.05},
    "grid": {"topology": ["random", "regular"]},
    "sample": {"design": "saltelli", "samples": 32,
               "ranges": {"scope": [0.0, 1.0], "trust_decay": [0.0, 0.2], "defectors": [0.0, 0.5]}},
}


def test_indices_of_a_saltelli_sweep_are_those_coopsweep_analyze_prints(tmp_path, cli):
    path = tmp_path / "saltelli.h5"
    with coopsweep.run(SALTELLI, out=path, progress=False) as ds:
        assert ds.sizes == {"topology": 2, "sample": 160, "replicate": 2}
        result = coopsweep.analysis.sobol(ds, "payoff", sel={"topology": "regular"}, bootstrap=300, seed=4)
        with pytest.raises(ValueError, match="the grid axes topology remain"):
            coopsweep.analysis.sobol(ds, "payoff")
        with pytest.raises(ValueError, match="unknown metric 'pay'"):
            coopsweep.analysis.sobol(ds, "pay", sel={"topology": "ring"})
        with pytest.raises(ValueError, match="holds a 'saltelli' design"):
            coopsweep.analysis.morris(ds, "payoff", sel={"topology": "ring"})
    printed = cli("analyze", path, "--metric", "payoff", "--json", "--bootstrap", 300, "--seed", 4)
    assert printed.returncode == 0, printed.stderr
    cell = json.loads(printed.stdout)["cells"][1]
    assert cell["grid"] == {"topology": "regular"}
    assert result.names == ["scope", "trust_decay", "defectors"]
    np.testing.assert_array_equal(result.S1.to_numpy(), cell["S1"])
    np.testing.assert_array_equal(result.ST_conf["high"].to_numpy(), cell["ST_high"])
    # A path works as well as a dataset.
    again = coopsweep.analysis.sobol(path, "payoff", sel={"topology": "regular"}, bootstrap=300, seed=4)
    assert again.to_frame().equals(result.to_frame())


def test_effects_of_a_morris_sweep_are_those_coopsweep_analyze_prints(tmp_path, cli):
    spec = {"seed": 1, "replicates": 2, "model": {"firms": 20, "rounds": 30, "window": 10},
            "sample": {"design": "morris", "trajectories": 6, "levels": 4,
                       "ranges": {"scope": [0.0, 1.0], "partners": [2, 8]}}}
    path = tmp_path / "morris.h5"
    coopsweep.run(spec, out=path, progress=False).close()
    result = coopsweep.analysis.morris(path, "cooperation", bootstrap=100)
    cell = json.loads(cli("analyze", path, "--metric", "cooperation", "--json", "--bootstrap", 100).stdout)["cells"][0]
    np.testing.assert_array_equal(result.mu_star.to_numpy(), cell["mu_star"])
    np.testing.assert_array_equal(result.sigma.to_numpy(), cell["sigma"])
    np.testing.assert_array_equal(result.mu_star_conf["low"].to_numpy(), cell["mu_star_low"])


def test_figures_of_indices_draw_each_estimate_with_its_interval(tmp_path):
    result = sobol_indices(ishigami, BOX, 256, bootstrap=200)
    ax = coopsweep.plot.sobol(result, title="Ishigami")
    heights = sorted(round(p.get_height(), 9) for p in ax.patches)
    assert heights == sorted(round(v, 9) for v in [*result.S1, *result.ST])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x1", "x2", "x3"]
    ax.figure.savefig(tmp_path / "sobol.png")
    plt.close(ax.figure)
    assert (tmp_path / "sobol.png").read_bytes().startswith(b"\x89PNG")
    effects = morris_indices(ishigami, BOX, 20)
    ax = coopsweep.plot.morris(effects)
    assert [t.get_text() for t in ax.texts] == ["x1", "x2", "x3"]
    plt.close(ax.figure)
