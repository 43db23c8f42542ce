"""The solve front door: staged (lexicographic) or weighted optimisation.

``solve`` runs in the caller's thread; ``start_solve`` runs the same in a
worker thread (CP-SAT releases the GIL) and returns a ``SolveHandle`` with a
progress queue and a ``stop()`` that keeps the best schedule found so far.
"""

from __future__ import annotations

import math
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import ortools
from ortools.sat.python import cp_model

from models.options import SolveOptions
from models.result import ObjectiveEntry, Result, ScenarioRef, SolverInfo
from models.scenario import Scenario
from optimizer.build import BuildTimeout, build
from optimizer.canonical import scenario_sha256
from optimizer.handles import Handles
from optimizer.heuristic import Hint, better_hint, first_hint
from optimizer.metrics_cp import metric_expr
from optimizer.readback import empty_result, objective_entries, read_result
from optimizer.timescale import (
    coarsen,
    grain,
    lift,
    scale_value,
    single_phase,
    starts_inside_phases,
)

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


@dataclass(frozen=True)
class Progress:
    """One progress event: a new solution or a stage change."""

    stage: int
    stages: int
    metric: str
    objective: float | None
    bound: float | None
    elapsed_s: float
    solutions: int
    event: str = "solution"   # solution | stage_start | stage_end


class StopControl:
    """Thread-safe stop flag that also interrupts the running CP-SAT search.

    CP-SAT aborts the process if ``stop_search`` reaches it before its search
    has started, so the solver is only interrupted once it has logged its
    first line (``running``); a stop requested earlier is applied right then.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._solver: cp_model.CpSolver | None = None
        self._running = False

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    def stop(self) -> None:
        self._event.set()
        with self._lock:
            if self._solver is not None and self._running:
                self._solver.stop_search()

    def attach(self, solver: cp_model.CpSolver | None) -> None:
        with self._lock:
            self._solver = solver
            self._running = False

    def mark_running(self) -> None:
        with self._lock:
            if self._running or self._solver is None:
                return
            self._running = True
            if self._event.is_set():
                self._solver.stop_search()


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, report: Callable[[Progress], None], stage: int, stages: int,
                 metric: str, t0: float) -> None:
        super().__init__()
        self._report, self._stage, self._stages = report, stage, stages
        self._metric, self._t0, self._count = metric, t0, 0
        # While a hint is being confirmed the solver's bound is that of the
        # fixed schedule, not of the problem: the objective's floor over the
        # variable domains (always valid, if weak) is reported instead.
        self.floor: float | None = None

    def on_solution_callback(self) -> None:
        self._count += 1
        bound = self.best_objective_bound if self.floor is None else self.floor
        self._report(Progress(self._stage, self._stages, self._metric, self.objective_value,
                              bound, time.monotonic() - self._t0, self._count))


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
         callback: _Callback | None, *, confirm: bool = False,
         lns_only: bool = False) -> cp_model.CpSolver:
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


def _hint_values(m: cp_model.CpModel, values: list[int]) -> None:
    """Hint a complete solution vector of this model (every variable, in order)."""
    m.clear_hints()
    m.proto.solution_hint.vars.extend(range(len(values)))
    m.proto.solution_hint.values.extend(values)


def _improve(m: cp_model.CpModel, full: cp_model.CpSolver, opts: SolveOptions,
             control: StopControl, limit: float, callback: _Callback) -> cp_model.CpSolver:
    """Large neighbourhood search only, from the full search's best schedule.

    On big roadmaps the full-search worker has its bound early and then adds
    little; both workers searching neighbourhoods of the incumbent find
    better schedules faster. The bound stays the full search's.
    """
    if limit < MIN_LNS_S:
        return full
    _hint_values(m, list(full.response_proto.solution))
    lns = _run(m, opts, control, limit, callback, lns_only=True)
    if _status(lns) in (cp_model.OPTIMAL, cp_model.FEASIBLE) and (
            lns.objective_value <= full.objective_value):
        return lns
    return full


def _confirm(m: cp_model.CpModel, hint: Hint, opts: SolveOptions, control: StopControl,
             limit: float, callback: _Callback) -> cp_model.CpSolver | None:
    m.clear_hints()
    for var, value in hint.pairs:
        m.add_hint(var, value)
    callback.floor = _objective_floor(m)
    solver = _run(m, opts, control, max(limit, 0.01), callback, confirm=True)
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
          control: StopControl | None = None, explain_infeasible: bool = True) -> Result:
    """Solve a scenario to an optimal (or best found) phased schedule."""
    opts = options or SolveOptions()
    control = control or StopControl()
    g = grain(scenario)
    if g > 1:
        return _solve_coarse(scenario, g, opts, on_progress, control, explain_infeasible)
    return _solve_direct(scenario, opts, on_progress=on_progress, control=control,
                         explain_infeasible=explain_infeasible)


def _solve_direct(scenario: Scenario, opts: SolveOptions, *,
                  on_progress: Callable[[Progress], None] | None = None,
                  control: StopControl | None = None, explain_infeasible: bool = True,
                  relax_phase_ends: bool = False, t0: float | None = None,
                  start_hint: Result | None = None) -> Result:
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
        hint = first_hint(scenario, h, deadline)
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
        callback = _Callback(report, k, len(stages), label, t0)
        confirmed: cp_model.CpSolver | None = None
        if values is None and hint is not None:
            # Let CP-SAT confirm the greedy schedule (all decisions fixed, so
            # it is quick); a confirmed one seeds the real search below.
            confirmed = _confirm(m, hint, opts, control, min(remaining, CONFIRM_S), callback)
            better = (better_hint(scenario, h, hint, deadline)
                      if confirmed is not None else None)
            if better is not None and not control.stopped:
                remaining = deadline - time.monotonic()
                again = _confirm(m, better, opts, control, min(remaining, CONFIRM_S), callback)
                confirmed = again or confirmed
            if confirmed is not None:
                values = list(confirmed.response_proto.solution)
            remaining = deadline - time.monotonic()
        if values is not None:
            _hint_values(m, values)
        main: cp_model.CpSolver | None = None
        if confirmed is not None and remaining <= 0:
            solver, status = confirmed, cp_model.FEASIBLE
        else:
            limit = max(remaining, MIN_STAGE_S if k > 0 else 0.01)
            split = (LNS_SPLIT_FROM <= len(scenario.concessions) < LNS_SPLIT_BELOW
                     and opts.workers >= 2 and limit >= 4 * MIN_LNS_S)
            main = solver = _run(m, opts, control, limit * (LNS_SHARE_FULL if split else 1.0),
                                 callback)
            status = _status(solver)
            if split and status == cp_model.FEASIBLE and not control.stopped:
                solver = _improve(m, solver, opts, control,
                                  deadline - time.monotonic(), callback)
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
        if infeasible and explain_infeasible:
            _explain(result, scenario, deadline, t0)
        return result
    if control.stopped and len(stage_results) < len(stages):
        all_optimal = False
    assert best_solver is not None
    evaluator = best_solver
    result = read_result(h, lambda e: int(evaluator.value(e)), ref, info,
                         "optimal" if all_optimal else "feasible")
    _fill_objective(h, result, stage_results)
    return result


def _solve_coarse(scenario: Scenario, g: int, opts: SolveOptions,
                  on_progress: Callable[[Progress], None] | None, control: StopControl,
                  explain_infeasible: bool) -> Result:
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
                              explain_infeasible=False, t0=t0)
        if exact.status in ("optimal", "feasible"):
            return lift(exact, scenario, g, exact.status, bounds_of(exact), ref, info())
        if exact.status == "unknown":
            return empty_result(ref, info(), "unknown")
        result = empty_result(ref, info(), "infeasible")
        if explain_infeasible:
            _explain(result, scenario, t0 + opts.time_limit_s, t0)
        return result

    # Several phases: the coarse model's schedules are schedules of the
    # original, but its optimum may not be the original's. The relaxation
    # (s <= B) bounds the original from below; hinted with the coarse
    # schedule it usually proves that bound at once. Equal stage values, or a
    # relaxed optimum whose starts all lie strictly inside their phases,
    # settle it.
    first = opts.model_copy(update={"time_limit_s": 0.6 * opts.time_limit_s})
    exact = _solve_direct(coarse, first, on_progress=report, control=control,
                          explain_infeasible=False, t0=t0)
    best: Result | None = None    # the coarse schedule, kept in case the fallback does worse
    if exact.status in ("optimal", "feasible") and not control.stopped:
        relaxed = _solve_direct(coarse, opts.model_copy(update={
            "time_limit_s": max(t0 + 0.9 * opts.time_limit_s - time.monotonic(), 0.1)}),
            control=control, explain_infeasible=False, relax_phase_ends=True, start_hint=exact)
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
                          explain_infeasible=explain_infeasible, t0=t0, start_hint=best)
    if best is not None and (plain.status not in ("optimal", "feasible")
                             or (plain.status == "feasible"
                                 and stage_values(best) < stage_values(plain))):
        return best
    return plain


def _explain(result: Result, scenario: Scenario, deadline: float, t0: float) -> None:
    """Attach the minimal conflict of an infeasible scenario to its result.

    The explanation shares the solve's time limit (issue 8: the limit holds
    within a second); if it runs short, the conflict says it may not be minimal.
    """
    from optimizer.explain import find_conflict

    result.conflict = find_conflict(scenario, deadline=max(deadline, time.monotonic() + 0.5))
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
    result.objective = objective_entries(h.scenario, result_placements(result, h.scenario),
                                         h.derived, [bound for _, bound, _ in stage_results])


def result_placements(result: Result, sc: Scenario) -> dict[str, Any]:
    from optimizer.evaluate import Placed

    index = {p.id: k for k, p in enumerate(result.phases)}
    return {
        s.id: Placed(s.start, s.end, index.get(s.phase or "", 0))
        for s in result.schedule
        if s.present and s.start is not None and s.end is not None
    }


class SolveHandle:
    """A solve running in a worker thread."""

    def __init__(self, scenario: Scenario, options: SolveOptions | None = None) -> None:
        self.progress: queue.Queue[Progress] = queue.Queue()
        self.control = StopControl()
        self._result: Result | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(scenario, options), name="roadmap-solve", daemon=True)
        self._thread.start()

    def _run(self, scenario: Scenario, options: SolveOptions | None) -> None:
        try:
            self._result = solve(scenario, options, on_progress=self.progress.put,
                                 control=self.control)
        except BaseException as exc:  # surfaced to the caller in result()
            self._error = exc

    def stop(self) -> None:
        self.control.stop()

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self, timeout: float | None = None) -> Result:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("solve still running")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def drain(self) -> list[Progress]:
        out: list[Progress] = []
        while True:
            try:
                out.append(self.progress.get_nowait())
            except queue.Empty:
                return out


def start_solve(scenario: Scenario, options: SolveOptions | None = None) -> SolveHandle:
    return SolveHandle(scenario, options)
