"""validation/extrapolate.py: the weighted line through crossings at several w."""

import csv
import json
import math
import os
import pathlib
import sys

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("COOPSWEEP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE_DIR / "validation"))

import extrapolate  # noqa: E402

FIELDS = ["topology", "partners", "allen", "ml_x0", "ml_lo", "ml_hi"]


def write_run(folder: pathlib.Path, selection: float, rows: list[dict], firms: int = 100) -> pathlib.Path:
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"selection": selection, "firms": firms, "replicates": 1000}))
    with open(folder / "ohtsuki_crossings.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return folder


def crossing(x0: float, half_width: float, topology: str = "ring", k: int = 6) -> dict:
    return {"topology": topology, "partners": k, "allen": 98 / (100 / k - 2), "ml_x0": x0,
            "ml_lo": x0 - half_width, "ml_hi": x0 + half_width}


def test_points_on_a_line_give_its_intercept_and_slope():
    points = [{"selection": w, "crossing": 6.5 + 80 * w, "se": se}
              for w, se in [(0.01, 0.3), (0.005, 0.2), (0.0025, 0.25)]]
    fit = extrapolate.fit_line(points)
    assert fit["intercept"] == pytest.approx(6.5)
    assert fit["slope"] == pytest.approx(80)
    assert fit["chi2"] == pytest.approx(0, abs=1e-18)
    assert fit["df"] == 1


def test_two_points_give_the_textbook_intercept_error():
    # Through (w1, y1) and (w2, y2) the intercept is (w2 y1 - w1 y2) / (w2 - w1),
    # with variance (w2^2 s1^2 + w1^2 s2^2) / (w2 - w1)^2.
    points = [{"selection": 0.01, "crossing": 7.4, "se": 0.3}, {"selection": 0.005, "crossing": 6.9, "se": 0.2}]
    fit = extrapolate.fit_line(points)
    assert fit["intercept"] == pytest.approx((0.005 * 7.4 - 0.01 * 6.9) / (0.005 - 0.01))
    assert fit["intercept_se"] == pytest.approx(math.sqrt(0.005**2 * 0.3**2 + 0.01**2 * 0.2**2) / 0.005)
    assert fit["lo"] < fit["intercept"] < fit["hi"]


def test_unbounded_intervals_and_a_single_w_give_no_line():
    assert extrapolate.fit_line([{"selection": 0.01, "crossing": 7.0, "se": 0.3},
                                 {"selection": 0.005, "crossing": 6.0, "se": math.inf}]) == {}
    assert extrapolate.fit_line([{"selection": 0.01, "crossing": 7.0, "se": 0.3},
                                 {"selection": 0.01, "crossing": 6.8, "se": 0.3}]) == {}


def test_folders_are_joined_by_graph_and_written_with_a_figure(tmp_path):
    a = write_run(tmp_path / "a", 0.01, [crossing(7.4, 0.8), crossing(4.3, 0.4, k=4),
                                          crossing(7.4, 0.6, topology="regular")])
    b = write_run(tmp_path / "b", 0.005, [crossing(6.9, 0.35)])
    out = tmp_path / "out"
    assert extrapolate.main([str(a), str(b), "--out", str(out)]) == 0
    table = (out / "extrapolation.md").read_text()
    assert "| ring | 6 | 6.68 |" in table and "| ring | 4 | 4.26 |" in table
    assert "(Allen outside)" not in table.split("| ring | 6 |")[1].split("\n")[0]
    assert "(Allen outside)" in table.split("| regular | 6 |")[1].split("\n")[0]
    rows = list(csv.DictReader(open(out / "extrapolation.csv")))
    line = [r for r in rows if r["partners"] == "6" and float(r["selection"]) == 0.0]
    assert len(line) == 1 and float(line[0]["crossing"]) == pytest.approx(6.4, abs=0.01)
    assert (out / "extrapolation.png").stat().st_size > 1000


def test_runs_of_different_sizes_are_refused(tmp_path):
    a = write_run(tmp_path / "a", 0.01, [crossing(7.4, 0.6)])
    b = write_run(tmp_path / "b", 0.005, [crossing(6.9, 0.35)], firms=50)
    assert extrapolate.main([str(a), str(b), "--out", str(tmp_path / "out")]) == 2
