"""Why a roadmap is impossible: a minimal conflict and the smallest relaxations.

The model is built in explain mode (``build(sc, explain=True)``): every
enabled rule and every concession-level demand sits behind its own literal.
CP-SAT, solving under those literals as assumptions, returns a core (a set
that cannot hold together); a deletion filter then shrinks it to a minimal
set: the set is infeasible, and without any one of its elements (everything
outside the set dropped too) it is feasible.

Suggestions are found by ``optimizer.explain.suggestions``.
"""

from __future__ import annotations

from models.result import Conflict, Demand, Suggestion
from models.scenario import Scenario
from optimizer.explain.oracle import FEASIBLE, INFEASIBLE, UNKNOWN, Key, Oracle
from optimizer.explain.phrasing import element_label, element_sentence, join, title
from optimizer.explain.suggestions import suggest_relaxations
from optimizer.solving.handle import StopControl


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
                  suggest: bool = True, control: StopControl | None = None) -> Conflict:
    """A minimal conflict of an infeasible scenario, phrased, with relaxations.

    ``deadline`` is a ``time.monotonic()`` value; when it passes, the conflict
    found so far is returned (its message says if it may not be minimal) and
    suggestions not yet computed are left out. A stop (``control``) acts the same way.
    """
    sc = scenario
    oracle = Oracle(sc, control)
    status, keys, minimal = minimal_conflict(sc, deadline, oracle)
    if status == FEASIBLE:
        return Conflict(rules=[], demands=[], concessions=[], message=(
            "No conflict found: every rule and demand of the scenario can hold together."))
    if status == UNKNOWN:
        how = ("was stopped" if control is not None and control.stopped
               else "ran out of time")
        return Conflict(rules=[], demands=[], concessions=[], message=(
            f"The search for a conflict {how} before it could find one."))
    if not keys:
        return Conflict(rules=[], demands=[], concessions=[], message=(
            "The scenario is infeasible whatever its rules and demands: its fixed "
            "structure (durations, verification lags) cannot fit."))
    suggestions: list[Suggestion] = []
    alone = True
    if suggest:
        suggestions, alone = suggest_relaxations(sc, keys, deadline, oracle, minimal,
                                                 control=control)
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
            ids.update(rules[k[1]].refs())
    return [c.id for c in sc.concessions if c.id in ids]


def _message(sc: Scenario, keys: list[Key], minimal: bool, alone: bool,
             suggestions: list[Suggestion]) -> str:
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
    relax = [s for s in suggestions if s.action == "relax"]
    relax.sort(key=lambda s: s.resolves != "scenario")
    fixes = [s.change + ("" if s.resolves == "scenario" else
                            " (lifts this conflict only)") for s in relax][:3]
    if fixes:
        text += " Smallest fixes: " + "; ".join(fixes) + "."
    return text
