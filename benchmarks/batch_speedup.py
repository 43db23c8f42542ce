"""Batch speed-up: the same sweep of the seed scenario with 1 and 2 jobs (and on Dask).

    python -m benchmarks.batch_speedup [--time-limit 60] [--no-dask] [--out FILE.md]

The sweep (24 variants of ``us_dprk_2018``) crosses the two exposure caps
with the first reciprocity rule on/off. Rule ids are read from the dataset so
the script follows edits to it. Every configuration starts from an empty run
store (nothing is resumed) and its wall time includes starting the worker
processes. The machine's load average is recorded next to the figures: on a
shared machine, a speed-up below 2 may be other people's work, not ours.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from models import load_scenario
from models.rules import Exposure, Reciprocity
from optimizer.studies.batch import batch

DATASET = "us_dprk_2018"
RESULTS = Path(__file__).parent / "results" / "batch_speedup.md"


def sweep_params() -> list[str]:
    sc = load_scenario(DATASET)
    caps = [r for r in sc.rules if isinstance(r, Exposure) and r.enabled][:2]
    recip = [r for r in sc.rules if isinstance(r, Reciprocity) and r.enabled][:1]
    if len(caps) < 2 or not recip:
        raise SystemExit(f"{DATASET} needs two exposure rules and a reciprocity rule")
    return [f"rules[{caps[0].id}].max=6:12:2", f"rules[{caps[1].id}].max=6,8,10",
            f"rules[{recip[0].id}].enabled=true,false"]


def run(params: list[str], jobs: int, executor: str, time_limit: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        frame = batch([DATASET], params, jobs=jobs, executor=executor,
                      time_limit_s=time_limit, store=Path(tmp) / "runs.sqlite")
        wall = time.perf_counter() - t0
        load_after = os.getloadavg()
    return {"executor": executor, "jobs": jobs, "runs": len(frame),
            "statuses": dict(frame["status"].value_counts()), "wall_s": wall,
            "solve_s": float(frame["elapsed_s"].sum()), "load_before": load_before,
            "load_after": load_after,
            "metrics": frame[["makespan", "peak_exposure", "weighted_completion"]]
            .astype("float").fillna(-1).to_numpy().tolist()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    params = sweep_params()
    configs = [(1, "local"), (2, "local")] + ([] if args.no_dask else [(2, "dask")])
    rows = []
    for jobs, executor in configs:
        rows.append(run(params, jobs, executor, args.time_limit))
        r = rows[-1]
        print(f"{executor:5} jobs={jobs}: {r['runs']} runs in {r['wall_s']:.1f} s "
              f"(load {r['load_before'][0]:.2f})", flush=True)
    base = float(rows[0]["wall_s"])
    same = all(r["metrics"] == rows[0]["metrics"] for r in rows)
    lines = [
        "# Batch speed-up (`benchmarks/batch_speedup.py`)",
        "",
        f"- date: {_dt.datetime.now(_dt.UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"Python {platform.python_version()}",
        f"- sweep: {len(rows[0]['metrics'])} variants of `{DATASET}`: "
        + ", ".join(f"`{p}`" for p in params),
        f"- each solve: 1 CP-SAT worker, seed 0, time limit {args.time_limit:g} s",
        f"- identical metrics in every configuration: {'yes' if same else 'NO'}",
        "",
        "| executor | jobs | runs | statuses | wall s | sum of task s | speed-up vs 1 job "
        "| load avg before (1/5/15 min) | load avg after |",
        "|---|---:|---:|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        lb, la = r["load_before"], r["load_after"]
        lines.append(
            f"| {r['executor']} | {r['jobs']} | {r['runs']} | "
            f"{', '.join(f'{k} {v}' for k, v in r['statuses'].items())} | "
            f"{r['wall_s']:.1f} | {r['solve_s']:.1f} | {base / r['wall_s']:.2f} | "
            f"{lb[0]:.2f} / {lb[1]:.2f} / {lb[2]:.2f} | "
            f"{la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f} |")
    lines += [
        "",
        "A load average above the CPU count means other processes competed for the cores "
        "during the measurement; the speed-up is then a lower bound.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
