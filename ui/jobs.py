"""Background solves with visible progress, a Stop button and a result cache.

The solve runs in ``optimizer.start_solve``'s worker thread. That thread only
puts ``Progress`` events on a queue; everything that touches Streamlit runs
in the script thread: a fragment re-runs every half second, drains the queue
and draws the progress line, and when the solve is over it reruns the whole
app, whose first step (``collect``) moves the result into the state.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from models import Result, Scenario, SolveOptions
from models.canonical import solve_key
from ui.state import AppState

if TYPE_CHECKING:  # OR-Tools loads on the first solve, not with the page
    from optimizer.solving.handle import Progress, SolveHandle

JOB_KEY = "rm_job"
POLL_S = 0.5
# A solve that ends this soon is collected by the click's own run: no poll, no second run
# (an infeasible scenario is known at once, and its explanation starts at once).
QUICK_S = 0.5


@dataclass
class Job:
    handle: SolveHandle
    key: str
    scenario: Scenario
    options: SolveOptions
    started: float
    last: Progress | None = None   # the latest progress event
    stopped: bool = False


def cache_key(sc: Scenario, options: SolveOptions) -> str:
    """Same scenario (canonical JSON) and same options: the same answer."""
    return solve_key(sc, options)


def current_job() -> Job | None:
    job = st.session_state.get(JOB_KEY)
    return job if isinstance(job, Job) else None


def running() -> bool:
    return current_job() is not None


def _show(state: AppState, scenario: Scenario, key: str, result: Result,
          options: SolveOptions, stopped: bool = False) -> None:
    if state.result is not None and state.result_key != key:
        state.previous, state.previous_scenario = state.result, state.result_scenario
    state.result, state.result_scenario, state.result_key = result, scenario, key
    state.result_options = options
    state.result_stopped = stopped


def start(state: AppState, scenario: Scenario | None = None) -> None:
    """Solve the working copy (or ``scenario``), from the cache when possible."""
    from optimizer import start_solve

    sc = scenario or state.working
    options = state.options()
    key = cache_key(sc, options)
    old = current_job()
    if old is not None:
        if old.key == key and not old.stopped:
            # The same question is already being answered: a repeated request
            # must not restart the search (nor be answered twice).
            return
        # A newer question replaces the running one; its answer is not wanted.
        old.handle.stop()
        st.session_state[JOB_KEY] = None
    cached = state.cache.get(key)
    if cached is not None:
        if key == state.result_key:
            state.say("info", "Already solved: the roadmap shown is for this scenario and "
                              "these options. Change the scenario or the options to solve again.")
            return
        _show(state, sc, key, cached, options)
        state.say("info", "Same scenario and options as an earlier solve: result from the cache.")
        return
    # No conflict search here: the Explain tab explains an infeasible result in
    # a job of its own (ui.explaining), so the planner learns at once that it is.
    handle = start_solve(sc, options, explain_infeasible=False)
    st.session_state[JOB_KEY] = Job(handle, key, sc, options, time.monotonic())
    handle.wait(QUICK_S)


def show_known(state: AppState, result: Result) -> bool:
    """Show ``result`` as the working copy's roadmap, if it is an optimal solve of it.

    Apply (a correction) has the corrected scenario's verification solve,
    checked and proven optimal: solving the same scenario again only costs
    time (seconds on a hard correction: 2.5-3 s for the seed's second
    correction with the DPRK cap at 3). The result keeps its own solver
    figures (workers, time). Not shown (False) unless it is of the same
    scenario (its SHA-256) and optimal: then the caller solves.
    """
    from models.canonical import scenario_sha256

    sc = state.working
    if result.status != "optimal" or result.scenario.sha256 != scenario_sha256(sc):
        return False
    options = state.options()
    key = cache_key(sc, options)
    state.cache[key] = result
    old = current_job()
    if old is not None:
        old.handle.stop()
        st.session_state[JOB_KEY] = None
    _show(state, sc, key, result, options)
    return True


def stop() -> None:
    job = current_job()
    if job is not None:
        job.stopped = True
        job.handle.stop()


def wait(timeout: float | None = None) -> None:
    """Block until the running solve ends (tests and scripted use)."""
    job = current_job()
    if job is not None:
        # Failures are reported by collect(); here we only wait for the end.
        with contextlib.suppress(Exception):
            job.handle.result(timeout)


def collect(state: AppState) -> bool:
    """Move a finished solve's result into the state; True when one was collected."""
    job = current_job()
    if job is None or not job.handle.done():
        return False
    st.session_state[JOB_KEY] = None
    try:
        result: Result = job.handle.result(0)
    except Exception as exc:
        # An engine failure is reported as one line; the planner can retry.
        state.say("error", f"The solver failed: {type(exc).__name__}: {exc}")
        return True
    if not job.stopped and result.status != "unknown":
        state.cache[job.key] = result
    if job.stopped:
        state.say("warning", "Stopped: showing the best schedule found so far." if result.solved
                  else "Stopped before any schedule was found: there is nothing to show yet. "
                       "Press Solve to search again.")
    _show(state, job.scenario, job.key, result, job.options, stopped=job.stopped)
    return True


def describe(job: Job) -> str:
    """The progress line of a running solve: what runs, its figures, the time."""
    elapsed = time.monotonic() - job.started
    p = job.last
    if p is None:
        return f"Building the model and searching… {elapsed:.1f} s"
    stage = f"stage {p.stage + 1}/{p.stages} ({p.metric.replace('_', ' ')})"
    best = "—" if p.objective is None else f"{p.objective:g}"
    bound = "—" if p.bound is None else f"{p.bound:g}"
    return (f"Solving {stage}: best {best}, bound {bound}, "
            f"{p.solutions} solutions, {elapsed:.1f} s elapsed")


@st.fragment(run_every=POLL_S)
def progress_panel() -> None:
    """Progress of the running solve; drawn only while one runs."""
    job = current_job()
    if job is None:
        return
    for event in job.handle.drain():
        job.last = event
    if job.handle.done():
        st.rerun(scope="app")
    elapsed = time.monotonic() - job.started
    frac = min(1.0, elapsed / max(job.options.time_limit_s, 0.1))
    cols = st.columns([6, 1])
    with cols[0]:
        st.progress(frac, text=describe(job))
    with cols[1]:
        st.button("Stop", key="stop_solve", on_click=stop, type="secondary",
                  help="Stop the search and keep the best schedule found so far")
