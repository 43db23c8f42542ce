"""verification_delay (SPEC §5.3): a cap that holds even if every verification is k late."""

from __future__ import annotations

from typing import Any

import pytest

from models import parse_scenario
from optimizer.solving.grain import grain
from tests.conftest import solve_checked, starts

# b: B's step, 2 long, public (lag 0): credits A 8 at 2. Costs B nothing (risk 0).
# a: A's step, risk 6, 1 long, never verified (B is never credited).
B_STEP = {"id": "b", "party": "B", "duration": 2, "value": 8, "cost": 0,
          "reversibility": "irreversible", "verification": "public"}
A_STEP = {"id": "a", "party": "A", "duration": 1, "value": 1, "risk": 6, "verification": "none"}


def scenario(*caps: dict[str, Any], b: dict[str, Any] = B_STEP, **extra: Any) -> dict[str, Any]:
    return {"horizon": 20, "parties": [{"id": "A"}, {"id": "B"}],
            "concessions": [b, A_STEP], "rules": list(caps), **extra}


def cap(max_: int, delay: int = 0, rid: str = "cap") -> dict[str, Any]:
    return {"id": rid, "kind": "exposure", "parties": ["A"], "max": max_,
            "verification_delay": delay}


@pytest.mark.parametrize("k", [0, 1, 3, 7])
def test_a_delayed_cap_waits_k_longer(k: int) -> None:
    # A may never be exposed: a starts once b's credit counts, at 2 + k; ends at 3 + k.
    r = solve_checked(scenario(cap(0, k)))
    assert r.status == "optimal"
    assert starts(r) == {"b": 0, "a": 2 + k}
    assert r.metrics is not None and r.metrics.makespan == 3 + k


def test_metrics_and_the_ledger_use_the_scheduled_verification() -> None:
    r = solve_checked(scenario(cap(0, 3)))
    # Credit at b's scheduled verification (2), not at 2 + 3; a's risk from 5.
    assert r.ledger["A"].points == [(0, 0, 0, 0, 0), (2, 0, 8, 0, -8), (5, 0, 8, 6, -2),
                                    (6, 1, 8, 6, -2)]
    assert r.ledger["B"].points == [(0, 0, 0, 0, 0), (2, 8, 0, 0, 0)]
    assert r.exposure["A"] == [(0, 0), (2, -8), (5, -2)]
    assert next(s.verified for s in r.schedule if s.id == "b") == 2


def test_each_delay_has_its_own_limit() -> None:
    # A loose delayed cap (6 with delay 3: always true) beside a tight prompt one (0):
    # the prompt one decides, a at 2.
    r = solve_checked(scenario(cap(6, 3, "late"), cap(0, 0, "prompt")))
    assert starts(r)["a"] == 2
    # Tighten the delayed one to 5: before 2 + 3 A would be at 6 > 5, so a waits to 5.
    r = solve_checked(scenario(cap(5, 3, "late"), cap(0, 0, "prompt")))
    assert starts(r)["a"] == 5


def test_an_optional_credit_source_counts_late_too() -> None:
    # b optional: the solver must include it (a is required and needs its credit).
    r = solve_checked(scenario(cap(0, 4), b={**B_STEP, "optional": True}))
    assert starts(r) == {"b": 0, "a": 6}


def test_method_none_never_earns_credit_whatever_the_delay() -> None:
    # b unverified: no credit ever, so A's 6 breaks a cap of 5 with or without a delay.
    b_none = {**B_STEP, "verification": "none"}
    for k in (0, 2):
        assert solve_checked(scenario(cap(5, k), b=b_none)).status == "infeasible"
        r = solve_checked(scenario(cap(6, k), b=b_none))
        assert r.status == "optimal" and starts(r) == {"b": 0, "a": 0}


def test_the_delay_is_a_time_figure_of_the_grain() -> None:
    # Everything in whole 30-day months: the grain is 30 with a delay of 60, 15 with 45.
    def days(delay: int) -> dict[str, Any]:
        return scenario(cap(0, delay), b={**B_STEP, "duration": 60},
                        time_unit="day", horizon=600) | {
            "concessions": [{**B_STEP, "duration": 60}, {**A_STEP, "duration": 30}]}

    assert grain(parse_scenario({"format": "roadmap/v1", **days(60)}, "<t>")) == 30
    assert grain(parse_scenario({"format": "roadmap/v1", **days(45)}, "<t>")) == 15
    for delay in (60, 45):
        r = solve_checked(days(delay))
        assert r.status == "optimal" and starts(r) == {"b": 0, "a": 60 + delay}
        assert r.ledger["A"].points[-1] == (90 + delay, 1, 8, 6, -2)
