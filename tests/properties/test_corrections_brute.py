"""Corrections against brute force on random tiny infeasible scenarios (SPEC §5.6).

For each scenario: every correction found is verified (the corrected scenario
solves and passes the checker) and irreducible (checked here by solving), and
the first one's cost equals the least cost over every single change and every
pair of changes, priced from SPEC's table by this file's own arithmetic. The
enumeration is exhaustive up to cost 30, so the two must agree whenever the
brute-force minimum is at most 30 (a third change alone costs 10 more than
two, so no cheaper correction can hide among larger sets).
"""

from __future__ import annotations

import random
from itertools import combinations
from typing import Any

import pytest

from models import Scenario, ScenarioError, SolveOptions
from models.paths import set_path
from optimizer.api import solve
from optimizer.explain.corrections import find_corrections
from tests.conftest import scenario_from
from tests.optimizer.explain.test_corrections import assert_verified_and_irreducible

BOUND = 30     # the brute force is exhaustive for corrections up to this cost
UNITS = 20     # a single change never needs more units below BOUND


def _scenario(rng: random.Random) -> dict[str, Any]:
    n = rng.randint(2, 3)
    horizon = rng.randint(3, 7)
    concessions = []
    for i in range(n):
        c: dict[str, Any] = {"id": f"c{i}", "party": rng.choice(["A", "B"]),
                             "duration": rng.randint(1, 3), "value": rng.randint(1, 5),
                             "cost": rng.randint(1, 5), "verification": "public",
                             "reversibility": "irreversible"}
        if rng.random() < 0.4:
            c["earliest_start"] = rng.randint(0, 2)
        first_end = c["duration"] + c.get("earliest_start", 0)
        if rng.random() < 0.4 and first_end <= horizon:
            c["latest_end"] = rng.randint(first_end, horizon)
        concessions.append(c)
    rules: list[dict[str, Any]] = []
    for i, j in combinations(range(n), 2):
        r = rng.random()
        if r < 0.5:
            rules.append({"id": f"p{i}{j}", "kind": "precedence", "before": f"c{i}",
                          "after": f"c{j}", "min_lag": rng.randint(0, 2)})
        elif r < 0.7:
            rules.append({"id": f"r{i}{j}", "kind": "reciprocity", "a": f"c{i}", "b": f"c{j}",
                          "max_gap": rng.randint(0, 1)})
    if rng.random() < 0.5:
        rules.append({"id": "cap", "kind": "exposure", "parties": ["A"],
                      "max": rng.randint(0, 3)})
    return {"format": "roadmap/v1", "horizon": horizon, "parties": [{"id": "A"}, {"id": "B"}],
            "concessions": concessions, "rules": rules}


def _feasible(data: dict[str, Any], changes: list[tuple[str, Any]]) -> bool:
    d = Scenario.model_validate(data).model_dump(mode="json", by_alias=True)
    for path, value in changes:
        set_path(d, path, value)
    sc = Scenario.model_validate(d)
    return solve(sc, SolveOptions(workers=1, time_limit_s=10),
                 explain_infeasible=False).status in ("optimal", "feasible")


def _positions(data: dict[str, Any]) -> list[list[tuple[str, Any, int]]]:
    """Per position, its possible changes as (path, value, cost), cheapest first."""
    out: list[list[tuple[str, Any, int]]] = [
        [("horizon", data["horizon"] + u, 10 + u) for u in range(1, UNITS + 1)]]
    for c in data["concessions"]:
        cid = c["id"]
        if "latest_end" in c:
            out.append([(f"concessions[{cid}].latest_end", c["latest_end"] + u, 10 + u)
                        for u in range(1, UNITS + 1)])
        es = c.get("earliest_start", 0)
        if es > 0:
            out.append([(f"concessions[{cid}].earliest_start", es - u, 10 + u)
                        for u in range(1, es + 1)])
        out.append([(f"concessions[{cid}].optional", True, 10 + c["value"])])
    for r in data["rules"]:
        rid = r["id"]
        opts: list[tuple[str, Any, int]] = [(f"rules[{rid}].enabled", False, 30)]
        if r["kind"] == "precedence":
            opts += [(f"rules[{rid}].min_lag", r["min_lag"] - u, 10 + u)
                     for u in range(1, r["min_lag"] + 1)]
        elif r["kind"] == "reciprocity":
            opts += [(f"rules[{rid}].max_gap", r["max_gap"] + u, 10 + u)
                     for u in range(1, UNITS + 1)]
        else:
            opts += [(f"rules[{rid}].max", r["max"] + u, 10 + u) for u in range(1, UNITS + 1)]
        out.append(sorted(opts, key=lambda o: o[2]))
    return out


def _cheapest_single(data: dict[str, Any], pos: list[tuple[str, Any, int]],
                     fixed: list[tuple[str, Any]], budget: int) -> int | None:
    """The cheapest change of one position that (with ``fixed``) makes it feasible."""
    for path, value, cost in pos:
        if cost >= budget:
            return None
        if _feasible(data, [*fixed, (path, value)]):
            return cost
    return None


def brute_minimum(data: dict[str, Any]) -> int | None:
    positions = _positions(data)
    best: int | None = None
    for pos in positions:
        found = _cheapest_single(data, pos, [], BOUND + 1 if best is None else best)
        if found is not None:
            best = found
    limit = BOUND + 1 if best is None else best
    for p, q in combinations(positions, 2):
        for path, value, cost in p:
            if cost + 11 > limit:          # the second change costs at least 11
                break
            found = _cheapest_single(data, q, [(path, value)], limit - cost)
            if found is not None:
                limit = cost + found
                best = limit
    return best


def _cases() -> list[dict[str, Any]]:
    rng = random.Random(14)
    out: list[dict[str, Any]] = []
    while len(out) < 16:
        data = _scenario(rng)
        try:
            scenario_from(data)
        except ScenarioError:
            continue
        if not _feasible(data, []):
            out.append(data)
    return out


@pytest.mark.parametrize("data", _cases(), ids=lambda d: f"h{d['horizon']}")
def test_corrections_match_the_brute_force_minimum(data: dict[str, Any]) -> None:
    sc = scenario_from(data)
    rep = find_corrections(sc, 2, time_limit_s=20, workers=1)
    assert rep.corrections, "an infeasible tiny scenario always has some correction"
    for c in rep.corrections:
        assert_verified_and_irreducible(sc, c)
    assert rep.corrections[0].proven
    brute = brute_minimum(data)
    if brute is not None:
        assert rep.corrections[0].cost <= brute
        assert rep.corrections[0].cost == brute
    else:
        assert rep.corrections[0].cost > BOUND
