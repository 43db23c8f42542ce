"""Pydantic v2 types of the roadmap/v1 scenario format (SPEC §1).

Field shapes and per-field bounds live here; cross-references and
whole-scenario checks (ids, windows, cycles) live in ``validation.py`` so that
each message can name the exact field path.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.extensions import CreditKeep, Progress, Relax, RelaxPrice, Uncertainty
from models.rules import Rule

# Bounds that keep every CP-SAT expression far from int64 overflow while
# allowing horizons of days over decades (issue 8 asks for 100,000 units).
MAX_TIME = 10_000_000
MAX_AMOUNT = 1_000_000
MAX_WEIGHT = 10_000

Reversibility = Literal["reversible", "costly", "irreversible"]
Method = Literal["none", "declaration", "public", "ntm", "monitoring", "inspection"]
TimeUnit = Literal["month", "week", "day"]
MetricName = Literal[
    "makespan", "weighted_completion", "peak_exposure", "excluded_value", "phase_imbalance"
]

Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s]+$")]
Time = Annotated[int, Field(ge=0, le=MAX_TIME)]
SignedTime = Annotated[int, Field(ge=-MAX_TIME, le=MAX_TIME)]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
Weight = Annotated[int, Field(ge=0, le=MAX_WEIGHT)]

REVERSIBILITY_FACTOR: dict[str, int] = {"reversible": 25, "costly": 60, "irreversible": 100}
DEFAULT_METHODS: dict[str, tuple[int, int | None]] = {
    # method: (credit_pct, lag); `none` has no verification time at all.
    "none": (0, None),
    "declaration": (25, 0),
    "public": (100, 0),
    "ntm": (75, 1),
    "monitoring": (90, 1),
    "inspection": (100, 2),
}


class _Strict(BaseModel):
    # strict: "5" is not 5 and 1.5 is not 1 -- a planner's typo must surface.
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class Party(_Strict):
    id: Id
    name: str | None = None
    description: str | None = None


class Phase(_Strict):
    id: Id
    name: str | None = None
    min_length: Time = 1
    max_length: Time | None = None
    text: str | None = None


class Resource(_Strict):
    id: Id
    name: str | None = None
    capacity: Amount
    text: str | None = None


class MethodOverride(_Strict):
    credit_pct: Annotated[int, Field(ge=0, le=100)] | None = None
    lag: Time | None = None


class DurationRange(_Strict):
    min: Time
    max: Time


class Concession(_Strict):
    id: Id
    party: Id
    title: str | None = None
    text: str | None = None
    category: str = "other"
    duration: Time | DurationRange = Field(union_mode="left_to_right")
    value: Amount | dict[Id, Amount] = Field(default=0, union_mode="left_to_right")
    cost: Amount | None = None
    reversibility: Reversibility = "costly"
    verification: Method = "declaration"
    verification_lag: Time | None = None
    risk: Amount | None = None
    credit: Amount | dict[Id, Amount] | None = Field(default=None, union_mode="left_to_right")
    priority: Weight = 1
    optional: bool = False
    earliest_start: Time = 0
    latest_end: Time | None = None
    start: Time | None = None
    phases: list[Id] | None = None
    uses: dict[Id, Amount] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    # v1.1 (SPEC §5.6): the side whose demand this is, and what changing it costs.
    owner: Id | None = None
    relax: Relax | None = Field(default=None, union_mode="left_to_right")

    @property
    def min_duration(self) -> int:
        return self.duration if isinstance(self.duration, int) else self.duration.min

    @property
    def max_duration(self) -> int:
        return self.duration if isinstance(self.duration, int) else self.duration.max

    @property
    def label(self) -> str:
        return self.title or self.id


class ObjectiveTerm(_Strict):
    metric: MetricName
    weight: Weight = 1
    parties: list[Id] | None = None

    @model_validator(mode="after")
    def _parties_only_for_exposure(self) -> ObjectiveTerm:
        if self.parties is not None and self.metric != "peak_exposure":
            raise ValueError("'parties' is only allowed on the peak_exposure metric")
        return self


class Objective(_Strict):
    mode: Literal["lexicographic", "weighted"] = "lexicographic"
    terms: list[ObjectiveTerm] = Field(
        default_factory=lambda: [ObjectiveTerm(metric="makespan")], min_length=1
    )


class ObservedItem(_Strict):
    id: Id
    start: Time
    end: Time
    note: str | None = None


class Observed(_Strict):
    source: str | None = None
    schedule: list[ObservedItem] = Field(default_factory=list)


_CAL = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$")


class Scenario(_Strict):
    format: Literal["roadmap/v1"]
    name: str = "Untitled roadmap"
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    time_unit: TimeUnit = "month"
    calendar_start: str | None = None
    horizon: Annotated[int, Field(ge=1, le=MAX_TIME)]
    parties: list[Party] = Field(min_length=1)
    phases: list[Phase] = Field(default_factory=list)
    resources: list[Resource] = Field(default_factory=list)
    verification_methods: dict[Method, MethodOverride] = Field(default_factory=dict)
    concessions: list[Concession] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    observed: Observed | None = None
    objective: Objective = Field(default_factory=Objective)
    # v1.1 (SPEC §5): absent means "as in v1".
    principals: list[Id] | None = None
    credit_keep: CreditKeep | None = None
    relax_defaults: RelaxPrice | None = None
    progress: Progress | None = None
    uncertainty: Uncertainty | None = None

    @field_validator("calendar_start", mode="before")
    @classmethod
    def _calendar(cls, v: object) -> object:
        # YAML turns 2018-06-12 into a date; keep the ISO text the user meant.
        if isinstance(v, _dt.datetime):
            v = v.date()
        if isinstance(v, _dt.date):
            return v.isoformat()
        if isinstance(v, str):
            if not _CAL.match(v):
                raise ValueError("expected a date as YYYY-MM or YYYY-MM-DD")
            try:
                parts = [int(x) for x in v.split("-")]
                _dt.date(parts[0], parts[1], parts[2] if len(parts) > 2 else 1)
            except ValueError as exc:
                raise ValueError(f"not a real date: {exc}") from None
        return v

    # -- derived views used by the engine, the checker and the UI ----------
    @property
    def party_ids(self) -> list[str]:
        return [p.id for p in self.parties]

    @property
    def effective_phases(self) -> list[Phase]:
        return self.phases or [Phase(id="P1", name="Whole roadmap")]

    def concession(self, cid: str) -> Concession:
        for c in self.concessions:
            if c.id == cid:
                return c
        raise KeyError(cid)

    @property
    def principal_ids(self) -> list[str]:
        """The negotiating sides (SPEC §5.1): ``principals``, or every party."""
        return list(self.principals) if self.principals else self.party_ids

    def canonical_dict(self) -> dict[str, object]:
        """The dump behind ``scenario.sha256``.

        v1.1 fields left unset are omitted, so a v1 scenario keeps the SHA-256
        (and the run-store keys) it had under v1 (docs/decisions.md).
        """
        data = self.model_dump(mode="json", by_alias=True)
        for key in V11_TOP:
            if data.get(key) is None:
                data.pop(key, None)
        for item in data["concessions"] + data["rules"]:  # type: ignore[operator]
            for key in V11_ITEM:
                if item.get(key) is None:
                    item.pop(key, None)
            if item.get("verification_delay") == 0:
                item.pop("verification_delay", None)
        return data


V11_TOP = ("principals", "credit_keep", "relax_defaults", "progress", "uncertainty")
V11_ITEM = ("owner", "relax")
