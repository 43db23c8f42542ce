"""Pure edits of parties and phases, and the new scenario (ui/authoring.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import ScenarioError, load_scenario, parse_scenario
from ui import authoring
from ui.state import as_dict

TINY = Path(__file__).parent / "tiny_roadmap.yaml"


def test_new_scenario_is_the_smallest_valid_one() -> None:
    sc = parse_scenario(authoring.new_scenario("Talks", "week", 52, "2025-01-06", "A", "Alpha"),
                        "new")
    assert (sc.name, sc.time_unit, sc.horizon, sc.calendar_start) == (
        "Talks", "week", 52, "2025-01-06")
    assert [(p.id, p.name) for p in sc.parties] == [("A", "Alpha")]
    assert [c.id for c in sc.concessions] == [authoring.PLACEHOLDER_ID]
    assert sc.rules == [] and [t.metric for t in sc.objective.terms] == ["makespan"]
    with pytest.raises(ScenarioError, match="calendar_start"):
        parse_scenario(authoring.new_scenario("Talks", "month", 12, "June", "A"), "new")


def test_add_and_delete_party() -> None:
    data = as_dict(load_scenario(str(TINY)))
    assert authoring.add_party(data, " C ", "Gamma") == "C"
    assert parse_scenario(data, "e").party_ids == ["A", "B", "C"]
    with pytest.raises(ValueError, match="'C' is already used"):
        authoring.add_party(data, "C")
    with pytest.raises(ValueError, match=r"still gives 1 concession\(s\) \(b1\)"):
        authoring.delete_party(data, "B")
    authoring.delete_party(data, "C")
    assert parse_scenario(data, "e").party_ids == ["A", "B"]


def test_add_and_delete_phase_follows_into_concessions() -> None:
    data = as_dict(load_scenario(str(TINY)))
    assert authoring.add_phase(data, {"id": "", "name": "Halt", "max_length": 4}) == "P1"
    assert authoring.add_phase(data, {"id": "P2", "name": "Roll back"}) == "P2"
    data["concessions"][2]["phases"] = ["P2"]
    sc = parse_scenario(data, "e")
    assert [(p.id, p.name, p.max_length) for p in sc.phases] == [
        ("P1", "Halt", 4), ("P2", "Roll back", None)]
    authoring.delete_phase(data, "P2")
    sc = parse_scenario(data, "e")
    assert [p.id for p in sc.phases] == ["P1"] and sc.concession("a2").phases is None
