"""Defection exposure (issue 3): per-party curve and the worst moment to be abandoned."""

from __future__ import annotations

from typing import Any

from optimizer.explain.defection import defection_report
from tests.conftest import scenario_from, solve_checked
from tests.optimizer.explain.test_explain_binding import CLIFF


def test_worst_moment_per_party_with_hand_computed_levels() -> None:
    result = solve_checked(CLIFF)
    rep = {p.party: p for p in defection_report(scenario_from(CLIFF), result)}
    a, b = rep["A"], rep["B"]
    # A gives a (risk 4) at 0 and gets b's credit 6 when b is verified at 4.
    assert a.curve == [(0, 4), (4, -2)]
    assert (a.worst_time, a.worst_level, a.after, a.given, a.credited, a.cap) == (
        0, 4, ["a"], 4, 0, 4)
    # B gives b (risk 6) at 2, the moment a's credit 4 is verified.
    assert b.curve == [(0, 0), (2, 2)]
    assert (b.worst_time, b.worst_level, b.after, b.given, b.credited, b.cap) == (
        2, 2, ["b"], 6, 4, 4)
    assert b.summary == ("B is most exposed at month 2, after 'b': 2 "
                         "(gave 6, verified credit 4), cap 4.")
    assert [[t, lv] for t, lv in result.exposure["A"]] == [[t, lv] for t, lv in a.curve]


def test_the_peak_is_after_the_step_that_made_it_not_the_first() -> None:
    data: dict[str, Any] = {
        "format": "roadmap/v1", "horizon": 20, "parties": [{"id": "A"}, {"id": "B"}],
        "concessions": [
            {"id": "a1", "party": "A", "title": "Freeze", "duration": 1, "risk": 2, "start": 0},
            {"id": "a2", "party": "A", "title": "Dismantle", "duration": 1, "risk": 5,
             "start": 3},
            {"id": "b1", "party": "B", "duration": 1, "value": 3, "verification": "public",
             "start": 6}],
    }
    result = solve_checked(data)
    rep = {p.party: p for p in defection_report(scenario_from(data), result)}
    a = rep["A"]
    # 2 at 0, 7 at 3, 7 - 3 = 4 when b1 is verified at 7.
    assert a.curve == [(0, 2), (3, 7), (7, 4)]
    assert (a.worst_time, a.worst_level, a.after, a.cap) == (3, 7, ["a2"], None)
    assert "after 'Dismantle'" in a.summary


def test_a_party_that_gives_nothing_is_never_exposed() -> None:
    data: dict[str, Any] = {
        "format": "roadmap/v1", "horizon": 10, "parties": [{"id": "A"}, {"id": "B"}],
        "concessions": [{"id": "b", "party": "B", "duration": 1, "value": 3}],
    }
    result = solve_checked(data)
    rep = {p.party: p for p in defection_report(scenario_from(data), result)}
    assert (rep["A"].worst_time, rep["A"].worst_level, rep["A"].after) == (None, 0, [])
    assert rep["A"].to_dict()["curve"] == [[0, 0]]
    assert "never exposed" in rep["A"].summary
