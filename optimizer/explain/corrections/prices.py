"""What a change to one position costs and whose position it is (SPEC §5.6).

Default prices: ``touch`` = 10 once per changed position plus ``per_unit`` = 1
per unit moved; one more allowed phase costs 5; making a required concession
optional costs its total value; switching a rule off costs three touches.
``relax_defaults`` replaces 10 and 1 (and prices the horizon, the phases and
the resources); a rule's or concession's ``relax: {touch, per_unit}``
replaces them for its own changes, ``relax: false`` forbids them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from models.extensions import RelaxPrice
from models.scenario import Scenario

TOUCH, PER_UNIT, PER_PHASE, OFF_TOUCHES = 10, 1, 5, 3

# How a change moves its position: a number by some units, a rule switched
# off, a concession made optional, more phases allowed.
Kind = Literal["amount", "off", "optional", "phases"]


@dataclass(frozen=True)
class Price:
    touch: int
    per_unit: int


def default_price(sc: Scenario) -> Price:
    rd = sc.relax_defaults
    return Price(TOUCH if rd is None or rd.touch is None else rd.touch,
                 PER_UNIT if rd is None or rd.per_unit is None else rd.per_unit)


def price_of(sc: Scenario, relax: RelaxPrice | Literal[False] | None) -> Price | None:
    """The item's price, or None when it says ``relax: false``."""
    if relax is False:
        return None
    base = default_price(sc)
    if relax is None:
        return base
    return Price(base.touch if relax.touch is None else relax.touch,
                 base.per_unit if relax.per_unit is None else relax.per_unit)


@dataclass(frozen=True)
class ChangeSpec:
    """One change as the search proposes it: enough to price, apply and undo it.

    ``element`` names the position for "different sets of positions"
    (a rule, one field of a concession or phase, a resource, the horizon).
    """

    element: tuple[str, ...]
    path: str
    kind: Kind
    current: Any
    to: Any
    party: str | None
    price: Price
    direction: int = 0          # amount: +1 raised, -1 lowered, 0 either way (a pin)
    extra: int = 0              # optional: the total value given up

    @property
    def units(self) -> int:
        if self.kind == "amount":
            return abs(int(self.to) - int(self.current))
        if self.kind == "phases":
            return len(set(self.to) - set(self.current or []))
        return 0

    @property
    def cost(self) -> int:
        p = self.price
        if self.kind == "off":
            return OFF_TOUCHES * p.touch
        if self.kind == "optional":
            return p.touch + self.extra
        if self.kind == "phases":
            return p.touch + PER_PHASE * self.units
        return p.touch + p.per_unit * self.units

    def moved(self, to: Any) -> ChangeSpec:
        return ChangeSpec(self.element, self.path, self.kind, self.current, to, self.party,
                          self.price, self.direction, self.extra)


def rule_owner(sc: Scenario, rule: Any) -> str | None:
    """A rule's ``owner``; an exposure cap on one party defaults to that party."""
    if rule.owner is not None:
        return str(rule.owner)
    if rule.kind == "exposure":
        parties = list(dict.fromkeys(rule.parties or sc.principal_ids))
        if len(parties) == 1:
            return parties[0]
    return None
