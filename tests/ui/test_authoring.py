"""The pure edit functions behind the Edit tab, on the hand-checked tiny scenario.

tiny_roadmap.yaml: concessions a1, b1, a2; rules freeze_first (a1 before a2),
in_step (a1 and b1 together), cap (exposure <= 4); objective makespan, then
peak exposure. Every edit is re-validated by ``parse_scenario``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from models import ScenarioError, load_scenario, parse_scenario
from ui import authoring
from ui.state import as_dict

TINY = Path(__file__).parent / "tiny_roadmap.yaml"


@pytest.fixture
def data() -> dict:  # type: ignore[type-arg]
    return as_dict(load_scenario(str(TINY)))


def _ok(data: dict) -> object:  # type: ignore[type-arg]
    return parse_scenario(data, "edited")


def test_add_duplicate_delete_concession(data) -> None:  # type: ignore[no-untyped-def]
    cid = authoring.add_concession(data, {"party": "B", "title": "Beta lifts", "duration": 2,
                                          "value": 3, "id": ""})
    assert cid == "step"
    sc = _ok(data)
    assert sc.concession("step").label == "Beta lifts"
    dup = authoring.duplicate_concession(data, "a1")
    assert dup == "a1_copy" and [c["id"] for c in data["concessions"]][:2] == ["a1", "a1_copy"]
    dropped = authoring.delete_concession(data, "a1")
    # a1 is named by freeze_first and in_step: both go with it.
    assert sorted(dropped) == ["freeze_first", "in_step"]
    assert [r.id for r in _ok(data).rules] == ["cap"]


def test_add_concession_with_a_used_id_is_refused(data) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="'a1' is already used"):
        authoring.add_concession(data, {"id": "a1", "party": "A", "duration": 1})


def test_rename_follows_the_id_into_rules(data) -> None:  # type: ignore[no-untyped-def]
    authoring.rename_concession(data, "a1", "alpha_freeze")
    sc = _ok(data)
    assert [r.refs() for r in sc.rules if r.refs()] == [["alpha_freeze", "a2"],
                                                       ["alpha_freeze", "b1"]]


def test_add_rule_of_every_kind_from_its_template(data) -> None:  # type: ignore[no-untyped-def]
    sc = _ok(data)
    for kind in authoring.RULE_TEMPLATES:
        rid = authoring.add_rule(data, authoring.rule_template(kind, sc))
        assert rid.startswith(kind)
    kinds = [r.kind for r in _ok(data).rules]
    assert kinds[3:] == list(authoring.RULE_TEMPLATES)


def test_bad_rule_is_refused_in_one_line(data) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="not valid YAML"):
        authoring.add_rule(data, "kind: [precedence")
    authoring.add_rule(data, "kind: precedence\nbefore: a1\nafter: nowhere\n")
    with pytest.raises(ScenarioError) as err:
        _ok(data)
    assert "\n" not in str(err.value) and "nowhere" in str(err.value)


def test_duplicate_and_delete_rule(data) -> None:  # type: ignore[no-untyped-def]
    assert authoring.duplicate_rule(data, "cap") == "cap_copy"
    authoring.delete_rule(data, "freeze_first")
    assert [r.id for r in _ok(data).rules] == ["in_step", "cap", "cap_copy"]


def test_move_term_reorders_the_objective(data) -> None:  # type: ignore[no-untyped-def]
    authoring.move_term(data, "peak_exposure", -1)
    assert [t.metric for t in _ok(data).objective.terms] == ["peak_exposure", "makespan"]
    authoring.move_term(data, "peak_exposure", -1)   # already first: stays
    assert [t["metric"] for t in data["objective"]["terms"]] == ["peak_exposure", "makespan"]


def test_diff_names_what_changed(data) -> None:  # type: ignore[no-untyped-def]
    source = _ok(data)
    data["rules"][2]["max"] = 3
    authoring.delete_concession(data, "a2")
    lines = authoring.diff(source, _ok(data))
    assert any(line.startswith("Concession removed: Alpha dismantles (a2)") for line in lines)
    assert any("Rule changed" in line and "max: 4 → 3" in line for line in lines)
    assert authoring.diff(source, source) == []


def test_read_scenario_remembers_a_file_until_it_changes(tmp_path: Path) -> None:
    import os

    from models.canonical import canonical_json
    from ui.state import read_scenario

    path = tmp_path / "tiny.yaml"
    path.write_text(TINY.read_text(encoding="utf-8"), encoding="utf-8")
    first, again = read_scenario(str(path)), read_scenario(str(path))
    assert canonical_json(first) == canonical_json(again) == canonical_json(load_scenario(TINY))
    assert first is not again                      # a copy each time: sessions never share one
    assert first.concessions[0] is not again.concessions[0]
    # An edited file is read again (its time and size are part of the key).
    path.write_text(TINY.read_text(encoding="utf-8").replace("a1", "alpha1"), encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert "alpha1" in [c.id for c in read_scenario(str(path)).concessions]
    # A missing file keeps load_scenario's own error.
    with pytest.raises(ScenarioError, match=r"missing\.yaml"):
        read_scenario(str(tmp_path / "missing.yaml"))
