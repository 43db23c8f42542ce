"""Pure edits of a scenario dict: add, duplicate, delete, rename, reorder — and a diff.

No Streamlit here: each function changes the dict that ``state.edit`` then
re-validates with the same pydantic models as a scenario file, so a bad form
is refused in one line and the working copy stays as it was. Renaming or
deleting a concession follows it into the rules that name it.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from models import Scenario

REF_KEYS = {"precedence": ("before", "after"), "reciprocity": ("a", "b"),
            "requires": ("if", "then"), "together": ("concessions",),
            "exclusive": ("concessions",)}

RULE_TEMPLATES: dict[str, dict[str, Any]] = {
    "exposure": {"kind": "exposure", "max": 8, "parties": None,
                 "text": "No side is exposed beyond 8 points"},
    "phase_balance": {"kind": "phase_balance", "tolerance": 10, "parties": None},
    "precedence": {"kind": "precedence", "before": "", "after": "", "min_lag": 0,
                   "text": "The first step comes before the second"},
    "reciprocity": {"kind": "reciprocity", "a": "", "b": "", "max_gap": 0,
                    "text": "The two steps start together"},
    "together": {"kind": "together", "concessions": []},
    "exclusive": {"kind": "exclusive", "concessions": []},
    "requires": {"kind": "requires", "if": "", "then": ""},
}


def _find(items: list[dict[str, Any]], ident: str, what: str) -> int:
    for k, item in enumerate(items):
        if item.get("id") == ident:
            return k
    raise KeyError(f"no {what} '{ident}'")


def fresh_id(taken: set[str], base: str) -> str:
    """``base`` or ``base_2``, ``base_3``…: the first id not taken."""
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def add_concession(data: dict[str, Any], fields: dict[str, Any]) -> str:
    """Append a concession; its id defaults to a fresh one. Returns the id."""
    item = {k: v for k, v in fields.items() if v not in (None, "")}
    taken = {c["id"] for c in data["concessions"]}
    item["id"] = str(item.get("id") or fresh_id(taken, "step"))
    if item["id"] in taken:
        raise ValueError(f"concessions[].id: '{item['id']}' is already used")
    data["concessions"].append(item)
    return str(item["id"])


def duplicate_concession(data: dict[str, Any], cid: str) -> str:
    k = _find(data["concessions"], cid, "concession")
    copy_ = copy.deepcopy(data["concessions"][k])
    copy_["id"] = fresh_id({c["id"] for c in data["concessions"]}, f"{cid}_copy")
    if copy_.get("title"):
        copy_["title"] = f"{copy_['title']} (copy)"
    data["concessions"].insert(k + 1, copy_)
    return str(copy_["id"])


def _rule_refs(rule: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key in REF_KEYS.get(rule.get("kind", ""), ()):
        value = rule.get(key)
        out += value if isinstance(value, list) else [value] if value else []
    return out


def delete_concession(data: dict[str, Any], cid: str) -> list[str]:
    """Remove a concession and the rules that name it; returns those rules' ids.

    A package or alternative (``together``/``exclusive``) of three or more
    keeps its other members and only loses this one.
    """
    del data["concessions"][_find(data["concessions"], cid, "concession")]
    dropped, kept = [], []
    for rule in data.get("rules", []):
        if cid not in _rule_refs(rule):
            kept.append(rule)
            continue
        if rule["kind"] in ("together", "exclusive") and len(rule["concessions"]) > 2:
            rule["concessions"] = [c for c in rule["concessions"] if c != cid]
            kept.append(rule)
        else:
            dropped.append(str(rule["id"]))
    data["rules"] = kept
    return dropped


def rename_concession(data: dict[str, Any], old: str, new: str) -> None:
    """Change a concession's id everywhere it is named (rules, other concessions' credit)."""
    new = new.strip()
    if new == old:
        return
    if any(c["id"] == new for c in data["concessions"]):
        raise ValueError(f"concessions[].id: '{new}' is already used")
    data["concessions"][_find(data["concessions"], old, "concession")]["id"] = new
    for rule in data.get("rules", []):
        for key in REF_KEYS.get(rule.get("kind", ""), ()):
            value = rule.get(key)
            if isinstance(value, list):
                rule[key] = [new if v == old else v for v in value]
            elif value == old:
                rule[key] = new


def add_rule(data: dict[str, Any], text: str) -> str:
    """Append a rule written as YAML (one mapping); its id defaults to a fresh one."""
    try:
        rule = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ValueError(f"rule: not valid YAML{where}") from None
    if not isinstance(rule, dict) or "kind" not in rule:
        raise ValueError("rule: expected a mapping with a 'kind'")
    taken = {r["id"] for r in data.get("rules", [])}
    rule["id"] = str(rule.get("id") or fresh_id(taken, str(rule["kind"])))
    if rule["id"] in taken:
        raise ValueError(f"rules[].id: '{rule['id']}' is already used")
    data.setdefault("rules", []).append({k: v for k, v in rule.items() if v is not None})
    return str(rule["id"])


def duplicate_rule(data: dict[str, Any], rid: str) -> str:
    k = _find(data["rules"], rid, "rule")
    copy_ = copy.deepcopy(data["rules"][k])
    copy_["id"] = fresh_id({r["id"] for r in data["rules"]}, f"{rid}_copy")
    data["rules"].insert(k + 1, copy_)
    return str(copy_["id"])


def delete_rule(data: dict[str, Any], rid: str) -> None:
    del data["rules"][_find(data["rules"], rid, "rule")]


def move_term(data: dict[str, Any], metric: str, step: int) -> None:
    """Move an objective term ``step`` places (−1: more important)."""
    terms = data["objective"]["terms"]
    k = next((i for i, t in enumerate(terms) if t["metric"] == metric), None)
    if k is None:
        raise KeyError(f"no objective term '{metric}'")
    j = max(0, min(len(terms) - 1, k + step))
    terms.insert(j, terms.pop(k))


def rule_template(kind: str, sc: Scenario) -> str:
    """A YAML starting point for a new rule of ``kind``, naming real concessions."""
    tpl = dict(RULE_TEMPLATES[kind])
    ids = [c.id for c in sc.concessions]
    for key in REF_KEYS.get(kind, ()):
        tpl[key] = ids[:2] if key == "concessions" else ""
    if kind in ("precedence", "reciprocity", "requires") and len(ids) >= 2:
        first, second = REF_KEYS[kind]
        tpl[first], tpl[second] = ids[0], ids[1]
    return yaml.safe_dump({k: v for k, v in tpl.items() if v is not None}, sort_keys=False,
                          allow_unicode=True)


# --------------------------------------------------------------------------
# Diff of the working copy against its source
def _label(item: dict[str, Any]) -> str:
    return str(item.get("title") or item.get("text") or item.get("id"))


def _fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
    return [f"{k}: {before.get(k, '—')} → {after.get(k, '—')}" for k in keys]


def diff(source: Scenario, working: Scenario) -> list[str]:
    """What changed, one line each, in the planner's words ('' lines never)."""
    a = source.model_dump(mode="json", by_alias=True, exclude_none=True)
    b = working.model_dump(mode="json", by_alias=True, exclude_none=True)
    out: list[str] = []
    for table, what in (("concessions", "Concession"), ("rules", "Rule"),
                        ("phases", "Phase"), ("parties", "Party")):
        old = {x["id"]: x for x in a.get(table, [])}
        new = {x["id"]: x for x in b.get(table, [])}
        for ident in old.keys() - new.keys():
            out.append(f"{what} removed: {_label(old[ident])} ({ident})")
        for ident in [i for i in new if i not in old]:
            out.append(f"{what} added: {_label(new[ident])} ({ident})")
        for ident in [i for i in new if i in old and old[i] != new[i]]:
            out.append(f"{what} changed: {_label(new[ident])} — "
                       + "; ".join(_fields(old[ident], new[ident])))
    if a.get("objective") != b.get("objective"):
        terms = " > ".join(t["metric"].replace("_", " ") for t in b["objective"]["terms"])
        out.append(f"Objective: {b['objective']['mode']}, {terms}")
    for key in ("horizon", "name", "time_unit", "calendar_start", "principals"):
        if a.get(key) != b.get(key):
            out.append(f"{key.replace('_', ' ').capitalize()}: {a.get(key, '—')} → "
                       f"{b.get(key, '—')}")
    return out


# --------------------------------------------------------------------------
# Parties, phases and a new scenario
def add_party(data: dict[str, Any], pid: str, name: str = "") -> str:
    """Append a party (its id is how concessions and rules name it)."""
    pid = pid.strip()
    if not pid:
        raise ValueError("parties[].id: a party needs an id (e.g. US)")
    if any(p["id"] == pid for p in data["parties"]):
        raise ValueError(f"parties[].id: '{pid}' is already used")
    data["parties"].append({"id": pid, **({"name": name.strip()} if name.strip() else {})})
    return pid


def delete_party(data: dict[str, Any], pid: str) -> None:
    """Remove a party; refused while a concession is its (the planner decides what goes)."""
    k = _find(data["parties"], pid, "party")
    used = [c["id"] for c in data["concessions"] if c["party"] == pid]
    if used:
        raise ValueError(f"parties[{pid}]: still gives {len(used)} concession(s) "
                         f"({', '.join(used[:3])}); delete or reassign them first")
    del data["parties"][k]
    if data.get("principals"):
        data["principals"] = [p for p in data["principals"] if p != pid] or None


def add_phase(data: dict[str, Any], fields: dict[str, Any]) -> str:
    """Append a phase (phases are consecutive, in the order given)."""
    phases = data.get("phases") or []
    taken = {p["id"] for p in phases}
    item = {k: v for k, v in fields.items() if v not in (None, "")}
    item["id"] = str(item.get("id") or fresh_id(taken, f"P{len(phases) + 1}"))
    if item["id"] in taken:
        raise ValueError(f"phases[].id: '{item['id']}' is already used")
    data["phases"] = [*phases, item]
    return str(item["id"])


def delete_phase(data: dict[str, Any], phid: str) -> None:
    """Remove a phase and every concession's mention of it."""
    del data["phases"][_find(data.get("phases") or [], phid, "phase")]
    for c in data["concessions"]:
        if c.get("phases"):
            c["phases"] = [p for p in c["phases"] if p != phid] or None


PLACEHOLDER_ID = "first_step"


def new_scenario(name: str, time_unit: str, horizon: int, calendar_start: str | None,
                 party: str, party_name: str = "") -> dict[str, Any]:
    """The smallest scenario the format allows: one party and one step to start from.

    SPEC §1 asks for at least one party and one concession, so a new scenario
    starts with the planner's first party and a step of theirs, named so that
    it is obviously to be renamed or deleted once the real steps are in.
    """
    if not name.strip():
        raise ValueError("name: a new scenario needs a name")
    data: dict[str, Any] = {"format": "roadmap/v1", "name": name.strip(),
                            "time_unit": time_unit, "horizon": horizon,
                            "parties": [], "concessions": []}
    if calendar_start and calendar_start.strip():
        data["calendar_start"] = calendar_start.strip()
    add_party(data, party, party_name)
    data["concessions"].append({
        "id": PLACEHOLDER_ID, "party": data["parties"][0]["id"], "duration": 1, "value": 0,
        "title": "First step (rename it, or delete it once the real steps are in)"})
    return data
