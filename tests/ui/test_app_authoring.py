"""AppTest: a planner builds the README's example from a new, empty scenario.

Sidebar → New scenario (name, month, horizon 24, calendar 2018-06, first party
US); Edit tab → parties and phases, four concessions through the form (then
the first step deleted), three rules as YAML, the objective's terms. The
working copy must then be the README's scenario exactly, and the solved
figures those of ``optimizer.solve`` on it: makespan 3, weighted completion
6, peak exposure 1, excluded value 5 (the optional relief is left out: it
would have to wait for the verified freeze).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from models.canonical import canonical_json
from tests.conftest import solve_checked
from tests.ui.readme_example import CONCESSIONS, OBJECTIVE, PHASES, RULES, readme_example
from tests.ui.test_app_logic import (
    checked,
    open_tiny,
    settle,
    state,
    stop_background,
    widget_key,
)


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[AppTest]:
    at = open_tiny(monkeypatch, tmp_path / "runs.sqlite", 10.0)
    settle(at)
    yield at
    stop_background(at)


def _submit(at: AppTest, form: str, label: str) -> None:
    at.button(key=f"FormSubmitter:{form}-{label}").click().run()
    assert not at.exception, [e.value for e in at.exception]


def _new(at: AppTest, **fields: Any) -> None:
    if not at.session_state["new_scenario_box"]:
        at.session_state["new_scenario_box"] = True   # as a click on "New scenario" opens it
        at.run()
    for key, value in fields.items():
        widget = at.get("text_input") + at.get("selectbox") + at.get("number_input")
        next(w for w in widget if w.key == f"new_sc.{key}").set_value(value)
    _submit(at, "new_scenario_form", "Create the scenario")


def build_readme_example(at: AppTest) -> None:
    _new(at, name="Freeze for relief", unit="month", horizon=24, calendar="2018-06",
         party="US", party_name="United States")
    settle(at)
    at.session_state["main_tabs"] = "Edit"
    for section in ("structure_editor", "concession_authoring", "rule_authoring"):
        at.session_state[section] = True    # as a click on each section opens it
    at.run()
    np_ = widget_key(at, "np")
    at.text_input(key=f"{np_}.id").set_value("DPRK")
    at.text_input(key=f"{np_}.name").set_value("North Korea")
    _submit(at, widget_key(at, "new_party"), "Add party")
    for pid, name, lo, hi in PHASES:
        pre = widget_key(at, "nph")
        at.text_input(key=f"{pre}.id").set_value(pid)
        at.text_input(key=f"{pre}.name").set_value(name)
        at.number_input(key=f"{pre}.min").set_value(lo)
        at.number_input(key=f"{pre}.max").set_value(hi)
        _submit(at, widget_key(at, "new_phase"), "Add phase")
    for cid, party, title, dur, value, rev, ver, optional in CONCESSIONS:
        pre = widget_key(at, "nc")
        at.text_input(key=f"{pre}.id").set_value(cid)
        at.selectbox(key=f"{pre}.party").set_value(party)
        at.text_input(key=f"{pre}.title").set_value(title)
        at.number_input(key=f"{pre}.duration").set_value(dur)
        at.text_input(key=f"{pre}.value").set_value(value)
        at.selectbox(key=f"{pre}.reversibility").set_value(rev)
        at.selectbox(key=f"{pre}.verification").set_value(ver)
        at.checkbox(key=f"{pre}.optional").set_value(optional)
        _submit(at, widget_key(at, "new_concession"), "Add concession")
    at.selectbox(key=widget_key(at, "pick_concession")).set_value("first_step")
    at.button(key=widget_key(at, "del_conc")).click().run()
    for text in RULES:
        kind = text.split("kind: ")[1].split("\n")[0]
        at.selectbox(key=widget_key(at, "new_rule_kind")).set_value(kind)
        at.run()
        at.text_area(key=widget_key(at, f"new_rule_yaml.{kind}")).set_value(text)
        at.button(key=widget_key(at, "add_rule")).click().run()
    at.multiselect(key=widget_key(at, "obj_terms")).set_value(OBJECTIVE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_build_the_readme_example_from_a_new_scenario(app: AppTest) -> None:
    build_readme_example(app)
    assert [e.value for e in app.error] == []
    expected = readme_example()
    working = state(app).working
    # Exactly the README's scenario (the canonical JSON behind scenario.sha256).
    assert canonical_json(working) == canonical_json(expected)
    app.button(key="solve").click()
    settle(app)
    result = checked(app)
    reference = solve_checked(expected, time_limit_s=10)
    assert result.status == reference.status == "optimal"
    assert result.metrics == reference.metrics
    assert result.metrics is not None and (
        result.metrics.makespan, result.metrics.weighted_completion,
        result.metrics.peak_exposure, result.metrics.excluded_value) == (3, 6, 1, 5)
    shown = {m.label: m.value for m in app.metric}
    assert shown["Makespan"] == "3 months (2018-09)"


def test_a_new_scenario_without_a_name_or_party_is_refused_in_one_line(app: AppTest) -> None:
    _new(app, name="", party="US")
    errors = [e.value for e in app.error]
    assert errors == ["New scenario not created — name: a new scenario needs a name"]
    _new(app, name="Empty", party="")
    assert [e.value for e in app.error] == [
        "New scenario not created — parties[].id: a party needs an id (e.g. US)"]
    assert state(app).working.name == "Tiny two-party roadmap"


def test_a_party_still_giving_steps_is_not_deleted(app: AppTest) -> None:
    app.session_state["main_tabs"] = "Edit"
    app.session_state["structure_editor"] = True
    app.run()
    app.selectbox(key=widget_key(app, "pick_party")).set_value("A")
    app.button(key=widget_key(app, "del_party")).click().run()
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and "still gives 2 concession(s) (a1, a2)" in errors[0]
    assert state(app).working.party_ids == ["A", "B"]
