"""phase_imbalance (SPEC §2.4): max over phases and party pairs of the delivered gap."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked

PHASES = [{"id": "P1", "max_length": 2}, {"id": "P2"}]
IMB = {"terms": [{"metric": "phase_imbalance"}, {"metric": "makespan"}]}


def scenario(concessions: list[dict[str, Any]], parties: list[str] = ["A", "B"],  # noqa: B006
             **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"horizon": 20, "parties": [{"id": p} for p in parties],
                            "phases": PHASES, "concessions": concessions, "objective": IMB}
    data.update(extra)
    return data


def item(cid: str, party: str, total: int, to: str, **fields: Any) -> dict[str, Any]:
    return {"id": cid, "party": party, "duration": 1, "value": {to: total}, **fields}


def test_waits_for_the_late_party() -> None:
    # b cannot start before 3 (P2); a joins it in P2 for imbalance 0. Makespan 4 still.
    r = solve_checked(scenario([item("a", "A", 5, "B"), item("b", "B", 5, "A",
                                                             earliest_start=3)]))
    assert r.metrics is not None
    assert (r.metrics.phase_imbalance, r.metrics.makespan) == (0, 4)
    assert [s.phase for s in r.schedule] == ["P2", "P2"]


def test_without_the_objective_the_gap_shows() -> None:
    # Makespan then weighted completion: a at 0 in P1, b at 3: P1 gap 5.
    objective = {"terms": [{"metric": "makespan"}, {"metric": "weighted_completion"}]}
    r = solve_checked(scenario([item("a", "A", 5, "B"), item("b", "B", 5, "A",
                                                             earliest_start=3)],
                               objective=objective))
    assert r.metrics is not None and r.metrics.phase_imbalance == 5


def test_unequal_totals_leave_a_floor() -> None:
    # Totals 5 and 3: the last phase differs by 2 whatever the schedule.
    r = solve_checked(scenario([item("a", "A", 5, "B"), item("b", "B", 3, "A")]))
    assert r.metrics is not None and r.metrics.phase_imbalance == 2
    assert r.objective[0].value == 2 and r.objective[0].bound == 2


def test_three_parties_worst_pair() -> None:
    # Totals 4, 6, 5 all in one phase: worst pair B-A = 2.
    items = [item("a", "A", 4, "B"), item("b", "B", 6, "C"), item("c", "C", 5, "A")]
    r = solve_checked(scenario(items, parties=["A", "B", "C"]))
    assert r.metrics is not None and r.metrics.phase_imbalance == 2


def test_single_party_is_zero() -> None:
    r = solve_checked(scenario([{"id": "a", "party": "A", "duration": 1}], parties=["A"]))
    assert r.metrics is not None and r.metrics.phase_imbalance == 0


def test_split_delivery_balances_each_phase() -> None:
    # A has 2 + 2, B has 4 but only from 3 on (P2). One of A's items alone in P1 would
    # give a gap of 2; putting both in P2 gives 0: imbalance 0, makespan 4.
    items = [item("a1", "A", 2, "B"), item("a2", "A", 2, "B"),
             item("b", "B", 4, "A", earliest_start=3)]
    r = solve_checked(scenario(items))
    assert r.metrics is not None
    assert (r.metrics.phase_imbalance, r.metrics.makespan) == (0, 4)


def test_metric_covers_all_parties_not_only_the_balanced_ones() -> None:
    # phase_balance keeps A and B level; C's 9 in the end still makes the metric 9 - 4 = 5.
    items = [item("a", "A", 4, "B"), item("b", "B", 4, "A"), item("c", "C", 9, "A")]
    rule = {"id": "bal", "kind": "phase_balance", "parties": ["A", "B"], "tolerance": 0}
    r = solve_checked(scenario(items, parties=["A", "B", "C"], rules=[rule]))
    assert r.metrics is not None and r.metrics.phase_imbalance == 5
