"""What binds a feasible schedule (issue 3): slack, tight rules, the critical chain."""

from __future__ import annotations

from typing import Any

from optimizer.explain.binding import binding_report
from tests.conftest import scenario_from, solve_checked, starts

AB = [{"id": "A"}, {"id": "B"}]
LEX = {"terms": [{"metric": "makespan"}, {"metric": "weighted_completion"}]}

# a [0,2) -> b [3,6) (min_lag 1); c [4,5) at its earliest start. Unique optimum.
CHAIN: dict[str, Any] = {
    "format": "roadmap/v1", "horizon": 20, "parties": AB, "objective": LEX,
    "concessions": [{"id": "a", "party": "A", "duration": 2},
                    {"id": "b", "party": "B", "duration": 3},
                    {"id": "c", "party": "A", "duration": 1, "earliest_start": 4}],
    "rules": [{"id": "p1", "kind": "precedence", "before": "a", "after": "b", "min_lag": 1}],
}
# a (A, risk 4) pinned at 0; b (B, risk 6) must wait for a's credit 4 (verified at 2).
CLIFF: dict[str, Any] = {
    "format": "roadmap/v1", "horizon": 20, "parties": AB,
    "concessions": [
        {"id": "a", "party": "A", "duration": 2, "value": 4, "cost": 4,
         "reversibility": "irreversible", "verification": "public", "start": 0},
        {"id": "b", "party": "B", "duration": 2, "value": 6, "cost": 6,
         "reversibility": "irreversible", "verification": "public"}],
    "rules": [{"id": "cap", "kind": "exposure", "max": 4}],
}
# One inspector team: a (priority 2) first, then d.
SHARED: dict[str, Any] = {
    "format": "roadmap/v1", "horizon": 20, "parties": AB, "objective": LEX,
    "resources": [{"id": "r", "capacity": 1}],
    "concessions": [{"id": "a", "party": "A", "duration": 2, "uses": {"r": 1}, "priority": 2},
                    {"id": "d", "party": "B", "duration": 2, "uses": {"r": 1}}],
}


def report(data: dict[str, Any]) -> Any:
    result = solve_checked(data)
    assert result.status == "optimal"
    return result, binding_report(scenario_from(data), result)


def slack_of(rep: Any) -> dict[str, tuple[int | None, int | None]]:
    return {s.concession: (s.earlier, s.later) for s in rep.slack}


def test_precedence_chain_slack_tight_rules_and_chain() -> None:
    result, rep = report(CHAIN)
    assert starts(result) == {"a": 0, "b": 3, "c": 4}
    # a is held by b (fixed at 3, lag 1); b and c can slide to the horizon (20).
    assert slack_of(rep) == {"a": (0, 0), "b": (0, 14), "c": (0, 15)}
    assert [(t.element, t.kind, t.time) for t in rep.tight] == [
        ("rule:p1", "precedence", 3), ("concession:c:earliest_start", "window", 4)]
    assert rep.makespan == 6
    assert [(link.concession, link.via) for link in rep.critical_chain] == [
        ("a", None), ("b", "rule:p1")]
    assert rep.chain_root == "'a' starts at the very beginning"


def test_exposure_cap_is_tight_and_holds_the_chain() -> None:
    result, rep = report(CLIFF)
    assert starts(result) == {"a": 0, "b": 2}
    assert slack_of(rep) == {"a": (0, 0), "b": (0, 16)}
    assert [(t.element, t.kind, t.time, t.concessions) for t in rep.tight] == [
        ("rule:cap", "exposure", 0, ["a"]), ("concession:a:start", "pin", 0, ["a"])]
    assert "A exposure reaches its cap 4 at month 0" in rep.tight[0].detail
    assert [(link.concession, link.via) for link in rep.critical_chain] == [
        ("a", None), ("b", "rule:cap")]
    assert rep.chain_root == "'a' is pinned at month 0"


def test_full_resource_and_slack_past_the_other_user() -> None:
    result, rep = report(SHARED)
    assert starts(result) == {"a": 0, "d": 2}
    # Slack is the farthest start that still holds with d fixed: a may jump past d to 18.
    assert slack_of(rep) == {"a": (0, 18), "d": (0, 16)}
    assert [(t.element, t.time, t.concessions) for t in rep.tight] == [
        ("resource:r:capacity", 0, ["a", "d"])]
    assert "from month 0 to month 4" in rep.tight[0].detail
    assert [(link.concession, link.via) for link in rep.critical_chain] == [
        ("a", None), ("d", "resource:r:capacity")]


def test_reciprocity_gap_and_phase_length_limits_are_tight() -> None:
    data = {
        "format": "roadmap/v1", "horizon": 20, "parties": AB, "objective": LEX,
        "phases": [{"id": "P1", "min_length": 3, "max_length": 3}, {"id": "P2"}],
        "concessions": [{"id": "a", "party": "A", "duration": 1, "phases": ["P2"]},
                        {"id": "b", "party": "B", "duration": 1}],
        "rules": [{"id": "rec", "kind": "reciprocity", "a": "a", "b": "b", "max_gap": 2}],
    }
    result, rep = report(data)
    # a opens P2 at 3; b as early as the gap allows, at 1.
    assert starts(result) == {"a": 3, "b": 1}
    elements = [(t.element, t.time) for t in rep.tight]
    assert ("rule:rec", 3) in elements
    assert ("phase:P1:max_length", 3) in elements
    assert [(link.concession, link.via) for link in rep.critical_chain] == [("a", None)]
    assert rep.chain_root == "'a' starts as soon as phase 'P2' opens"
    # b cannot move earlier than 1 (gap) nor later than 3+2=5 with a fixed at 3.
    assert slack_of(rep)["b"] == (0, 4)


def test_report_to_dict_is_plain_json() -> None:
    import json

    _, rep = report(CHAIN)
    data = json.loads(json.dumps(rep.to_dict()))
    assert data["critical_chain"][1]["via"] == "rule:p1"
    assert data["slack"][1] == {"concession": "b", "start": 3, "end": 6, "earlier": 0,
                                "later": 14}
