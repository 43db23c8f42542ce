"""reciprocity (SPEC §2.2): x_a = x_b and, when present, |s_a - s_b| <= max_gap."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked, starts


def scenario(concessions: list[dict[str, Any]], rules: list[dict[str, Any]],
             **extra: Any) -> dict[str, Any]:
    return {"horizon": 20, "parties": [{"id": "A"}, {"id": "B"}],
            "concessions": concessions, "rules": rules, **extra}


def rule(**fields: Any) -> dict[str, Any]:
    return {"id": "sync", "kind": "reciprocity", "a": "a", "b": "b", **fields}


A_LATE = {"id": "a", "party": "A", "duration": 1, "earliest_start": 3}
B2 = {"id": "b", "party": "B", "duration": 2}


def test_max_gap_zero_starts_together() -> None:
    # b must start with a (>= 3): both at 3, makespan 3 + 2 = 5.
    r = solve_checked(scenario([A_LATE, B2], [rule()]))
    assert r.metrics is not None and r.metrics.makespan == 5
    assert starts(r) == {"a": 3, "b": 3}


def test_disabled_rule_is_ignored() -> None:
    # b runs [0,2) and a [3,4): makespan 4.
    r = solve_checked(scenario([A_LATE, B2], [rule(enabled=False)]))
    assert r.metrics is not None and r.metrics.makespan == 4


def test_max_gap_one() -> None:
    # Makespan 4 needs a = 3 and b <= 2; the gap then forces b = 2.
    r = solve_checked(scenario([A_LATE, B2], [rule(max_gap=1)]))
    assert r.metrics is not None and r.metrics.makespan == 4
    assert starts(r) == {"a": 3, "b": 2}


def test_gap_is_symmetric() -> None:
    # Now b is the late one: a must start within 2 of b = 5, i.e. a >= 3.
    a = {"id": "a", "party": "A", "duration": 1}
    b = {"id": "b", "party": "B", "duration": 1, "earliest_start": 5}
    r = solve_checked(scenario([a, b], [rule(max_gap=2)],
                               objective={"terms": [{"metric": "makespan"},
                                                    {"metric": "weighted_completion"}]}))
    assert starts(r) == {"a": 3, "b": 5}


def test_presence_is_coupled() -> None:
    # b is excluded by the required c, so the reciprocity drops a too:
    # excluded value 5 (a) + 1 (b) = 6.
    a = {"id": "a", "party": "A", "duration": 1, "value": 5, "optional": True}
    b = {"id": "b", "party": "B", "duration": 1, "value": 1, "optional": True}
    c = {"id": "c", "party": "B", "duration": 1}
    ex = {"id": "ex", "kind": "exclusive", "concessions": ["b", "c"]}
    objective = {"terms": [{"metric": "excluded_value"}]}
    r = solve_checked(scenario([a, b, c], [rule(), ex], objective=objective))
    assert r.metrics is not None and r.metrics.excluded_value == 6
    assert starts(r)["a"] is None
    free = solve_checked(scenario([a, b, c], [rule(enabled=False), ex], objective=objective))
    assert free.metrics is not None and free.metrics.excluded_value == 1


def test_required_side_forces_the_optional_one_in() -> None:
    # Leaving the long optional b out would give makespan 1; reciprocity keeps it: 10.
    a = {"id": "a", "party": "A", "duration": 1}
    b = {"id": "b", "party": "B", "duration": 10, "optional": True}
    r = solve_checked(scenario([a, b], [rule(max_gap=3)]))
    assert r.metrics is not None and r.metrics.makespan == 10
    assert r.schedule[1].present
    free = solve_checked(scenario([a, b], [rule(max_gap=3, enabled=False)]))
    assert free.metrics is not None and free.metrics.makespan == 1
    assert not free.schedule[1].present


def test_gap_with_resource_conflict() -> None:
    # Both need the single inspector team: they cannot overlap, so with max_gap 2 the
    # second starts exactly when the first (length 2) ends: makespan 4.
    a = {"id": "a", "party": "A", "duration": 2, "uses": {"team": 1}}
    b = {"id": "b", "party": "B", "duration": 2, "uses": {"team": 1}}
    r = solve_checked(scenario([a, b], [rule(max_gap=2)],
                               resources=[{"id": "team", "capacity": 1}]))
    assert r.metrics is not None and r.metrics.makespan == 4
    assert sorted(s.start or 0 for s in r.schedule) == [0, 2]


def test_infeasible_gap_with_resource() -> None:
    # Same, but the first lasts 3: the gap of 2 cannot hold without overlap.
    a = {"id": "a", "party": "A", "duration": 3, "uses": {"team": 1}}
    b = {"id": "b", "party": "B", "duration": 3, "uses": {"team": 1}}
    r = solve_checked(scenario([a, b], [rule(max_gap=2)],
                               resources=[{"id": "team", "capacity": 1}]))
    assert r.status == "infeasible"
    assert r.conflict is not None and r.conflict.rules == ["sync"]
