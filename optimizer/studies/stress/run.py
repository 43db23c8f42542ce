"""The stress test's front door: plan → blocks of draws → realisations → report."""

from __future__ import annotations

from collections.abc import Callable

from models.options import SolveOptions
from models.result import Result
from models.scenario import Scenario
from optimizer.studies.stress.accumulate import Counts
from optimizer.studies.stress.compiled import Compiled, compile_plan
from optimizer.studies.stress.ledger import exposure
from optimizer.studies.stress.realise import broken, realise
from optimizer.studies.stress.report import Accumulator, StressReport
from optimizer.studies.stress.sampling import blocks, draw_block

DEFAULT_SAMPLES = 10_000
MAX_SAMPLES = 100_000_000

__all__ = ["Counts", "PlanNotSolved", "measure", "plan_for", "stress"]


class PlanNotSolved(ValueError):
    """There is no roadmap to stress: the scenario (or the given plan) is not solved."""

    def __init__(self, result: Result) -> None:
        super().__init__(f"the scenario is {result.status}: there is no roadmap to stress")
        self.result = result


def plan_for(scenario: Scenario, plan: Result | None = None,
             options: SolveOptions | None = None) -> Result:
    """The roadmap to stress: ``plan`` as given, or the scenario solved now."""
    if plan is None:
        from optimizer.api import solve

        plan = solve(scenario, options)
    if not plan.solved:
        raise PlanNotSolved(plan)
    known = {c.id for c in scenario.concessions}
    unknown = [s.id for s in plan.schedule if s.id not in known]
    if unknown:
        raise ValueError(f"the plan is for another scenario: it schedules {unknown[0]!r}, "
                         "which this scenario does not have")
    return plan


def measure(comp: Compiled, samples: int, seed: int, *,
            on_block: Callable[[int, int], bool | None] | None = None) -> StressReport:
    """Run ``samples`` realisations of a compiled roadmap.

    ``on_block(done, total)`` is called after every block; returning True
    stops early (the report then covers the samples done).
    """
    if not 1 <= samples <= MAX_SAMPLES:
        raise ValueError(f"samples must be between 1 and {MAX_SAMPLES}, got {samples}")
    acc = Accumulator(comp)
    for block, size in blocks(samples):
        draws = draw_block(comp, seed, block, size)
        times = realise(comp, draws)
        peaks = exposure(comp, times, draws.pct, acc.grid)
        names, brk = broken(comp, times)
        acc.add(draws, times, peaks, names, brk)
        if on_block is not None and on_block(acc.samples, samples):
            break
    return acc.report(seed)


def stress(scenario: Scenario, plan: Result | None = None, samples: int = DEFAULT_SAMPLES,
           seed: int = 0, *, options: SolveOptions | None = None,
           on_block: Callable[[int, int], bool | None] | None = None) -> StressReport:
    """Stress a solved roadmap under the scenario's ``uncertainty`` (SPEC §5.7).

    Without ``plan`` the scenario is solved first (``optimizer.api.solve``
    with ``options``) and that roadmap is stressed. Raises ``PlanNotSolved``
    when there is no roadmap. The same seed gives the same report.
    """
    chosen = plan_for(scenario, plan, options)
    return measure(compile_plan(scenario, chosen), samples, seed, on_block=on_block)
