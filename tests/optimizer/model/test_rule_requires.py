"""requires (SPEC §2.2): x_if <= x_then."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked, starts


def scenario(concessions: list[dict[str, Any]], rules: list[dict[str, Any]],
             **extra: Any) -> dict[str, Any]:
    return {"horizon": 20, "parties": [{"id": "A"}, {"id": "B"}],
            "concessions": concessions, "rules": rules, **extra}


def rule(if_: str = "a", then: str = "b", **fields: Any) -> dict[str, Any]:
    return {"id": "needs", "kind": "requires", "if": if_, "then": then, **fields}


EXCLUDED = {"terms": [{"metric": "excluded_value"}]}
A = {"id": "a", "party": "A", "duration": 1, "value": 10, "optional": True}
B = {"id": "b", "party": "B", "duration": 1, "value": 1, "optional": True}
C = {"id": "c", "party": "B", "duration": 1}
BLOCK_B = {"id": "block", "kind": "exclusive", "concessions": ["b", "c"]}


def test_if_without_then_is_dropped() -> None:
    # b cannot be present (c is required and exclusive with it), so a goes too: 10 + 1.
    r = solve_checked(scenario([A, B, C], [rule(), BLOCK_B], objective=EXCLUDED))
    assert r.metrics is not None and r.metrics.excluded_value == 11
    assert starts(r) == {"a": None, "b": None, "c": 0}


def test_disabled_rule_is_ignored() -> None:
    r = solve_checked(scenario([A, B, C], [rule(enabled=False), BLOCK_B], objective=EXCLUDED))
    assert r.metrics is not None and r.metrics.excluded_value == 1
    assert starts(r) == {"a": 0, "b": None, "c": 0}


def test_then_without_if_is_allowed() -> None:
    # Requires is one-way: with the long optional a left out (makespan objective) the
    # required b stays: makespan 1.
    a = {"id": "a", "party": "A", "duration": 8, "optional": True}
    b = {"id": "b", "party": "B", "duration": 1}
    r = solve_checked(scenario([a, b], [rule()]))
    assert r.metrics is not None and r.metrics.makespan == 1
    assert starts(r) == {"a": None, "b": 0}


def test_required_if_forces_then() -> None:
    # a is required, so the long optional b must be present: makespan 8 instead of 1.
    a = {"id": "a", "party": "A", "duration": 1}
    b = {"id": "b", "party": "B", "duration": 8, "optional": True}
    r = solve_checked(scenario([a, b], [rule()]))
    assert r.metrics is not None and r.metrics.makespan == 8
    free = solve_checked(scenario([a, b], [rule(enabled=False)]))
    assert free.metrics is not None and free.metrics.makespan == 1


def test_chain_drops_everything_upstream() -> None:
    # a needs b, b needs d, d is blocked: a, b and d all go: 10 + 1 + 2 = 13.
    d = {"id": "d", "party": "A", "duration": 1, "value": 2, "optional": True}
    rules = [rule(), {"id": "n2", "kind": "requires", "if": "b", "then": "d"},
             {"id": "block", "kind": "exclusive", "concessions": ["d", "c"]}]
    r = solve_checked(scenario([A, B, C, d], rules, objective=EXCLUDED))
    assert r.metrics is not None and r.metrics.excluded_value == 13


def test_mutual_requires_acts_like_together() -> None:
    # a <-> b, and b is blocked: both go (11), like a together package.
    rules = [rule(), {"id": "back", "kind": "requires", "if": "b", "then": "a"}, BLOCK_B]
    r = solve_checked(scenario([A, B, C], rules, objective=EXCLUDED))
    assert r.metrics is not None and r.metrics.excluded_value == 11


def test_required_if_with_blocked_then_is_infeasible() -> None:
    a = {"id": "a", "party": "A", "duration": 1}
    r = solve_checked(scenario([a, B, C], [rule(), BLOCK_B]))
    assert r.status == "infeasible"
    assert r.conflict is not None and sorted(r.conflict.rules) == ["block", "needs"]
