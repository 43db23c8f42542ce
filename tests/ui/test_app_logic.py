"""AppTest flows of the Streamlit app on a hand-checked tiny scenario.

tiny_roadmap.yaml: parties A and B; a1 (A, 2 months, value 4, irreversible,
public: risk 4, credit 4 at its end), b1 (the same for B), a2 (A, 3 months,
value 6, cost 2, reversible: risk 0; inspection: credit 6 two months after
its end). Rules: a1 before a2, a1 and b1 start together, exposure <= 4.
Objective: makespan, then peak exposure.

Optimum: a1 and b1 at [0, 2], a2 at [2, 5] (verified 7): makespan 5,
weighted completion 2 + 2 + 5 = 9, exposure A: 4 from 0, 0 from 2;
B: 4 from 0, 0 from 2, -6 from 7; peak 4.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from models import Exposure, dumps_scenario, loads_scenario

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "ui" / "app.py"
TINY = Path(__file__).parent / "tiny_roadmap.yaml"
SOLVE_WAIT_S = 60.0


def settle(at: AppTest) -> AppTest:
    """Run the script; if that started a solve, wait for it and run again.

    The solve runs in a worker thread; joining it is how the test waits,
    then one more run collects the result (as the progress fragment would).
    """
    at.run()
    for _ in range(3):
        job = at.session_state.get("rm_job", None)
        if job is None:
            break
        job.handle.result(SOLVE_WAIT_S)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def state(at: AppTest) -> Any:
    return at.session_state["rm"]


def checked(at: AppTest) -> Any:
    """The shown result, verified by the independent checker."""
    from optimizer.check import assert_valid

    st_ = state(at)
    assert st_.result is not None
    if st_.result.solved:
        assert_valid(st_.result_scenario, st_.result)
    return st_.result


def widget_key(at: AppTest, name: str) -> str:
    """The current generation's key of a working-copy widget."""
    return f"g{state(at).gen}.{name}"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("ROADMAP_UI_SCENARIO", str(TINY))
    at = AppTest.from_file(str(APP), default_timeout=SOLVE_WAIT_S)
    at.run()
    # One CP-SAT worker and a short limit: deterministic and light on a shared machine.
    at.number_input(key="opt_workers").set_value(1)
    at.number_input(key="opt_time_limit").set_value(5.0)
    settle(at)
    yield at
    job = at.session_state.get("rm_job", None)
    if job is not None:
        job.handle.stop()
        job.handle.result(SOLVE_WAIT_S)


def starts(at: AppTest) -> dict[str, int | None]:
    return {e.id: e.start for e in checked(at).schedule}


def messages(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart"))


def test_opens_solved_with_gantt_and_exposure(app: AppTest) -> None:
    result = checked(app)
    assert result.status == "optimal"
    assert result.metrics is not None
    assert (result.metrics.makespan, result.metrics.weighted_completion,
            result.metrics.peak_exposure) == (5, 9, 4)
    assert starts(app) == {"a1": 0, "b1": 0, "a2": 2}
    assert result.exposure == {"A": [(0, 4), (2, 0)], "B": [(0, 4), (2, 0), (7, -6)]}
    assert charts(app) == 2  # the Gantt chart and the exposure charts
    assert {m.label: m.value for m in app.metric}["Makespan"] == "5"
    assert app.header[0].value == "Tiny two-party roadmap"


def test_load_builtin_dataset(app: AppTest) -> None:
    app.selectbox(key=widget_key(app, "dataset")).set_value("us_dprk_2018")
    settle(app)
    s = state(app)
    assert s.source == "us_dprk_2018"
    assert s.working.name.startswith("US-DPRK")
    result = checked(app)
    assert result.status == "optimal"
    # peak exposure of US and DPRK, then makespan, then weighted completion
    assert [(o.metric, o.value) for o in result.objective] == [
        ("peak_exposure", 8), ("makespan", 113), ("weighted_completion", 2169)]


def test_edit_concession_duration_in_table(app: AppTest) -> None:
    key = app.data_editor[0].key
    assert key is not None
    app.session_state[key] = {"edited_rows": {"2": {"dur_min": 5}}, "added_rows": [],
                              "deleted_rows": []}
    app.run()
    s = state(app)
    assert s.working.concession("a2").duration == 5
    assert s.original.concession("a2").duration == 3  # the loaded scenario is untouched
    assert any("edited since" in w.value for w in app.warning)
    app.button(key="solve").click()
    settle(app)
    result = checked(app)
    assert result.metrics is not None
    assert (result.metrics.makespan, result.metrics.weighted_completion) == (7, 11)
    assert starts(app)["a2"] == 2


def test_edit_value_map_and_bad_cell(app: AppTest) -> None:
    key = app.data_editor[0].key
    assert key is not None
    app.session_state[key] = {"edited_rows": {"0": {"value": "B=5"}}, "added_rows": [],
                              "deleted_rows": []}
    app.run()
    assert state(app).working.concession("a1").value == {"B": 5}
    key = app.data_editor[0].key
    assert key is not None
    app.session_state[key] = {"edited_rows": {"0": {"value": "B=lots"}}, "added_rows": [],
                              "deleted_rows": []}
    app.run()
    assert not app.exception
    assert messages(app) == [
        "Edit not applied — a1: value for B: expected a whole number, got 'lots'"]
    assert state(app).working.concession("a1").value == {"B": 5}


def test_toggle_rule_off(app: AppTest) -> None:
    app.toggle(key=widget_key(app, "rule_on.freeze_first")).set_value(False)
    app.run()
    assert not state(app).working.rules[0].enabled
    app.button(key="solve").click()
    settle(app)
    result = checked(app)
    # Without the precedence a2 (risk 0) starts at once: A's exposure stays 4.
    assert starts(app) == {"a1": 0, "b1": 0, "a2": 0}
    assert result.metrics is not None
    assert (result.metrics.makespan, result.metrics.weighted_completion) == (3, 7)
    assert result.exposure["B"] == [(0, 4), (2, 0), (5, -6)]


def test_back_to_earlier_variant_comes_from_cache(app: AppTest) -> None:
    app.button(key="solve").click()  # the fixture's options (the first solve had defaults)
    settle(app)
    app.toggle(key=widget_key(app, "rule_on.freeze_first")).set_value(False)
    app.button(key="solve").click()
    settle(app)
    app.toggle(key=widget_key(app, "rule_on.freeze_first")).set_value(True)
    app.button(key="solve").click()
    app.run()
    assert app.session_state["rm_job"] is None  # no solve started
    assert any("from the cache" in m.value for m in app.info)
    assert checked(app).metrics.makespan == 5  # type: ignore[union-attr]


def test_change_objective_order(app: AppTest) -> None:
    app.multiselect(key=widget_key(app, "obj_terms")).set_value(
        ["peak_exposure", "makespan"])
    app.run()
    assert [t.metric for t in state(app).working.objective.terms] == [
        "peak_exposure", "makespan"]
    app.button(key="solve").click()
    settle(app)
    result = checked(app)
    assert [(o.metric, o.value, o.bound) for o in result.objective] == [
        ("peak_exposure", 4, 4), ("makespan", 5, 5)]


def test_empty_objective_is_refused(app: AppTest) -> None:
    app.multiselect(key=widget_key(app, "obj_terms")).set_value([])
    app.run()
    assert messages(app) == ["Edit not applied — the objective needs at least one term."]
    assert [t.metric for t in state(app).working.objective.terms] == [
        "makespan", "peak_exposure"]


def test_invalid_horizon_is_refused_with_the_validation_message(app: AppTest) -> None:
    app.number_input(key=widget_key(app, "horizon")).set_value(2)
    app.run()
    assert not app.exception
    errors = messages(app)
    assert len(errors) == 1 and errors[0].startswith("Edit not applied — edited scenario")
    assert state(app).working.horizon == 10


def _tighten_cap(app: AppTest) -> None:
    app.number_input(key=widget_key(app, "rule_max.cap")).set_value(3)
    app.run()
    app.button(key="solve").click()
    settle(app)


def test_infeasible_shows_minimal_conflict(app: AppTest) -> None:
    _tighten_cap(app)
    result = state(app).result
    assert result.status == "infeasible"
    assert result.conflict.rules == ["freeze_first", "cap"]
    assert [(d.concession, d.field) for d in result.conflict.demands] == [("a1", "required")]
    text = " ".join(m.value for m in app.markdown)
    assert "Freeze before dismantling" in text
    assert "Nobody is exposed by more than 4 (the exposure of each of A and B must stay ≤ 3)" \
        in text
    assert "Raise the exposure cap of rule 'cap' from 3 to 4" in text
    assert any("3 positions" in e for e in messages(app))


def test_apply_numeric_suggestion_makes_it_feasible(app: AppTest) -> None:
    _tighten_cap(app)
    app.button(key=widget_key(app, "fix.0")).click().run()
    assert [m.value for m in app.success] == [
        "Applied: raise the exposure cap of rule 'cap' from 3 to 4."]
    settle(app)
    s = state(app)
    assert s.working.rules[2].max == 4
    result = checked(app)
    assert result.status == "optimal"
    assert result.metrics is not None and result.metrics.makespan == 5


def test_apply_drop_relaxation_switches_rule_off(app: AppTest) -> None:
    _tighten_cap(app)
    # Conflict elements: freeze_first, cap, a1 required -> the second is the cap.
    app.button(key=widget_key(app, "drop.1")).click()
    settle(app)
    s = state(app)
    assert not s.working.rules[2].enabled and s.working.rules[2].max == 3
    result = checked(app)
    assert result.status == "optimal"
    assert result.metrics is not None
    assert (result.metrics.makespan, result.metrics.peak_exposure) == (5, 4)


def test_save_two_runs_and_compare(app: AppTest) -> None:
    app.text_input(key=widget_key(app, "save_name")).set_value("Baseline")
    app.button(key="save_run").click()
    app.run()
    app.toggle(key=widget_key(app, "rule_on.freeze_first")).set_value(False)
    app.button(key="solve").click()
    settle(app)
    assert app.text_input(key=widget_key(app, "save_name")).value == "Run 2"
    app.button(key="save_run").click()
    app.run()
    assert list(state(app).runs) == ["Baseline", "Run 2"]
    frames = {next(iter(df.value.columns)): df.value for df in app.dataframe}
    metrics = frames["Run"]
    assert list(metrics["Run"]) == ["Baseline", "Run 2"]
    assert list(metrics["Makespan"]) == [5, 3]
    assert list(metrics["Δ makespan"]) == [0, -2]
    assert list(metrics["Δ weighted completion"]) == [0, -2]
    assert list(metrics["Δ peak exposure"]) == [0, 0]
    moved = frames["Compared"]
    assert moved.to_dict("records") == [{
        "Compared": "Run 2 vs Baseline", "Concession": "Alpha dismantles", "Party": "A",
        "Start (Baseline)": 2, "Start (Run 2)": 0, "Shift": -2, "Phase (Baseline)": "Whole roadmap",
        "Phase (Run 2)": "Whole roadmap", "Change": "moved"}]
    # Gantt of each run plus the shared exposure overlay, next to the Roadmap tab's two.
    assert charts(app) == 2 + 3


def test_upload_bad_file_shows_message_not_traceback(app: AppTest) -> None:
    bad = b"format: roadmap/v1\nhorizon: ten\nparties: [{id: A}]\n" \
          b"concessions: [{id: x, party: A, duration: 1}]\n"
    expected = ""
    try:
        loads_scenario(bad.decode(), "yaml", "bad.yaml")
    except ValueError as err:
        expected = str(err)
    assert expected.startswith("bad.yaml:2: horizon: ")
    app.file_uploader[0].upload("bad.yaml", bad, "application/x-yaml")
    app.run()
    assert not app.exception
    assert messages(app) == [f"Upload rejected — {expected}"]
    assert state(app).working.name == "Tiny two-party roadmap"


def test_upload_syntax_error_and_oversize(app: AppTest) -> None:
    app.file_uploader[0].upload("broken.json", b'{"format": "roadmap/v1",', "application/json")
    app.run()
    assert messages(app) == [
        "Upload rejected — broken.json:1: JSON syntax error: Expecting property name enclosed "
        "in double quotes"]
    big = b"# padding\n" * (220 * 1024)
    app.file_uploader[0].upload("big.yaml", big, "application/x-yaml")
    app.run()
    assert not app.exception
    assert messages(app) == [
        f"Upload rejected — big.yaml: file is {len(big):,} bytes; the limit is 2,097,152"]


def test_upload_good_file_replaces_working_copy(app: AppTest) -> None:
    good = (b"format: roadmap/v1\nname: Uploaded\nhorizon: 4\nparties: [{id: A}, {id: B}]\n"
            b"concessions: [{id: x, party: A, duration: 1, value: 2}]\n")
    app.file_uploader[0].upload("good.yaml", good, "application/x-yaml")
    settle(app)
    s = state(app)
    assert (s.source, s.working.name) == ("good.yaml", "Uploaded")
    result = checked(app)
    assert result.status == "optimal" and starts(app) == {"x": 0}


def test_download_scenario_yaml_is_the_edited_copy(app: AppTest) -> None:
    app.number_input(key=widget_key(app, "rule_max.cap")).set_value(6)
    app.run()
    sc = state(app).working
    again = loads_scenario(dumps_scenario(sc, "yaml"), "yaml", "x")
    assert again == sc
    cap = again.rules[2]
    assert isinstance(cap, Exposure) and cap.max == 6
    labels = [getattr(b, "label", "") for b in app.get("download_button")]
    assert sorted(labels) == ["Gantt chart (PNG)", "Result (JSON)", "Scenario (YAML)",
                              "Schedule (CSV)"]
