"""What `roadmap explain` reports.

The conflict of an infeasible scenario, or what binds a feasible one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from models.result import Conflict, Correction, Result
from models.scenario import Scenario
from optimizer.explain.conflict import find_conflict
from optimizer.solving.handle import StopControl


# --------------------------------------------------------------------------
# The Python front door used by the CLI and the UI
@dataclass
class Explanation:
    """What `roadmap explain` reports: a conflict, or what binds the schedule."""

    status: str
    result: Result
    conflict: Conflict | None = None
    binding: Any = None          # optimizer.explain.binding.BindingReport
    defection: list[Any] = field(default_factory=list)   # optimizer.explain.defection.PartyExposure
    # SPEC §5.6, infeasible scenarios only: cheapest first. ``stopped``: a stop
    # or the time limit cut the explanation short (what is here is what was found).
    corrections: list[Correction] = field(default_factory=list)
    stopped: bool = False
    # Per correction, the cost charged to each party (None: to no one), for the words.
    bills: list[dict[str | None, int]] = field(default_factory=list)
    # Per correction, its verification solve (None: not verified): each principal's figures.
    verified: list[Result | None] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.status == "infeasible":
            out["corrections"] = [c.spec_dict() for c in self.corrections]
            out["stopped"] = self.stopped
        if self.conflict is not None:
            out["conflict"] = self.conflict.full_dict()
        if self.binding is not None:
            out["metrics"] = self.result.metrics.model_dump() if self.result.metrics else None
            out["binding"] = self.binding.to_dict()
            out["defection"] = [p.to_dict() for p in self.defection]
        return out


def explain_scenario(sc: Scenario, options: Any = None, *, corrections: int = 3,
                     balanced: bool = False, suggest: bool = True,
                     control: StopControl | None = None,
                     on_progress: Callable[[str], None] | None = None,
                     on_correction: Callable[[Correction, list[Any], Result | None],
                                             None] | None = None) -> Explanation:
    """Solve, then explain: when infeasible the cheapest corrections (SPEC §5.6) and
    the minimal conflict (with per-element fixes when ``suggest``), else slack,
    tight rules and cliffs. A stop through ``control`` returns what was found;
    ``on_correction`` hears of each correction (its changes, its verification
    solve) as soon as it is checked."""
    from models.options import SolveOptions
    from optimizer.explain.corrections import bills, find_corrections
    from optimizer.solving.stages import solve

    opts = options or SolveOptions(workers=1)
    control = control or StopControl()
    say = on_progress or (lambda _msg: None)
    say("solving the scenario")
    result = solve(sc, opts, control=control)
    if result.status == "infeasible":
        found = find_corrections(sc, corrections, balanced=balanced,
                                 time_limit_s=opts.time_limit_s, workers=opts.workers,
                                 control=control, on_progress=say,
                                 on_correction=on_correction)
        say("finding the minimal conflict")
        deadline = time.monotonic() + opts.time_limit_s
        conflict = find_conflict(sc, deadline, suggest=suggest, control=control)
        return Explanation(status=result.status, result=result, conflict=conflict,
                           corrections=found.corrections,
                           bills=[bills(specs) for specs in found.specs],
                           verified=found.results,
                           stopped=found.stopped or control.stopped)
    if not result.solved or control.stopped:
        return Explanation(status=result.status, result=result, stopped=control.stopped)
    from optimizer.explain.binding import binding_report
    from optimizer.explain.defection import defection_report

    deadline = time.monotonic() + opts.time_limit_s
    return Explanation(status=result.status, result=result,
                       binding=binding_report(sc, result, deadline=deadline),
                       defection=defection_report(sc, result))
