"""A solved schedule's SPEC §5.5 figures: recorded verifications, reversals, ``broken``."""

from __future__ import annotations

from models.result import Result
from models.scenario import Scenario
from optimizer.model.derived import Derived
from optimizer.model.record import record_of, verified_time


def annotate(result: Result, sc: Scenario, derived: dict[str, Derived]) -> None:
    """Rows of recorded steps carry their recorded ``verified`` (null: refused) and
    ``reversed``. ``broken`` is set by ``optimizer.api.solve`` from the real
    scenario (this one may be the model scenario, whose broken rules are off)."""
    rec = record_of(sc)
    assert rec is not None
    for row in result.schedule:
        step = rec.steps.get(row.id)
        if step is None or row.end is None:
            continue
        row.verified = verified_time(rec, row.id, row.end, derived[row.id].lag)
        row.reversed = step.reversed
