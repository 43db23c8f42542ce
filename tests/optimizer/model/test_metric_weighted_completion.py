"""weighted_completion (SPEC §2.4): sum of priority_i * e_i over present concessions."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked, starts

WC = {"terms": [{"metric": "weighted_completion"}]}


def scenario(concessions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"horizon": 30, "parties": [{"id": "A"}, {"id": "B"}],
                            "concessions": concessions, "objective": WC,
                            "resources": [{"id": "team", "capacity": 1}]}
    data.update(extra)
    return data


def job(cid: str, duration: int | dict[str, int], priority: int, **fields: Any) -> dict[str, Any]:
    return {"id": cid, "party": "A", "duration": duration, "priority": priority,
            "uses": {"team": 1}, **fields}


def test_smiths_rule_on_one_team() -> None:
    # One team: order by duration/priority: b (1/3), c (2/2), a (3/1).
    # Ends 1, 3, 6: 3*1 + 2*3 + 1*6 = 15.
    r = solve_checked(scenario([job("a", 3, 1), job("b", 1, 3), job("c", 2, 2)]))
    assert r.metrics is not None and r.metrics.weighted_completion == 15
    assert starts(r) == {"a": 3, "b": 0, "c": 1}
    assert r.objective[0].value == 15 and r.objective[0].bound == 15


def test_default_priority_is_one() -> None:
    # Shortest first: ends 1, 3, 6 -> 10.
    items = [{"id": x, "party": "A", "duration": d, "uses": {"team": 1}}
             for x, d in (("a", 3), ("b", 1), ("c", 2))]
    r = solve_checked(scenario(items))
    assert r.metrics is not None and r.metrics.weighted_completion == 10


def test_priority_zero_does_not_count() -> None:
    # a (priority 0) is pushed last; b, c: ends 1, 3 -> 3*1 + 2*3 = 9.
    r = solve_checked(scenario([job("a", 3, 0), job("b", 1, 3), job("c", 2, 2)]))
    assert r.metrics is not None and r.metrics.weighted_completion == 9
    assert starts(r)["a"] == 3


def test_absent_concessions_count_nothing() -> None:
    # All optional: leaving everything out gives 0.
    items = [job(x, 2, 5, optional=True) for x in "ab"]
    r = solve_checked(scenario(items))
    assert r.metrics is not None and r.metrics.weighted_completion == 0
    assert not any(s.present for s in r.schedule)


def test_after_excluded_value() -> None:
    # Keep every item first (values 1), then minimise: ends 2, 4 with priorities 5: 30.
    items = [job(x, 2, 5, optional=True, value=1) for x in "ab"]
    objective = {"terms": [{"metric": "excluded_value"}, {"metric": "weighted_completion"}]}
    r = solve_checked(scenario(items, objective=objective))
    assert r.metrics is not None and r.metrics.weighted_completion == 30
    assert [e.value for e in r.objective] == [0, 30]


def test_variable_duration_and_earliest_start() -> None:
    # a {2..4} from 3: ends 5; b 1 at 0 (priority 2): 1*5 + 2*1 = 7.
    items = [job("a", {"min": 2, "max": 4}, 1, earliest_start=3),
             job("b", 1, 2)]
    r = solve_checked(scenario(items))
    assert r.metrics is not None and r.metrics.weighted_completion == 7


def test_differs_from_makespan() -> None:
    # Makespan does not care about order; weighted completion runs the urgent one first.
    items = [job("a", 4, 1), job("b", 1, 10)]
    r = solve_checked(scenario(items, objective={"terms": [{"metric": "makespan"},
                                                           {"metric": "weighted_completion"}]}))
    assert r.metrics is not None
    assert (r.metrics.makespan, r.metrics.weighted_completion) == (5, 10 * 1 + 5)
    assert starts(r) == {"a": 1, "b": 0}
