"""Parameter sweeps: one scenario expanded into many concrete variants.

A *parameter* names a field by path into the scenario and lists the values
to try. Lists whose elements carry an ``id`` are indexed by that id, other
lists by position, ``[*]`` means every element::

    rules[no_cliff].max=2:20:2                 # 2, 4, ..., 20 (both ends included)
    concessions[dprk_icbm_ban].duration=6,12   # a list of values
    concessions[x].duration={min: 2, max: 4}   # any YAML value
    rules[sync_1].enabled=true,false
    horizon=36:120:12
    verification_methods.inspection.lag=2,4
    objective.terms[0].metric=makespan,peak_exposure
    concessions[*].priority=1,5                # the same value on every concession

``a:b`` and ``a:b:s`` are integer ranges that include both ends; anything
else is a comma-separated list whose items are read as YAML scalars
(``6`` is an int, ``true`` a bool, ``x`` a string). Commas inside ``[]``,
``{}`` or quotes do not split.

A sweep file (YAML) holds the same in a mapping::

    format: roadmap-sweep/v1      # optional, exactly this string
    scenarios: [us_dprk_2018]     # optional: used when the command line names none
    mode: grid                    # grid (default): every combination
                                  # random: `samples` distinct combinations drawn with `seed`
    samples: 20
    seed: 0
    parameters:                   # in this order (the first varies slowest)
      rules[no_cliff].max: "2:20:2"        # a string uses the command-line syntax
      concessions[dprk_icbm_ban].duration: [6, 12]   # a list: these values
      horizon: {from: 36, to: 120, step: 12}         # a mapping: a range
      rules[sync_1].enabled: false                   # a scalar: one value

Every variant is validated like a scenario file before anything is solved;
an unknown path or a value that makes the scenario invalid is a
``ScenarioError`` naming the parameter. A variant's id is derived from its
parameter values alone, so it is the same in every run of the same sweep.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import Any

import yaml

from models.errors import ScenarioError, short_repr
from models.loading import parse_scenario
from models.paths import set_path, split_path
from models.scenario import Scenario

SWEEP_FORMAT = "roadmap-sweep/v1"
MAX_VALUES = 10_000        # per parameter: a typo such as 0:1000000 must fail fast
MAX_VARIANTS = 100_000     # a grid larger than this must be sampled
_RANGE = re.compile(r"^\s*(-?\d+)\s*:\s*(-?\d+)\s*(?::\s*(-?\d+)\s*)?$")


@dataclass(frozen=True)
class Param:
    """One swept field: its path into the scenario and the values to try."""

    path: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Variant:
    """A concrete scenario of a sweep with the parameter values that made it."""

    id: str
    params: dict[str, Any]
    scenario: Scenario

    @property
    def label(self) -> str:
        return " ".join(f"{k}={_fmt(v)}" for k, v in self.params.items()) or "base"


@dataclass(frozen=True)
class Sweep:
    params: tuple[Param, ...] = ()
    mode: str = "grid"
    samples: int | None = None
    seed: int = 0
    scenarios: tuple[str, ...] = ()
    file: str = "<sweep>"
    _checked: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @property
    def grid_size(self) -> int:
        return prod(len(p.values) for p in self.params)

    def points(self) -> list[dict[str, Any]]:
        """The parameter assignments, grid order (sampled ones keep grid order)."""
        total = self.grid_size
        if self.mode == "random" and self.samples is not None and self.samples < total:
            indices = sorted(random.Random(self.seed).sample(range(total), self.samples))
        else:
            if total > MAX_VARIANTS:
                raise ScenarioError(
                    f"the grid has {total:,} variants (limit {MAX_VARIANTS:,}); "
                    "sample it with mode: random / --sample N", file=self.file)
            indices = list(range(total))
        return [self._point(i) for i in indices]

    def _point(self, index: int) -> dict[str, Any]:
        # Mixed-radix decoding: the last parameter varies fastest.
        out: dict[str, Any] = {}
        for p in reversed(self.params):
            index, k = divmod(index, len(p.values))
            out[p.path] = p.values[k]
        return {p.path: out[p.path] for p in self.params}

    def expand(self, scenario: Scenario, name: str = "<scenario>") -> list[Variant]:
        """All variants of ``scenario``, each validated; raises ScenarioError naming a parameter."""
        base = scenario.canonical_dict()
        self._check_single(base, name)
        variants = []
        for point in self.points():
            data = copy.deepcopy(base)
            for path, value in point.items():
                set_path(data, path, value, self.file)
            try:
                sc = parse_scenario(data, name) if point else scenario
            except ScenarioError as err:
                paths = " + ".join(point)
                raise ScenarioError(
                    f"this combination makes the scenario invalid: {_inner(err)}",
                    file=self.file, path=paths, value=point) from None
            variants.append(Variant(variant_id(point), point, sc))
        return variants

    def _check_single(self, base: dict[str, Any], name: str) -> None:
        """Try each value alone so that a bad one is blamed on its own parameter."""
        for p in self.params:
            for value in p.values:
                data = copy.deepcopy(base)
                set_path(data, p.path, value, self.file)
                key = json.dumps([p.path, value], sort_keys=True, default=str)
                if self._checked.get(key):
                    continue
                try:
                    parse_scenario(data, name)
                except ScenarioError as err:
                    raise ScenarioError(
                        f"value {short_repr(value)} makes the scenario invalid: {_inner(err)}",
                        file=self.file, path=p.path) from None
                self._checked[key] = True


def _inner(err: ScenarioError) -> str:
    return f"{err.path}: {err.message}" if err.path else err.message


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def variant_id(params: dict[str, Any]) -> str:
    """A short id that depends only on the parameter values (order-independent)."""
    if not params:
        return "base"
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return "v" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


# --------------------------------------------------------------------------
# Paths into the scenario
# --------------------------------------------------------------------------
# Values
def parse_values(text: str, path: str = "", file: str = "<sweep>") -> tuple[Any, ...]:
    """``2:20:2`` -> (2, 4, ..., 20); ``6,12`` -> (6, 12); ``true,false`` -> (True, False)."""
    m = _RANGE.match(text)
    if m:
        start, stop = int(m.group(1)), int(m.group(2))
        step = int(m.group(3)) if m.group(3) is not None else (1 if stop >= start else -1)
        return _range(start, stop, step, path, file)
    items = _split_top(text)
    if not items or any(not i.strip() for i in items):
        raise ScenarioError("empty value in the list", file=file, path=path, value=text)
    out = []
    for item in items:
        try:
            out.append(yaml.safe_load(item))
        except yaml.YAMLError:
            raise ScenarioError("not a valid value", file=file, path=path,
                                value=item.strip()) from None
    return tuple(out)


def _range(start: int, stop: int, step: int, path: str, file: str) -> tuple[int, ...]:
    if step == 0 or (stop - start) * step < 0:
        raise ScenarioError(f"the range {start}:{stop}:{step} is empty", file=file, path=path)
    count = (stop - start) // step + 1
    if count > MAX_VALUES:
        raise ScenarioError(f"the range has {count:,} values (limit {MAX_VALUES:,})",
                            file=file, path=path)
    return tuple(range(start, stop + (1 if step > 0 else -1), step))


def _split_top(text: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_param(text: str, file: str = "<command line>") -> Param:
    """``PATH=VALUES`` as given to ``--param``."""
    path, sep, values = text.partition("=")
    if not sep or not path.strip():
        raise ScenarioError("expected PATH=VALUES (e.g. rules[no_cliff].max=2:20:2)",
                            file=file, value=text)
    path = path.strip()
    split_path(path, file)
    return Param(path, parse_values(values, path, file))


def _param_from_yaml(path: str, spec: Any, file: str) -> Param:
    split_path(path, file)
    if isinstance(spec, str):
        return Param(path, parse_values(spec, path, file))
    if isinstance(spec, list):
        if not spec:
            raise ScenarioError("the list of values is empty", file=file, path=path)
        return Param(path, tuple(spec))
    if isinstance(spec, dict):
        if set(spec) - {"from", "to", "step"} or not {"from", "to"} <= set(spec):
            raise ScenarioError("a range is {from: a, to: b, step: s}", file=file, path=path,
                                value=spec)
        bounds = [spec["from"], spec["to"], spec.get("step", 1)]
        if not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds):
            raise ScenarioError("range bounds must be integers", file=file, path=path,
                                value=spec)
        return Param(path, _range(bounds[0], bounds[1], bounds[2], path, file))
    return Param(path, (spec,))


def make_sweep(params: list[str] | tuple[str, ...] = (), *, base: Sweep | None = None,
               sample: int | None = None, seed: int | None = None) -> Sweep:
    """A sweep from ``--param`` texts, added to (and overriding) a sweep file's parameters."""
    found = {p.path: p for p in (base.params if base else ())}
    for text in params:
        p = parse_param(text)
        found[p.path] = p
    mode = "random" if sample is not None else (base.mode if base else "grid")
    samples = sample if sample is not None else (base.samples if base else None)
    if sample is not None and sample < 1:
        raise ScenarioError("--sample must be at least 1", file="<command line>", value=sample)
    return Sweep(tuple(found.values()), mode, samples,
                 seed if seed is not None else (base.seed if base else 0),
                 base.scenarios if base else (), base.file if base else "<command line>")


def sweep_from_dict(data: Any, file: str = "<sweep>") -> Sweep:
    if not isinstance(data, dict):
        raise ScenarioError("a sweep file is a mapping with a 'parameters' key", file=file)
    allowed = {"format", "scenarios", "mode", "samples", "seed", "parameters"}
    for key in data:
        if key not in allowed:
            raise ScenarioError(f"unknown key (allowed: {', '.join(sorted(allowed))})",
                                file=file, path=str(key))
    if data.get("format", SWEEP_FORMAT) != SWEEP_FORMAT:
        raise ScenarioError(f"expected '{SWEEP_FORMAT}'", file=file, path="format",
                            value=data["format"])
    mode = data.get("mode", "grid")
    if mode not in ("grid", "random"):
        raise ScenarioError("expected grid or random", file=file, path="mode", value=mode)
    samples, seed = data.get("samples"), data.get("seed", 0)
    for key, val in (("samples", samples), ("seed", seed)):
        if val is not None and (not isinstance(val, int) or isinstance(val, bool) or val < 0):
            raise ScenarioError("expected an integer >= 0", file=file, path=key, value=val)
    if mode == "random" and not samples:
        raise ScenarioError("mode: random needs samples: N (N >= 1)", file=file, path="samples")
    scenarios = data.get("scenarios", [])
    if isinstance(scenarios, str):
        scenarios = [scenarios]
    if not isinstance(scenarios, list) or not all(isinstance(s, str) for s in scenarios):
        raise ScenarioError("expected a list of paths or dataset names", file=file,
                            path="scenarios", value=scenarios)
    params = data.get("parameters") or {}
    if not isinstance(params, dict):
        raise ScenarioError("expected a mapping PATH: VALUES", file=file, path="parameters")
    return Sweep(tuple(_param_from_yaml(str(k), v, file) for k, v in params.items()), mode,
                 samples, seed, tuple(scenarios), file)


def load_sweep(path: str | Path) -> Sweep:
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the sweep file: {exc}", file=file) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError(f"YAML syntax error: {getattr(exc, 'problem', exc)}", file=file,
                            line=mark.line + 1 if mark else None) from None
    return sweep_from_dict(data, file)
