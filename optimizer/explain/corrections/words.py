"""Corrections and conflicts in a planner's words.

A change is read back from its path (``rules[us_cap].max``, ``horizon``...)
so that anything holding a ``models.result.Correction`` (the CLI, the app)
can phrase it. A conflict is summarised by party and kind ("15 required DPRK
steps; 4 DPRK deadlines; 12 sequencing rules; the DPRK exposure cap 3"); the
numbers are always the scenario's current ones.
"""

from __future__ import annotations

import re
from typing import Any

from models.result import Change, Correction, Metrics
from models.scenario import Scenario
from optimizer.explain.corrections.prices import rule_owner
from optimizer.explain.phrasing import at, join, phase_name, resource_name, span, title

_PATH = re.compile(r"^(rules|concessions|phases|resources)\[([^\]]+)\]\.(\w+)$")


def _rule(sc: Scenario, rid: str) -> Any:
    return next(r for r in sc.rules if r.id == rid)


def change_sentence(sc: Scenario, ch: Change) -> str:
    """"Raise the DPRK's exposure cap from 3 to 8", "Extend the horizon to month 40"."""
    if ch.path == "horizon":
        return f"Extend the horizon from {at(sc, ch.from_)} to {at(sc, ch.to)}"
    m = _PATH.match(ch.path)
    if m is None:
        return f"Set {ch.path} from {ch.from_} to {ch.to}"
    section, ident, fld = m.groups()
    if section == "rules":
        return _rule_change(sc, _rule(sc, ident), fld, ch)
    if section == "concessions":
        name = title(sc, ident)
        party = sc.concession(ident).party
        if fld == "optional":
            return f"Make {name} ({party}) optional"
        if fld == "latest_end":
            return f"Extend the deadline of {name} from {at(sc, ch.from_)} to {at(sc, ch.to)}"
        if fld == "earliest_start":
            return f"Let {name} start from {at(sc, ch.to)} instead of {at(sc, ch.from_)}"
        if fld == "start":
            return f"Pin {name} to start at {at(sc, ch.to)} instead of {at(sc, ch.from_)}"
        if fld == "phases":
            added = [p for p in ch.to if p not in (ch.from_ or [])]
            return f"Also let {name} start in phase " + join([phase_name(sc, p) for p in added])
    if section == "phases":
        which = "minimum" if fld == "min_length" else "maximum"
        verb = "Shorten" if fld == "min_length" else "Lengthen"
        return (f"{verb} the {which} length of phase {phase_name(sc, ident)} from "
                f"{span(sc, ch.from_)} to {span(sc, ch.to)}")
    if section == "resources":
        return f"Raise the capacity of {resource_name(sc, ident)} from {ch.from_} to {ch.to}"
    return f"Set {ch.path} from {ch.from_} to {ch.to}"


def _rule_change(sc: Scenario, rule: Any, fld: str, ch: Change) -> str:
    label = f"rule '{rule.id}'"
    if fld == "enabled":
        return f"Switch off {label} ({rule.summary(lambda c: title(sc, c))})"
    if rule.kind == "exposure":
        owner = rule_owner(sc, rule)
        parties = list(dict.fromkeys(rule.parties or sc.principal_ids))
        whose = f"the {owner}'s" if owner is not None and parties == [owner] else \
            f"the {'/'.join(parties)}"
        return f"Raise {whose} exposure cap from {ch.from_} to {ch.to}"
    if rule.kind == "phase_balance":
        return f"Raise the phase-balance tolerance of {label} from {ch.from_} to {ch.to}"
    what = rule.summary(lambda c: title(sc, c))
    if fld == "max_gap":
        return (f"Widen the gap allowed between {what} ({label}) from {span(sc, ch.from_)} "
                f"to {span(sc, ch.to)}")
    if fld == "min_lag":
        return (f"Lower the minimum lag of {what} ({label}) from {span(sc, ch.from_)} "
                f"to {span(sc, ch.to)}")
    return (f"Raise the maximum lag of {what} ({label}) from {span(sc, ch.from_)} "
            f"to {span(sc, ch.to)}")


def metrics_sentence(m: Metrics | None) -> str:
    if m is None:
        return "not verified (no schedule of the corrected scenario within the time limit)"
    return (f"makespan {m.makespan}, peak exposure {m.peak_exposure}, excluded value "
            f"{m.excluded_value}, phase imbalance {m.phase_imbalance}, weighted completion "
            f"{m.weighted_completion}")


def correction_sentence(sc: Scenario, c: Correction,
                        bills: dict[str | None, int] | None = None) -> str:
    """One correction as one paragraph: the changes, the cost and who gives way, the result.

    ``bills`` (the cost charged to each party) adds each side's share.
    """
    parts = [change_sentence(sc, ch) for ch in c.changes]
    text = "; ".join(parts[:1] + [p[0].lower() + p[1:] for p in parts[1:]])
    who = sorted({ch.party for ch in c.changes if ch.party is not None})
    cost = f"cost {c.cost}" + ("" if c.proven else ", not proven cheapest")
    if who and bills and len(who) > 1:
        cost += "; asked of " + join([f"{p} {bills.get(p, 0)}" for p in who])
    elif who:
        cost += "; asked of " + join(who)
    return f"{text} ({cost}). With it: {metrics_sentence(c.metrics)}."


# --------------------------------------------------------------------------
# The conflict, grouped
_RULE_KIND = {"precedence": "sequencing rule", "reciprocity": "reciprocity rule",
              "together": "package rule", "exclusive": "exclusion rule",
              "requires": "dependency rule", "phase_balance": "phase-balance rule",
              "exposure": "exposure cap"}
_DEMAND = {"required": ("required", "step"), "latest_end": ("", "deadline"),
           "earliest_start": ("", "earliest start"), "start": ("pinned", "start"),
           "phases": ("", "phase restriction")}


def _plural(n: int, noun: str) -> str:
    return noun if n == 1 else noun + "s"


def grouped_conflict(sc: Scenario, keys: list[tuple[str, ...]]) -> str:
    """"15 required DPRK steps; 4 DPRK deadlines; 12 sequencing rules; the DPRK exposure cap 3"."""
    groups: dict[tuple[str, str, str], int] = {}
    singles: list[str] = []
    rules = {r.id: r for r in sc.rules}
    for k in keys:
        if k[0] == "concession":
            adj, noun = _DEMAND.get(k[2], ("", k[2]))
            gkey = (adj, sc.concession(k[1]).party, noun)
            groups[gkey] = groups.get(gkey, 0) + 1
        elif k[0] == "rule":
            r = rules[k[1]]
            owner = rule_owner(sc, r)
            if r.kind == "exposure":
                who = owner or "/".join(dict.fromkeys(r.parties or sc.principal_ids))
                singles.append(f"the {who} exposure cap {r.max}")
            elif r.kind == "phase_balance":
                singles.append(f"the phase-balance tolerance {r.tolerance} ('{r.id}')")
            else:
                gkey = ("", owner or "", _RULE_KIND[r.kind])
                groups[gkey] = groups.get(gkey, 0) + 1
        elif k[0] == "horizon":
            singles.append(f"the horizon ({at(sc, sc.horizon)})")
        elif k[0] == "phase":
            ph = next(p for p in sc.effective_phases if p.id == k[1])
            if k[2] == "min_length":
                singles.append(f"phase {phase_name(sc, k[1])} of at least "
                               f"{span(sc, ph.min_length)}")
            else:
                singles.append(f"phase {phase_name(sc, k[1])} of at most "
                               f"{span(sc, ph.max_length or 0)}")
        else:
            cap = next(r.capacity for r in sc.resources if r.id == k[1])
            singles.append(f"the capacity {cap} of {resource_name(sc, k[1])}")
    parts = []
    for (adj, party, noun), n in groups.items():
        words = [str(n)] + ([adj] if adj else []) + ([party] if party else []) + \
            [_plural(n, noun)]
        parts.append(" ".join(words))
    return "; ".join(parts + singles)


def conflict_keys(conflict: Any) -> list[tuple[str, ...]]:
    """A ``models.result.Conflict``'s elements as explain-mode keys, rules first."""
    keys: list[tuple[str, ...]] = [("rule", r) for r in conflict.rules]
    for d in conflict.demands:
        if d.field == "horizon":
            keys.append(("horizon",))
        elif d.concession is not None:
            keys.append(("concession", d.concession, d.field))
        elif d.phase is not None:
            keys.append(("phase", d.phase, d.field))
        elif d.resource is not None:
            keys.append(("resource", d.resource, d.field))
    return keys
