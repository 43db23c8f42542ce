"""What a robust cap costs: ``verification_delay: k`` on the seed's exposure caps, k = 0..6.

    python -m benchmarks.verification_delay [--scenario us_dprk_2018 ...] [--max-k 6]
        [--time-limit 10] [--out benchmarks/results/verification_delay.md]

The default scenarios are the seed as it is and the seed as it was before the
dataset rework of issue 13 (``tests/data/v1/us_dprk_2018.yaml``).

Every enabled exposure rule of the scenario gets ``verification_delay: k`` (in
memory; the dataset is not edited) and the scenario is solved with one worker
and seed 0. SPEC §5.3: the cap must then hold even if every verification
arrives k time units late; the reported metrics and ledger still use the
scheduled verification times, so the table shows what the guarantee costs in
the objective's own terms. Each result is verified by the independent checker.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
from pathlib import Path

from models import SolveOptions, load_scenario
from models.rules import Exposure
from models.scenario import Scenario
from optimizer import solve
from optimizer.check import check

RESULTS = Path(__file__).parent / "results" / "verification_delay.md"


def delayed(sc: Scenario, k: int) -> Scenario:
    rules = [r.model_copy(update={"verification_delay": k})
             if isinstance(r, Exposure) and r.enabled else r for r in sc.rules]
    return sc.model_copy(update={"rules": rules})


V1_SEED = Path(__file__).parent.parent / "tests" / "data" / "v1" / "us_dprk_2018.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", nargs="+", default=["us_dprk_2018", str(V1_SEED)])
    ap.add_argument("--max-k", type=int, default=6)
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    lines = [
        "# Cost of `verification_delay` on the seed",
        "",
        f"Measured {_dt.date.today().isoformat()} on {platform.machine()} "
        f"({platform.python_version()}), one worker, seed 0, time limit "
        f"{args.time_limit:g} s per solve, with `python -m benchmarks.verification_delay`.",
        "Makespan and peaks use the scheduled verification times (SPEC §5.3).",
    ]
    for name in args.scenario:
        lines += ["", *table(name, args.max_k, args.time_limit)]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


def table(name: str, max_k: int, time_limit: float) -> list[str]:
    base = load_scenario(name)
    caps = [r for r in base.rules if isinstance(r, Exposure) and r.enabled]
    cap_text = ", ".join(f"{r.id} ({', '.join(r.parties or base.principal_ids)} <= {r.max})"
                         for r in caps)
    terms = ", ".join(t.metric for t in base.objective.terms)
    rows = []
    for k in range(max_k + 1):
        sc = delayed(base, k)
        r = solve(sc, SolveOptions(time_limit_s=time_limit, workers=1, seed=0))
        problems = check(sc, r)
        if problems:
            raise SystemExit(f"k={k}: the checker rejects the result: {problems[:3]}")
        m = r.metrics
        peaks = {p: lg.peak for p, lg in r.ledger.items() if p in base.principal_ids}
        objective = " / ".join(f"{o.value}" for o in r.objective)
        if r.conflict is not None:
            c = r.conflict
            named = [rid for rid in c.rules if rid in {x.id for x in caps}]
            objective = (f"conflict of {len(c.rules)} rules and {len(c.demands)} demands, "
                         f"incl. {', '.join(named) or 'no cap'}")
        rows.append((k, r.status, m.makespan if m else None,
                     m.peak_exposure if m else None, objective,
                     ", ".join(f"{p} {v}" for p, v in peaks.items()),
                     f"{r.solver.wall_time_s:.2f}"))
        print(k, rows[-1][1:], flush=True)
    lines = [
        f"## `{os.path.relpath(name) if Path(name).is_file() else name}`: {base.name}",
        "",
        f"Principals: {', '.join(base.principal_ids)}. Caps delayed (in memory): {cap_text}. "
        f"Objective ({base.objective.mode}): {terms}.",
        "",
        f"| k ({base.time_unit}s) | status | makespan | peak exposure (principals) | "
        "objective values | principals' peaks | solve s |",
        "|---:|---|---:|---:|---|---|---:|",
    ]
    lines += [f"| {k} | {st} | {ms} | {pk} | {obj} | {pp} | {t} |"
              for k, st, ms, pk, obj, pp, t in rows]
    return lines


if __name__ == "__main__":
    main()
