"""The ledger of a result (SPEC §5.4): read back, lifted from the grain, serialised."""

from __future__ import annotations

import json
from typing import Any

from models import Result, parse_scenario
from optimizer.solving.grain import grain
from tests.conftest import solve_checked

# a: A gives B 6 (cost 6, costly: risk 3), inspection: B credited 6 at a.end + 2.
# b: B gives A 4 (cost 4, reversible: risk 1), ntm: A credited 3 at b.end + 1.
# Precedence: b starts when a is verified.
SCENARIO: dict[str, Any] = {
    "horizon": 30, "parties": [{"id": "A"}, {"id": "B"}],
    "concessions": [
        {"id": "a", "party": "A", "duration": 2, "value": 6, "verification": "inspection"},
        {"id": "b", "party": "B", "duration": 3, "value": 4, "reversibility": "reversible",
         "verification": "ntm"},
    ],
    "rules": [{"id": "after", "kind": "precedence", "before": "a", "after": "b",
               "from": "verified", "to": "start"}],
}
# a 0-2, verified 4; b 4-7, verified 8.
# A: at risk 3 from 0; delivers 6 at 2; receives 3 at 8.
# B: receives 6 at 4 and puts 1 at risk at 4; delivers 4 at 7.
LEDGER: dict[str, dict[str, Any]] = {
    "A": {"peak": 3, "points": [[0, 0, 0, 3, 3], [2, 6, 0, 3, 3], [8, 6, 3, 3, 0]]},
    "B": {"peak": 0, "points": [[0, 0, 0, 0, 0], [4, 0, 6, 1, -5], [7, 4, 6, 1, -5]]},
}


def test_ledger_of_a_solved_roadmap() -> None:
    r = solve_checked(SCENARIO)
    assert r.to_dict()["ledger"] == LEDGER
    assert r.ledger["A"].peak_time() == 0 and r.ledger["B"].peak_time() is None
    assert r.ledger["B"].at(5) == (0, 6, 1, -5)


def test_ledger_round_trips_through_json() -> None:
    r = solve_checked(SCENARIO)
    again = Result.from_json(r.to_json())
    assert again == r and again.to_dict()["ledger"] == LEDGER
    # A result written before v1.1 (no ledger) still loads, with an empty ledger.
    old = json.loads(r.to_json())
    del old["ledger"]
    assert Result.from_dict(old).ledger == {}


def test_ledger_frame_has_one_row_per_party_and_point() -> None:
    frame = solve_checked(SCENARIO).ledger_frame()
    assert list(frame.columns) == ["party", "t", "delivered", "received", "at_risk", "exposure"]
    rows = [tuple(x) for x in frame.itertuples(index=False)]
    assert rows == [(p, *pt) for p, lg in LEDGER.items() for pt in lg["points"]]


def test_the_coarse_grain_fills_the_ledger_in_original_units() -> None:
    # The same roadmap in days, every figure 10 times larger: grain 10 (one phase: exact).
    days = {**SCENARIO, "time_unit": "day", "horizon": 300,
            "verification_methods": {"inspection": {"lag": 20}, "ntm": {"lag": 10}},
            "concessions": [{**SCENARIO["concessions"][0], "duration": 20},
                            {**SCENARIO["concessions"][1], "duration": 30}]}
    assert grain(parse_scenario({"format": "roadmap/v1", **days}, "<t>")) == 10
    r = solve_checked(days)
    assert r.to_dict()["ledger"] == {
        p: {"peak": lg["peak"], "points": [[pt[0] * 10, *pt[1:]] for pt in lg["points"]]}
        for p, lg in LEDGER.items()}


def test_an_infeasible_result_has_an_empty_ledger() -> None:
    r = solve_checked({**SCENARIO, "horizon": 5})   # b cannot end by 5
    assert r.status == "infeasible" and r.to_dict()["ledger"] == {}
