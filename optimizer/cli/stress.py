"""``roadmap stress``: a solved roadmap through N random realisations (SPEC §5.7),
and ``--target`` hardening (issue 15)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from optimizer.cli.common import EXIT_INFEASIBLE, EXIT_INVALID, err, fail, load, load_plan, out


class StressFmt(StrEnum):
    table = "table"
    json = "json"


class ExecutorKind(StrEnum):
    local = "local"
    dask = "dask"


def stress(
    scenario: Annotated[str, typer.Argument(help="Scenario file or built-in dataset name.")],
    plan: Annotated[Path | None, typer.Option("--plan", help="A result file (roadmap) to "
                    "stress; without it the scenario is solved first.")] = None,
    samples: Annotated[int, typer.Option("--samples", "-n", min=1, max=100_000_000,
                       help="Realisations.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed.")] = 0,
    fmt: Annotated[StressFmt, typer.Option("--format", "-f", help="What to print.")
                   ] = StressFmt.table,
    target: Annotated[float | None, typer.Option("--target", min=0.0, max=1.0,
                      help="Harden: find the least-costly roadmap whose breach probability "
                      "is at most this.")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report "
                        "JSON (with --target: the hardening JSON).")] = None,
    plan_out: Annotated[Path | None, typer.Option("--plan-out", help="With --target: write "
                        "the hardened roadmap (result JSON).")] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", min=0.01,
                          help="Seconds per solve.")] = 30.0,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=64,
                       help="CP-SAT workers for the first solve.")] = 2,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=256,
                    help="Candidate solves at once (hardening).")] = 2,
    executor: Annotated[ExecutorKind, typer.Option("--executor", help="Where hardening "
                        "candidates are solved.")] = ExecutorKind.local,
    address: Annotated[str | None, typer.Option("--address", help="Dask scheduler address "
                       "(with --executor dask).")] = None,
) -> None:
    """Stress a roadmap: breach probability per cap, makespan and stall risk, drivers.

    Exit codes: 0 done, 1 infeasible (no roadmap to stress; with --target: the
    target cannot be met), 2 invalid input.
    """
    sc = load(scenario)
    from models import ScenarioError, SolveOptions
    from models.atomic import write_atomic
    from optimizer.studies.stress import PlanNotSolved, plan_for
    from optimizer.studies.stress.compiled import compile_plan
    from optimizer.studies.stress.run import measure

    given = load_plan(plan) if plan is not None else None
    opts = SolveOptions(time_limit_s=time_limit, workers=workers, seed=0)
    try:
        roadmap = plan_for(sc, given, opts)
    except PlanNotSolved as exc:
        err.print(f"{sc.name}: {exc}", markup=False)
        raise typer.Exit(EXIT_INFEASIBLE) from None
    except ValueError as exc:
        fail(f"{plan}: {exc}")
    from models.canonical import scenario_sha256

    if given is not None and given.scenario.sha256 != scenario_sha256(sc):
        err.print(f"note: {plan} was solved for another version of this scenario "
                  "(its sha256 differs); stressing it under this one", markup=False)
    if target is not None:
        from optimizer.studies.stress.harden import harden

        try:
            hard = harden(sc, roadmap, target=target, samples=samples, seed=seed,
                          options=SolveOptions(time_limit_s=time_limit, workers=1, seed=0),
                          executor=executor.value, jobs=jobs, address=address,
                          log=lambda m: err.print(m, markup=False))
        except ScenarioError as exc:
            err.print(str(exc), markup=False)
            raise typer.Exit(EXIT_INVALID) from None
        data = hard.to_dict()
        if out_file is not None:
            import json

            write_atomic(out_file, json.dumps(data, indent=2) + "\n")
        if plan_out is not None and hard.plan is not None:
            write_atomic(plan_out, hard.plan.to_json() + "\n")
        if fmt is StressFmt.json:
            import json

            sys.stdout.write(json.dumps(data, indent=2) + "\n")
        else:
            _print_hardening(hard, sc.time_unit)
        raise typer.Exit(0 if hard.met else EXIT_INFEASIBLE)
    report = measure(compile_plan(sc, roadmap), samples, seed)
    if out_file is not None:
        write_atomic(out_file, report.to_json() + "\n")
    if fmt is StressFmt.json:
        sys.stdout.write(report.to_json() + "\n")
    else:
        from optimizer.studies.stress.table import render

        render(out, report, name=sc.name, unit=sc.time_unit)


def _print_hardening(hard, unit: str) -> None:  # type: ignore[no-untyped-def]
    from optimizer.studies.stress.table import render

    base_mk = hard.base.metrics.makespan if hard.base.metrics else None
    out.print(f"unhardened roadmap: makespan {base_mk} {unit}s, breach probability "
              f"{100 * hard.base_report.breach_probability:.1f}%")
    if not hard.met or hard.report is None:
        out.print(f"no roadmap found with breach probability <= {100 * hard.target:.1f}% "
                  "(levers tried: " + ", ".join(sorted({c.lever for c in hard.candidates}))
                  + ")")
        low = hard.lowest
        if low is not None and low.breach_probability is not None:
            out.print(f"lowest found: {low.lever} = {low.k}, breach probability "
                      f"{100 * low.breach_probability:.1f}%, makespan {low.makespan} {unit}s "
                      f"({(low.makespan or 0) - (base_mk or 0):+d})")
        return
    price = hard.price or {}
    lever = f"{hard.lever} = {hard.k}" if hard.lever else "none needed"
    out.print(f"hardened roadmap ({lever}): breach probability "
              f"{100 * hard.report.breach_probability:.1f}% (fresh seed {hard.report.seed}); "
              f"price {price.get('makespan', 0):+d} {unit}s of makespan")
    render(out, hard.report, name="hardened", unit=unit)


def register(app: typer.Typer) -> None:
    app.command("stress")(stress)
