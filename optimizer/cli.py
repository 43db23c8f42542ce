"""The ``roadmap`` command line (SPEC §4).

Heavy modules (OR-Tools, pandas, the models) are imported inside commands so
``roadmap --help`` answers instantly. No input ever produces a traceback:
invalid input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import threading
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from models import Result, Scenario

EXIT_OK, EXIT_INFEASIBLE, EXIT_INVALID, EXIT_NO_SOLUTION = 0, 1, 2, 3
EXIT_INTERNAL, EXIT_INTERRUPTED = 70, 130

app = typer.Typer(
    name="roadmap",
    help="Plan phased, reciprocal agreements with constraint programming.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
# Piped output gets a wide table rather than rich's 80-column default.
out = Console(highlight=False, soft_wrap=False,
              width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False)


class Fmt(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load(ref: str) -> Scenario:
    """Load a scenario by path or dataset name; exit 2 with one line on failure."""
    from models import ScenarioError, load_scenario

    try:
        return load_scenario(ref)
    except ScenarioError as exc:
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None


def status_exit(result: Result) -> int:
    return {"optimal": EXIT_OK, "feasible": EXIT_OK, "infeasible": EXIT_INFEASIBLE,
            "unknown": EXIT_NO_SOLUTION}[result.status]


def write_result(result: Result, path: Path) -> None:
    from optimizer.atomic import write_atomic

    data = result.to_csv() if path.suffix.lower() == ".csv" else result.to_json() + "\n"
    try:
        write_atomic(path, data)
    except OSError as exc:
        fail(f"{path}: cannot write the result: {exc.strerror or exc}")


class _Interrupts:
    """SIGINT/SIGTERM stop the search; the best schedule so far is still written."""

    def __init__(self, stop: Any) -> None:
        self.stop = stop
        self.hit = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handler)
        return self

    def _handler(self, signum: int, frame: Any) -> None:
        self.hit = True
        self.stop()

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


@app.command()
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
    from optimizer.solving import start_solve

    opts = SolveOptions(time_limit_s=time_limit, seed=seed)
    if workers:
        opts.workers = workers
    handle = start_solve(sc, opts)
    show = not quiet and err.is_terminal
    with _Interrupts(handle.stop) as intr:
        if show:
            with err.status("solving…") as status:
                while not handle.done():
                    handle._thread.join(0.1)
                    for p in handle.drain():
                        if p.objective is not None:
                            status.update(f"stage {p.stage + 1}/{p.stages} {p.metric}: "
                                          f"best {p.objective:g}, bound {p.bound:g}, "
                                          f"{p.elapsed_s:.1f} s")
        else:
            while not handle.done():
                handle._thread.join(0.1)
                for p in handle.drain():
                    if progress and p.objective is not None:
                        err.print(f"progress: stage {p.stage + 1}/{p.stages} {p.metric} "
                                  f"best {p.objective:g} bound {p.bound:g} "
                                  f"at {p.elapsed_s:.2f} s", markup=False)
        result = handle.result()
    if intr.hit and result.status == "optimal":
        result = result.model_copy(update={"status": "feasible"})
    if out_file is not None:
        write_result(result, out_file)
    if fmt is Fmt.json:
        sys.stdout.write(result.to_json() + "\n")
    elif fmt is Fmt.csv:
        sys.stdout.write(result.to_csv())
    else:
        from optimizer.report import render

        render(out, sc, result)
    if intr.hit:
        err.print("interrupted: kept the best schedule found so far")
        raise typer.Exit(EXIT_INTERRUPTED)
    raise typer.Exit(status_exit(result))


@app.command()
def validate(
    scenario: Annotated[str, typer.Argument(help="Scenario file or built-in dataset name.")],
) -> None:
    """Check a scenario file without solving (exit 0 valid, 2 invalid)."""
    sc = load(scenario)
    out.print(f"ok: {sc.name} — {len(sc.parties)} parties, {len(sc.concessions)} concessions, "
              f"{len(sc.rules)} rules, {len(sc.effective_phases)} phases, horizon {sc.horizon} "
              f"{sc.time_unit}s")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the scenario format."""
    from models import Scenario

    sys.stdout.write(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2) + "\n")


@app.command()
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


# Commands of the other capabilities live in their own modules.
_EXTENSIONS = ("optimizer.cli_explain", "optimizer.cli_batch", "optimizer.cli_ui",
               "optimizer.cli_backtest")


def _register_extensions() -> None:
    for name in _EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


_register_extensions()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # last line of defence: never a traceback
        if os.environ.get("ROADMAP_DEBUG"):
            raise
        err.print(f"internal error: {type(exc).__name__}: {exc} "
                  "(set ROADMAP_DEBUG=1 for details)", markup=False)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    main()
