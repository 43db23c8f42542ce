"""exposure (SPEC §2.2, §2.3): exposure_p(t) <= max for each listed party and time."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked, starts

# a: A's concession, cost 10 irreversible -> risk 10; declaration -> B gets credit 2.
# b: B's concession, cost 10 irreversible -> risk 10; public -> A gets credit 10 at b.end.
A = {"id": "a", "party": "A", "duration": 1, "value": 10, "reversibility": "irreversible"}
B = {"id": "b", "party": "B", "duration": 1, "value": 10, "reversibility": "irreversible",
     "verification": "public"}


def scenario(concessions: list[dict[str, Any]], rules: list[dict[str, Any]],
             **extra: Any) -> dict[str, Any]:
    return {"horizon": 20, "parties": [{"id": "A"}, {"id": "B"}],
            "concessions": concessions, "rules": rules, **extra}


def cap(max_: int, parties: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": "cap", "kind": "exposure", "max": max_, **fields}
    if parties is not None:
        out["parties"] = parties
    return out


def test_cap_on_one_party_orders_the_moves() -> None:
    # A may never be exposed: a starts only once b (ending at 1) is verified: a = 1.
    # A: +10 and -10 both at t=1 -> flat 0. B: +10 at 0, -2 at a.end = 2.
    r = solve_checked(scenario([A, B], [cap(0, ["A"])]))
    assert r.metrics is not None and r.metrics.makespan == 2
    assert starts(r) == {"a": 1, "b": 0}
    assert r.exposure == {"A": [(0, 0)], "B": [(0, 10), (2, 8)]}
    assert r.metrics.peak_exposure == 10


def test_disabled_cap_is_ignored() -> None:
    r = solve_checked(scenario([A, B], [cap(0, ["A"], enabled=False)]))
    assert r.metrics is not None and r.metrics.makespan == 1
    assert starts(r) == {"a": 0, "b": 0}


def test_cap_on_both_parties_can_be_infeasible() -> None:
    # A needs b verified first (10 - 10 <= 8) and B needs a first (10 - 2 <= 8).
    r = solve_checked(scenario([A, B], [cap(8)]))
    assert r.status == "infeasible"
    assert r.conflict is not None and r.conflict.rules == ["cap"]


def test_cap_listing_both_parties_explicitly() -> None:
    r = solve_checked(scenario([A, B], [cap(8, ["A", "B"])]))
    assert r.status == "infeasible"


def test_cap_that_does_not_bind() -> None:
    r = solve_checked(scenario([A, B], [cap(10)]))
    assert r.metrics is not None and r.metrics.makespan == 1


def test_verification_lag_delays_the_credit() -> None:
    # b inspected: credit 10 at b.end + 2 = 3, so a starts at 3: makespan 4.
    b = {**B, "verification": "inspection"}
    r = solve_checked(scenario([A, b], [cap(0, ["A"])]))
    assert r.metrics is not None and r.metrics.makespan == 4
    assert starts(r) == {"a": 3, "b": 0}


def test_credit_override() -> None:
    # b's credit to A is fixed at 3: A's level at a.start is at best 10 - 3 = 7.
    b = {**B, "credit": 3}
    r = solve_checked(scenario([A, b], [cap(7, ["A"])]))
    assert r.metrics is not None and r.metrics.makespan == 2
    assert starts(r) == {"a": 1, "b": 0}
    assert solve_checked(scenario([A, b], [cap(6, ["A"])])).status == "infeasible"


def test_risk_override() -> None:
    # a's risk overridden to 2: a cap of 2 lets both start at once.
    a = {**A, "risk": 2}
    r = solve_checked(scenario([a, B], [cap(2, ["A"])]))
    assert r.metrics is not None and r.metrics.makespan == 1
    assert r.exposure["A"] == [(0, 2), (1, -8)]


def test_reversibility_lowers_the_risk() -> None:
    # reversible: risk floor(10 * 25 / 100) = 2 fits under a cap of 2 at once.
    a = {**A, "reversibility": "reversible"}
    r = solve_checked(scenario([a, B], [cap(2, ["A"])]))
    assert r.metrics is not None and r.metrics.makespan == 1
    costly = {**A, "reversibility": "costly"}   # risk 6 > 2: must wait for b
    r = solve_checked(scenario([costly, B], [cap(2, ["A"])]))
    assert r.metrics is not None and r.metrics.makespan == 2


def test_unverified_concession_earns_no_credit() -> None:
    # With b unverifiable A never gets credit: the optional a must stay out (excluded 10).
    a = {**A, "optional": True}
    b = {**B, "verification": "none"}
    r = solve_checked(scenario([a, b], [cap(0, ["A"])],
                               objective={"terms": [{"metric": "excluded_value"}]}))
    assert r.metrics is not None and r.metrics.excluded_value == 10
    assert starts(r) == {"a": None, "b": 0}


def test_subset_of_three_parties() -> None:
    # C's c (risk 5) waits for A's public a (credit 5 to C); B's unverified d (risk 100)
    # gives C no credit and B itself is not capped.
    parties = [{"id": "A"}, {"id": "B"}, {"id": "C"}]
    a = {"id": "a", "party": "A", "duration": 2, "value": {"C": 5}, "verification": "public"}
    c = {"id": "c", "party": "C", "duration": 1, "value": {"A": 5},
         "reversibility": "irreversible"}
    d = {"id": "d", "party": "B", "duration": 1, "value": 50, "reversibility": "irreversible",
         "verification": "none"}
    r = solve_checked(scenario([a, c, d], [cap(0, ["C"])], parties=parties))
    assert r.metrics is not None and r.metrics.makespan == 3
    assert starts(r) == {"a": 0, "c": 2, "d": 0}
    assert r.metrics.peak_exposure == 100     # B's 50 + 50, uncapped
