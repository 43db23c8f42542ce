"""The Explain tab's background job: the cheapest corrections and the conflict.

The job calls ``optimizer.explain.explanation.explain_scenario`` — the call
behind `roadmap explain` — with the app's options, so the app and the CLI
show the same figures for the same scenario. As in ``ui.jobs``, the worker
thread only puts events on queues (progress lines, each correction as soon
as it is checked); the script thread drains them (``drain``), and a fragment
polls while the job runs. Stop sets the job's ``StopControl``: the engine
returns within a second with what it has, marked stopped (not proven).

Explanations are kept per (scenario, options, order) key, like solves: going
back to a scenario (Undo) shows its explanation at once.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit as st

from models import Result, Scenario, SolveOptions
from models.result import Conflict, Correction
from ui.state import AppState

if TYPE_CHECKING:  # OR-Tools loads with the first explanation, not with the page
    from optimizer.explain.explanation import Explanation
    from optimizer.solving.handle import StopControl

STORE_KEY = "rm_explain"
CORRECTIONS = 3          # as `roadmap explain`'s default --corrections
POLL_S = 0.5
STOP_WAIT_S = 1.0
KEEP = 32                # explanations kept (oldest dropped first)


@dataclass
class Found:
    """One correction as the app shows it: the engine's figures, never recomputed."""

    correction: Correction
    bills: dict[str | None, int]          # cost charged to each party (None: to no one)
    verified: Result | None               # the corrected scenario's checked solve


@dataclass
class Shown:
    """The explanation of one scenario (complete, or growing while its job runs)."""

    key: str
    scenario: Scenario
    options: SolveOptions
    balanced: bool
    found: list[Found] = field(default_factory=list)
    conflict: Conflict | None = None
    done: bool = False
    stopped: bool = False                 # a stop or the time limit cut it short
    by_planner: bool = False              # ... and it was the planner's Stop
    error: str | None = None
    first_s: float | None = None          # seconds from the start to the first card
    seconds: float | None = None          # seconds to the end


class ExplainJob:
    """``explain_scenario`` in a worker thread; the script thread reads its queues."""

    def __init__(self, shown: Shown) -> None:
        from optimizer.solving.handle import StopControl

        self.key = shown.key
        self.control: StopControl = StopControl()
        self.messages: queue.Queue[str] = queue.Queue()
        self.found: queue.Queue[Found] = queue.Queue()
        self.started = time.monotonic()
        self.last = "starting"
        self._box: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, args=(shown,),
                                        name="roadmap-explain", daemon=True)
        self._thread.start()

    def _run(self, shown: Shown) -> None:
        from optimizer.explain.corrections import bills
        from optimizer.explain.explanation import explain_scenario

        def heard(c: Correction, specs: list[Any], verified: Result | None) -> None:
            self.found.put(Found(c, bills(specs), verified))

        try:
            self._box["report"] = explain_scenario(
                shown.scenario, shown.options, corrections=CORRECTIONS,
                balanced=shown.balanced, suggest=False, control=self.control,
                on_progress=self.messages.put, on_correction=heard)
        except Exception as exc:  # reported as one line by drain()
            self._box["error"] = exc

    def stop(self) -> None:
        self.control.stop()

    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return self.done()

    def outcome(self) -> Explanation | BaseException:
        return self._box.get("report") or self._box["error"]


@dataclass
class Explanations:
    by_key: dict[str, Shown] = field(default_factory=dict)
    job: ExplainJob | None = None
    applied: Any = None                   # ui.views.corrections.Applied: the last one applied


def store() -> Explanations:
    ex = st.session_state.get(STORE_KEY)
    if not isinstance(ex, Explanations):
        ex = Explanations()
        st.session_state[STORE_KEY] = ex
    return ex


def explain_key(result_key: str, balanced: bool) -> str:
    return f"{result_key}|{'balanced' if balanced else 'total'}"


def start(state: AppState, balanced: bool) -> Shown | None:
    """Explain the shown (infeasible) result's scenario, unless already explained."""
    if state.result_key is None or state.result_scenario is None:
        return None
    ex = store()
    key = explain_key(state.result_key, balanced)
    if key in ex.by_key:
        return ex.by_key[key]
    if ex.job is not None:
        if ex.job.key == key:
            return ex.by_key.get(key)
        stop()          # a newer question replaces the running one
        drain(state)
    # The sidebar's options now (a raised time limit counts for "Search again").
    opts = state.options()
    shown = Shown(key, state.result_scenario, opts, balanced)
    if len(ex.by_key) >= KEEP:
        ex.by_key.pop(next(iter(ex.by_key)))
    ex.by_key[key] = shown
    ex.job = ExplainJob(shown)
    return shown


@dataclass
class Reuse:
    """Corrections already found, in the shape the briefing takes (``corrections``, ``bills``)."""

    corrections: list[Correction]
    bills: list[dict[str | None, int]]


def reusable(ex: Explanations, result_key: str | None, balanced: bool) -> Reuse | None:
    """The Explain tab's finished corrections of the result ``result_key`` (the order the
    tab shows), so that the briefing says what the tab says instead of searching again;
    None when there are none yet."""
    shown = ex.by_key.get(explain_key(result_key, balanced)) if result_key else None
    if shown is None or not shown.done or not shown.found:
        return None
    return Reuse([f.correction for f in shown.found], [f.bills for f in shown.found])


def for_briefing(state: AppState) -> Reuse | None:
    return reusable(store(), state.result_key,
                    bool(st.session_state.get("explain_balanced", False)))


def forget(key: str) -> None:
    """Drop an explanation so that it is searched again (after a stop)."""
    ex = store()
    if ex.job is None or ex.job.key != key:
        ex.by_key.pop(key, None)


def stop() -> None:
    """Stop the explanation; the engine returns within a second with what it found,
    so the click's own run can already show it."""
    ex = store()
    if ex.job is not None:
        ex.job.stop()
        ex.job.wait(STOP_WAIT_S)


def running(key: str | None = None) -> bool:
    job = store().job
    return job is not None and (key is None or job.key == key)


def wait(timeout: float | None = None) -> None:
    """Block until the running explanation ends (tests and scripted use)."""
    job = store().job
    if job is not None:
        with contextlib.suppress(Exception):
            job.wait(timeout)


def drain(state: AppState) -> bool:
    """Move the job's news into its ``Shown``; True when a card or the end arrived."""
    ex = store()
    job = ex.job
    if job is None:
        return False
    shown = ex.by_key.get(job.key)
    while True:
        try:
            job.last = job.messages.get_nowait()
        except queue.Empty:
            break
    changed = False
    while True:
        try:
            found = job.found.get_nowait()
        except queue.Empty:
            break
        if shown is not None:
            shown.found.append(found)
            if shown.first_s is None:
                shown.first_s = time.monotonic() - job.started
        changed = True
    if not job.done():
        return changed
    ex.job = None
    if shown is None:
        return True
    shown.done = True
    shown.seconds = time.monotonic() - job.started
    outcome = job.outcome()
    if isinstance(outcome, BaseException):
        shown.error = f"{type(outcome).__name__}: {outcome}"
        state.say("error", f"The explanation failed: {shown.error}")
        return True
    # The engine's final order (cheapest first; balanced: by the largest bill).
    shown.found = [Found(c, b, v) for c, b, v in
                   zip(outcome.corrections, outcome.bills, outcome.verified, strict=True)]
    shown.conflict = outcome.conflict
    shown.stopped = outcome.stopped
    shown.by_planner = job.control.stopped
    return True


def describe(job: ExplainJob, shown: Shown | None) -> str:
    elapsed = time.monotonic() - job.started
    n = len(shown.found) if shown else 0
    got = f"{n} correction{'s' if n != 1 else ''} found" if n else "no correction yet"
    what = job.last[:1].upper() + job.last[1:]
    return f"{what} · {got} · {elapsed:.1f} s"
