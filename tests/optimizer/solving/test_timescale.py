"""Solving in the scenario's time grain (optimizer/timescale.py).

A scenario whose time figures are all multiples of g is solved in units of g.
These tests compare that path with the model of the scenario as written: the
same status and the same optimal objective values, every schedule accepted
by the independent checker, and the case where the grain is *not* exact
(several phases, a start that must sit one day before a phase's end) handled
by the fallback.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import SolveOptions, parse_scenario
from models.datasets import list_datasets
from models.loading import load_scenario
from models.scenario import DEFAULT_METHODS
from optimizer import solve
from optimizer.check import check
from optimizer.solving.grain import coarsen, grain
from optimizer.solving.stages import _solve_direct
from tests.properties.strategies import scenarios

OPTIONS = SolveOptions(time_limit_s=20.0, workers=1, seed=0)


def scaled(data: dict[str, Any], g: int) -> dict[str, Any]:
    """The scenario dict with every time figure (method default lags included) times g."""
    d = copy.deepcopy(data)
    d["horizon"] *= g
    for p in d.get("phases", []):
        p["min_length"] = p.get("min_length", 1) * g
        if p.get("max_length") is not None:
            p["max_length"] *= g
    methods = d.setdefault("verification_methods", {})
    for name, (_, lag) in DEFAULT_METHODS.items():
        if lag is None:
            continue
        over = methods.setdefault(name, {})
        over["lag"] = over.get("lag", lag) * g
    for c in d["concessions"]:
        if isinstance(c["duration"], dict):
            c["duration"] = {"min": c["duration"]["min"] * g, "max": c["duration"]["max"] * g}
        else:
            c["duration"] *= g
        for key in ("earliest_start", "latest_end", "start", "verification_lag"):
            if c.get(key) is not None:
                c[key] *= g
    for r in d.get("rules", []):
        for key in ("min_lag", "max_lag", "max_gap", "verification_delay"):
            if r.get(key) is not None:
                r[key] *= g
    return d


def values(res: Any) -> list[Any]:
    return [(e.metric, e.value) for e in res.objective]


def optimised(res: Any, sc: Any) -> list[Any]:
    """What the objective fixes: every term stage by stage, or only the weighted sum."""
    return values(res)[-1:] if sc.objective.mode == "weighted" else values(res)


EXAMPLES = int(os.environ.get("TIMESCALE_EXAMPLES", "40"))


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=scenarios(max_concessions=12), g=st.sampled_from([2, 3, 7]))
def test_grain_solve_matches_the_scenario_as_written(data: dict[str, Any], g: int) -> None:
    try:
        sc = parse_scenario(scaled(data, g), "<scaled>")
    except Exception:
        return   # a positive cycle: validation's business, tested elsewhere
    assert grain(sc) % g == 0
    fast = solve(sc, OPTIONS, explain_infeasible=False)
    plain = _solve_direct(sc, OPTIONS, explain_infeasible=None)
    if "unknown" in (fast.status, plain.status):
        return
    assert (fast.status == "infeasible") == (plain.status == "infeasible")
    if fast.status == "infeasible":
        return
    assert check(sc, fast) == []
    if fast.status == plain.status == "optimal":
        assert optimised(fast, sc) == optimised(plain, sc)


def two_phase(g: int) -> dict[str, Any]:
    """Optimum 2g+1: `a` may not start before g and `b` must start in a later phase.

    In units of g, `b` would have to wait a whole unit after `a` (makespan 3g);
    counted finely, the first phase can end one unit after `a` starts.
    """
    return {
        "format": "roadmap/v1", "horizon": 10 * g, "parties": [{"id": "A"}, {"id": "B"}],
        "phases": [{"id": "P1", "min_length": g}, {"id": "P2", "min_length": g}],
        "concessions": [
            {"id": "a", "party": "A", "duration": g, "earliest_start": g, "phases": ["P1"],
             "verification": "none"},
            {"id": "b", "party": "B", "duration": g, "phases": ["P2"], "verification": "none"},
        ],
    }


def test_a_finer_optimum_than_the_grain_is_still_found() -> None:
    sc = parse_scenario(two_phase(10), "<two-phase>")
    assert grain(sc) == 10
    res = solve(sc, OPTIONS)
    assert res.status == "optimal"
    assert values(res) == [("makespan", 21)]
    assert check(sc, res) == []
    start = {s.id: s.start for s in res.schedule}
    assert start == {"a": 10, "b": 11}


def one_phase() -> dict[str, Any]:
    """Months: B waits for A's inspected dismantlement, A's exposure is capped."""
    return {
        "format": "roadmap/v1", "horizon": 40, "parties": [{"id": "A"}, {"id": "B"}],
        "concessions": [
            {"id": "a1", "party": "A", "duration": 3, "cost": 4, "reversibility":
             "irreversible", "verification": "inspection", "value": 5},
            {"id": "a2", "party": "A", "duration": 2, "cost": 4, "reversibility":
             "irreversible", "verification": "monitoring", "value": 3},
            {"id": "b1", "party": "B", "duration": 4, "cost": 5, "value": 6,
             "verification": "public", "earliest_start": 1},
        ],
        "rules": [
            {"id": "first", "kind": "precedence", "before": "a1", "after": "b1",
             "from": "verified"},
            {"id": "cap", "kind": "exposure", "parties": ["A"], "max": 4},
        ],
    }


def test_one_phase_days_equal_months_times_thirty() -> None:
    months = parse_scenario(one_phase(), "<months>")
    days = parse_scenario(scaled(one_phase(), 30), "<days>")
    assert grain(days) == 30
    m, d = solve(months, OPTIONS), solve(days, OPTIONS)
    assert m.status == d.status == "optimal"
    assert values(d) == [("makespan", 30 * values(m)[0][1])]
    assert d.objective[0].bound == d.objective[0].value
    assert check(days, d) == []


def test_synthetic_days_roadmap_is_the_months_one() -> None:
    from benchmarks.generate import scenario as synthetic

    months, _ = synthetic(40, 3, seed=4)
    days, _ = synthetic(40, 3, seed=4, time_unit_factor=30)
    assert grain(days) == 30
    m = solve(months, OPTIONS)
    d = solve(days, OPTIONS)
    assert m.status == d.status == "optimal"
    assert values(d) == [("makespan", 30 * values(m)[0][1])]
    assert check(days, d) == []


def test_coarsen_divides_every_time_figure() -> None:
    sc = parse_scenario(scaled(two_phase(1), 6), "<six>")
    c = coarsen(sc, 6)
    assert c.horizon == 10
    assert [p.min_length for p in c.phases] == [1, 1]
    a = c.concession("a")
    assert (a.duration, a.earliest_start) == (1, 1)


def test_weighted_sum_keeps_its_units() -> None:
    data = scaled(one_phase(), 5)
    data["objective"] = {"mode": "weighted", "terms": [
        {"metric": "makespan", "weight": 3}, {"metric": "excluded_value", "weight": 2}]}
    sc = parse_scenario(data, "<weighted>")
    res = solve(sc, OPTIONS)
    plain = _solve_direct(sc, OPTIONS)
    assert res.status == plain.status == "optimal"
    assert values(res) == values(plain)
    assert res.objective[-1].bound == res.objective[-1].value
    assert check(sc, res) == []


def test_built_in_datasets_have_no_coarser_grain() -> None:
    # Their method default lags (1 and 2) already pin the grain to one unit.
    for path in list_datasets():
        assert grain(load_scenario(path)) == 1, path.name
