"""Words for corrections in the app: rule texts with today's numbers, and what changed.

A rule's ``text`` is the author's, written for the number in the file; the
planner edits the number in the app ("never exposed by more than 49" while
the cap is now 3). ``live`` gives a copy of a scenario whose rule texts
quote the current number where they quoted the loaded one. ``change_lines``
says, after a correction is applied, what changed — by title, with the
numbers now in force — and ``dropped`` names what no longer binds the
roadmap (a rule switched off, a step made optional): never silently.
"""

from __future__ import annotations

import re
from typing import Any

from models import Scenario
from models.result import Change
from optimizer.explain.phrasing import (
    at,
    demand_sentence,
    phase_name,
    resource_name,
    rule_condition,
    span,
    title,
)

# The numbers a rule's text may quote, by kind (the rule types' relaxable fields).
NUMBERS = {"exposure": ("max",), "reciprocity": ("max_gap",), "phase_balance": ("tolerance",),
           "precedence": ("min_lag", "max_lag")}
FIELD_WORDS = {"max": "exposure cap", "max_gap": "largest gap", "tolerance": "tolerance",
               "min_lag": "minimum lag", "max_lag": "maximum lag",
               "latest_end": "deadline", "earliest_start": "earliest start",
               "start": "pinned start", "min_length": "minimum length",
               "max_length": "maximum length", "capacity": "capacity"}
MAX_LABEL = 110
_PATH = re.compile(r"^(rules|concessions|phases|resources)\[([^\]]+)\]\.(\w+)$")


def _quoted(text: str, old: int, new: int) -> str:
    """``text`` with its first standalone ``old`` (not part of 2018 or S1) made ``new``."""
    return re.sub(rf"(?<![\w.\-]){old}(?![\w])", str(new), text, count=1)


def live(original: Scenario, sc: Scenario) -> Scenario:
    """``sc`` with each rule text quoting its current number instead of the loaded one."""
    before = {r.id: r for r in original.rules}
    rules: list[Any] = []
    changed = False
    for r in sc.rules:
        old = before.get(r.id)
        text = r.text
        if text and old is not None and old.kind == r.kind:
            for fld in NUMBERS.get(r.kind, ()):
                was, now = getattr(old, fld, None), getattr(r, fld, None)
                if isinstance(was, int) and isinstance(now, int) and was != now:
                    text = _quoted(text, was, now)
        if text != r.text:
            rules.append(r.model_copy(update={"text": text}))
            changed = True
        else:
            rules.append(r)
    return sc.model_copy(update={"rules": rules}) if changed else sc


def rule_label(sc: Scenario, rule: Any) -> str:
    """A rule by its text (cut), else by its generated meaning."""
    text = (rule.text or "").strip()
    if not text:
        cond = rule_condition(sc, rule)
        return cond[:1].upper() + cond[1:]
    # The first sentence says what the rule is; the rest is the author's reasoning.
    first = re.split(r"(?<=\.)\s+(?=[A-Z])", text, maxsplit=1)[0]
    return first if len(first) <= MAX_LABEL else first[: MAX_LABEL - 1].rstrip() + "…"


def who_gives_way(sc: Scenario, ch: Change) -> str:
    """Whose position moves: its owner; else, for a step's own field, the step's party."""
    if ch.party is not None:
        return f"{ch.party} gives way"
    m = _PATH.match(ch.path)
    if m and m.group(1) == "concessions":
        try:
            return f"{sc.concession(m.group(2)).party} gives way (its own step)"
        except KeyError:
            pass
    return "a shared position (no owner named)"


def dropped(sc: Scenario, changes: list[Change]) -> list[str]:
    """What a correction stops requiring: a rule switched off, a step made optional."""
    out = []
    rules = {r.id: r for r in sc.rules}
    for ch in changes:
        m = _PATH.match(ch.path)
        if m is None:
            continue
        section, ident, fld = m.groups()
        if section == "rules" and fld == "enabled" and ident in rules:
            out.append(f"Switches off a rule: “{rule_label(sc, rules[ident])}” — it no longer "
                       "constrains the roadmap.")
        elif section == "concessions" and fld == "optional":
            c = sc.concession(ident)
            out.append(f"Makes {title(sc, ident)} ({c.party}) optional — the roadmap may leave "
                       "it out.")
    return out


def change_line(before: Scenario, after: Scenario, ch: Change) -> str:
    """One change as applied, by title, with the number now in force (``after``'s)."""
    if ch.path == "horizon":
        return f"Horizon: {at(before, ch.from_)} → {at(after, ch.to)}"
    m = _PATH.match(ch.path)
    if m is None:
        return f"{ch.path}: {ch.from_} → {ch.to}"
    section, ident, fld = m.groups()
    if section == "rules":
        rule = next(r for r in after.rules if r.id == ident)
        if fld == "enabled":
            return f"Switched off: “{rule_label(after, rule)}”"
        unit = fld in ("max_gap", "min_lag", "max_lag")
        old, new = (span(after, ch.from_), span(after, ch.to)) if unit else (ch.from_, ch.to)
        return f"“{rule_label(after, rule)}” — {FIELD_WORDS.get(fld, fld)} {old} → {new}"
    if section == "concessions":
        c = after.concession(ident)
        name = f"{title(after, ident)} ({c.party})"
        if fld == "optional":
            return f"Made optional: {name}"
        if fld == "phases":
            return f"{name} — may start in " + ", ".join(phase_name(after, p) for p in ch.to) + \
                f" ({demand_sentence(after, ('concession', ident, 'phases'))})"
        old = "—" if ch.from_ is None else at(after, ch.from_)
        return f"{name} — {FIELD_WORDS.get(fld, fld)} {old} → {at(after, ch.to)}"
    if section == "phases":
        return (f"Phase {phase_name(after, ident)} — {FIELD_WORDS.get(fld, fld)} "
                f"{span(after, ch.from_ or 0)} → {span(after, ch.to)}")
    return f"{resource_name(after, ident)} — capacity {ch.from_} → {ch.to}"
