"""Minimising the price of a correction: one solve, or two (balanced), under a stop control.

``balanced`` (SPEC §5.6) is lexicographic: first the largest bill charged to
one principal, then, keeping it, the total. The stage bound is an assumption
literal so that the same model serves the next (no-good) search.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from optimizer.explain.corrections.model import CorrectionModel
from optimizer.explain.corrections.warm import warm_start
from optimizer.solving.handle import StopControl
from optimizer.solving.hints import hint_solution

Report = Callable[[str], None]
TWO_WORKERS = ["no_lp", "max_lp"]


@dataclass
class Found:
    solver: cp_model.CpSolver
    proven: bool          # every stage proved optimal
    cost: int
    worst: int


class _Watch(cp_model.CpSolverSolutionCallback):
    def __init__(self, report: Report | None, label: str,
                 cm: CorrectionModel | None = None,
                 on_solution: Callable[[list[int]], None] | None = None) -> None:
        super().__init__()
        self._report, self._label, self._cm = report, label, cm
        self._on_solution = on_solution

    def on_solution_callback(self) -> None:
        if self._cm is not None or self._on_solution is not None:
            values = list(self.response_proto.solution)
            if self._cm is not None:
                self._cm.pool.append((int(self.value(self._cm.total)),
                                      int(self.value(self._cm.worst_bill)), values))
            if self._on_solution is not None:
                self._on_solution(values)
        if self._report is not None:
            self._report(f"{self._label}: best cost {int(self.objective_value)}, "
                         f"bound {int(self.best_objective_bound)}")


def _solver(budget: float, workers: int, control: StopControl,
            no_lp: bool = False) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers = max(1, workers)
    if no_lp:
        p.linearization_level = 0       # CP-SAT's no_lp strategy on one worker
    if workers == 2:
        # CP-SAT's two-worker portfolio leans on the LP, which bounds these
        # price sums poorly; this list found and proved the answers faster on
        # every case measured (seed, DPRK cap 3: corrections 2 and 3 in 4.0
        # and 3.9 s instead of 6.3 and 7.4, mean of 3 seeds; generated n=50:
        # first correction 0.37 s instead of 3.09; docs/decisions.md, 43).
        # With two workers CP-SAT runs only the first entry as a full search
        # (no_lp; its log says "1 full problem subsolver"), the other thread
        # its neighbourhood searches; two full searches (num_full_subsolvers
        # 2: no_lp with max_lp, pseudo_costs or quick_restart_no_lp) and
        # other first entries were slower (docs/decisions.md, 46).
        p.subsolvers.extend(TWO_WORKERS)
    p.random_seed = 0
    p.max_time_in_seconds = max(budget, 0.001)
    p.catch_sigint_signal = False
    p.log_search_progress = True
    p.log_to_stdout = False
    solver.log_callback = lambda _line: control.mark_running()
    return solver


def _hint_known(cm: CorrectionModel, worst_cap: int | None = None,
                by_worst: bool = False) -> bool:
    """Hint the cheapest solution an earlier search met that the no-goods still allow.

    A later search's model is the earlier one plus no-goods, so such a solution
    is complete and feasible: CP-SAT starts from its cost instead of
    rediscovering it. On the seed with the DPRK cap at 3, before ``warm``,
    the second search met the third's optimum (104) on its way to 94; hinted,
    the third search took 1.7 s instead of 3.6-4.0 (CPU 3.3 s instead of
    about 7). From ``warm``'s start the second meets 94 at once, and the
    third starts from 111 (2.8 s on two workers, 3.2 s on one).
    False when nothing recorded is allowed: the first search keeps the greedy
    schedule of ``build_corrections``, a later one takes ``warm``'s start.
    """
    best = cm.best_known(worst_cap, by_worst)
    if best is None:
        return False
    hint_solution(cm.model, best[2])
    return True


def _start(cm: CorrectionModel, deadline: float, workers: int, no_lp: bool,
           control: StopControl, watch: _Watch, worst_cap: int | None = None,
           by_worst: bool = False) -> list[int] | None:
    """Hint the search: from the pool, else (a later search: the pool holds only
    solutions the no-goods now exclude) from the restricted solves of ``warm``.
    The warm start's solution, when it is the hint (None: a recorded one, or
    the greedy schedule of ``build_corrections``)."""
    if _hint_known(cm, worst_cap, by_worst) or not cm.pool:
        return None

    def solve(m: cp_model.CpModel, budget: float) -> tuple[int, list[int]] | None:
        if control.stopped:
            return None
        solver = _solver(budget, workers, control, no_lp)
        st = _run(m, solver, control, watch)
        if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return int(solver.objective_value), list(solver.response_proto.solution)

    values = warm_start(cm, deadline, solve)
    if values is not None:
        hint_solution(cm.model, values)
    return values


def _run(m: cp_model.CpModel, solver: cp_model.CpSolver, control: StopControl,
         watch: _Watch) -> int:
    control.attach(solver)
    try:
        return int(solver.solve(m, watch))
    finally:
        control.attach(None)


def minimise(cm: CorrectionModel, *, balanced: bool, deadline: float, workers: int,
             control: StopControl, report: Report | None = None,
             label: str = "finding the cheapest correction", beside: bool = False,
             on_hint: Callable[[list[int]], None] | None = None,
             on_solution: Callable[[list[int]], None] | None = None,
             shared: Callable[[], bool] | None = None) -> Found | None:
    """The cheapest correction the model still allows (None: none, or none in time).

    ``beside``: another solve (a verification) runs meanwhile. With two workers
    the search then takes one, as CP-SAT's no_lp strategy (the full search
    of decision 43's pair; ``linearization_level`` 0), and leaves the other
    core to it: three threads on two cores slowed all three (seed, DPRK cap
    3, load about 2, the same pool: the third search 3.3-3.9 s on two
    workers, 1.9-2.1 on one; the second, from its warm start, 2.5-2.8 and
    1.4-1.5 s; docs/decisions.md, 52). Alone, a search keeps both workers
    (the generated roadmaps' searches, mostly not proven in their share of
    the limit, lean on the neighbourhood searches of the second one).

    ``on_hint``: told the warm start's solution when the last stage starts from
    it, before its search, so that the caller can search on from it
    meanwhile: the optimum of a restricted model is often the answer, and
    the search then spends its time proving it (seed, DPRK cap 3: 94, the
    second search's answer). A solution recorded by an earlier search is
    not told: it is one that search passed on its way to a cheaper one
    (generated n=50: 940, against the answer 33; seed: 111 against 104).
    ``on_solution``: told each solution the last stage meets (its warm start's
    too), as values of every variable.
    ``shared``: asked, once the last stage's hint is set (after ``on_hint``),
    whether its search shares the machine (None: as ``beside``); on two
    workers it then takes one, else both. ``find_corrections`` shares it only
    with a lookahead: a verification beside it mostly ends within a second,
    and from a poor recorded hint one worker is slow (generated n=50: from
    940, search 2 took 4.5-5.5 s on one worker beside a 0.2 s verification,
    1.0-1.8 s on two; docs/decisions.md, 62).
    """
    requested = workers
    no_lp = beside and workers == 2
    if no_lp:
        workers = 1
    m = cm.model
    proven = True
    worst_cap = None
    first: Found | None = None
    m.clear_assumptions()
    if balanced:
        if control.stopped or deadline - time.monotonic() <= 0:
            return None
        m.minimize(cm.worst_bill)
        watch = _Watch(report, label + " (largest bill)", cm)
        _start(cm, deadline, workers, no_lp, control, watch, by_worst=True)
        solver = _solver(deadline - time.monotonic(), workers, control, no_lp)
        st = _run(m, solver, control, watch)
        if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        proven = st == cp_model.OPTIMAL
        best = int(solver.objective_value)
        first = Found(solver, False, int(solver.value(cm.total)), best)
        worst_cap = m.new_bool_var("stage:worst")
        m.add(cm.worst_bill <= best).only_enforce_if(worst_cap)
        m.add_assumptions([worst_cap])
    if control.stopped and worst_cap is None:
        return None
    m.minimize(cm.total)
    watch = _Watch(report, label, cm, on_solution)
    hinted = _start(cm, deadline, workers, no_lp, control, watch,
                    None if first is None else first.worst)
    if hinted is not None and on_hint is not None and not control.stopped:
        on_hint(hinted)
    if shared is not None and requested == 2:
        no_lp = shared()
        workers = 1 if no_lp else requested
    solver = _solver(max(deadline - time.monotonic(), 0.05), workers, control, no_lp)
    st = _run(m, solver, control, watch)
    m.clear_assumptions()
    if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return first          # stopped between the stages: the first stage's answer
    proven = proven and st == cp_model.OPTIMAL and not control.stopped
    return Found(solver, proven, int(solver.objective_value),
                 int(solver.value(cm.worst_bill)))
