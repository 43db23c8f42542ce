"""Makespan against breach probability (``roadmap pareto --y breach_probability``).

The candidates are the hardening levers' roadmaps (``harden.variant``) swept
over strengths k: each is solved on the batch executor, re-issued for the
original scenario (``harden.reissue``: its starts pinned and solved under the
original rules, checked by the checker) and stressed under the original's
``uncertainty`` with one seed. The unhardened roadmap is the k = 0 point. The
front keeps the non-dominated (makespan, breach probability) pairs: the
shortest roadmap for each level of safety. Breach probability is the highest
over the caps, as in hardening.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from models.options import SolveOptions
from models.result import Result
from models.scenario import Scenario
from optimizer.studies.pareto import ParetoFront, ParetoPoint, _non_dominated
from optimizer.studies.stress.compiled import compile_plan
from optimizer.studies.stress.harden import (
    LEVERS,
    batch_solver,
    reissue,
    variant,
    widest_delay,
)
from optimizer.studies.stress.run import DEFAULT_SAMPLES, measure, plan_for

Y = "breach_probability"
SWEEP = (1, 2, 3, 4, 6, 8, 12, 16, 24, 36, 48)


def default_ks(scenario: Scenario) -> list[int]:
    """Strengths up to the widest delay in the ``uncertainty`` section (at least 1)."""
    spread = min(widest_delay(scenario), scenario.horizon)
    return sorted({k for k in SWEEP if k <= spread} | {spread})


def breach_front(scenario: Scenario, plan: Result | None = None, *,
                 levers: Sequence[str] = LEVERS, ks: Sequence[int] | None = None,
                 samples: int = DEFAULT_SAMPLES, seed: int = 0,
                 options: SolveOptions | None = None, executor: str | Executor = "local",
                 jobs: int = 1, address: str | None = None,
                 solve_batch: Callable[[list[Scenario]], list[Result | None]] | None = None,
                 on_point: Callable[[ParetoPoint], None] | None = None) -> ParetoFront:
    """The (makespan, breach probability) front over the levers' candidate roadmaps."""
    from optimizer.check import check

    for lever in levers:
        if lever not in LEVERS:
            raise ValueError(f"unknown hardening lever {lever!r} (expected one of "
                             f"{', '.join(LEVERS)})")
    opts = options or SolveOptions(time_limit_s=30.0, workers=1)
    strengths = sorted({k for k in (ks if ks is not None else default_ks(scenario)) if k > 0})
    base = plan_for(scenario, plan, opts)
    front = ParetoFront("makespan", Y)
    found: list[ParetoPoint] = []

    def add(result: Result, status: str, k: int | None, label: str) -> None:
        rep = measure(compile_plan(scenario, result), samples, seed)
        assert result.metrics is not None
        point = ParetoPoint(result.metrics.makespan, rep.breach_probability, k, status, None,
                            result, scenario, label)
        found.append(point)
        if on_point is not None:
            on_point(point)

    add(base, base.status, None, "unhardened")
    solver = solve_batch or batch_solver(opts, executor, jobs, address)
    try:
        for lever in levers:
            candidates = [variant(scenario, lever, k) for k in strengths]
            results = solver(candidates)
            front.solves += len(candidates)
            for k, res in zip(strengths, results, strict=True):
                issued = reissue(scenario, res, opts) if res is not None and res.solved \
                    else None
                if res is None or issued is None:
                    continue
                problems = check(scenario, issued)
                if problems:
                    raise RuntimeError(f"internal error: the {lever}={k} roadmap fails the "
                                       f"checker: {problems[0]}")
                add(issued, res.status, k, f"{lever}={k}")
    finally:
        closer = getattr(solver, "close", None)
        if solve_batch is None and closer is not None:
            closer()
    front.points = _non_dominated(found)
    return front
