"""precedence (SPEC §2.2): point(after, to) - point(before, from) in [min_lag, max_lag]."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked, starts


def scenario(concessions: list[dict[str, Any]], rules: list[dict[str, Any]],
             **extra: Any) -> dict[str, Any]:
    return {"horizon": 20, "parties": [{"id": "A"}, {"id": "B"}],
            "concessions": concessions, "rules": rules, **extra}


def rule(**fields: Any) -> dict[str, Any]:
    return {"id": "r", "kind": "precedence", "before": "a", "after": "b", **fields}


A2 = {"id": "a", "party": "A", "duration": 2}
B3 = {"id": "b", "party": "B", "duration": 3}


def test_default_end_to_start() -> None:
    # b.start >= a.end = 2: a [0,2), b [2,5); makespan 5 and the only schedule with it.
    r = solve_checked(scenario([A2, B3], [rule()]))
    assert r.status == "optimal"
    assert r.metrics is not None and r.metrics.makespan == 5
    assert starts(r) == {"a": 0, "b": 2}


def test_disabled_rule_is_ignored() -> None:
    # Without the rule both start at 0: makespan max(2, 3) = 3.
    r = solve_checked(scenario([A2, B3], [rule(enabled=False)]))
    assert r.metrics is not None and r.metrics.makespan == 3
    assert starts(r) == {"a": 0, "b": 0}


def test_positive_min_lag() -> None:
    # b.start >= 2 + 2 = 4: makespan 7.
    r = solve_checked(scenario([A2, B3], [rule(min_lag=2)]))
    assert r.metrics is not None and r.metrics.makespan == 7
    assert starts(r) == {"a": 0, "b": 4}


def test_negative_min_lag_allows_overlap() -> None:
    # b.start >= a.end - 1: b may start 1 before a ends. Makespan 4 needs b.start <= 1,
    # hence a.end <= 2, so a = 0 and b = 1 exactly.
    r = solve_checked(scenario([A2, B3], [rule(min_lag=-1)]))
    assert r.metrics is not None and r.metrics.makespan == 4
    assert starts(r) == {"a": 0, "b": 1}


def test_start_to_start() -> None:
    # b.start >= a.start + 3: a [0,2), b [3,6).
    r = solve_checked(scenario([A2, B3], [rule(**{"from": "start"}, min_lag=3)]))
    assert r.metrics is not None and r.metrics.makespan == 6
    assert starts(r) == {"a": 0, "b": 3}


def test_end_to_end_with_weighted_completion() -> None:
    # b.end >= a.end + 2 with a of length 5: a ends at 5 at best, b at 7; sum 12 (vs 6 free).
    a5 = {"id": "a", "party": "A", "duration": 5}
    b1 = {"id": "b", "party": "B", "duration": 1}
    objective = {"terms": [{"metric": "weighted_completion"}]}
    r = solve_checked(scenario([a5, b1], [rule(to="end", min_lag=2)], objective=objective))
    assert r.metrics is not None and r.metrics.weighted_completion == 12
    assert starts(r) == {"a": 0, "b": 6}
    free = solve_checked(scenario([a5, b1], [rule(to="end", min_lag=2, enabled=False)],
                                  objective=objective))
    assert free.metrics is not None and free.metrics.weighted_completion == 6


def test_from_verified_uses_the_method_lag() -> None:
    # inspection: lag 2 -> a [0,1) verified at 3, b starts at 3: makespan 4.
    a = {"id": "a", "party": "A", "duration": 1, "verification": "inspection"}
    b = {"id": "b", "party": "B", "duration": 1}
    r = solve_checked(scenario([a, b], [rule(**{"from": "verified"})]))
    assert r.metrics is not None and r.metrics.makespan == 4
    assert starts(r) == {"a": 0, "b": 3}
    assert r.schedule[0].verified == 3


def test_from_verified_with_scenario_lag_override() -> None:
    # The scenario sets inspection lag 5: verified at 6, b at 6, makespan 7.
    a = {"id": "a", "party": "A", "duration": 1, "verification": "inspection"}
    b = {"id": "b", "party": "B", "duration": 1}
    r = solve_checked(scenario([a, b], [rule(**{"from": "verified"})],
                               verification_methods={"inspection": {"lag": 5}}))
    assert r.metrics is not None and r.metrics.makespan == 7
    assert starts(r) == {"a": 0, "b": 6}


def test_from_verified_with_concession_lag_override() -> None:
    # verification_lag 4 on the concession beats the method's 1 (ntm): b at 1 + 4 = 5.
    a = {"id": "a", "party": "A", "duration": 1, "verification": "ntm", "verification_lag": 4}
    b = {"id": "b", "party": "B", "duration": 1}
    r = solve_checked(scenario([a, b], [rule(**{"from": "verified"})]))
    assert starts(r) == {"a": 0, "b": 5}


def test_max_lag_pulls_the_earlier_concession_late() -> None:
    # a is pinned at 8; b before a with a.start - b.end in [0, 2]: b.end >= 6 -> b = 5.
    # weighted completion 9 + 6 = 15 (without max_lag b would end at 1: 10).
    a = {"id": "a", "party": "A", "duration": 1, "start": 8}
    b = {"id": "b", "party": "B", "duration": 1}
    objective = {"terms": [{"metric": "weighted_completion"}]}
    r = solve_checked(scenario([a, b], [rule(before="b", after="a", max_lag=2)],
                               objective=objective))
    assert r.metrics is not None and r.metrics.weighted_completion == 15
    assert starts(r) == {"a": 8, "b": 5}
    free = solve_checked(scenario([a, b], [rule(before="b", after="a")], objective=objective))
    assert free.metrics is not None and free.metrics.weighted_completion == 10


def test_verified_to_end_window_with_negative_min_lag() -> None:
    # a pinned at 4, length 2, ntm lag 1: verified at 7. b.end in [7 - 2, 7] = [5, 7];
    # minimising completion puts b.end = 5, so b = 4. Sum 6 + 5 = 11.
    a = {"id": "a", "party": "A", "duration": 2, "start": 4, "verification": "ntm"}
    b = {"id": "b", "party": "B", "duration": 1}
    objective = {"terms": [{"metric": "weighted_completion"}]}
    r = solve_checked(scenario(
        [a, b], [rule(**{"from": "verified"}, to="end", min_lag=-2, max_lag=0)],
        objective=objective))
    assert r.metrics is not None and r.metrics.weighted_completion == 11
    assert starts(r) == {"a": 4, "b": 4}


def test_exact_lag_with_equal_min_and_max() -> None:
    # b.start - a.start == 4 exactly, and b may not start before 6: a = 2, b = 6.
    a = {"id": "a", "party": "A", "duration": 1}
    b = {"id": "b", "party": "B", "duration": 1, "earliest_start": 6}
    objective = {"terms": [{"metric": "makespan"}, {"metric": "weighted_completion"}]}
    r = solve_checked(scenario([a, b], [rule(**{"from": "start"}, min_lag=4, max_lag=4)],
                               objective=objective))
    assert starts(r) == {"a": 2, "b": 6}


def test_chain_of_precedences() -> None:
    # a -> b -> c end to start: 2 + 3 + 1 = 6.
    c = {"id": "c", "party": "A", "duration": 1}
    rules = [rule(), {"id": "r2", "kind": "precedence", "before": "b", "after": "c"}]
    r = solve_checked(scenario([A2, B3, c], rules))
    assert r.metrics is not None and r.metrics.makespan == 6
    assert starts(r) == {"a": 0, "b": 2, "c": 5}


def test_ignored_when_a_side_is_absent() -> None:
    # Both present would need b.start >= 1 + 30 > horizon: the optional a is left out.
    a = {"id": "a", "party": "A", "duration": 1, "value": 3, "optional": True}
    b = {"id": "b", "party": "B", "duration": 1}
    r = solve_checked(scenario([a, b], [rule(min_lag=30)],
                               objective={"terms": [{"metric": "excluded_value"}]}))
    assert r.metrics is not None and r.metrics.excluded_value == 3
    assert starts(r) == {"a": None, "b": 0}


def test_infeasible_when_required_lag_exceeds_horizon() -> None:
    a = {"id": "a", "party": "A", "duration": 1}
    b = {"id": "b", "party": "B", "duration": 1}
    r = solve_checked(scenario([a, b], [rule(min_lag=30)]))
    assert r.status == "infeasible"
    assert r.conflict is not None and r.conflict.rules == ["r"]
