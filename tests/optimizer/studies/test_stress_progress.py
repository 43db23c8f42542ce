"""Stress tests honour progress records (SPEC §5.7 with §5.5): the past happened as
recorded, only the future is sampled."""

from __future__ import annotations

import random
from typing import Any

import pytest

from optimizer.studies.stress.compiled import compile_plan
from optimizer.studies.stress.realise import NEVER, realise
from optimizer.studies.stress.reference import measure_reference, realise_reference
from optimizer.studies.stress.run import measure
from optimizer.studies.stress.sampling import draw_block
from tests.conftest import scenario_from, solve_checked

# as_of 4. a (A, value 10 to B, risk 10): planned 2 long, recorded [0, 3], verified 4.
# c (B): done [1, 2], verification refused. d (B): done [1, 2], public (lag 0), reversed
# at 3. u (A): under way since 3 (2 long: planned end 5). b (B): not started, after a's
# end. Every delay is 5 and every verification 1 late (default), b's delay is 2 and
# every verification fails (default) unless the record says otherwise.
RECORDED: dict[str, Any] = {
    "name": "recorded", "horizon": 40,
    "parties": [{"id": "A"}, {"id": "B"}],
    "concessions": [
        {"id": "a", "party": "A", "duration": 2, "value": 10, "cost": 10,
         "reversibility": "irreversible", "verification": "public"},
        {"id": "c", "party": "B", "duration": 1, "value": 6, "cost": 6,
         "reversibility": "irreversible", "verification": "public"},
        {"id": "d", "party": "B", "duration": 1, "value": 4, "cost": 4,
         "reversibility": "irreversible", "verification": "public"},
        {"id": "u", "party": "A", "duration": 2, "value": 2, "cost": 2,
         "reversibility": "irreversible", "verification": "public"},
        {"id": "b", "party": "B", "duration": 1, "value": 3, "cost": 3,
         "reversibility": "irreversible", "verification": "public"},
    ],
    "rules": [
        {"id": "a_then_b", "kind": "precedence", "before": "a", "after": "b"},
        {"id": "d_then_u", "kind": "precedence", "before": "d", "after": "u"},
        {"id": "cap_b", "kind": "exposure", "parties": ["B"], "max": 12},
    ],
    "progress": {"as_of": 4, "steps": [
        {"id": "a", "start": 0, "end": 3, "verified": 4},
        {"id": "c", "start": 1, "end": 2, "verified": False},
        {"id": "d", "start": 1, "end": 2, "reversed": 3},
        {"id": "u", "start": 3},
    ]},
    "uncertainty": {
        "default": {"delay": [5, 5, 5], "verification_delay": [1, 1, 1],
                    "verification_failure": 1.0},
        "concessions": {"b": {"delay": [2, 2, 2]}},
    },
}


def test_recorded_steps_happen_as_recorded_and_only_the_future_is_sampled() -> None:
    sc = scenario_from(RECORDED)
    plan = solve_checked(sc)
    rows = {s.id: s for s in plan.schedule}
    assert (rows["b"].start, rows["u"].end) == (4, 5)
    comp = compile_plan(sc, plan)
    ix = {cid: i for i, cid in enumerate(comp.ids)}
    t = realise(comp, draw_block(comp, 0, 0, 3))

    def at(cid: str) -> tuple[int, int, int]:
        i = ix[cid]
        return int(t.start[i, 0]), int(t.end[i, 0]), int(t.verified[i, 0])

    # The record: no delay, no late verification, no failure for a, c, d.
    assert at("a") == (0, 3, 4)
    assert at("c") == (1, 2, NEVER)            # refused: no credit, ever
    assert at("d") == (1, 2, 2)                # public: verified at its end
    # u is under way: start fixed at 3, its remaining time is the future's: 5 + 5 late,
    # and its verification (lag 0) fails.
    assert at("u") == (3, 10, NEVER)
    # b: planned at 4 after a's recorded end; 1 + 2 long; its verification fails.
    assert at("b") == (4, 7, NEVER)
    assert t.stalled.tolist() == [False] * 3 and t.makespan.tolist() == [10] * 3

    rep = measure(comp, 50, 0)
    assert rep.makespan == {"p50": 10, "p80": 10, "p95": 10}
    assert rep.makespan_distribution == [[10, 50]]
    assert rep.makespan_frame().to_dict("records") == [{"makespan": 10, "samples": 50}]
    assert rep.stall_probability == 0.0
    # B: risk c 6 and d 4 from 1 (10), d's credit... B receives a's 10 at 4 and u's never;
    # b's risk 3 from 4: B's exposure 0..: t0 0, t1 10, t4 10 - 10 + 3 = 3 -> peak 10.
    # A: risk a 10 from 0, u 2 from 3; credit from d (4) on [2, 3) only, c's never,
    # b's never: t0 10, t2 6, t3 10 + 2 = 12 -> peak 12.
    peaks = {p["party"]: p["peak"] for p in rep.parties}
    assert peaks["A"] == {"p50": 12, "p80": 12, "p95": 12}
    assert peaks["B"] == {"p50": 10, "p80": 10, "p95": 10}
    assert {c["rule"]: c["breach_probability"] for c in rep.caps} == {"cap_b": 0.0}
    bands = rep.exposure_bands["A"]
    assert bands is not None
    assert [row[2] for row in bands[:5]] == [10, 10, 6, 12, 12]
    frame = rep.bands_frame()
    assert frame[frame["party"] == "A"]["p50"].tolist()[:5] == [10, 10, 6, 12, 12]
    ends = {c["id"]: c["end"]["p50"] for c in rep.concessions}
    assert ends == {"a": 3, "c": 2, "d": 2, "u": 10, "b": 7}
    # Delay drivers: only the future's (u, b) are random, and they are constant here.
    assert rep.tornado == []
    assert rep.to_dict() == measure_reference(comp, 50, 0).to_dict()


def test_without_the_record_the_same_plan_would_be_sampled_in_full() -> None:
    """The control: the same roadmap with no progress section gets every delay."""
    data = {k: v for k, v in RECORDED.items() if k != "progress"}
    sc = scenario_from(data)
    comp = compile_plan(sc, solve_checked(sc))
    assert not comp.fixed_start.any() and (comp.reversed_at < 0).all()
    t = realise(comp, draw_block(comp, 0, 0, 2))
    i = comp.ids.index("a")
    assert int(t.end[i, 0]) - int(t.start[i, 0]) == 7          # 2 planned + 5 delay
    assert int(t.verified[i, 0]) == NEVER                      # failure 1.0 applies


def _random_recorded(rng: random.Random) -> dict[str, Any]:
    n = rng.randint(3, 6)
    cons, steps = [], []
    for i in range(n):
        cons.append({"id": f"c{i}", "party": rng.choice(["A", "B"]),
                     "duration": rng.randint(0, 3), "value": rng.randint(0, 8),
                     "reversibility": rng.choice(["reversible", "costly", "irreversible"]),
                     "verification": rng.choice(["none", "public", "ntm", "inspection"])})
    as_of = rng.randint(2, 6)
    for i in rng.sample(range(n), rng.randint(1, n - 1)):
        start = rng.randint(0, as_of - 1)
        step: dict[str, Any] = {"id": f"c{i}", "start": start}
        if rng.random() < 0.7:
            end = rng.randint(start, as_of)
            step["end"] = end
            if cons[i]["verification"] != "none" and rng.random() < 0.4:
                step["verified"] = rng.choice([False, rng.randint(end, as_of)])
            if end > start and rng.random() < 0.3:
                step["reversed"] = rng.randint(start + 1, as_of)
        steps.append(step)
    rules = []
    for k in range(rng.randint(1, 4)):
        i, j = sorted(rng.sample(range(n), 2))
        rules.append({"id": f"r{k}", "kind": "precedence", "before": f"c{i}", "after": f"c{j}",
                      "from": rng.choice(["start", "end"]), "min_lag": rng.randint(0, 1)})
    rules.append({"id": "cap", "kind": "exposure", "max": 30})
    return {"name": "random recorded", "horizon": 60, "parties": [{"id": "A"}, {"id": "B"}],
            "concessions": cons, "rules": rules, "progress": {"as_of": as_of, "steps": steps},
            "uncertainty": {"default": {
                "delay": sorted(rng.randint(0, 4) for _ in range(3)),
                "verification_delay": sorted(rng.randint(0, 3) for _ in range(3)),
                "verification_failure": rng.choice([0.0, 0.3])}}}


@pytest.mark.parametrize("seed", range(5))
def test_vectorised_equals_reference_with_records_and_the_past_is_fixed(seed: int) -> None:
    from optimizer import solve
    from optimizer.check import check

    sc = scenario_from(_random_recorded(random.Random(seed)))
    plan = solve(sc)
    assert plan.solved and check(sc, plan) == []
    comp = compile_plan(sc, plan)
    draws = draw_block(comp, seed, 0, 80)
    t = realise(comp, draws)
    for k, row in enumerate(realise_reference(comp, draws)):
        assert t.start[:, k].tolist() == row["start"]
        assert t.end[:, k].tolist() == row["end"]
        assert t.verified[:, k].tolist() == row["verified"]
        assert int(t.makespan[k]) == row["makespan"]
    rec = {s.id: s for s in sc.progress.steps}  # type: ignore[union-attr]
    for cid, step in rec.items():
        if cid not in comp.ids:
            continue
        i = comp.ids.index(cid)
        assert (t.start[i] == step.start).all()
        if step.end is not None:
            assert (t.end[i] == step.end).all()
        if step.verified is False:
            assert (t.verified[i] >= NEVER).all()
        elif isinstance(step.verified, int):
            assert (t.verified[i] == step.verified).all()
    assert measure(comp, 100, seed).to_dict() == measure_reference(comp, 100, seed).to_dict()
