"""makespan (SPEC §2.4): max e_i over present concessions, 0 if none."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked, starts


def scenario(concessions: list[dict[str, Any]], rules: list[dict[str, Any]] | None = None,
             **extra: Any) -> dict[str, Any]:
    return {"horizon": 30, "parties": [{"id": "A"}, {"id": "B"}],
            "concessions": concessions, "rules": rules or [], **extra}


def c(cid: str, duration: int | dict[str, int], party: str = "A",
      **fields: Any) -> dict[str, Any]:
    return {"id": cid, "party": party, "duration": duration, **fields}


def test_parallel_concessions() -> None:
    r = solve_checked(scenario([c("a", 4), c("b", 2, "B"), c("c", 3)]))
    assert r.metrics is not None and r.metrics.makespan == 4
    assert r.objective[0].metric == "makespan" and r.objective[0].value == 4
    assert r.objective[0].bound == 4


def test_zero_when_nothing_is_present() -> None:
    r = solve_checked(scenario([c("a", 4, optional=True), c("b", 2, "B", optional=True)]))
    assert r.metrics is not None and r.metrics.makespan == 0
    assert starts(r) == {"a": None, "b": None}
    assert r.exposure == {"A": [(0, 0)], "B": [(0, 0)]}


def test_single_resource_serialises() -> None:
    # Capacity 1, three items of 2 each: 6.
    items = [c(x, 2, uses={"team": 1}) for x in "abc"]
    r = solve_checked(scenario(items, resources=[{"id": "team", "capacity": 1}]))
    assert r.metrics is not None and r.metrics.makespan == 6


def test_cumulative_capacity() -> None:
    # Capacity 2: a and b (1 each) run together for 2, then c (needs 2) for 1: 3.
    items = [c("a", 2, uses={"r": 1}), c("b", 2, "B", uses={"r": 1}), c("c", 1, uses={"r": 2})]
    r = solve_checked(scenario(items, resources=[{"id": "r", "capacity": 2}]))
    assert r.metrics is not None and r.metrics.makespan == 3
    assert starts(r)["c"] in (0, 2)   # c alone, before or after the pair


def test_variable_duration_takes_the_minimum() -> None:
    r = solve_checked(scenario([c("a", {"min": 2, "max": 5}), c("b", 1, "B")]))
    assert r.metrics is not None and r.metrics.makespan == 2
    assert r.schedule[0].end == 2


def test_variable_duration_stretched_by_a_max_lag() -> None:
    # b pinned at 4 must start exactly when a ends (min 0, max 0 lag): a lasts 4, b ends 5.
    a = c("a", {"min": 2, "max": 5})
    b = c("b", 1, "B", start=4)
    rule = {"id": "r", "kind": "precedence", "before": "a", "after": "b", "max_lag": 0}
    r = solve_checked(scenario([a, b], [rule]))
    assert r.metrics is not None and r.metrics.makespan == 5
    assert (r.schedule[0].start, r.schedule[0].end) == (0, 4)


def test_earliest_start_and_pin() -> None:
    r = solve_checked(scenario([c("a", 2, earliest_start=7), c("b", 1, "B", start=3)]))
    assert r.metrics is not None and r.metrics.makespan == 9
    assert starts(r) == {"a": 7, "b": 3}


def test_phase_minimum_length_delays() -> None:
    # a may only start in P2 and P1 lasts at least 5: 5 + 2 = 7.
    phases = [{"id": "P1", "min_length": 5}, {"id": "P2"}]
    r = solve_checked(scenario([c("a", 2, phases=["P2"]), c("b", 1, "B")], phases=phases))
    assert r.metrics is not None and r.metrics.makespan == 7
    assert r.phases[0].end == 5


def test_optional_long_item_left_out() -> None:
    r = solve_checked(scenario([c("a", 9, optional=True), c("b", 1, "B")]))
    assert r.metrics is not None and r.metrics.makespan == 1
    assert r.metrics.excluded_value == 0   # value 0: nothing of value is lost


def test_makespan_on_a_shared_resource_is_proven_with_one_worker() -> None:
    """14 jobs of total duration 33 on a capacity-2 team: energy bound ceil(33/2) = 17,
    and 17 is reachable, so the optimum must be *proven* (status optimal), not just found."""
    durations = [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 2, 1]
    assert sum(durations) == 33
    result = solve_checked({
        "horizon": 40, "parties": [{"id": "A"}],
        "resources": [{"id": "team", "capacity": 2}],
        "concessions": [{"id": f"c{i}", "party": "A", "duration": d, "uses": {"team": 1}}
                        for i, d in enumerate(durations)],
        "objective": {"terms": [{"metric": "makespan"}]},
    })
    assert result.status == "optimal"
    assert result.metrics is not None and result.metrics.makespan == 17
    assert result.objective[0].bound == 17
