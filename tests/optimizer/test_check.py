"""The independent checker catches every kind of broken result (SPEC §2, §3)."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest

from models import Result, Scenario, parse_scenario
from optimizer.check import assert_valid, check, derive_terms
from tests.conftest import solve_checked

RICH: dict[str, Any] = {
    "name": "checker base",
    "horizon": 40,
    "parties": [{"id": "US"}, {"id": "DPRK"}, {"id": "ROK"}],
    "phases": [{"id": "P1", "min_length": 2, "max_length": 15}, {"id": "P2"}, {"id": "P3"}],
    "resources": [{"id": "insp", "capacity": 1}],
    "verification_methods": {"ntm": {"lag": 2}},
    "concessions": [
        {"id": "freeze", "party": "DPRK", "duration": 2, "value": 8,
         "verification": "inspection", "uses": {"insp": 1}},
        {"id": "icbm", "party": "DPRK", "duration": 1, "value": {"US": 6, "ROK": 2},
         "verification": "ntm"},
        {"id": "drills", "party": "US", "duration": 1, "value": 5, "verification": "public",
         "reversibility": "reversible"},
        {"id": "sanctions", "party": "US", "duration": {"min": 2, "max": 4}, "value": 7,
         "verification": "monitoring", "uses": {"insp": 1}, "earliest_start": 1},
        {"id": "aid", "party": "ROK", "duration": 2, "value": 4, "optional": True},
        {"id": "visit", "party": "ROK", "duration": 1, "value": 3, "optional": True,
         "verification": "none"},
        {"id": "talk", "party": "US", "duration": 1, "value": 2, "optional": True,
         "latest_end": 30, "phases": ["P2", "P3"]},
        {"id": "pledge", "party": "ROK", "duration": 1, "value": 1, "verification": "none"},
    ],
    "rules": [
        {"id": "verify_first", "kind": "precedence", "before": "freeze", "after": "sanctions",
         "from": "verified", "to": "start", "min_lag": 0, "max_lag": 6},
        {"id": "sync", "kind": "reciprocity", "a": "icbm", "b": "drills", "max_gap": 1},
        {"id": "pair", "kind": "reciprocity", "a": "aid", "b": "talk", "max_gap": 5},
        {"id": "core", "kind": "together", "concessions": ["freeze", "sanctions"]},
        {"id": "pkg", "kind": "together", "concessions": ["aid", "talk"]},
        {"id": "one_of", "kind": "exclusive", "concessions": ["aid", "visit"]},
        {"id": "needs", "kind": "requires", "if": "aid", "then": "talk"},
        {"id": "cap", "kind": "exposure", "parties": ["US", "DPRK"], "max": 10},
        {"id": "bal", "kind": "phase_balance", "parties": ["US", "DPRK"], "tolerance": 20},
        {"id": "off", "kind": "exclusive", "concessions": ["freeze", "icbm"], "enabled": False},
    ],
    "objective": {"terms": [{"metric": "excluded_value"}, {"metric": "peak_exposure"},
                            {"metric": "makespan"}]},
}


def _scenario(data: dict[str, Any]) -> Scenario:
    return parse_scenario({"format": "roadmap/v1", **copy.deepcopy(data)}, "<test>")


def _sha(sc: Scenario) -> str:
    text = json.dumps(sc.canonical_dict(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


SC = _scenario(RICH)


def _entry(cid: str, party: str, start: int | None, end: int | None, phase: str | None,
           verified: int | None) -> dict[str, Any]:
    return {"id": cid, "party": party, "present": start is not None, "start": start,
            "end": end, "phase": phase, "verified": verified}


# Worked out by hand (not taken from the engine):
# derived (SPEC §2.3): freeze total 16, risk 16*60% = 9, inspection credit 8 to each, lag 2;
# icbm total 8, risk 4, ntm 75% -> credit US 4, ROK 1, lag overridden to 2;
# drills total 10, reversible risk 2, public credit 5, lag 0; sanctions total 14, risk 8,
# monitoring credit 6, lag 1; aid total 8, risk 4, declaration credit 1; talk total 4,
# risk 2, credit 0; pledge total 2, risk 1, never verified; visit total 6 (absent).
# US:   0:+2 (drills)  2:+2 (talk)  3:-4 (icbm)  4:-1 (aid)  8:+8-8 (sanctions, freeze)
# DPRK: 0:+4 (icbm)    1:-5 (drills)  4:+9-1 (freeze, aid)  11:-6 (sanctions)
# ROK:  1:+1-5  2:+4  3:-1  8:-8  11:-6
# delivered US/DPRK/ROK by phase: P1 10/8/2, P2 14/8/10, P3 28/24/10 -> imbalance 18.
BASE: dict[str, Any] = {
    "format": "roadmap-result/v1",
    "scenario": {"name": "checker base", "sha256": _sha(SC)},
    "status": "optimal",
    "metrics": {"makespan": 10, "weighted_completion": 27, "peak_exposure": 7,
                "excluded_value": 6, "phase_imbalance": 18},
    "objective": [{"metric": "excluded_value", "value": 6, "bound": 6},
                  {"metric": "peak_exposure", "value": 7, "bound": 7},
                  {"metric": "makespan", "value": 10, "bound": 10}],
    "solver": {"name": "ortools-cp-sat", "version": "9.15", "wall_time_s": 0.1, "workers": 1,
               "seed": 0, "time_limit_s": 10},
    "phases": [{"id": "P1", "start": 0, "end": 2}, {"id": "P2", "start": 2, "end": 3},
               {"id": "P3", "start": 3, "end": 10}],
    "schedule": [
        _entry("freeze", "DPRK", 4, 6, "P3", 8),
        _entry("icbm", "DPRK", 0, 1, "P1", 3),
        _entry("drills", "US", 0, 1, "P1", 1),
        _entry("sanctions", "US", 8, 10, "P3", 11),
        _entry("aid", "ROK", 2, 4, "P2", 4),
        _entry("visit", "ROK", None, None, None, None),
        _entry("talk", "US", 2, 3, "P2", 3),
        _entry("pledge", "ROK", 1, 2, "P1", None),
    ],
    "exposure": {"US": [[0, 2], [2, 4], [3, 0], [4, -1]],
                 "DPRK": [[0, 4], [1, -1], [4, 7], [11, 1]],
                 "ROK": [[0, 0], [1, -4], [2, 0], [3, -1], [8, -9], [11, -15]]},
    "conflict": None,
    # SPEC §5.4, by hand: [t, delivered (value at end), received (credit at v), at_risk
    # (risk at start), exposure]. US delivers drills 10 at 1, talk 4 at 3, sanctions 14 at
    # 10 and receives icbm 4 at 3, aid 1 at 4, freeze 8 at 8; DPRK delivers icbm 8 at 1,
    # freeze 16 at 6 and receives drills 5 at 1, aid 1 at 4, sanctions 6 at 11; ROK
    # delivers pledge 2 at 2, aid 8 at 4 and receives drills 5 at 1, icbm 1 at 3,
    # freeze 8 at 8, sanctions 6 at 11.
    "ledger": {
        "US": {"peak": 4, "points": [[0, 0, 0, 2, 2], [1, 10, 0, 2, 2], [2, 10, 0, 4, 4],
                                     [3, 14, 4, 4, 0], [4, 14, 5, 4, -1], [8, 14, 13, 12, -1],
                                     [10, 28, 13, 12, -1]]},
        "DPRK": {"peak": 7, "points": [[0, 0, 0, 4, 4], [1, 8, 5, 4, -1], [4, 8, 6, 13, 7],
                                       [6, 24, 6, 13, 7], [11, 24, 12, 13, 1]]},
        "ROK": {"peak": 0, "points": [[0, 0, 0, 0, 0], [1, 0, 5, 1, -4], [2, 2, 5, 5, 0],
                                      [3, 2, 6, 5, -1], [4, 10, 6, 5, -1], [8, 10, 14, 5, -9],
                                      [11, 10, 20, 5, -15]]},
    },
}


def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def entry(data: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(e for e in data["schedule"] if e["id"] == cid)


def move(data: dict[str, Any], cid: str, start: int, phase: str | None = None) -> None:
    """Shift a present concession, keeping its duration and lag."""
    e = entry(data, cid)
    shift = start - e["start"]
    e["start"] += shift
    e["end"] += shift
    if e["verified"] is not None:
        e["verified"] += shift
    if phase is not None:
        e["phase"] = phase


def drop(data: dict[str, Any], cid: str) -> None:
    entry(data, cid).update(present=False, start=None, end=None, phase=None, verified=None)


def errors_of(data: dict[str, Any], sc: Scenario = SC) -> list[str]:
    return check(sc, Result.from_dict(data))


def caught(data: dict[str, Any], fragment: str, sc: Scenario = SC) -> list[str]:
    errors = errors_of(data, sc)
    assert any(fragment in e for e in errors), errors
    return errors


# -- valid results ------------------------------------------------------------

def test_hand_written_result_is_valid() -> None:
    assert errors_of(base()) == []
    assert_valid(SC, Result.from_dict(base()))


def test_solved_result_is_valid_and_matches_the_hand_worked_optimum() -> None:
    result = solve_checked(SC)
    assert check(SC, result) == []
    assert result.status == "optimal"
    assert result.metrics is not None
    assert (result.metrics.excluded_value, result.metrics.peak_exposure,
            result.metrics.makespan) == (6, 7, 10)


def test_assert_valid_lists_the_violations() -> None:
    data = base()
    data["metrics"]["makespan"] = 11
    with pytest.raises(AssertionError, match="metric makespan is 11, expected 10"):
        assert_valid(SC, Result.from_dict(data))


def test_result_json_roundtrip_stays_valid() -> None:
    result = Result.from_dict(base())
    assert check(SC, Result.from_json(result.to_json())) == []


def test_disabled_rule_is_ignored_and_enabled_copy_is_caught() -> None:
    # `off` forbids freeze with icbm but is disabled: the base result keeps both.
    assert errors_of(base()) == []
    data = copy.deepcopy(RICH)
    data["rules"][-1]["enabled"] = True
    caught(base(), "exclusive off: more than one present", _scenario(data))


# -- precedence -----------------------------------------------------------------

def test_precedence_min_lag_broken() -> None:
    data = base()
    move(data, "sanctions", 7)          # freeze verified at 8: gap -1
    caught(data, "precedence verify_first: sanctions.start - freeze.verified = 7 - 8 = -1 "
                 "< min_lag 0")


def test_precedence_max_lag_broken() -> None:
    data = base()
    move(data, "sanctions", 15)         # gap 7 > 6
    caught(data, "> max_lag 6")


def test_precedence_ignored_when_one_side_absent() -> None:
    data = copy.deepcopy(RICH)
    data["rules"].append({"id": "late", "kind": "precedence", "before": "visit",
                          "after": "freeze", "min_lag": 30})
    sc = _scenario(data)
    result = base()
    result["scenario"]["sha256"] = _sha(sc)
    assert errors_of(result, sc) == []


# -- reciprocity, together, exclusive, requires ---------------------------------

def test_reciprocity_gap_broken() -> None:
    data = base()
    move(data, "drills", 2, "P2")
    caught(data, "reciprocity sync: start gap 2 > max_gap 1")


def test_reciprocity_presence_mismatch() -> None:
    data = base()
    drop(data, "talk")
    caught(data, "reciprocity pair: presence mismatch")


def test_together_presence_mismatch() -> None:
    data = base()
    drop(data, "talk")
    caught(data, "together pkg: presence mismatch")


def test_together_split_across_phases() -> None:
    data = base()
    move(data, "freeze", 2, "P2")
    caught(data, "together core: split across phases ['P2', 'P3']")


def test_exclusive_both_present() -> None:
    data = base()
    entry(data, "visit").update(present=True, start=5, end=6, phase="P3", verified=None)
    caught(data, "exclusive one_of: more than one present: ['aid', 'visit']")


def test_requires_broken() -> None:
    data = base()
    drop(data, "talk")
    caught(data, "requires needs: aid present but talk absent")


# -- exposure, phase balance, resources -----------------------------------------

def test_exposure_over_cap() -> None:
    data = base()
    # No early credit for DPRK: 4 (icbm) + 9 (freeze) - 1 (aid) = 12 at t=4.
    move(data, "drills", 30)
    caught(data, "exposure cap: DPRK exposure 12 at t=4 over cap 10")


def test_exposure_cap_only_for_listed_parties() -> None:
    data = copy.deepcopy(RICH)
    data["rules"][7] = {"id": "cap", "kind": "exposure", "parties": ["ROK"], "max": 0}
    sc = _scenario(data)
    result = base()
    result["scenario"]["sha256"] = _sha(sc)
    # ROK never goes above 0; US (4) and DPRK (7) are not capped by this rule.
    assert errors_of(result, sc) == []


def test_phase_balance_over_tolerance() -> None:
    data = base()
    data["phases"] = [{"id": "P1", "start": 0, "end": 2}, {"id": "P2", "start": 2, "end": 8},
                      {"id": "P3", "start": 8, "end": 10}]
    # DPRK delivers nothing in P1/P2 while the US delivers 14 by P2 ... then push US items
    # to P2 and DPRK items to P3 so the gap by P2 is 28 - 0.
    move(data, "icbm", 8, "P3")
    move(data, "freeze", 9, "P3")
    move(data, "drills", 7, "P2")
    move(data, "sanctions", 5, "P2")
    caught(data, "phase_balance bal: phase P2 delivered US=28 vs DPRK=0, gap 28 over "
                 "tolerance 20")


def test_resource_overload() -> None:
    data = base()
    move(data, "freeze", 8)
    caught(data, "resource insp: load 2 at t=8 over capacity 1")


def test_zero_duration_use_never_loads_a_resource() -> None:
    data = copy.deepcopy(RICH)
    data["concessions"].append({"id": "note", "party": "US", "duration": 0,
                                "uses": {"insp": 1}, "optional": True})
    sc = _scenario(data)
    result = base()
    result["scenario"]["sha256"] = _sha(sc)
    result["schedule"].append(_entry("note", "US", 9, 9, "P3", 9))
    result["metrics"]["weighted_completion"] += 9
    assert errors_of(result, sc) == []


# -- reported figures ----------------------------------------------------------

@pytest.mark.parametrize("metric, wrong", [
    ("makespan", 11), ("weighted_completion", 26), ("peak_exposure", 4),
    ("excluded_value", 0), ("phase_imbalance", 6),
])
def test_wrong_metric_value(metric: str, wrong: int) -> None:
    data = base()
    good = data["metrics"][metric]
    data["metrics"][metric] = wrong
    caught(data, f"metric {metric} is {wrong}, expected {good}")


def test_wrong_exposure_curve() -> None:
    data = base()
    data["exposure"]["US"][1] = [2, 5]
    caught(data, "exposure curve of US")


def test_exposure_curve_with_a_point_that_does_not_change_the_level() -> None:
    data = base()
    data["exposure"]["DPRK"].insert(2, [2, -1])
    caught(data, "exposure curve of DPRK")


def test_exposure_curve_must_start_at_zero() -> None:
    data = base()
    data["exposure"]["ROK"] = data["exposure"]["ROK"][1:]
    caught(data, "exposure curve of ROK")


def test_exposure_missing_party() -> None:
    data = base()
    del data["exposure"]["ROK"]
    caught(data, "exposure has parties")


def test_wrong_objective_value() -> None:
    data = base()
    data["objective"][1]["value"] = 8
    caught(data, "objective[1] (peak_exposure) value 8, expected 7")


def test_objective_bound_above_value() -> None:
    data = base()
    data["status"] = "feasible"
    data["objective"][2]["bound"] = 11
    caught(data, "objective[2] (makespan) bound 11 above value 10")


def test_optimal_needs_every_bound_proven() -> None:
    data = base()
    data["objective"][2]["bound"] = 9
    caught(data, "status optimal but bound 9 != value 10")
    data["status"] = "feasible"
    assert errors_of(data) == []


def test_objective_entries_follow_the_terms() -> None:
    data = base()
    data["objective"].pop()
    caught(data, "objective has 2 entries, expected 3")
    data = base()
    data["objective"][0]["metric"] = "makespan"
    caught(data, "objective[0] metric 'makespan', expected 'excluded_value'")


def test_lexicographic_entries_carry_no_weight() -> None:
    data = base()
    data["objective"][0]["weight"] = 1
    caught(data, "has a weight in lexicographic mode")


def _weighted() -> tuple[Scenario, dict[str, Any]]:
    data = copy.deepcopy(RICH)
    data["objective"] = {"mode": "weighted", "terms": [
        {"metric": "excluded_value", "weight": 3},
        {"metric": "peak_exposure", "weight": 2, "parties": ["US"]},
        {"metric": "makespan", "weight": 1}]}
    sc = _scenario(data)
    result = base()
    result["scenario"]["sha256"] = _sha(sc)
    # US peak 4 (not 7: the term only counts US): 3*6 + 2*4 + 1*10 = 36.
    result["objective"] = [
        {"metric": "excluded_value", "value": 6, "bound": None, "weight": 3},
        {"metric": "peak_exposure", "value": 4, "bound": None, "weight": 2},
        {"metric": "makespan", "value": 10, "bound": None, "weight": 1},
        {"metric": "weighted_sum", "value": 36, "bound": 30},
    ]
    result["status"] = "feasible"
    return sc, result


def test_weighted_objective_valid() -> None:
    sc, result = _weighted()
    assert errors_of(result, sc) == []


def test_weighted_sum_wrong() -> None:
    sc, result = _weighted()
    result["objective"][3]["value"] = 35
    caught(result, "objective weighted_sum value 35, expected 36", sc)


def test_weighted_term_weight_and_parties() -> None:
    sc, result = _weighted()
    result["objective"][1]["weight"] = 1
    caught(result, "objective[1] weight 1, expected 2", sc)
    sc, result = _weighted()
    result["objective"][1]["value"] = 7
    caught(result, "objective[1] (peak_exposure) value 7, expected 4", sc)


def test_weighted_last_entry_must_be_the_sum() -> None:
    sc, result = _weighted()
    result["objective"][3]["metric"] = "total"
    caught(result, "expected 'weighted_sum'", sc)
    sc, result = _weighted()
    result["status"] = "optimal"
    caught(result, "(weighted_sum) status optimal but bound 30 != value 36", sc)


# -- phases --------------------------------------------------------------------

def test_wrong_phase_label() -> None:
    data = base()
    entry(data, "aid")["phase"] = "P3"
    caught(data, "aid: start 2 outside its phase P3 window [3, 10): wrong phase label")


def test_unknown_phase_label() -> None:
    data = base()
    entry(data, "aid")["phase"] = "P9"
    caught(data, "aid: unknown phase 'P9'")


def test_phase_not_allowed() -> None:
    data = base()
    data["phases"][0]["end"] = 3
    data["phases"][1]["start"] = 3
    data["phases"][1]["end"] = 4
    data["phases"][2]["start"] = 4
    for cid in ("aid", "talk"):
        entry(data, cid)["phase"] = "P1"
    move(data, "freeze", 4, "P3")
    caught(data, "talk: starts in phase P1, not one of its allowed ['P2', 'P3']")


def test_phase_windows_not_contiguous() -> None:
    data = base()
    data["phases"][1]["start"] = 1
    caught(data, "phase P2 starts at 1, must start where P1 ends (2): phase windows not "
                 "contiguous")


def test_first_phase_starts_at_zero() -> None:
    data = base()
    data["phases"][0]["start"] = 1
    caught(data, "phase P1 starts at 1, must start at 0")


def test_phase_min_length() -> None:
    data = base()
    data["phases"][0]["end"] = 1
    data["phases"][1]["start"] = 1
    caught(data, "phase P1 length 1 below min_length 2")


def test_phase_max_length() -> None:
    data = base()
    data["phases"][0]["end"] = 16
    data["phases"][1].update(start=16, end=17)
    data["phases"][2].update(start=17, end=20)
    caught(data, "phase P1 length 16 above max_length 15")


def test_last_phase_after_horizon() -> None:
    data = base()
    data["phases"][2]["end"] = 41
    caught(data, "last phase ends at 41, after the horizon 40")


def test_phase_ids_and_order() -> None:
    data = base()
    data["phases"][0], data["phases"][1] = data["phases"][1], data["phases"][0]
    caught(data, "phases are ['P2', 'P1', 'P3'], expected ['P1', 'P2', 'P3']")


# -- windows, pins, durations, schedule shape --------------------------------------

def test_start_before_earliest_start() -> None:
    data = copy.deepcopy(RICH)
    data["concessions"][3]["earliest_start"] = 9
    sc = _scenario(data)
    caught(base(), "sanctions: start 8 before earliest_start 9", sc)


def test_start_off_its_pin() -> None:
    data = copy.deepcopy(RICH)
    data["concessions"][0]["start"] = 5
    caught(base(), "freeze: start 4 but pinned to 5", _scenario(data))


def test_end_after_latest_end() -> None:
    data = base()
    move(data, "talk", 30)
    caught(data, "talk: end 31 after latest_end 30")


def test_end_after_horizon() -> None:
    data = base()
    move(data, "sanctions", 39)
    caught(data, "sanctions: end 41 after the horizon 40")


def test_wrong_fixed_duration() -> None:
    data = base()
    entry(data, "freeze")["end"] = 7
    caught(data, "freeze: duration 3 (start 4, end 7), expected 2")


def test_variable_duration_out_of_range() -> None:
    data = base()
    e = entry(data, "sanctions")
    e.update(end=13, verified=14)
    caught(data, "sanctions: duration 5 (start 8, end 13), expected [2, 4]")
    e.update(end=11, verified=12)
    assert not any("sanctions: duration" in m for m in errors_of(data))


def test_missing_concession_in_schedule() -> None:
    data = base()
    data["schedule"] = [e for e in data["schedule"] if e["id"] != "aid"]
    caught(data, "schedule is missing concession 'aid'")


def test_duplicate_and_unknown_schedule_entries() -> None:
    data = base()
    data["schedule"].append(copy.deepcopy(entry(data, "aid")))
    caught(data, "schedule lists 'aid' more than once")
    data = base()
    data["schedule"].append(_entry("ghost", "US", 0, 1, "P1", 1))
    caught(data, "schedule lists unknown concession 'ghost'")


def test_absent_concession_with_times() -> None:
    data = base()
    entry(data, "visit").update(start=3)
    caught(data, "visit: absent concession must have null start/end/phase/verified")


def test_required_concession_absent() -> None:
    data = base()
    drop(data, "freeze")
    caught(data, "freeze: required concession is absent")


def test_present_concession_without_times() -> None:
    data = base()
    entry(data, "aid")["end"] = None
    caught(data, "aid: present concession needs start, end and phase")


def test_wrong_party() -> None:
    data = base()
    entry(data, "aid")["party"] = "US"
    caught(data, "aid: party 'US', expected 'ROK'")


def test_wrong_verified_time() -> None:
    data = base()
    entry(data, "freeze")["verified"] = 7
    caught(data, "freeze: verified 7, expected 8")


def test_verified_null_for_method_none() -> None:
    data = base()
    entry(data, "pledge")["verified"] = 2
    caught(data, "pledge: verified 2, expected None")


# -- header and empty results -------------------------------------------------------

def test_sha256_must_be_64_hex() -> None:
    data = base()
    data["scenario"]["sha256"] = "abc"
    caught(data, "is not 64 lowercase hex chars")


def test_sha256_must_match_the_scenario() -> None:
    data = base()
    data["scenario"]["sha256"] = "0" * 64
    caught(data, "scenario.sha256 does not match")


def test_scenario_name() -> None:
    data = base()
    data["scenario"]["name"] = "other"
    caught(data, "scenario.name 'other'")


def test_conflict_only_for_infeasible() -> None:
    data = base()
    data["conflict"] = {"rules": [], "demands": [], "concessions": [], "message": "x"}
    caught(data, "conflict must be null for status optimal")


def _empty(status: str) -> dict[str, Any]:
    data = base()
    data.update(status=status, metrics=None, objective=[], phases=[], schedule=[], exposure={},
                ledger={})
    return data


@pytest.mark.parametrize("status", ["infeasible", "unknown"])
def test_empty_result_is_valid(status: str) -> None:
    assert errors_of(_empty(status)) == []


@pytest.mark.parametrize("field, value, fragment", [
    ("metrics", BASE["metrics"], "metrics must be null"),
    ("schedule", BASE["schedule"], "schedule must be an empty list"),
    ("phases", BASE["phases"], "phases must be an empty list"),
    ("objective", BASE["objective"], "objective must be an empty list"),
    ("exposure", BASE["exposure"], "exposure must be an empty object"),
    ("ledger", BASE["ledger"], "ledger must be an empty object"),
])
def test_infeasible_result_must_be_empty(field: str, value: Any, fragment: str) -> None:
    data = _empty("infeasible")
    data[field] = copy.deepcopy(value)
    caught(data, fragment)


def test_infeasible_conflict_names_enabled_rules() -> None:
    data = _empty("infeasible")
    data["conflict"] = {"rules": ["off"], "demands": [], "concessions": ["nope"],
                        "message": "x"}
    caught(data, "conflict names 'off', not an enabled rule")
    caught(data, "conflict names unknown concession 'nope'")


def test_solved_result_needs_metrics() -> None:
    data = base()
    data["metrics"] = None
    caught(data, "metrics must hold all five figures")


# -- derived terms (SPEC §2.3) -------------------------------------------------------

def _one(concession: dict[str, Any], **extra: Any) -> Scenario:
    return _scenario({"horizon": 10, "parties": [{"id": "A"}, {"id": "B"}, {"id": "C"}],
                      "concessions": [{"id": "x", "party": "A", "duration": 1, **concession}],
                      **extra})


@pytest.mark.parametrize("concession, extra, risk, credit, lag", [
    # total 2*7 = 14; costly 60% -> 8; declaration 25% of 7 -> 1; lag 0
    ({"value": 7}, {}, 8, {"B": 1, "C": 1}, 0),
    # cost 9 reversible 25% -> 2; ntm 75%: 3, 0; lag 1
    ({"value": {"B": 4}, "cost": 9, "reversibility": "reversible", "verification": "ntm"},
     {}, 2, {"B": 3, "C": 0}, 1),
    # irreversible 100% of cost 5; inspection overridden to 50% and lag 4, item lag 6
    ({"value": 3, "cost": 5, "reversibility": "irreversible", "verification": "inspection",
      "verification_lag": 6}, {"verification_methods": {"inspection": {"credit_pct": 50,
                                                                       "lag": 4}}},
     5, {"B": 1, "C": 1}, 6),
    ({"value": 3, "verification": "monitoring"},
     {"verification_methods": {"monitoring": {"lag": 5}}}, 3, {"B": 2, "C": 2}, 5),
    ({"value": 10, "risk": 1, "credit": 4}, {}, 1, {"B": 4, "C": 4}, 0),
    ({"value": 10, "credit": {"C": 9}, "verification": "public"}, {}, 12, {"B": 0, "C": 9}, 0),
    ({"value": 10, "verification": "none"}, {}, 12, {"B": 0, "C": 0}, None),
])
def test_derived_risk_credit_lag(concession: dict[str, Any], extra: dict[str, Any], risk: int,
                                 credit: dict[str, int], lag: int | None) -> None:
    sc = _one(concession, **extra)
    terms = derive_terms(sc, sc.concessions[0])
    assert (terms.risk, terms.credit, terms.lag) == (risk, credit, lag)
