"""The front door for scripts: solve, solve in the background, explain.

``optimizer.solve`` and ``optimizer.start_solve`` resolve here. A solve made
through this module attaches the minimal conflict to an infeasible result
(SPEC §3); the lower layer (``optimizer.solving``) solves only, so that the
explanations, which solve many times themselves, sit above it without a loop.
Studies (batch, sweeps, Pareto, backtests) call this module, never the
stages directly.
"""

from __future__ import annotations

from collections.abc import Callable

from models.options import SolveOptions
from models.result import Conflict, Result
from models.scenario import Scenario
from optimizer.explain.conflict import find_conflict
from optimizer.explain.explanation import Explanation, explain_scenario
from optimizer.model.broken import broken
from optimizer.solving.handle import Progress, SolveHandle, StopControl
from optimizer.solving.stages import solve as solve_stages

__all__ = ["Explanation", "Progress", "SolveHandle", "StopControl", "explain_scenario",
           "find_conflict_by", "solve", "start_solve"]


def find_conflict_by(scenario: Scenario, deadline: float) -> Conflict | None:
    """The conflict finder a solve attaches to an infeasible result."""
    return find_conflict(scenario, deadline=deadline)


def solve(scenario: Scenario, options: SolveOptions | None = None, *,
          on_progress: Callable[[Progress], None] | None = None,
          control: StopControl | None = None, explain_infeasible: bool = True,
          planned: dict[str, int] | None = None) -> Result:
    """Solve a scenario to an optimal (or best found) phased schedule.

    ``planned``: planned starts to stay near (a last ``deviation`` stage, SPEC §5.5).
    """
    result = solve_stages(scenario, options, on_progress=on_progress, control=control,
                          explain_infeasible=find_conflict_by if explain_infeasible else None,
                          planned=planned)
    if scenario.progress is not None:   # SPEC §5.5: what the record breaks
        result.broken = broken(scenario)
    return result


def _target(scenario: Scenario, options: SolveOptions | None,
            on_progress: Callable[[Progress], None], control: StopControl) -> Result:
    return solve(scenario, options, on_progress=on_progress, control=control)


def _target_bare(scenario: Scenario, options: SolveOptions | None,
                 on_progress: Callable[[Progress], None], control: StopControl) -> Result:
    return solve(scenario, options, on_progress=on_progress, control=control,
                 explain_infeasible=False)


def start_solve(scenario: Scenario, options: SolveOptions | None = None, *,
                explain_infeasible: bool = True) -> SolveHandle:
    """The same solve in a worker thread: progress queue, ``stop()``, ``wait()``.

    ``explain_infeasible=False``: an infeasible result comes back at once,
    without a conflict (the app explains it in a job of its own).
    """
    return SolveHandle(_target if explain_infeasible else _target_bare, scenario, options)
