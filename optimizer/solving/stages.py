"""Staged (lexicographic) or weighted optimisation of a built model.

``solve`` runs in the caller's thread. It knows nothing of explanations: a
caller that wants the minimal conflict of an infeasible scenario attached
passes a ``ConflictFinder`` (``optimizer.api.solve`` does). The worker-thread
handle and the stop control live in ``optimizer.solving.handle``.

One piece: the staged search and its time-grain wrapper share their time
accounting (the deadline, the stage bounds, the coarse-then-exact fallback).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import ortools
from ortools.sat.python import cp_model

from models.canonical import scenario_sha256
from models.options import SolveOptions
from models.result import Conflict, ObjectiveEntry, Result, ScenarioRef, SolverInfo
from models.scenario import Scenario
from optimizer.model.build import BuildTimeout, build
from optimizer.model.evaluate import placements
from optimizer.model.handles import Handles
from optimizer.model.metrics import metric_expr
from optimizer.model.progress import deviation_expr, deviation_value
from optimizer.solving.grain import (
    coarsen,
    grain,
    lift,
    scale_value,
    single_phase,
    starts_inside_phases,
)
from optimizer.solving.handle import Progress, SolutionCallback, StopControl
from optimizer.solving.hints import Hint, better_hint, first_hint, hint_solution
from optimizer.solving.readback import empty_result, objective_entries, read_result

# Finds the minimal conflict of an infeasible scenario by an absolute deadline.
ConflictFinder = Callable[[Scenario, float], Conflict | None]

# A later lexicographic stage always gets at least this long: it starts from
# the previous stage's complete solution as a hint, so it is feasible at once.
MIN_STAGE_S = 0.1
# The confirmation of a greedy first schedule propagates fixed values only.
CONFIRM_S = 5.0
# Between these sizes a stage's full search gets a share of its time and
# neighbourhood search alone the rest (benchmarks/README.md, "Engine
# changes"). Larger models are still presolving when the share runs out.
LNS_SPLIT_FROM = 500
LNS_SPLIT_BELOW = 2500
LNS_SHARE_FULL = 0.3
MIN_LNS_S = 1.0


def _log_sink(control: StopControl, echo: bool) -> Callable[[str], None]:
    def sink(line: str) -> None:
        control.mark_running()
        if echo:
            print(line, file=sys.stderr)

    return sink


def solver_version() -> str:
    return str(getattr(ortools, "__version__", "?"))


def _stages(sc: Scenario, h: Handles) -> list[tuple[str, Any, int | None]]:
    """(label, expression, weight) per optimisation stage."""
    terms = sc.objective.terms
    exprs = [metric_expr(h, t.metric, t.parties) for t in terms]
    if sc.objective.mode == "weighted":
        return [("weighted_sum", sum(t.weight * e for t, e in zip(terms, exprs, strict=True)),
                 None)]
    return [(t.metric, e, None) for t, e in zip(terms, exprs, strict=True)]


def _status(solver: cp_model.CpSolver) -> Any:
    return solver.response_proto.status


def _int_bound(x: float) -> int:
    return math.ceil(x - 1e-6)


def _run(m: cp_model.CpModel, opts: SolveOptions, control: StopControl, limit: float,
         callback: SolutionCallback | None, *, confirm: bool = False,
         lns_only: bool = False, no_lp: bool = False) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = limit
    p.num_workers = opts.workers
    p.random_seed = opts.seed
    # Logging is always on, to the callback: its first line tells the stop
    # control that the search is running (see StopControl).
    p.log_search_progress = True
    # Our own handlers turn SIGINT into a clean stop; CP-SAT's would abort.
    p.catch_sigint_signal = False
    p.log_to_stdout = False
    solver.log_callback = _log_sink(control, opts.log)
    if opts.workers == 1:
        p.interleave_search = False
    if no_lp:
        p.linearization_level = 0     # see solve()
    if lns_only:
        p.use_lns_only = True
    if confirm:
        # Every decision is hinted and fixed; what is left (the objective
        # and helper variables) follows by propagation.
        p.fix_variables_to_their_hinted_value = True
        p.num_workers = 1
    # Otherwise CP-SAT's defaults: linearization level 2, timetable edge
    # finding with the overload checker, hard precedences in the cumulative and
    # objective lower-bound/shaving searches were measured on the PSPLIB
    # selections and none won overall (benchmarks/results/tuning.md).
    control.attach(solver)
    solver.solve(m, callback)
    control.attach(None)
    return solver


def _improve(m: cp_model.CpModel, full: cp_model.CpSolver, opts: SolveOptions,
             control: StopControl, limit: float, callback: SolutionCallback,
             no_lp: bool = False) -> cp_model.CpSolver:
    """Large neighbourhood search only, from the full search's best schedule.

    On big roadmaps the full-search worker has its bound early and then adds
    little; both workers searching neighbourhoods of the incumbent find
    better schedules faster. The bound stays the full search's.
    """
    if limit < MIN_LNS_S:
        return full
    hint_solution(m, list(full.response_proto.solution))
    lns = _run(m, opts, control, limit, callback, lns_only=True, no_lp=no_lp)
    if _status(lns) in (cp_model.OPTIMAL, cp_model.FEASIBLE) and (
            lns.objective_value <= full.objective_value):
        return lns
    return full


def _confirm(m: cp_model.CpModel, hint: Hint, opts: SolveOptions, control: StopControl,
             limit: float, callback: SolutionCallback,
             no_lp: bool = False) -> cp_model.CpSolver | None:
    m.clear_hints()
    for var, value in hint.pairs:
        m.add_hint(var, value)
    callback.floor = _objective_floor(m)
    solver = _run(m, opts, control, max(limit, 0.01), callback, confirm=True, no_lp=no_lp)
    callback.floor = None
    return solver if _status(solver) in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def _objective_floor(m: cp_model.CpModel) -> float:
    """The least value the objective can take over the variables' domains."""
    proto = m.proto
    obj = proto.objective
    total = float(obj.offset)
    for ref, coef in zip(obj.vars, obj.coeffs, strict=True):
        var, c = (ref, coef) if ref >= 0 else (-ref - 1, -coef)
        dom = proto.variables[var].domain
        total += c * (dom[0] if c > 0 else dom[-1])
    return total * (obj.scaling_factor or 1.0)


def _bound_of(main: cp_model.CpSolver | None, value: int) -> int | None:
    """The stage's proven bound: the real search's, never the confirmation's."""
    if main is None:
        return None
    b = main.best_objective_bound
    return min(_int_bound(b), value) if math.isfinite(b) else None


def solve(scenario: Scenario, options: SolveOptions | None = None, *,
          on_progress: Callable[[Progress], None] | None = None,
          control: StopControl | None = None,
          explain_infeasible: ConflictFinder | None = None,
          planned: dict[str, int] | None = None, no_lp: bool = False) -> Result:
    """Solve a scenario to an optimal (or best found) phased schedule.

    ``planned`` (planned starts, SPEC §5.5 ``--plan``) adds a last stage
    minimising the deviation from them. ``no_lp``: CP-SAT without its linear
    relaxation (``linearization_level`` 0, its no_lp strategy), for the
    one-worker solves that verify corrections beside a correction search:
    the same optima in half the time on the seed with the DPRK cap at 3
    (its second correction: 1.1-1.4 CPU-s instead of 2.3-3.0; never slower
    on the four seed cases' twelve; docs/decisions.md, 52). Every other
    solve keeps CP-SAT's default (benchmarks/results/tuning.md).
    """
    opts = options or SolveOptions()
    control = control or StopControl()
    g = 1 if planned else grain(scenario)
    if g > 1:
        return _solve_coarse(scenario, g, opts, on_progress, control, explain_infeasible,
                             no_lp)
    return _solve_direct(scenario, opts, on_progress=on_progress, control=control, no_lp=no_lp,
                         explain_infeasible=explain_infeasible, planned=planned)


def _solve_direct(scenario: Scenario, opts: SolveOptions, *,
                  on_progress: Callable[[Progress], None] | None = None,
                  control: StopControl | None = None,
                  explain_infeasible: ConflictFinder | None = None,
                  relax_phase_ends: bool = False, t0: float | None = None,
                  start_hint: Result | None = None,
                  planned: dict[str, int] | None = None, no_lp: bool = False) -> Result:
    """The model of the scenario as written, solved stage by stage."""
    control = control or StopControl()
    t0 = time.monotonic() if t0 is None else t0
    deadline = t0 + opts.time_limit_s
    sha = scenario_sha256(scenario)
    report = on_progress or (lambda _p: None)

    try:
        h = build(scenario, deadline=deadline, relax_phase_ends=relax_phase_ends)
    except BuildTimeout:
        # The limit covers model building too: nothing to search in the time left.
        info = SolverInfo(version=solver_version(),
                          wall_time_s=round(time.monotonic() - t0, 3), workers=opts.workers,
                          seed=opts.seed, time_limit_s=opts.time_limit_s)
        return empty_result(ScenarioRef(name=scenario.name, sha256=sha), info, "unknown")
    stages = _stages(scenario, h)
    if planned:   # SPEC §5.5: the last stage keeps unstarted steps near the plan
        stages.append(("deviation", deviation_expr(h, planned), None))
    m = h.model
    values: list[int] | None = None           # full solution vector of the last success
    best_solver: cp_model.CpSolver | None = None
    stage_results: list[tuple[int | None, int | None, bool]] = []  # (value, bound, optimal)
    all_optimal = True
    infeasible = False

    if start_hint is not None:
        _hint_schedule(h, start_hint)
        hint = None
    else:
        hint = first_hint(h.scenario, h, deadline)   # the model scenario under progress
    for k, (label, expr, _) in enumerate(stages):
        if control.stopped and values is not None:
            all_optimal = False
            break
        remaining = deadline - time.monotonic()
        if k > 0:
            remaining = max(remaining, MIN_STAGE_S)
        elif remaining <= 0:
            break
        m.clear_objective()
        if isinstance(expr, int):
            m.minimize(0)
        else:
            m.minimize(expr)
        report(Progress(k, len(stages), label, None, None, time.monotonic() - t0, 0,
                        "stage_start"))
        callback = SolutionCallback(report, k, len(stages), label, t0)
        confirmed: cp_model.CpSolver | None = None
        if values is None and hint is not None:
            # Let CP-SAT confirm the greedy schedule (all decisions fixed, so
            # it is quick); a confirmed one seeds the real search below.
            confirmed = _confirm(m, hint, opts, control, min(remaining, CONFIRM_S), callback,
                                 no_lp)
            better = (better_hint(scenario, h, hint, deadline)
                      if confirmed is not None else None)
            if better is not None and not control.stopped:
                remaining = deadline - time.monotonic()
                again = _confirm(m, better, opts, control, min(remaining, CONFIRM_S), callback,
                                 no_lp)
                confirmed = again or confirmed
            if confirmed is not None:
                values = list(confirmed.response_proto.solution)
            remaining = deadline - time.monotonic()
        if values is not None:
            hint_solution(m, values)
        main: cp_model.CpSolver | None = None
        if confirmed is not None and remaining <= 0:
            solver, status = confirmed, cp_model.FEASIBLE
        else:
            limit = max(remaining, MIN_STAGE_S if k > 0 else 0.01)
            split = (LNS_SPLIT_FROM <= len(scenario.concessions) < LNS_SPLIT_BELOW
                     and opts.workers >= 2 and limit >= 4 * MIN_LNS_S)
            main = solver = _run(m, opts, control, limit * (LNS_SHARE_FULL if split else 1.0),
                                 callback, no_lp=no_lp)
            status = _status(solver)
            if split and status == cp_model.FEASIBLE and not control.stopped:
                solver = _improve(m, solver, opts, control,
                                  deadline - time.monotonic(), callback, no_lp)
            if confirmed is not None and status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                # Stopped or out of time before it found anything better.
                solver, status = confirmed, cp_model.FEASIBLE
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = list(solver.response_proto.solution)
            best_solver = solver
            value = round(solver.objective_value)
            bound = _bound_of(main, value)
            optimal = (status == cp_model.OPTIMAL and solver is not confirmed) or (
                bound is not None and bound >= value)
            bound = value if optimal else bound
            stage_results.append((value, bound, optimal))
            all_optimal &= optimal
            report(Progress(k, len(stages), label, float(value),
                            None if bound is None else float(bound),
                            time.monotonic() - t0, 0, "stage_end"))
            if not isinstance(expr, int):
                # Keep this stage at (or below) its best value for the next ones.
                m.add(expr <= value)
        elif status == cp_model.INFEASIBLE and values is None:
            infeasible = True
            break
        elif status == cp_model.MODEL_INVALID:
            raise RuntimeError(f"internal error: invalid CP-SAT model: {m.validate()}")
        else:
            all_optimal = False
            stage_results.append((None, None, False))
            if values is None:
                break
    wall = time.monotonic() - t0
    info = SolverInfo(version=solver_version(), wall_time_s=round(wall, 3), workers=opts.workers,
                      seed=opts.seed, time_limit_s=opts.time_limit_s)
    ref = ScenarioRef(name=scenario.name, sha256=sha)
    if values is None:
        status_name = "infeasible" if infeasible else "unknown"
        result = empty_result(ref, info, status_name)
        if infeasible and explain_infeasible is not None:
            _explain(result, scenario, deadline, t0, explain_infeasible)
        return result
    if control.stopped and len(stage_results) < len(stages):
        all_optimal = False
    assert best_solver is not None
    evaluator = best_solver
    result = read_result(h, lambda e: int(evaluator.value(e)), ref, info,
                         "optimal" if all_optimal else "feasible")
    _fill_objective(h, result, stage_results)
    if planned:
        bound = stage_results[-1][1] if len(stage_results) == len(stages) else None
        result.objective.append(ObjectiveEntry(metric="deviation", value=deviation_value(
            scenario, {s.id: s.start for s in result.schedule}, planned), bound=bound))
    return result


def _solve_coarse(scenario: Scenario, g: int, opts: SolveOptions,
                  on_progress: Callable[[Progress], None] | None, control: StopControl,
                  explain_infeasible: ConflictFinder | None, no_lp: bool = False) -> Result:
    """Solve in units of g (optimizer/timescale.py says why this is exact)."""
    t0 = time.monotonic()
    coarse = coarsen(scenario, g)
    ref = ScenarioRef(name=scenario.name, sha256=scenario_sha256(scenario))
    user = on_progress or (lambda _p: None)

    def report(p: Progress) -> None:
        user(replace(p, objective=scale_value(p.metric, p.objective, g),
                     bound=scale_value(p.metric, p.bound, g)))

    def info() -> SolverInfo:
        return SolverInfo(version=solver_version(), wall_time_s=round(time.monotonic() - t0, 3),
                          workers=opts.workers, seed=opts.seed, time_limit_s=opts.time_limit_s)

    def stages(res: Result) -> list[ObjectiveEntry]:
        """One entry per optimisation stage: each term, or the weighted sum."""
        return res.objective[-1:] if scenario.objective.mode == "weighted" else res.objective

    def bounds_of(res: Result) -> list[int | None]:
        """Each stage's bound in the original units."""
        return [None if e.bound is None else scale_value(e.metric, e.bound, g)
                for e in stages(res)]

    def stage_values(res: Result) -> list[int]:
        return [-1 if e.value is None else e.value for e in stages(res)]

    if single_phase(scenario):
        exact = _solve_direct(coarse, opts, on_progress=report, control=control,
                              explain_infeasible=None, t0=t0, no_lp=no_lp)
        if exact.status in ("optimal", "feasible"):
            return lift(exact, scenario, g, exact.status, bounds_of(exact), ref, info())
        if exact.status == "unknown":
            return empty_result(ref, info(), "unknown")
        result = empty_result(ref, info(), "infeasible")
        if explain_infeasible is not None:
            _explain(result, scenario, t0 + opts.time_limit_s, t0, explain_infeasible)
        return result

    # Several phases: the coarse model's schedules are schedules of the
    # original, but its optimum may not be the original's. The relaxation
    # (s <= B) bounds the original from below; hinted with the coarse
    # schedule it usually proves that bound at once. Equal stage values, or a
    # relaxed optimum whose starts all lie strictly inside their phases,
    # settle it.
    first = opts.model_copy(update={"time_limit_s": 0.6 * opts.time_limit_s})
    exact = _solve_direct(coarse, first, on_progress=report, control=control,
                          explain_infeasible=None, t0=t0, no_lp=no_lp)
    best: Result | None = None    # the coarse schedule, kept in case the fallback does worse
    if exact.status in ("optimal", "feasible") and not control.stopped:
        relaxed = _solve_direct(coarse, opts.model_copy(update={
            "time_limit_s": max(t0 + 0.9 * opts.time_limit_s - time.monotonic(), 0.1)}),
            control=control, explain_infeasible=None, relax_phase_ends=True, start_hint=exact,
            no_lp=no_lp)
        if relaxed.status == "optimal":
            if stage_values(relaxed) == stage_values(exact):
                return lift(exact, scenario, g, "optimal", bounds_of(relaxed), ref, info())
            if starts_inside_phases(relaxed, coarse):
                return lift(relaxed, scenario, g, "optimal", bounds_of(relaxed), ref, info())
        # A stage bound of the relaxation holds for the original while each
        # earlier stage of the relaxation kept a value at least the schedule's.
        ok = relaxed.status in ("optimal", "feasible")
        rb = bounds_of(relaxed) if ok else []
        rv = stage_values(relaxed) if ok else []
        bounds: list[int | None] = []
        for k, v in enumerate(stage_values(exact)):
            bounds.append(rb[k] if ok else None)
            ok = ok and rv[k] >= v
        best = lift(exact, scenario, g, "feasible", bounds, ref, info())
        if relaxed.status != "optimal" or exact.status != "optimal":
            return best    # not settled in time: the coarse schedule stands
    elif exact.status in ("optimal", "feasible"):
        return lift(exact, scenario, g, "feasible", [], ref, info())
    # The grain could not settle it (an optimum off the grid, or no coarse
    # schedule): solve the scenario as written in the time left.
    if t0 + opts.time_limit_s - time.monotonic() < 0.2 or control.stopped:
        return best if best is not None else empty_result(ref, info(), "unknown")
    plain = _solve_direct(scenario, opts, on_progress=on_progress, control=control,
                          explain_infeasible=explain_infeasible, t0=t0, start_hint=best,
                          no_lp=no_lp)
    if best is not None and (plain.status not in ("optimal", "feasible")
                             or (plain.status == "feasible"
                                 and stage_values(best) < stage_values(plain))):
        return best
    return plain


def _explain(result: Result, scenario: Scenario, deadline: float, t0: float,
             explain: ConflictFinder) -> None:
    """Attach the minimal conflict of an infeasible scenario to its result.

    The explanation shares the solve's time limit (issue 8: the limit holds
    within a second); if it runs short, the conflict says it may not be minimal.
    The finder is passed in by the caller (``optimizer.api``): explanations
    sit above solving and solve themselves, so solving never imports them.
    """
    result.conflict = explain(scenario, max(deadline, time.monotonic() + 0.5))
    result.solver.wall_time_s = round(time.monotonic() - t0, 3)


def _hint_schedule(h: Handles, res: Result) -> None:
    """Hint every presence and start of a schedule of the same concessions."""
    m = h.model
    where = {s.id: s for s in res.schedule}
    for c in h.scenario.concessions:
        v, s = h.conc[c.id], where[c.id]
        if not v.required:
            m.add_hint(v.present, 1 if s.present else 0)
        if s.present and s.start is not None:
            m.add_hint(v.start, s.start)


def _fill_objective(h: Handles, result: Result,
                    stage_results: list[tuple[int | None, int | None, bool]]) -> None:
    result.objective = objective_entries(h.scenario, placements(result),
                                         h.derived, [bound for _, bound, _ in stage_results])
