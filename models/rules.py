"""Rule kinds of SPEC §1/§2.2 as a discriminated union on ``kind``."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

MAX_LAG = 10_000_000


class _RuleBase(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    id: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s]+$")]
    enabled: bool = True
    text: str | None = None
    tags: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


Lag = Annotated[int, Field(ge=-MAX_LAG, le=MAX_LAG)]
NonNeg = Annotated[int, Field(ge=0, le=MAX_LAG)]
Ref = Annotated[str, Field(min_length=1)]


class Precedence(_RuleBase):
    kind: Literal["precedence"]
    before: Ref
    after: Ref
    from_: Literal["start", "end", "verified"] = Field(default="end", alias="from")
    to: Literal["start", "end"] = "start"
    min_lag: Lag = 0
    max_lag: Lag | None = None


class Reciprocity(_RuleBase):
    kind: Literal["reciprocity"]
    a: Ref
    b: Ref
    max_gap: NonNeg = 0


class Together(_RuleBase):
    kind: Literal["together"]
    concessions: list[Ref] = Field(min_length=1)


class Exclusive(_RuleBase):
    kind: Literal["exclusive"]
    concessions: list[Ref] = Field(min_length=1)


class Requires(_RuleBase):
    kind: Literal["requires"]
    if_: Ref = Field(alias="if")
    then: Ref


class Exposure(_RuleBase):
    kind: Literal["exposure"]
    parties: list[Ref] | None = None
    max: Annotated[int, Field(ge=0, le=10**12)]


class PhaseBalance(_RuleBase):
    kind: Literal["phase_balance"]
    parties: list[Ref] | None = None
    tolerance: Annotated[int, Field(ge=0, le=10**12)]


Rule = Annotated[
    Union[Precedence, Reciprocity, Together, Exclusive, Requires, Exposure, PhaseBalance],
    Field(discriminator="kind"),
]
RULE_KINDS = ("precedence", "reciprocity", "together", "exclusive", "requires", "exposure",
              "phase_balance")
