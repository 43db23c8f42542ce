"""``solve(..., no_lp=True)``: CP-SAT without its LP, the same optimum (decision 52)."""

from __future__ import annotations

from typing import Any

from ortools.sat.python import cp_model

from models import SolveOptions, load_scenario
from optimizer.solving.stages import solve


def test_no_lp_turns_the_lp_off_in_every_stage_and_keeps_the_optimum(
        monkeypatch: Any) -> None:
    levels: list[int] = []
    real = cp_model.CpSolver.solve

    def spy(self: cp_model.CpSolver, model: Any, callback: Any = None) -> Any:
        levels.append(self.parameters.linearization_level)
        return real(self, model, callback)

    monkeypatch.setattr(cp_model.CpSolver, "solve", spy)
    sc = load_scenario("us_dprk_2018")
    opts = SolveOptions(time_limit_s=20, workers=1)
    plain = solve(sc, opts)
    default_levels, levels[:] = list(levels), []
    bare = solve(sc, opts, no_lp=True)
    assert plain.status == bare.status == "optimal"
    assert [(o.metric, o.value) for o in plain.objective] == \
        [(o.metric, o.value) for o in bare.objective]
    assert levels and set(levels) == {0}
    assert 0 not in default_levels           # CP-SAT's default (1) otherwise
