"""Reading scenario files (YAML, JSON, TOML) into a validated ``Scenario``.

Every failure becomes a ``ScenarioError`` naming the file, the field path and
the value; YAML errors carry their line. YAML is read with the safe loader
only, and documents whose aliases expand to an absurd size are refused before
anything walks them (a "billion laughs" file must not hang the tool).
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from models.datasets import SUFFIXES, resolve_scenario
from models.errors import ScenarioError
from models.messages import line_of, one_line, translate
from models.scenario import Scenario

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_EXPANDED_NODES = 2_000_000


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
        raise ScenarioError(one_line(f"YAML syntax error: {problem}"), file=file,
                            line=line) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(one_line(f"YAML error: {exc}"), file=file) from None
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
    return one_line(f"{kind} error: cannot read a value: {text}")


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
        raise translate(exc, file, data, node) from None
    except RecursionError:
        raise ScenarioError("the scenario is nested too deeply", file=file) from None
    try:
        validate_semantics(scenario)
    except ScenarioError as err:
        if node is not None and err.path and err.line is None:
            err.line = line_of(node, _path_to_loc(err.path))
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
