"""`roadmap explain SCENARIO`: why it is infeasible, or what binds the schedule.

For an infeasible scenario it leads with the cheapest correction in words
(SPEC §5.6), then the other corrections, then the minimal conflict grouped by
party and kind; ``--full`` adds every element of the conflict and the
smallest fix of each. The explanation runs in a worker thread: SIGINT/SIGTERM
stop it at once, and what was found so far is printed (exit 130).

Exit 0 whatever the answer (an explanation was given), 2 for invalid input
with the one-line ``ScenarioError`` message on stderr, 130 when stopped.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from models import Scenario
    from optimizer.explain.explanation import Explanation

from optimizer.cli.common import EXIT_INTERRUPTED, EXIT_INVALID, Interrupts


class ExplainFormat(StrEnum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command(name="explain")(explain)


def explain(
    scenario: Annotated[str, typer.Argument(help="Scenario file or built-in dataset name.")],
    fmt: Annotated[ExplainFormat, typer.Option("--format", "-f", help="What to print.")
                   ] = ExplainFormat.table,
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", min=0.01,
                          help="Seconds for the solve (and again for the explanation).")
                          ] = 30.0,
    corrections: Annotated[int, typer.Option("--corrections", "-k", min=0,
                           help="How many corrections (cheapest first) for an infeasible "
                                "scenario.")] = 3,
    balanced: Annotated[bool, typer.Option("--balanced", help=(
        "Order corrections by the largest cost charged to one principal, then the total."))
                        ] = False,
    full: Annotated[bool, typer.Option("--full", help=(
        "List every element of the conflict and the smallest fix of each."))] = False,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1,
                       help="CP-SAT workers for the solves.")] = 2,
) -> None:
    """Explain a scenario: when it is infeasible, the cheapest corrections and the
    minimal conflict grouped by party and kind (--full: every element and its
    smallest fix); else each step's slack, the tight rules, the critical chain
    and each party's worst moment to be abandoned."""
    import json

    from models import ScenarioError, SolveOptions, load_scenario

    err = Console(stderr=True, highlight=False)
    try:
        sc = load_scenario(scenario)
    except ScenarioError as exc:
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None
    opts = SolveOptions(time_limit_s=time_limit, workers=workers)
    report, interrupted = _run(sc, opts, corrections, balanced, full, err)
    if fmt is ExplainFormat.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        show(sc, report, Console(highlight=False), full=full)
    if interrupted:
        err.print("Stopped: what is shown is what was found so far (not proven).")
        raise typer.Exit(EXIT_INTERRUPTED)


def _run(sc: Scenario, opts: Any, k: int, balanced: bool, full: bool,
         err: Console) -> tuple[Explanation, bool]:
    """The explanation in a worker thread, so that a signal stops it at once."""
    import queue
    import threading

    from optimizer.explain.explanation import explain_scenario
    from optimizer.solving.handle import StopControl

    control = StopControl()
    messages: queue.Queue[str] = queue.Queue()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["report"] = explain_scenario(sc, opts, corrections=k, balanced=balanced,
                                             suggest=full, control=control,
                                             on_progress=messages.put)
        except BaseException as exc:  # re-raised in the main thread
            box["error"] = exc

    thread = threading.Thread(target=work, name="roadmap-explain", daemon=True)
    with Interrupts(control.stop) as intr:
        thread.start()
        last = ""
        while thread.is_alive():
            thread.join(0.05)
            while not messages.empty():
                msg = messages.get_nowait()
                # Stage changes always; running figures only on a terminal.
                if err.is_terminal or "best cost" not in msg:
                    if msg != last:
                        err.print(f"… {msg}", markup=False, highlight=False)
                    last = msg
    if "error" in box:
        raise box["error"]
    return box["report"], intr.hit


def show(sc: Scenario, report: Explanation, out: Console, full: bool = False) -> None:
    out.print(f"[bold]{sc.name}[/] — status: [bold]{report.status}[/]")
    if report.status == "infeasible":
        _corrections(sc, report, out)
    if report.conflict is not None:
        _grouped(sc, report, out)
        if full:
            _conflict(report, out)
    elif report.binding is not None:
        _binding(sc, report, out)
    else:
        out.print("No schedule was found within the time limit, so there is nothing to "
                  "explain yet; try a longer --time-limit.")


def _corrections(sc: Scenario, report: Explanation, out: Console) -> None:
    from optimizer.explain.corrections.words import correction_sentence

    found = report.corrections
    if not found:
        out.print("No correction was found" + (" before the stop." if report.stopped else
                  " within the time limit and the positions allowed to change."))
        return
    bills = report.bills if len(report.bills) == len(found) else [{} for _ in found]
    out.print("[bold]Cheapest correction:[/] " + correction_sentence(sc, found[0], bills[0]),
              highlight=False)
    for n, c in enumerate(found[1:], start=2):
        out.print(f"  {n}. " + correction_sentence(sc, c, bills[n - 1]), markup=False,
                  highlight=False)
    if report.stopped:
        out.print("(Stopped early: these are the corrections found so far.)")


def _grouped(sc: Scenario, report: Explanation, out: Console) -> None:
    from optimizer.explain.corrections.words import conflict_keys, grouped_conflict

    c = report.conflict
    assert c is not None
    keys = conflict_keys(c)
    if not keys:
        out.print(c.message, markup=False)
        return
    out.print(f"[bold]Minimal conflict[/] ({len(keys)} positions that cannot all hold): "
              + grouped_conflict(sc, keys) + ".", highlight=False)
    out.print("Run with --full for every position and its smallest fix.", style="dim")


def _conflict(report: Explanation, out: Console) -> None:
    c = report.conflict
    assert c is not None
    out.print(c.message, markup=False)
    table = Table(title="Positions that collide", title_justify="left")
    table.add_column("element", overflow="fold")
    table.add_column("meaning", overflow="fold")
    for line in c.explanations:
        element, _, sentence = line.partition(": ")
        table.add_row(element, sentence)
    out.print(table)
    if c.suggestions:
        sug = Table(title="Smallest changes", title_justify="left")
        for col in ("element", "change", "set", "resolves"):
            sug.add_column(col, overflow="fold")
        for s in c.suggestions:
            sug.add_row(s.element, s.change, f"{s.path} = {_fmt(s.value)}",
                        "the whole scenario" if s.resolves == "scenario"
                        else "this conflict only")
        out.print(sug)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _binding(sc: Scenario, report: Explanation, out: Console) -> None:
    from optimizer.explain.phrasing import title

    b = report.binding
    unit = sc.time_unit
    slack = Table(title=f"Slack ({unit}s, others fixed)", title_justify="left")
    for col in ("concession", "start", "end", "earlier", "later"):
        slack.add_column(col, overflow="fold")
    for s in b.slack:
        slack.add_row(title(sc, s.concession), str(s.start), str(s.end),
                      "?" if s.earlier is None else str(s.earlier),
                      "?" if s.later is None else str(s.later))
    out.print(slack)
    tight = Table(title="What binds (tight at the optimum)", title_justify="left")
    for col in ("element", "when", "detail"):
        tight.add_column(col, overflow="fold")
    for t in b.tight:
        tight.add_row(t.element, "" if t.time is None else str(t.time), t.detail)
    out.print(tight)
    chain = Table(title=f"Critical chain (makespan {b.makespan})", title_justify="left")
    for col in ("concession", "start", "end", "held by"):
        chain.add_column(col, overflow="fold")
    for link in b.critical_chain:
        chain.add_row(title(sc, link.concession), str(link.start), str(link.end),
                      link.detail if link.via else f"first: {link.detail}")
    out.print(chain)
    cliff = Table(title="Defection exposure (worst moment to be abandoned)",
                  title_justify="left")
    for col in ("party", "when", "level", "cap", "after"):
        cliff.add_column(col, overflow="fold")
    for p in report.defection:
        cliff.add_row(p.party, "—" if p.worst_time is None else str(p.worst_time),
                      str(p.worst_level), "—" if p.cap is None else str(p.cap),
                      ", ".join(title(sc, c) for c in p.after) or "—")
    out.print(cliff)
