"""exclusive (SPEC §2.2): at most one of the listed concessions is present."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked, starts


def scenario(concessions: list[dict[str, Any]], rules: list[dict[str, Any]],
             **extra: Any) -> dict[str, Any]:
    return {"horizon": 10, "parties": [{"id": "A"}, {"id": "B"}],
            "concessions": concessions, "rules": rules,
            "objective": {"terms": [{"metric": "excluded_value"}]}, **extra}


def rule(ids: list[str], **fields: Any) -> dict[str, Any]:
    return {"id": "one_of", "kind": "exclusive", "concessions": ids, **fields}


def _opt(cid: str, value: int, party: str = "A") -> dict[str, Any]:
    return {"id": cid, "party": party, "duration": 1, "value": value, "optional": True}


def test_keeps_the_more_valuable() -> None:
    # Two parties: value v to the other party is total v. Keep a (5), drop b (3).
    r = solve_checked(scenario([_opt("a", 5), _opt("b", 3)], [rule(["a", "b"])]))
    assert r.metrics is not None and r.metrics.excluded_value == 3
    assert starts(r) == {"a": 0, "b": None}


def test_disabled_rule_is_ignored() -> None:
    r = solve_checked(scenario([_opt("a", 5), _opt("b", 3)], [rule(["a", "b"], enabled=False)]))
    assert r.metrics is not None and r.metrics.excluded_value == 0


def test_three_way_choice() -> None:
    # Keep the 7: excluded 2 + 4 = 6.
    items = [_opt("a", 2), _opt("b", 7, "B"), _opt("c", 4)]
    r = solve_checked(scenario(items, [rule(["a", "b", "c"])]))
    assert r.metrics is not None and r.metrics.excluded_value == 6
    assert [s.present for s in r.schedule] == [False, True, False]


def test_required_member_excludes_the_rest() -> None:
    # a is required, so b and c go: excluded 9 + 1 = 10.
    a = {"id": "a", "party": "A", "duration": 1, "value": 1}
    r = solve_checked(scenario([a, _opt("b", 9), _opt("c", 1, "B")], [rule(["a", "b", "c"])]))
    assert r.metrics is not None and r.metrics.excluded_value == 10


def test_overlapping_exclusions() -> None:
    # a-b and b-c exclusive: keep a and c (3 + 3) rather than b (5): excluded 5.
    items = [_opt("a", 3), _opt("b", 5, "B"), _opt("c", 3)]
    rules = [rule(["a", "b"]), {"id": "x2", "kind": "exclusive", "concessions": ["b", "c"]}]
    r = solve_checked(scenario(items, rules))
    assert r.metrics is not None and r.metrics.excluded_value == 5
    assert starts(r)["b"] is None


def test_value_map_decides_with_three_parties() -> None:
    # a gives B 2 and C 2 (total 4); b gives 3 to each other party (total 6): keep b.
    parties = [{"id": "A"}, {"id": "B"}, {"id": "C"}]
    a = {"id": "a", "party": "A", "duration": 1, "value": {"B": 2, "C": 2}, "optional": True}
    b = {"id": "b", "party": "B", "duration": 1, "value": 3, "optional": True}
    r = solve_checked(scenario([a, b], [rule(["a", "b"])], parties=parties))
    assert r.metrics is not None and r.metrics.excluded_value == 4
    assert starts(r) == {"a": None, "b": 0}


def test_two_required_are_infeasible() -> None:
    a = {"id": "a", "party": "A", "duration": 1}
    b = {"id": "b", "party": "B", "duration": 1}
    r = solve_checked(scenario([a, b], [rule(["a", "b"])]))
    assert r.status == "infeasible"
    assert r.conflict is not None and r.conflict.rules == ["one_of"]
