"""Objectives (SPEC §2.4): lexicographic stages, weighted sums, entries and metrics."""

from __future__ import annotations

from typing import Any

from models import Result
from tests.conftest import solve_checked, starts

METRICS = ("makespan", "weighted_completion", "peak_exposure", "excluded_value",
           "phase_imbalance")
# a is required (length 1); b is optional, long (5) and worth 3.
ITEMS = [{"id": "a", "party": "A", "duration": 1, "value": 2},
         {"id": "b", "party": "B", "duration": 5, "value": 3, "optional": True}]


def scenario(objective: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"horizon": 20, "parties": [{"id": "A"}, {"id": "B"}],
                            "concessions": ITEMS}
    if objective is not None:
        data["objective"] = objective
    data.update(extra)
    return data


def lex(*names: str) -> dict[str, Any]:
    return {"terms": [{"metric": n} for n in names]}


def entries(r: Result) -> list[tuple[str, int | None, int | None]]:
    return [(e.metric, e.value, e.bound) for e in r.objective]


def test_default_objective_is_makespan() -> None:
    r = solve_checked(scenario())
    assert entries(r) == [("makespan", 1, 1)]


def test_order_of_terms_matters() -> None:
    # makespan first: drop b (1, excluded 3); excluded first: keep b (0, makespan 5).
    r1 = solve_checked(scenario(lex("makespan", "excluded_value")))
    assert entries(r1) == [("makespan", 1, 1), ("excluded_value", 3, 3)]
    r2 = solve_checked(scenario(lex("excluded_value", "makespan")))
    assert entries(r2) == [("excluded_value", 0, 0), ("makespan", 5, 5)]


def test_each_stage_keeps_the_optimum_before_it() -> None:
    # Stage 1 keeps b; stage 2 makespan 5; stage 3 completion 1 + 5 = 6 with both at 0,
    # not the 1 it could reach by dropping b.
    r = solve_checked(scenario(lex("excluded_value", "makespan", "weighted_completion")))
    assert entries(r) == [("excluded_value", 0, 0), ("makespan", 5, 5),
                          ("weighted_completion", 6, 6)]
    assert starts(r) == {"a": 0, "b": 0}


def test_later_stage_breaks_ties_of_earlier_ones() -> None:
    # Makespan 6 is fixed by c; completion then starts a and b as early as possible.
    items = [{"id": "a", "party": "A", "duration": 1}, {"id": "b", "party": "B", "duration": 2},
             {"id": "c", "party": "A", "duration": 6}]
    r = solve_checked(scenario(lex("makespan", "weighted_completion"), concessions=items))
    assert entries(r) == [("makespan", 6, 6), ("weighted_completion", 9, 9)]
    assert starts(r) == {"a": 0, "b": 0, "c": 0}


def test_weighted_mode_picks_the_cheaper_sum() -> None:
    # 1*excluded + 1*makespan: drop b -> 3 + 1 = 4 beats keep b -> 0 + 5 = 5.
    objective = {"mode": "weighted", "terms": [{"metric": "excluded_value", "weight": 1},
                                               {"metric": "makespan", "weight": 1}]}
    r = solve_checked(scenario(objective))
    assert [(e.metric, e.value, e.bound, e.weight) for e in r.objective] == [
        ("excluded_value", 3, None, 1), ("makespan", 1, None, 1), ("weighted_sum", 4, 4, None)]


def test_weighted_mode_with_heavier_weight() -> None:
    # 2*excluded + 1*makespan: keep b -> 5 beats drop b -> 6 + 1 = 7.
    objective = {"mode": "weighted", "terms": [{"metric": "excluded_value", "weight": 2},
                                               {"metric": "makespan", "weight": 1}]}
    r = solve_checked(scenario(objective))
    assert r.objective[-1].metric == "weighted_sum"
    assert (r.objective[-1].value, r.objective[-1].bound) == (5, 5)
    assert starts(r)["b"] == 0


def test_weight_zero_term_is_reported_but_ignored() -> None:
    # Only makespan counts: b is dropped although excluded_value (weight 0) goes to 3.
    objective = {"mode": "weighted", "terms": [{"metric": "excluded_value", "weight": 0},
                                               {"metric": "makespan", "weight": 2}]}
    r = solve_checked(scenario(objective))
    assert [(e.metric, e.value) for e in r.objective] == [
        ("excluded_value", 3), ("makespan", 1), ("weighted_sum", 2)]


def test_peak_exposure_term_with_parties_is_reported_per_term() -> None:
    # a: risk floor(2*60/100) = 1 for A; b: risk 1 for B. With b dropped (makespan first),
    # A's peak is 1 and B's 0.
    objective = {"terms": [{"metric": "makespan"},
                           {"metric": "peak_exposure", "parties": ["B"]},
                           {"metric": "peak_exposure", "parties": ["A"]}]}
    r = solve_checked(scenario(objective))
    assert entries(r) == [("makespan", 1, 1), ("peak_exposure", 0, 0),
                          ("peak_exposure", 1, 1)]


def test_metrics_always_hold_all_five() -> None:
    # Objective makespan only; with b dropped: makespan 1, completion 1, peak 1 (A at 0),
    # excluded 3, imbalance 2 - 0 = 2.
    r = solve_checked(scenario(lex("makespan")))
    assert r.metrics is not None
    assert {m: getattr(r.metrics, m) for m in METRICS} == {
        "makespan": 1, "weighted_completion": 1, "peak_exposure": 1, "excluded_value": 3,
        "phase_imbalance": 2}


def test_optimal_status_has_every_bound_equal_to_its_value() -> None:
    r = solve_checked(scenario(lex("excluded_value", "peak_exposure", "makespan",
                                   "weighted_completion", "phase_imbalance")))
    assert r.status == "optimal"
    assert all(e.bound == e.value for e in r.objective)
    assert len(r.objective) == 5


def test_same_metric_twice_is_harmless() -> None:
    r = solve_checked(scenario(lex("makespan", "makespan")))
    assert entries(r) == [("makespan", 1, 1), ("makespan", 1, 1)]
