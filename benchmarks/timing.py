"""Shared solver settings and a callback that times the first and best solution."""

from __future__ import annotations

import math
import time
from typing import Any

from ortools.sat.python import cp_model


def params(solver: cp_model.CpSolver, time_limit_s: float, workers: int, seed: int) -> None:
    """The settings every engine gets in a side-by-side run."""
    p = solver.parameters
    p.max_time_in_seconds = time_limit_s
    p.num_workers = workers
    p.random_seed = seed


class FirstBest(cp_model.CpSolverSolutionCallback):
    def __init__(self, t0: float) -> None:
        super().__init__()
        self._t0 = t0
        self.first_s: float | None = None
        self.best_s: float | None = None

    def on_solution_callback(self) -> None:
        now = time.perf_counter() - self._t0
        if self.first_s is None:
            self.first_s = now
        self.best_s = now

    @staticmethod
    def outcome(solver: cp_model.CpSolver,
                status: Any) -> tuple[str, int | None, int | None]:
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            value = round(solver.objective_value)
            bound = value if status == cp_model.OPTIMAL else math.ceil(
                solver.best_objective_bound - 1e-6)
            return ("optimal" if status == cp_model.OPTIMAL else "feasible"), value, bound
        if status == cp_model.INFEASIBLE:
            return "infeasible", None, None
        return "unknown", None, None
