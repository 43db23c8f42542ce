"""SPEC §5.5 bullet by bullet, on small roadmaps with hand-checked optima.

Every solve goes through the checker (``solve_checked``), whose progress
checks recompute ``broken`` from the SPEC's definition on their own.
"""

from __future__ import annotations

from typing import Any

from models import SolveOptions
from optimizer import solve
from optimizer.check import check
from tests.conftest import scenario_from, solve_checked, starts


def two_party(concessions: list[dict[str, Any]], progress: dict[str, Any] | None,
              rules: list[dict[str, Any]] | None = None, horizon: int = 30,
              objective: list[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": "roadmap/v1", "name": "progress", "horizon": horizon,
        "parties": [{"id": "A"}, {"id": "B"}], "concessions": concessions,
        "rules": rules or [],
        "objective": {"terms": [{"metric": m} for m in (objective or ["makespan"])]},
    }
    if progress is not None:
        data["progress"] = progress
    return data


def row(result: Any, cid: str) -> Any:
    return next(s for s in result.schedule if s.id == cid)


# -- done steps, verification, reversal -----------------------------------------
def test_done_step_is_fixed_as_recorded_whatever_its_duration() -> None:
    r = solve_checked(two_party(
        [{"id": "a", "party": "A", "duration": 2, "earliest_start": 3, "latest_end": 5},
         {"id": "b", "party": "B", "duration": 1}],
        {"as_of": 6, "steps": [{"id": "a", "start": 1, "end": 6}]}))
    assert (row(r, "a").start, row(r, "a").end) == (1, 6)
    assert row(r, "b").start == 6 and r.metrics is not None and r.metrics.makespan == 7
    fields = {(b.get("concession"), b.get("field")) for b in r.broken or []}
    assert fields == {("a", "earliest_start"), ("a", "latest_end"), ("a", "duration")}


REVERSAL = [
    # a: A's public step, credit 10 to B from its end; b: B's step, risk 10.
    {"id": "a", "party": "A", "duration": 1, "value": 10, "verification": "public",
     "reversibility": "reversible", "cost": 0},
    {"id": "b", "party": "B", "duration": 1, "value": 0, "risk": 10},
    {"id": "c", "party": "A", "duration": 2, "value": 10, "verification": "public", "cost": 0},
]
CAP_B = [{"id": "cap_b", "kind": "exposure", "parties": ["B"], "max": 5}]


def test_reversed_credit_is_gone_from_its_date() -> None:
    kept = solve_checked(two_party(REVERSAL, {"as_of": 4, "steps": [
        {"id": "a", "start": 0, "end": 1}]}, CAP_B))
    # a's credit still counts: b may start at once, c alongside: makespan 4 + 2.
    assert kept.metrics is not None and kept.metrics.makespan == 6
    assert starts(kept)["b"] == 4
    gone = solve_checked(two_party(REVERSAL, {"as_of": 4, "steps": [
        {"id": "a", "start": 0, "end": 1, "reversed": 3}]}, CAP_B))
    # From 3 on B holds no credit: b waits for c's credit at 6; makespan 7.
    assert gone.metrics is not None and gone.metrics.makespan == 7
    assert starts(gone) == {"a": 0, "b": 6, "c": 4}
    assert row(gone, "a").reversed == 3 and row(kept, "a").reversed is None
    assert gone.exposure["B"] == [(0, 0), (1, -10), (3, 0)]
    assert "reversed" in gone.to_dict()["schedule"][0]
    assert "reversed" not in kept.to_dict()["schedule"][0]


VERIFIED = [
    {"id": "a", "party": "A", "duration": 1, "value": 10, "verification": "inspection"},
    {"id": "b", "party": "B", "duration": 1},
]
AFTER_A = [{"id": "a_then_b", "kind": "precedence", "before": "a", "after": "b",
            "from": "verified", "min_lag": 3}]


def test_verified_time_replaces_end_plus_lag() -> None:
    default = solve_checked(two_party(VERIFIED, {"as_of": 5, "steps": [
        {"id": "a", "start": 0, "end": 1}]}, AFTER_A))
    assert row(default, "a").verified == 3 and starts(default)["b"] == 6
    late = solve_checked(two_party(VERIFIED, {"as_of": 5, "steps": [
        {"id": "a", "start": 0, "end": 1, "verified": 5}]}, AFTER_A))
    assert row(late, "a").verified == 5 and starts(late)["b"] == 8
    assert late.metrics is not None and late.metrics.makespan == 9


def test_refused_verification_keeps_a_required_successor_out() -> None:
    data = two_party(VERIFIED, {"as_of": 5, "steps": [
        {"id": "a", "start": 0, "end": 1, "verified": False}]}, AFTER_A)
    r = solve_checked(data)
    assert r.status == "infeasible" and r.broken == []
    # The conflict names the rule and the successor's presence.
    assert r.conflict is not None and r.conflict.rules == ["a_then_b"]
    assert [d.spec_dict() for d in r.conflict.demands] == [{"concession": "b",
                                                            "field": "required"}]
    data["concessions"][1]["optional"] = True
    r = solve_checked(data)
    assert r.status == "optimal" and not row(r, "b").present
    assert row(r, "a").verified is None
    assert r.exposure["B"] == [(0, 0)]     # refused: no credit ever


def test_refused_verification_with_a_recorded_successor_is_broken() -> None:
    r = solve_checked(two_party(VERIFIED, {"as_of": 5, "steps": [
        {"id": "a", "start": 0, "end": 1, "verified": False},
        {"id": "b", "start": 2, "end": 3}]}, AFTER_A))
    assert r.status == "optimal"
    assert [b.get("rule") for b in r.broken or []] == ["a_then_b"]


# -- steps under way ----------------------------------------------------------------
def test_under_way_step_past_its_maximum_duration() -> None:
    data = two_party(
        [{"id": "a", "party": "A", "duration": {"min": 2, "max": 3}, "latest_end": 4},
         {"id": "b", "party": "B", "duration": 1}],
        {"as_of": 6, "steps": [{"id": "a", "start": 0}]},
        [{"id": "a_then_b", "kind": "precedence", "before": "a", "after": "b"}])
    r = solve_checked(data)
    # Under way since 0 and past its maximum of 3: it ends at as_of at the earliest.
    assert (row(r, "a").start, row(r, "a").end) == (0, 6)
    assert starts(r)["b"] == 6 and r.metrics is not None and r.metrics.makespan == 7
    fields = {(b.get("concession"), b.get("field")) for b in r.broken or []}
    assert fields == {("a", "duration"), ("a", "latest_end")}


def test_under_way_latest_end_binds_when_the_record_allows_it() -> None:
    data = two_party(
        [{"id": "a", "party": "A", "duration": {"min": 2, "max": 9}, "latest_end": 7},
         {"id": "b", "party": "B", "duration": 1}],
        {"as_of": 4, "steps": [{"id": "a", "start": 3}]},
        [{"id": "b_with_a_end", "kind": "precedence", "before": "b", "after": "a",
          "from": "start", "to": "end", "min_lag": 4}],
        objective=["weighted_completion"])
    r = solve_checked(data)
    # a must end by 7 and at least 4 after b starts (b >= 4): b at 4, a ends at... 8 > 7.
    assert r.status == "infeasible"
    data["concessions"][0]["latest_end"] = 8
    r = solve_checked(data)
    assert row(r, "a").end == 8 and starts(r)["b"] == 4 and r.broken == []


# -- rules the past broke ------------------------------------------------------------
def test_reciprocity_window_the_past_broke_is_listed_and_the_rest_planned() -> None:
    r = solve_checked(two_party(
        [{"id": "a", "party": "A", "duration": 1},
         {"id": "b", "party": "B", "duration": 2},
         {"id": "c", "party": "A", "duration": 1}],
        {"as_of": 5, "steps": [{"id": "a", "start": 0, "end": 1}]},
        [{"id": "sync", "kind": "reciprocity", "a": "a", "b": "b", "max_gap": 2},
         {"id": "b_then_c", "kind": "precedence", "before": "b", "after": "c", "min_lag": 1}]))
    assert [b.get("rule") for b in r.broken or []] == ["sync"]
    assert starts(r) == {"a": 0, "b": 5, "c": 8}


def test_reciprocity_still_reachable_is_enforced() -> None:
    r = solve_checked(two_party(
        [{"id": "a", "party": "A", "duration": 1},
         {"id": "b", "party": "B", "duration": 2, "earliest_start": 9}],
        {"as_of": 3, "steps": [{"id": "a", "start": 2, "end": 3}]},
        [{"id": "sync", "kind": "reciprocity", "a": "a", "b": "b", "max_gap": 2}]))
    # b could start at 3 or 4 (within 2 of a): the window, not the record, forbids it.
    assert r.status == "infeasible" and r.broken == []


def test_exclusive_both_done_is_broken() -> None:
    r = solve_checked(two_party(
        [{"id": "a", "party": "A", "duration": 1, "optional": True},
         {"id": "b", "party": "B", "duration": 1, "optional": True}],
        {"as_of": 3, "steps": [{"id": "a", "start": 0, "end": 1},
                               {"id": "b", "start": 1, "end": 2}]},
        [{"id": "one", "kind": "exclusive", "concessions": ["a", "b"]}]))
    assert [b.get("rule") for b in r.broken or []] == ["one"]


# -- exposure caps ------------------------------------------------------------------
EXPOSURE = [
    {"id": "a", "party": "A", "duration": 1, "value": 10, "cost": 10},          # risk 6
    {"id": "c", "party": "A", "duration": 1, "value": 10, "cost": 10},          # risk 6
    {"id": "b", "party": "B", "duration": 2, "value": 10, "verification": "public"},
]
CAP_A = [{"id": "cap_a", "kind": "exposure", "parties": ["A"], "max": 3}]


def test_exposure_breach_before_as_of_is_listed_and_the_cap_binds_after() -> None:
    r = solve_checked(two_party(EXPOSURE, {"as_of": 2, "steps": [
        {"id": "a", "start": 0, "end": 1}]}, CAP_A))
    assert [b.get("rule") for b in r.broken or []] == ["cap_a"]
    # At c's start A's exposure is 6 + 6 - (10 once b is verified) = 2 <= 3: c waits for b.
    assert starts(r) == {"a": 0, "b": 2, "c": 4}
    assert r.metrics is not None and r.metrics.makespan == 5
    uncapped = solve_checked(two_party(EXPOSURE, {"as_of": 2, "steps": [
        {"id": "a", "start": 0, "end": 1}]}))
    assert uncapped.metrics is not None and uncapped.metrics.makespan == 4


def test_exposure_cap_never_checked_at_recorded_starts() -> None:
    # A's exposure after the record is 6 > 3, but A has nothing left to start.
    r = solve_checked(two_party(EXPOSURE[:1] + EXPOSURE[2:], {"as_of": 2, "steps": [
        {"id": "a", "start": 0, "end": 1}]}, CAP_A))
    assert r.status == "optimal" and starts(r)["b"] == 2
    assert r.metrics is not None and r.metrics.peak_exposure == 6


def test_exposure_cap_binds_at_own_start_even_of_a_riskless_step() -> None:
    data = two_party([*EXPOSURE, {"id": "z", "party": "A", "duration": 1, "risk": 0}],
                     {"as_of": 2, "steps": [{"id": "a", "start": 0, "end": 1},
                                            {"id": "c", "start": 1, "end": 2}]}, CAP_A)
    r = solve_checked(data)
    # 12 at risk; b's credit 10 at its end (4) brings it to 2: z starts at 4.
    assert starts(r)["z"] == 4


# -- resources ----------------------------------------------------------------------
def test_resources_hold_from_as_of_with_running_steps_counted() -> None:
    data = two_party(
        [{"id": "a", "party": "A", "duration": 1, "uses": {"r": 1}},
         {"id": "b", "party": "B", "duration": 1, "uses": {"r": 1}},
         {"id": "u", "party": "A", "duration": 4, "uses": {"r": 1}},
         {"id": "n", "party": "B", "duration": 1, "uses": {"r": 1}}],
        {"as_of": 2, "steps": [{"id": "a", "start": 0, "end": 1},
                               {"id": "b", "start": 0, "end": 1},
                               {"id": "u", "start": 1}]})
    data["resources"] = [{"id": "r", "capacity": 1}]
    r = solve_checked(data)
    # a and b overlapped before as_of (not checked); u runs to 5, so n waits.
    assert row(r, "u").end == 5 and starts(r)["n"] == 5


# -- the whole schedule ---------------------------------------------------------------
def test_nothing_starts_before_as_of_and_pins_before_it_are_infeasible() -> None:
    data = two_party([{"id": "a", "party": "A", "duration": 1, "start": 1}],
                     {"as_of": 3, "steps": []})
    assert solve_checked(data).status == "infeasible"
    data["concessions"][0]["optional"] = True
    r = solve_checked(data)
    assert not row(r, "a").present


def test_checker_rejects_a_result_that_moves_the_past() -> None:
    sc = scenario_from(two_party(REVERSAL, {"as_of": 4, "steps": [
        {"id": "a", "start": 0, "end": 1, "reversed": 3}]}, CAP_B))
    r = solve(sc, SolveOptions(workers=1, time_limit_s=10))
    assert check(sc, r) == []
    moved = r.model_copy(deep=True)
    row(moved, "a").start, row(moved, "a").end = 1, 2
    assert any("recorded" in e for e in check(sc, moved))
    early = r.model_copy(deep=True)
    row(early, "c").start, row(early, "c").end = 2, 4
    assert any("before as_of" in e for e in check(sc, early))
    wrong = r.model_copy(deep=True)
    wrong.broken = [{"rule": "cap_b", "message": "x"}]
    assert any("broken lists" in e for e in check(sc, wrong))
