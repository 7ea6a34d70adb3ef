"""coopsweep.plot: phase diagrams, lines with confidence bands, and `coopsweep plot` on the command line."""

import statistics

import matplotlib.pyplot as plt
import numpy as np
import pytest

import coopsweep

PNG = b"\x89PNG\r\n\x1a\n"


def _saved(ax, path):
    ax.figure.savefig(path)
    plt.close(ax.figure)
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 5000
    return path


def test_phase_draws_the_replicate_mean(small, tmp_path):
    ax = coopsweep.plot.phase(small, x="scope", y="partners", metric="payoff", sel={"topology": "ring"})
    mesh = ax.collections[0]
    expected = small["payoff_mean"].sel(topology="ring").transpose("partners", "scope").values
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(expected.shape), expected)
    assert ax.get_xlabel() == "scope" and ax.get_ylabel() == "partners"
    assert "topology = ring" in ax.get_title() and "mean of 4 replicates" in ax.get_title()
    _saved(ax, tmp_path / "phase.png")


def test_phase_averages_axes_not_drawn_and_shows_names_as_categories(small, tmp_path):
    ax = coopsweep.plot.phase(small, x="topology", y="scope")
    expected = small["cooperation_mean"].mean("partners").transpose("scope", "topology").values
    np.testing.assert_allclose(np.asarray(ax.collections[0].get_array()).reshape(expected.shape), expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ring", "regular"]
    assert "mean over partners" in ax.get_title()
    _saved(ax, tmp_path / "categories.png")


def test_phase_from_a_path_on_given_axes(small_file, tmp_path):
    fig, (left, right) = plt.subplots(1, 2)
    assert coopsweep.plot.phase(small_file, x="scope", y="partners", ax=left, colorbar=False) is left
    coopsweep.plot.phase(str(small_file), x="partners", y="scope", metric="trust", ax=right, cmap="magma")
    _saved(right, tmp_path / "two.png")


def test_lines_draw_means_with_normal_confidence_bands(small, tmp_path):
    ax = coopsweep.plot.lines(small, x="scope", metric="payoff", hue="partners", sel={"topology": "regular"})
    raw = small["payoff"].sel(topology="regular")
    assert [line.get_label() for line in ax.lines] == ["partners = 2", "partners = 4"]
    z = statistics.NormalDist().inv_cdf(0.975)
    for line, partners, band in zip(ax.lines, [2, 4], ax.collections):
        values = raw.sel(partners=partners).values  # (scope, replicate)
        mean = values.mean(axis=1)
        se = values.std(axis=1, ddof=1) / np.sqrt(values.shape[1])
        np.testing.assert_allclose(line.get_ydata(), mean)
        np.testing.assert_allclose(line.get_xdata(), [0.2, 0.6, 1.0])
        vertices = band.get_paths()[0].vertices[:, 1]
        np.testing.assert_allclose(vertices.min(), (mean - z * se).min())
        np.testing.assert_allclose(vertices.max(), (mean + z * se).max())
    assert "± 95% CI" in ax.get_title() and ax.get_ylabel() == "payoff (value per firm per round)"
    _saved(ax, tmp_path / "lines.png")


def test_lines_without_hue_or_band_pool_the_other_axes(small, tmp_path):
    ax = coopsweep.plot.lines(small, x="topology", metric="cooperation", ci=None)
    assert len(ax.lines) == 1 and not ax.collections
    expected = small["cooperation"].mean(["replicate", "scope", "partners"]).values
    np.testing.assert_allclose(ax.lines[0].get_ydata(), expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ring", "regular"]
    assert "mean over scope, partners" in ax.get_title()
    _saved(ax, tmp_path / "pooled.png")


def test_standard_error_over_averaged_grid_points():
    from coopsweep.plot import _mean_and_error

    values = np.array([[[1.0, 2.0, 3.0, np.nan], [10.0, 12.0, np.nan, np.nan]]])  # (x, K=2, replicates)
    mean, se = _mean_and_error(values)
    np.testing.assert_allclose(mean, [(2.0 + 11.0) / 2])
    np.testing.assert_allclose(se, [np.sqrt(1.0 / 3 + 2.0 / 2) / 2])
    mean, se = _mean_and_error(np.array([[[5.0, np.nan]]]))  # one replicate: no band
    assert mean[0] == 5.0 and np.isnan(se[0])


@pytest.mark.parametrize("function, kwargs, message", [
    ("phase", {"x": "scop", "y": "partners"}, r"x = 'scop' is not a grid axis of the dataset; allowed: scope, "
                                                r"partners, topology"),
    ("phase", {"x": "scope", "y": "scope"}, r"x and y are both 'scope'"),
    ("phase", {"x": "scope", "y": "partners", "metric": "cooperation_mean"}, r"metric 'cooperation_mean' is not"),
    ("phase", {"x": "scope", "y": "partners", "metric": "payof"}, r"metric 'payof' is not in the dataset; "
                                                                  r"allowed: cooperation, trust"),
    ("phase", {"x": "scope", "y": "partners", "sel": {"topology": "torus"}}, r"sel topology = torus is not on the "
                                                                            r"grid; allowed: ring, regular"),
    ("phase", {"x": "scope", "y": "partners", "sel": {"scope": 0.2}}, r"sel names 'scope', which the figure draws"),
    ("lines", {"x": "scope", "sel": {"partners": 3}}, r"sel partners = 3 is not on the grid; allowed: 2, 4"),
    ("lines", {"x": "scope", "sel": {"partners": "four"}}, r"sel partners = 'four' is not a number"),
    ("lines", {"x": "scope", "sel": {"rounds": 30}}, r"sel names 'rounds', which is not a grid axis"),
    ("lines", {"x": "scope", "hue": "scope"}, r"x and hue are both 'scope'"),
    ("lines", {"x": "scope", "hue": "firms"}, r"hue = 'firms' is not a grid axis"),
    ("lines", {"x": "scope", "ci": 95}, r"ci = 95 is not allowed"),
])
def test_bad_arguments_raise_value_error_saying_what_is_allowed(small, function, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(coopsweep.plot, function)(small, **kwargs)
    plt.close("all")


def test_sel_matches_float_grid_values_to_a_relative_tolerance(tmp_path):
    ds = coopsweep.run({"replicates": 2, "model": {"firms": 20, "rounds": 20, "window": 5},
                        "grid": {"trust_decay": {"start": 0, "stop": 0.3, "num": 4}, "scope": [0.5, 1.0]}},
                       progress=False)
    assert ds["trust_decay"].values[1] != 0.1  # 0.30000000000000004 / 3
    ax = coopsweep.plot.lines(ds, x="scope", sel={"trust_decay": 0.1})
    assert "trust_decay = 0.1" in ax.get_title()
    plt.close("all")


# --- the command line -----------------------------------------------------------------------------------------------


def test_cli_plot_phase_and_lines(cli, small_file, tmp_path):
    phase = tmp_path / "phase.png"
    result = cli("plot", small_file, "--x", "scope", "--y", "partners", "--metric", "trust", "--sel",
                 "topology=ring", "-o", phase)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {phase}\n"
    assert phase.read_bytes().startswith(PNG)

    lines = tmp_path / "lines.svg"
    result = cli("plot", small_file, "--x", "scope", "--hue", "partners", "--metric", "payoff", "--ci", "0.9",
                 "-o", lines)
    assert result.returncode == 0, result.stderr
    assert b"<svg" in lines.read_bytes()


def test_cli_plot_errors_and_help(cli, small_file, tmp_path):
    result = cli("plot", small_file, "--x", "scop", "--y", "partners", "-o", tmp_path / "x.png")
    assert result.returncode == 2
    assert result.stderr == ("coopsweep: error: x = 'scop' is not a grid axis of the dataset; allowed: scope, "
                             "partners, topology\n")
    result = cli("plot", tmp_path / "none.h5", "--x", "scope", "-o", tmp_path / "x.png")
    assert result.returncode == 2 and "results file" in result.stderr and "does not exist" in result.stderr
    assert not (tmp_path / "x.png").exists()
    result = cli("plot", "--help")
    assert result.returncode == 0 and "usage: coopsweep plot" in result.stdout and "--metric" in result.stdout
    assert "plot" in cli("--help").stdout


@pytest.mark.parametrize("args, status, message", [
    (["--x", "scope", "--sel", "partners"], 2, "coopsweep: error: --sel 'partners' is not NAME=VALUE"),
    (["--x", "scope", "--y", "partners", "--hue", "topology"], 2, "give one of them"),
    (["--x", "scope", "--metric", "payof"], 2, "coopsweep: error: metric 'payof' is not in the dataset"),
    (["--x", "scope", "-o", "DIR/missing/x.png"], 1, "coopsweep: error: cannot write"),
    (["--x", "scope", "-o", "DIR/x.unknown"], 2, "coopsweep: error: Format 'unknown' is not supported"),
])
def test_plot_main_bad_input(small_file, tmp_path, capsys, args, status, message):
    args = [a.replace("DIR", str(tmp_path)) for a in args]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "x.png")]
    try:
        returned = coopsweep.plot.main([str(small_file), *args])
    except SystemExit as exit:  # argparse's own errors
        returned = exit.code
    assert returned == status
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_plot_main_lines_without_bands(small_file, tmp_path, capsys):
    out = tmp_path / "l.pdf"
    assert coopsweep.plot.main([str(small_file), "--x", "partners", "--hue", "topology", "--ci", "0", "-o",
                                str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert out.read_bytes().startswith(b"%PDF")


def test_python_m_coopsweep_plot(python, small_file, tmp_path):
    out = tmp_path / "m.png"
    result = python("-m", "coopsweep.plot", small_file, "--x", "scope", "--y", "topology", "-o", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(PNG)
