"""Minimal conflicts (issue 3): exact sets, each element necessary, phrased for a person."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from models import Conflict, Scenario, ScenarioError
from optimizer.explain.conflict import find_conflict
from optimizer.explain.oracle import element_keys, feasible
from tests.conftest import scenario_from, solve_checked

Key = tuple[str, ...]
AB = [{"id": "A"}, {"id": "B"}]


def spec(concessions: list[dict[str, Any]], rules: list[dict[str, Any]] | None = None,
         **extra: Any) -> dict[str, Any]:
    return {"format": "roadmap/v1", "horizon": extra.pop("horizon", 20), "parties": AB,
            "concessions": concessions, "rules": rules or [], **extra}


# name -> (scenario, exact conflict as "kind:id:field" labels)
CASES: dict[str, tuple[dict[str, Any], set[str]]] = {
    "precedence_chain_vs_deadline": (spec(
        [{"id": "a", "party": "A", "duration": 2}, {"id": "b", "party": "B", "duration": 3},
         {"id": "c", "party": "A", "duration": 2, "latest_end": 6}],
        [{"id": "p1", "kind": "precedence", "before": "a", "after": "b"},
         {"id": "p2", "kind": "precedence", "before": "b", "after": "c"}]),
        {"rule:p1", "rule:p2", "concession:a:required", "concession:b:required",
         "concession:c:required", "concession:c:latest_end"}),
    # a risks 5 (irreversible, cost 5); b's credit 8 reaches A only when b ends (4 later),
    # but b must start within 2 of a: A is exposed 5 > 2 whenever a starts.
    "exposure_cap_vs_reciprocity": (spec(
        [{"id": "a", "party": "A", "duration": 1, "value": 5, "cost": 5,
          "reversibility": "irreversible"},
         {"id": "b", "party": "B", "duration": 4, "value": 8, "verification": "public",
          "optional": True}],
        [{"id": "cap", "kind": "exposure", "parties": ["A"], "max": 2},
         {"id": "rec", "kind": "reciprocity", "a": "a", "b": "b", "max_gap": 2}]),
        {"rule:cap", "rule:rec", "concession:a:required"}),
    "together_vs_allowed_phases": (spec(
        [{"id": "a", "party": "A", "duration": 1, "phases": ["P1"], "optional": True},
         {"id": "b", "party": "B", "duration": 1, "phases": ["P2"]}],
        [{"id": "t", "kind": "together", "concessions": ["a", "b"]}],
        phases=[{"id": "P1", "max_length": 5}, {"id": "P2"}]),
        {"rule:t", "concession:a:phases", "concession:b:phases", "concession:b:required"}),
    "resource_capacity_vs_latest_end": (spec(
        [{"id": "a", "party": "A", "duration": 3, "uses": {"r": 1}, "latest_end": 5},
         {"id": "b", "party": "B", "duration": 3, "uses": {"r": 1}, "latest_end": 5}],
        resources=[{"id": "r", "capacity": 1}], horizon=10),
        {"resource:r:capacity", "concession:a:latest_end", "concession:b:latest_end",
         "concession:a:required", "concession:b:required"}),
    # A delivers 10, B 4: 6 apart whatever the schedule, tolerance 5.
    "phase_balance_vs_required": (spec(
        [{"id": "a", "party": "A", "duration": 1, "value": 10},
         {"id": "b", "party": "B", "duration": 1, "value": 4}],
        [{"id": "bal", "kind": "phase_balance", "tolerance": 5}]),
        {"rule:bal", "concession:a:required"}),
    "exclusive_vs_requires": (spec(
        [{"id": "a", "party": "A", "duration": 1},
         {"id": "b", "party": "B", "duration": 1, "optional": True}],
        [{"id": "ex", "kind": "exclusive", "concessions": ["a", "b"]},
         {"id": "req", "kind": "requires", "if": "a", "then": "b"}]),
        {"rule:ex", "rule:req", "concession:a:required"}),
    # P1 lasts at most 3, so nothing starting in P1 can start at 5.
    "pinned_start_outside_phase_window": (spec(
        [{"id": "a", "party": "A", "duration": 1, "start": 5, "phases": ["P1"]}],
        phases=[{"id": "P1", "max_length": 3}, {"id": "P2"}]),
        {"concession:a:start", "concession:a:phases", "phase:P1:max_length",
         "concession:a:required"}),
    "phase_lengths_vs_horizon": (spec(
        [{"id": "a", "party": "A", "duration": 1}],
        phases=[{"id": "P1", "min_length": 5}, {"id": "P2", "min_length": 5}], horizon=8),
        {"phase:P1:min_length", "phase:P2:min_length", "horizon"}),
    # b may start at most 3 after a ends (by 4), i.e. by 7, but not before 10.
    "max_lag_vs_windows": (spec(
        [{"id": "a", "party": "A", "duration": 2, "latest_end": 4},
         {"id": "b", "party": "B", "duration": 1, "earliest_start": 10}],
        [{"id": "p", "kind": "precedence", "before": "a", "after": "b", "max_lag": 3}]),
        {"rule:p", "concession:a:latest_end", "concession:b:earliest_start",
         "concession:a:required", "concession:b:required"}),
}


def labels(conflict: Conflict) -> set[str]:
    out = {f"rule:{r}" for r in conflict.rules}
    for d in conflict.demands:
        owner = d.concession or d.phase or d.resource
        out.add(f"{'concession' if d.concession else 'phase' if d.phase else 'resource'}:"
                f"{owner}:{d.field}" if owner else d.field)
    return out


def key_of(label: str) -> Key:
    return tuple(label.split(":"))


def without(data: dict[str, Any], label: str) -> dict[str, Any]:
    """The scenario with one conflict element given up, as a planner would edit it."""
    out = copy.deepcopy(data)
    key = key_of(label)
    if key[0] == "rule":
        next(r for r in out["rules"] if r["id"] == key[1])["enabled"] = False
    elif key[0] == "horizon":
        out["horizon"] *= 10
    elif key[0] == "phase":
        ph = next(p for p in out["phases"] if p["id"] == key[1])
        ph.pop(key[2], None)
        if key[2] == "min_length":
            ph["min_length"] = 0
    elif key[0] == "resource":
        res = next(r for r in out["resources"] if r["id"] == key[1])
        res["capacity"] = 1000
    else:
        c = next(c for c in out["concessions"] if c["id"] == key[1])
        if key[2] == "required":
            c["optional"] = True
        elif key[2] == "earliest_start":
            c["earliest_start"] = 0
        else:
            c.pop(key[2])
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_minimal_conflict(name: str) -> None:
    data, expected = CASES[name]
    result = solve_checked(data, time_limit_s=10)
    assert result.status == "infeasible"
    assert result.conflict is not None
    assert labels(result.conflict) == expected
    sc = scenario_from(data)
    keys = [key_of(label) for label in expected]
    # The set alone (everything else dropped) cannot hold ...
    assert feasible(sc, keys) == "infeasible"
    for label in expected:
        # ... and without any one element it can, both on its own ...
        assert feasible(sc, [k for k in keys if k != key_of(label)]) == "feasible", label
        # ... and as the whole scenario minus that element, solved and checked.
        relaxed = solve_checked(without(data, label), time_limit_s=10)
        assert relaxed.status == "optimal", label


@pytest.mark.parametrize("name", sorted(CASES))
def test_conflict_names_the_concessions_involved(name: str) -> None:
    data, expected = CASES[name]
    conflict = find_conflict(scenario_from(data), suggest=False)
    named = {label.split(":")[1] for label in expected if label.startswith("concession:")}
    assert named <= set(conflict.concessions)
    assert len(conflict.explanations) == len(expected)


def test_positive_cycle_is_caught_by_validation_not_here() -> None:
    data = spec(
        [{"id": "a", "party": "A", "duration": 1}, {"id": "b", "party": "B", "duration": 1}],
        [{"id": "ab", "kind": "precedence", "before": "a", "after": "b", "min_lag": 1},
         {"id": "ba", "kind": "precedence", "before": "b", "after": "a", "min_lag": 1}])
    with pytest.raises(ScenarioError) as info:
        scenario_from(data)
    assert sorted(info.value.rules) == ["ab", "ba"]
    assert "cycle" in str(info.value)


def test_every_enabled_rule_and_demand_is_an_element() -> None:
    data, _ = CASES["max_lag_vs_windows"]
    keys = set(element_keys(scenario_from(data)))
    assert ("rule", "p") in keys
    assert {("concession", "a", "latest_end"), ("concession", "b", "earliest_start"),
            ("concession", "a", "required"), ("horizon",)} <= keys


def test_disabled_rules_never_appear() -> None:
    data, _ = CASES["exclusive_vs_requires"]
    data = copy.deepcopy(data)
    data["rules"].append({"id": "off", "kind": "exclusive", "concessions": ["a", "b"],
                          "enabled": False})
    conflict = find_conflict(scenario_from(data), suggest=False)
    assert set(conflict.rules) == {"ex", "req"}


def test_message_and_sentences_use_the_scenarios_words() -> None:
    data = {
        "format": "roadmap/v1", "horizon": 40, "time_unit": "month",
        "parties": [{"id": "US"}, {"id": "DPRK"}],
        "concessions": [
            {"id": "icbm", "party": "DPRK", "title": "Eliminate ICBMs", "duration": 10,
             "latest_end": 24, "value": 10, "cost": 10, "reversibility": "irreversible"},
            {"id": "relief", "party": "US", "title": "Lift sanctions", "duration": 2,
             "value": 9, "verification": "public"},
        ],
        "rules": [
            {"id": "relief_first", "kind": "precedence", "before": "relief", "after": "icbm",
             "min_lag": 20},
            {"id": "dprk_cap", "kind": "exposure", "parties": ["DPRK"], "max": 8},
        ],
    }
    conflict = find_conflict(scenario_from(data), suggest=False)
    assert set(conflict.rules) == {"relief_first"}
    assert "concession:icbm:latest_end: 'Eliminate ICBMs' must end by month 24" in \
        conflict.explanations
    assert "'Eliminate ICBMs' must end by month 24" in conflict.message
    assert "'Eliminate ICBMs' must start at least 20 months after 'Lift sanctions' ends" in \
        conflict.message


def test_rule_text_is_used_with_the_current_condition() -> None:
    data, _ = CASES["exposure_cap_vs_reciprocity"]
    data = copy.deepcopy(data)
    data["rules"][0]["text"] = "A is never far out on a limb."
    conflict = find_conflict(scenario_from(data), suggest=False)
    assert "rule:cap: A is never far out on a limb. (A exposure must stay ≤ 2)" in \
        conflict.explanations


def test_a_passed_deadline_returns_at_once_without_a_conflict() -> None:
    data, _ = CASES["resource_capacity_vs_latest_end"]
    conflict = find_conflict(scenario_from(data), deadline=time.monotonic() - 1)
    assert conflict.rules == [] and conflict.demands == []
    assert "ran out of time" in conflict.message


def test_a_feasible_scenario_has_no_conflict() -> None:
    sc: Scenario = scenario_from(spec([{"id": "a", "party": "A", "duration": 1}]))
    conflict = find_conflict(sc)
    assert conflict.rules == [] and conflict.demands == [] and conflict.suggestions == []
    assert conflict.message.startswith("No conflict found")
