"""One CP-SAT model of every correction of a scenario (SPEC §5.6).

The explain-mode model (``build(sc, explain=True)``) already puts each
concession-level demand behind a literal. Here each literal means "this
position is unchanged"; next to the original constraint the model adds its
relaxed form with a non-negative *amount* (``end <= latest_end + a``), priced
``touch`` when the position changes plus ``per_unit`` per unit. Rules are
encoded by the engine's own encoders (``optimizer.model.rules``) on a copy of
the rule whose numbers are expressions (``max + a``), behind a literal "the
rule is on"; switching it off costs three touches. Minimising the total price
(or, balanced, the largest bill to one principal and then the total) gives the
cheapest correction in one search; no-good constraints on the set of changed
positions give the next cheapest ones.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from models.rules import PhaseBalance
from models.scenario import Scenario
from optimizer.explain.corrections.prices import (
    OFF_TOUCHES,
    PER_PHASE,
    ChangeSpec,
    Price,
    default_price,
    price_of,
    rule_owner,
)
from optimizer.model.build import build
from optimizer.model.handles import Handles
from optimizer.model.rules import ENCODERS
from optimizer.model.rules.phase_balance import delivered
from optimizer.solving.hints import OutOfTime, greedy, hint_pairs

Key = tuple[str, ...]
UNBOUNDED = 1 << 40


@dataclass
class Part:
    """One path of a position that may change, with the variables that say how."""

    path: str
    kind: str                    # amount | off | optional | phases
    current: Any
    price: Price
    direction: int = 0
    amount: Any = None           # amount: the units moved (a pin: start - current)
    lit: Any = None              # off / optional: the change is made
    phases: list[tuple[str, Any]] = field(default_factory=list)  # phases: (id, allowed now)
    extra: int = 0
    ub: int = 0                  # amount: the furthest it may move
    order: list[str] = field(default_factory=list)   # phases: the scenario's phase order


@dataclass
class Position:
    element: Key
    party: str | None
    changed: Any                 # literal: some part of it changes
    parts: list[Part]


@dataclass
class CorrectionModel:
    sc: Scenario
    h: Handles
    positions: list[Position]
    total: Any
    bills: dict[str, Any]        # principal -> the cost charged to it
    worst_bill: Any
    # Every solution the searches met, as (total, worst bill, values of all
    # variables then in the model): one that no later no-good excludes is a
    # correction the next search may start from.
    pool: list[tuple[int, int, list[int]]] = field(default_factory=list)
    # Each no-good as the literal indices (proto refs) of its changed positions.
    nogoods: list[list[int]] = field(default_factory=list)

    def allowed(self, values: list[int]) -> bool:
        """Does a recorded solution satisfy every no-good added since?"""
        return not any(all(_true(values, r) for r in ng) for ng in self.nogoods)

    def best_known(self, worst_cap: int | None = None,
                   by_worst: bool = False) -> tuple[int, int, list[int]] | None:
        """The cheapest recorded solution still allowed (worst bill at most ``worst_cap``;
        ``by_worst``: least worst bill first, as the balanced search's first stage)."""
        ok = [e for e in self.pool if (worst_cap is None or e[1] <= worst_cap)
              and self.allowed(e[2])]
        if not ok:
            return None
        return min(ok, key=lambda e: (e[1], e[0]) if by_worst else (e[0], e[1]))

    @property
    def model(self) -> cp_model.CpModel:
        return self.h.model

    def read(self, solver: cp_model.CpSolver | Values) -> list[ChangeSpec]:
        """The changes of the solver's current solution (or of a recorded one)."""
        out: list[ChangeSpec] = []
        for pos in self.positions:
            for part in pos.parts:
                spec = _read_part(solver, pos, part)
                if spec is not None:
                    out.append(spec)
        return out

    def fork(self) -> CorrectionModel:
        """A copy with a model of its own (the same variables: every handle reads
        it), for a search that runs beside one on this model."""
        return dataclasses.replace(
            self, h=dataclasses.replace(self.h, model=self.model.clone()),
            pool=list(self.pool), nogoods=[list(ng) for ng in self.nogoods])

    def forbid(self, elements: set[Key]) -> None:
        """No later correction changes all of ``elements`` (a no-good on their set)."""
        lits = [p.changed for p in self.positions if p.element in elements]
        if lits:
            self.model.add_bool_or([lit.Not() for lit in lits])
            self.nogoods.append([lit.index for lit in lits])


class Values:
    """A recorded solution (the values of every variable, in order), read as a
    solver's: the changes of a hint, before any search has met it."""

    def __init__(self, values: list[int]) -> None:
        self._values = values

    def value(self, var: cp_model.IntVar) -> int:
        return self._values[var.index]

    def boolean_value(self, lit: Any) -> bool:
        return _true(self._values, lit.index)


def _true(values: list[int], ref: int) -> bool:
    """A literal's value in a solution vector (a negated literal's ref is -index - 1)."""
    return values[ref] == 1 if ref >= 0 else values[-ref - 1] == 0


def _read_part(solver: cp_model.CpSolver | Values, pos: Position,
               part: Part) -> ChangeSpec | None:
    def spec(to: Any, direction: int = part.direction) -> ChangeSpec:
        return ChangeSpec(pos.element, part.path, part.kind, part.current, to,  # type: ignore[arg-type]
                          pos.party, part.price, direction, part.extra)

    if part.kind == "amount":
        a = int(solver.value(part.amount))
        if a == 0:
            return None
        if part.direction == 0:              # a pinned start moves either way
            return spec(int(part.current) + a, 0)
        return spec(int(part.current) + part.direction * a)
    if part.kind in ("off", "optional"):
        return spec(part.kind == "optional") if solver.boolean_value(part.lit) else None
    added = {pid for pid, z in part.phases if solver.boolean_value(z)}
    if not added:
        return None
    cur = list(part.current or [])
    return spec([p for p in part.order if p in cur or p in added])


# --------------------------------------------------------------------------
def build_corrections(sc: Scenario, deadline: float | None = None) -> CorrectionModel:
    """The model of every correction of ``sc`` (nothing minimised yet)."""
    enabled = [r for r in sc.rules if r.enabled]
    # The explain build with the rules off: they are encoded below, on copies
    # whose numbers may move.
    shell = sc.model_copy(update={"rules": [r.model_copy(update={"enabled": False})
                                            for r in sc.rules]})
    h = build(shell, explain=True, deadline=deadline)
    m = h.model
    positions: list[Position] = []
    costs: list[tuple[str | None, Any]] = []

    def add(pos: Position, cost: Any) -> None:
        positions.append(pos)
        costs.append((pos.party, cost))

    for rule in enabled:
        _rule(h, sc, rule, add)
    handled = _demands(h, sc, add)
    for key, lit in h.demands.items():
        if key not in handled:      # a demand no correction may change holds as written
            m.add(lit == 1)

    total = sum(c for _, c in costs)
    bills: dict[str, Any] = {}
    for p in sc.principal_ids:
        bills[p] = sum(c for party, c in costs if party == p)
    ub = _cost_bound(positions)
    worst = m.new_int_var(0, ub, "worst_bill")
    for b in bills.values():
        m.add(worst >= b)
    _hint(h, sc, deadline)
    return CorrectionModel(sc, h, positions, total, bills, worst)


def _hint(h: Handles, sc: Scenario, deadline: float | None) -> None:
    """Hint the engine's greedy schedule of the scenario without its time limits.

    With the horizon, deadlines and pins lifted, the greedy keeps the rules and
    resources; the search completes the amounts that schedule needs (a raised
    horizon, moved deadlines) and improves from there. Measured on generated
    roadmaps of 87 and 124 concessions (horizon cut to 40%): best cost in 15 s
    14 instead of 23, and 121 instead of 890.
    """
    relaxed = sc.model_copy(update={
        "horizon": h.horizon_ub,
        "concessions": [c.model_copy(update={"latest_end": None, "start": None})
                        for c in sc.concessions]})
    try:
        plan = greedy(relaxed, h.derived, deadline=deadline)
    except OutOfTime:
        return
    if plan is None:
        return
    for var, value in hint_pairs(h, plan):
        h.model.add_hint(var, value)


def _cost_bound(positions: list[Position]) -> int:
    ub = 0
    for pos in positions:
        for part in pos.parts:
            p = part.price
            if part.kind == "off":
                ub += OFF_TOUCHES * p.touch
            elif part.kind == "optional":
                ub += p.touch + part.extra
            elif part.kind == "phases":
                ub += p.touch + PER_PHASE * len(part.phases)
            else:
                ub += p.touch + p.per_unit * part.ub
    return max(ub, 0)


def _amount(m: cp_model.CpModel, part: Part, ub: int, name: str, changed: Any) -> Any:
    """The units ``part`` moves (0 unless ``changed``), at most ``ub``."""
    part.ub = max(ub, 0)
    part.amount = m.new_int_var(0, part.ub, name)
    m.add(part.amount == 0).only_enforce_if(changed.Not())
    return part.amount


def _priced(m: cp_model.CpModel, part: Part, touched: Any) -> Any:
    """touch when ``touched``, plus per_unit per unit of ``part``'s amount."""
    return part.price.touch * touched + part.price.per_unit * part.amount


def _rule(h: Handles, sc: Scenario, rule: Any, add: Any) -> None:
    m = h.model
    price = price_of(sc, rule.relax)
    owner = rule_owner(sc, rule)
    element: Key = ("rule", rule.id)
    if price is None:                      # relax: false -- the rule stays as written
        ENCODERS[rule.kind](h, rule, [])
        return
    on = m.new_bool_var(f"on:{rule.id}")
    changed = m.new_bool_var(f"changed:{rule.id}")
    parts: list[Part] = []
    cost: Any = OFF_TOUCHES * price.touch * on.Not()
    updates: dict[str, Any] = {}
    touched_lits = [on.Not()]
    for rx in _relaxables(h, rule):
        ub = min(_relax_bound(h, rule, rx), _dominated_from(price))
        if ub <= 0:
            continue
        touched = m.new_bool_var(f"touched:{rule.id}:{rx.field}")
        part = Part(f"rules[{rule.id}].{rx.field}", "amount", rx.current, price, rx.direction)
        _amount(m, part, ub, f"amount:{rule.id}:{rx.field}", touched)
        m.add(part.amount >= 1).only_enforce_if(touched)
        m.add_implication(touched, on)
        parts.append(part)
        cost = cost + _priced(m, part, touched)
        updates[rx.field] = rx.current + rx.direction * part.amount
        touched_lits.append(touched)
    parts.append(Part(f"rules[{rule.id}].enabled", "off", True, price, lit=on.Not()))
    m.add_max_equality(changed, touched_lits)
    ENCODERS[rule.kind](h, rule.model_copy(update=updates) if updates else rule, [on])
    add(Position(element, owner, changed, parts), cost)


def _dominated_from(price: Price) -> int:
    """How far a rule's number may move before switching the rule off is cheaper.

    Moving it by u costs touch + per_unit * u; switching the rule off costs
    OFF_TOUCHES * touch, removes every constraint the move loosens and is the
    same position for the no-goods, so a move beyond this bound is never part
    of a cheapest correction (a tie at the bound is kept). It cuts the
    exposure caps' amounts (up to a party's whole risk before: 700 units on
    the seed) and the phase balance tolerance to 20 at the default prices.
    Free moves (touch or per_unit 0) keep their full range.
    """
    if price.touch <= 0 or price.per_unit <= 0:
        return UNBOUNDED
    return (OFF_TOUCHES - 1) * price.touch // price.per_unit


def _relaxables(h: Handles, rule: Any) -> list[Any]:
    out = list(rule.relaxable())
    if isinstance(rule, PhaseBalance):
        # Two parties that deliver nothing compare constants: no amount can help.
        parties = list(dict.fromkeys(rule.parties or h.scenario.party_ids))
        if all(all(isinstance(d, int) for d in delivered(h, p)) for p in parties):
            return []
    return out


def _relax_bound(h: Handles, rule: Any, rx: Any) -> int:
    """How far a number may usefully move: past this bound nothing more can change."""
    big = 2 * h.horizon_ub
    if rx.direction < 0:
        return rx.current - rx.floor if rx.floor is not None else big
    if rule.kind == "exposure":
        parties = rule.parties or h.scenario.party_ids
        risk = max(sum(d.risk for d in h.derived.values() if d.party == p) for p in parties)
        return max(risk - rx.current, 0)
    if rule.kind == "phase_balance":
        return max(sum(d.total_value for d in h.derived.values()) - rx.current, 0)
    return big


def _demands(h: Handles, sc: Scenario, add: Any) -> set[Key]:
    """Add every demand's priced relaxation; returns the demands so handled."""
    m = h.model
    handled: set[Key] = set()

    def add_demand(pos: Position, cost: Any) -> None:
        handled.add(pos.element)
        add(pos, cost)

    base = default_price(sc)
    hlit = h.demands.get(("horizon",))
    if hlit is not None:
        part = Part("horizon", "amount", sc.horizon, base, +1)
        _amount(m, part, h.horizon_ub - sc.horizon, "amount:horizon", hlit.Not())
        for _cid, v in h.conc.items():
            m.add(v.end <= sc.horizon + part.amount).only_enforce_if(v.present)
        m.add(h.boundaries[-1] <= sc.horizon + part.amount)
        add_demand(Position(("horizon",), None, hlit.Not(), [part]), _priced(m, part, hlit.Not()))
    for c in sc.concessions:
        price = price_of(sc, c.relax)
        v = h.conc[c.id]
        for fld in ("required", "earliest_start", "latest_end", "start", "phases"):
            lit = h.demands.get(("concession", c.id, fld))
            if lit is None:
                continue
            if price is None:
                m.add(lit == 1)
                continue
            changed = lit.Not()
            element = ("concession", c.id, fld)
            path = f"concessions[{c.id}].{fld}"
            if fld == "required":
                extra = h.derived[c.id].total_value
                part = Part(f"concessions[{c.id}].optional", "optional", False, price,
                            lit=changed, extra=extra)
                add_demand(Position(element, c.owner, changed, [part]),
                    (price.touch + extra) * changed)
                continue
            if fld == "phases":
                _phases_position(h, c, price, lit, add_demand)
                continue
            if fld == "earliest_start":
                part = Part(path, "amount", c.earliest_start, price, -1)
                _amount(m, part, c.earliest_start, f"amount:{c.id}:es", changed)
                m.add(v.start >= c.earliest_start - part.amount)
            elif fld == "latest_end":
                part = Part(path, "amount", c.latest_end, price, +1)
                _amount(m, part, h.horizon_ub, f"amount:{c.id}:le", changed)
                # (A deadline past the horizon is allowed and binds only below it.)
                m.add(v.end <= int(c.latest_end or 0) + part.amount)
            else:  # a pinned start, moved either way
                pin = int(c.start or 0)
                part = Part(path, "amount", pin, price, 0, ub=h.horizon_ub)
                up = m.new_int_var(0, h.horizon_ub, f"up:{c.id}")
                down = m.new_int_var(0, pin, f"down:{c.id}")
                m.add(up == 0).only_enforce_if(lit)
                m.add(down == 0).only_enforce_if(lit)
                m.add(v.start == pin + up - down)
                moved = m.new_int_var(-pin, h.horizon_ub, f"moved:{c.id}")
                m.add(moved == up - down)
                part.amount = moved
                add_demand(Position(element, c.owner, changed, [part]),
                    price.touch * changed + price.per_unit * (up + down))
                continue
            add_demand(Position(element, c.owner, changed, [part]), _priced(m, part, changed))
    written = {ph.id for ph in sc.phases}   # the default phase has no path to change
    for ph_k, ph in enumerate(sc.effective_phases):
        for fld in ("min_length", "max_length"):
            lit = h.demands.get(("phase", ph.id, fld))
            if lit is None or ph.id not in written:
                continue
            changed = lit.Not()
            length = h.boundaries[ph_k + 1] - h.boundaries[ph_k]
            if fld == "min_length":
                part = Part(f"phases[{ph.id}].min_length", "amount", ph.min_length, base, -1)
                _amount(m, part, ph.min_length, f"amount:{ph.id}:min", changed)
                m.add(length >= ph.min_length - part.amount)
            else:
                part = Part(f"phases[{ph.id}].max_length", "amount", ph.max_length, base, +1)
                _amount(m, part, h.horizon_ub, f"amount:{ph.id}:max", changed)
                m.add(length <= int(ph.max_length or 0) + part.amount)
            add_demand(Position(("phase", ph.id, fld), None, changed, [part]),
                _priced(m, part, changed))
    for r in sc.resources:
        lit = h.demands.get(("resource", r.id, "capacity"))
        if lit is None:
            continue
        changed = lit.Not()
        part = Part(f"resources[{r.id}].capacity", "amount", r.capacity, base, +1)
        total = sum(c.uses.get(r.id, 0) for c in sc.concessions)
        _amount(m, part, total - r.capacity, f"amount:{r.id}:cap", changed)
        m.add(h.capacity[r.id] == r.capacity + part.amount)
        add_demand(Position(("resource", r.id, "capacity"), None, changed, [part]),
            _priced(m, part, changed))
    return handled


def _phases_position(h: Handles, c: Any, price: Price, lit: Any, add: Any) -> None:
    """One more allowed phase: touch once, plus 5 per phase added."""
    m = h.model
    v = h.conc[c.id]
    changed = lit.Not()
    order = list(h.phase_ids)
    allowed = set(c.phases or [])
    extra: list[tuple[str, Any]] = []
    for k, pid in enumerate(order):
        if pid in allowed:
            continue
        z = m.new_bool_var(f"allow:{c.id}:{pid}")
        m.add_implication(v.phase_lits[k], z)
        m.add_implication(z, changed)
        extra.append((pid, z))
    part = Part(f"concessions[{c.id}].phases", "phases", list(c.phases or []), price,
                phases=extra)
    part.order = order
    add(Position(("concession", c.id, "phases"), c.owner, changed, [part]),
        price.touch * changed + PER_PHASE * sum(z for _, z in extra))
