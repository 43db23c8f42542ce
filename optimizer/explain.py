"""Why a roadmap is impossible: a minimal conflict and the smallest relaxations.

The model is built in explain mode (``build(sc, explain=True)``): every
enabled rule and every concession-level demand sits behind its own literal.
CP-SAT, solving under those literals as assumptions, returns a core (a set
that cannot hold together); a deletion filter then shrinks it to a minimal
set: the set is infeasible, and without any one of its elements (everything
outside the set dropped too) it is feasible.

Suggestions (``Conflict.suggestions``) are dicts of one documented shape so
that the UI can show them and offer an "apply" button::

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

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from models.errors import ScenarioError
from models.result import Conflict, Demand, Result
from models.rules import Exposure, PhaseBalance, Precedence, Reciprocity
from models.scenario import Scenario
from optimizer.build import build, relaxed_horizon
from optimizer.phrasing import element_label, element_sentence, join, title

Key = tuple[str, ...]
PER_SOLVE_S = 20.0      # one sub-solve never runs longer, even without a deadline
FEASIBLE, INFEASIBLE, UNKNOWN = "feasible", "infeasible", "unknown"

# Deletion order: elements tried first are dropped from the conflict when
# possible, so the ones least telling for a negotiator go first and the
# rules (the negotiating positions) last.
_ORDER = {"required": 0, "earliest_start": 1, "phases": 2, "start": 3, "latest_end": 4,
          "min_length": 5, "max_length": 5, "capacity": 6, "horizon": 7, "rule": 8}


# --------------------------------------------------------------------------
# Feasibility under a set of elements
def element_keys(sc: Scenario) -> list[Key]:
    """Every element an explanation may name, in deletion order."""
    h = build(sc, explain=True)
    return _ordered(sc, _literals(h))


def _literals(h: Any) -> dict[Key, Any]:
    out: dict[Key, Any] = {("rule", rid): lit for rid, lit in h.rule_lits.items()}
    out.update(h.demands)
    return out


def _ordered(sc: Scenario, keys: Iterable[Key]) -> list[Key]:
    rule_pos = {r.id: n for n, r in enumerate(sc.rules)}
    conc_pos = {c.id: n for n, c in enumerate(sc.concessions)}

    def rank(k: Key) -> tuple[int, int, str]:
        if k[0] == "rule":
            return (_ORDER["rule"], rule_pos.get(k[1], 0), "")
        if k[0] == "horizon":
            return (_ORDER["horizon"], 0, "")
        return (_ORDER.get(k[-1], 9), conc_pos.get(k[1], 0), ":".join(k))

    return sorted(keys, key=rank)


def _remaining(deadline: float | None) -> float:
    if deadline is None:
        return PER_SOLVE_S
    return min(PER_SOLVE_S, deadline - time.monotonic())


class Oracle:
    """One explain-mode model, solved under different sets of assumptions."""

    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        self.h = build(sc, explain=True)
        self.lits = _literals(self.h)
        self.keys = _ordered(sc, self.lits)
        self.solves = 0

    def check(self, keys: Iterable[Key], deadline: float | None) -> tuple[str, list[Key]]:
        """(status, core) with the given elements enforced and all others dropped."""
        keys = [k for k in keys if k in self.lits]
        budget = _remaining(deadline)
        if budget <= 0:
            return UNKNOWN, []
        m = self.h.model
        m.clear_assumptions()
        m.add_assumptions([self.lits[k] for k in keys])
        solver = _solver(budget)
        status = solver.solve(m)
        self.solves += 1
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return FEASIBLE, []
        if status == cp_model.INFEASIBLE:
            core = {int(i) for i in solver.sufficient_assumptions_for_infeasibility()}
            return INFEASIBLE, [k for k in keys if self.lits[k].index in core]
        if status == cp_model.MODEL_INVALID:
            raise RuntimeError(f"internal error: invalid explain model: {m.validate()}")
        return UNKNOWN, []


def _solver(budget: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers = 1           # cores from assumptions need a single worker
    p.random_seed = 0
    p.max_time_in_seconds = max(budget, 0.001)
    return solver


def feasible(sc: Scenario, scope: Iterable[Key] | None = None,
             deadline: float | None = None) -> str:
    """Solve ``sc`` with the elements in ``scope`` enforced (None: all of them)."""
    oracle = Oracle(sc)
    keys = oracle.keys if scope is None else list(scope)
    return oracle.check(keys, deadline)[0]


# --------------------------------------------------------------------------
# Minimal conflict
def minimal_conflict(sc: Scenario, deadline: float | None = None,
                     oracle: Oracle | None = None) -> tuple[str, list[Key], bool]:
    """(status of the whole scenario, conflict keys, proven minimal)."""
    oracle = oracle or Oracle(sc)
    status, core = oracle.check(oracle.keys, deadline)
    if status != INFEASIBLE:
        return status, [], False
    current = list(core)
    i = 0
    while i < len(current):
        trial = current[:i] + current[i + 1:]
        st, sub = oracle.check(trial, deadline)
        if st == INFEASIBLE:
            keep = set(sub)
            # The core of the trial is a subset of it; elements before i
            # already proved necessary, so they survive and i stays put.
            current = [k for k in trial if k in keep]
        elif st == FEASIBLE:
            i += 1
        else:
            return INFEASIBLE, current, False
    return INFEASIBLE, current, True


def find_conflict(scenario: Scenario, deadline: float | None = None, *,
                  suggest: bool = True) -> Conflict:
    """A minimal conflict of an infeasible scenario, phrased, with relaxations.

    ``deadline`` is a ``time.monotonic()`` value; when it passes, the conflict
    found so far is returned (its message says if it may not be minimal) and
    suggestions not yet computed are left out.
    """
    sc = scenario
    oracle = Oracle(sc)
    status, keys, minimal = minimal_conflict(sc, deadline, oracle)
    if status == FEASIBLE:
        return Conflict(rules=[], demands=[], concessions=[], message=(
            "No conflict found: every rule and demand of the scenario can hold together."))
    if status == UNKNOWN:
        return Conflict(rules=[], demands=[], concessions=[], message=(
            "The search for a conflict ran out of time before it could find one."))
    if not keys:
        return Conflict(rules=[], demands=[], concessions=[], message=(
            "The scenario is infeasible whatever its rules and demands: its fixed "
            "structure (durations, verification lags) cannot fit."))
    suggestions: list[dict[str, Any]] = []
    alone = True
    if suggest:
        suggestions, alone = suggest_relaxations(sc, keys, deadline, oracle, minimal)
    sentences = [element_sentence(sc, k) for k in keys]
    return Conflict(
        rules=[k[1] for k in keys if k[0] == "rule"],
        demands=[_demand(k) for k in keys if k[0] != "rule"],
        concessions=involved(sc, keys),
        message=_message(sc, keys, minimal, alone, suggestions),
        explanations=[f"{element_label(k)}: {s}" for k, s in zip(keys, sentences, strict=True)],
        suggestions=suggestions,
    )


def _demand(key: Key) -> Demand:
    if key[0] == "horizon":
        return Demand(field="horizon")
    if key[0] == "concession":
        return Demand(concession=key[1], field=key[2])
    if key[0] == "phase":
        return Demand(phase=key[1], field=key[2])
    return Demand(resource=key[1], field=key[2])


def involved(sc: Scenario, keys: list[Key]) -> list[str]:
    ids: set[str] = set()
    rules = {r.id: r for r in sc.rules}
    for k in keys:
        if k[0] == "concession":
            ids.add(k[1])
        elif k[0] == "rule":
            r = rules[k[1]]
            for attr in ("before", "after", "a", "b", "if_", "then"):
                if hasattr(r, attr):
                    ids.add(getattr(r, attr))
            ids.update(getattr(r, "concessions", []) or [])
    return [c.id for c in sc.concessions if c.id in ids]


def _message(sc: Scenario, keys: list[Key], minimal: bool, alone: bool,
             suggestions: list[dict[str, Any]]) -> str:
    required = [k[1] for k in keys if k[-1] == "required"]
    parts = [element_sentence(sc, k).rstrip(".") for k in keys if k[-1] != "required"]
    if required:
        names = join([title(sc, c) for c in required])
        parts.append(f"{names} must {'all ' if len(required) > 1 else ''}be part of the deal")
    n = len(keys)
    text = f"These {n} positions cannot all hold together: " if n > 1 else \
        "This position cannot hold: "
    text += "; ".join(parts) + "."
    if minimal:
        text += (" Dropping or relaxing any one of them removes this conflict."
                 if n > 1 else "")
    else:
        text += " (The search ran out of time: the list may not be minimal.)"
    if not alone:
        text += (" This is not the only conflict: the roadmap stays infeasible until the "
                 "others are resolved too.")
    # Fixes that make the whole roadmap feasible first; others only lift this conflict.
    relax = [s for s in suggestions if s["action"] == "relax"]
    relax.sort(key=lambda s: s.get("resolves") != "scenario")
    fixes = [s["change"] + ("" if s.get("resolves") == "scenario" else
                            " (lifts this conflict only)") for s in relax][:3]
    if fixes:
        text += " Smallest fixes: " + "; ".join(fixes) + "."
    return text


# --------------------------------------------------------------------------
# Relaxations
def with_change(sc: Scenario, path: str, value: Any) -> Scenario:
    """A copy with one field changed, checked by the types but not by validation.

    Searching over values must work on scenarios a planner has changed in
    memory (which may already break the whole-scenario checks); the UI's
    apply button goes through ``apply_suggestion`` instead.
    """
    data = sc.model_dump(by_alias=True)
    _set(data, path, value)
    return Scenario.model_validate(data)


def apply_suggestion(sc: Scenario, suggestion: dict[str, Any]) -> Scenario:
    """The scenario with a suggestion applied, fully validated (ScenarioError if not)."""
    from models.loading import parse_scenario

    data = sc.model_dump(mode="json", by_alias=True)
    try:
        _set(data, suggestion["path"], suggestion["value"])
    except (KeyError, IndexError, ValueError) as exc:
        raise ScenarioError(f"cannot apply the suggestion: {exc}",
                            path=str(suggestion.get("path"))) from None
    return parse_scenario(data, "<suggestion>")


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    target: Any = data
    steps: list[str | int] = []
    for chunk in path.split("."):
        name, *idx = chunk.replace("]", "").split("[")
        if name:
            steps.append(name)
        steps.extend(int(i) for i in idx)
    for step in steps[:-1]:
        target = target[step]
    target[steps[-1]] = value


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
                        ) -> tuple[list[dict[str, Any]], bool]:
    """(suggestions, whether resolving this conflict alone can make the scenario feasible)."""
    oracle = oracle or Oracle(sc)
    conflict = set(keys)
    others = [k for k in oracle.keys if k not in conflict]
    rest, _ = oracle.check(others, deadline)
    alone = rest != INFEASIBLE
    out: list[dict[str, Any]] = []
    for key in keys:
        if _remaining(deadline) <= 0:
            break
        for cand in _candidates(sc, key):
            # Without the element at all, is the scenario feasible? If not, no
            # value of it is, and the search moves to this conflict alone.
            whole = alone and oracle.check([k for k in oracle.keys if k != key],
                                           deadline)[0] == FEASIBLE
            if cand.action == "drop" and not whole and not minimal:
                continue
            scope: list[Key] | None = None if whole else keys
            found = _resolve(sc, cand, scope, deadline)
            if found is None:
                continue
            out.append(_suggestion(sc, cand, found, "scenario" if whole else "conflict"))
    return out, alone


def _resolve(sc: Scenario, cand: _Candidate, scope: list[Key] | None,
             deadline: float | None) -> Any:
    if cand.action == "drop":
        # Giving a position up is switching its literal off: already proven
        # feasible for the whole scenario (scope None) or, by minimality, for
        # the conflict alone.
        return cand.value
    if cand.extra.get("pin"):
        return _nearest_pin(sc, cand, scope, deadline)
    if cand.extra.get("phases") is not None:
        return _extend_phases(sc, cand, scope, deadline)

    def ok(v: int) -> str:
        return feasible(with_change(sc, cand.path, v), scope, deadline)

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
                 deadline: float | None) -> int | None:
    """The allowed pin closest to the current one (ties: the earlier)."""
    cid = cand.key[1]
    c = sc.concession(cid)
    free = with_change(sc, cand.path, None)
    h = build(free, explain=True)
    lits = _literals(h)
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
    solver = _solver(_remaining(deadline))
    status = solver.solve(m)
    if status != cp_model.OPTIMAL:
        return None
    best = int(solver.value(dist))
    if best == 0:
        return None
    for v in (int(cand.current) - best, int(cand.current) + best):
        if c.earliest_start <= v <= hi and \
                feasible(with_change(sc, cand.path, v), scope, deadline) == FEASIBLE:
            return v
    return None


def _extend_phases(sc: Scenario, cand: _Candidate, scope: list[Key] | None,
                   deadline: float | None) -> list[str] | None:
    """Allow the fewest extra phases, nearest to the allowed ones first."""
    order = [p.id for p in sc.effective_phases]
    allowed = list(cand.current or [])
    pos = [order.index(p) for p in allowed]
    missing = sorted((p for p in order if p not in allowed),
                     key=lambda p: (min(abs(order.index(p) - q) for q in pos), order.index(p)))
    for p in missing:
        value = [q for q in order if q in allowed or q == p]
        if feasible(with_change(sc, cand.path, value), scope, deadline) == FEASIBLE:
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
                        (r.parties or sc.party_ids))
            return [_Candidate(key, f"{base}.max", r.max, "relax", direction=1,
                               limit=max(limit, r.max + 1), noun="exposure cap")]
        if isinstance(r, PhaseBalance):
            from optimizer.semantics import derive_all

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
    from optimizer.semantics import derive_all

    return [d.risk for d in derive_all(sc).values() if d.party == party]


def _suggestion(sc: Scenario, cand: _Candidate, value: Any, resolves: str) -> dict[str, Any]:
    return {
        "element": element_label(cand.key),
        "action": cand.action,
        "path": cand.path,
        "value": value,
        "current": cand.current,
        "change": _change_text(sc, cand, value),
        "resolves": resolves,
    }


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


# --------------------------------------------------------------------------
# The Python front door used by the CLI and the UI
@dataclass
class Explanation:
    """What `roadmap explain` reports: a conflict, or what binds the schedule."""

    status: str
    result: Result
    conflict: Conflict | None = None
    binding: Any = None          # optimizer.binding.BindingReport
    defection: list[Any] = field(default_factory=list)   # optimizer.defection.PartyExposure

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
    from optimizer.solving import solve

    opts = options or SolveOptions(workers=1)
    result = solve(sc, opts)
    if result.status == "infeasible":
        conflict = result.conflict or find_conflict(sc)
        return Explanation(status=result.status, result=result, conflict=conflict)
    if not result.solved:
        return Explanation(status=result.status, result=result)
    from optimizer.binding import binding_report
    from optimizer.defection import defection_report

    deadline = time.monotonic() + opts.time_limit_s
    return Explanation(status=result.status, result=result,
                       binding=binding_report(sc, result, deadline=deadline),
                       defection=defection_report(sc, result))
