"""credit_keep (SPEC §5.2): credit discounted by how easily its giver takes it back."""

from __future__ import annotations

from typing import Any

from models import parse_scenario
from optimizer.check import derive_terms
from optimizer.model.derived import derive
from tests.conftest import solve_checked, starts


def _one(conc: dict[str, Any], keep: dict[str, int] | None) -> Any:
    data: dict[str, Any] = {"format": "roadmap/v1", "horizon": 10,
                            "parties": [{"id": "A"}, {"id": "B"}], "concessions": [conc]}
    if keep is not None:
        data["credit_keep"] = keep
    return parse_scenario(data, "<test>")


def test_credit_is_rounded_down_once() -> None:
    # value 9, ntm 75 %, costly kept 60 %: 9 * 75 * 60 / 10000 = 4.05 -> 4
    # (rounding twice would give floor(floor(6.75) * 0.6) = 3).
    conc = {"id": "x", "party": "A", "duration": 1, "value": 9, "verification": "ntm"}
    sc = _one(conc, {"costly": 60})
    assert derive(sc, sc.concessions[0]).credit == {"B": 4}
    assert derive_terms(sc, sc.concessions[0]).credit == {"B": 4}
    # Without credit_keep (or with its defaults, all 100): SPEC §2.3's 9 * 75 / 100 -> 6.
    for keep in (None, {}):
        sc = _one(conc, keep)
        assert derive(sc, sc.concessions[0]).credit == {"B": 6}


def test_each_reversibility_keeps_its_own_share_and_given_credit_is_as_written() -> None:
    keep = {"reversible": 25, "costly": 50, "irreversible": 90}
    for rev, want in (("reversible", 2), ("costly", 5), ("irreversible", 9)):
        sc = _one({"id": "x", "party": "A", "duration": 1, "value": 10,
                   "verification": "public", "reversibility": rev}, keep)
        assert derive(sc, sc.concessions[0]).credit == {"B": want}
        assert derive_terms(sc, sc.concessions[0]).credit == {"B": want}
    sc = _one({"id": "x", "party": "A", "duration": 1, "value": 10, "credit": 7,
               "reversibility": "reversible"}, keep)
    assert derive(sc, sc.concessions[0]).credit == {"B": 7}
    # Risk is not discounted: cost 10 * 25 % (reversible) = 2.
    assert derive(sc, sc.concessions[0]).risk == 2


# b1: B's reversible step, public (100 %, lag 0), credits A 8 at its end (2);
#     kept at 25 %: only 2. b2: B's irreversible step, credits A 8 at 4 (kept 100 %).
# a: A's step, risk 6, never verified, 5 long. Cap: A's exposure at most 2.
SCENARIO: dict[str, Any] = {
    "horizon": 20, "parties": [{"id": "A"}, {"id": "B"}],
    "concessions": [
        {"id": "b1", "party": "B", "duration": 2, "value": 8, "cost": 0,
         "reversibility": "reversible", "verification": "public"},
        {"id": "b2", "party": "B", "duration": 4, "value": 8, "cost": 0,
         "reversibility": "irreversible", "verification": "public"},
        {"id": "a", "party": "A", "duration": 5, "value": 1, "risk": 6, "verification": "none"},
    ],
    "rules": [{"id": "cap", "kind": "exposure", "parties": ["A"], "max": 2}],
}


def test_durable_credit_changes_the_optimum() -> None:
    # v1: b1's 8 at t=2 brings A to 6 - 8 = -2 <= 2: a starts at 2, ends at 7.
    v1 = solve_checked(SCENARIO)
    assert v1.metrics is not None and v1.metrics.makespan == 7 and starts(v1)["a"] == 2
    # credit_keep reversible 25: b1 is worth 2 (6 - 2 = 4 > 2), so a waits for b2 at 4
    # (6 - 2 - 8 = -4): ends at 9.
    r = solve_checked({**SCENARIO, "credit_keep": {"reversible": 25}})
    assert r.metrics is not None and r.metrics.makespan == 9 and starts(r)["a"] == 4
    # A's ledger: b1's 2 at 2, b2's 8 at 4, a's risk 6 at 4, a's value 1 delivered at 9.
    assert r.ledger["A"].points == [(0, 0, 0, 0, 0), (2, 0, 2, 0, -2), (4, 0, 10, 6, -4),
                                    (9, 1, 10, 6, -4)]
    assert r.ledger["A"].peak == 0
