"""phase_balance (SPEC §2.2): cumulative delivered value per phase within tolerance."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked, starts

PARTIES = [{"id": "A"}, {"id": "B"}, {"id": "C"}]
PHASES = [{"id": "P1", "max_length": 2}, {"id": "P2"}]
# Each delivers a total value of 4. c cannot start before 3, so it is always in P2.
A = {"id": "a", "party": "A", "duration": 1, "value": {"B": 4}}
B = {"id": "b", "party": "B", "duration": 1, "value": {"A": 4}}
C = {"id": "c", "party": "C", "duration": 3, "value": {"A": 1, "B": 3}, "earliest_start": 3}
WC = {"terms": [{"metric": "weighted_completion"}]}


def scenario(rules: list[dict[str, Any]], concessions: list[dict[str, Any]] | None = None,
             **extra: Any) -> dict[str, Any]:
    return {"horizon": 20, "parties": PARTIES, "phases": PHASES,
            "concessions": concessions or [A, B, C], "rules": rules, "objective": WC, **extra}


def bal(tolerance: int, parties: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": "bal", "kind": "phase_balance", "tolerance": tolerance,
                           **fields}
    if parties is not None:
        out["parties"] = parties
    return out


def test_zero_tolerance_over_three_parties() -> None:
    # C delivers nothing in P1, so A and B must wait for P2 (>= 1): ends 2 + 2 + 6 = 10.
    r = solve_checked(scenario([bal(0)]))
    assert r.metrics is not None and r.metrics.weighted_completion == 10
    assert starts(r) == {"a": 1, "b": 1, "c": 3}
    assert r.metrics.phase_imbalance == 0
    assert [s.phase for s in r.schedule] == ["P2", "P2", "P2"]


def test_disabled_rule_is_ignored() -> None:
    # a and b at 0 in P1: 1 + 1 + 6 = 8; P1 delivered 4/4/0 -> imbalance 4.
    r = solve_checked(scenario([bal(0, enabled=False)]))
    assert r.metrics is not None and r.metrics.weighted_completion == 8
    assert r.metrics.phase_imbalance == 4


def test_tolerance_that_just_allows_it() -> None:
    r = solve_checked(scenario([bal(4)]))
    assert r.metrics is not None and r.metrics.weighted_completion == 8


def test_tolerance_one_below() -> None:
    r = solve_checked(scenario([bal(3)]))
    assert r.metrics is not None and r.metrics.weighted_completion == 10


def test_listed_parties_only() -> None:
    # Only A and C are balanced: a waits for P2, b stays at 0: 2 + 1 + 6 = 9.
    r = solve_checked(scenario([bal(0, ["A", "C"])]))
    assert r.metrics is not None and r.metrics.weighted_completion == 9
    assert starts(r) == {"a": 1, "b": 0, "c": 3}


def test_unequal_totals_are_infeasible() -> None:
    # b delivers 6 in total, the others 4: the last phase differs by 2 > 1.
    b = {**B, "value": {"A": 6}}
    r = solve_checked(scenario([bal(1)], [A, b, C]))
    assert r.status == "infeasible"
    assert r.conflict is not None and r.conflict.rules == ["bal"]


def test_optional_concession_left_out_to_balance() -> None:
    # Two parties: b2 (3) would put B at 7 vs A's 4; with tolerance 1 it must go.
    b2 = {"id": "b2", "party": "B", "duration": 1, "value": {"A": 3}, "optional": True}
    objective = {"terms": [{"metric": "excluded_value"}]}
    r = solve_checked(scenario([bal(1, ["A", "B"])], [A, B, b2], objective=objective))
    assert r.metrics is not None and r.metrics.excluded_value == 3
    free = solve_checked(scenario([bal(1, ["A", "B"], enabled=False)], [A, B, b2],
                                  objective=objective))
    assert free.metrics is not None and free.metrics.excluded_value == 0


def test_balance_across_three_phases() -> None:
    # Three phases of exactly 2: A has two items (total 2 each) and B one (total 4) that
    # cannot start before 4 (P3). Cumulative A vs B within 2: A may deliver only one
    # item before P3. Weighted completion: a1 at 0 (1), a2 at 4 (5), b at 4 (5) = 11.
    phases = [{"id": f"P{k}", "min_length": 2, "max_length": 2} for k in (1, 2, 3)]
    a1 = {"id": "a1", "party": "A", "duration": 1, "value": {"B": 2}}
    a2 = {"id": "a2", "party": "A", "duration": 1, "value": {"B": 2}}
    b = {"id": "b", "party": "B", "duration": 1, "value": {"A": 4}, "earliest_start": 4}
    r = solve_checked(scenario([bal(2, ["A", "B"])], [a1, a2, b], phases=phases))
    assert r.metrics is not None and r.metrics.weighted_completion == 11
    assert sorted(s.start or 0 for s in r.schedule) == [0, 4, 4]
