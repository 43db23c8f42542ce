"""AppTest: the briefing download is offered for an infeasible scenario too, with its
corrections; the schedule CSV and chart PNG buttons are the readable exports.

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
