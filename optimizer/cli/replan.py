"""``roadmap replan``: re-plan from the state of play (SPEC §5.5) and the next package."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from optimizer.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    Fmt,
    err,
    follow,
    load,
    load_plan,
    out,
    status_exit,
    write_result,
)


def replan(
    scenario: Annotated[str, typer.Argument(help="Scenario file (with progress) or dataset.")],
    plan: Annotated[Path | None, typer.Option("--plan", help="A result file: keep unstarted "
                    "steps near its starts (a last 'deviation' stage).")] = None,
    as_of: Annotated[int | None, typer.Option("--as-of", help="The present: replaces "
                     "progress.as_of; with --plan, steps the plan started before it are taken "
                     "as gone as planned.")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Write the result "
                        "atomically, whatever the status.")] = None,
    next_n: Annotated[int | None, typer.Option("--next", min=1, help="List the next package: "
                      "the steps starting in the next N time units, with each side's ledger "
                      "at its end.")] = None,
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="What to print.")] = Fmt.table,
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", min=0.01)] = 30.0,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1, max=64)] = None,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    progress: Annotated[bool, typer.Option("--progress", help="Print each improving solution "
                        "to stderr as a plain line (for logs and scripts).")] = False,
) -> None:
    """Re-plan from what has happened (exit codes as solve; 130 interrupted, best kept)."""
    from models import ScenarioError, SolveOptions
    from optimizer.studies.replan import next_package, package_text, start_replan

    sc = load(scenario)
    planned = load_plan(plan) if plan is not None else None
    opts = SolveOptions(time_limit_s=time_limit, seed=seed)
    if workers:
        opts.workers = workers
    try:
        effective, handle = start_replan(sc, planned, opts, as_of)
    except ScenarioError as exc:
        where = plan if exc.path and exc.path.startswith("plan") and plan else scenario
        err.print(str(exc.with_file(str(where))), markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None
    # The search runs in a worker thread so that Ctrl-C / SIGTERM stop it at once
    # and the best re-plan found so far is still printed and written.
    result, interrupted = follow(handle, progress=progress)
    if out_file is not None:
        write_result(result, out_file)
    pkg = next_package(effective, result, next_n) if next_n and result.solved else None
    if fmt is Fmt.json:
        data = result.to_dict()
        if pkg is not None:
            data["next_package"] = pkg.to_dict()
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    elif fmt is Fmt.csv:
        sys.stdout.write(result.to_csv())
    else:
        from optimizer.cli.table import render

        render(out, effective, result)
        for b in result.broken or []:
            what = b.get("rule") or f"{b.get('concession')}.{b.get('field')}"
            out.print(f"broken by the record: {what}: {b['message']}", markup=False)
        if pkg is not None:
            for line in package_text(effective, pkg):
                out.print(line, markup=False)
    if interrupted:
        err.print("interrupted: kept the best re-plan found so far")
        raise typer.Exit(EXIT_INTERRUPTED)
    raise typer.Exit(status_exit(result))


def register(app: typer.Typer) -> None:
    app.command()(replan)
