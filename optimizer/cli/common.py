"""What every command shares: exit codes, the consoles, loading, errors, interrupts.

Exit codes are SPEC §4's and are defined here only.
"""

from __future__ import annotations

import signal
import sys
import threading
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from models import Result, Scenario

EXIT_OK, EXIT_INFEASIBLE, EXIT_INVALID, EXIT_NO_SOLUTION = 0, 1, 2, 3
EXIT_FAILED_RUNS = 1          # batch --fail-on-error with failed runs
EXIT_INTERNAL, EXIT_INTERRUPTED = 70, 130

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
    from models.atomic import write_atomic

    data = result.to_csv() if path.suffix.lower() == ".csv" else result.to_json() + "\n"
    try:
        write_atomic(path, data)
    except OSError as exc:
        fail(f"{path}: cannot write the result: {exc.strerror or exc}")


class Interrupts:
    """SIGINT/SIGTERM stop the search; the best schedule so far is still written."""

    def __init__(self, stop: Any) -> None:
        self.stop = stop
        self.hit = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
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


def load_plan(path: Path) -> Result:
    """A result file given as ``--plan``; exit 2 with one line when it cannot be read."""
    from pydantic import ValidationError

    from models import Result

    try:
        return Result.from_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{path}: cannot read the plan: {exc.strerror or exc}")
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        fail(f"{path}: not a roadmap result file: {first}")


def progress_line(p: Any) -> str:
    """One `--progress` line of an improving solution (solve and replan print the same)."""
    return (f"progress: stage {p.stage + 1}/{p.stages} {p.metric} "
            f"best {p.objective:g} bound {p.bound:g} at {p.elapsed_s:.2f} s")


def follow(handle: Any, *, progress: bool, live: bool = False) -> tuple[Result, bool]:
    """Wait for a running solve (solve, replan) and return (its result, interrupted).

    Ctrl-C / SIGTERM stop the search and keep the best schedule found; an
    interrupted "optimal" is reported as "feasible" (the proof was cut short).
    ``live``: a status line on the terminal; else ``progress``: one
    ``progress_line`` per improving solution on stderr.
    """
    def pump(show: Any) -> None:
        while True:
            ended = handle.wait(0.1)
            for p in handle.drain():      # the last events too, once it has ended
                if show is not None and p.objective is not None:
                    show(p)
            if ended:
                return

    with Interrupts(handle.stop) as intr:
        if live:
            with err.status("solving…") as status:
                pump(lambda p: status.update(
                    f"stage {p.stage + 1}/{p.stages} {p.metric}: best {p.objective:g}, "
                    f"bound {p.bound:g}, {p.elapsed_s:.1f} s"))
        else:
            pump((lambda p: err.print(progress_line(p), markup=False)) if progress else None)
        result = handle.result()
    if intr.hit and result.status == "optimal":
        result = result.model_copy(update={"status": "feasible"})
    return result, intr.hit
