"""Hypothesis strategies for random *valid* roadmap/v1 scenarios (as plain dicts).

The dicts follow SPEC §1 and pass every per-field and cross-reference check by
construction. The one check they do not avoid is the positive precedence
cycle among required concessions (SPEC §1): avoiding it would need the same
longest-path search the validator runs, so callers treat a ``ScenarioError``
about a cycle as a valid rejection and anything else as a generator bug.

Sizes are kept small on purpose: every example is solved (and, when
infeasible, explained and re-solved once per conflict element) with one
CP-SAT worker inside the test suite.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

METHODS = ("none", "declaration", "public", "ntm", "monitoring", "inspection")
REVERSIBILITY = ("reversible", "costly", "irreversible")
METRICS = ("makespan", "weighted_completion", "peak_exposure", "excluded_value",
           "phase_imbalance")
RULE_KINDS = ("precedence", "reciprocity", "together", "exclusive", "requires", "exposure",
              "phase_balance")

Draw = Any  # hypothesis' draw callable


def _subset(draw: Draw, items: list[str], min_size: int = 1,
            max_size: int | None = None) -> list[str]:
    return draw(st.lists(st.sampled_from(items), min_size=min_size,
                         max_size=max_size or len(items), unique=True))


def _party_map(draw: Draw, others: list[str], hi: int) -> dict[str, int]:
    chosen = _subset(draw, others, 0)
    return {p: draw(st.integers(0, hi)) for p in chosen}


@st.composite
def concession(draw: Draw, cid: str, parties: list[str], phase_ids: list[str] | None,
               resources: dict[str, int], horizon: int, *, max_duration: int = 4,
               allow_variable: bool = True) -> dict[str, Any]:
    party = draw(st.sampled_from(parties))
    others = [p for p in parties if p != party]
    dmin = draw(st.integers(0, min(max_duration, horizon)))
    c: dict[str, Any] = {"id": cid, "party": party}
    dmax = dmin
    if allow_variable and draw(st.booleans()):
        dmax = draw(st.integers(dmin, max(dmin, min(max_duration + 1, horizon))))
        c["duration"] = {"min": dmin, "max": dmax}
    else:
        c["duration"] = dmin
    c["value"] = (_party_map(draw, others, 10) if draw(st.booleans())
                  else draw(st.integers(0, 10)))
    if draw(st.booleans()):
        c["cost"] = draw(st.integers(0, 10))
    c["reversibility"] = draw(st.sampled_from(REVERSIBILITY))
    method = draw(st.sampled_from(METHODS))
    c["verification"] = method
    if method != "none":
        if draw(st.integers(0, 3)) == 0:
            c["verification_lag"] = draw(st.integers(0, 3))
        if draw(st.integers(0, 3)) == 0:
            c["credit"] = (_party_map(draw, others, 8) if draw(st.booleans())
                           else draw(st.integers(0, 8)))
    if draw(st.integers(0, 3)) == 0:
        c["risk"] = draw(st.integers(0, 8))
    c["priority"] = draw(st.integers(0, 4))
    c["optional"] = draw(st.integers(0, 3)) == 0

    earliest = draw(st.integers(0, min(horizon - dmin, horizon - 1)))
    if earliest:
        c["earliest_start"] = earliest
    latest = horizon
    if draw(st.integers(0, 2)) == 0:
        latest = draw(st.integers(earliest + dmin, horizon))
        c["latest_end"] = latest
    if draw(st.integers(0, 5)) == 0:
        c["start"] = draw(st.integers(earliest, min(latest - dmin, horizon - 1)))
    if draw(st.integers(0, 3)) == 0:
        c["phases"] = _subset(draw, phase_ids or ["P1"])
    if resources and draw(st.integers(0, 2)) == 0:
        for rid in _subset(draw, sorted(resources)):
            c["uses"] = {**c.get("uses", {}), rid: draw(st.integers(0, resources[rid]))}
    return c


@st.composite
def rule(draw: Draw, rid: str, concessions: list[dict[str, Any]],
         parties: list[str]) -> dict[str, Any]:
    ids = [c["id"] for c in concessions]
    kind = draw(st.sampled_from(RULE_KINDS))
    r: dict[str, Any] = {"id": rid, "kind": kind}
    if kind == "precedence":
        before = draw(st.sampled_from(concessions))
        r["before"] = before["id"]
        r["after"] = draw(st.sampled_from(ids))
        points = ["start", "end"] + (["verified"] if before.get("verification") != "none" else [])
        if draw(st.booleans()):
            r["from"] = draw(st.sampled_from(points))
        if draw(st.booleans()):
            r["to"] = draw(st.sampled_from(["start", "end"]))
        lo = draw(st.integers(-4, 4))
        if lo or draw(st.booleans()):
            r["min_lag"] = lo
        if draw(st.integers(0, 2)) == 0:
            r["max_lag"] = draw(st.integers(lo, lo + 8))
    elif kind == "reciprocity":
        r["a"], r["b"] = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
        r["max_gap"] = draw(st.integers(0, 5))
    elif kind in ("together", "exclusive"):
        r["concessions"] = _subset(draw, ids, 1, 4)
    elif kind == "requires":
        r["if"], r["then"] = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
    elif kind == "exposure":
        if draw(st.booleans()):
            r["parties"] = _subset(draw, parties)
        r["max"] = draw(st.integers(0, 25))
        if draw(st.integers(0, 2)) == 0:
            r["verification_delay"] = draw(st.integers(0, 3))   # SPEC §5.3
    else:
        if draw(st.booleans()):
            r["parties"] = _subset(draw, parties)
        r["tolerance"] = draw(st.integers(0, 30))
    if draw(st.integers(0, 7)) == 0:
        r["enabled"] = False
    if draw(st.integers(0, 5)) == 0:
        r["text"] = draw(st.text(max_size=20))
    return r


@st.composite
def objective(draw: Draw, parties: list[str]) -> dict[str, Any]:
    mode = draw(st.sampled_from(["lexicographic", "weighted"]))
    terms = []
    for metric in draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=3)):
        term: dict[str, Any] = {"metric": metric}
        if mode == "weighted" or draw(st.booleans()):
            term["weight"] = draw(st.integers(0, 3))
        if metric == "peak_exposure" and draw(st.booleans()):
            term["parties"] = _subset(draw, parties)
        terms.append(term)
    return {"mode": mode, "terms": terms}


@st.composite
def scenarios(draw: Draw, *, min_concessions: int = 1, max_concessions: int = 40,
              max_rules: int = 12, max_horizon: int = 30, max_phases: int = 3,
              max_duration: int = 4, allow_variable: bool = True,
              resources_allowed: bool = True) -> dict[str, Any]:
    """A valid scenario dict (up to a positive cycle, see the module docstring).

    The concession count is drawn small-first so most examples stay tiny and
    a few reach ``max_concessions``.
    """
    n_parties = draw(st.integers(2, 4))
    parties = [f"P{i}" for i in range(n_parties)]
    size = draw(st.one_of(
        st.integers(min_concessions, min(max_concessions, max(min_concessions, 5))),
        st.integers(min_concessions, max_concessions),
    ))
    # Mostly roomy horizons (so most examples are feasible), sometimes cramped ones.
    roomy = min(max_horizon, 2 + size)
    horizon = draw(st.one_of(st.integers(roomy, max_horizon), st.integers(1, max_horizon)))
    data: dict[str, Any] = {
        "format": "roadmap/v1",
        "name": draw(st.sampled_from(["fuzz", "Fuzz roadmap", "ñ 路线图"])),
        "horizon": horizon,
        "parties": [{"id": p, "name": f"Party {p}"} for p in parties],
    }
    if draw(st.booleans()):
        data["time_unit"] = draw(st.sampled_from(["month", "week", "day"]))
    if draw(st.integers(0, 2)) == 0:          # SPEC §5.1
        data["principals"] = _subset(draw, parties)
    if draw(st.integers(0, 3)) == 0:          # SPEC §5.2
        data["credit_keep"] = {rev: draw(st.integers(0, 100)) for rev in
                               _subset(draw, ["reversible", "costly", "irreversible"], 0, 3)}

    phase_ids: list[str] | None = None
    n_phases = draw(st.integers(0, max_phases))
    if n_phases:
        phase_ids = [f"F{k}" for k in range(n_phases)]
        phases = []
        for pid in phase_ids:
            ph: dict[str, Any] = {"id": pid}
            lo = 1
            if draw(st.booleans()):
                lo = draw(st.integers(0, min(3, horizon // n_phases)))
                ph["min_length"] = lo
            if draw(st.integers(0, 2)) == 0:
                ph["max_length"] = draw(st.integers(lo, max(lo, horizon)))
            phases.append(ph)
        data["phases"] = phases

    resources: dict[str, int] = {}
    if resources_allowed:
        for k in range(draw(st.integers(0, 2))):
            resources[f"R{k}"] = draw(st.integers(0, 4))
    if resources:
        data["resources"] = [{"id": rid, "capacity": cap} for rid, cap in resources.items()]

    if draw(st.integers(0, 3)) == 0:
        overrides: dict[str, Any] = {}
        for method in _subset(draw, [m for m in METHODS if m != "none"], 1, 2):
            over: dict[str, int] = {}
            if draw(st.booleans()):
                over["credit_pct"] = draw(st.integers(0, 100))
            if draw(st.booleans()):
                over["lag"] = draw(st.integers(0, 3))
            overrides[method] = over
        data["verification_methods"] = overrides

    concessions = [
        draw(concession(f"c{i}", parties, phase_ids, resources, horizon,
                        max_duration=max_duration, allow_variable=allow_variable))
        for i in range(size)
    ]
    data["concessions"] = concessions
    n_rules = draw(st.integers(0, max_rules))
    if n_rules:
        data["rules"] = [draw(rule(f"r{j}", concessions, parties)) for j in range(n_rules)]
    if draw(st.integers(0, 4)):
        data["objective"] = draw(objective(parties))
    return data


def tiny_scenarios() -> st.SearchStrategy[dict[str, Any]]:
    """Scenarios small enough to enumerate every schedule by brute force."""
    return scenarios(min_concessions=2, max_concessions=4, max_rules=4, max_horizon=7,
                     max_phases=2, max_duration=2)


# --------------------------------------------------------------------------
# Dropping conflict elements on a scenario dict (independent of optimizer.explain.conflict)
Element = tuple[str, ...]   # ("rule", id) | ("concession", id, field) | ("phase", id, field)
#                             | ("resource", id, "capacity") | ("horizon",)


def conflict_elements(conflict: Any) -> list[Element]:
    """The elements a ``models.Conflict`` names, as keys of ``drop``."""
    out: list[Element] = [("rule", rid) for rid in conflict.rules]
    for d in conflict.demands:
        if d.field == "horizon":
            out.append(("horizon",))
        elif d.concession is not None:
            out.append(("concession", d.concession, d.field))
        elif d.phase is not None:
            out.append(("phase", d.phase, d.field))
        else:
            out.append(("resource", d.resource, d.field))
    return out


def all_elements(data: dict[str, Any]) -> list[Element]:
    """Every demand and enabled rule of a scenario dict that a conflict may name."""
    out: list[Element] = [("rule", r["id"]) for r in data.get("rules", [])
                          if r.get("enabled", True)]
    for c in data["concessions"]:
        if not c.get("optional", False):
            out.append(("concession", c["id"], "required"))
        for fld in ("start", "latest_end", "phases"):
            if c.get(fld) is not None:
                out.append(("concession", c["id"], fld))
        if c.get("earliest_start", 0):
            out.append(("concession", c["id"], "earliest_start"))
    for ph in data.get("phases") or [{"id": "P1"}]:
        if ph.get("min_length", 1) > 0:
            out.append(("phase", ph["id"], "min_length"))
        if ph.get("max_length") is not None:
            out.append(("phase", ph["id"], "max_length"))
    for res in data.get("resources", []):
        out.append(("resource", res["id"], "capacity"))
    out.append(("horizon",))
    return out


def _roomy_horizon(data: dict[str, Any]) -> int:
    """A horizon no relaxed schedule needs to reach past (lags, durations, phases)."""
    def dmax(c: dict[str, Any]) -> int:
        d = c["duration"]
        return int(d if isinstance(d, int) else d["max"])

    lags = sum(abs(r.get("min_lag", 0)) + abs(r.get("max_lag") or 0)
               for r in data.get("rules", []) if r["kind"] == "precedence")
    phases = sum(ph.get("min_length", 1) for ph in data.get("phases", []))
    return int(data["horizon"] + sum(dmax(c) for c in data["concessions"]) + lags + phases
               + 3 * len(data["concessions"]) + 16)


def drop(data: dict[str, Any], elements: list[Element]) -> dict[str, Any]:
    """A copy of ``data`` with each element given up (SPEC §3 conflict vocabulary).

    A rule is disabled; a pin, window or allowed-phase list is removed; a
    required concession becomes optional; a phase length bound is lifted; a
    resource gets room for every use at once; the horizon is moved far out.
    """
    out = copy.deepcopy(data)
    conc = {c["id"]: c for c in out["concessions"]}
    rules = {r["id"]: r for r in out.get("rules", [])}
    if not out.get("phases"):
        wanted = any(e[0] == "phase" for e in elements)
        if wanted:
            out["phases"] = [{"id": "P1"}]
    phases = {ph["id"]: ph for ph in out.get("phases", [])}
    resources = {r["id"]: r for r in out.get("resources", [])}
    for e in elements:
        if e[0] == "rule":
            rules[e[1]]["enabled"] = False
        elif e[0] == "concession":
            c = conc[e[1]]
            if e[2] == "required":
                c["optional"] = True
            elif e[2] == "earliest_start":
                c.pop("earliest_start", None)
            else:
                c.pop(e[2], None)
        elif e[0] == "phase":
            if e[2] == "min_length":
                phases[e[1]]["min_length"] = 0
            else:
                phases[e[1]].pop("max_length", None)
        elif e[0] == "resource":
            total = sum(c.get("uses", {}).get(e[1], 0) for c in out["concessions"])
            resources[e[1]]["capacity"] = max(resources[e[1]]["capacity"], total)
        elif e[0] == "horizon":
            out["horizon"] = _roomy_horizon(data)
        else:
            raise ValueError(f"unknown element {e}")
    return out


def keep_only(data: dict[str, Any], kept: list[Element]) -> dict[str, Any]:
    """``data`` with every element outside ``kept`` dropped."""
    return drop(data, [e for e in all_elements(data) if e not in kept])


# --------------------------------------------------------------------------
# Mutated scenario files (bytes plus a suffix), for the reject-or-accept fuzzing
JUNK_VALUES: list[Any] = [
    "text", "", "a b", "ünïcødé ☃ 路线图", "\u202eevil", "\x00", 1.5, -1, 0, -(10**9), 10**30,
    -(10**30), 2**63, None, True, False, [], {}, [1, 2], {"x": 1}, [[[[]]]], "2018-13",
    "1e400", float("inf"), float("nan"),
]
REF_FIELDS = ("party", "before", "after", "a", "b", "if", "then", "concessions", "phases",
              "parties", "uses", "id")


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


@st.composite
def mutated_data(draw: Draw) -> dict[str, Any]:
    """A valid scenario dict with one to three structural mutations applied."""
    data = draw(scenarios(max_concessions=6, max_rules=6))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent, last = _get(data, path[:-1]), path[-1]
        op = draw(st.sampled_from(["junk", "delete", "unknown_key", "unknown_ref", "negate",
                                   "huge", "unicode", "duplicate", "cycle", "nest"]))
        if op == "junk":
            parent[last] = draw(st.sampled_from(JUNK_VALUES))
        elif op == "delete":
            del parent[last]
        elif op == "unknown_key" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["durration", "extra", "Format", "kind2", "ид"]))] = 1
        elif op == "unknown_ref":
            parent[last] = draw(st.sampled_from(["nope", "P9", "c99", "F9", "R9", "../x"]))
        elif op == "negate" and isinstance(parent[last], int) and not isinstance(
                parent[last], bool):
            parent[last] = -parent[last] - 1
        elif op == "huge":
            parent[last] = draw(st.sampled_from([10**7 + 1, 10**12, 2**62, 10**100]))
        elif op == "unicode":
            parent[last] = draw(st.text(max_size=30))
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif op == "cycle":
            ids = [c["id"] for c in data.get("concessions", []) if isinstance(c, dict)
                   and isinstance(c.get("id"), str)]
            if len(ids) >= 1 and isinstance(data.get("rules", []), list):
                a, b = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
                data.setdefault("rules", []).extend([
                    {"id": "cyc1", "kind": "precedence", "before": a, "after": b, "min_lag": 1},
                    {"id": "cyc2", "kind": "precedence", "before": b, "after": a, "min_lag": 1}])
        elif op == "nest":
            value: Any = parent[last]
            for _ in range(draw(st.integers(1, 200))):
                value = [value]
            parent[last] = value
    return data


def _serialize(draw: Draw, data: Any) -> tuple[str, bytes]:
    import json

    import tomli_w
    import yaml

    kind = draw(st.sampled_from(["yaml", "yaml", "json", "toml"]))
    if kind == "toml":
        try:
            return ".toml", tomli_w.dumps(data).encode()
        except (TypeError, ValueError):
            kind = "json"   # TOML has no null; fall back
    if kind == "json":
        return ".json", json.dumps(data, ensure_ascii=draw(st.booleans())).encode(
            "utf-8", "surrogatepass")
    text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)
    return ".yaml", text.encode("utf-8", "surrogatepass")


def alias_bomb(levels: int, width: int) -> str:
    lines = ["format: roadmap/v1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for k in range(1, levels):
        refs = ", ".join([f"*a{k - 1}"] * width)
        lines.append(f"a{k}: &a{k} [{refs}]")
    return "\n".join(lines) + "\n"


@st.composite
def mutated_files(draw: Draw) -> tuple[str, bytes]:
    """(suffix, content) of a file that may or may not be a valid scenario."""
    import yaml

    kind = draw(st.sampled_from([
        "structural", "structural", "structural", "text_edit", "truncate", "empty", "binary",
        "deep_yaml", "deep_json", "deep_toml", "bomb", "python_tag", "anchors", "huge_int",
        "bad_utf8", "tags", "multi_doc",
    ]))
    if kind == "structural":
        return _serialize(draw, draw(mutated_data()))
    valid = draw(scenarios(max_concessions=4, max_rules=4))
    text = yaml.safe_dump(valid, allow_unicode=True, sort_keys=False)
    if kind == "text_edit":
        for _ in range(draw(st.integers(1, 5))):
            pos = draw(st.integers(0, len(text)))
            cut = draw(st.integers(0, 5))
            text = text[:pos] + draw(st.text(max_size=5)) + text[pos + cut:]
        return draw(st.sampled_from([".yaml", ".yml"])), text.encode("utf-8", "surrogatepass")
    if kind == "truncate":
        return ".yaml", text[: draw(st.integers(0, len(text)))].encode()
    if kind == "empty":
        return draw(st.sampled_from([".yaml", ".json", ".toml"])), draw(
            st.sampled_from([b"", b"\n", b"   \n", b"---\n", b"~\n", b"{}", b"[]", b"null"]))
    if kind == "binary":
        return draw(st.sampled_from([".yaml", ".json", ".toml"])), draw(st.binary(max_size=300))
    if kind == "deep_yaml":
        n = draw(st.integers(50, 50_000))
        style = draw(st.sampled_from(["flow", "block"]))
        if style == "flow":
            return ".yaml", ("format: roadmap/v1\nname: " + "[" * n + "]" * n + "\n").encode()
        body = "".join("  " * i + f"k{i}:\n" for i in range(min(n, 3000)))
        return ".yaml", ("format: roadmap/v1\nx:\n" + body).encode()
    if kind == "deep_json":
        n = draw(st.integers(50, 50_000))
        return ".json", ('{"format": "roadmap/v1", "name": ' + "[" * n + "]" * n + "}").encode()
    if kind == "deep_toml":
        n = draw(st.integers(50, 50_000))
        return ".toml", ('format = "roadmap/v1"\nname = ' + "[" * n + "]" * n + "\n").encode()
    if kind == "bomb":
        return ".yaml", alias_bomb(draw(st.integers(2, 12)), draw(st.integers(2, 10))).encode()
    if kind == "python_tag":
        tag = draw(st.sampled_from([
            "!!python/object:os.system {}", "!!python/object/apply:os.system ['true']",
            "!!python/name:os.system", "!!python/tuple [1, 2]", "!!python/module:os"]))
        return ".yaml", (text + f"description: {tag}\n").encode()
    if kind == "anchors":
        # Legitimate anchors and aliases (a shared party list) stay valid.
        return ".yaml", text.replace("parties:", "parties: &ps", 1).encode()
    if kind == "huge_int":
        digits = draw(st.integers(20, 6000))
        return draw(st.sampled_from([".yaml", ".json"])), text.replace(
            "horizon: ", "horizon: " + "9" * digits + "#", 1).encode()
    if kind == "bad_utf8":
        raw = text.encode()
        pos = draw(st.integers(0, len(raw)))
        return ".yaml", raw[:pos] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"])) \
            + raw[pos:]
    if kind == "tags":
        tag = draw(st.sampled_from(["!!int abc", "!!float x", "!!timestamp 2020-13-45",
                                    "!!binary '@@'", "!!set {a, b}", "!!omap [a]", "!custom 1",
                                    "!!str", "!!null x", "!!bool maybe", "!!merge 1"]))
        return ".yaml", text.replace("horizon: ", f"horizon: {tag} #", 1).encode()
    return ".yaml", (text + "---\n" + text).encode()
