"""Relaxation suggestions (issue 3): the smallest change, found and re-checked by solving."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from models import ScenarioError
from optimizer.explain.conflict import find_conflict
from optimizer.explain.oracle import feasible
from optimizer.explain.suggestions import apply_change, apply_suggestion, with_change
from tests.conftest import scenario_from, solve_checked
from tests.optimizer.explain.test_explain_conflicts import CASES, key_of, labels

# name -> {(element, path): value}; every one resolves the whole scenario.
EXPECTED: dict[str, dict[tuple[str, str], Any]] = {
    "precedence_chain_vs_deadline": {
        ("concession:c:latest_end", "concessions[2].latest_end"): 7,
        ("rule:p1", "rules[0].min_lag"): -1, ("rule:p2", "rules[1].min_lag"): -1,
        ("concession:a:required", "concessions[0].optional"): True,
        ("concession:b:required", "concessions[1].optional"): True,
        ("concession:c:required", "concessions[2].optional"): True},
    "exposure_cap_vs_reciprocity": {
        ("rule:cap", "rules[0].max"): 5, ("rule:rec", "rules[1].max_gap"): 4,
        ("concession:a:required", "concessions[0].optional"): True},
    "together_vs_allowed_phases": {
        ("concession:a:phases", "concessions[0].phases"): ["P1", "P2"],
        ("concession:b:phases", "concessions[1].phases"): ["P1", "P2"],
        ("rule:t", "rules[0].enabled"): False,
        ("concession:b:required", "concessions[1].optional"): True},
    "resource_capacity_vs_latest_end": {
        ("resource:r:capacity", "resources[0].capacity"): 2,
        ("concession:a:latest_end", "concessions[0].latest_end"): 6,
        ("concession:b:latest_end", "concessions[1].latest_end"): 6,
        ("concession:a:required", "concessions[0].optional"): True,
        ("concession:b:required", "concessions[1].optional"): True},
    "phase_balance_vs_required": {
        ("rule:bal", "rules[0].tolerance"): 6,
        ("concession:a:required", "concessions[0].optional"): True},
    "exclusive_vs_requires": {
        ("rule:ex", "rules[0].enabled"): False, ("rule:req", "rules[1].enabled"): False,
        ("concession:a:required", "concessions[0].optional"): True},
    "pinned_start_outside_phase_window": {
        ("concession:a:start", "concessions[0].start"): 2,
        ("concession:a:phases", "concessions[0].phases"): ["P1", "P2"],
        ("phase:P1:max_length", "phases[0].max_length"): 6,
        ("concession:a:required", "concessions[0].optional"): True},
    "phase_lengths_vs_horizon": {
        ("horizon", "horizon"): 10, ("phase:P1:min_length", "phases[0].min_length"): 3,
        ("phase:P2:min_length", "phases[1].min_length"): 3},
    "max_lag_vs_windows": {
        ("rule:p", "rules[0].max_lag"): 6,
        ("concession:a:latest_end", "concessions[0].latest_end"): 7,
        ("concession:b:earliest_start", "concessions[1].earliest_start"): 7,
        ("concession:a:required", "concessions[0].optional"): True,
        ("concession:b:required", "concessions[1].optional"): True},
}


def still_infeasible(data: dict[str, Any], path: str, value: Any) -> bool:
    """Solving the scenario with ``path`` set to ``value`` finds no schedule (or it is invalid)."""
    try:
        sc = apply_change(scenario_from(data), path, value)
    except ScenarioError:
        return True
    return solve_checked(sc, time_limit_s=10).status == "infeasible"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_suggestions_are_exact_and_each_restores_feasibility(name: str) -> None:
    data, _ = CASES[name]
    sc = scenario_from(data)
    conflict = find_conflict(sc)
    got = {(s.element, s.path): s.value for s in conflict.suggestions}
    assert got == EXPECTED[name]
    for s in conflict.suggestions:
        assert s.resolves == "scenario"
        assert s.action in ("relax", "drop") and s.change
        fixed = apply_suggestion(sc, s)
        assert solve_checked(fixed, time_limit_s=10).status == "optimal", s


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_one_unit_less_does_not_restore_feasibility(name: str) -> None:
    data, _ = CASES[name]
    conflict = find_conflict(scenario_from(data))
    for s in conflict.suggestions:
        value, current = s.value, s.current
        if s.action != "relax" or not isinstance(value, int):
            continue
        if s.path.endswith(".start"):
            # A pin may move either way: every pin closer to the current one fails.
            d = abs(value - current)
            for closer in range(current - d + 1, current + d):
                assert still_infeasible(data, s.path, closer), (s, closer)
        else:
            step = 1 if value > current else -1
            assert still_infeasible(data, s.path, value - step), s


def test_allowed_phases_are_widened_by_as_few_phases_as_possible() -> None:
    data = {
        "format": "roadmap/v1", "horizon": 30, "parties": [{"id": "A"}],
        "phases": [{"id": "P1", "max_length": 2}, {"id": "P2", "max_length": 2},
                   {"id": "P3"}],
        "concessions": [{"id": "a", "party": "A", "duration": 1, "start": 10,
                         "phases": ["P1"]}],
    }
    conflict = find_conflict(scenario_from(data))
    phases = [s for s in conflict.suggestions if s.element == "concession:a:phases"]
    # P2 ends by 4; only P3 can hold a start at 10.
    assert [s.value for s in phases] == [["P1", "P3"]]


def two_conflicts() -> dict[str, Any]:
    chain, _ = CASES["precedence_chain_vs_deadline"]
    balance, _ = CASES["phase_balance_vs_required"]
    data = copy.deepcopy(chain)
    extra = copy.deepcopy(balance)
    data["concessions"] += [dict(c, id="x" + c["id"]) for c in extra["concessions"]]
    data["rules"].append({"id": "bal", "kind": "phase_balance", "tolerance": 5})
    return data


def test_with_several_conflicts_suggestions_resolve_this_conflict_only() -> None:
    data = two_conflicts()
    sc = scenario_from(data)
    conflict = find_conflict(sc)
    assert labels(conflict) in (
        {"rule:bal", "concession:xa:required"},
        {"rule:p1", "rule:p2", "concession:a:required", "concession:b:required",
         "concession:c:required", "concession:c:latest_end"})
    assert "not the only conflict" in conflict.message
    assert conflict.suggestions
    keys = [key_of(label) for label in labels(conflict)]
    for s in conflict.suggestions:
        assert s.resolves == "conflict"
        # Not enough for the whole scenario, but enough for this conflict alone ...
        assert solve_checked(apply_suggestion(sc, s), time_limit_s=10).status == "infeasible"
        assert feasible(with_change(sc, s.path, s.value), keys) == "feasible"
        if s.action == "relax" and isinstance(s.value, int):
            # ... and the smallest such value.
            step = 1 if s.value > s.current else -1
            less = with_change(sc, s.path, s.value - step)
            assert feasible(less, keys) == "infeasible"


def test_apply_suggestion_validates_the_result() -> None:
    data, _ = CASES["resource_capacity_vs_latest_end"]
    sc = scenario_from(data)
    with pytest.raises(ScenarioError):
        apply_change(sc, "concessions[0].latest_end", -1)
