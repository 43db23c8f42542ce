"""`roadmap explain SCENARIO`: why it is infeasible, or what binds the schedule.

Exit 0 whatever the answer (an explanation was given), 2 for invalid input
with the one-line ``ScenarioError`` message on stderr.
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

from optimizer.cli.common import EXIT_INVALID


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
) -> None:
    """Explain a scenario: a minimal conflict with the smallest fixes when it is
    infeasible, else each step's slack, the tight rules, the critical chain
    and each party's worst moment to be abandoned."""
    import json

    from models import ScenarioError, SolveOptions, load_scenario
    from optimizer.explain.explanation import explain_scenario

    err = Console(stderr=True, highlight=False)
    try:
        sc = load_scenario(scenario)
    except ScenarioError as exc:
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None
    report = explain_scenario(sc, SolveOptions(time_limit_s=time_limit, workers=1))
    if fmt is ExplainFormat.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return
    show(sc, report, Console(highlight=False))


def show(sc: Scenario, report: Explanation, out: Console) -> None:
    out.print(f"[bold]{sc.name}[/] — status: [bold]{report.status}[/]")
    if report.conflict is not None:
        _conflict(report, out)
    elif report.binding is not None:
        _binding(sc, report, out)
    else:
        out.print("No schedule was found within the time limit, so there is nothing to "
                  "explain yet; try a longer --time-limit.")


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
