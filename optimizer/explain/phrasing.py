"""Sentences for rules and demands in the scenario's own words.

Explanations are read by negotiators, not by solver people, so every element
is named by what it means in the scenario: concession titles, party ids,
phase names and the scenario's time unit ("'Eliminate ICBMs' must end by
month 24"), and a rule's own ``text`` when the author wrote one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.rules import (
    Exclusive,
    Exposure,
    PhaseBalance,
    Precedence,
    Reciprocity,
    Requires,
    Together,
)
from models.scenario import Scenario

MAX_TITLE = 80
POINT_WORD = {"start": "starts", "end": "ends", "verified": "is verified"}


def title(sc: Scenario, cid: str) -> str:
    """A concession's title (or id), quoted; very long titles are cut."""
    try:
        text = sc.concession(cid).label
    except KeyError:
        text = cid
    if len(text) > MAX_TITLE:
        text = text[: MAX_TITLE - 1].rstrip() + "…"
    return f"'{text}'"


def join(items: Sequence[str]) -> str:
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def at(sc: Scenario, t: int) -> str:
    """An absolute time: 'month 24'."""
    return f"{sc.time_unit} {t}"


def span(sc: Scenario, n: int) -> str:
    """A duration: '1 month', '3 weeks'."""
    return f"{n} {sc.time_unit}{'' if abs(n) == 1 else 's'}"


def phase_name(sc: Scenario, pid: str) -> str:
    for ph in sc.effective_phases:
        if ph.id == pid:
            return f"'{ph.name}'" if ph.name else f"'{pid}'"
    return f"'{pid}'"


def resource_name(sc: Scenario, rid: str) -> str:
    for r in sc.resources:
        if r.id == rid:
            return r.name or rid
    return rid


def parties(sc: Scenario, listed: list[str] | None) -> list[str]:
    return list(dict.fromkeys(listed or sc.principal_ids))


# --------------------------------------------------------------------------
# Rules
def rule_condition(sc: Scenario, rule: Any) -> str:
    """The rule's meaning generated from its fields (always current values)."""
    if isinstance(rule, Precedence):
        return _precedence(sc, rule)
    if isinstance(rule, Reciprocity):
        return (f"{title(sc, rule.a)} and {title(sc, rule.b)} go together and start at most "
                f"{span(sc, rule.max_gap)} apart")
    if isinstance(rule, Together):
        names = [title(sc, c) for c in dict.fromkeys(rule.concessions)]
        return f"{join(names)} are all in or all out, starting in the same phase"
    if isinstance(rule, Exclusive):
        names = [title(sc, c) for c in dict.fromkeys(rule.concessions)]
        return f"at most one of {join(names)} may be part of the deal"
    if isinstance(rule, Requires):
        return f"{title(sc, rule.if_)} requires {title(sc, rule.then)}"
    if isinstance(rule, Exposure):
        who = parties(sc, rule.parties)
        if len(who) == 1:
            return f"{who[0]} exposure must stay ≤ {rule.max}"
        return f"the exposure of each of {join(who)} must stay ≤ {rule.max}"
    if isinstance(rule, PhaseBalance):
        who = parties(sc, rule.parties)
        return (f"by the end of every phase the value delivered by {join(who)} "
                f"may differ by at most {rule.tolerance}")
    return f"rule '{getattr(rule, 'id', '?')}'"


def _precedence(sc: Scenario, r: Precedence) -> str:
    after = f"{title(sc, r.after)} must {'start' if r.to == 'start' else 'end'}"
    before = f"{title(sc, r.before)} {POINT_WORD[r.from_]}"
    lo, hi = r.min_lag, r.max_lag
    if hi is not None and lo == hi:
        return f"{after} exactly {span(sc, lo)} after {before}"
    if lo == 0:
        head = f"{after} no earlier than {before}"
    elif lo > 0:
        head = f"{after} at least {span(sc, lo)} after {before}"
    else:
        head = f"{after} no more than {span(sc, -lo)} before {before}"
    if hi is None:
        return head
    if hi >= 0:
        return f"{head}, and at most {span(sc, hi)} after it"
    return f"{head}, and at least {span(sc, -hi)} before it"


def rule_sentence(sc: Scenario, rule: Any) -> str:
    """The author's text when given (with the current condition), else the generated one.

    The condition is appended to an author's text because planners edit the
    numbers in the UI; the text may still say the old cap.
    """
    cond = rule_condition(sc, rule)
    if rule.text:
        return f"{rule.text.rstrip()} ({cond})"
    return cond[0].upper() + cond[1:]


# --------------------------------------------------------------------------
# Demands (keys as in optimizer.model.handles: ("concession", id, field), ...)
def demand_sentence(sc: Scenario, key: tuple[str, ...]) -> str:
    kind = key[0]
    if kind == "horizon":
        return f"Everything must be finished by {at(sc, sc.horizon)} (the horizon)"
    if kind == "phase":
        pid, fld = key[1], key[2]
        ph = next(p for p in sc.effective_phases if p.id == pid)
        if fld == "min_length":
            return f"Phase {phase_name(sc, pid)} lasts at least {span(sc, ph.min_length)}"
        return f"Phase {phase_name(sc, pid)} lasts at most {span(sc, ph.max_length or 0)}"
    if kind == "resource":
        rid = key[1]
        cap = next(r.capacity for r in sc.resources if r.id == rid)
        return f"At most {cap} of {resource_name(sc, rid)} can be in use at any time"
    cid, fld = key[1], key[2]
    c = sc.concession(cid)
    name = title(sc, cid)
    if fld == "start":
        return f"{name} is pinned to start at {at(sc, c.start or 0)}"
    if fld == "earliest_start":
        return f"{name} cannot start before {at(sc, c.earliest_start)}"
    if fld == "latest_end":
        return f"{name} must end by {at(sc, c.latest_end or sc.horizon)}"
    if fld == "phases":
        names = [phase_name(sc, p) for p in c.phases or []]
        return f"{name} must start in phase {join(names)}" if len(names) == 1 else \
            f"{name} must start in one of the phases {join(names)}"
    if fld == "required":
        return f"{name} ({c.party}) must be part of the deal"
    return f"{name}: {fld}"


def element_sentence(sc: Scenario, key: tuple[str, ...]) -> str:
    """One sentence for a conflict element: ("rule", id) or a demand key."""
    if key[0] == "rule":
        rule = next(r for r in sc.rules if r.id == key[1])
        return rule_sentence(sc, rule)
    return demand_sentence(sc, key)


def element_label(key: tuple[str, ...]) -> str:
    """A short stable id: 'rule:no_cliff', 'concession:a:latest_end', 'horizon'."""
    return ":".join(key)
