"""``roadmap pareto --y breach_probability``: makespan against breach probability over the
hardening levers' roadmaps, checked against the analytic breach probabilities."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

from typer.testing import CliRunner

from models import SolveOptions
from optimizer.check import check
from optimizer.studies.stress.front import breach_front, default_ks
from tests.conftest import scenario_from
from tests.optimizer.studies.test_stress import BUFFER

# BUFFER: h (A, irreversible, risk 10) may start once g has started; A's cap needs g's credit,
# so h waits for g's verification (1 in the plan). g's delay X ~ Tri(0, 0, 6) (rounded,
# halves up) breaches the cap when g is verified after h starts. A buffer of k on the
# precedence starts h at max(1, k): makespan max(2, k + 1), breach P(round X >= max(1, k))
# = ((6.5 - m) / 6)^2 for m <= 6 and 0 from 7. Planning g's verification k later ("lag")
# starts h at 1 + k: the buffer's k + 1 point.
SAMPLES = 4000


def analytic(makespan: int) -> float:
    m = makespan - 1           # h starts at m = makespan - 1
    return 0.0 if m >= 7 else ((6.5 - m) / 6) ** 2


def within(p: float, expected: float) -> bool:
    se = math.sqrt(expected * (1 - expected) / SAMPLES)
    return abs(p - expected) <= 3 * se + 1e-12


def test_the_front_follows_the_analytic_breach_probabilities() -> None:
    sc = scenario_from(BUFFER)
    assert default_ks(sc) == [1, 2, 3, 4, 6]
    front = breach_front(sc, levers=("buffer", "lag"), ks=range(1, 8), samples=SAMPLES,
                         seed=0, options=SolveOptions(time_limit_s=10, workers=1), jobs=1)
    assert (front.x, front.y) == ("makespan", "breach_probability")
    assert front.solves == 14
    xs = [p.x for p in front.points]
    ys = [p.y for p in front.points]
    assert xs == [2, 3, 4, 5, 6, 7, 8]
    assert all(a > b for a, b in itertools.pairwise(ys))
    assert all(within(p.y, analytic(p.x)) for p in front.points), list(zip(xs, ys, strict=True))
    assert ys[-1] == 0.0
    assert front.points[0].label == "unhardened"
    assert all(p.label is not None for p in front.points)
    for p in front.points:
        assert check(sc, p.result) == []
        assert p.result.metrics is not None and p.result.metrics.makespan == p.x


def test_cli_pareto_breach_probability_json_and_chart(tmp_path: Path) -> None:
    import yaml

    from optimizer.cli import app

    path = tmp_path / "buffer.yaml"
    path.write_text(yaml.safe_dump(dict(BUFFER, format="roadmap/v1")), encoding="utf-8")
    chart = tmp_path / "front.html"
    res = CliRunner().invoke(app, ["pareto", str(path), "--y", "breach_probability",
                                   "--levers", "buffer", "--k", "2,4,7", "--samples",
                                   str(SAMPLES), "-t", "10", "-f", "json", "-o", str(chart)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert (data["x"], data["y"]) == ("makespan", "breach_probability")
    points = [(p["x"], p["label"]) for p in data["points"]]
    assert points == [(2, "unhardened"), (3, "buffer=2"), (5, "buffer=4"), (8, "buffer=7")]
    assert all(within(p["y"], analytic(p["x"])) for p in data["points"])
    html = chart.read_text(encoding="utf-8")
    assert "breach probability" in html and "makespan" in html
    # The table view names the roadmap of each point, with units.
    table = CliRunner().invoke(app, ["pareto", str(path), "--y", "breach_probability",
                                     "--levers", "buffer", "--k", "7", "--samples", "500",
                                     "-t", "10"])
    assert table.exit_code == 0, table.output
    assert "8 months" in table.stdout or "8 days" in table.stdout
    assert "buffer=7" in table.stdout and "0.0%" in table.stdout


def test_cli_pareto_breach_probability_bad_input_is_one_line(tmp_path: Path) -> None:
    from optimizer.cli import app

    for args, words in ((["--x", "peak_exposure"], "--x must be makespan"),
                        (["--levers", "nope"], "unknown lever 'nope'"),
                        (["--k", "a,b"], "--k: comma-separated whole numbers")):
        res = CliRunner().invoke(app, ["pareto", "us_dprk_2018", "--y", "breach_probability",
                                       *args])
        assert res.exit_code == 2, res.output
        assert words in res.output and "Traceback" not in res.output
