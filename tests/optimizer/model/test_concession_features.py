"""Concession-level features of SPEC §1-§2.3, each on a tiny hand-checked scenario."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked, starts


def scenario(concessions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"horizon": 20, "parties": [{"id": "A"}, {"id": "B"}],
                            "concessions": concessions}
    data.update(extra)
    return data


def c(cid: str, party: str = "A", duration: int | dict[str, int] = 1,
      **fields: Any) -> dict[str, Any]:
    return {"id": cid, "party": party, "duration": duration, **fields}


# -- durations -------------------------------------------------------------------

def test_fixed_duration_sets_the_end() -> None:
    r = solve_checked(scenario([c("a", duration=4, start=2)]))
    assert (r.schedule[0].start, r.schedule[0].end) == (2, 6)


def test_zero_duration() -> None:
    # A one-off act (duration 0) takes no time: makespan 0, declared and verified at once.
    r = solve_checked(scenario([c("a", duration=0, value=4)]))
    assert r.metrics is not None and r.metrics.makespan == 0
    assert (r.schedule[0].start, r.schedule[0].end, r.schedule[0].verified) == (0, 0, 0)


def test_variable_duration_is_chosen_by_the_solver() -> None:
    # b must end exactly when a starts (a pinned at 6, lag 0..0 end-to-start): b lasts 6.
    b = c("b", "B", {"min": 2, "max": 8})
    rule = {"id": "r", "kind": "precedence", "before": "b", "after": "a", "max_lag": 0}
    r = solve_checked(scenario([c("a", start=6), b], rules=[rule]))
    assert (r.schedule[1].start, r.schedule[1].end) == (0, 6)


def test_variable_duration_upper_limit() -> None:
    # b cannot stretch beyond 4, so it starts at 2 to end right at a's start 6.
    b = c("b", "B", {"min": 2, "max": 4})
    rule = {"id": "r", "kind": "precedence", "before": "b", "after": "a", "max_lag": 0}
    r = solve_checked(scenario([c("a", start=6), b], rules=[rule],
                               objective={"terms": [{"metric": "makespan"}]}))
    b_entry = r.schedule[1]
    assert b_entry.end == 6 and b_entry.end - (b_entry.start or 0) <= 4


# -- presence, windows, pins --------------------------------------------------------

def test_optional_concession_left_out_has_null_times() -> None:
    r = solve_checked(scenario([c("a"), c("b", "B", 5, optional=True)]))
    entry = r.schedule[1]
    assert (entry.present, entry.start, entry.end, entry.phase, entry.verified) == (
        False, None, None, None, None)


def test_pin() -> None:
    r = solve_checked(scenario([c("a", start=7), c("b", "B")]))
    assert starts(r) == {"a": 7, "b": 0}


def test_earliest_start() -> None:
    r = solve_checked(scenario([c("a", earliest_start=4)]))
    assert starts(r) == {"a": 4}


def test_latest_end_orders_shared_work() -> None:
    # One team; b must end by 2, so b goes first: b [0,2), a [2,4).
    items = [c("a", duration=2, uses={"t": 1}), c("b", "B", 2, uses={"t": 1}, latest_end=2)]
    r = solve_checked(scenario(items, resources=[{"id": "t", "capacity": 1}]))
    assert starts(r) == {"a": 2, "b": 0}


def test_latest_end_can_make_it_infeasible() -> None:
    items = [c("a", duration=2, uses={"t": 1}, latest_end=2),
             c("b", "B", 2, uses={"t": 1}, latest_end=2)]
    r = solve_checked(scenario(items, resources=[{"id": "t", "capacity": 1}]))
    assert r.status == "infeasible"
    assert r.conflict is not None and r.conflict.rules == []


def test_horizon_bounds_every_end() -> None:
    items = [c(x, duration=3, uses={"t": 1}) for x in "abc"]
    r = solve_checked(scenario(items, horizon=8, resources=[{"id": "t", "capacity": 1}]))
    assert r.status == "infeasible"


# -- phases --------------------------------------------------------------------------

PHASES = [{"id": "P1", "min_length": 2, "max_length": 3}, {"id": "P2", "min_length": 2},
          {"id": "P3"}]


def test_allowed_phases_and_min_lengths() -> None:
    # b may only start in P3: P1 >= 2 and P2 >= 2, so b starts at 4 at the earliest.
    objective = {"terms": [{"metric": "makespan"}, {"metric": "weighted_completion"}]}
    r = solve_checked(scenario([c("a"), c("b", "B", phases=["P3"])], phases=PHASES,
                               objective=objective))
    assert r.metrics is not None and r.metrics.makespan == 5
    assert starts(r) == {"a": 0, "b": 4}
    assert [(p.id, p.start, p.end) for p in r.phases][:2] == [("P1", 0, 2), ("P2", 2, 4)]


def test_membership_is_by_start_and_may_run_past_the_phase() -> None:
    # a is long (6) and must start in P1, which lasts at most 3: it runs on into P2.
    r = solve_checked(scenario([c("a", duration=6, phases=["P1"]), c("b", "B",
                                                                    phases=["P2"])],
                               phases=PHASES))
    assert r.schedule[0].phase == "P1" and r.schedule[0].end == 6
    assert r.phases[0].end <= 3 < 6


def test_max_length_pushes_late_starts_out_of_the_phase() -> None:
    # a cannot start before 5 but must start in P1, which lasts at most 3.
    r = solve_checked(scenario([c("a", earliest_start=5, phases=["P1"])], phases=PHASES))
    assert r.status == "infeasible"
    assert r.conflict is not None
    fields = {(d.concession or d.phase, d.field) for d in r.conflict.demands}
    assert ("P1", "max_length") in fields


def test_phases_tile_from_zero_to_at_most_the_horizon() -> None:
    r = solve_checked(scenario([c("a", earliest_start=9)], phases=PHASES))
    windows = [(p.start, p.end) for p in r.phases]
    assert windows[0][0] == 0
    assert all(windows[k][1] == windows[k + 1][0] for k in range(2))
    assert windows[-1][1] <= 20
    assert r.schedule[0].phase is not None


def test_default_single_phase() -> None:
    r = solve_checked(scenario([c("a", duration=3)]))
    assert [(p.id, p.start, p.end) for p in r.phases] == [("P1", 0, 3)]


# -- resources -----------------------------------------------------------------------

def test_cumulative_resource() -> None:
    # Capacity 3: a (2) and b (1) together, then c (3): makespan 4.
    items = [c("a", duration=2, uses={"r": 2}), c("b", "B", 2, uses={"r": 1}),
             c("c", duration=2, uses={"r": 3})]
    r = solve_checked(scenario(items, resources=[{"id": "r", "capacity": 3}]))
    assert r.metrics is not None and r.metrics.makespan == 4


def test_two_resources() -> None:
    # a and b share r1, b and c share r2 (capacity 1 each): b first or last, 2 + 2 = 4.
    items = [c("a", duration=2, uses={"r1": 1}), c("b", "B", 2, uses={"r1": 1, "r2": 1}),
             c("c", duration=2, uses={"r2": 1})]
    r = solve_checked(scenario(items, resources=[{"id": "r1", "capacity": 1},
                                                 {"id": "r2", "capacity": 1}]))
    assert r.metrics is not None and r.metrics.makespan == 4
    s = starts(r)
    assert s["a"] == s["c"] and abs((s["b"] or 0) - (s["a"] or 0)) == 2


# -- verification, value, risk, credit (SPEC §2.3) --------------------------------------

METHODS = ["declaration", "public", "ntm", "monitoring", "inspection", "none"]


def _all_methods(**extra: Any) -> dict[str, Any]:
    # A's six concessions, all at 0 for 1, worth 20 to B; cost 20 costly -> risk 12 each.
    items = [c(m, value=20, verification=m, start=0) for m in METHODS]
    return scenario(items, **extra)


def test_verification_method_defaults() -> None:
    # B's credits: declaration 5 and public 20 at 1; ntm 15 and monitoring 18 at 2;
    # inspection 20 at 3; none never.
    r = solve_checked(_all_methods())
    assert [s.verified for s in r.schedule] == [1, 1, 2, 2, 3, None]
    assert r.exposure == {"A": [(0, 72)], "B": [(0, 0), (1, -25), (2, -58), (3, -78)]}


def test_verification_method_overrides() -> None:
    # ntm -> 50% after 3 (10 at 4); declaration lag 2 (5 at 3); the rest unchanged.
    r = solve_checked(_all_methods(verification_methods={
        "ntm": {"credit_pct": 50, "lag": 3}, "declaration": {"lag": 2}}))
    assert [s.verified for s in r.schedule] == [3, 1, 4, 2, 3, None]
    assert r.exposure["B"] == [(0, 0), (1, -20), (2, -38), (3, -63), (4, -73)]


def test_per_concession_lag_override() -> None:
    r = solve_checked(scenario([c("a", value=8, verification="monitoring",
                                  verification_lag=5, start=0)]))
    assert r.schedule[0].verified == 6
    assert r.exposure["B"] == [(0, 0), (6, -7)]


def test_value_map_with_three_parties() -> None:
    # a gives B 8 and C nothing: public credit 8 to B only. Risk: cost 8 costly -> 4.
    parties = [{"id": "A"}, {"id": "B"}, {"id": "C"}]
    r = solve_checked(scenario([c("a", value={"B": 8}, verification="public")],
                               parties=parties))
    assert r.exposure == {"A": [(0, 4)], "B": [(0, 0), (1, -8)], "C": [(0, 0)]}


def test_int_value_goes_to_every_other_party() -> None:
    # value 6 to each of B and C: total 12, cost 12 irreversible -> risk 12.
    parties = [{"id": "A"}, {"id": "B"}, {"id": "C"}]
    r = solve_checked(scenario([c("a", value=6, verification="public",
                                  reversibility="irreversible")], parties=parties))
    assert r.exposure == {"A": [(0, 12)], "B": [(0, 0), (1, -6)], "C": [(0, 0), (1, -6)]}


def test_cost_and_reversibility() -> None:
    # cost 10: reversible 2, costly 6, irreversible 10, started at 0, 1, 2.
    items = [c("r", cost=10, reversibility="reversible", start=0),
             c("k", cost=10, reversibility="costly", start=1),
             c("i", cost=10, reversibility="irreversible", start=2)]
    r = solve_checked(scenario(items))
    assert r.exposure["A"] == [(0, 2), (1, 8), (2, 18)]


def test_risk_and_credit_overrides() -> None:
    # risk 3 replaces floor(20 * 60%) = 12; credit {C: 4} replaces 100% of 10 to each.
    parties = [{"id": "A"}, {"id": "B"}, {"id": "C"}]
    r = solve_checked(scenario([c("a", value=10, risk=3, credit={"C": 4},
                                  verification="inspection")], parties=parties))
    assert r.exposure == {"A": [(0, 3)], "B": [(0, 0)], "C": [(0, 0), (3, -4)]}


def test_int_credit_override() -> None:
    parties = [{"id": "A"}, {"id": "B"}, {"id": "C"}]
    r = solve_checked(scenario([c("a", value=10, credit=1, verification="public")],
                               parties=parties))
    assert r.exposure["B"] == [(0, 0), (1, -1)] and r.exposure["C"] == [(0, 0), (1, -1)]


# -- rules switched off ----------------------------------------------------------------

def test_disabled_rules_are_ignored() -> None:
    # Every rule here would make the scenario infeasible or slower; all are disabled.
    rules = [
        {"id": "x", "kind": "exclusive", "concessions": ["a", "b"], "enabled": False},
        {"id": "p", "kind": "precedence", "before": "a", "after": "b", "min_lag": 50,
         "enabled": False},
        {"id": "cap", "kind": "exposure", "max": 0, "enabled": False},
        {"id": "bal", "kind": "phase_balance", "tolerance": 0, "enabled": False},
        {"id": "rec", "kind": "reciprocity", "a": "a", "b": "b", "max_gap": 0,
         "enabled": False},
    ]
    r = solve_checked(scenario([c("a", value=5), c("b", "B", 3, value=9, earliest_start=2)],
                               rules=rules))
    assert r.status == "optimal"
    assert starts(r) == {"a": 0, "b": 2}
