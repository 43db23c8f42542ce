"""The core commands: solve, validate, schema, datasets (SPEC §4)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from optimizer.cli.common import (
    EXIT_INTERRUPTED,
    Fmt,
    err,
    follow,
    load,
    out,
    status_exit,
    write_result,
)


def solve(
    scenario: Annotated[str, typer.Argument(help="Scenario file or built-in dataset name.")],
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Write the result "
                        "(JSON, or CSV when FILE ends in .csv) atomically, whatever the status."
                        )] = None,
    fmt: Annotated[Fmt, typer.Option("--format", "-f", help="What to print.")] = Fmt.table,
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", min=0.01,
                          help="Seconds for the whole solve (all stages).")] = 30.0,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1, max=64,
                       help="CP-SAT workers (default: cores, at most 8).")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    progress: Annotated[bool, typer.Option("--progress", help="Print each improving solution "
                        "to stderr as a plain line (for logs and scripts).")] = False,
) -> None:
    """Solve a scenario and print its phased schedule.

    Exit codes: 0 solved, 1 infeasible (conflict printed), 2 invalid input,
    3 no solution within the time limit, 130 interrupted (best schedule kept).
    """
    sc = load(scenario)
    from models import SolveOptions
    from optimizer.api import start_solve

    opts = SolveOptions(time_limit_s=time_limit, seed=seed)
    if workers:
        opts.workers = workers
    handle = start_solve(sc, opts)
    result, interrupted = follow(handle, progress=progress,
                                 live=not quiet and err.is_terminal)
    if out_file is not None:
        write_result(result, out_file)
    if fmt is Fmt.json:
        sys.stdout.write(result.to_json() + "\n")
    elif fmt is Fmt.csv:
        sys.stdout.write(result.to_csv())
    else:
        from optimizer.cli.table import render

        render(out, sc, result)
    if interrupted:
        err.print("interrupted: kept the best schedule found so far")
        raise typer.Exit(EXIT_INTERRUPTED)
    raise typer.Exit(status_exit(result))


def validate(
    scenario: Annotated[str, typer.Argument(help="Scenario file or built-in dataset name.")],
) -> None:
    """Check a scenario file without solving (exit 0 valid, 2 invalid)."""
    sc = load(scenario)
    out.print(f"ok: {sc.name} — {len(sc.parties)} parties, {len(sc.concessions)} concessions, "
              f"{len(sc.rules)} rules, {len(sc.effective_phases)} phases, horizon {sc.horizon} "
              f"{sc.time_unit}s")


def schema() -> None:
    """Print the JSON Schema of the scenario format."""
    from models import Scenario

    sys.stdout.write(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2) + "\n")


def datasets() -> None:
    """List the built-in scenarios (usable by name anywhere)."""
    from rich.table import Table

    from models import ScenarioError, list_datasets, load_scenario

    table = Table(title="Built-in datasets")
    for col in ("name", "title", "concessions", "rules", "horizon"):
        table.add_column(col)
    for path in list_datasets():
        try:
            sc = load_scenario(path)
            table.add_row(path.stem, sc.name, str(len(sc.concessions)), str(len(sc.rules)),
                          f"{sc.horizon} {sc.time_unit}s")
        except ScenarioError as exc:
            table.add_row(path.stem, f"[red]invalid: {exc.message}[/]", "", "", "")
    out.print(table)


def register(app: typer.Typer) -> None:
    for command in (solve, validate, schema, datasets):
        app.command()(command)
