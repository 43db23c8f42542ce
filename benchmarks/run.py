"""Benchmark runner: PSPLIB suites side by side with the peers, and the scale curve.

    python benchmarks/run.py quick                 # CI smoke: 20 j30 + 10 RCPSP/max
    python benchmarks/run.py standard              # all j30, 48 j60, 60 j120, all RCPSP/max
    python benchmarks/run.py standard --per-family 48 --families j30,j60
    python benchmarks/run.py scale --sizes 50,200,1000

Every PSPLIB instance is solved by each engine in turn (ours, PyJobShop's
CP-SAT model, the plain baseline) with the same time limit, workers and seed,
so their times share the machine's load; runs that finish quickly (where
timing noise matters) are repeated and the median kept. Results go to
``benchmarks/results/<suite>*.csv`` and a Markdown table into
``benchmarks/README.md`` between ``<!-- results:<suite> -->`` markers.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder would shadow the PyPI ``psplib`` package.
if sys.path and Path(sys.path[0]).resolve() == ROOT / "benchmarks":
    sys.path[0] = str(ROOT)

from benchmarks.psplib import DATA, Instance, RunRecord, read_instance  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "benchmarks" / "README.md"
ENGINES = ("ours", "pyjobshop", "baseline")


# ---------------------------------------------------------------------------
# Instance selection
# ---------------------------------------------------------------------------
def _natural(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def family_files(family: str) -> list[Path]:
    folder = DATA / ("rcpsp-max/j30" if family == "max30" else f"rcpsp/{family}")
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in (".sm", ".sch")),
                  key=lambda p: _natural(p.name))


def one_per_group(family: str) -> list[Path]:
    """The first instance of each PSPLIB parameter group (jXXg_1.sm)."""
    return [p for p in family_files(family) if p.stem.endswith("_1")]


def spaced(items: list[Path], k: int) -> list[Path]:
    if k >= len(items):
        return items
    step = len(items) / k
    return [items[int(i * step)] for i in range(k)]


def suite_files(suite: str, families: list[str] | None, per_family: int | None) -> list[Path]:
    if suite == "quick":
        plan = {"j30": spaced(family_files("j30"), 20), "max30": spaced(family_files("max30"), 10)}
    else:
        plan = {"j30": family_files("j30"), "j60": one_per_group("j60"),
                "j120": one_per_group("j120"), "max30": family_files("max30")}
    out: list[Path] = []
    for fam, files in plan.items():
        if families and fam not in families:
            continue
        out += spaced(files, per_family) if per_family else files
    return out


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------
def solver_for(engine: str) -> Callable[[Instance, float, int, int], RunRecord]:
    if engine == "ours":
        from benchmarks.psplib import solve_ours

        return solve_ours
    if engine == "pyjobshop":
        from benchmarks.peer_pyjobshop import solve_pyjobshop

        return solve_pyjobshop
    from benchmarks.baseline import solve_baseline

    return solve_baseline


def run_engine(engine: str, inst: Instance, args: argparse.Namespace) -> RunRecord:
    fn = solver_for(engine)
    rec = fn(inst, args.time_limit, args.workers, args.seed)
    if rec.total_s < args.repeat_below and args.repeats > 1:
        # Fast runs are dominated by noise: keep the median of the timings.
        recs = [rec] + [fn(inst, args.time_limit, args.workers, args.seed)
                        for _ in range(args.repeats - 1)]
        for f in ("build_s", "first_s", "best_s", "total_s"):
            vals = [getattr(r, f) for r in recs if getattr(r, f) is not None]
            setattr(rec, f, statistics.median(vals) if vals else None)
    for f in ("build_s", "first_s", "best_s", "total_s"):
        v = getattr(rec, f)
        if v is not None:
            setattr(rec, f, round(v, 4))
    return rec


def run_psplib(suite: str, args: argparse.Namespace) -> list[RunRecord]:
    files = suite_files(suite, args.families, args.per_family)
    records: list[RunRecord] = []
    for k, path in enumerate(files):
        inst = read_instance(path)
        for engine in args.engines:
            rec = run_engine(engine, inst, args)
            records.append(rec)
            if not args.quiet:
                print(f"[{k + 1}/{len(files)}] {rec.instance:14s} {engine:9s} {rec.status:10s} "
                      f"obj={rec.objective} bk={rec.best_known} t={rec.total_s:.2f}s "
                      f"load={rec.load1}", flush=True)
    return records


# ---------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------
def _mean(xs: list[float]) -> float | None:
    return round(statistics.fmean(xs), 4) if xs else None


def summarise(records: list[RunRecord]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for r in records:
        groups.setdefault((r.family, r.engine), []).append(r)
    for (fam, eng), rs in groups.items():
        proven = [r for r in rs if r.status in ("optimal", "infeasible")]
        rows.append({
            "family": fam, "engine": eng, "instances": len(rs),
            "proven_pct": round(100.0 * len(proven) / len(rs), 2),
            "verdict_errors": sum(1 for r in rs if r.verdict_ok is False),
            "no_answer": sum(1 for r in rs if r.status == "unknown"),
            "mean_gap_pct": _mean([r.gap_pct for r in rs if r.gap_pct is not None]),
            "mean_time_s": _mean([r.total_s for r in rs]),
            "mean_first_s": _mean([r.first_s for r in rs if r.first_s is not None]),
            "mean_load1": _mean([r.load1 for r in rs]),
        })
    return rows


def ratios(records: list[RunRecord]) -> list[dict[str, Any]]:
    """Ours over each peer, per family: mean time and mean objective on common instances."""
    by_key = {(r.family, r.instance, r.engine): r for r in records}
    fams = sorted({r.family for r in records})
    peers = sorted({r.engine for r in records} - {"ours"})
    out: list[dict[str, Any]] = []
    for fam in fams:
        names = sorted({r.instance for r in records if r.family == fam})
        for peer in peers:
            pairs = [(by_key.get((fam, n, "ours")), by_key.get((fam, n, peer))) for n in names]
            pairs_ok = [(a, b) for a, b in pairs if a is not None and b is not None]
            if not pairs_ok:
                continue
            t_ours = sum(a.total_s for a, _ in pairs_ok)
            t_peer = sum(b.total_s for _, b in pairs_ok)
            objs = [(a.objective, b.objective) for a, b in pairs_ok
                    if a.objective is not None and b.objective is not None]
            o_ours = sum(a for a, _ in objs)
            o_peer = sum(b for _, b in objs)
            pr_ours = sum(a.status in ("optimal", "infeasible") for a, _ in pairs_ok)
            pr_peer = sum(b.status in ("optimal", "infeasible") for _, b in pairs_ok)
            out.append({
                "family": fam, "peer": peer, "instances": len(pairs_ok),
                "time_ratio": round(t_ours / t_peer, 3) if t_peer else None,
                "objective_ratio": round(o_ours / o_peer, 4) if o_peer else None,
                "proven_ours": pr_ours, "proven_peer": pr_peer,
            })
    return out


# ---------------------------------------------------------------------------
# Scale suite (synthetic roadmaps, each in a fresh process for its peak memory)
# ---------------------------------------------------------------------------
def scale_one(n: int, parties: int, time_limit: float, workers: int, seed: int,
              factor: int, early: float) -> dict[str, Any]:
    import resource

    from benchmarks.generate import scenario
    from models import SolveOptions
    from optimizer import solve

    t0 = time.perf_counter()
    sc, _ = scenario(n, parties, seed=seed, time_unit_factor=factor)
    gen_s = time.perf_counter() - t0
    events: list[tuple[float, float | None, float | None]] = []
    marks: dict[str, float] = {}

    def on_progress(p: Any) -> None:
        if p.event == "stage_start":
            marks.setdefault("build", p.elapsed_s)
        elif p.event == "solution":
            events.append((p.elapsed_s, p.objective, p.bound))

    res = solve(sc, SolveOptions(time_limit_s=time_limit, workers=workers, seed=seed),
                on_progress=on_progress, explain_infeasible=False)
    obj = res.objective[0] if res.objective else None
    early_obj = [e for e in events if e[0] <= early]

    def gap(value: float | None, bound: float | None) -> float | None:
        if value is None or bound is None or value == 0:
            return None
        return round(100.0 * (value - bound) / value, 3)

    at_early = early_obj[-1] if early_obj else None
    return {
        "n": n, "parties": parties, "time_unit_factor": factor, "seed": seed,
        "horizon": sc.horizon, "rules": len(sc.rules), "generate_s": round(gen_s, 3),
        "status": res.status, "build_s": round(marks.get("build", 0.0), 3),
        "first_s": round(events[0][0], 3) if events else None,
        f"objective_{int(early)}s": None if at_early is None else at_early[1],
        f"gap_{int(early)}s_pct": None if at_early is None else gap(at_early[1], at_early[2]),
        "objective": None if obj is None else obj.value,
        "bound": None if obj is None else obj.bound,
        "gap_pct": None if obj is None else gap(obj.value, obj.bound),
        "total_s": res.solver.wall_time_s, "time_limit_s": time_limit,
        "build_share_pct": round(100.0 * marks.get("build", 0.0) / max(res.solver.wall_time_s,
                                                                        1e-9), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load1": round(os.getloadavg()[0], 2),
    }


def days_vs_months(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pair each day-based run with the month-based run of the same size and seed."""
    months = {(r["n"], r["seed"]): r for r in rows if r["time_unit_factor"] == 1}
    out: list[dict[str, Any]] = []
    for r in rows:
        m = months.get((r["n"], r["seed"]))
        if r["time_unit_factor"] == 1 or m is None:
            continue
        f = r["time_unit_factor"]
        out.append({
            "n": r["n"], "seed": r["seed"], "months_status": m["status"],
            "days_status": r["status"], "months_objective": m["objective"],
            "days_objective": r["objective"],
            "same_optimum": (m["objective"] is not None and r["objective"] == f * m["objective"]),
            "months_s": m["total_s"], "days_s": r["total_s"],
            "ratio": round(r["total_s"] / max(m["total_s"], 1e-9), 2),
        })
    if out:
        ratios = [o["ratio"] for o in out]
        out.append({"n": "all", "seed": "median", "months_status": "", "days_status": "",
                    "months_objective": None, "days_objective": None,
                    "same_optimum": all(o["same_optimum"] for o in out),
                    "months_s": round(sum(o["months_s"] for o in out), 3),
                    "days_s": round(sum(o["days_s"] for o in out), 3),
                    "ratio": statistics.median(ratios)})
    return out


def run_scale(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cases = [(n, 1, args.seed) for n in args.sizes]
    for n in args.day_sizes:
        # The same roadmap counted in months and in days, for several seeds:
        # one seed's solve time varies too much to judge the ratio on.
        for s in args.day_seeds:
            if (n, 1, s) not in cases:
                cases.append((n, 1, s))
            cases.append((n, args.day_factor, s))
    for n, factor, seed in cases:
        cmd = [sys.executable, "-m", "benchmarks.run", "_scale_one", str(n),
               "--parties", str(args.parties), "--time-limit", str(args.scale_limit),
               "--workers", str(args.workers), "--seed", str(seed),
               "--factor", str(factor), "--early", str(args.early)]
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        if not args.quiet:
            print(json.dumps(row), flush=True)
    return rows


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not rows:
        return
    keys = list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def md_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no rows)\n"
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join("" if r[k] is None else str(r[k]) for k in keys) + " |")
    return "\n".join(lines) + "\n"


def update_readme(section: str, body: str) -> None:
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    start, end = f"<!-- results:{section} -->", f"<!-- /results:{section} -->"
    block = f"{start}\n{body}{end}"
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")


def header(args: argparse.Namespace, label: str, limit: float, started: float,
           load0: float) -> str:
    import ortools

    return (f"Run: `{label}` — {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, "
            f"CP-SAT {getattr(ortools, '__version__', '?')}, {args.workers} workers, "
            f"{limit:g} s limit, "
            f"seed {args.seed}, {os.cpu_count()} CPUs, load average at start {load0:.2f} and "
            f"end {os.getloadavg()[0]:.2f}; took {time.time() - started:.0f} s.\n\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("suite", choices=["quick", "standard", "scale", "_scale_one"])
    ap.add_argument("n", nargs="?", type=int)
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--families", default=None, help="e.g. j30,j60 (default: all of the suite)")
    ap.add_argument("--per-family", type=int, default=None,
                    help="evenly spaced subset of this many per family")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--repeat-below", type=float, default=2.0,
                    help="repeat runs shorter than this and keep the median time")
    ap.add_argument("--tag", default="", help="suffix of the result files and README section")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--no-readme", action="store_true")
    # scale suite
    ap.add_argument("--sizes", default="50,200,1000,5000")
    ap.add_argument("--day-sizes", default="200", help="sizes also run in days (x30 units)")
    ap.add_argument("--day-factor", type=int, default=30)
    ap.add_argument("--day-seeds", default="0,1,2,3", help="seeds of the days-vs-months pairs")
    ap.add_argument("--parties", type=int, default=4)
    ap.add_argument("--scale-limit", type=float, default=60.0)
    ap.add_argument("--early", type=float, default=10.0)
    ap.add_argument("--factor", type=int, default=1)
    args = ap.parse_args(argv)
    args.engines = [e for e in args.engines.split(",") if e]
    args.families = args.families.split(",") if args.families else None

    if args.suite == "_scale_one":
        print(json.dumps(scale_one(args.n, args.parties, args.scale_limit, args.workers,
                                   args.seed, args.factor, args.early)))
        return
    started, load0 = time.time(), os.getloadavg()[0]
    name = args.suite + (f"-{args.tag}" if args.tag else "")
    label = " ".join(sys.argv[1:]) if argv is None else " ".join(argv)
    if args.suite == "scale":
        args.sizes = [int(x) for x in args.sizes.split(",") if x]
        args.day_sizes = [int(x) for x in args.day_sizes.split(",") if x]
        args.day_seeds = [int(x) for x in args.day_seeds.split(",") if x]
        rows = run_scale(args)
        write_csv(RESULTS / f"{name}.csv", rows)
        days = days_vs_months(rows)
        write_csv(RESULTS / f"{name}-days.csv", days)
        body = (header(args, label, args.scale_limit, started, load0) + md_table(rows)
                + "\nThe same roadmaps counted in days (every time figure x"
                  f"{args.day_factor}) against months:\n\n" + md_table(days))
    else:
        records = run_psplib(args.suite, args)
        write_csv(RESULTS / f"{name}.csv", [asdict(r) for r in records])
        summary, rat = summarise(records), ratios(records)
        write_csv(RESULTS / f"{name}-summary.csv", summary)
        write_csv(RESULTS / f"{name}-ratios.csv", rat)
        body = (header(args, label, args.time_limit, started, load0) + md_table(summary)
                + "\nOurs over each peer (time: sum of wall times; objective: sum of "
                  "makespans on instances both solved):\n\n" + md_table(rat))
    print(body)
    if not args.no_readme:
        update_readme(name, body)


if __name__ == "__main__":
    main()
