"""AppTest flows of the Stress tab: the app shows the engine's and the CLI's figures for
the same plan and seed, Stop keeps what was found, hardening shows its price and can be
adopted (and undone)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from optimizer.studies.stress import StressReport

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "ui" / "app.py"
WAIT_S = 120.0

# h (A, irreversible, risk 10) may start once g has started; A's cap needs g's credit
# first, so the plan puts h at g's verification (1). A delay of g, Tri(0, 0, 6), then
# breaches unless h is buffered: P(X >= k - 0.5); the first k with at most 5 % is 6
# ((0.5 / 6)^2 = 0.7 %; k = 5: 6.25 %), and h then ends at 7: the price is +5 months.
BUFFER = {
    "format": "roadmap/v1", "name": "buffer", "horizon": 30, "time_unit": "month",
    "calendar_start": "2020-01",
    "parties": [{"id": "A", "name": "Alpha"}, {"id": "B", "name": "Beta"}],
    "concessions": [
        {"id": "g", "party": "B", "title": "Beta's opening step", "duration": 1, "value": 10,
         "cost": 0, "verification": "public"},
        {"id": "h", "party": "A", "title": "Alpha's irreversible step", "duration": 1,
         "value": 0, "cost": 10, "reversibility": "irreversible", "verification": "public"},
    ],
    "rules": [{"id": "after_g", "kind": "precedence", "before": "g", "after": "h",
               "from": "start"},
              {"id": "cap", "kind": "exposure", "parties": ["A"], "max": 5,
               "text": "Alpha is never exposed by more than 5"}],
    "uncertainty": {"concessions": {"g": {"delay": [0, 0, 6]}}},
}


def settle(at: AppTest) -> AppTest:
    """Run; wait for a running solve or stress job; run again to collect it."""
    at.run()
    for _ in range(4):
        solve = at.session_state.get("rm_job", None)
        job = at.session_state.get("rm_stress_job", None)
        if solve is None and job is None:
            break
        if solve is not None:
            solve.handle.result(WAIT_S)
        if job is not None:
            assert job.wait(WAIT_S)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, scenario: str) -> AppTest:
    monkeypatch.setenv("ROADMAP_STORE", str(tmp_path / "runs.sqlite"))
    monkeypatch.setenv("ROADMAP_UI_SCENARIO", scenario)
    at = AppTest.from_file(str(APP), default_timeout=WAIT_S)
    at.run()
    at.number_input(key="opt_workers").set_value(1)
    at.number_input(key="opt_time_limit").set_value(10.0)
    settle(at)
    at.session_state["main_tabs"] = "Stress"
    settle(at)
    return at


def cleanup(at: AppTest) -> None:
    job = at.session_state.get("rm_stress_job", None)
    if job is not None:
        job.stop()
        job.wait(WAIT_S)


@pytest.fixture
def seed_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[AppTest]:
    at = open_app(monkeypatch, tmp_path, "us_dprk_2018")
    yield at
    cleanup(at)


@pytest.fixture
def buffer_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[AppTest]:
    path = tmp_path / "buffer.yaml"
    path.write_text(yaml.safe_dump(BUFFER, sort_keys=False), encoding="utf-8")
    at = open_app(monkeypatch, tmp_path, str(path))
    yield at
    cleanup(at)


def shown_report(at: AppTest) -> StressReport:
    last = at.session_state["rm_stress_last"]
    key = next(v for k, v in last.items() if k[0] == "stress")
    report, _stopped = at.session_state["rm_stress_outcomes"][key]
    assert isinstance(report, StressReport)
    return report


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table(at: AppTest, column: str) -> Any:
    """The first table shown with this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def run_stress(at: AppTest, samples: int, seed: int) -> None:
    at.number_input(key="stress_samples").set_value(samples)
    at.number_input(key="stress_seed").set_value(seed)
    at.run()
    at.button(key="stress_run").click()
    settle(at)


def test_the_app_shows_the_engines_and_the_clis_figures_for_the_same_seed(
        seed_app: AppTest, tmp_path: Path) -> None:
    from optimizer.check import assert_valid
    from optimizer.cli import app as cli
    from optimizer.studies.stress import stress

    at = seed_app
    state = at.session_state["rm"]
    sc, plan = state.result_scenario, state.result
    assert plan is not None and plan.solved
    assert_valid(sc, plan)
    run_stress(at, 3000, 7)
    shown = shown_report(at)
    expected = stress(sc, plan, samples=3000, seed=7)
    assert shown.to_dict() == expected.to_dict()
    # The CLI on the same roadmap (--plan) and seed prints the same report.
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan.to_json(), encoding="utf-8")
    res = CliRunner().invoke(cli, ["stress", "us_dprk_2018", "--plan", str(plan_file),
                                   "--samples", "3000", "--seed", "7", "-f", "json"])
    assert res.exit_code == 0, res.output
    from_cli = json.loads(res.stdout)
    assert from_cli == json.loads(expected.to_json())
    # What the page shows is those figures, in words and units.
    m = metrics(at)
    mk = from_cli["makespan"]
    from models.calendar import label as cal_label

    for q in ("p50", "p80", "p95"):
        assert m[f"Makespan {q.upper()} · ends {cal_label(sc, mk[q])}"] == f"{mk[q]} months"
    assert m["Stall probability"] == f"{100 * from_cli['stall_probability']:.1f} %"
    breach = table(at, "breach probability")
    caps = {c["rule"]: c for c in from_cli["caps"]}
    assert list(breach["breach probability"]) == [
        f"{100 * caps[r]['breach_probability']:.1f} %"
        for r in ("us_exposure_cap", "dprk_exposure_cap")]
    names = {p.id: p.name or p.id for p in sc.parties}
    assert list(breach["cap"]) == [   # the sides' names and the limit, not the rule ids
        f"{names['US']}: exposure at most 8 value points",
        f"{names['DPRK']}: exposure at most 49 value points"]
    assert m["Highest breach probability"] == \
        f"{100 * max(c['breach_probability'] for c in from_cli['caps']):.1f} %"
    # The fan chart, the makespan histogram and the tornado are drawn.
    assert len(at.get("vega_lite_chart")) >= 3


def test_stop_keeps_the_realisations_done(seed_app: AppTest) -> None:
    at = seed_app
    at.number_input(key="stress_samples").set_value(1_000_000)
    at.run()
    at.button(key="stress_run").click()
    at.run()
    job = at.session_state["rm_stress_job"]
    assert job is not None and job.kind == "stress"
    at.button(key="stop_stress").click()
    settle(at)
    assert job.stopped
    report = shown_report(at)
    assert 0 < report.samples < 1_000_000
    assert report.samples % 8192 == 0          # whole blocks: the engine stops between them
    warnings = [w.value for w in at.warning]
    assert any(w.startswith(f"Stopped after {report.samples:,} of 1,000,000") for w in warnings)
    # The figures cover the samples done: the same as the engine's for that many.
    from optimizer.studies.stress import stress

    state = at.session_state["rm"]
    again = stress(state.result_scenario, state.result, samples=report.samples, seed=0)
    assert again.to_dict() == report.to_dict()


def test_harden_to_target_shows_the_price_and_can_be_adopted_and_undone(
        buffer_app: AppTest) -> None:
    from optimizer.check import check

    at = buffer_app
    original = at.session_state["rm"].working
    at.number_input(key="stress_samples").set_value(4000)
    at.multiselect(key="stress_levers").set_value(["buffer"])
    at.number_input(key="stress_target").set_value(5.0)
    at.run()
    at.button(key="stress_harden").click()
    settle(at)
    last = at.session_state["rm_stress_last"]
    key = next(v for k, v in last.items() if k[0] == "harden")
    hard, stopped = at.session_state["rm_stress_outcomes"][key]
    assert not stopped and hard.met and (hard.lever, hard.k) == ("buffer", 6)
    assert hard.report.breach_probability <= 0.05
    assert hard.plan is not None and check(original, hard.plan) == []
    m = metrics(at)
    assert m["Price in makespan"] == "+5 months"
    assert m["Breach probability, hardened"] == \
        f"{100 * hard.report.breach_probability:.1f} %"
    assert m["Makespan, unhardened"] == "2 months (ends 2020-03)"
    assert m["Makespan, hardened"] == "7 months (ends 2020-08)"
    assert any("slack before every irreversible step (6 months)" in s.value
               for s in at.success)
    # Adopt: the hardened scenario becomes the working copy and is solved; Undo takes it back.
    at.button(key="stress_adopt").click()
    settle(at)
    state = at.session_state["rm"]
    assert state.working != original
    rule = next(r for r in state.working.rules if r.id == "after_g")
    assert rule.min_lag == 6
    assert state.result is not None and state.result.metrics.makespan == 7
    assert check(state.working, state.result) == []
    assert state.past[-1] == original
    at.button(key="undo_edit").click()
    settle(at)
    assert at.session_state["rm"].working == original


def test_hardening_stop_keeps_what_was_found(buffer_app: AppTest) -> None:
    at = buffer_app
    at.multiselect(key="stress_levers").set_value(["buffer"])
    at.run()
    at.button(key="stress_harden").click()
    at.run()
    job = at.session_state["rm_stress_job"]
    assert job is not None and job.kind == "harden"
    at.button(key="stop_stress").click()
    settle(at)
    assert job.stopped
    last = at.session_state["rm_stress_last"]
    key = next(v for k, v in last.items() if k[0] == "harden")
    hard, stopped = at.session_state["rm_stress_outcomes"][key]
    assert stopped
    # Stopped before or during the first candidate: the unhardened figures are kept, and
    # nothing unconfirmed is offered as the answer.
    assert hard.base_report.breach_probability > 0.5
    assert hard.met == (hard.plan is not None)
    assert any(w.value == "Hardening stopped: showing what was found so far."
               for w in at.warning)


def test_no_solved_roadmap_no_stress_button(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    data = dict(BUFFER, horizon=1)          # g then h cannot both fit: infeasible
    path = tmp_path / "tight.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    at = open_app(monkeypatch, tmp_path, str(path))
    assert any("no solved roadmap to stress" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "stress_run"]


def test_the_figures_draw_the_reports_numbers_with_units_and_dates() -> None:
    """The charts' data are the report's figures (never recomputed), labelled in units."""
    from models import parse_scenario
    from optimizer.studies.stress import stress
    from tests.conftest import solve_checked
    from ui import stress_charts

    sc = parse_scenario(BUFFER, "<test>")
    plan = solve_checked(sc)
    rep = stress(sc, plan, samples=2000, seed=0)
    marks = stress_charts.makespan_marks(sc, rep)
    assert list(marks["name"]) == ["P50", "P80", "P95", "plan"]
    assert list(marks["makespan"]) == [rep.makespan["p50"], rep.makespan["p80"],
                                       rep.makespan["p95"], 2]
    assert marks["label"].iloc[-1] == "plan 2 months (ends 2020-03)"
    fan = stress_charts.fan_rows(sc, rep, ["A"])
    bands = rep.exposure_bands["A"]
    assert bands is not None
    assert fan[["t", "p10", "p50", "p90"]].values.tolist() == bands
    assert fan["when"].iloc[0] == "month 0 (2020-01)"
    chart = stress_charts.fan_chart(sc, rep, plan).to_dict()
    assert "cap 5 value points" in json.dumps(chart)
    breach = stress_charts.breach_rows(sc, rep)
    assert breach.to_dict("records")[0]["cap"] == "Alpha: exposure at most 5 value points"
    assert breach.to_dict("records")[0]["breach probability"] == \
        f"{100 * rep.caps[0]['breach_probability']:.1f} %"
    tornado = stress_charts.tornado_rows(sc, rep)
    assert set(tornado["driver"]) == {"Beta's opening step — its own delay"}
    assert set(tornado["moves"]) <= {"how late the roadmap ends", "Alpha's peak exposure",
                                     "Beta's peak exposure"}
    assert stress_charts.makespan_chart(sc, rep).to_dict()["layer"]
