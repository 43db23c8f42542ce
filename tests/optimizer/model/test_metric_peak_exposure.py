"""peak_exposure (SPEC §2.4): max over parties and t of max(0, exposure_p(t))."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked, starts

# A's big step a: risk 6, credit 6 to B. B's three small steps: risk 2, credit 2 to A.
# All public (lag 0) and one unit long.
A = {"id": "a", "party": "A", "duration": 1, "risk": 6, "credit": 6, "verification": "public"}
BS = [{"id": f"b{k}", "party": "B", "duration": 1, "risk": 2, "credit": 2,
       "verification": "public"} for k in (1, 2, 3)]


def scenario(objective: dict[str, Any], concessions: list[dict[str, Any]] | None = None,
             **extra: Any) -> dict[str, Any]:
    return {"horizon": 20, "parties": [{"id": "A"}, {"id": "B"}],
            "concessions": concessions or [A, *BS], "objective": objective, **extra}


def terms(*names: str, **kw: Any) -> dict[str, Any]:
    return {"terms": [{"metric": n, **kw.get(n, {})} for n in names]}


def test_unmanaged_cliff() -> None:
    # Makespan only: everything at 0, A is exposed 6 and B 6 until t = 1.
    r = solve_checked(scenario(terms("makespan")))
    assert r.metrics is not None
    assert (r.metrics.makespan, r.metrics.peak_exposure) == (1, 6)


def test_minimum_peak_then_makespan() -> None:
    # Peak 3 is impossible: A's level at a.start is 6 - 2k, so <= 3 needs two b's verified
    # before a, but two b's unreciprocated put B at 4. Peak 4: a at 1 after one b; the
    # third b must wait for a's credit at 2 (else B reaches 6): makespan 3.
    r = solve_checked(scenario(terms("peak_exposure", "makespan")))
    assert r.metrics is not None
    assert (r.metrics.peak_exposure, r.metrics.makespan) == (4, 3)
    assert starts(r)["a"] == 1
    assert [(e.metric, e.value, e.bound) for e in r.objective] == [
        ("peak_exposure", 4, 4), ("makespan", 3, 3)]


def test_weighted_mode() -> None:
    # 10 * peak + makespan: (4, 3) -> 43 beats (6, 1) -> 61 and (5, ...) is no better.
    objective = {"mode": "weighted", "terms": [{"metric": "peak_exposure", "weight": 10},
                                               {"metric": "makespan", "weight": 1}]}
    r = solve_checked(scenario(objective))
    assert r.objective[-1].metric == "weighted_sum"
    assert r.objective[-1].value == 43


def test_term_over_some_parties() -> None:
    # Only B's exposure counts: a first (A exposed 6), then all b's at 1 when a's credit
    # of 6 has arrived: B never goes above 0. Makespan 2. The metrics still report 6.
    objective = terms("peak_exposure", "makespan", peak_exposure={"parties": ["B"]})
    r = solve_checked(scenario(objective))
    assert r.objective[0].value == 0
    assert r.metrics is not None
    assert (r.metrics.peak_exposure, r.metrics.makespan) == (6, 2)
    assert starts(r) == {"a": 0, "b1": 1, "b2": 1, "b3": 1}
    # B: -6 (credit) and +3 * 2 (starts) both at t = 1: the level never moves.
    assert r.exposure == {"A": [(0, 6), (2, 0)], "B": [(0, 0)]}


def test_negative_levels_count_as_zero() -> None:
    # Only credits and zero risks: every level is <= 0, the peak is 0.
    items = [{"id": "x", "party": "A", "duration": 1, "value": 5, "risk": 0,
              "verification": "public"}]
    r = solve_checked(scenario(terms("peak_exposure"), items))
    assert r.metrics is not None and r.metrics.peak_exposure == 0
    assert r.exposure == {"A": [(0, 0)], "B": [(0, 0), (1, -5)]}


def test_verification_lag_raises_the_peak() -> None:
    # B's steps inspected (lag 2): each b's credit reaches A 2 later. A needs one b
    # verified: a >= 3, and B may have two b's out until a is verified at 4 -> peak
    # stays 4 but makespan grows to 5.
    bs = [{**b, "verification": "inspection"} for b in BS]
    r = solve_checked(scenario(terms("peak_exposure", "makespan"), [A, *bs]))
    assert r.metrics is not None
    assert (r.metrics.peak_exposure, r.metrics.makespan) == (4, 5)


def test_optional_step_left_out_to_lower_the_peak() -> None:
    # A single optional high-risk step with nothing in return: leaving it out gives 0.
    items = [{"id": "x", "party": "A", "duration": 1, "value": 5, "optional": True},
             {"id": "y", "party": "B", "duration": 1, "risk": 0}]
    r = solve_checked(scenario(terms("peak_exposure"), items))
    assert r.metrics is not None
    assert (r.metrics.peak_exposure, r.metrics.excluded_value) == (0, 5)


def test_peak_with_exposure_cap_rule() -> None:
    # Capping B at 2 forces the b's apart: a still at 1 after b1, b2 after a's credit.
    rule = {"id": "capB", "kind": "exposure", "parties": ["B"], "max": 2}
    r = solve_checked(scenario(terms("peak_exposure", "makespan"), rules=[rule]))
    assert r.metrics is not None
    # B holds one b at a time until a's credit (at 2): b1 [0,1), a [1,2), b2, b3 at 2.
    # A at t=1: 6 - 2 = 4 is the peak; makespan 3.
    assert (r.metrics.peak_exposure, r.metrics.makespan) == (4, 3)
