"""PSPLIB instances solved as roadmaps match their known optima; the generator is feasible.

Correctness only (no timing): each solve uses one worker and seed 0 and is
verified by the independent checker.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.baseline import solve_baseline  # noqa: E402
from benchmarks.generate import scenario as synthetic  # noqa: E402
from benchmarks.peer_pyjobshop import solve_pyjobshop  # noqa: E402
from benchmarks.psplib import DATA, read_instance, reference, to_scenario  # noqa: E402
from models import SolveOptions, parse_scenario  # noqa: E402
from optimizer import solve  # noqa: E402
from optimizer.check import assert_valid  # noqa: E402

OPTS = SolveOptions(time_limit_s=60, workers=1, seed=0)

# Outside this project's workspace the shared data may be absent; CI sets
# ROADMAP_REQUIRE_PSPLIB so that a missing folder fails instead of skipping.
if os.environ.get("ROADMAP_REQUIRE_PSPLIB") and not DATA.exists():
    raise RuntimeError(f"PSPLIB data folder missing: {DATA} (set ROADMAP_PSPLIB)")
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="PSPLIB data folder missing")


def _solve(path: str):  # type: ignore[no-untyped-def]
    inst = read_instance(DATA / path)
    sc = to_scenario(inst)
    result = solve(sc, OPTS, explain_infeasible=False)
    assert_valid(sc, result)
    return inst, sc, result


def test_j30_instance_becomes_a_one_party_roadmap() -> None:
    inst = read_instance(DATA / "rcpsp/j30/j301_1.sm")
    sc = to_scenario(inst)
    assert [p.id for p in sc.parties] == ["P"]
    assert len(sc.concessions) == 32          # 30 jobs plus source and sink
    assert [(r.id, r.capacity) for r in sc.resources] == [
        ("R1", 12), ("R2", 13), ("R3", 4), ("R4", 12)]
    assert sc.concession("a1").duration == 8 and sc.concession("a1").uses == {"R1": 4}
    assert len(sc.rules) == len(inst.arcs) == 48
    first = sc.rules[0]
    assert (first.kind, first.before, first.after, first.from_, first.to) == (
        "precedence", "a0", "a1", "end", "start")
    assert sc.phases == [] and sc.horizon == sum(inst.durations) + 1


@pytest.mark.parametrize(("path", "optimum"), [
    ("rcpsp/j30/j301_1.sm", 43), ("rcpsp/j30/j301_2.sm", 47), ("rcpsp/j30/j3010_1.sm", 42),
])
def test_j30_optimum_matches_best_known(path: str, optimum: int) -> None:
    inst, _, result = _solve(path)
    ref = reference(inst)
    assert ref is not None and ref.proven and ref.upper == optimum
    assert result.status == "optimal"
    assert result.metrics is not None and result.metrics.makespan == optimum
    assert result.objective[0].value == optimum and result.objective[0].bound == optimum


def test_rcpsp_max_lags_become_min_and_max_lags() -> None:
    # Every arc is a start-to-start lag; opposite arcs fold into one rule.
    inst = read_instance(DATA / "rcpsp-max/j30/PSP9.SCH")
    sc = to_scenario(inst)
    rules = [r for r in sc.rules if r.kind == "precedence"]
    assert all((r.from_, r.to) == ("start", "start") for r in rules)
    assert sc.concession("a0").start == 0
    lags = {(a.before, a.after): a.lag for a in inst.arcs}
    folded = [r for r in rules if r.max_lag is not None]
    assert folded
    for r in folded:
        i, j = int(r.before[1:]), int(r.after[1:])
        assert r.min_lag == lags[(i, j)] and r.max_lag == -lags[(j, i)]
    assert len(rules) + len(folded) == len(inst.arcs)


@pytest.mark.parametrize(("path", "optimum"), [
    ("rcpsp-max/j30/PSP9.SCH", 117), ("rcpsp-max/j30/PSP11.SCH", 62),
])
def test_rcpsp_max_optimum_matches_reference(path: str, optimum: int) -> None:
    inst, _, result = _solve(path)
    ref = reference(inst)
    assert ref is not None and ref.upper == ref.lower == optimum
    assert result.status == "optimal"
    assert result.metrics is not None and result.metrics.makespan == optimum


def test_rcpsp_max_infeasible_instance_is_proven_infeasible() -> None:
    inst, _, result = _solve("rcpsp-max/j30/PSP1.SCH")
    ref = reference(inst)
    assert ref is not None and ref.infeasible
    assert result.status == "infeasible"


def test_peers_agree_on_the_optimum() -> None:
    inst = read_instance(DATA / "rcpsp/j30/j301_1.sm")
    for fn in (solve_baseline, solve_pyjobshop):
        rec = fn(inst, 60, 1, 0)
        assert (rec.status, rec.objective, rec.verdict_ok) == ("optimal", 43, True)


@pytest.mark.parametrize(("n", "parties", "seed"), [(6, 2, 0), (12, 3, 1), (24, 4, 2)])
def test_generator_witness_is_feasible(n: int, parties: int, seed: int) -> None:
    from benchmarks.generate import generate

    data = generate(n, parties, seed=seed)
    witness = data.pop("witness")
    kinds = {r["kind"] for r in data["rules"]}
    assert {"precedence", "reciprocity", "exposure", "phase_balance"} <= kinds
    # Pinning every start to the witness must leave a feasible roadmap.
    for c in data["concessions"]:
        c["start"] = witness[c["id"]][0]
    pinned = parse_scenario(data, "<generated>")
    result = solve(pinned, OPTS, explain_infeasible=False)
    assert_valid(pinned, result)
    assert result.status == "optimal"
    assert result.metrics is not None
    assert result.metrics.makespan == max(e for _, e in witness.values())


def test_generator_is_seeded_and_solves_at_least_as_well_as_the_witness() -> None:
    sc, witness = synthetic(30, 4, seed=3)
    again, _ = synthetic(30, 4, seed=3)
    assert sc == again
    result = solve(sc, OPTS, explain_infeasible=False)
    assert_valid(sc, result)
    assert result.status == "optimal"
    assert result.metrics is not None
    assert result.metrics.makespan <= max(e for _, e in witness.values())


def test_days_vs_months_pairs_runs_of_one_size_and_seed() -> None:
    from benchmarks.run import days_vs_months

    def row(n: int, factor: int, seed: int, obj: int, t: float) -> dict[str, object]:
        return {"n": n, "time_unit_factor": factor, "seed": seed, "status": "optimal",
                "objective": obj, "total_s": t}

    rows = [row(200, 1, 0, 81, 2.0), row(200, 30, 0, 2430, 3.0), row(200, 1, 1, 90, 1.0),
            row(200, 30, 1, 2701, 4.0), row(50, 1, 0, 33, 0.1)]
    pairs = days_vs_months(rows)
    assert [(p["seed"], p["same_optimum"], p["ratio"]) for p in pairs[:-1]] == [
        (0, True, 1.5), (1, False, 4.0)]
    assert pairs[-1]["ratio"] == 2.75 and pairs[-1]["same_optimum"] is False
