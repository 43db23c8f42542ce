"""Relaxation suggestions for a conflict: the smallest change to each of its positions.

Suggestions (``Conflict.suggestions``) are ``models.result.Suggestion``s, so
that the UI can show them and offer an "apply" button; as JSON::

    {
      "element":  "rule:no_cliff",       # the conflict element (phrasing.element_label)
      "action":   "relax" | "drop",      # change a number / give the position up
      "path":     "rules[3].max",        # field path in the scenario (SPEC §1 names)
      "value":    9,                     # the new value to write at `path`
      "current":  8,                     # the value now (None when unset)
      "change":   "raise the cap from 8 to 9",   # for a person
      "resolves": "scenario" | "conflict",
    }

``resolves == "scenario"``: applying this one change to the scenario, all
else as is, makes it feasible, and for a numeric change a value one unit
less far from ``current`` does not. ``"conflict"``: the scenario has other
conflicts, so no single change of this element suffices; the value is the
smallest that resolves *this* conflict (everything outside it dropped).
Each value is found by solving (a galloping then bisecting search over the
value, or for a pinned start an optimisation of the distance moved).
``apply_suggestion`` writes a suggestion into a validated copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from models.errors import ScenarioError
from models.paths import set_path
from models.result import Suggestion
from models.rules import Exposure, PhaseBalance, Precedence, Reciprocity
from models.scenario import Scenario
from optimizer.explain.oracle import (
    FEASIBLE,
    INFEASIBLE,
    UNKNOWN,
    Key,
    Oracle,
    feasible,
    literals,
    remaining,
    sub_solver,
)
from optimizer.explain.phrasing import element_label, join, title
from optimizer.model.build import build, relaxed_horizon
from optimizer.solving.handle import StopControl


# --------------------------------------------------------------------------
# Relaxations
def with_change(sc: Scenario, path: str, value: Any) -> Scenario:
    """A copy with one field changed, checked by the types but not by validation.

    Searching over values must work on scenarios a planner has changed in
    memory (which may already break the whole-scenario checks); the UI's
    apply button goes through ``apply_suggestion`` instead.
    """
    data = sc.model_dump(by_alias=True)
    set_path(data, path, value)
    return Scenario.model_validate(data)


def apply_change(sc: Scenario, path: str, value: Any) -> Scenario:
    """The scenario with ``path`` set to ``value``, fully validated (ScenarioError if not)."""
    from models.loading import parse_scenario

    data = sc.model_dump(mode="json", by_alias=True)
    try:
        set_path(data, path, value)
    except ScenarioError as exc:
        raise ScenarioError(f"cannot apply the change: {exc.message}", path=path) from None
    return parse_scenario(data, "<suggestion>")


def apply_suggestion(sc: Scenario, suggestion: Suggestion) -> Scenario:
    """The scenario with a suggestion applied, fully validated (ScenarioError if not)."""
    return apply_change(sc, suggestion.path, suggestion.value)


@dataclass
class _Candidate:
    key: Key
    path: str
    current: Any
    action: str                          # relax | drop
    value: Any = None                    # drop: the value that gives the position up
    direction: int = 0                   # relax: +1 raise, -1 lower
    limit: int = 0                       # relax: the loosest value worth trying
    noun: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def suggest_relaxations(sc: Scenario, keys: list[Key], deadline: float | None = None,
                        oracle: Oracle | None = None, minimal: bool = True,
                        control: StopControl | None = None,
                        ) -> tuple[list[Suggestion], bool]:
    """(suggestions, whether resolving this conflict alone can make the scenario feasible)."""
    oracle = oracle or Oracle(sc, control)
    conflict = set(keys)
    others = [k for k in oracle.keys if k not in conflict]
    rest, _ = oracle.check(others, deadline)
    alone = rest != INFEASIBLE
    out: list[Suggestion] = []
    for key in keys:
        if remaining(deadline) <= 0 or (control is not None and control.stopped):
            break
        for cand in _candidates(sc, key):
            # Without the element at all, is the scenario feasible? If not, no
            # value of it is, and the search moves to this conflict alone.
            whole = alone and oracle.check([k for k in oracle.keys if k != key],
                                           deadline)[0] == FEASIBLE
            if cand.action == "drop" and not whole and not minimal:
                continue
            scope: list[Key] | None = None if whole else keys
            found = _resolve(sc, cand, scope, deadline, control)
            if found is None:
                continue
            out.append(_suggestion(sc, cand, found, "scenario" if whole else "conflict"))
    return out, alone


def _resolve(sc: Scenario, cand: _Candidate, scope: list[Key] | None,
             deadline: float | None, control: StopControl | None = None) -> Any:
    if cand.action == "drop":
        # Giving a position up is switching its literal off: already proven
        # feasible for the whole scenario (scope None) or, by minimality, for
        # the conflict alone.
        return cand.value
    if cand.extra.get("pin"):
        return _nearest_pin(sc, cand, scope, deadline, control)
    if cand.extra.get("phases") is not None:
        return _extend_phases(sc, cand, scope, deadline, control)

    def ok(v: int) -> str:
        return feasible(with_change(sc, cand.path, v), scope, deadline, control)

    return gallop(ok, int(cand.current), cand.limit, cand.direction)


def gallop(ok: Callable[[int], str], current: int, limit: int, direction: int) -> int | None:
    """The value closest to ``current`` (towards ``limit``) for which ``ok`` holds.

    ``ok`` must be monotone in that direction (every relaxation here is): the
    search doubles its step from ``current`` until it passes, then bisects.
    """
    if (limit - current) * direction <= 0 or ok(limit) != FEASIBLE:
        return None
    bad, good, step = current, limit, 1
    while True:
        v = current + direction * step
        if (limit - v) * direction <= 0:
            break
        st = ok(v)
        if st == FEASIBLE:
            good = v
            break
        if st == UNKNOWN:
            return None
        bad = v
        step *= 2
    while abs(good - bad) > 1:
        mid = (good + bad) // 2
        st = ok(mid)
        if st == FEASIBLE:
            good = mid
        elif st == INFEASIBLE:
            bad = mid
        else:
            return None
    return good


def _nearest_pin(sc: Scenario, cand: _Candidate, scope: list[Key] | None,
                 deadline: float | None, control: StopControl | None = None) -> int | None:
    """The allowed pin closest to the current one (ties: the earlier)."""
    cid = cand.key[1]
    c = sc.concession(cid)
    free = with_change(sc, cand.path, None)
    h = build(free, explain=True)
    lits = literals(h)
    m = h.model
    for k, lit in lits.items():
        if scope is None or k in scope:
            m.add(lit == 1)
    latest = c.latest_end if c.latest_end is not None else sc.horizon
    hi = min(latest - c.min_duration, sc.horizon - 1)
    start = h.conc[cid].start
    m.add(start >= c.earliest_start)  # a pin outside its window is invalid input
    m.add(start <= hi)
    dist = m.new_int_var(0, h.horizon_ub, "pin_move")
    m.add_abs_equality(dist, start - int(cand.current))
    m.minimize(dist)
    if control is not None and control.stopped:
        return None
    solver = sub_solver(remaining(deadline), control)
    if control is not None:
        control.attach(solver)
    try:
        status = solver.solve(m)
    finally:
        if control is not None:
            control.attach(None)
    if status != cp_model.OPTIMAL:
        return None
    best = int(solver.value(dist))
    if best == 0:
        return None
    for v in (int(cand.current) - best, int(cand.current) + best):
        if c.earliest_start <= v <= hi and \
                feasible(with_change(sc, cand.path, v), scope, deadline, control) == FEASIBLE:
            return v
    return None


def _extend_phases(sc: Scenario, cand: _Candidate, scope: list[Key] | None,
                   deadline: float | None, control: StopControl | None = None,
                   ) -> list[str] | None:
    """Allow the fewest extra phases, nearest to the allowed ones first."""
    order = [p.id for p in sc.effective_phases]
    allowed = list(cand.current or [])
    pos = [order.index(p) for p in allowed]
    missing = sorted((p for p in order if p not in allowed),
                     key=lambda p: (min(abs(order.index(p) - q) for q in pos), order.index(p)))
    for p in missing:
        value = [q for q in order if q in allowed or q == p]
        if feasible(with_change(sc, cand.path, value), scope, deadline, control) == FEASIBLE:
            return value
    return None


def _candidates(sc: Scenario, key: Key) -> list[_Candidate]:
    big = relaxed_horizon(sc)
    if key[0] == "rule":
        i, r = next((n, r) for n, r in enumerate(sc.rules) if r.id == key[1])
        base = f"rules[{i}]"
        if isinstance(r, Precedence):
            out = [_Candidate(key, f"{base}.min_lag", r.min_lag, "relax", direction=-1,
                              limit=-2 * big, noun="minimum lag")]
            if r.max_lag is not None:
                out.append(_Candidate(key, f"{base}.max_lag", r.max_lag, "relax", direction=1,
                                      limit=2 * big, noun="maximum lag"))
            return out
        if isinstance(r, Reciprocity):
            return [_Candidate(key, f"{base}.max_gap", r.max_gap, "relax", direction=1,
                               limit=big, noun="gap")]
        if isinstance(r, Exposure):
            limit = max(sum(c_risk for c_risk in _risks(sc, p)) for p in
                        (r.parties or sc.principal_ids))
            return [_Candidate(key, f"{base}.max", r.max, "relax", direction=1,
                               limit=max(limit, r.max + 1), noun="exposure cap")]
        if isinstance(r, PhaseBalance):
            from optimizer.model.derived import derive_all

            total = sum(d.total_value for d in derive_all(sc).values())
            return [_Candidate(key, f"{base}.tolerance", r.tolerance, "relax", direction=1,
                               limit=max(total, r.tolerance + 1), noun="tolerance")]
        return [_Candidate(key, f"{base}.enabled", True, "drop", value=False)]
    if key[0] == "horizon":
        return [_Candidate(key, "horizon", sc.horizon, "relax", direction=1, limit=big,
                           noun="horizon")]
    if key[0] == "phase":
        k = next((n for n, p in enumerate(sc.phases) if p.id == key[1]), None)
        if k is None:
            return []
        ph = sc.phases[k]
        if key[2] == "min_length":
            return [_Candidate(key, f"phases[{k}].min_length", ph.min_length, "relax",
                               direction=-1, limit=0, noun="minimum length")]
        return [_Candidate(key, f"phases[{k}].max_length", ph.max_length, "relax",
                           direction=1, limit=big, noun="maximum length")]
    if key[0] == "resource":
        k = next(n for n, r in enumerate(sc.resources) if r.id == key[1])
        res = sc.resources[k]
        total = sum(c.uses.get(res.id, 0) for c in sc.concessions)
        return [_Candidate(key, f"resources[{k}].capacity", res.capacity, "relax",
                           direction=1, limit=max(total, res.capacity + 1), noun="capacity")]
    i = next(n for n, c in enumerate(sc.concessions) if c.id == key[1])
    c = sc.concessions[i]
    base = f"concessions[{i}]"
    fld = key[2]
    if fld == "required":
        return [_Candidate(key, f"{base}.optional", False, "drop", value=True)]
    if fld == "earliest_start":
        return [_Candidate(key, f"{base}.earliest_start", c.earliest_start, "relax",
                           direction=-1, limit=0, noun="earliest start")]
    if fld == "latest_end":
        return [_Candidate(key, f"{base}.latest_end", c.latest_end, "relax", direction=1,
                           limit=sc.horizon, noun="deadline")]
    if fld == "start":
        return [_Candidate(key, f"{base}.start", c.start, "relax", noun="pinned start",
                           extra={"pin": True})]
    if fld == "phases":
        return [_Candidate(key, f"{base}.phases", list(c.phases or []), "relax",
                           noun="allowed phases", extra={"phases": True})]
    return []


def _risks(sc: Scenario, party: str) -> list[int]:
    from optimizer.model.derived import derive_all

    return [d.risk for d in derive_all(sc).values() if d.party == party]


def _suggestion(sc: Scenario, cand: _Candidate, value: Any, resolves: str) -> Suggestion:
    return Suggestion.model_validate({
        "element": element_label(cand.key), "action": cand.action, "path": cand.path,
        "value": value, "current": cand.current, "change": _change_text(sc, cand, value),
        "resolves": resolves})


def _change_text(sc: Scenario, cand: _Candidate, value: Any) -> str:
    key = cand.key
    if cand.action == "drop":
        if key[0] == "rule":
            return f"drop rule '{key[1]}'"
        return f"make {title(sc, key[1])} optional"
    if key[0] == "concession" and key[2] == "start":
        return f"pin {title(sc, key[1])} to {sc.time_unit} {value} instead of {cand.current}"
    if key[0] == "concession" and key[2] == "phases":
        return f"let {title(sc, key[1])} start in {join(value)}"
    if key[0] == "concession" and key[2] == "latest_end":
        return f"extend the deadline of {title(sc, key[1])} to {sc.time_unit} {value}"
    if key[0] == "concession" and key[2] == "earliest_start":
        return f"let {title(sc, key[1])} start from {sc.time_unit} {value}"
    if key[0] == "horizon":
        return f"extend the horizon to {sc.time_unit} {value}"
    verb = "raise" if cand.direction > 0 else "lower"
    where = f"rule '{key[1]}'" if key[0] == "rule" else f"{key[0]} '{key[1]}'"
    if cand.noun in ("minimum lag", "maximum lag", "gap", "minimum length", "maximum length"):
        return f"{verb} the {cand.noun} of {where} from {cand.current} to {value} " \
               f"{sc.time_unit}s"
    return f"{verb} the {cand.noun} of {where} from {cand.current} to {value}"
