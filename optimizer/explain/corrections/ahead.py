"""The next correction search, started while the current one proves its answer.

A later search usually starts from its answer (the hint of ``warm``) and
spends most of its time proving it: on the seed with the DPRK cap at 3 the
second search has 94 after its warm start (0.5-0.7 s) and proves it for
another 1.0-1.4 s, on one core. Meanwhile the other core runs the next search
as if that hint were the answer: on a fork of the model (``CorrectionModel.fork``)
with the hint's no-good, on one worker. When the current search ends with
exactly those no-goods, the next search is already under way, or over, and is
adopted; otherwise it is dropped (stopped, its answer never read). On the seed
with the DPRK cap at 3 this took the third correction from 5.4-6.7 s to
3.7-4.7 s (docs/decisions.md, 60).

Its stop control is its own, stopped with the caller's (``adopt`` passes a
stop on), so that a stop still ends everything at once. Until adopted, its
progress is kept, not told: the progress line speaks of the search the
planner is waiting for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from optimizer.explain.corrections.model import CorrectionModel, Key, Values
from optimizer.explain.corrections.prices import ChangeSpec
from optimizer.explain.corrections.search import Found, minimise
from optimizer.solving.handle import StopControl


class Lookahead:
    """``ready``: polled before the search starts (a verification still running
    keeps the other core until it ends: three solves on two cores slow all
    three, decision 52)."""

    def __init__(self, cm: CorrectionModel, hint: list[ChangeSpec], *, balanced: bool,
                 deadline: float, workers: int, label: str,
                 report: Callable[[str], None],
                 ready: Callable[[], bool] | None = None) -> None:
        self.key: frozenset[Key] = frozenset(ch.element for ch in hint)
        self.dropped = False
        self._parent = cm
        self.cm = cm.fork()
        self.cm.forbid(set(self.key))
        self._forked_at = len(cm.pool)
        self.control = StopControl()
        self._report = report
        self._adopted = False
        self._last: str | None = None
        self._lock = threading.Lock()
        self._found: Found | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                while ready is not None and not ready() and not self.control.stopped:
                    time.sleep(0.02)
                if self.control.stopped:
                    return
                self._found = minimise(self.cm, balanced=balanced, deadline=deadline,
                                       workers=workers, control=self.control,
                                       report=self._tell, label=label, beside=True)
            except BaseException as exc:   # raised again in the caller's thread by adopt
                self._error = exc

        self._thread = threading.Thread(target=run, name="roadmap-lookahead", daemon=True)
        self._thread.start()

    def _tell(self, message: str) -> None:
        with self._lock:
            if not self._adopted:
                self._last = message
                return
        self._report(message)

    def adopt(self, control: StopControl) -> tuple[CorrectionModel, Found | None]:
        """The current search ended with this lookahead's no-goods: its model (with
        the solutions the current search met since the fork) and its answer, once
        it has one (None: none, or stopped before it had one)."""
        # Solutions of the parent's model met after the fork: ``allowed``
        # filters those the lookahead's no-good excludes.
        self.cm.pool.extend(self._parent.pool[self._forked_at:])
        with self._lock:
            self._adopted = True
            last = self._last
        if last is not None:
            self._report(last)
        self.join(control)
        if self._error is not None:
            raise self._error
        return self.cm, self._found

    def drop(self) -> None:
        """Not the search that comes next: stop it (``join`` waits for the stop)."""
        self.dropped = True
        self.control.stop()

    def watch(self, values: list[int]) -> None:
        """A solution of the current search, cheaper than the hint: when it changes
        another set of positions, the answer will hardly be the hint's set, and
        this search is stopped at once (generated roadmaps: their searches
        mostly improve on the hint within a second, and are seldom proven)."""
        if not self.dropped and frozenset(
                ch.element for ch in self._parent.read(Values(values))) != self.key:
            self.drop()

    def join(self, control: StopControl) -> None:
        """Wait for the search to end, passing a stop of ``control`` on."""
        while self._thread.is_alive():
            if control.stopped:
                self.control.stop()
            self._thread.join(0.05)

