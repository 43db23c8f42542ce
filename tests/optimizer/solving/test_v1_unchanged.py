"""SPEC §5: a scenario without the v1.1 fields solves exactly as under v1; only ``ledger`` is new.

``tests/data/v1/us_dprk_2018.yaml`` is the seed roadmap as it was before v1.1 (the built-in
dataset is being reworked); its figures below are the ones v1 reported for it
(``roadmap solve us_dprk_2018 --workers 1 --seed 0``, recorded before this change).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from models import Result, Scenario, list_datasets, load_scenario
from tests.conftest import DATA, solve_checked


def _v1(sc: Scenario) -> Scenario:
    """The scenario with every v1.1 field of §5.1-5.3 absent."""
    rules = [r.model_copy(update={"verification_delay": 0}) if r.kind == "exposure" else r
             for r in sc.rules]
    return sc.model_copy(update={"principals": None, "credit_keep": None, "rules": rules})


def _explicit_defaults(sc: Scenario) -> Scenario:
    """The same scenario with §5.1/§5.2 spelt out at their defaults (every party, keep 100)."""
    data: dict[str, Any] = sc.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["principals"] = sc.party_ids
    data["credit_keep"] = {"reversible": 100, "costly": 100, "irreversible": 100}
    return Scenario.model_validate(data)


def _same(a: Result, b: Result) -> None:
    assert a.status == b.status
    assert a.metrics == b.metrics
    assert [o.model_dump() for o in a.objective] == [o.model_dump() for o in b.objective]
    assert a.schedule == b.schedule and a.phases == b.phases and a.exposure == b.exposure


def test_the_v1_seed_keeps_its_v1_figures() -> None:
    sc = load_scenario(DATA / "v1" / "us_dprk_2018.yaml")
    r = solve_checked(sc, time_limit_s=60)
    assert r.status == "optimal"
    assert r.metrics is not None and r.metrics.model_dump() == {
        "makespan": 113, "weighted_completion": 2169, "peak_exposure": 11,
        "excluded_value": 0, "phase_imbalance": 132}
    assert [(o.metric, o.value, o.bound) for o in r.objective] == [
        ("peak_exposure", 8, 8), ("makespan", 113, 113), ("weighted_completion", 2169, 2169)]
    # The ledger is new; each party's peak agrees with the v1 exposure curve.
    assert {p: lg.peak for p, lg in r.ledger.items()} == {
        p: max(0, *(lv for _, lv in pts)) for p, pts in r.exposure.items()}
    _same(r, solve_checked(_explicit_defaults(sc), time_limit_s=60))


@pytest.mark.parametrize("path", list_datasets(), ids=lambda p: p.stem)
def test_absent_fields_mean_their_v1_defaults(path: Path) -> None:
    sc = _v1(load_scenario(path))
    _same(solve_checked(sc, time_limit_s=60), solve_checked(_explicit_defaults(sc),
                                                            time_limit_s=60))
