"""together (SPEC §2.2): all present or all absent; present ones start in the same phase."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked, starts


def scenario(concessions: list[dict[str, Any]], rules: list[dict[str, Any]],
             **extra: Any) -> dict[str, Any]:
    return {"horizon": 20, "parties": [{"id": "A"}, {"id": "B"}],
            "concessions": concessions, "rules": rules, **extra}


def rule(ids: list[str], **fields: Any) -> dict[str, Any]:
    return {"id": "pkg", "kind": "together", "concessions": ids, **fields}


def _optional(cid: str, party: str, value: int) -> dict[str, Any]:
    return {"id": cid, "party": party, "duration": 1, "value": value, "optional": True}


PACKAGE = [_optional("a", "A", 2), _optional("b", "B", 3), _optional("c", "A", 4),
           {"id": "d", "party": "B", "duration": 1}]
BLOCK_C = {"id": "block", "kind": "exclusive", "concessions": ["c", "d"]}
EXCLUDED = {"terms": [{"metric": "excluded_value"}]}


def test_all_absent_when_one_cannot_be_present() -> None:
    # c is blocked by the required d, so a, b, c all go: excluded 2 + 3 + 4 = 9.
    r = solve_checked(scenario(PACKAGE, [rule(["a", "b", "c"]), BLOCK_C], objective=EXCLUDED))
    assert r.metrics is not None and r.metrics.excluded_value == 9
    assert starts(r) == {"a": None, "b": None, "c": None, "d": 0}


def test_disabled_rule_is_ignored() -> None:
    # Only c is lost: excluded 4.
    r = solve_checked(scenario(PACKAGE, [rule(["a", "b", "c"], enabled=False), BLOCK_C],
                               objective=EXCLUDED))
    assert r.metrics is not None and r.metrics.excluded_value == 4


def test_all_present_when_possible() -> None:
    r = solve_checked(scenario(PACKAGE, [rule(["a", "b", "c"])], objective=EXCLUDED))
    assert r.metrics is not None and r.metrics.excluded_value == 0
    assert all(s.present for s in r.schedule)


def test_required_member_forces_the_package_in() -> None:
    # d is required, so the long optional a must come too: makespan 6 instead of 1.
    a = {"id": "a", "party": "A", "duration": 6, "optional": True}
    d = {"id": "d", "party": "B", "duration": 1}
    r = solve_checked(scenario([a, d], [rule(["a", "d"])]))
    assert r.metrics is not None and r.metrics.makespan == 6
    free = solve_checked(scenario([a, d], [rule(["a", "d"], enabled=False)]))
    assert free.metrics is not None and free.metrics.makespan == 1


PHASES = [{"id": "P1", "max_length": 2}, {"id": "P2"}]
A1 = {"id": "a", "party": "A", "duration": 1}
B1 = {"id": "b", "party": "B", "duration": 1}
GAP = {"id": "gap", "kind": "precedence", "before": "a", "after": "b", "min_lag": 2}


def test_same_phase_delays_the_first() -> None:
    # b starts >= a.end + 2 >= 3 > B1 (P1 lasts at most 2), so b is in P2, and a must be
    # too: a starts at B1 >= 1. Best: B1 = 1, a [1,2), b [4,5): makespan 5.
    r = solve_checked(scenario([A1, B1], [rule(["a", "b"]), GAP], phases=PHASES))
    assert r.metrics is not None and r.metrics.makespan == 5
    assert starts(r) == {"a": 1, "b": 4}
    assert [s.phase for s in r.schedule] == ["P2", "P2"]
    assert r.phases[0].end == 1


def test_same_phase_disabled() -> None:
    # Free: a at 0 in P1, b at 3 in P2: makespan 4.
    r = solve_checked(scenario([A1, B1], [rule(["a", "b"], enabled=False), GAP], phases=PHASES))
    assert r.metrics is not None and r.metrics.makespan == 4
    assert starts(r) == {"a": 0, "b": 3}


def test_same_phase_follows_allowed_phases() -> None:
    # a may only start in P2 and P1 lasts at least 3: b follows a into P2.
    # Ends 4 + 4 = 8 (vs 4 + 1 = 5 without the rule).
    phases = [{"id": "P1", "min_length": 3}, {"id": "P2"}]
    a = {"id": "a", "party": "A", "duration": 1, "phases": ["P2"]}
    objective = {"terms": [{"metric": "weighted_completion"}]}
    r = solve_checked(scenario([a, B1], [rule(["a", "b"])], phases=phases, objective=objective))
    assert r.metrics is not None and r.metrics.weighted_completion == 8
    assert starts(r) == {"a": 3, "b": 3}
    free = solve_checked(scenario([a, B1], [rule(["a", "b"], enabled=False)], phases=phases,
                                  objective=objective))
    assert free.metrics is not None and free.metrics.weighted_completion == 5


def test_same_phase_but_not_same_time() -> None:
    # One phase only: together does not synchronise starts, the resource serialises them.
    a = {"id": "a", "party": "A", "duration": 2, "uses": {"r": 1}}
    b = {"id": "b", "party": "B", "duration": 2, "uses": {"r": 1}}
    r = solve_checked(scenario([a, b], [rule(["a", "b"])], resources=[{"id": "r",
                                                                       "capacity": 1}]))
    assert r.metrics is not None and r.metrics.makespan == 4
