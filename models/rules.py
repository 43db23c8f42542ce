"""Rule kinds of SPEC §1/§2.2 as a discriminated union on ``kind``.

What a rule *means* beyond its encoding lives here, on the type, so that
validation, explanations, corrections, backtests and the app ask the rule
instead of re-deriving it:

* ``refs()`` — the concessions it names, in the order written, with the
  field each sits in (``ref_fields()``);
* ``relaxable()`` — its numeric positions a correction may move: which
  field, in which direction, and how far;
* ``summary(name)`` — a short line naming its concessions (``name`` maps an
  id to a title), used for labels and tooltips.

The encoders (``optimizer/model/rules``) and the checker keep their own
arithmetic on purpose: the checker must not share the engine's numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from models.extensions import RelaxPrice

MAX_LAG = 10_000_000


@dataclass(frozen=True)
class Relaxable:
    """A numeric position of a rule that a correction may move.

    ``direction`` +1 means loosening raises the number, -1 lowers it.
    ``floor`` is the furthest a lowering may go (None: no limit); ``unit``
    says what one step is: a ``time`` unit of the scenario or a ``value``.
    """

    field: str
    current: int
    direction: int
    floor: int | None = None
    unit: Literal["time", "value"] = "time"


def _ident(cid: str) -> str:
    return cid


class _RuleBase(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    id: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s]+$")]
    enabled: bool = True
    text: str | None = None
    tags: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    # v1.1 (SPEC §5.6): the side whose demand this is, and what changing it costs.
    owner: Annotated[str, Field(min_length=1)] | None = None
    relax: RelaxPrice | Literal[False] | None = Field(default=None, union_mode="left_to_right")

    def ref_fields(self) -> list[tuple[str, str]]:
        """(field path inside the rule, concession id) for every concession it names."""
        return []

    def refs(self) -> list[str]:
        """The concessions the rule names, in the order written."""
        return [cid for _, cid in self.ref_fields()]

    def relaxable(self) -> list[Relaxable]:
        """The numeric positions a correction may loosen (none for logical rules)."""
        return []

    def summary(self, name: Callable[[str], str] = _ident) -> str:
        """A short line naming what the rule links, e.g. "A (end) → B (start)"."""
        return ", ".join(name(c) for c in self.refs())


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

    def ref_fields(self) -> list[tuple[str, str]]:
        return [("before", self.before), ("after", self.after)]

    def relaxable(self) -> list[Relaxable]:
        # A non-negative minimum lag goes down to 0 at most (SPEC §5.6); a
        # negative one has no lower limit.
        out = [Relaxable("min_lag", self.min_lag, -1, 0 if self.min_lag >= 0 else None)]
        if self.max_lag is not None:
            out.append(Relaxable("max_lag", self.max_lag, +1))
        return out

    def summary(self, name: Callable[[str], str] = _ident) -> str:
        return f"{name(self.before)} ({self.from_}) → {name(self.after)} ({self.to})"


class Reciprocity(_RuleBase):
    kind: Literal["reciprocity"]
    a: Ref
    b: Ref
    max_gap: NonNeg = 0

    def ref_fields(self) -> list[tuple[str, str]]:
        return [("a", self.a), ("b", self.b)]

    def relaxable(self) -> list[Relaxable]:
        return [Relaxable("max_gap", self.max_gap, +1)]

    def summary(self, name: Callable[[str], str] = _ident) -> str:
        return f"{name(self.a)} ⇄ {name(self.b)}"


class Together(_RuleBase):
    kind: Literal["together"]
    concessions: list[Ref] = Field(min_length=1)

    def ref_fields(self) -> list[tuple[str, str]]:
        return [(f"concessions[{n}]", cid) for n, cid in enumerate(self.concessions)]


class Exclusive(_RuleBase):
    kind: Literal["exclusive"]
    concessions: list[Ref] = Field(min_length=1)

    def ref_fields(self) -> list[tuple[str, str]]:
        return [(f"concessions[{n}]", cid) for n, cid in enumerate(self.concessions)]


class Requires(_RuleBase):
    kind: Literal["requires"]
    if_: Ref = Field(alias="if")
    then: Ref

    def ref_fields(self) -> list[tuple[str, str]]:
        return [("if", self.if_), ("then", self.then)]

    def summary(self, name: Callable[[str], str] = _ident) -> str:
        return f"if {name(self.if_)} then {name(self.then)}"


class Exposure(_RuleBase):
    kind: Literal["exposure"]
    parties: list[Ref] | None = None
    max: Annotated[int, Field(ge=0, le=10**12)]
    # SPEC §5.3: the cap holds even if every verification arrives this much later.
    verification_delay: NonNeg = 0

    def relaxable(self) -> list[Relaxable]:
        return [Relaxable("max", self.max, +1, unit="value")]

    def summary(self, name: Callable[[str], str] = _ident) -> str:
        return "parties: " + (", ".join(self.parties) if self.parties else "the default")


class PhaseBalance(_RuleBase):
    kind: Literal["phase_balance"]
    parties: list[Ref] | None = None
    tolerance: Annotated[int, Field(ge=0, le=10**12)]

    def relaxable(self) -> list[Relaxable]:
        return [Relaxable("tolerance", self.tolerance, +1, unit="value")]

    def summary(self, name: Callable[[str], str] = _ident) -> str:
        return "parties: " + (", ".join(self.parties) if self.parties else "the default")


Rule = Annotated[
    Union[Precedence, Reciprocity, Together, Exclusive, Requires, Exposure, PhaseBalance],
    Field(discriminator="kind"),
]
RULE_KINDS = ("precedence", "reciprocity", "together", "exclusive", "requires", "exposure",
              "phase_balance")
