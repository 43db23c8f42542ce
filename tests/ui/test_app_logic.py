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


def open_tiny(monkeypatch: pytest.MonkeyPatch, store: Path,
              time_limit_s: float = 5.0) -> AppTest:
    """The app on tiny_roadmap.yaml with its own run store, solved with one CP-SAT
    worker and a short limit: deterministic and light on a shared machine."""
    monkeypatch.setenv("ROADMAP_STORE", str(store))
    monkeypatch.setenv("ROADMAP_UI_SCENARIO", str(TINY))
    at = AppTest.from_file(str(APP), default_timeout=SOLVE_WAIT_S)
    at.run()
    at.number_input(key="opt_workers").set_value(1)
    at.number_input(key="opt_time_limit").set_value(time_limit_s)
    return at


def stop_background(at: AppTest) -> None:
    """Stop and wait for whatever the test left running: a solve, an explanation, a
    re-plan (their threads must not outlive the test)."""
    for key in ("rm_job", "rm_replan_job"):
        job = at.session_state.get(key, None)
        handle = getattr(getattr(job, "job", job), "handle", None)
        if handle is not None:
            handle.stop()
            handle.wait(SOLVE_WAIT_S)
    ex = at.session_state.get("rm_explain", None)
    if ex is not None and ex.job is not None:
        ex.job.stop()
        ex.job.wait(SOLVE_WAIT_S)


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
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The run store of the test: a fresh file, never the repository's."""
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("ROADMAP_STORE", str(path))
    return path


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, store_path: Path) -> Iterator[AppTest]:
    at = open_tiny(monkeypatch, store_path)
    at.session_state["main_tabs"] = "Edit"  # the Edit tab is drawn only while open
    settle(at)
    yield at
    stop_background(at)


def open_tab(at: AppTest, name: str) -> AppTest:
    """Open a main tab, as a click on it does (Solve and Apply open the Roadmap tab;
    after an Apply the tabs have a new key: ui.state.tabs_key)."""
    gen = at.session_state.get("rm_tabs_gen", 0)
    at.session_state["main_tabs" if not gen else f"main_tabs.{gen}"] = name
    return at.run()


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
    # The ledger's chart is built only once its expander is open.
    app.session_state["ledger_open"] = True
    app.run()
    assert charts(app) == 3
    # Every chart keeps its plot's height: Streamlit's default "fit" for a view without
    # an autosize squeezed the exposure chart's title, axes and legend into its 220 px.
    import json

    from ui.charts import COMPOSED

    specs = [json.loads(c.proto.spec) for c in app.get("vega_lite_chart")]
    views = [s for s in specs if not any(k in s for k in COMPOSED)]   # not the ledger
    assert [s["autosize"]["type"] for s in views] == ["fit-x", "fit-x"]
    exposure = next(s for s in specs if "Exposure" in json.dumps(s.get("title")))
    assert exposure["height"] == 220 and exposure["autosize"]["contains"] == "padding"
    assert {m.label: m.value for m in app.metric}["Makespan"] == "5 months (2020-06)"
    assert app.header[0].value == "Tiny two-party roadmap"


def test_load_builtin_dataset(app: AppTest) -> None:
    app.selectbox(key=widget_key(app, "dataset")).set_value("us_dprk_2018")
    settle(app)
    s = state(app)
    assert s.source == "us_dprk_2018"
    assert s.working.name.startswith("US-DPRK")
    result = checked(app)
    assert result.status == "optimal"
    # peak exposure of US and DPRK, then weighted completion (threat reduction first), makespan
    assert [(o.metric, o.value) for o in result.objective] == [
        ("peak_exposure", 49), ("weighted_completion", 1759), ("makespan", 116)]
    # SPEC §5.1: the reported peak is over the principals (US, DPRK) too; the
    # uncapped UNSC's own peak is in the ledger.
    assert result.metrics is not None and result.metrics.peak_exposure == 49
    shown = {m.label: m.value for m in app.metric}
    # SPEC §5.1: the reported peak covers the principals, as the objective's does, so
    # one figure is shown, labelled with them; the UNSC's own peak is in the ledger.
    assert shown["Peak exposure (US, DPRK)"] == "49 value points"
    # The ledger of each principal (SPEC §5.4) is one click away, under the exposure chart.
    assert any(e.label.startswith("Ledger of each principal") for e in app.expander)
    assert not any(label.startswith("Peak (objective") for label in shown)
    assert "Peak exposure" not in shown


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
    assert app.session_state["main_tabs"] == "Roadmap"   # Solve shows the roadmap
    open_tab(app, "Edit")
    app.toggle(key=widget_key(app, "rule_on.freeze_first")).set_value(False)
    app.button(key="solve").click()
    settle(app)
    open_tab(app, "Edit")
    app.toggle(key=widget_key(app, "rule_on.freeze_first")).set_value(True)
    app.button(key="solve").click()
    app.run()
    assert app.session_state["rm_job"] is None  # no solve started
    assert any("from the cache" in m.value for m in app.info)
    assert checked(app).metrics.makespan == 5  # type: ignore[union-attr]


def test_solve_opens_the_roadmap_tab_even_after_a_cut_short_tab_click(app: AppTest) -> None:
    # Solve from the Edit tab: the Roadmap tab opens (same key, nothing rebuilt).
    app.button(key="solve").click()
    settle(app)
    assert app.session_state["main_tabs"] == "Roadmap"
    assert "rm_tabs_gen" not in app.session_state
    # The browser reports a click on Explain whose run was cut short by the next click
    # (Apply, Solve) before it drew the tabs: the server last sent "Roadmap", so the
    # browser would ignore "Roadmap" again. The tabs get a new key instead.
    app.session_state["main_tabs"] = "Explain"
    app.session_state["rm_open_tab"] = ("Roadmap", False)
    app.run()
    assert app.session_state["rm_tabs_gen"] == 1
    assert app.session_state["main_tabs.1"] == "Roadmap"
    assert app.session_state["rm_tabs_sent"] == "Roadmap"


@pytest.mark.parametrize("order", ["solve first", "tab first"])
def test_a_tab_click_in_the_same_run_as_solve_wins(monkeypatch: pytest.MonkeyPatch,
                                                   order: str) -> None:
    # Solve and, at once, a tab click: Streamlit runs both callbacks in one run, in an
    # order of its own (the browser flow of test_browser.py makes both in one moment).
    import types

    from ui import state as ui_state

    fake = types.SimpleNamespace(session_state={})
    monkeypatch.setattr(ui_state, "st", fake)
    calls = [lambda: ui_state.open_tab("Roadmap"), ui_state._tab_clicked]
    for call in calls if order == "solve first" else calls[::-1]:
        call()
    assert "rm_open_tab" not in fake.session_state
    # The next run's script starts: a Solve then opens the Roadmap tab again.
    ui_state.callbacks_over()                      # ui.state.get(), first in every run
    ui_state.open_tab("Roadmap")
    assert fake.session_state["rm_open_tab"] == ("Roadmap", False)


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


def explained(at: AppTest) -> Any:
    """Wait for the Explain tab's background explanation; return it (ui.explaining.Shown)."""
    settle(at)
    ex = at.session_state["rm_explain"]
    if ex.job is not None:
        assert ex.job.wait(SOLVE_WAIT_S)
        settle(at)
    return ex.by_key[f"{state(at).result_key}|total"]


def test_too_short_horizon_is_applied_and_explained(app: AppTest) -> None:
    """The horizon is a demand (docs/decisions.md #5): 2 months cannot hold the
    freeze (2) followed by the dismantlement (3), and the conflict says so."""
    app.number_input(key=widget_key(app, "horizon")).set_value(2)
    app.run()
    assert not app.exception
    assert messages(app) == []
    assert state(app).working.horizon == 2
    app.button(key="solve").click()
    shown = explained(app)
    result = state(app).result
    assert result.status == "infeasible"
    assert shown.conflict is not None
    assert {"field": "horizon"} in [d.spec_dict() for d in shown.conflict.demands]


def _tighten_cap(app: AppTest) -> None:
    app.number_input(key=widget_key(app, "rule_max.cap")).set_value(3)
    app.run()
    app.button(key="solve").click()
    settle(app)


def test_infeasible_shows_minimal_conflict(app: AppTest) -> None:
    _tighten_cap(app)
    shown = explained(app)
    result = state(app).result
    assert result.status == "infeasible"
    assert shown.conflict.rules == ["freeze_first", "cap"]
    assert [(d.concession, d.field) for d in shown.conflict.demands] == [("a1", "required")]
    text = " ".join(m.value for m in app.markdown)
    assert "Freeze before dismantling" in text
    # The rule's text quotes today's cap (3), not the file's (4).
    assert "Nobody is exposed by more than 3 (the exposure of each of A and B must stay ≤ 3)" \
        in text
    assert "Raise the A/B exposure cap from 3 to 4" in text
    assert "3 positions that cannot all hold together" in text


def test_apply_numeric_suggestion_makes_it_feasible(app: AppTest) -> None:
    _tighten_cap(app)
    explained(app)
    app.button(key=widget_key(app, "apply.0")).click().run()
    # The message comes first; the correction's verified roadmap is shown by the same run.
    assert app.success[0].value == (
        "Applied the correction of cost 11: “Nobody is exposed by more than 4” — exposure cap "
        "3 → 4. The corrected roadmap is the one verified with it.")
    settle(app)
    s = state(app)
    assert s.working.rules[2].max == 4
    result = checked(app)
    assert result.status == "optimal"
    assert result.metrics is not None and result.metrics.makespan == 5


def frame_with(at: AppTest, *columns: str) -> Any:
    """The one dataframe shown that has all these columns."""
    found = [df.value for df in at.dataframe if set(columns) <= set(df.value.columns)]
    assert len(found) == 1, [list(df.value.columns) for df in at.dataframe]
    return found[0]


def _save_baseline_and_variant(app: AppTest) -> None:
    app.text_input(key=widget_key(app, "save_name")).set_value("Baseline")
    app.button(key="save_run").click()
    app.run()
    app.toggle(key=widget_key(app, "rule_on.freeze_first")).set_value(False)
    app.button(key="solve").click()
    settle(app)
    assert app.text_input(key=widget_key(app, "save_name")).value == "Run 2"
    app.button(key="save_run").click()
    app.run()


def test_save_two_runs_and_compare(app: AppTest, store_path: Path) -> None:
    from optimizer.studies.store import RunStore

    _save_baseline_and_variant(app)
    with RunStore(store_path) as store:
        rows = store.list_runs()
        assert [(r["label"], r["source"], r["status"], r["makespan"]) for r in rows] == [
            ("Run 2", "ui", "optimal", 3), ("Baseline", "ui", "optimal", 5)]
        assert store.get_run(rows[1]["run_id"]).result.to_dict()["schedule"][2]["start"] == 2
    open_tab(app, "Compare")   # drawn only while open
    metrics = frame_with(app, "Run", "Δ makespan")
    # Baseline: makespan 5, weighted completion 2+2+5 = 9, peak 4. Without the
    # precedence a2 runs [0, 3]: makespan 3, weighted completion 2+2+3 = 7, peak 4.
    assert list(metrics["Run"]) == ["Baseline", "Run 2"]
    # The principals' own peaks come first (A: 4, B: 4), then the metrics with units.
    assert [c for c in metrics.columns][2:4] == ["Peak exposure of A (points)",
                                                 "Peak exposure of B (points)"]
    assert list(metrics["Peak exposure of A (points)"]) == ["4", "4"]
    assert list(metrics["Makespan (months)"]) == ["5", "3"]
    assert list(metrics["Weighted completion (priority × time)"]) == ["9", "7"]
    assert list(metrics["Δ makespan"]) == ["0", "-2"]
    assert list(metrics["Δ weighted completion"]) == ["0", "-2"]
    assert list(metrics["Δ peak exposure"]) == ["0", "0"]
    assert list(metrics["Δ excluded value"]) == ["0", "0"]
    moved = frame_with(app, "Compared", "Start shift")
    assert moved.astype(object).where(moved.notna(), None).to_dict("records") == [{
        "Compared": "Run 2 vs Baseline", "Concession": "Alpha dismantles", "Party": "A",
        "Change": "starts earlier", "Baseline start": "month 2 (2020-03)",
        "Start": "month 0 (2020-01)", "Start shift": "-2 months",
        "End shift": "-2 months", "Baseline phase": "Whole roadmap", "Phase": "Whole roadmap"}]
    assert "2 concession(s) unchanged." in [c.value for c in app.caption]
    # Gantt of each run plus an exposure panel per principal (A, B; one y scale), next
    # to the Roadmap tab's two (its ledger chart is drawn only while its expander is open).
    assert charts(app) == 2 + 4
    import json

    panels = [json.loads(c.proto.spec) for c in app.get("vega_lite_chart")][2:4]
    assert [p["title"]["text"] for p in panels] == ["Alpha", "Beta"]
    assert panels[0]["encoding"]["y"]["scale"] == panels[1]["encoding"]["y"]["scale"]
    assert all(p["width"] == "container" and p["autosize"]["type"] == "fit-x" for p in panels)


def test_saved_runs_survive_a_restart_and_can_be_renamed_and_deleted(
        app: AppTest, store_path: Path) -> None:
    from optimizer.studies.store import RunStore

    _save_baseline_and_variant(app)
    # A new session (a page reload or a restarted app) on the same store.
    again = AppTest.from_file(str(APP), default_timeout=SOLVE_WAIT_S)
    settle(again)
    open_tab(again, "Compare")
    listed = frame_with(again, "Run", "Id", "Saved (UTC)")
    assert list(listed["Run"]) == ["Baseline", "Run 2"]
    assert list(listed["Status"]) == ["optimal", "optimal"]
    assert list(listed["Makespan"]) == [5, 3]
    assert list(listed["Peak exposure"]) == [4, 4]
    assert list(frame_with(again, "Run", "Δ makespan")["Δ makespan"]) == ["0", "-2"]
    with RunStore(store_path) as store:
        ids = {r["label"]: r["run_id"] for r in store.list_runs()}
    # Manage the newest run: rename it, then delete it.
    assert again.selectbox(key=next(w.key for w in again.selectbox
                                    if (w.key or "").startswith("manage_run."))).value \
        == ids["Run 2"]
    again.text_input(key=f"rename_to.{ids['Run 2']}.Run 2").set_value("No freeze first")
    again.button(key="rename_run").click()
    again.run()
    assert "Renamed run 'Run 2' to 'No freeze first'." in [m.value for m in again.success]
    assert list(frame_with(again, "Run", "Δ makespan")["Run"]) == ["Baseline", "No freeze first"]
    again.text_input(key=f"rename_to.{ids['Run 2']}.No freeze first").set_value("Baseline")
    again.button(key="rename_run").click()
    again.run()
    assert messages(again) == ["A saved run is already called 'Baseline'."]
    again.button(key="delete_run").click()
    again.run()
    assert "Deleted run 'No freeze first'." in [m.value for m in again.info]
    with RunStore(store_path) as store:
        assert [r["label"] for r in store.list_runs()] == ["Baseline"]
    assert not again.exception


def test_history_tab_shows_the_backtest(app: AppTest) -> None:
    from models import SolveOptions
    from optimizer.studies.backtest import backtest

    app.selectbox(key=widget_key(app, "dataset")).set_value("agreed_framework_1994")
    settle(app)
    assert app.session_state["main_tabs"] == "Roadmap"
    app.session_state["main_tabs"] = "History"
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    s = state(app)
    expected = backtest(s.working, SolveOptions(time_limit_s=5.0, workers=1, seed=0))
    assert expected.optimized.status == "optimal"
    table = frame_with(app, "metric", "history", "optimizer")
    # History's figures are those of the recorded schedule: no solver involved. Excluded
    # value 52: the 38 of A6-A10 plus Articles III.1 (3), III.2 (6) and II.3 (5), none done.
    assert table[["metric", "history"]].to_dict("records") == [
        {"metric": "makespan", "history": 96}, {"metric": "weighted_completion", "history": 149},
        {"metric": "peak_exposure", "history": 0}, {"metric": "excluded_value", "history": 52},
        {"metric": "phase_imbalance", "history": 16}]
    assert [(m, o) for m, _, o in expected.metrics_rows()] == list(
        zip(table["metric"], table["optimizer"], strict=True))
    assert "Backtest against history" in [h.value for h in app.subheader]
    # A scenario without history has no History tab.
    app.selectbox(key=widget_key(app, "dataset")).set_value("us_dprk_2018")
    settle(app)
    assert "Backtest against history" not in [h.value for h in app.subheader]


def test_one_click_on_solve_starts_exactly_one_solve(
        app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    import optimizer

    calls: list[str] = []
    real = optimizer.start_solve

    def counting(sc: Any, options: Any = None, **kw: Any) -> Any:
        calls.append(sc.name)
        return real(sc, options, **kw)

    monkeypatch.setattr(optimizer, "start_solve", counting)
    app.toggle(key=widget_key(app, "rule_on.freeze_first")).set_value(False)
    app.run()
    app.button(key="solve").click()
    settle(app)
    for _ in range(3):  # what the progress fragment and later interactions do
        app.run()
    assert calls == ["Tiny two-party roadmap"]
    assert not [m.value for m in app.info if "solve" in m.value and "Save run" not in m.value]
    assert starts(app) == {"a1": 0, "b1": 0, "a2": 0}
    # Solve again on the unchanged scenario: no new search, and it says why.
    app.button(key="solve").click()
    settle(app)
    assert calls == ["Tiny two-party roadmap"]
    assert [m.value for m in app.info if "solve" in m.value and "Save run" not in m.value] == [
        "Already solved: the roadmap shown is for this scenario and these options. "
        "Change the scenario or the options to solve again."]


def slow_scenario_yaml() -> str:
    """120 concessions competing for two tight resources; weighted completion.

    CP-SAT finds a first schedule at once but cannot prove the optimum within
    a minute on one worker, so the search is still running when Stop is pressed.
    """
    from models import parse_scenario

    concessions = [{
        "id": f"c{i:03d}", "party": "A" if i % 2 else "B", "duration": 1 + (i * 7) % 5,
        "value": 1 + (i * 3) % 4, "priority": 1 + (i * 11) % 9,
        "uses": {"teams": 1 + i % 3, "budget": 1 + (i * 5) % 4},
    } for i in range(120)]
    sc = parse_scenario({
        "format": "roadmap/v1", "name": "Busy roadmap", "horizon": 600,
        "parties": [{"id": "A"}, {"id": "B"}],
        "resources": [{"id": "teams", "capacity": 4}, {"id": "budget", "capacity": 5}],
        "concessions": concessions,
        "objective": {"terms": [{"metric": "weighted_completion"}]},
    }, "busy")
    return dumps_scenario(sc, "yaml")


def test_stop_keeps_the_best_schedule_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            store_path: Path) -> None:
    path = tmp_path / "busy.yaml"
    path.write_text(slow_scenario_yaml(), encoding="utf-8")
    monkeypatch.setenv("ROADMAP_UI_SCENARIO", str(path))
    at = AppTest.from_file(str(APP), default_timeout=SOLVE_WAIT_S)
    at.run()
    try:
        # The app opens solving with its default options: stop that search first.
        at.button(key="stop_solve").click()
        settle(at)
        at.number_input(key="opt_workers").set_value(1)
        at.number_input(key="opt_time_limit").set_value(60.0)
        at.run()
        at.button(key="solve").click()
        at.run()
        job = at.session_state["rm_job"]
        assert (job.options.time_limit_s, job.options.workers) == (60.0, 1)
        for _ in range(200):
            if job.last is not None and job.last.solutions >= 1:
                break
            at.run()  # the progress panel drains the solver's events
        assert job.last is not None and job.last.solutions >= 1
        assert not job.handle.done()
        at.button(key="stop_solve").click()
        settle(at)
        assert at.session_state["rm_job"] is None
        warnings = [w.value for w in at.warning]
        assert warnings[0] == "Stopped: showing the best schedule found so far."
        assert warnings[1].startswith("Feasible roadmap (the best found before the time limit "
                                      "or Stop; not proven optimal)")
        result = checked(at)
        assert result.status == "feasible"
        assert len(result.schedule) == 120 and all(e.present for e in result.schedule)
        assert any(m.label == "Weighted completion" for m in at.metric)
    finally:
        job = at.session_state["rm_job"]
        if job is not None:
            job.handle.stop()
            job.handle.result(SOLVE_WAIT_S)


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
    assert sorted(labels) == ["Briefing (HTML)", "Briefing (PDF)", "Chart (PNG)",
                              "Result (JSON)", "Schedule (CSV)", "⬇ YAML"]


# --------------------------------------------------------------------------
# Authoring, history and switches (issue 17)
def test_undo_and_redo_a_rule_edit(app: AppTest) -> None:
    app.toggle(key=widget_key(app, "rule_on.freeze_first")).set_value(False)
    app.run()
    assert not state(app).working.rules[0].enabled
    assert any("freeze_first" in m.value or "Freeze before" in m.value for m in app.markdown)
    app.button(key="undo_edit").click().run()
    assert state(app).working == state(app).original
    assert app.toggle(key=widget_key(app, "rule_on.freeze_first")).value is True
    app.button(key="redo_edit").click().run()
    assert not state(app).working.rules[0].enabled
    assert not app.exception


def open_sections(at: AppTest, *keys: str) -> AppTest:
    """Open the Edit tab's authoring sections, as a click on each does (ui.state.opened_once)."""
    for key in keys:
        at.session_state[key] = True
    return at.run()


def test_the_app_switches_streamlits_message_cache_off(app: AppTest) -> None:
    # A reference to a message the browser no longer held broke an Apply (ui/app.py).
    from streamlit import config

    assert config.get_option("global.minCachedMessageSize") >= 1 << 40


def test_roadmap_sections_are_drawn_while_open(app: AppTest) -> None:
    def words() -> list[str]:
        return [m.value for m in app.tabs[0].markdown if " gives: " in m.value]

    def tables() -> list[Any]:
        return [d.value for d in app.tabs[0].dataframe]

    assert not words() and not tables()       # collapsed: nothing sent to the browser
    open_sections(app, "exchange_open", "table_open")
    # The tiny roadmap: A gives a1 then a2, B gives b1 (in step with a1).
    assert any("gives: " in w and "receives: " in w for w in words()), words()
    assert [len(t) for t in tables()] == [3]
    assert sorted(tables()[0]["Party"]) == ["A", "A", "B"]
    app.session_state["exchange_open"] = app.session_state["table_open"] = False
    app.run()
    assert not words() and not tables()


def test_authoring_forms_are_drawn_once_opened_and_then_kept(app: AppTest) -> None:
    # Never opened: none of a section's inputs is sent to the browser (on every run).
    assert not [w for w in app.text_input if (w.key or "").startswith(widget_key(app, "nc"))]
    assert not app.get("text_area")
    open_sections(app, "concession_authoring", "rule_authoring")
    prefix = widget_key(app, "nc")
    assert app.text_input(key=f"{prefix}.title").value == ""
    assert app.text_area(key=widget_key(app, "new_rule_yaml.exposure"))
    # Closed again, or the tab left: still drawn, so that a half-typed form survives.
    app.session_state["concession_authoring"] = False
    open_tab(app, "Roadmap")
    assert app.text_input(key=f"{prefix}.title").value == ""
    assert not app.exception


def test_add_a_concession_and_a_rule_through_the_forms(app: AppTest) -> None:
    open_sections(app, "concession_authoring", "rule_authoring")
    prefix = widget_key(app, "nc")
    app.text_input(key=f"{prefix}.title").set_value("Beta opens a liaison office")
    app.selectbox(key=f"{prefix}.party").set_value("B")
    app.number_input(key=f"{prefix}.duration").set_value(1)
    app.text_input(key=f"{prefix}.value").set_value("A=2")
    app.button(key=f"FormSubmitter:{widget_key(app, 'new_concession')}-Add concession"
               ).click().run()
    sc = state(app).working
    assert [c.id for c in sc.concessions] == ["a1", "b1", "a2", "step"]
    assert sc.concession("step").label == "Beta opens a liaison office"
    assert sc.concession("step").value == {"A": 2}
    kind = widget_key(app, "new_rule_kind")
    app.selectbox(key=kind).set_value("precedence")
    app.run()
    app.text_area(key=widget_key(app, "new_rule_yaml.precedence")).set_value(
        "kind: precedence\nbefore: b1\nafter: step\ntext: Relief before the office\n")
    app.button(key=widget_key(app, "add_rule")).click().run()
    rules = state(app).working.rules
    assert (rules[-1].id, rules[-1].kind, rules[-1].refs()) == (
        "precedence", "precedence", ["b1", "step"])
    app.button(key="solve").click()
    settle(app)
    result = checked(app)
    placed = {e.id: e for e in result.schedule}
    assert placed["step"].start is not None and placed["b1"].end is not None
    assert placed["step"].start >= placed["b1"].end
    # The working copy's changes are listed against the source.
    open_tab(app, "Edit")
    assert "Changes from the source (2)" in [e.label for e in app.expander]


def test_a_bad_rule_is_refused_in_one_line(app: AppTest) -> None:
    open_sections(app, "rule_authoring")
    app.text_area(key=widget_key(app, "new_rule_yaml.exposure")).set_value(
        "kind: exposure\nmax: -1\n")
    app.button(key=widget_key(app, "add_rule")).click().run()
    errors = messages(app)
    assert len(errors) == 1 and errors[0].startswith("Edit not applied") and "\n" not in errors[0]
    assert len(state(app).working.rules) == 3


def test_reorder_the_objective_with_the_arrows(app: AppTest) -> None:
    app.button(key=widget_key(app, "term_up.peak_exposure")).click().run()
    assert [t.metric for t in state(app).working.objective.terms] == [
        "peak_exposure", "makespan"]
    app.button(key="undo_edit").click().run()
    assert [t.metric for t in state(app).working.objective.terms] == [
        "makespan", "peak_exposure"]


def test_switching_dataset_never_shows_the_old_roadmap(app: AppTest) -> None:
    app.toggle(key=widget_key(app, "rule_on.freeze_first")).set_value(False)
    app.run()
    app.selectbox(key=widget_key(app, "dataset")).set_value("hecker_2018")
    app.run()   # the switch itself: the old result is gone, the new one is being solved
    s = state(app)
    assert s.result is None or s.result_scenario == s.working
    assert not s.past   # the history belongs to the scenario it was made on
    assert not app.exception
    settle(app)
    assert state(app).result_scenario == state(app).working
    assert not app.exception


def test_compare_across_time_units_shows_no_deltas(app: AppTest) -> None:
    app.text_input(key=widget_key(app, "save_name")).set_value("Tiny")
    app.button(key="save_run").click()
    app.run()
    app.selectbox(key=widget_key(app, "dataset")).set_value("jcpoa_2015")
    settle(app)
    assert checked(app).status == "optimal"
    app.text_input(key=widget_key(app, "save_name")).set_value("JCPOA")
    app.button(key="save_run").click()
    app.run()
    open_tab(app, "Compare")
    warnings = [w.value for w in app.warning]
    assert any("different units (days and months)" in w for w in warnings), warnings
    side = frame_with(app, "Run", "Peak exposure of A (points)")
    assert not [c for c in side.columns if c.startswith("Δ")]
    assert list(side["Run"]) == ["Tiny", "JCPOA"]
    assert side["Makespan"].iloc[0] == "5 months"
    assert list(side["Peak exposure of A (points)"]) == ["4", "—"]


def test_one_upload_is_loaded_once_and_stale_pickers_load_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same file reported again (a later click's run, under load) is not loaded again,
    nor is anything an uploader or dataset picker of an earlier generation reports: in CI a
    Stop after an upload reloaded the file, or reopened the dataset picked before it."""
    import io
    from types import SimpleNamespace

    from ui import sidebar

    class Upload(io.BytesIO):
        name = "good.yaml"

        def __init__(self, data: bytes, file_id: str) -> None:
            super().__init__(data)
            self.file_id = file_id

    good = (b"format: roadmap/v1\nname: Uploaded\nhorizon: 4\nparties: [{id: A}, {id: B}]\n"
            b"concessions: [{id: x, party: A, duration: 1, value: 2}]\n")
    session: dict[str, Any] = {"g0.up": Upload(good, "f1"), "g0.dataset": "us_dprk_2018"}
    monkeypatch.setattr(sidebar.st, "session_state", session)
    loaded: list[str] = []
    monkeypatch.setattr(sidebar, "load", lambda _state, sc, name: loaded.append(name))
    state = SimpleNamespace(say=lambda *_a: None, gen=0, source="x.yaml",
                            current=lambda key: key.startswith(f"g{state.gen}."))
    sidebar._uploaded(state, "g0.up")  # type: ignore[arg-type]
    sidebar._uploaded(state, "g0.up")  # type: ignore[arg-type]
    assert loaded == ["good.yaml"]
    session["g0.up"] = Upload(good, "f2")   # the same file uploaded again: a new upload
    sidebar._uploaded(state, "g0.up")  # type: ignore[arg-type]
    assert loaded == ["good.yaml", "good.yaml"]
    state.gen = 1                           # loading it made a new generation of widgets
    session["g0.up"] = Upload(good, "f3")
    sidebar._uploaded(state, "g0.up")  # type: ignore[arg-type]
    sidebar._picked(state, "g0.dataset")  # type: ignore[arg-type]
    assert loaded == ["good.yaml", "good.yaml"]
    session["g1.dataset"] = "us_dprk_2018"  # the picker of this generation does load
    sidebar._picked(state, "g1.dataset")  # type: ignore[arg-type]
    assert loaded[-1] == "us_dprk_2018"
