"""Corrections (SPEC §5.6): the cheapest changes that make an infeasible scenario feasible.

``find_corrections`` builds one CP-SAT model of every correction
(``model``), minimises its price (``search``), makes each answer irreducible
(by its proof when it is proven cheapest and every change costs something,
else by undoing on the scenario) and verifies it on the corrected scenario
(``verify``; in a thread of its own while the next search runs), then
excludes the set of positions it changed and searches again, up to K
answers; a search that starts from its warm start has the next one run
beside it meanwhile (``ahead``), adopted when its answer is that start.
A stop (the ``StopControl``) ends it at once with what was found, marked
unproven.
``on_correction`` hears of each correction as soon as it is checked, so that
the app can show the first one while the others are still searched for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from models.result import Change, Correction, Result
from models.scenario import Scenario
from optimizer.explain.corrections.ahead import Lookahead
from optimizer.explain.corrections.model import CorrectionModel, Values, build_corrections
from optimizer.explain.corrections.prices import ChangeSpec
from optimizer.explain.corrections.search import minimise
from optimizer.explain.corrections.verify import reduce, verify
from optimizer.model.build import BuildTimeout
from optimizer.solving.handle import StopControl

__all__ = ["CorrectionsReport", "bills", "find_corrections"]

# The share of the time left that one search may use: the rest is kept for
# making its answer irreducible and verifying it, and for the next searches.
SEARCH_SHARE = 0.6
# Every solve aims this far before the caller's limit, so that the time
# CP-SAT takes to stop a large model still lands inside it (generated
# roadmaps, 10 s limit: K = 3 ended 0.02-0.08 s after it; docs/decisions.md, 61).
FINISH_MARGIN_S = 0.1


@dataclass
class CorrectionsReport:
    corrections: list[Correction] = field(default_factory=list)
    stopped: bool = False        # a stop (or the time limit) cut the search short
    searched_s: float = 0.0      # until the first correction was known (before verifying)
    specs: list[list[ChangeSpec]] = field(default_factory=list)
    # The verification solve of each correction (None: not verified), for its figures.
    results: list[Result | None] = field(default_factory=list)


def bills(changes: list[ChangeSpec]) -> dict[str | None, int]:
    out: dict[str | None, int] = {}
    for ch in changes:
        out[ch.party] = out.get(ch.party, 0) + ch.cost
    return out


def _worst(sc: Scenario, changes: list[ChangeSpec]) -> int:
    b = bills(changes)
    return max((b.get(p, 0) for p in sc.principal_ids), default=0)


def _dearer(ch: ChangeSpec) -> bool:
    """Undoing ``ch``, or taking its amount one unit back, lowers the cost.

    Then a correction proven cheapest is irreducible by its proof: a smaller
    one would change a subset of its positions (allowed by every no-good it
    satisfies) at a lower cost (and, balanced, no larger bill). The checks on
    the scenario (``reduce``, about half a second per change on the seed) are
    left for answers not proven, or with free changes (docs/decisions.md, 42).
    """
    p = ch.price
    if ch.kind == "amount":
        return p.touch > 0 and p.per_unit > 0
    if ch.kind == "optional":
        return p.touch + ch.extra > 0
    return p.touch > 0 or ch.kind == "phases"   # each phase added costs 5 more


def _correction(changes: list[ChangeSpec], proven: bool, metrics: object) -> Correction:
    return Correction.model_validate({
        "cost": sum(ch.cost for ch in changes), "proven": proven,
        "changes": [Change.model_validate({"path": ch.path, "from": ch.current, "to": ch.to,
                                           "party": ch.party})
                    for ch in changes],
        "metrics": metrics})


class _Check:
    """One correction verified in a thread of its own (one worker, no LP), then offered.

    Its solve has a stop control of its own, stopped when the caller's is
    (``join`` passes it on), so that a stop still ends everything at once.
    ``after``: an earlier check still running; this one offers its answer
    only once that one has, so that corrections are offered in order.
    """

    def __init__(self, sc: Scenario, changes: list[ChangeSpec], proven: bool,
                 deadline: float,
                 offer: Callable[[list[ChangeSpec], bool, str, Result | None], None],
                 after: _Check | None = None) -> None:
        self.control = StopControl()
        self._error: BaseException | None = None
        self._after = after

        def run() -> None:
            try:
                verdict, verified = verify(sc, changes, deadline, 1, self.control, no_lp=True)
                if after is not None:
                    after._thread.join()
                offer(changes, proven, verdict, verified)
            except BaseException as exc:   # raised again in the caller's thread by join
                self._error = exc

        self._thread = threading.Thread(target=run, name="roadmap-verify", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, control: StopControl) -> None:
        while self._thread.is_alive():
            if control.stopped:
                self.control.stop()
                if self._after is not None:
                    self._after.control.stop()
            self._thread.join(0.05)
        if self._after is not None:
            self._after.join(control)
        if self._error is not None:
            raise self._error


def _label(n: int, k: int) -> str:
    return "finding the cheapest correction" if n == 0 else f"finding correction {n + 1} of {k}"


def find_corrections(sc: Scenario, k: int = 3, *, balanced: bool = False,
                     time_limit_s: float = 30.0, workers: int = 2,
                     control: StopControl | None = None,
                     on_progress: Callable[[str], None] | None = None,
                     check: bool = True,
                     on_correction: Callable[[Correction, list[ChangeSpec], Result | None],
                                             None] | None = None) -> CorrectionsReport:
    """Up to ``k`` corrections, cheapest first (balanced: by largest bill, then total).

    ``check=False`` skips the reduction and verification (the benchmark's
    "time to the first correction" also reports them separately).
    """
    t0 = time.monotonic()
    deadline = t0 + max(time_limit_s - FINISH_MARGIN_S, 0.5 * time_limit_s)
    control = control or StopControl()
    say = on_progress or (lambda _msg: None)
    report = CorrectionsReport()
    say("building the correction model")
    try:
        cm = build_corrections(sc, deadline)
    except BuildTimeout:
        report.stopped = True
        return report
    seen: set[frozenset[tuple[str, ...]]] = set()
    lock = threading.Lock()
    pending: _Check | None = None

    def offer(changes: list[ChangeSpec], proven: bool, verdict: str,
              verified: Result | None) -> None:
        """Record a checked correction and tell ``on_correction`` (either thread)."""
        with lock:
            if control.stopped:
                proven = False
                report.stopped = True
            if check and verdict != "verified":
                proven = False
            if check and verdict == "failed":
                return          # refuted by the corrected scenario: never offered
            report.specs.append(changes)
            report.results.append(verified)
            report.corrections.append(_correction(changes, proven,
                                                  verified.metrics if verified else None))
            if on_correction is not None:
                on_correction(report.corrections[-1], changes, verified)

    ahead: Lookahead | None = None     # the next search, started meanwhile
    dropped: list[Lookahead] = []

    def drop() -> None:
        nonlocal ahead
        if ahead is not None:
            ahead.drop()
            dropped.append(ahead)
            ahead = None

    for n in range(k):
        if control.stopped or time.monotonic() >= deadline:
            report.stopped = True
            break
        label = _label(n, k)
        say(label)
        # Each search leaves time to check its answer (reduce, verify).
        share = time.monotonic() + SEARCH_SHARE * (deadline - time.monotonic())
        if ahead is not None:
            cm, found = ahead.adopt(control)
            ahead = None
        else:
            def look(values: list[int], n: int = n, share: float = share,
                     now: CorrectionModel = cm, before: _Check | None = pending) -> None:
                # A warm start's solution is mostly the search's answer: the
                # other core searches for the next one meanwhile (``ahead``),
                # once the verification it may still run is over.
                nonlocal ahead
                hint = now.read(Values(values))
                if hint and n + 1 < k and workers >= 2:
                    ahead = Lookahead(now, hint, balanced=balanced, deadline=share,
                                      workers=workers, label=_label(n + 1, k), report=say,
                                      ready=None if before is None else
                                      lambda: not before.running)

            def better(values: list[int]) -> None:
                # ``ahead`` read late on purpose: the lookahead ``look`` started.
                if ahead is not None:  # noqa: B023
                    ahead.watch(values)  # noqa: B023

            found = minimise(cm, balanced=balanced, deadline=share,
                             workers=workers, control=control, report=say, label=label,
                             beside=pending is not None, on_hint=look, on_solution=better,
                             shared=lambda: ahead is not None)  # noqa: B023 (read late)
        if found is None:
            report.stopped = report.stopped or control.stopped
            break
        if n == 0:
            report.searched_s = time.monotonic() - t0
        changes = cm.read(found.solver)
        if not changes:
            break
        key = frozenset(ch.element for ch in changes)
        forbidden = {key}                   # every set excluded for this answer
        cm.forbid(set(key))
        proven = found.proven
        if check and not control.stopped:
            if not (proven and all(_dearer(ch) for ch in changes)):
                drop()                      # reduce's solves get the machine to themselves
                if pending is not None:
                    pending.join(control)
                    pending = None
                say(f"checking correction {n + 1}: irreducible, then verified")
                changes, decided = reduce(sc, changes, deadline, workers, control,
                                          bisect=not proven)
                proven = proven and decided
                key = frozenset(ch.element for ch in changes)
                forbidden.add(key)
                cm.forbid(set(key))
            else:
                say(f"checking correction {n + 1}: verified")
        if ahead is not None and (ahead.dropped or forbidden != {ahead.key}):
            drop()                          # the next search excludes another set
        if key in seen:
            continue        # a repeat (a reduced answer): never offered twice
        seen.add(key)
        last = n + 1 == k
        if pending is not None and not (last and check and not control.stopped
                                        and pending.running):
            pending.join(control)           # one verification beside a search, in order
            pending = None
        if not check:
            offer(changes, proven, "unknown", None)
        elif control.stopped:
            offer(changes, False, "unknown", None)
        elif not last or pending is not None:
            # Verified in the background while the next search runs: the
            # verifying solve proves its stages with one full worker (its
            # second thread added CPU, not speed: seed, DPRK cap 3,
            # correction 2 in 2.5-3.0 s with one worker, 2.7-4.1 s with two),
            # without the LP (half the time, the same optima), and the next
            # search leaves it a core (``beside``). The last correction is
            # verified at once beside the one still being verified, on the
            # core the searches have left (docs/decisions.md, 52).
            pending = _Check(sc, changes, proven, deadline, offer, after=pending)
        else:
            verdict, verified = verify(sc, changes, deadline, workers, control)
            offer(changes, proven, verdict, verified)
        if control.stopped:
            break
    drop()
    if pending is not None:
        pending.join(control)
    for unused in dropped:
        unused.join(control)
    order = sorted(range(len(report.corrections)), key=lambda i: (
        (_worst(sc, report.specs[i]) if balanced else 0), report.corrections[i].cost))
    report.corrections = [report.corrections[i] for i in order]
    report.specs = [report.specs[i] for i in order]
    report.results = [report.results[i] for i in order]
    return report
