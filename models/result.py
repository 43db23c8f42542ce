"""The result file of SPEC §3 as pydantic types, plus table/CSV views."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from models.scenario import MetricName

if TYPE_CHECKING:  # pandas is imported lazily: `roadmap --help` must stay fast
    import pandas as pd

Status = Literal["optimal", "feasible", "infeasible", "unknown"]
RESULT_FORMAT: Literal["roadmap-result/v1"] = "roadmap-result/v1"
# The five metrics of SPEC §2.4, named once (models.scenario.MetricName).
METRIC_NAMES: tuple[str, ...] = get_args(MetricName)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenarioRef(_Model):
    name: str
    sha256: str


class Metrics(_Model):
    makespan: int
    weighted_completion: int
    peak_exposure: int
    excluded_value: int
    phase_imbalance: int


class ObjectiveEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metric: str
    value: int | None
    bound: int | None
    weight: int | None = None

    def model_dump_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metric": self.metric, "value": self.value, "bound": self.bound}
        if self.weight is not None:
            out["weight"] = self.weight
        return out


class SolverInfo(_Model):
    name: str = "ortools-cp-sat"
    version: str
    wall_time_s: float
    workers: int
    seed: int
    time_limit_s: float | None


class PhaseWindow(_Model):
    id: str
    start: int
    end: int


class ScheduleEntry(_Model):
    id: str
    party: str
    present: bool
    start: int | None
    end: int | None
    phase: str | None
    verified: int | None
    reversed: int | None = None    # SPEC §5.5: only on a reversed step's row

    def spec_dict(self) -> dict[str, Any]:
        out = self.model_dump()
        if out["reversed"] is None:
            del out["reversed"]
        return out


class PartyLedger(_Model):
    """One party's ledger (SPEC §5.4).

    ``points``: ``[t, delivered, received, at_risk, exposure]`` from t = 0,
    then one wherever one of the four figures changes; ``peak`` is
    ``max(0, max exposure)``.
    """

    peak: int
    points: list[tuple[int, int, int, int, int]]

    def at(self, t: int) -> tuple[int, int, int, int]:
        """(delivered, received, at_risk, exposure) at time t (the step function's value)."""
        last = (0, 0, 0, 0)
        for pt in self.points:
            if pt[0] > t:
                break
            last = (pt[1], pt[2], pt[3], pt[4])
        return last

    def peak_time(self) -> int | None:
        """The first t at which exposure reaches ``peak`` (None when the peak is 0)."""
        for pt in self.points:
            if pt[4] == self.peak and self.peak > 0:
                return pt[0]
        return None


LEDGER_COLUMNS = ("party", "t", "delivered", "received", "at_risk", "exposure")


class Demand(BaseModel):
    """One concession-level demand in a conflict (SPEC §3)."""

    model_config = ConfigDict(extra="forbid")
    field: str
    concession: str | None = None
    phase: str | None = None
    resource: str | None = None

    def spec_dict(self) -> dict[str, str]:
        out = {k: v for k, v in (("concession", self.concession), ("phase", self.phase),
                                 ("resource", self.resource)) if v is not None}
        out["field"] = self.field
        return out


class Suggestion(_Model):
    """The smallest change to one position of a conflict (``optimizer.explain.suggestions``).

    ``resolves`` is ``scenario`` when this one change makes the whole scenario
    feasible, ``conflict`` when it lifts only this conflict.
    """

    element: str                              # the conflict element, e.g. "rule:no_cliff"
    action: Literal["relax", "drop"]          # change a number / give the position up
    path: str                                 # field path in the scenario, e.g. rules[3].max
    value: Any                                # the new value to write at ``path``
    current: Any = None                       # the value now (None when unset)
    change: str                               # for a person: "raise the cap from 8 to 9"
    resolves: Literal["scenario", "conflict"]


class Conflict(_Model):
    rules: list[str]
    demands: list[Demand]
    concessions: list[str]
    message: str
    # Human sentences, one per element, and numeric relaxations (issue 3).
    explanations: list[str] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(default_factory=list)

    def spec_dict(self) -> dict[str, Any]:
        """Exactly the four keys of SPEC §3 (the result file)."""
        return {
            "rules": list(self.rules),
            "demands": [d.spec_dict() for d in self.demands],
            "concessions": list(self.concessions),
            "message": self.message,
        }

    def full_dict(self) -> dict[str, Any]:
        """The SPEC keys plus one sentence per element and the suggested relaxations
        (``roadmap explain --format json``)."""
        out = self.spec_dict()
        out["explanations"] = list(self.explanations)
        out["suggestions"] = [s.model_dump() for s in self.suggestions]
        return out


class Change(BaseModel):
    """One change of a correction (SPEC §5.6): a position by path, its old and new value,
    and the side whose position it is (``owner``; null when none)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    path: str                                 # e.g. rules[us_cap].max, horizon
    from_: Any = Field(alias="from")
    to: Any
    party: str | None = None

    def spec_dict(self) -> dict[str, Any]:
        return {"path": self.path, "from": self.from_, "to": self.to, "party": self.party}


class Correction(_Model):
    """Changes after which an infeasible scenario is feasible (SPEC §5.6), with their cost
    and the figures of the corrected scenario's schedule (``metrics``)."""

    cost: int
    proven: bool                              # the least cost, proven by the search
    changes: list[Change]
    metrics: Metrics | None

    def spec_dict(self) -> dict[str, Any]:
        return {"cost": self.cost, "proven": self.proven,
                "changes": [c.spec_dict() for c in self.changes],
                "metrics": self.metrics.model_dump() if self.metrics else None}


class Result(_Model):
    format: Literal["roadmap-result/v1"] = RESULT_FORMAT
    scenario: ScenarioRef
    status: Status
    metrics: Metrics | None
    objective: list[ObjectiveEntry]
    solver: SolverInfo
    phases: list[PhaseWindow]
    schedule: list[ScheduleEntry]
    exposure: dict[str, list[tuple[int, int]]]
    conflict: Conflict | None = None
    # SPEC §5.4; {} for infeasible/unknown (and in results written before v1.1).
    ledger: dict[str, PartyLedger] = Field(default_factory=dict)
    # SPEC §5.5: what the record breaks; a list (possibly empty) with progress.
    broken: list[dict[str, str]] | None = None

    # -- serialisation ------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The exact SPEC §3 JSON object."""
        return {
            "format": self.format,
            "scenario": self.scenario.model_dump(),
            "status": self.status,
            "metrics": self.metrics.model_dump() if self.metrics else None,
            "objective": [o.model_dump_spec() for o in self.objective],
            "solver": self.solver.model_dump(),
            "phases": [p.model_dump() for p in self.phases],
            "schedule": [s.spec_dict() for s in self.schedule],
            "exposure": {p: [[t, lv] for t, lv in pts] for p, pts in self.exposure.items()},
            "conflict": self.conflict.spec_dict() if self.conflict else None,
            "ledger": {p: {"peak": lg.peak, "points": [list(pt) for pt in lg.points]}
                       for p, lg in self.ledger.items()},
            **({} if self.broken is None else {"broken": [dict(b) for b in self.broken]}),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        return cls.model_validate(data)

    @classmethod
    def from_json(cls, text: str) -> Result:
        return cls.model_validate(json.loads(text))

    @property
    def solved(self) -> bool:
        return self.status in ("optimal", "feasible")

    # -- tabular views -------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per concession: id, party, present, start, end, phase, verified."""
        import pandas as pd

        rows = [s.model_dump() for s in self.schedule]
        columns = [f for f in ScheduleEntry.model_fields
                   if f != "reversed" or any(s.reversed is not None for s in self.schedule)]
        frame = pd.DataFrame(rows, columns=columns)
        for col in ("start", "end", "verified"):
            frame[col] = frame[col].astype("Int64")
        return frame

    def ledger_frame(self) -> pd.DataFrame:
        """One row per party and ledger point: party, t, delivered, received, at_risk, exposure."""
        import pandas as pd

        rows = [(p, *pt) for p, lg in self.ledger.items() for pt in lg.points]
        return pd.DataFrame(rows, columns=list(LEDGER_COLUMNS))

    def to_csv(self) -> str:
        return str(self.to_frame().to_csv(index=False))

    # -- notebooks (models/notebook.py; Altair loads only when called) ----------
    def _repr_html_(self) -> str:
        from models.notebook import result_html

        return result_html(self)

    def gantt(self, scenario: Any = None) -> Any:
        """An Altair Gantt chart of the schedule (titles and units from ``scenario``)."""
        from models.notebook import gantt_chart

        return gantt_chart(self, scenario)

    def ledger_chart(self, scenario: Any = None) -> Any:
        """An Altair chart of each party's exposure over time, on one scale."""
        from models.notebook import ledger_chart

        return ledger_chart(self, scenario)
