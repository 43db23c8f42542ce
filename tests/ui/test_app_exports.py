"""AppTest: the briefing download is offered for an infeasible scenario too, with its
corrections; a Stop before any schedule is found says so.

tiny_roadmap.yaml with the cap lowered from 4 to 3 has no roadmap; its cheapest
correction raises the cap back to 4 (cost 11: one position, one unit).
"""

from __future__ import annotations

from tests.ui.test_app_authoring import app  # noqa: F401  (the fixture)
from tests.ui.test_app_logic import settle, state, widget_key


def test_infeasible_scenario_offers_the_briefing_with_its_corrections(app) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from ui.views.roadmap import briefing_html

    app.session_state["main_tabs"] = "Edit"
    app.run()
    app.number_input(key=widget_key(app, "rule_max.cap")).set_value(3)
    app.run()
    app.button(key="solve").click()
    settle(app)
    s = state(app)
    assert s.result.status == "infeasible"
    labels = [getattr(b, "label", "") for b in app.get("download_button")]
    assert "Briefing (PDF)" in labels and "Briefing (HTML)" in labels
    page = briefing_html(s.result_scenario, s.result, None, 10.0)
    assert "What it would take: the cheapest correction" in page
    assert "Raise the A/B exposure cap from 3 to 4 (cost 11)" in page


class _Searching:
    """A solve that finds nothing until it is stopped (as a big model still being built)."""

    def __init__(self, sc: object) -> None:
        self.sc = sc
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True

    def done(self) -> bool:
        return self.stopped

    def wait(self, timeout: float | None = None) -> bool:
        return self.stopped   # still searching: the app's quick wait gives up at once

    def drain(self) -> list[object]:
        return []

    def result(self, timeout: float | None = None) -> object:
        from models.canonical import scenario_sha256
        from models.result import ScenarioRef, SolverInfo
        from optimizer.solving.readback import empty_result

        ref = ScenarioRef(name=self.sc.name, sha256=scenario_sha256(self.sc))  # type: ignore[attr-defined]
        info = SolverInfo(version="test", wall_time_s=0.1, workers=1, seed=0, time_limit_s=60)
        return empty_result(ref, info, "unknown")


def test_a_stop_before_any_schedule_says_so(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    import optimizer

    monkeypatch.setattr(optimizer, "start_solve", lambda sc, options=None, **kw: _Searching(sc))
    app.session_state["main_tabs"] = "Edit"
    app.run()
    app.toggle(key=widget_key(app, "rule_on.freeze_first")).set_value(False)
    app.run()
    app.button(key="solve").click().run()
    app.button(key="stop_solve").click().run()   # this run collects the stopped search
    assert not app.exception
    assert next(w.value for w in app.warning) == (
        "Stopped before any schedule was found: there is nothing to show yet. "
        "Press Solve to search again.")
    assert state(app).result.status == "unknown"
    # The Roadmap tab does not blame the time limit for the planner's Stop.
    app.session_state["main_tabs"] = "Roadmap"
    app.run()
    errors = [e.value for e in app.error]
    assert any(e.startswith("Stopped before any roadmap was found") for e in errors), errors
    assert not any("within the time limit" in e for e in errors), errors
    # A stopped search is never cached: Solve searches again.
    assert all(r.status != "unknown" for r in state(app).cache.values())
