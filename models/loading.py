"""Reading scenario files (YAML, JSON, TOML) into a validated ``Scenario``.

Every failure becomes a ``ScenarioError`` naming the file, the field path and
the value; YAML errors carry their line. YAML is read with the safe loader
only, and documents whose aliases expand to an absurd size are refused before
anything walks them (a "billion laughs" file must not hang the tool).
"""

from __future__ import annotations

import difflib
import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.errors import ScenarioError, ScenarioErrors
from models.rules import RULE_KINDS
from models.scenario import Scenario

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_EXPANDED_NODES = 2_000_000
SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}


# --------------------------------------------------------------------------
# Built-in datasets
def datasets_dir() -> Path:
    """The folder of built-in scenarios: the checkout's, or the wheel's copy."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "datasets", here / "_datasets"):
        if candidate.is_dir():
            return candidate
    return here.parent / "datasets"


def list_datasets() -> list[Path]:
    folder = datasets_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


def resolve_scenario(ref: str | os.PathLike[str]) -> Path:
    """A path as given, or the name of a built-in dataset (with or without suffix).

    Names cannot escape the datasets folder: only a plain file name found in
    the listing is accepted.
    """
    path = Path(ref)
    if path.is_file():
        return path
    name = str(ref)
    if os.sep not in name and "/" not in name and not name.startswith("."):
        for candidate in list_datasets():
            if name in (candidate.name, candidate.stem):
                return candidate
    if path.exists():
        raise ScenarioError("is not a regular file", file=str(ref))
    known = ", ".join(p.stem for p in list_datasets()) or "none"
    raise ScenarioError(
        f"no such file, and not a built-in dataset (built-in: {known})", file=str(ref)
    )


# --------------------------------------------------------------------------
# Parsing
class _GuardedLoader(yaml.SafeLoader):
    """Safe loader; the alias guard runs on the composed node graph."""


def _expanded_size(node: yaml.Node, memo: dict[int, int], budget: int) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    size = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            size += _expanded_size(child, memo, budget)
            if size > budget:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            size += _expanded_size(k, memo, budget) + _expanded_size(v, memo, budget)
            if size > budget:
                break
    memo[key] = size
    return size


def _parse_yaml(text: str, file: str) -> tuple[Any, yaml.Node | None]:
    try:
        loader = _GuardedLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, None
            if _expanded_size(node, {}, MAX_EXPANDED_NODES) > MAX_EXPANDED_NODES:
                raise ScenarioError(
                    "YAML aliases expand to more than "
                    f"{MAX_EXPANDED_NODES:,} nodes; refusing to load it",
                    file=file,
                )
            try:
                data = loader.construct_document(node)
            except (yaml.YAMLError, RecursionError, ScenarioError):
                raise
            except Exception as exc:
                # The safe constructors of explicit tags fail on odd input with
                # plain errors (`!!bool maybe` -> KeyError, `!!int abc` ->
                # ValueError, Python's limit on digits in int()).
                raise ScenarioError(_bad_scalar("YAML", exc), file=file) from None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ScenarioError(_one_line(f"YAML syntax error: {problem}"), file=file,
                            line=line) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(_one_line(f"YAML error: {exc}"), file=file) from None
    except RecursionError:
        raise ScenarioError("YAML nesting is too deep", file=file) from None
    return data, node


def _bad_scalar(kind: str, exc: Exception) -> str:
    text = str(exc)
    if "Exceeds the limit" in text and "digits" in text:
        limit = sys.get_int_max_str_digits()
        return f"{kind} error: a number is too long (more than {limit} digits)"
    if not isinstance(exc, ValueError):
        return (f"{kind} error: cannot read a value of an explicit tag "
                "(such as !!bool or !!timestamp)")
    return _one_line(f"{kind} error: cannot read a value: {text}")


def _one_line(text: str, limit: int = 200) -> str:
    """Escape control and unprintable characters so a message stays on one line."""
    out = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                  for ch in text)
    return out if len(out) <= limit else out[: limit - 3] + "..."


def _parse(text: str, kind: str, file: str) -> tuple[Any, yaml.Node | None]:
    if kind == "yaml":
        return _parse_yaml(text, file)
    if kind == "json":
        try:
            return json.loads(text), None
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"JSON syntax error: {exc.msg}", file=file,
                                line=exc.lineno) from None
        except RecursionError:
            raise ScenarioError("JSON nesting is too deep", file=file) from None
        except ValueError as exc:
            raise ScenarioError(_bad_scalar("JSON", exc), file=file) from None
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        msg = str(exc).split(" (at line")[0]
        raise ScenarioError(f"TOML syntax error: {msg}", file=file, line=line) from None
    except RecursionError:
        raise ScenarioError("TOML nesting is too deep", file=file) from None
    except ValueError as exc:
        raise ScenarioError(_bad_scalar("TOML", exc), file=file) from None


# --------------------------------------------------------------------------
# Field paths and messages
def format_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # Keys come from the user's file: a newline or a megabyte in a key
            # must not break the one-line message.
            out += ("." if out else "") + _one_line(str(part), 60)
    return out


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-member and discriminator tags from a location."""
    cleaned: list[Any] = []
    for i, part in enumerate(loc):
        if isinstance(part, str):
            prev = loc[i - 1] if i else None
            if part in RULE_KINDS and isinstance(prev, int) and "rules" in loc[:i]:
                continue
            if part in ("int", "str", "bool", "constrained-int", "constrained-str", "DurationRange",
                        "MethodOverride") or "[" in part:
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


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
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


def _translate(exc: ValidationError, file: str, data: Any, node: yaml.Node | None) -> ScenarioError:
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
                                    line=_line_of(node, loc)))
    return errors[0] if len(errors) == 1 else ScenarioErrors(errors)


# --------------------------------------------------------------------------
# Front doors
def parse_scenario(data: Any, file: str = "<scenario>", node: yaml.Node | None = None) -> Scenario:
    """Validate already-parsed data (a dict) into a Scenario, or raise ScenarioError."""
    from models.validation import validate_semantics

    if data is None:
        raise ScenarioError("the scenario is empty", file=file)
    if not isinstance(data, dict):
        raise ScenarioError(
            f"expected a mapping at the top level, found {type(data).__name__}", file=file
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _translate(exc, file, data, node) from None
    except RecursionError:
        raise ScenarioError("the scenario is nested too deeply", file=file) from None
    try:
        validate_semantics(scenario)
    except ScenarioError as err:
        if node is not None and err.path and err.line is None:
            err.line = _line_of(node, _path_to_loc(err.path))
        raise err.with_file(file) from None
    return scenario


def _path_to_loc(path: str) -> tuple[Any, ...]:
    out: list[Any] = []
    for chunk in path.replace("]", "").split("."):
        name, *idx = chunk.split("[")
        if name:
            out.append(name)
        out.extend(int(i) for i in idx if i.isdigit())
    return tuple(out)


def loads_scenario(text: str, kind: str = "yaml", file: str = "<scenario>") -> Scenario:
    """Parse and validate scenario text of the given kind (yaml, json or toml)."""
    if kind not in ("yaml", "json", "toml"):
        raise ScenarioError(f"unknown format '{kind}' (expected yaml, json or toml)", file=file)
    data, node = _parse(text, kind, file)
    return parse_scenario(data, file, node)


def load_scenario(ref: str | os.PathLike[str]) -> Scenario:
    """Load a scenario from a path or a built-in dataset name."""
    path = resolve_scenario(ref)
    file = str(ref) if Path(ref).is_file() else str(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ScenarioError(
            f"unknown file type '{path.suffix}' (expected .yaml, .yml, .json or .toml)", file=file
        )
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(
                f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}", file=file
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read file: {exc.strerror}", file=file) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text (byte {exc.start})", file=file) from None
    if "\x00" in text:
        raise ScenarioError("file contains NUL bytes (binary data?)", file=file)
    return loads_scenario(text, kind, file)


def dumps_scenario(scenario: Scenario, kind: str = "yaml") -> str:
    """Write a scenario back out (used by the UI's download and sweeps)."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data["format"] = scenario.format
    if kind == "json":
        return json.dumps(data, indent=2, ensure_ascii=False)
    if kind == "toml":
        import tomli_w

        return tomli_w.dumps(_drop_none(data))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _drop_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _drop_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_drop_none(v) for v in obj]
    return obj
