"""One-line messages for invalid scenarios: pydantic's errors as file, line, field path, value."""

from __future__ import annotations

import difflib
from typing import Any

import yaml
from pydantic import ValidationError

from models.errors import ScenarioError, ScenarioErrors
from models.rules import RULE_KINDS


def one_line(text: str, limit: int = 200) -> str:
    """Escape control and unprintable characters so a message stays on one line."""
    out = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                  for ch in text)
    return out if len(out) <= limit else out[: limit - 3] + "..."


def format_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # Keys come from the user's file: a newline or a megabyte in a key
            # must not break the one-line message.
            out += ("." if out else "") + one_line(str(part), 60)
    return out


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-member and discriminator tags from a location."""
    cleaned: list[Any] = []
    for i, part in enumerate(loc):
        if isinstance(part, str):
            prev = loc[i - 1] if i else None
            if part in RULE_KINDS and isinstance(prev, int) and "rules" in loc[:i]:
                continue
            if part in ("int", "str", "bool", "constrained-int", "constrained-str",
                        "DurationRange", "RelaxPrice", "MethodOverride") or "[" in part:
                continue
        cleaned.append(part)
    return tuple(cleaned)


_FIELD_HINTS = {
    "duration": "expected an integer >= 0 or {min: a, max: b}",
    "value": "expected an integer >= 0 or a map {party: integer >= 0}",
    "credit": "expected an integer >= 0 or a map {party: integer >= 0}",
}


def _message(err: dict[str, Any], loc: tuple[Any, ...], siblings: set[str]) -> str:
    typ = err["type"]
    ctx = err.get("ctx") or {}
    last = loc[-1] if loc else None
    if typ == "extra_forbidden":
        hint = difflib.get_close_matches(str(last), sorted(siblings), n=1)
        return "unknown key" + (f" (did you mean '{hint[0]}'?)" if hint else "")
    if typ == "missing":
        return "required field is missing"
    if typ == "union_tag_invalid":
        return f"unknown rule kind; expected one of: {', '.join(RULE_KINDS)}"
    if typ == "union_tag_not_found":
        return f"rule has no 'kind'; expected one of: {', '.join(RULE_KINDS)}"
    if isinstance(last, str) and last in _FIELD_HINTS and typ.endswith("_type"):
        return _FIELD_HINTS[last]
    if typ in ("int_type", "int_parsing", "int_from_float"):
        return "expected an integer"
    if typ in ("string_type",):
        return "expected a text string"
    if typ in ("bool_type", "bool_parsing"):
        return "expected true or false"
    if typ in ("list_type",):
        return "expected a list"
    if typ in ("dict_type", "model_type", "model_attributes_type"):
        return "expected a mapping of keys to values"
    if typ == "greater_than_equal":
        return f"must be >= {ctx.get('ge')}"
    if typ == "greater_than":
        return f"must be > {ctx.get('gt')}"
    if typ == "less_than_equal":
        return f"must be <= {ctx.get('le')}"
    if typ == "literal_error":
        return f"expected {ctx.get('expected')}"
    if typ == "too_short":
        return "must not be empty"
    if typ == "string_pattern_mismatch":
        return "must be a non-empty identifier without spaces"
    if typ == "value_error":
        return str(ctx.get("error", err["msg"]))
    return str(err["msg"])


def _allowed_keys(loc: tuple[Any, ...], data: Any) -> set[str]:
    from models import rules as rules_mod
    from models import scenario as sc

    if not loc:
        return set(sc.Scenario.model_fields) | {"format"}
    head = loc[0]
    table: dict[str, Any] = {
        "parties": sc.Party, "phases": sc.Phase, "resources": sc.Resource,
        "concessions": sc.Concession, "objective": sc.Objective, "observed": sc.Observed,
    }
    if head == "rules" and len(loc) >= 2 and isinstance(data, dict):
        try:
            kind = data["rules"][loc[1]]["kind"]
            cls: Any = {
                "precedence": rules_mod.Precedence, "reciprocity": rules_mod.Reciprocity,
                "together": rules_mod.Together, "exclusive": rules_mod.Exclusive,
                "requires": rules_mod.Requires, "exposure": rules_mod.Exposure,
                "phase_balance": rules_mod.PhaseBalance,
            }[kind]
            return {f.alias or n for n, f in cls.model_fields.items()}
        except (KeyError, IndexError, TypeError):
            return set()
    if head in table and len(loc) == 2:
        return {f.alias or n for n, f in table[head].model_fields.items()}
    if head == "concessions" and len(loc) == 3 and loc[2] == "duration":
        return {"min", "max"}
    return set()


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Line of the YAML node at a field path (best effort)."""
    if node is None:
        return None
    best = node.start_mark.line + 1
    for part in loc:
        nxt: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if getattr(k, "value", None) == part:
                    nxt = v if part != loc[-1] else k
                    break
        elif (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
              and 0 <= part < len(node.value)):
            nxt = node.value[part]
        if nxt is None:
            break
        node = nxt
        best = node.start_mark.line + 1
    return best


def translate(exc: ValidationError, file: str, data: Any, node: yaml.Node | None) -> ScenarioError:
    errors: list[ScenarioError] = []
    seen: set[str] = set()
    for err in exc.errors(include_url=False):
        loc = _clean_loc(tuple(err["loc"]))
        path = format_path(loc)
        if path in seen:
            continue
        seen.add(path)
        parent = loc[:-1] if err["type"] == "extra_forbidden" else loc
        msg = _message(dict(err), loc, _allowed_keys(parent, data))
        value = err.get("input", ...) if err["type"] not in ("missing",) else ...
        if err["type"] == "extra_forbidden":
            value = ...
        if isinstance(value, (dict, list)) and err["type"] not in ("union_tag_invalid",):
            value = ...
        if err["type"] == "union_tag_invalid":
            value = (err.get("ctx") or {}).get("tag", ...)
        errors.append(ScenarioError(msg, file=file, path=path or None, value=value,
                                    line=line_of(node, loc)))
    return errors[0] if len(errors) == 1 else ScenarioErrors(errors)
