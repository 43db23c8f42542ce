"""AppTest flows of the Explain tab's corrections (issue 14) on the tiny scenario.

tiny_roadmap.yaml with its exposure cap lowered from 4 to 3 is infeasible:
a1 and b1 (irreversible, value 4 each, credited at their end) start
together, so each side is exposed by 4 for their first two months. The
minimal conflict is {freeze_first, cap, a1 required}. Corrections at the
default prices (touch 10, 1 per unit; a step optional: 10 + its value; a
rule off: 30), hand-checked:

1. raise the cap 3 -> 4: 10 + 1 = 11, and the roadmap is the tiny optimum
   (makespan 5, each side's peak 4, weighted completion 2 + 2 + 5 = 9);
2. a1 and b1 optional (10 + 4 each = 28): only a2 (reversible: risk 0) is
   left, [0, 3]: makespan 3, peaks 0, weighted completion 3;
3. freeze_first off (30) and the in_step gap 0 -> 2 (12): 42.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from models import SolveOptions
from tests.ui.test_app_logic import (
    SOLVE_WAIT_S,
    checked,
    open_tab,
    open_tiny,
    settle,
    state,
    stop_background,
    widget_key,
)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    """test_app_logic's app on the tiny scenario: one worker, 5 s, a fresh run store."""
    at = open_tiny(monkeypatch, tmp_path / "runs.sqlite")
    settle(at)
    yield at
    stop_background(at)

def explained(at: AppTest) -> AppTest:
    """Settle the solve, then wait for the explanation job and run again."""
    settle(at)
    for _ in range(3):
        ex = at.session_state.get("rm_explain", None)
        if ex is None or ex.job is None:
            break
        assert ex.job.wait(SOLVE_WAIT_S)
        at.run()
        settle(at)
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(at: AppTest) -> Any:
    """The explanation of the result on screen."""
    ex = at.session_state["rm_explain"]
    s = state(at)
    return ex.by_key[f"{s.result_key}|total"]


def text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def metrics(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def _tighten_cap(at: AppTest) -> None:
    at.session_state["main_tabs"] = "Edit"   # the Edit tab is drawn only while open
    at.run()
    at.number_input(key=widget_key(at, "rule_max.cap")).set_value(3)
    at.run()
    at.button(key="solve").click()
    explained(at)


def test_infeasible_shows_correction_cards_with_cost_words_and_figures(app: AppTest) -> None:
    _tighten_cap(app)
    assert state(app).result.status == "infeasible"
    ex = shown(app)
    assert ex.done and not ex.stopped
    assert [f.correction.cost for f in ex.found] == [11, 28, 42]
    assert ex.found[0].correction.proven
    page = text(app)
    assert "Cheapest correction · cost 11 · :green[proven cheapest]" in page
    assert "Raise the A/B exposure cap from 3 to 4 — *a shared position (no owner named)*" \
        in page
    assert "Make 'Alpha freezes' (A) optional — *A gives way (its own step)*" in page
    # The first card's figures: the tiny optimum, from the correction's verification solve.
    assert metrics(app)[:4] == [("Makespan", "5 months (2020-06)"),
                                ("A peak exposure", "4 value points"),
                                ("B peak exposure", "4 value points"),
                                ("Weighted completion", "9 priority × months")]
    assert metrics(app)[4:8] == [("Makespan", "3 months (2020-04)"),
                                 ("A peak exposure", "0 value points"),
                                 ("B peak exposure", "0 value points"),
                                 ("Weighted completion", "3 priority × months")]
    # Nothing dropped silently: the second and third cards say what they give up.
    assert warnings(app) == [
        "Makes 'Alpha freezes' (A) optional — the roadmap may leave it out.",
        "Makes 'Beta lifts sanctions' (B) optional — the roadmap may leave it out.",
        "Switches off a rule: “Freeze before dismantling” — it no longer constrains the "
        "roadmap."]
    # The grouped conflict, the full list below it; the rule's text quotes today's cap.
    assert ("3 positions that cannot all hold together: 1 sequencing rule; 1 required A "
            "step; the A/B exposure cap 3.") in page
    assert "2. Nobody is exposed by more than 3 (the exposure of each of A and B must stay " \
        "≤ 3)" in page


def test_cards_are_the_engine_call_of_roadmap_explain(app: AppTest) -> None:
    """Same scenario, same options: the same corrections and figures as the CLI's call."""
    from optimizer.explain.explanation import explain_scenario

    _tighten_cap(app)
    s = state(app)
    opts = s.result_options
    assert opts == SolveOptions(time_limit_s=5.0, workers=1, seed=0)
    cli = explain_scenario(s.result_scenario, opts, corrections=3, suggest=False)
    assert [f.correction.spec_dict() for f in shown(app).found] == \
        [c.spec_dict() for c in cli.corrections]
    assert cli.conflict is not None and shown(app).conflict is not None
    assert shown(app).conflict.full_dict() == cli.conflict.full_dict()


def test_the_briefing_says_what_the_cards_say_without_a_second_search(
        app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Roadmap tab's briefing of an infeasible result reuses the Explain tab's
    corrections (same costs, same order); before they exist it searches itself."""
    import optimizer.explain.corrections as corrections
    from ui.explaining import reusable
    from ui.views.roadmap import briefing_html

    _tighten_cap(app)
    s = state(app)
    ex = app.session_state["rm_explain"]
    assert reusable(ex, "no such result", False) is None
    assert reusable(ex, s.result_key, True) is None      # the balanced order: not searched
    found = reusable(ex, s.result_key, False)
    assert found is not None
    assert [c.cost for c in found.corrections] == [11, 28, 42]
    assert found.bills == [f.bills for f in shown(app).found]

    def no_search(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("the briefing searched again")

    monkeypatch.setattr(corrections, "find_corrections", no_search)
    page = briefing_html(s.result_scenario, s.result, found, 10.0)
    assert "What it would take: the cheapest correction" in page
    assert "Raise the A/B exposure cap from 3 to 4 (cost 11)" in page
    assert page.index("(cost 11)") < page.index("(cost 28)") < page.index("(cost 42)")


def test_apply_makes_it_feasible_shows_the_diff_and_undo_restores(app: AppTest) -> None:
    _tighten_cap(app)
    infeasible = state(app).working
    verified = shown(app).found[0].verified
    app.button(key=widget_key(app, "apply.0")).click().run()
    assert next(m.value for m in app.success) == (
        "Applied the correction of cost 11: “Nobody is exposed by more than 4” — exposure cap "
        "3 → 4. The corrected roadmap is the one verified with it.")
    # Not solved again: the roadmap shown is the correction's checked, optimal solve.
    assert verified is not None and state(app).result is verified
    assert app.session_state["rm_job"] is None    # no solve was started
    explained(app)
    s = state(app)
    assert s.working.rules[2].max == 4 and s.past[-1] is infeasible
    result = checked(app)
    assert result.status == "optimal"
    assert result.metrics is not None
    assert (result.metrics.makespan, result.metrics.peak_exposure,
            result.metrics.weighted_completion) == (5, 4, 9)
    # Apply opens the Roadmap tab; what changed is said there and on the Explain tab.
    # (with tabs built anew: after the edit the browser could ignore a switch)
    assert app.session_state["rm_tabs_gen"] == 1
    assert app.session_state["main_tabs.1"] == "Roadmap"
    page = text(app)
    assert page.count("**Correction applied (cost 11)** — what changed:") == 2
    assert "- “Nobody is exposed by more than 4” — exposure cap 3 → 4" in page
    # Undo (the sidebar's) restores the infeasible copy; the roadmap shown is then out of date.
    app.button(key="undo_edit").click().run()
    assert state(app).working is infeasible
    assert any(w.startswith("**Out of date:**") for w in warnings(app))
    assert "Correction applied" not in text(app)
    # Refresh: the cached infeasible result and its explanation, shown at once.
    app.button(key="explain_refresh").click()
    explained(app)
    assert state(app).result.status == "infeasible"
    assert "Cheapest correction · cost 11" in text(app)


@pytest.mark.parametrize("unlike", ["feasible only", "another scenario"])
def test_apply_solves_again_unless_the_verified_roadmap_is_proven_optimal(
        app: AppTest, unlike: str) -> None:
    _tighten_cap(app)
    found = shown(app).found[0]
    assert found.verified is not None
    found.verified = found.verified.model_copy(update=(
        {"status": "feasible"} if unlike == "feasible only" else
        {"scenario": found.verified.scenario.model_copy(update={"sha256": "0" * 64})}))
    app.button(key=widget_key(app, "apply.0")).click().run()
    assert next(m.value for m in app.success).endswith(". Solving the corrected scenario…")
    settle(app)
    result = checked(app)
    assert result is not found.verified and result.status == "optimal"
    assert result.metrics is not None and result.metrics.makespan == 5


def test_apply_that_switches_a_rule_off_says_so(app: AppTest) -> None:
    _tighten_cap(app)
    app.button(key=widget_key(app, "apply.2")).click().run()
    assert "Switches off a rule: “Freeze before dismantling” — it no longer constrains the " \
        "roadmap." in warnings(app)
    explained(app)
    s = state(app)
    rules = {r.id: r for r in s.working.rules}
    assert not rules["freeze_first"].enabled
    assert rules["in_step"].max_gap == 2 and rules["cap"].max == 3
    result = checked(app)
    assert result.solved
    page = text(app)
    assert "- Switched off: “Freeze before dismantling”" in page
    assert "- “Freeze for relief” — largest gap 0 months → 2 months" in page
    assert "Switches off a rule: “Freeze before dismantling” — it no longer constrains the " \
        "roadmap." in warnings(app)


def test_an_edit_or_a_reset_makes_the_explanation_stale(app: AppTest) -> None:
    _tighten_cap(app)
    open_tab(app, "Edit")
    app.number_input(key=widget_key(app, "horizon")).set_value(9)
    app.run()
    assert any(w.startswith("**Out of date:**") for w in warnings(app))
    # Still readable, but never shown as current: every card says it is out of date.
    heads = [line for line in text(app).splitlines() if line.startswith("##### ")]
    assert len(heads) == 3
    assert all(h.endswith(":red[out of date: for an earlier version]") for h in heads)
    assert all(b.disabled for b in app.button if ".apply." in (b.key or ""))
    app.button(key="explain_refresh").click()
    explained(app)
    assert state(app).result_scenario.horizon == 9
    assert "Cheapest correction · cost 11" in text(app)
    assert not any(w.startswith("**Out of date:**") for w in warnings(app))
    # Reset goes back to the loaded (feasible) scenario: the explanation is stale again.
    app.button(key="reset_edits").click().run()
    assert any(w.startswith("**Out of date:**") for w in warnings(app))
    app.button(key="explain_refresh").click()
    explained(app)
    assert state(app).result.status == "optimal"


def test_stop_returns_what_was_found_marked_not_proven(app: AppTest,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The stop is issued through the job's control at the first solution of the first
    search (inside the engine's progress callback), so it is the same every run."""
    import optimizer.explain.explanation as explanation

    real = explanation.explain_scenario

    def stopped_at_first_solution(*args: Any, **kw: Any) -> Any:
        control, say = kw["control"], kw["on_progress"]

        def hear(msg: str) -> None:
            say(msg)
            if "best cost" in msg:
                control.stop()

        return real(*args, **{**kw, "on_progress": hear})

    monkeypatch.setattr(explanation, "explain_scenario", stopped_at_first_solution)
    _tighten_cap(app)
    ex = shown(app)
    assert ex.done and ex.stopped
    assert len(ex.found) == 1
    first = ex.found[0].correction
    assert not first.proven and first.metrics is None
    assert first.cost >= 11                 # a correction, perhaps not the cheapest
    page = text(app)
    assert "· :orange[not proven cheapest]" in page
    assert ex.by_planner
    assert any(w.startswith("**Stopped:**") for w in warnings(app))
    assert "Search again" in [b.label for b in app.button]
    # Searching again (no stop this time) finds the proven cheapest.
    monkeypatch.setattr(explanation, "explain_scenario", real)
    app.button(key="explain_again").click()
    explained(app)
    assert [f.correction.cost for f in shown(app).found] == [11, 28, 42]
    assert shown(app).found[0].correction.proven
