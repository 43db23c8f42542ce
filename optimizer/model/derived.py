"""Derived per-concession numbers of SPEC §2.3/§5.2: total value, risk, credit, lag.

The engine and the result reader use these; the independent checker
(``check.py``) deliberately recomputes them on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.scenario import DEFAULT_METHODS, REVERSIBILITY_FACTOR, Concession, Scenario


@dataclass(frozen=True)
class Derived:
    id: str
    party: str
    value: dict[str, int]       # to each beneficiary
    total_value: int
    cost: int
    risk: int
    credit: dict[str, int]      # to each other party
    lag: int | None             # None: never verified


def value_map(sc: Scenario, c: Concession) -> dict[str, int]:
    if isinstance(c.value, dict):
        return {p: c.value.get(p, 0) for p in sc.party_ids if p != c.party}
    return {p: c.value for p in sc.party_ids if p != c.party}


def method(sc: Scenario, name: str) -> tuple[int, int | None]:
    pct, lag = DEFAULT_METHODS[name]
    over = sc.verification_methods.get(name)  # type: ignore[call-overload]
    if over is not None and name != "none":
        pct = over.credit_pct if over.credit_pct is not None else pct
        lag = over.lag if over.lag is not None else lag
    return pct, lag


def derive(sc: Scenario, c: Concession) -> Derived:
    values = value_map(sc, c)
    total = sum(values.values())
    cost = c.cost if c.cost is not None else total
    risk = c.risk if c.risk is not None else cost * REVERSIBILITY_FACTOR[c.reversibility] // 100
    pct, lag = method(sc, c.verification)
    if c.verification == "none":
        credit = {p: 0 for p in values}
        lag = None
    elif c.credit is None:
        # §5.2: discounted by how easily the giver takes it back, rounded down once.
        keep = sc.credit_keep.pct(c.reversibility) if sc.credit_keep is not None else 100
        credit = {p: v * pct * keep // 10000 for p, v in values.items()}
    elif isinstance(c.credit, dict):
        credit = {p: c.credit.get(p, 0) for p in values}
    else:
        credit = {p: c.credit for p in values}
    if c.verification_lag is not None and lag is not None:
        lag = c.verification_lag
    return Derived(c.id, c.party, values, total, cost, risk, credit, lag)


def derive_all(sc: Scenario) -> dict[str, Derived]:
    return {c.id: derive(sc, c) for c in sc.concessions}
