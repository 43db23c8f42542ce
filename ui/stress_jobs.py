"""Stress runs and hardening in the background, with progress and a Stop that keeps
what was found (the ``ui.jobs`` pattern).

The work runs in a worker thread that never touches Streamlit: it puts events
on a queue and sets the job's outcome. The Stress tab's fragment drains the
queue every half second in the script thread, draws the progress line and,
once the job is over, reruns the app, whose Stress tab collects the outcome.

A stress run stops between blocks of samples (the engine's ``on_block``): the
report then covers the samples done. Hardening solves its candidates one at a
time through a stoppable solve handle; Stop ends the current solve at once and
the search keeps the candidates measured so far (``Hardening.stopped``).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from models import Result, Scenario, SolveOptions

JOB_KEY = "rm_stress_job"
OUTCOMES_KEY = "rm_stress_outcomes"
POLL_S = 0.5
SOLVE_POLL_S = 0.1


@dataclass
class StressJob:
    kind: str                          # "stress" or "harden"
    key: tuple[Any, ...]               # what the outcome answers (plan, samples, seed, ...)
    total: int                         # samples (stress) or an upper bound on candidates
    started: float = field(default_factory=time.monotonic)
    events: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)
    stop_flag: threading.Event = field(default_factory=threading.Event)
    done_flag: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    outcome: Any = None
    error: BaseException | None = None
    progress: int = 0                  # samples done / candidates tried (script thread)
    last: str = ""                     # latest log line (script thread)
    tried: set[str] = field(default_factory=set)   # candidates named in the log

    def stop(self) -> None:
        self.stop_flag.set()

    @property
    def stopped(self) -> bool:
        return self.stop_flag.is_set()

    def done(self) -> bool:
        return self.done_flag.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (tests and scripted use); True when it ended."""
        return self.done_flag.wait(timeout)

    def drain(self) -> None:
        while True:
            try:
                kind, value = self.events.get_nowait()
            except queue.Empty:
                return
            if kind == "progress":
                self.progress = int(value)
            elif kind == "log":
                self.last = str(value)
                head = self.last.split(":", 1)[0]
                if head.startswith(("verification_delay=", "lag=", "buffer=")):
                    self.tried.add(head)
                    self.progress = len(self.tried)


def current() -> StressJob | None:
    job = st.session_state.get(JOB_KEY)
    return job if isinstance(job, StressJob) else None


def running() -> bool:
    job = current()
    return job is not None and not job.done()


def outcomes() -> dict[tuple[Any, ...], Any]:
    if OUTCOMES_KEY not in st.session_state:
        st.session_state[OUTCOMES_KEY] = {}
    store: dict[tuple[Any, ...], Any] = st.session_state[OUTCOMES_KEY]
    return store


def _launch(job: StressJob, work: Callable[[StressJob], Any]) -> None:
    def run() -> None:
        try:
            job.outcome = work(job)
        except BaseException as exc:   # reported by collect() in the script thread
            job.error = exc
        finally:
            job.done_flag.set()

    old = current()
    if old is not None and not old.done():
        old.stop()   # a newer question replaces it; its answer is not wanted
    job.thread = threading.Thread(target=run, name=f"roadmap-{job.kind}", daemon=True)
    st.session_state[JOB_KEY] = job
    job.thread.start()


def start_stress(key: tuple[Any, ...], scenario: Scenario, plan: Result, samples: int,
                 seed: int) -> None:
    """Stress ``plan`` with the engine (``optimizer.studies.stress.stress``)."""
    def work(job: StressJob) -> Any:
        from optimizer.studies.stress import stress

        def on_block(done: int, _total: int) -> bool:
            job.events.put(("progress", done))
            return job.stop_flag.is_set()

        return stress(scenario, plan, samples=samples, seed=seed, on_block=on_block)

    _launch(StressJob("stress", key, samples), work)


def candidate_solver(options: SolveOptions, job: StressJob
                     ) -> Callable[[list[Scenario]], list[Result | None]]:
    """Solve hardening candidates one by one, stoppable at any moment, each result
    verified by the checker (a schedule that fails it counts as no roadmap)."""
    from optimizer.api import solve
    from optimizer.check import check
    from optimizer.solving.handle import SolveHandle
    from optimizer.studies.stress.harden import Stopped

    def target(sc: Scenario, opts: SolveOptions | None, on_progress: Any, control: Any
               ) -> Result:
        return solve(sc, opts, on_progress=on_progress, control=control,
                     explain_infeasible=False)

    def solve_batch(scenarios: list[Scenario]) -> list[Result | None]:
        out: list[Result | None] = []
        for sc in scenarios:
            handle = SolveHandle(target, sc, options)
            while not handle.wait(SOLVE_POLL_S):
                if job.stop_flag.is_set():
                    handle.stop()
                    handle.wait()
                    raise Stopped
            result = handle.result(0)
            out.append(result if not result.solved or not check(sc, result) else None)
        return out

    return solve_batch


def start_harden(key: tuple[Any, ...], scenario: Scenario, plan: Result, *, target: float,
                 samples: int, seed: int, options: SolveOptions, levers: tuple[str, ...],
                 bound: int) -> None:
    """Harden ``plan`` to ``target`` (``optimizer.studies.stress.harden.harden``)."""
    def work(job: StressJob) -> Any:
        from optimizer.studies.stress.harden import harden

        return harden(scenario, plan, target=target, samples=samples, seed=seed,
                      levers=levers, options=options,
                      solve_batch=candidate_solver(options, job),
                      log=lambda m: job.events.put(("log", m)),
                      stop=job.stop_flag.is_set)

    _launch(StressJob("harden", key, bound), work)


def collect(say: Callable[[str, str], None]) -> bool:
    """Move a finished job's outcome into the session's outcomes; True when one was."""
    job = current()
    if job is None or not job.done():
        return False
    st.session_state[JOB_KEY] = None
    job.drain()
    if job.error is not None:
        say("error", f"The {'stress test' if job.kind == 'stress' else 'hardening'} failed: "
                     f"{type(job.error).__name__}: {job.error}")
        return True
    outcomes()[job.key] = (job.outcome, job.stopped)
    return True
