"""Running a solve in a worker thread: progress events, the stop control, the handle.

CP-SAT releases the GIL, so a solve in a worker thread leaves the CLI and the
app responsive. Callers read progress from the handle's queue and stop it
through ``stop()``; nobody touches the thread or the solver directly.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from models.options import SolveOptions
from models.result import Result
from models.scenario import Scenario


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


class SolutionCallback(cp_model.CpSolverSolutionCallback):
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



# What a handle runs: (scenario, options, on_progress, control) -> Result.
SolveTarget = Callable[
    [Scenario, SolveOptions | None, Callable[["Progress"], None], "StopControl"], Result]


class SolveHandle:
    """A solve running in a worker thread."""

    def __init__(self, target: SolveTarget, scenario: Scenario,
                 options: SolveOptions | None = None) -> None:
        self.progress: queue.Queue[Progress] = queue.Queue()
        self.control = StopControl()
        self._result: Result | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(target, scenario, options), name="roadmap-solve", daemon=True)
        self._thread.start()

    def _run(self, target: SolveTarget, scenario: Scenario,
             options: SolveOptions | None) -> None:
        try:
            self._result = target(scenario, options, self.progress.put, self.control)
        except BaseException as exc:  # surfaced to the caller in result()
            self._error = exc

    def stop(self) -> None:
        self.control.stop()

    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the solve ends or ``timeout`` seconds pass; True when it ended."""
        self._thread.join(timeout)
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
