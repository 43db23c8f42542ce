"""What `roadmap explain` reports.

The conflict of an infeasible scenario, or what binds a feasible one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from models.result import Conflict, Result
from models.scenario import Scenario
from optimizer.explain.conflict import find_conflict


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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.conflict is not None:
            out["conflict"] = self.conflict.full_dict()
        if self.binding is not None:
            out["metrics"] = self.result.metrics.model_dump() if self.result.metrics else None
            out["binding"] = self.binding.to_dict()
            out["defection"] = [p.to_dict() for p in self.defection]
        return out


def explain_scenario(sc: Scenario, options: Any = None) -> Explanation:
    """Solve, then explain: the conflict when infeasible, else slack, tight rules and cliffs."""
    from models.options import SolveOptions
    from optimizer.solving.stages import solve

    opts = options or SolveOptions(workers=1)
    result = solve(sc, opts, explain_infeasible=lambda s, deadline: find_conflict(
        s, deadline=deadline))
    if result.status == "infeasible":
        conflict = result.conflict or find_conflict(sc)
        return Explanation(status=result.status, result=result, conflict=conflict)
    if not result.solved:
        return Explanation(status=result.status, result=result)
    from optimizer.explain.binding import binding_report
    from optimizer.explain.defection import defection_report

    deadline = time.monotonic() + opts.time_limit_s
    return Explanation(status=result.status, result=result,
                       binding=binding_report(sc, result, deadline=deadline),
                       defection=defection_report(sc, result))
