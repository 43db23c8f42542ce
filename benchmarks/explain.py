"""Corrections (SPEC §5.6) against today's conflict + suggestion path, in the same run.

Cases: the v1.1 seed (``us_dprk_2018``: US cap 8, DPRK cap 49) with the DPRK
cap at 3; with each cap one below the seed's (US 7, DPRK 48: v1.1's version of
v1's "both caps 7", where both caps were 8 — US 7 alone is still feasible);
with a 36-month horizon; ``hanoi_2019_us``; and generated infeasible
roadmaps of 50-200 concessions (``benchmarks.generate``, feasible by
construction, then each party's exposure cap cut to a third, or the
horizon to 40% of the witness's makespan; cases not proven infeasible
in 3 s are skipped).

For each case:
* corrections: seconds to the first correction (the search that proves it
  cheapest; ``first_proven``), its cost, then seconds to all K = 3 (each also
  made irreducible and verified by a solve and the checker);
* today: ``optimizer.explain.conflict.find_conflict`` (deletion filter, then
  per-element suggestions), its seconds, conflict size, and how many of its
  suggestions alone make the scenario feasible.

    python -m benchmarks.explain [--generated 20] [--limit 30] [--workers 2] [--no-seed]
                                 [--name explain]

Writes benchmarks/results/<name>.csv and <name>.md (``--name``, so that the
seed cases and the generated ones can run separately, each under 90 s).
"""

from __future__ import annotations

import argparse
import csv
import platform
import time
from pathlib import Path
from typing import Any

from benchmarks.generate import generate
from models import Scenario, SolveOptions, load_scenario, parse_scenario
from models.paths import set_path
from optimizer.api import solve
from optimizer.explain.conflict import find_conflict
from optimizer.explain.corrections import find_corrections

RESULTS = Path(__file__).resolve().parent / "results"
FIELDS = ["case", "concessions", "first_s", "first_cost", "first_proven", "k3_s", "found",
          "today_s", "today_conflict", "today_minimal", "today_fixes", "today_has_fix"]


def _edited(name: str, changes: dict[str, Any]) -> Scenario:
    sc = load_scenario(name)
    data = sc.model_dump(mode="json", by_alias=True)
    for path, value in changes.items():
        set_path(data, path, value)
    return parse_scenario(data, f"{name}+{changes}")


def seed_cases() -> list[tuple[str, Scenario]]:
    return [
        ("seed, DPRK cap 3", _edited("us_dprk_2018", {"rules[dprk_exposure_cap].max": 3})),
        ("seed, US cap 7 + DPRK cap 48", _edited("us_dprk_2018", {
            "rules[dprk_exposure_cap].max": 48, "rules[us_exposure_cap].max": 7})),
        ("seed, horizon 36", _edited("us_dprk_2018", {"horizon": 36})),
        ("hanoi_2019_us", load_scenario("hanoi_2019_us")),
    ]


def _cut(data: dict[str, Any], witness: dict[str, tuple[int, int]], how: str) -> None:
    if how == "caps 1/3":
        for r in data["rules"]:
            if r["kind"] == "exposure":
                r["max"] = r["max"] // 3
        return
    makespan = max(end for _, end in witness.values())
    data["horizon"] = max(1, (4 * makespan) // 10)
    for c in data["concessions"]:
        if c.get("latest_end") is not None:
            c["latest_end"] = min(c["latest_end"], data["horizon"])
        shortest = c["duration"] if isinstance(c["duration"], int) else c["duration"]["min"]
        if c.get("earliest_start", 0) + shortest > data["horizon"]:
            c["earliest_start"] = 0


def generated_cases(count: int, check_s: float = 3.0) -> list[tuple[str, Scenario]]:
    """Generated roadmaps (50-200 concessions) made infeasible by a cut: the horizon to
    40% of the witness's makespan, else each exposure cap to a third. A cut is kept
    only when a solve proves it infeasible within ``check_s``."""
    out: list[tuple[str, Scenario]] = []
    seed = 0
    while len(out) < count and seed < 4 * count + 4:
        n = 50 + (seed * 37) % 151          # 50..200
        for how in ("horizon 40%", "caps 1/3"):
            data = generate(n, parties=3, seed=seed)
            witness = data.pop("witness")
            _cut(data, witness, how)
            try:
                sc = parse_scenario(data, f"generated-{seed}")
            except Exception:       # a cut that breaks validation is skipped
                continue
            st = solve(sc, SolveOptions(workers=2, time_limit_s=check_s),
                       explain_infeasible=False).status
            if st == "infeasible":
                out.append((f"generated n={n} seed={seed} ({how})", sc))
                break
        seed += 1
    return out


def run_case(name: str, sc: Scenario, limit: float, workers: int) -> dict[str, Any]:
    t0 = time.monotonic()
    rep = find_corrections(sc, 3, time_limit_s=limit, workers=workers)
    k3 = time.monotonic() - t0
    first = rep.corrections[0] if rep.corrections else None
    t1 = time.monotonic()
    conflict = find_conflict(sc, deadline=time.monotonic() + limit)
    today = time.monotonic() - t1
    fixes = [s for s in conflict.suggestions if s.resolves == "scenario"]
    return {
        "case": name, "concessions": len(sc.concessions),
        "first_s": round(rep.searched_s, 2) if first else "",
        "first_cost": first.cost if first else "", "first_proven": bool(first and first.proven),
        "k3_s": round(k3, 2), "found": len(rep.corrections),
        "today_s": round(today, 2), "today_conflict": len(conflict.rules) + len(conflict.demands),
        "today_minimal": bool(conflict.rules or conflict.demands)
        and "may not be minimal" not in conflict.message,
        "today_fixes": len(fixes), "today_has_fix": bool(fixes),
    }


def write(rows: list[dict[str, Any]], args: argparse.Namespace, wall: float) -> None:
    import os

    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / f"{args.name}.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    lines = [
        "# Corrections vs today's conflict + suggestions (issue 14)", "",
        f"`python -m benchmarks.explain --generated {args.generated} --limit {args.limit} "
        f"--workers {args.workers}{'' if args.seed else ' --no-seed'} --name {args.name}`; "
        f"{platform.machine()}, Python {platform.python_version()}; "
        f"whole run {wall:.0f} s; load average at the end "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}. The machine (2 cores) was shared "
        "with other jobs, so "
        "times are noisy. *first*: seconds until the cheapest correction is found and "
        "proven (the search only); *K=3*: seconds until three corrections are found, each "
        "made irreducible and verified (solve + checker). *today*: "
        "`find_conflict` (deletion filter, then per-element suggestions) with the same "
        "limit; *fixes*: its suggestions that alone make the scenario feasible; *minimal* "
        "no: it ran out of time (conflict 0: none found). Where *proven* is no, the search "
        "ran out of its share of the limit (60%) and *first* is that share: the cost is the "
        "best found, the rest of the limit went to checking it.", "",
        "| case | n | first (s) | cost | proven | K=3 (s) | found | today (s) | conflict "
        "| minimal | fixes |",
        "|---|---:|---:|---:|:-:|---:|---:|---:|---:|:-:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['concessions']} | {r['first_s']} | {r['first_cost']} | "
            f"{'yes' if r['first_proven'] else 'no'} | {r['k3_s']} | {r['found']} | "
            f"{r['today_s']} | {r['today_conflict']} | {'yes' if r['today_minimal'] else 'no'}"
            f" | {r['today_fixes']} |")
    (RESULTS / f"{args.name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--generated", type=int, default=20)
    ap.add_argument("--limit", type=float, default=30.0, help="seconds per method and case")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", action=argparse.BooleanOptionalAction, default=True,
                    help="the seed variants and hanoi_2019_us (--no-seed: generated only)")
    ap.add_argument("--name", default="explain", help="results file name (no extension)")
    args = ap.parse_args()
    t0 = time.monotonic()
    cases = (seed_cases() if args.seed else []) + generated_cases(args.generated)
    rows = []
    for name, sc in cases:
        row = run_case(name, sc, args.limit, args.workers)
        print(row, flush=True)
        rows.append(row)
    write(rows, args, time.monotonic() - t0)


if __name__ == "__main__":
    main()
