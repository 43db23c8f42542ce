"""principals (SPEC §5.1): the default parties of caps, balance rules, peak terms and metrics."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked, starts

# a: A gives B 4, irreversible (risk 4), public: B is credited 4 at a.end.
# b: B gives A 3 at cost 2, irreversible (risk 2), public: A is credited 3 at b.end.
# c: the observer C gives A 6, irreversible (risk 6), never verified: nobody is credited,
#    so C's exposure is 6 from c's start on, whatever the schedule.
A = {"id": "a", "party": "A", "duration": 1, "value": {"B": 4}, "cost": 4,
     "reversibility": "irreversible", "verification": "public"}
B = {"id": "b", "party": "B", "duration": 1, "value": {"A": 3}, "cost": 2,
     "reversibility": "irreversible", "verification": "public"}
C = {"id": "c", "party": "C", "duration": 1, "value": {"A": 6}, "cost": 6,
     "reversibility": "irreversible", "verification": "none"}


def scenario(rules: list[dict[str, Any]] | None = None, principals: list[str] | None = None,
             terms: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "horizon": 10, "parties": [{"id": "A"}, {"id": "B"}, {"id": "C"}],
        "concessions": [A, B, C], "rules": rules or [],
        "objective": {"terms": terms or [{"metric": "makespan"}]}}
    if principals is not None:
        out["principals"] = principals
    return out


PEAK_FIRST = [{"metric": "peak_exposure"}, {"metric": "makespan"}]


def test_metrics_cover_the_principals_and_the_ledger_every_party() -> None:
    # All at 0 (makespan 1). A: +4 at 0, +3 credit at 1 -> 4, 1. B: +2 at 0, +4 at 1 -> 2, -2.
    # C: 6 from 0. Peak over the principals 4 (v1: 6, C's); delivered A 4, B 3, C 6:
    # imbalance over A-B 1 (v1: C-B 3).
    r = solve_checked(scenario(principals=["A", "B"]))
    assert r.metrics is not None
    assert starts(r) == {"a": 0, "b": 0, "c": 0}
    assert (r.metrics.peak_exposure, r.metrics.phase_imbalance) == (4, 1)
    assert {p: lg.peak for p, lg in r.ledger.items()} == {"A": 4, "B": 2, "C": 6}
    v1 = solve_checked(scenario())
    assert v1.metrics is not None
    assert (v1.metrics.peak_exposure, v1.metrics.phase_imbalance) == (6, 3)


def test_v1_and_v11_peak_objectives_have_different_optima() -> None:
    # v1.1 (principals A, B): peak 2 needs b first (B exposed 2 at 0, A credited 3 at 1),
    # then a at 1: A is at 4 - 3 = 1 at t=1; a verified at 2 takes B to -2. Makespan 2.
    # Anything with a at 0 leaves A at 4; b after a leaves B at 2 and A at 4 at 0.
    r = solve_checked(scenario(principals=["A", "B"], terms=PEAK_FIRST))
    assert [(o.metric, o.value, o.bound) for o in r.objective] == [
        ("peak_exposure", 2, 2), ("makespan", 2, 2)]
    assert starts(r)["a"] == 1 and starts(r)["b"] == 0
    # v1 (every party): C's 6 is unavoidable, so the peak stage is 6 and makespan 1.
    v1 = solve_checked(scenario(terms=PEAK_FIRST))
    assert [(o.metric, o.value) for o in v1.objective] == [("peak_exposure", 6), ("makespan", 1)]
    # Naming every party as a principal is v1 again.
    same = solve_checked(scenario(principals=["A", "B", "C"], terms=PEAK_FIRST))
    assert [(o.metric, o.value) for o in same.objective] == [("peak_exposure", 6),
                                                              ("makespan", 1)]


def test_exposure_cap_defaults_to_the_principals() -> None:
    cap = {"id": "cap", "kind": "exposure", "max": 2}
    # Principals A, B under a cap of 2: the peak-2 order (b at 0, a at 1), makespan 2.
    r = solve_checked(scenario([cap], principals=["A", "B"]))
    assert r.status == "optimal" and starts(r)["a"] == 1 and starts(r)["b"] == 0
    assert r.metrics is not None and r.metrics.makespan == 2
    # v1 default (every party): C's exposure 6 > 2 can never hold.
    assert solve_checked(scenario([cap])).status == "infeasible"
    # An explicit list may still name a non-principal.
    named = {**cap, "parties": ["C"]}
    assert solve_checked(scenario([named], principals=["A", "B"])).status == "infeasible"


def test_phase_balance_defaults_to_the_principals() -> None:
    bal = {"id": "bal", "kind": "phase_balance", "tolerance": 1}
    # A delivers 4, B 3: within 1 -> feasible with principals; C's 6 vs B's 3 is not.
    assert solve_checked(scenario([bal], principals=["A", "B"])).status == "optimal"
    assert solve_checked(scenario([bal])).status == "infeasible"


def test_peak_term_parties_still_override_the_principals() -> None:
    terms = [{"metric": "peak_exposure", "parties": ["C"]}, {"metric": "makespan"}]
    r = solve_checked(scenario(principals=["A", "B"], terms=terms))
    assert [(o.metric, o.value) for o in r.objective] == [("peak_exposure", 6), ("makespan", 1)]
    assert r.metrics is not None and r.metrics.peak_exposure == 4
