"""The v1.1 sections of a scenario (SPEC §5): durable credit, correction prices,
progress records and uncertainty.

Field shapes and per-field bounds live here; cross-references (unknown
concessions, parties, categories) and the checks that need the whole scenario
(a step's times against ``as_of``) are in ``models.validation``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TIME = 10_000_000
MAX_PRICE = 1_000_000

Time = Annotated[int, Field(ge=0, le=MAX_TIME)]
Pct = Annotated[int, Field(ge=0, le=100)]
Price = Annotated[int, Field(ge=0, le=MAX_PRICE)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class CreditKeep(_Strict):
    """§5.2: the share of credit (percent) that survives its giver's ability to take it back."""

    reversible: Pct = 100
    costly: Pct = 100
    irreversible: Pct = 100
    text: str | None = None
    sources: list[str] = Field(default_factory=list)

    def pct(self, reversibility: str) -> int:
        return int(getattr(self, reversibility))


class RelaxPrice(_Strict):
    """§5.6: what changing a position costs: ``touch`` once, ``per_unit`` per unit moved."""

    touch: Price | None = None
    per_unit: Price | None = None


# `relax: false` forbids any change of that position (§5.6).
Relax = RelaxPrice | Literal[False]


class ProgressStep(_Strict):
    """§5.5: one concession as it actually went.

    ``end`` set: done. ``end`` absent: under way at ``as_of``. ``verified`` is a
    time, or ``false`` when the verification was refused; ``reversed`` the time
    the step was taken back.
    """

    id: Id
    start: Time
    end: Time | None = None
    verified: Time | Literal[False] | None = Field(default=None, union_mode="left_to_right")
    reversed: Time | None = None
    note: str | None = None
    sources: list[str] = Field(default_factory=list)


class Progress(_Strict):
    as_of: Time
    steps: list[ProgressStep] = Field(default_factory=list)
    source: str | None = None


ThreePoint = Annotated[list[int], Field(min_length=3, max_length=3)]


def _ordered(v: list[int] | None) -> list[int] | None:
    if v is not None and not (v[0] <= v[1] <= v[2]):
        raise ValueError(f"a three-point list is [min, mode, max] with min <= mode <= max, "
                         f"got {v}")
    return v


class UncertaintyEntry(_Strict):
    """§5.7: three-point delays (time units) and the chance a verification never comes."""

    delay: ThreePoint | None = None
    verification_delay: ThreePoint | None = None
    verification_failure: Probability | None = None
    text: str | None = None
    sources: list[str] = Field(default_factory=list)

    @field_validator("delay", "verification_delay")
    @classmethod
    def _order(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and any(x < 0 for x in v):
            raise ValueError(f"a delay cannot be negative, got {v}")
        return _ordered(v)


class Uncertainty(_Strict):
    """§5.7: the most specific entry wins, field by field (concession, category, party, default).

    ``party_correlation`` (0-1, default 0) makes the delays of one party's
    steps move together: each draw mixes a per-party common quantile with the
    step's own (issue 15's correlated delays; see ``optimizer.studies.stress``).
    """

    default: UncertaintyEntry | None = None
    parties: dict[Id, UncertaintyEntry] = Field(default_factory=dict)
    categories: dict[str, UncertaintyEntry] = Field(default_factory=dict)
    concessions: dict[Id, UncertaintyEntry] = Field(default_factory=dict)
    value: ThreePoint | None = None
    party_correlation: Probability = 0.0
    text: str | None = None
    sources: list[str] = Field(default_factory=list)

    @field_validator("value")
    @classmethod
    def _value(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and any(x < 0 for x in v):
            raise ValueError(f"a value percentage cannot be negative, got {v}")
        return _ordered(v)
