"""Checking a correction on the scenario itself: irreducible, then verified.

Both work on the corrected *scenario* (the changes written at their paths
with ``models.paths.set_path``), not on the correction model, so that they
test what a planner would get by applying the changes:

* ``reduce``: undo each change, and take each amount back one unit; when the
  scenario stays feasible, keep the smaller correction and try again, until
  every such step leaves it infeasible (a fixed point, so irreducible by
  SPEC §5.6's definition);
* ``verify``: the validated corrected scenario solves, and its schedule
  passes the independent checker; its metrics are the correction's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ortools.sat.python import cp_model

from models.loading import parse_scenario
from models.options import SolveOptions
from models.paths import set_path
from models.result import Result
from models.scenario import Scenario
from optimizer.explain.corrections.prices import ChangeSpec
from optimizer.model.build import BuildTimeout, build
from optimizer.solving.handle import StopControl

FEASIBLE, INFEASIBLE, UNKNOWN = "feasible", "infeasible", "unknown"
# Less time than this left: a verifying solve would only overrun the limit
# (each of its stages takes at least stages.MIN_STAGE_S).
MIN_VERIFY_S = 0.2
# Kept back from a verifying solve's limit: its last stage may take
# MIN_STAGE_S past it, and CP-SAT stops a large model's search some
# hundredths late (generated n=195: verifications ended 0.06-0.13 s after it).
VERIFY_MARGIN_S = 0.1


def _data(sc: Scenario, changes: Sequence[ChangeSpec]) -> dict[str, Any]:
    data = sc.model_dump(mode="json", by_alias=True)
    for ch in changes:
        set_path(data, ch.path, ch.to)
    return data


def corrected(sc: Scenario, changes: Sequence[ChangeSpec]) -> Scenario:
    """The scenario with the changes applied, fully validated (ScenarioError if not)."""
    return parse_scenario(_data(sc, changes), "<correction>")


def trial(sc: Scenario, changes: Sequence[ChangeSpec]) -> Scenario:
    """The same, checked by the types only (an intermediate step may break validation)."""
    return Scenario.model_validate(_data(sc, changes))


def feasibility(sc: Scenario, deadline: float, workers: int, control: StopControl) -> str:
    """Is ``sc`` feasible as written? (a plain solve, no objective)."""
    budget = deadline - time.monotonic()
    if budget <= 0 or control.stopped:
        return UNKNOWN
    try:
        h = build(sc, deadline=deadline)
    except BuildTimeout:
        return UNKNOWN
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers = max(1, workers)
    p.random_seed = 0
    p.max_time_in_seconds = budget
    p.catch_sigint_signal = False
    p.log_search_progress = True
    p.log_to_stdout = False
    solver.log_callback = lambda _line: control.mark_running()
    control.attach(solver)
    try:
        st = solver.solve(h.model)
    finally:
        control.attach(None)
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return FEASIBLE
    return INFEASIBLE if st == cp_model.INFEASIBLE else UNKNOWN


def _back_one(ch: ChangeSpec) -> list[ChangeSpec]:
    """The change taken back by one unit (several ways for a phase list)."""
    if ch.kind == "amount":
        to = int(ch.to)
        step = 1 if to > int(ch.current) else -1
        back = to - step
        return [] if back == int(ch.current) else [ch.moved(back)]
    if ch.kind == "phases":
        added = [p for p in ch.to if p not in (ch.current or [])]
        if len(added) <= 1:
            return []
        return [ch.moved([p for p in ch.to if p != a]) for a in added]
    return []


def reduce(sc: Scenario, changes: list[ChangeSpec], deadline: float, workers: int,
           control: StopControl, bisect: bool = True) -> tuple[list[ChangeSpec], bool]:
    """(an irreducible sub-correction, whether every step was decided in time).

    ``bisect``: first search each large amount down by halving (worth it for an
    answer not proven cheapest, which may overshoot; a proven one is checked
    one unit back directly).
    """
    current = list(changes)
    while True:
        improved = False
        for i in range(len(current)):
            others = current[:i] + current[i + 1:]
            candidates = [others] + [[*others[:i], b, *others[i:]]
                                     for b in _amounts_back(sc, current, i, deadline,
                                                            workers, control, bisect)]
            for cand in candidates:
                st = feasibility(trial(sc, cand), deadline, workers, control)
                if st == UNKNOWN:
                    return current, False
                if st == FEASIBLE:
                    current, improved = cand, True
                    break
            if improved:
                break
        if not improved:
            return current, True


def _amounts_back(sc: Scenario, current: list[ChangeSpec], i: int, deadline: float,
                  workers: int, control: StopControl, bisect: bool = True) -> list[ChangeSpec]:
    """The one-unit-back versions of change ``i``; for a number moved far, the
    search first bisects to the least amount that still works (monotone)."""
    ch = current[i]
    if not bisect or ch.kind != "amount" or ch.direction == 0 or ch.units <= 2:
        return _back_one(ch)
    lo, hi = 0, ch.units            # lo: known infeasible (undo), hi: known feasible
    others = current[:i] + current[i + 1:]
    while hi - lo > 1 and not control.stopped:
        mid = (lo + hi) // 2
        cand = ch.moved(int(ch.current) + ch.direction * mid)
        st = feasibility(trial(sc, [*others[:i], cand, *others[i:]]), deadline, workers,
                         control)
        if st == FEASIBLE:
            hi = mid
        elif st == INFEASIBLE:
            lo = mid
        else:
            break
    if hi == ch.units:
        return _back_one(ch)
    return [ch.moved(int(ch.current) + ch.direction * hi)]


def verify(sc: Scenario, changes: Sequence[ChangeSpec], deadline: float, workers: int,
           control: StopControl, no_lp: bool = False) -> tuple[str, Result | None]:
    """(verdict, the corrected scenario's checked result: its metrics are the correction's).

    The verdict is ``verified``, ``failed`` (no schedule, or the checker
    objects: never offered) or ``unknown`` (no schedule found in time).
    ``no_lp``: solved without CP-SAT's linear relaxation (``stages.solve``),
    still to optimality.
    """
    from optimizer.check import check
    from optimizer.solving.stages import solve

    fixed = corrected(sc, changes)
    # Within the caller's time limit, never past it (a correction found at
    # the end is offered unverified, and says so).
    budget = deadline - time.monotonic() - VERIFY_MARGIN_S
    if budget < MIN_VERIFY_S or control.stopped:
        return "unknown", None
    result = solve(fixed, SolveOptions(time_limit_s=budget, workers=max(1, workers)),
                   control=control, no_lp=no_lp)
    if result.status == "infeasible":
        return "failed", None
    if not result.solved:
        return "unknown", None
    if check(fixed, result):
        return "failed", None
    return "verified", result
