"""Property-based fuzzing of the solver on random valid scenarios (issue 8, part 1).

Every solve either returns a schedule the independent checker accepts, with
the checker's own metrics, or is ``infeasible`` with a conflict that is a
verified minimal unsatisfiable set: keeping only the conflict's elements (every
other rule disabled and every other demand given up) is infeasible, and giving
up any one of them as well makes it feasible. The verification drops elements
on the scenario *dict* and re-solves normally, so it does not trust the
explain-mode model it is checking.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from models import Result, ScenarioError, SolveOptions, parse_scenario
from optimizer import solve
from optimizer.check import _Checker, check
from tests.properties.strategies import conflict_elements, keep_only, scenarios

FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
OPTIONS = SolveOptions(time_limit_s=20.0, workers=1, seed=0)


def parse_or_cycle(data: dict[str, Any]) -> Any:
    """The validated scenario, or None when validation finds a positive cycle.

    The strategies build everything else valid by construction, so any other
    rejection is a bug in the generator or in validation.
    """
    try:
        return parse_scenario(data, "<fuzz>")
    except ScenarioError as err:
        assert "cycle that can never hold" in str(err), str(err)
        assert err.rules, "a cycle names its rules"
        return None


def feasibility(data: dict[str, Any]) -> str:
    """Status of a plain solve of ``data`` (objective irrelevant: makespan only)."""
    probe = {**data, "objective": {"terms": [{"metric": "makespan"}]}}
    sc = parse_scenario(probe, "<relaxed>")
    result = solve(sc, OPTIONS, explain_infeasible=False)
    if result.status in ("optimal", "feasible"):
        errors = check(sc, result)
        assert errors == [], errors
        return "feasible"
    return result.status


def assert_minimal_conflict(data: dict[str, Any], result: Result) -> None:
    conflict = result.conflict
    assert conflict is not None, "an infeasible result carries its conflict"
    assert "may not be minimal" not in conflict.message
    elements = conflict_elements(conflict)
    assert elements, conflict.message
    assert len(set(elements)) == len(elements), elements
    assert feasibility(keep_only(data, elements)) == "infeasible", (elements, conflict.message)
    for e in elements:
        rest = [x for x in elements if x != e]
        assert feasibility(keep_only(data, rest)) == "feasible", (e, elements)


def assert_solved_correctly(data: dict[str, Any]) -> str:
    """Solve ``data`` and verify the outcome; returns the status (for the campaign)."""
    sc = parse_or_cycle(data)
    if sc is None:
        return "rejected"
    result = solve(sc, OPTIONS)
    assert result.status != "unknown", "tiny scenarios are decided well within the limit"
    errors = check(sc, result)
    assert errors == [], errors
    if result.status == "infeasible":
        assert_minimal_conflict(data, result)
        return "infeasible"
    checker = _Checker(sc, result)
    checker.run()
    assert result.metrics is not None
    assert result.metrics.model_dump() == {
        name: checker.metric(name) for name in result.metrics.model_dump()}
    # Round trip through the JSON of SPEC §3 keeps the checker's verdict.
    again = Result.from_dict(result.to_dict())
    assert check(sc, again) == []
    return result.status


@FUZZ
@given(scenarios(max_concessions=12, max_rules=10))
def test_small_scenarios_solve_correctly(data: dict[str, Any]) -> None:
    assert_solved_correctly(data)


@settings(FUZZ, max_examples=15)
@given(scenarios(min_concessions=20, max_concessions=40, max_rules=12, max_horizon=60))
def test_larger_scenarios_solve_correctly(data: dict[str, Any]) -> None:
    assert_solved_correctly(data)


@FUZZ
@given(scenarios(max_concessions=6, max_rules=8, max_horizon=10))
def test_cramped_scenarios_explain_correctly(data: dict[str, Any]) -> None:
    # Short horizons make infeasibility (and so the conflict search) common.
    assert_solved_correctly(data)


def test_keep_only_verifies_a_hand_checked_conflict() -> None:
    # a (3 long, pinned at 0) must end before b starts, but b must end by 3.
    data: dict[str, Any] = {
        "format": "roadmap/v1", "horizon": 10,
        "parties": [{"id": "A"}, {"id": "B"}],
        "concessions": [{"id": "a", "party": "A", "duration": 3, "start": 0},
                        {"id": "b", "party": "B", "duration": 1, "latest_end": 3}],
        "rules": [{"id": "a_then_b", "kind": "precedence", "before": "a", "after": "b"},
                  {"id": "spare", "kind": "exclusive", "concessions": ["a"]}],
    }
    result = solve(parse_scenario(data, "<test>"), OPTIONS)
    assert result.status == "infeasible"
    assert result.conflict is not None
    assert set(conflict_elements(result.conflict)) == {
        ("rule", "a_then_b"), ("concession", "a", "required"),
        ("concession", "b", "required"), ("concession", "b", "latest_end")}
    assert_minimal_conflict(data, result)
    # Not minimal: the pin of a plays no part, so keeping it too stays infeasible
    # and dropping it from the kept set changes nothing.
    with_pin = [*conflict_elements(result.conflict), ("concession", "a", "start")]
    assert feasibility(keep_only(data, with_pin)) == "infeasible"
    assert feasibility(keep_only(data, with_pin[1:])) == "feasible"


def test_variable_duration_respects_latest_end_and_horizon() -> None:
    # Found by this fuzzing: a must end at least 6 after b starts (b pinned at 0),
    # so with a horizon of 5 the roadmap is impossible; a variable duration must
    # not let a's end run past the horizon to satisfy the rule. (b's pin is not
    # in the conflict: b cannot start before 0 anyway.)
    data: dict[str, Any] = {
        "format": "roadmap/v1", "horizon": 5, "parties": [{"id": "A"}, {"id": "B"}],
        "concessions": [{"id": "a", "party": "A", "duration": {"min": 1, "max": 5},
                         "earliest_start": 3},
                        {"id": "b", "party": "B", "duration": 1, "start": 0}],
        "rules": [{"id": "late", "kind": "precedence", "before": "b", "after": "a",
                   "from": "start", "to": "end", "min_lag": 6}],
    }
    result = solve(parse_scenario(data, "<test>"), OPTIONS)
    assert check(parse_scenario(data, "<test>"), result) == []
    assert result.status == "infeasible"
    assert result.conflict is not None
    assert set(conflict_elements(result.conflict)) == {
        ("rule", "late"), ("concession", "a", "required"), ("concession", "b", "required"),
        ("horizon",)}
    assert_minimal_conflict(data, result)
