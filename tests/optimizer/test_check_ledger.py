"""The checker recomputes SPEC §5.1-5.4: principals' metrics, durable credit, delayed caps,
the ledger. Broken results are built from the hand-worked ``BASE`` of test_check.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from models import Result, Scenario
from optimizer.check import check
from tests.optimizer.test_check import BASE, RICH, _scenario, _sha


def variant(**top: Any) -> tuple[Scenario, dict[str, Any]]:
    """RICH with top-level fields replaced, and BASE re-signed for it."""
    sc = _scenario({**copy.deepcopy(RICH), **top})
    data = copy.deepcopy(BASE)
    data["scenario"]["sha256"] = _sha(sc)
    return sc, data


def errors(sc: Scenario, data: dict[str, Any]) -> list[str]:
    return check(sc, Result.from_dict(data))


def points(data: dict[str, Any], party: str) -> list[list[int]]:
    pts: list[list[int]] = data["ledger"][party]["points"]
    return pts


# -- the ledger (SPEC §5.4) -------------------------------------------------------------

SC, _ = variant()


@pytest.mark.parametrize("breaks, fragment", [
    (lambda d: d["ledger"]["DPRK"].update(peak=6), "ledger DPRK: peak 6, expected 7"),
    (lambda d: d["ledger"]["ROK"].update(peak=-15), "ledger ROK: peak -15, expected 0"),
    (lambda d: points(d, "US")[2].__setitem__(1, 11),
     "ledger US: point at t=2 is [2, 11, 0, 4, 4], expected [2, 10, 0, 4, 4]"),
    (lambda d: points(d, "US")[3].__setitem__(4, 1), "ledger US: point at t=3"),
    (lambda d: points(d, "DPRK").pop(3), "ledger DPRK: missing point at t=6"),
    (lambda d: points(d, "DPRK").insert(2, [2, 8, 5, 4, -1]),
     "ledger DPRK: extra point [2, 8, 5, 4, -1]"),
    (lambda d: points(d, "ROK").reverse(), "not strictly increasing"),
    (lambda d: d["ledger"].pop("ROK"), "ledger is missing party 'ROK'"),
    (lambda d: d["ledger"].update(UN={"peak": 0, "points": [[0, 0, 0, 0, 0]]}),
     "ledger has unknown party 'UN'"),
])
def test_broken_ledgers_are_caught(breaks: Any, fragment: str) -> None:
    data = copy.deepcopy(BASE)
    assert errors(SC, data) == []
    breaks(data)
    got = errors(SC, data)
    assert any(fragment in e for e in got), got


def test_a_ledger_point_where_nothing_changes_is_extra() -> None:
    data = copy.deepcopy(BASE)
    points(data, "ROK").insert(1, [0, 0, 0, 0, 0])   # t = 0 twice
    assert any("not strictly increasing" in e for e in errors(SC, data))
    data = copy.deepcopy(BASE)
    points(data, "US").insert(4, [5, 14, 5, 4, -1])  # same figures as at t=4
    assert any("extra point [5, 14, 5, 4, -1]" in e for e in errors(SC, data))


# -- principals (SPEC §5.1) ---------------------------------------------------------------

def test_metrics_over_the_principals() -> None:
    # US/DPRK delivered by phase: 10/8, 14/8, 28/24 -> imbalance 6 (18 counted ROK).
    sc, data = variant(principals=["US", "DPRK"])
    got = errors(sc, data)
    assert got == ["metric phase_imbalance is 18, expected 6"]
    data["metrics"]["phase_imbalance"] = 6
    assert errors(sc, data) == []
    # US alone: its peak is 4 (DPRK's 7 no longer counts), one principal has no pairs.
    sc, data = variant(principals=["US"])
    data["metrics"]["phase_imbalance"] = 0
    got = errors(sc, data)
    assert "metric peak_exposure is 7, expected 4" in got
    # The objective's peak term defaults to the principals too.
    assert "objective[1] (peak_exposure) value 7, expected 4" in got


def test_rule_defaults_follow_the_principals() -> None:
    # A cap of 4 with no parties: over the principals US (peak 4) it holds; over every
    # party DPRK's 7 breaks it.
    rules = [r for r in RICH["rules"] if r["id"] != "cap"] + [
        {"id": "cap", "kind": "exposure", "max": 4}]
    sc, data = variant(principals=["US"], rules=rules)
    assert not any("exposure cap" in e for e in errors(sc, data))
    sc, data = variant(rules=rules)
    assert any("exposure cap: DPRK exposure 7 at t=4 over cap 4" in e
               for e in errors(sc, data))


# -- durable credit (SPEC §5.2) -----------------------------------------------------------

def test_credit_keep_is_recomputed() -> None:
    # drills is reversible: kept at 0 %, DPRK and ROK receive nothing for it.
    sc, data = variant(credit_keep={"reversible": 0})
    got = errors(sc, data)
    assert "exposure curve of DPRK is [(0, 4), (1, -1), (4, 7), (11, 1)], expected " \
           "[(0, 4), (4, 12), (11, 6)]" in got
    assert any("ledger DPRK: point at t=1 is [1, 8, 5, 4, -1], expected [1, 8, 0, 4, 4]" in e
               for e in got)
    assert "metric peak_exposure is 7, expected 12" in got


# -- delayed caps (SPEC §5.3) -------------------------------------------------------------

def cap_with_delay(k: int) -> list[dict[str, Any]]:
    return [r if r["id"] != "cap" else {**r, "verification_delay": k} for r in RICH["rules"]]


def test_verification_delay_caps_are_checked_with_late_credit() -> None:
    # DPRK: risk 4 at 0 and 9 at 4; credit 5 (drills) at 1 + k, 1 (aid) at 4 + k.
    # k = 3: 4, then 8 at t=4 (drills' credit came at 4): within 10.
    sc, data = variant(rules=cap_with_delay(3))
    assert errors(sc, data) == []
    # k = 4: 13 at t=4, over the cap; the reported figures stay the scheduled ones.
    sc, data = variant(rules=cap_with_delay(4))
    assert errors(sc, data) == [
        "exposure cap: DPRK exposure 13 at t=4 with every verification 4 late over cap 10"]
