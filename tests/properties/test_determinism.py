"""With one worker and a fixed seed, two solves give the identical schedule."""

from __future__ import annotations

import random
from typing import Any

from models import Result, load_scenario
from tests.conftest import solve_checked


def _without_timing(r: Result) -> dict[str, Any]:
    data = r.to_dict()
    del data["solver"]["wall_time_s"]
    return data


def medium(seed: int = 3) -> dict[str, Any]:
    # Enough freedom for many optimal schedules, so a nondeterministic search would show.
    rnd = random.Random(seed)
    cons = [{"id": f"c{i}", "party": "AB"[i % 2], "duration": rnd.randint(1, 4),
             "value": rnd.randint(1, 6), "optional": i % 5 == 4,
             "verification": "public", "uses": {"team": 1}} for i in range(10)]
    return {"horizon": 60, "parties": [{"id": "A"}, {"id": "B"}],
            "phases": [{"id": "P1"}, {"id": "P2"}],
            "resources": [{"id": "team", "capacity": 1}], "concessions": cons,
            "rules": [{"id": "cap", "kind": "exposure", "max": 8},
                      {"id": "order", "kind": "precedence", "before": "c0", "after": "c1"}],
            "objective": {"terms": [{"metric": "excluded_value"}, {"metric": "makespan"}]}}


def test_two_solves_are_identical() -> None:
    first = solve_checked(medium())
    second = solve_checked(medium())
    assert first.status == "optimal"
    assert _without_timing(first) == _without_timing(second)


def test_seed_dataset_is_deterministic() -> None:
    sc = load_scenario("us_dprk_2018")
    first = solve_checked(sc, time_limit_s=60)
    second = solve_checked(sc, time_limit_s=60)
    assert first.status == "optimal"
    assert [s.model_dump() for s in first.schedule] == [s.model_dump() for s in second.schedule]
    assert first.phases == second.phases and first.metrics == second.metrics
