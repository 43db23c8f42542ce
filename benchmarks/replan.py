"""Re-planning the seed at month 24 with --plan from its own solve (issue 16: <= 1 s on 2 workers).

Run: ``python -m benchmarks.replan [--repeats N] [--out benchmarks/results/replan.md]``.
The plan is solved once; each repeat re-plans from it (``--as-of 24``: every
step the plan started before 24 taken as gone as planned) and records the
solve's wall time as the result reports it (model building and every stage
included), plus the time of the whole call (with the ``broken`` analysis).
Every re-plan is verified by the checker.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from models import SolveOptions, load_scenario
from optimizer import solve
from optimizer.check import check
from optimizer.studies.replan import replan


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--as-of", type=int, default=24)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    sc = load_scenario("us_dprk_2018")
    opts = SolveOptions(workers=2, time_limit_s=30, seed=0)
    plan = solve(sc, opts)
    assert plan.status == "optimal", plan.status
    walls, calls = [], []
    result = None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        effective, result = replan(sc, plan, opts, as_of=args.as_of)
        calls.append(time.perf_counter() - t0)
        walls.append(result.solver.wall_time_s)
        errors = check(effective, result)
        assert not errors, errors
    assert result is not None
    lines = [
        "# Re-planning the seed at month 24 (`benchmarks/replan.py`)",
        "",
        f"Plan: `roadmap solve us_dprk_2018` (2 workers): {plan.status}, "
        f"objective {[(e.metric, e.value) for e in plan.objective]}, "
        f"{plan.solver.wall_time_s:.2f} s.",
        f"Re-plan: `roadmap replan us_dprk_2018 --plan PLAN --as-of {args.as_of}` "
        f"(2 workers, seed 0), {args.repeats} repeats, every result checked.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| status | {result.status} |",
        f"| objective | {[(e.metric, e.value) for e in result.objective]} |",
        f"| recorded steps | {len(effective.progress.steps) if effective.progress else 0} |",
        f"| solve wall time (result), median | {statistics.median(walls):.3f} s |",
        f"| solve wall time (result), max | {max(walls):.3f} s |",
        f"| whole call (with broken analysis), median | {statistics.median(calls):.3f} s |",
        f"| whole call, max | {max(calls):.3f} s |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
