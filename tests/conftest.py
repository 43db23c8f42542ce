"""Shared test helpers: every solve in the suite is verified by the checker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from models import Result, Scenario, SolveOptions, loads_scenario, parse_scenario

DATA = Path(__file__).parent / "data"


def scenario_from(spec: Scenario | dict[str, Any] | str) -> Scenario:
    if isinstance(spec, Scenario):
        return spec
    if isinstance(spec, str):
        return loads_scenario(spec, "yaml", "<test>")
    data = dict(spec)
    data.setdefault("format", "roadmap/v1")
    return parse_scenario(data, "<test>")


def solve_checked(spec: Scenario | dict[str, Any] | str, *, time_limit_s: float = 20.0,
                  workers: int = 1, seed: int = 0) -> Result:
    """Solve deterministically and verify the result with the independent checker."""
    from optimizer import solve
    from optimizer.check import assert_valid

    scenario = scenario_from(spec)
    result = solve(scenario, SolveOptions(time_limit_s=time_limit_s, workers=workers, seed=seed))
    assert_valid(scenario, result)
    return result


def starts(result: Result) -> dict[str, int | None]:
    return {s.id: s.start for s in result.schedule}


@pytest.fixture
def data_dir() -> Path:
    return DATA
