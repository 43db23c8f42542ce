"""The progress record of a scenario (SPEC §5.5), indexed, and the times it fixes.

Shared by the model (``optimizer.model.progress``), the ``broken`` analysis
and the plain-Python evaluators; the checker keeps its own arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.extensions import Progress, ProgressStep
from models.scenario import Concession, Scenario


@dataclass(frozen=True)
class Record:
    """The progress section, indexed."""

    as_of: int
    steps: dict[str, ProgressStep]

    def done(self, cid: str) -> bool:
        s = self.steps.get(cid)
        return s is not None and s.end is not None

    def under_way(self, cid: str) -> bool:
        s = self.steps.get(cid)
        return s is not None and s.end is None


def record_of(sc: Scenario) -> Record | None:
    pr: Progress | None = sc.progress
    if pr is None:
        return None
    return Record(pr.as_of, {s.id: s for s in pr.steps})


def underway_end_lb(c: Concession, step: ProgressStep, as_of: int) -> int:
    """The earliest end of a step under way: ``max(as_of, start + min duration)``."""
    return max(as_of, step.start + c.min_duration)


def credit_window(rec: Record | None, cid: str, end: int, lag: int | None,
                  delay: int = 0) -> tuple[int | None, int | None]:
    """(from, until) of the credit a concession gives: from its verification
    (``delay`` later) until its reversal; ``from`` None: never (no method,
    refused, or reversed before it counted)."""
    if lag is None:
        return None, None
    step = rec.steps.get(cid) if rec is not None else None
    if step is None:
        return end + lag + delay, None
    if step.verified is False:
        return None, None
    v = (step.verified if step.verified is not None else end + lag) + delay
    r = step.reversed
    if r is not None and r <= v:
        return None, None
    return v, r


def verified_time(rec: Record | None, cid: str, end: int, lag: int | None) -> int | None:
    """The schedule's ``verified`` figure (null: no method, or refused)."""
    if lag is None:
        return None
    step = rec.steps.get(cid) if rec is not None else None
    if step is None:
        return end + lag
    if step.verified is False:
        return None
    return step.verified if step.verified is not None else end + lag


