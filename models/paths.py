"""Field paths into a scenario: ``rules[no_cliff].max``, ``concessions[3].duration``.

One path language for sweeps, corrections, suggestions and the app's edits:
list items by ``[id]``, ``[index]`` or ``[*]`` (every item), mapping keys by
``[key]``. Errors are ``ScenarioError``s naming the path.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from models.errors import ScenarioError, short_repr

# Fields whose value is a free mapping: a path may add keys to them.
MAP_FIELDS = frozenset({"verification_methods", "value", "credit", "uses"})

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\]]+\])*)")


def split_path(path: str, file: str = "<path>") -> list[tuple[str, list[str]]]:
    """``rules[a].max`` -> [("rules", ["a"]), ("max", [])]."""
    out: list[tuple[str, list[str]]] = []
    pos = 0
    text = path.strip()
    while True:
        m = _SEGMENT.match(text, pos)
        if m is None:
            raise ScenarioError("not a parameter path (expected e.g. rules[no_cliff].max)",
                                file=file, path=path or "<empty>")
        keys = re.findall(r"\[([^\]]+)\]", m.group(2))
        out.append((m.group(1), [k.strip() for k in keys]))
        pos = m.end()
        if pos == len(text):
            return out
        if text[pos] != ".":
            raise ScenarioError(f"unexpected {text[pos]!r} at position {pos}",
                                file=file, path=path)
        pos += 1


def set_path(data: dict[str, Any], path: str, value: Any, file: str = "<path>") -> None:
    """Set ``path`` to ``value`` in a scenario dict (in place)."""
    segments = split_path(path, file)
    targets: list[Any] = [data]
    parent_name = ""
    fresh: set[int] = set()   # dicts created here: a free map's new entry has no known keys
    for depth, (name, keys) in enumerate(segments):
        last = depth == len(segments) - 1
        nxt: list[Any] = []
        for node in targets:
            if not isinstance(node, dict):
                raise ScenarioError(f"'{parent_name}' is not a mapping, it has no field "
                                    f"'{name}'", file=file, path=path)
            if name not in node:
                if parent_name not in MAP_FIELDS and id(node) not in fresh:
                    known = ", ".join(sorted(node)) or "none"
                    raise ScenarioError(f"unknown field '{name}' (known: {known})",
                                        file=file, path=path)
                node[name] = {} if (keys or not last) else None
                if isinstance(node[name], dict):
                    fresh.add(id(node[name]))
            if last and not keys:
                node[name] = copy.deepcopy(value)
                continue
            items: list[tuple[Any, Any]] = [(node, name)]
            for key in keys:
                items = [pair for parent, k in items
                         for pair in _index(parent, k, key, path, file)]
            if last:
                for parent, k in items:
                    parent[k] = copy.deepcopy(value)
            else:
                nxt.extend(parent[k] for parent, k in items)
        targets = nxt
        parent_name = name


def _index(parent: Any, k: Any, key: str, path: str, file: str) -> list[tuple[Any, Any]]:
    """The (container, index) pairs that ``[key]`` selects in ``parent[k]``."""
    seq = parent[k]
    if isinstance(seq, dict):
        if key == "*":
            return [(seq, name) for name in seq]
        if key not in seq and k not in MAP_FIELDS:
            raise ScenarioError(f"no key '{key}' in '{k}' (known: {', '.join(seq) or 'none'})",
                                file=file, path=path)
        seq.setdefault(key, {})
        return [(seq, key)]
    if not isinstance(seq, list):
        raise ScenarioError(f"'{k}' is {short_repr(seq)}, not a list or a mapping",
                            file=file, path=path)
    if key == "*":
        return [(seq, i) for i in range(len(seq))]
    for i, item in enumerate(seq):
        if isinstance(item, dict) and item.get("id") == key:
            return [(seq, i)]
    if key.lstrip("-").isdigit() and -len(seq) <= int(key) < len(seq):
        return [(seq, int(key) % len(seq))]
    ids = [str(item["id"]) for item in seq if isinstance(item, dict) and "id" in item]
    known = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "") if ids else \
        f"indices 0..{len(seq) - 1}"
    raise ScenarioError(f"no element '{key}' in {k} (known: {known})", file=file, path=path)
