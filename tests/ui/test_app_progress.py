"""AppTest flows of the Progress tab (SPEC §5.5, issue 16 point 4) on the tiny scenario.

The plan (test_app_logic.py's hand-checked optimum): a1 "Alpha freezes" and
b1 "Beta lifts sanctions" at [0, 2], a2 "Alpha dismantles" at [2, 5]
(verified 7); makespan 5, peak 4. Times are months from 2020-01, so month 3
is "2020-04" in the editor.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from models import SolveOptions
from optimizer.check import assert_valid
from optimizer.studies.replan import next_package, replan
from tests.ui.test_app_logic import (
    APP,
    SOLVE_WAIT_S,
    TINY,
    messages,
    open_tiny,
    settle,
    state,
    stop_background,
)

ONE = SolveOptions(time_limit_s=5.0, workers=1, seed=0)
ROW = {"a1": "0", "b1": "1", "a2": "2"}


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[AppTest]:
    at = open_tiny(monkeypatch, tmp_path / "runs.sqlite")
    settle(at)
    at.button(key="solve").click()   # the plan, with the test's options
    settle(at)
    at.session_state["main_tabs"] = "Progress"
    at.run()
    yield at
    stop_background(at)


def editor(at: AppTest) -> Any:
    eds = [e for e in at.data_editor if (e.key or "").endswith("progress_table")]
    assert len(eds) == 1
    return eds[0]


def record(at: AppTest, rows: dict[str, dict[str, Any]]) -> None:
    """Type cells into the record editor (rows by concession id), as the browser would."""
    key = editor(at).key
    at.session_state[key] = {"edited_rows": {ROW[cid]: cells for cid, cells in rows.items()},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def set_as_of(at: AppTest, when: str) -> None:
    box = next(s for s in at.text_input if (s.key or "").endswith(".as_of"))
    box.set_value(when)
    at.run()


def replanned(at: AppTest) -> Any:
    """Press Re-plan, wait for the background job, collect it; the checked result."""
    at.button(key="replan").click()
    at.run()
    job = at.session_state["rm_replan_job"]
    if job is not None:   # else it ended (and was collected) within that run
        job.job.handle.result(SOLVE_WAIT_S)
        at.run()
    assert at.session_state["rm_replan_job"] is None
    assert not at.exception, [e.value for e in at.exception]
    done = at.session_state["rm_replans"][at.session_state["rm_replan_shown"]]
    assert_valid(done.scenario, done.result)
    return done


def progress_of(at: AppTest) -> dict[str, tuple[Any, ...]]:
    pr = state(at).working.progress
    assert pr is not None
    return {s.id: (s.start, s.end, s.verified, s.reversed) for s in pr.steps}


def test_tab_renders_only_when_open(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ROADMAP_STORE", str(tmp_path / "runs.sqlite"))
    monkeypatch.setenv("ROADMAP_UI_SCENARIO", str(TINY))
    at = AppTest.from_file(str(APP), default_timeout=SOLVE_WAIT_S)
    settle(at)
    assert not [e for e in at.data_editor if (e.key or "").endswith("progress_table")]
    assert any("Open this tab to record" in c.value for c in at.caption)
    at.session_state["main_tabs"] = "Progress"
    at.run()
    assert editor(at).value["state"].tolist() == ["not started"] * 3


def test_mark_done_late_and_replan_shows_the_engines_figures(app: AppTest) -> None:
    set_as_of(app, "2020-05")
    record(app, {"a1": {"started": "2020-01", "finished": "2020-03"},
                 "b1": {"started": "0", "finished": "2020-04"}})
    assert progress_of(app) == {"a1": (0, 2, None, None), "b1": (0, 3, None, None)}
    assert state(app).working.progress.as_of == 4          # type: ignore[union-attr]
    assert editor(app).value["state"].tolist() == ["done", "done", "not started"]
    assert editor(app).value["finished"].tolist() == ["2020-03", "2020-04", ""]
    done = replanned(app)
    result = done.result
    # a2 cannot start before as_of 4: [4, 7]; 2 months from its planned start.
    assert result.status == "optimal"
    assert [(o.metric, o.value) for o in result.objective] == [
        ("makespan", 7), ("peak_exposure", 4), ("deviation", 2)]
    assert {e.id: (e.start, e.end) for e in result.schedule} == {
        "a1": (0, 2), "b1": (0, 3), "a2": (4, 7)}
    # b1 took 3 months against its 2: the record breaks its duration.
    assert [(b.get("concession"), b.get("field")) for b in result.broken or []] == [
        ("b1", "duration")]
    # The same re-plan through the engine (roadmap replan SCENARIO --plan PLAN).
    plan = state(app).result
    effective, engine = replan(state(app).working, plan, ONE)
    assert engine.objective == result.objective and engine.schedule == result.schedule
    assert engine.broken == result.broken
    # What the page shows: the figures, the moved step, the broken field in words.
    assert any("makespan 7, peak exposure 4, deviation 2" in s.value for s in app.success)
    moved = next(d.value for d in app.dataframe if "Moved by (months)" in d.value.columns)
    assert moved.to_dict("records") == [{"Concession": "Alpha dismantles", "Party": "A",
                                         "Planned start": "2020-03", "New start": "2020-05",
                                         "Moved by (months)": 2}]
    assert any("“Beta lifts sanctions”, duration: b1 took 3" in m.value for m in app.markdown)
    assert len(app.get("vega_lite_chart")) >= 2   # plan and re-plan side by side
    # The next package: 6 months from as_of, the CLI's --next 6 figures.
    pkg = next_package(effective, engine, 6)
    ledger = next(d.value for d in app.dataframe if "Exposure" in d.value.columns)
    assert [(r["Principal"], r["Delivered"], r["Received (verified)"], r["At risk"],
             r["Exposure"]) for r in ledger.to_dict("records")] == [
        (p.party if p.party not in ("A", "B") else {"A": "Alpha", "B": "Beta"}[p.party],
         p.delivered, p.received, p.at_risk, p.exposure) for p in pkg.ledger]
    # Hand-checked: at 10, A delivered a1 (4) and a2 (6), received b1's 4 (at 3),
    # risks a1's 4 (a2 is reversible: risk 0); B delivered 4, received a1's 4 and
    # a2's credit at 7 + 2 = 9: 6.
    assert [(p.delivered, p.received, p.at_risk, p.exposure) for p in pkg.ledger] == [
        (10, 4, 4, 0), (4, 10, 4, -6)]
    assert pkg.self_enforcing
    assert any(s.value.startswith("Self-enforcing") for s in app.success)
    steps = next(d.value for d in app.dataframe if "Verified" in d.value.columns
                 and "Starts" in d.value.columns)
    assert steps.to_dict("records") == [{"Concession": "Alpha dismantles", "Starts": "2020-05",
                                         "Ends": "2020-08", "Verified": "2020-10"}]


def test_reversed_and_refused_steps(app: AppTest) -> None:
    set_as_of(app, "2020-05")
    record(app, {"a1": {"started": "2020-01", "finished": "2020-03",
                        "verification": "refused"},
                 "b1": {"started": "2020-01", "finished": "2020-03", "reversed_at": "2020-04"}})
    assert progress_of(app) == {"a1": (0, 2, False, None), "b1": (0, 2, None, 3)}
    assert editor(app).value["state"].tolist() == ["done", "reversed", "not started"]
    assert editor(app).value["verification"].tolist()[0] == "refused"
    done = replanned(app)
    result = done.result
    assert result.status == "optimal"
    rows = {e.id: e for e in result.schedule}
    assert rows["a1"].verified is None and rows["b1"].reversed == 3
    assert (rows["a2"].start, rows["a2"].end) == (4, 7)
    # A: a1's risk 4 from 0; b1's credit 4 from 2, gone at 3; a2 gives B credit at 9.
    assert result.exposure["A"] == [(0, 4), (2, 0), (3, 4)]
    # B: b1's risk 4 from 0; a1's verification refused, so no credit until a2's at 9.
    assert result.exposure["B"] == [(0, 4), (9, -2)]
    _, engine = replan(state(app).working, state(app).result, ONE)
    assert engine.schedule == result.schedule and engine.objective == result.objective


def test_under_way_and_verified_at_a_date(app: AppTest) -> None:
    set_as_of(app, "5")
    record(app, {"a1": {"started": "2020-01", "finished": "2020-03",
                        "verified_at": "2020-05"},
                 "b1": {"started": "2020-01", "finished": "2020-03"},
                 "a2": {"started": "2020-04"}})
    assert progress_of(app) == {"a1": (0, 2, 4, None), "b1": (0, 2, None, None),
                                "a2": (3, None, None, None)}
    assert editor(app).value["state"].tolist() == ["done", "done", "under way"]
    done = replanned(app)
    # a2 under way since 3: it ends at 6 at the earliest (3 + 3).
    assert {e.id: (e.start, e.end) for e in done.result.schedule}["a2"] == (3, 6)
    assert {e.id: e.verified for e in done.result.schedule}["a1"] == 4


def test_invalid_entry_is_one_line_and_nothing_is_saved(app: AppTest) -> None:
    set_as_of(app, "2020-05")
    record(app, {"a1": {"started": "2020-01", "finished": "2020-03"}})
    before = state(app).working
    record(app, {"b1": {"started": "2020-01", "finished": "2020-07"}})
    assert messages(app) == [
        "Edit not applied — row “Beta lifts sanctions” (b1), Finished: end is after as_of 4: "
        "record it as under way (start only) (got 2020-07 (month 6))"]
    assert state(app).working is before
    record(app, {"b1": {"started": "2020-13"}})
    assert messages(app) == [
        "Edit not applied — row “Beta lifts sanctions” (b1), Started: expected a date like "
        "2020-01 or a number of months, got '2020-13'"]
    record(app, {"b1": {"state": "reversed", "started": "2020-01", "finished": "2020-02"}})
    assert messages(app) == [
        "Edit not applied — row “Beta lifts sanctions” (b1), Reversed at: a reversed step "
        "needs the date it was taken back"]
    assert state(app).working is before
    # An "as of" earlier than a recorded end is refused by the same validation.
    set_as_of(app, "2020-02")
    assert messages(app) == [
        "Edit not applied — row “Alpha freezes” (a1), Finished: end is after as_of 1: record "
        "it as under way (start only) (got 2020-03 (month 2))"]
    assert state(app).working is before and not app.exception
    set_as_of(app, "soon")
    assert messages(app) == [
        "Edit not applied — As of: expected a date like 2020-01 or a number of months, "
        "got 'soon'"]
    assert state(app).working is before


def test_undo_and_redo_a_record_edit(app: AppTest) -> None:
    original = state(app).working
    set_as_of(app, "2020-05")
    record(app, {"a1": {"started": "2020-01", "finished": "2020-03"}})
    assert progress_of(app) == {"a1": (0, 2, None, None)}
    app.button(key="undo_edit").click()
    app.run()
    assert state(app).working.progress.steps == []      # type: ignore[union-attr]
    assert editor(app).value["state"].tolist() == ["not started"] * 3
    app.button(key="undo_edit").click()
    app.run()
    assert state(app).working is original and state(app).working.progress is None
    app.button(key="redo_edit").click()
    app.run()
    app.button(key="redo_edit").click()
    app.run()
    assert progress_of(app) == {"a1": (0, 2, None, None)}
    # Marking the step not started again removes it from the record.
    record(app, {"a1": {"state": "not started"}})
    assert progress_of(app) == {}


def test_stop_keeps_the_best_replan_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.ui.test_app_logic import slow_scenario_yaml

    path = tmp_path / "busy.yaml"
    path.write_text(slow_scenario_yaml(), encoding="utf-8")
    monkeypatch.setenv("ROADMAP_STORE", str(tmp_path / "runs.sqlite"))
    monkeypatch.setenv("ROADMAP_UI_SCENARIO", str(path))
    at = AppTest.from_file(str(APP), default_timeout=SOLVE_WAIT_S)
    at.run()
    try:
        at.button(key="stop_solve").click()      # the opening solve: its best is the plan
        settle(at)
        at.number_input(key="opt_workers").set_value(1)
        at.number_input(key="opt_time_limit").set_value(60.0)
        at.session_state["main_tabs"] = "Progress"
        at.run()
        at.button(key="replan").click()
        at.run()
        rj = at.session_state["rm_replan_job"]
        assert rj is not None and rj.job.options.time_limit_s == 60.0
        for _ in range(200):
            if rj.job.last is not None and rj.job.last.solutions >= 1:
                break
            at.run()   # the progress panel drains the solver's events
        assert rj.job.last is not None and not rj.job.handle.done()
        at.button(key="stop_replan").click()
        at.run()                                  # the click is handled in this run
        assert rj.job.stopped
        rj.job.handle.result(SOLVE_WAIT_S)
        at.run()
        assert not at.exception
        assert at.session_state["rm_replan_job"] is None
        assert "Re-plan stopped: showing the best re-plan found so far." in [
            w.value for w in at.warning]
        done = at.session_state["rm_replan_last"]
        assert done.stopped and done.result.status == "feasible"
        assert_valid(done.scenario, done.result)
        assert len(done.result.schedule) == 120
        # A stopped re-plan is not cached: pressing Re-plan again searches again.
        assert done.key not in at.session_state["rm_replans"]
    finally:
        rj = at.session_state["rm_replan_job"]
        for handle in (getattr(getattr(rj, "job", None), "handle", None),
                       getattr(at.session_state["rm_job"], "handle", None)):
            if handle is not None:
                handle.stop()
                handle.result(SOLVE_WAIT_S)


def test_the_app_shows_the_clis_replan_and_next_package(app: AppTest, tmp_path: Path) -> None:
    """The same record, plan and options through `roadmap replan --plan --next 6`."""
    import json

    from typer.testing import CliRunner

    from models import dumps_scenario
    from optimizer.cli import app as cli

    set_as_of(app, "2020-05")
    record(app, {"a1": {"started": "2020-01", "finished": "2020-03", "verification": "refused"},
                 "b1": {"started": "2020-01", "finished": "2020-04"}})
    done = replanned(app)
    scenario = tmp_path / "recorded.yaml"
    scenario.write_text(dumps_scenario(state(app).working, "yaml"), encoding="utf-8")
    plan = tmp_path / "plan.json"
    plan.write_text(state(app).result.to_json(), encoding="utf-8")
    res = CliRunner().invoke(cli, ["replan", str(scenario), "--plan", str(plan), "--next", "6",
                                   "-w", "1", "-t", "5", "-f", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["objective"] == [o.model_dump_spec() for o in done.result.objective]
    assert out["schedule"] == [s.spec_dict() for s in done.result.schedule]
    assert out["broken"] == done.result.broken
    ledger = next(d.value for d in app.dataframe if "Exposure" in d.value.columns)
    names = {"Alpha": "A", "Beta": "B"}
    shown = {names[r["Principal"]]: {"delivered": r["Delivered"],
                                     "received": r["Received (verified)"],
                                     "at_risk": r["At risk"], "exposure": r["Exposure"]}
             for r in ledger.to_dict("records")}
    assert shown == out["next_package"]["ledger"]
    # Hand-checked: a1's verification refused, so B never gets its credit 4 by 10;
    # A got b1's credit at 4 and a2's risk is 0 (reversible): A 10/4/4/0, B 4/6/4/-2.
    assert shown == {"A": {"delivered": 10, "received": 4, "at_risk": 4, "exposure": 0},
                     "B": {"delivered": 4, "received": 6, "at_risk": 4, "exposure": -2}}
    assert out["next_package"]["self_enforcing"] is True
    assert any(s.value.startswith("Self-enforcing") for s in app.success)
