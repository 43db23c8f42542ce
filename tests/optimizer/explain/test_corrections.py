"""Corrections (SPEC §5.6, issue 14): hand-checked least costs, prices, owners, balance.

Every expected cost below is worked out by hand in the comment above it
(touch 10 + 1 per unit unless the case says otherwise). Every correction
returned is checked here again, independently of the code under test: the
corrected scenario is solved and checked (``solve_checked``), and each change
undone or taken back one unit leaves it infeasible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from models import Scenario, SolveOptions
from models.result import Correction
from optimizer.api import solve
from optimizer.explain.corrections import find_corrections
from optimizer.explain.corrections.verify import corrected
from tests.conftest import scenario_from, solve_checked

AB = [{"id": "A"}, {"id": "B"}]


def spec(concessions: list[dict[str, Any]], rules: list[dict[str, Any]] | None = None,
         **extra: Any) -> dict[str, Any]:
    return {"format": "roadmap/v1", "horizon": extra.pop("horizon", 20), "parties": AB,
            "concessions": concessions, "rules": rules or [], **extra}


def changes(c: Correction) -> set[tuple[str, Any, Any, str | None]]:
    return {(ch.path, _t(ch.from_), _t(ch.to), ch.party) for ch in c.changes}


def _t(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v


def run(data: dict[str, Any], k: int = 3, **kw: Any) -> tuple[Scenario, list[Correction]]:
    sc = scenario_from(data)
    rep = find_corrections(sc, k, time_limit_s=20, workers=1, **kw)
    for c in rep.corrections:
        assert_verified_and_irreducible(sc, c)
    return sc, rep.corrections


def _status(sc: Scenario) -> str:
    return solve(sc, SolveOptions(workers=1, time_limit_s=10), explain_infeasible=False).status


def assert_verified_and_irreducible(sc: Scenario, c: Correction) -> None:
    fixed = _apply(sc, c.changes)
    result = solve_checked(fixed, time_limit_s=10)
    assert result.status in ("optimal", "feasible")
    assert c.metrics == result.metrics
    for i, ch in enumerate(c.changes):
        rest = c.changes[:i] + c.changes[i + 1:]
        assert _status(_apply(sc, rest, validate=False)) == "infeasible", f"undo {ch.path}"
        if isinstance(ch.to, int) and not isinstance(ch.to, bool):
            step = 1 if ch.to > ch.from_ else -1
            if ch.to - step != ch.from_:
                back = ch.model_copy(update={"to": ch.to - step})
                trial = _apply(sc, [*rest, back], validate=False)
                assert _status(trial) == "infeasible", f"one unit back on {ch.path}"


def _apply(sc: Scenario, chs: list[Any], validate: bool = True) -> Scenario:
    from models.paths import set_path

    if validate:
        from optimizer.explain.corrections.prices import ChangeSpec, Price

        return corrected(sc, [ChangeSpec(("x",), ch.path, "amount", ch.from_, ch.to, ch.party,
                                         Price(0, 0)) for ch in chs])
    data = sc.model_dump(mode="json", by_alias=True)
    for ch in chs:
        set_path(data, ch.path, ch.to)
    return Scenario.model_validate(data)


# a (A) risks 5 (irreversible, cost 5) and nothing ever credits A; A's cap is 3.
# Raise the cap 3 -> 5: 10 + 2 = 12. Make a optional: 10 + its value 5 = 15.
# Switch the cap off: 3 x 10 = 30.
CAP = spec([{"id": "a", "party": "A", "duration": 1, "value": 5, "cost": 5,
             "reversibility": "irreversible"}],
           [{"id": "cap", "kind": "exposure", "parties": ["A"], "max": 3}])


def test_a_cap_raise_beats_dropping_the_rule_and_the_concession() -> None:
    _, found = run(CAP)
    assert [c.cost for c in found] == [12, 15]
    assert changes(found[0]) == {("rules[cap].max", 3, 5, "A")}   # owner: the capped party
    assert changes(found[1]) == {("concessions[a].optional", False, True, None)}
    assert all(c.proven for c in found)
    assert found[0].metrics is not None and found[0].metrics.peak_exposure == 5


def test_relax_false_forbids_the_obvious_fix() -> None:
    data = spec(CAP["concessions"], [{**CAP["rules"][0], "relax": False}])
    _, found = run(data)
    assert [changes(c) for c in found] == [{("concessions[a].optional", False, True, None)}]
    assert found[0].cost == 15


def test_nothing_may_change_gives_no_correction() -> None:
    data = spec([{**CAP["concessions"][0], "relax": False}],
                [{**CAP["rules"][0], "relax": False}])
    _, found = run(data)
    assert found == []


def test_item_prices_and_relax_defaults() -> None:
    # Cap: touch 1 + 4 per unit: 1 + 8 = 9, now cheaper than switching it off (3 x 1 = 3)?
    # No: off costs 3 touches = 3 < 9, so the rule is switched off at cost 3.
    data = spec(CAP["concessions"], [{**CAP["rules"][0], "relax": {"touch": 1, "per_unit": 4}}])
    _, found = run(data, k=1)
    assert changes(found[0]) == {("rules[cap].enabled", True, False, "A")}
    assert found[0].cost == 3
    # relax_defaults touch 2, per_unit 1: raise 2 + 2 = 4; optional 2 + 5 = 7; off 6.
    _, found = run({**CAP, "relax_defaults": {"touch": 2, "per_unit": 1}})
    assert [(c.cost, sorted(ch.path for ch in c.changes)) for c in found] == [
        (4, ["rules[cap].max"]), (7, ["concessions[a].optional"])]


def test_owner_attribution_from_rules_and_concessions() -> None:
    # Chain a (2) -> b (2) must end by 3: b ends at 4 at the earliest. Fixes: b's deadline
    # 3 -> 4 (11, owner B); the lag 0 cannot go lower; switching p off 30 (owner A);
    # b optional 10 + 10 = 20, a optional 20 (owner None: a has none).
    data = spec([{"id": "a", "party": "A", "duration": 2, "value": 10},
                 {"id": "b", "party": "B", "duration": 2, "value": 10, "latest_end": 3,
                  "owner": "B"}],
                [{"id": "p", "kind": "precedence", "before": "a", "after": "b",
                  "owner": "A"}])
    _, found = run(data, k=3)
    assert [(c.cost, changes(c)) for c in found] == [
        (11, {("concessions[b].latest_end", 3, 4, "B")}),
        (20, {("concessions[a].optional", False, True, None)}),
        (20, {("concessions[b].optional", False, True, "B")}),
    ] or [(c.cost, changes(c)) for c in found] == [
        (11, {("concessions[b].latest_end", 3, 4, "B")}),
        (20, {("concessions[b].optional", False, True, "B")}),
        (20, {("concessions[a].optional", False, True, None)}),
    ]


# a (owner A) may start from 1; b (owner B) must end by 3, its deadline priced 3 per unit.
# a 1-3, b 3-5: two months short.
#   total:    b's deadline 3 -> 5 = 10 + 2 x 3 = 16, all of it asked of B;
#   balanced: a from 0 (A: 10 + 1 = 11) and b's deadline 3 -> 4 (B: 10 + 3 = 13):
#             total 24, but the side asked most pays 13 < 16.
# Making either optional costs 10 + 20 = 30; the precedence may not change.
BALANCE = spec([{"id": "a", "party": "A", "duration": 2, "value": 20, "earliest_start": 1,
                 "owner": "A"},
                {"id": "b", "party": "B", "duration": 2, "value": 20, "latest_end": 3,
                 "owner": "B", "relax": {"per_unit": 3}}],
               [{"id": "p", "kind": "precedence", "before": "a", "after": "b",
                 "relax": False}], horizon=10)


def test_total_order_asks_one_side_for_everything() -> None:
    _, found = run(BALANCE, k=1)
    assert changes(found[0]) == {("concessions[b].latest_end", 3, 5, "B")}
    assert found[0].cost == 16


def test_balanced_order_spreads_the_bill() -> None:
    _, found = run(BALANCE, k=1, balanced=True)
    assert changes(found[0]) == {("concessions[a].earliest_start", 1, 0, "A"),
                                 ("concessions[b].latest_end", 3, 4, "B")}
    assert found[0].cost == 24


def test_a_horizon_extension_moves_unset_deadlines_with_it() -> None:
    # a (3) -> b (3) in a horizon of 5: one month short. Extend it 5 -> 6: 11. b has no
    # latest_end, so it follows the horizon; each optional costs 10 + 10; p off 30.
    data = spec([{"id": "a", "party": "A", "duration": 3, "value": 10},
                 {"id": "b", "party": "B", "duration": 3, "value": 10}],
                [{"id": "p", "kind": "precedence", "before": "a", "after": "b"}], horizon=5)
    _, found = run(data, k=1)
    assert changes(found[0]) == {("horizon", 5, 6, None)}
    assert found[0].cost == 11
    assert found[0].metrics is not None and found[0].metrics.makespan == 6


def test_a_phase_length() -> None:
    # P1 lasts at least 6; a may start only in P2 and must end by 6 (2 long): it ends at 8
    # at the earliest. Lower P1's minimum 6 -> 4: 12. a's deadline 6 -> 8 at 2 per unit:
    # 14; allow P1: 10 + 5 = 15; a optional: 10 + 10 = 20.
    data = spec([{"id": "a", "party": "A", "duration": 2, "value": 10, "phases": ["P2"],
                  "latest_end": 6, "relax": {"per_unit": 2}}],
                phases=[{"id": "P1", "min_length": 6}, {"id": "P2"}], horizon=12)
    _, found = run(data, k=3)
    assert [(c.cost, changes(c)) for c in found] == [
        (12, {("phases[P1].min_length", 6, 4, None)}),
        (14, {("concessions[a].latest_end", 6, 8, None)}),
        (15, {("concessions[a].phases", ("P2",), ("P1", "P2"), None)}),
    ]


def test_a_non_negative_min_lag_stops_at_zero_then_the_rule_goes() -> None:
    # b must start 5 after a ends; b must end by 4 (a, b 1 long): a 0-1, b 6-7. Lowering
    # the lag can reach 0 only (b 1-2 fits: lag 5 -> 2 is enough: 10 + 3 = 13).
    data = spec([{"id": "a", "party": "A", "duration": 1, "value": 50},
                 {"id": "b", "party": "B", "duration": 1, "value": 50, "latest_end": 4,
                  "relax": {"per_unit": 20}}],
                [{"id": "p", "kind": "precedence", "before": "a", "after": "b",
                  "min_lag": 5}], horizon=10)
    _, found = run(data, k=1)
    assert changes(found[0]) == {("rules[p].min_lag", 5, 2, None)}
    assert found[0].cost == 13


def test_feasible_scenario_has_no_correction() -> None:
    _, found = run(spec([{"id": "a", "party": "A", "duration": 1}]))
    assert found == []


@pytest.mark.parametrize("k", [1, 2])
def test_each_correction_changes_a_different_set_of_positions(k: int) -> None:
    _, found = run(CAP, k=k)
    sets = [frozenset(ch.path.split(".")[0] for ch in c.changes) for c in found]
    assert len(set(sets)) == len(sets) == min(k, 2)


# Issue 14 was measured on the seed as it stood before the v1.1 dataset rework (DPRK
# cap 8, v1 credit); tests/data/v1 keeps that file frozen.
V1_SEED = Path(__file__).resolve().parents[2] / "data" / "v1" / "us_dprk_2018.yaml"


def _seed(**changes: int) -> Scenario:
    from models import load_scenario
    from optimizer.explain.suggestions import with_change

    sc = load_scenario(V1_SEED)
    for path, value in changes.items():
        sc = with_change(sc, path.replace("__", "."), value)
    return sc


def test_seed_with_the_dprk_cap_at_3() -> None:
    """Issue 14's case. By SPEC's prices the cheapest correction widens the ICBM /
    peace-treaty reciprocity gap 12 -> 15 months (10 + 3 = 13); raising the DPRK cap
    back to 8 (10 + 5 = 15, asked of the DPRK) is the next, a different position."""
    sc = _seed(**{"rules[dprk_exposure_cap]__max": 3})
    rep = find_corrections(sc, 2, time_limit_s=60, workers=2)
    assert [c.cost for c in rep.corrections] == [13, 15]
    assert all(c.proven for c in rep.corrections)
    assert changes(rep.corrections[0]) == {
        ("rules[irreversible_for_irreversible].max_gap", 12, 15, None)}
    assert changes(rep.corrections[1]) == {("rules[dprk_exposure_cap].max", 3, 8, "DPRK")}
    assert rep.corrections[1].metrics is not None
    assert rep.corrections[1].metrics.makespan == 113
    for c in rep.corrections:
        assert_verified_and_irreducible(sc, c)


# a (A) risks 40 and A's cap is 3: raising the cap to 43 would cost 10 + 40 = 50,
# more than switching it off (30). The correction model lets the cap rise by
# (3 - 1) x touch / per_unit at most (20 at the default prices; 2 x 4 / 1 = 8 with
# touch 4), and by the whole risk when a unit is free (nothing is cheaper then).
@pytest.mark.parametrize(("relax", "reach"), [(None, 20), ({"touch": 4}, 8),
                                              ({"per_unit": 0}, 37)])
def test_a_rule_number_moves_no_further_than_switching_the_rule_off(
        relax: dict[str, int] | None, reach: int) -> None:
    from optimizer.explain.corrections.model import build_corrections

    cap: dict[str, Any] = {"id": "cap", "kind": "exposure", "parties": ["A"], "max": 3}
    if relax is not None:
        cap["relax"] = relax
    sc = scenario_from(spec([{"id": "a", "party": "A", "duration": 1, "value": 40,
                              "cost": 40, "reversibility": "irreversible"}], [cap]))
    cm = build_corrections(sc)
    [part] = [part for pos in cm.positions for part in pos.parts
              if part.path == "rules[cap].max"]
    assert part.ub == reach
    found = find_corrections(sc, 1, time_limit_s=20, workers=1).corrections
    off = 3 * (relax or {}).get("touch", 10)
    assert found[0].cost == min(off, 10 + 37 * (relax or {}).get("per_unit", 1))


def test_a_recorded_solution_is_offered_again_only_while_the_no_goods_allow_it() -> None:
    import time

    from optimizer.explain.corrections.model import build_corrections
    from optimizer.explain.corrections.search import minimise
    from optimizer.solving.handle import StopControl

    cm = build_corrections(scenario_from(CAP))
    found = minimise(cm, balanced=False, deadline=time.monotonic() + 20, workers=1,
                     control=StopControl())
    assert found is not None and found.cost == 12
    assert cm.best_known() is not None and cm.best_known()[0] == 12   # type: ignore[index]
    cap = next(p for p in cm.positions if p.element == ("rule", "cap"))
    drop = next(p for p in cm.positions if p.element == ("concession", "a", "required"))

    def changes(values: list[int], lit: Any) -> bool:   # a negated literal has index < 0
        return bool(values[lit.index] == 1 if lit.index >= 0 else values[-lit.index - 1] == 0)

    for forbidden in (cap, drop):
        cm.forbid({forbidden.element})
        best = cm.best_known()
        assert best is None or not (changes(best[2], cap.changed)
                                    or changes(best[2], drop.changed))
        assert all(cm.allowed(v) == (not changes(v, cap.changed)
                                     and (forbidden is cap or not changes(v, drop.changed)))
                   for _, _, v in cm.pool)
    assert any(changes(v, cap.changed) for _, _, v in cm.pool)    # the optimum itself


def test_a_verification_starts_only_with_time_left_and_reads_a_recorded_solution() -> None:
    """Decision 61: no verifying solve past the caller's deadline. ``Values`` reads
    a recorded solution as the solver's own answer reads."""
    import time

    from optimizer.explain.corrections.model import Values, build_corrections
    from optimizer.explain.corrections.search import minimise
    from optimizer.explain.corrections.verify import verify
    from optimizer.solving.handle import StopControl

    sc = scenario_from(CAP)
    cm = build_corrections(sc)
    found = minimise(cm, balanced=False, deadline=time.monotonic() + 20, workers=1,
                     control=StopControl())
    assert found is not None
    fix = cm.read(found.solver)
    assert cm.read(Values(list(found.solver.response_proto.solution))) == fix
    assert verify(sc, fix, time.monotonic() + 0.05, 1, StopControl()) == ("unknown", None)
    verdict, result = verify(sc, fix, time.monotonic() + 10, 1, StopControl())
    assert verdict == "verified" and result is not None and result.metrics is not None
    assert result.metrics.peak_exposure == 5
