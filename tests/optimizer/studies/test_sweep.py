"""Sweep expansion: paths, ranges, lists, grid vs sampled, stable ids, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import ScenarioError, loads_scenario
from models.paths import set_path
from optimizer.studies.sweep import (
    load_sweep,
    make_sweep,
    parse_param,
    parse_values,
    sweep_from_dict,
    variant_id,
)

BASE = """
format: roadmap/v1
name: sweep base
horizon: 40
parties: [{id: A}, {id: B}]
phases: [{id: P1, max_length: 20}, {id: P2}]
concessions:
  - {id: a1, party: A, duration: 2, value: 3, verification: public}
  - {id: b1, party: B, duration: {min: 1, max: 3}, value: {A: 4}, verification: inspection}
rules:
  - {id: no_cliff, kind: exposure, max: 10}
  - {id: sync_1, kind: reciprocity, a: a1, b: b1, max_gap: 2}
"""


@pytest.fixture
def base():
    return loads_scenario(BASE, "yaml", "<base>")


def test_ranges_include_both_ends_and_lists_read_yaml_scalars():
    assert parse_values("2:20:2") == (2, 4, 6, 8, 10, 12, 14, 16, 18, 20)
    assert parse_values("36:120:12") == (36, 48, 60, 72, 84, 96, 108, 120)
    assert parse_values("3:1") == (3, 2, 1)
    assert parse_values("6,12") == (6, 12)
    assert parse_values("true,false") == (True, False)
    assert parse_values("{min: 1, max: 4},5") == ({"min": 1, "max": 4}, 5)
    assert parse_values("'a,b',c") == ("a,b", "c")


def test_param_text_is_split_at_the_first_equals_sign():
    p = parse_param("rules[no_cliff].max=2:6:2")
    assert p.path == "rules[no_cliff].max"
    assert p.values == (2, 4, 6)


def test_paths_reach_ids_indices_maps_and_wildcards(base):
    data = base.canonical_dict()
    set_path(data, "rules[no_cliff].max", 4)
    set_path(data, "concessions[b1].duration.max", 5)
    set_path(data, "concessions[*].priority", 3)
    set_path(data, "verification_methods.inspection.lag", 6)
    set_path(data, "concessions[b1].value[A]", 9)
    set_path(data, "objective.terms[0].metric", "peak_exposure")
    set_path(data, "horizon", 60)
    rules = {r["id"]: r for r in data["rules"]}
    conc = {c["id"]: c for c in data["concessions"]}
    assert rules["no_cliff"]["max"] == 4
    assert conc["b1"]["duration"] == {"min": 1, "max": 5}
    assert [c["priority"] for c in data["concessions"]] == [3, 3]
    assert data["verification_methods"] == {"inspection": {"lag": 6}}
    assert conc["b1"]["value"] == {"A": 9}
    with pytest.raises(ScenarioError, match="'value' is 3, not a list or a mapping"):
        set_path(data, "concessions[a1].value[B]", 9)
    assert data["objective"]["terms"][0]["metric"] == "peak_exposure"
    assert data["horizon"] == 60


def test_grid_order_last_parameter_fastest_and_values_applied(base):
    sw = make_sweep(["rules[no_cliff].max=4,8", "rules[sync_1].enabled=true,false"])
    variants = sw.expand(base, "base.yaml")
    assert [v.params for v in variants] == [
        {"rules[no_cliff].max": 4, "rules[sync_1].enabled": True},
        {"rules[no_cliff].max": 4, "rules[sync_1].enabled": False},
        {"rules[no_cliff].max": 8, "rules[sync_1].enabled": True},
        {"rules[no_cliff].max": 8, "rules[sync_1].enabled": False},
    ]
    last = variants[-1].scenario
    assert {r.id: r for r in last.rules}["no_cliff"].max == 8  # type: ignore[union-attr]
    assert {r.id: r for r in last.rules}["sync_1"].enabled is False
    assert variants[-1].label == "rules[no_cliff].max=8 rules[sync_1].enabled=false"
    assert len({v.id for v in variants}) == 4


def test_variant_ids_depend_only_on_the_parameter_values():
    a = variant_id({"horizon": 40, "rules[no_cliff].max": 4})
    b = variant_id({"rules[no_cliff].max": 4, "horizon": 40})
    assert a == b
    assert a != variant_id({"rules[no_cliff].max": 5, "horizon": 40})
    assert variant_id({}) == "base"
    assert a.startswith("v") and len(a) == 11


def test_random_sampling_is_seeded_distinct_and_a_subset_of_the_grid(base):
    grid = make_sweep(["rules[no_cliff].max=1:20", "horizon=30:40"])
    assert grid.grid_size == 220
    s1 = make_sweep(["rules[no_cliff].max=1:20", "horizon=30:40"], sample=7, seed=3)
    s2 = make_sweep(["rules[no_cliff].max=1:20", "horizon=30:40"], sample=7, seed=3)
    s3 = make_sweep(["rules[no_cliff].max=1:20", "horizon=30:40"], sample=7, seed=4)
    points = s1.points()
    assert points == s2.points()
    assert points != s3.points()
    assert len(points) == 7
    assert len({tuple(p.items()) for p in points}) == 7
    all_points = [tuple(p.items()) for p in grid.points()]
    assert all(tuple(p.items()) in all_points for p in points)
    # Sampled points keep grid order, so a bigger sample of the same seed reads naturally.
    assert [all_points.index(tuple(p.items())) for p in points] == \
        sorted(all_points.index(tuple(p.items())) for p in points)
    # Asking for more than the grid holds gives the whole grid.
    assert len(make_sweep(["horizon=30:32"], sample=10).points()) == 3


def test_sweep_file_yaml_format(tmp_path: Path, base):
    f = tmp_path / "sweep.yaml"
    f.write_text("""
format: roadmap-sweep/v1
scenarios: [base.yaml]
mode: random
samples: 3
seed: 1
parameters:
  rules[no_cliff].max: "2:10:2"
  concessions[a1].duration: [1, 3]
  horizon: {from: 40, to: 44, step: 2}
  rules[sync_1].enabled: false
""")
    sw = load_sweep(f)
    assert sw.scenarios == ("base.yaml",)
    assert [(p.path, p.values) for p in sw.params] == [
        ("rules[no_cliff].max", (2, 4, 6, 8, 10)),
        ("concessions[a1].duration", (1, 3)),
        ("horizon", (40, 42, 44)),
        ("rules[sync_1].enabled", (False,)),
    ]
    assert sw.grid_size == 30
    assert len(sw.expand(base)) == 3
    # --param on the command line replaces the file's parameter of the same path.
    merged = make_sweep(["horizon=50"], base=sw)
    assert merged.params[2].values == (50,)
    assert merged.mode == "random" and merged.samples == 3


@pytest.mark.parametrize("param, fragment", [
    ("rules[nope].max=3", "rules[nope].max: no element 'nope' in rules (known: no_cliff, sync_1)"),
    ("rules[no_cliff].maxx=3", "rules[no_cliff].maxx: unknown field 'maxx'"),
    ("rules[no_cliff].max=-1", "rules[no_cliff].max: value -1 makes the scenario invalid"),
    ("horizon=0", "horizon: value 0 makes the scenario invalid"),
    ("concessions[a1].duration.max=3", "'duration' is not a mapping"),
    ("rules[sync_1].enabled=maybe", "rules[sync_1].enabled: value 'maybe' makes the scenario"),
    ("horizon=10:1:2", "horizon: the range 10:1:2 is empty"),
    ("horizon=", "horizon: empty value"),
    ("rules[no_cliff]max=3", "unexpected 'm'"),
    ("no_equals_sign", "expected PATH=VALUES"),
    ("horizon=0:100000", "limit 10,000"),
])
def test_invalid_parameters_are_rejected_naming_the_parameter(base, param, fragment):
    with pytest.raises(ScenarioError) as info:
        make_sweep([param]).expand(base, "base.yaml")
    assert fragment in str(info.value)
    assert str(info.value).startswith("<command line>")


def test_an_invalid_combination_names_every_parameter_of_it(base):
    # Each value alone is valid; together the window cannot hold the duration.
    sw = make_sweep(["concessions[a1].latest_end=3", "concessions[a1].earliest_start=0,2"])
    with pytest.raises(ScenarioError) as info:
        sw.expand(base)
    assert "concessions[a1].latest_end + concessions[a1].earliest_start" in str(info.value)


@pytest.mark.parametrize("doc, fragment", [
    ({"parameters": {"horizon": [40]}, "colour": 1}, "colour: unknown key"),
    ({"format": "x", "parameters": {}}, "format: expected 'roadmap-sweep/v1'"),
    ({"mode": "random", "parameters": {"horizon": [40]}}, "samples: mode: random needs"),
    ({"mode": "zigzag"}, "mode: expected grid or random"),
    ({"parameters": {"horizon": []}}, "horizon: the list of values is empty"),
    ({"parameters": {"horizon": {"from": 1}}}, "horizon: a range is"),
    ([1, 2], "a sweep file is a mapping"),
])
def test_invalid_sweep_files_are_rejected(doc, fragment):
    with pytest.raises(ScenarioError) as info:
        sweep_from_dict(doc, "s.yaml")
    assert fragment in str(info.value)
    assert str(info.value).startswith("s.yaml")


def test_a_huge_grid_must_be_sampled(base):
    sw = make_sweep(["horizon=1:10000", "rules[no_cliff].max=1:100"])
    with pytest.raises(ScenarioError, match="sample it"):
        sw.points()
    assert len(make_sweep(["horizon=30:10000", "rules[no_cliff].max=1:100"], sample=2)
               .expand(base)) == 2
