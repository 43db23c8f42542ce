"""``roadmap backtest DATASET``: history's schedule next to the optimizer's roadmap.

Exit codes follow ``roadmap solve``: 0 when the optimizer found a roadmap,
1 when the scenario is infeasible (the observed side is still printed),
3 when no roadmap was found in time, 2 for invalid input or a scenario
without an ``observed:`` section.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from optimizer.studies.backtest import Backtest


class BacktestFmt(StrEnum):
    table = "table"
    json = "json"


SHOWN_PAIRS = 10
VERDICT_STYLE = {"held": "green", "derived from history": "yellow", "broken": "bold red",
                 "vacuous": "dim"}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _tau(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def _curve(points: list[tuple[int, int]]) -> str:
    return "  ".join(f"{t}:{lv}" for t, lv in points) or "0:0"


def render_backtest_table(console: Console, bt: Backtest) -> None:
    from rich.table import Table

    sc = bt.scenario
    assert sc.observed is not None
    console.print(f"[bold]{sc.name}[/] — backtest ({sc.time_unit}s"
                  f"{', from ' + sc.calendar_start if sc.calendar_start else ''})")
    if sc.observed.source:
        console.print(f"[dim]history: {sc.observed.source}[/]", markup=True)
    console.print(f"optimizer: {bt.optimized.status}")

    metrics = Table(title="Metrics")
    for col in ("metric", "history", "optimizer"):
        metrics.add_column(col, justify="left" if col == "metric" else "right")
    for party, obs_peak, opt_peak in bt.principal_rows():   # the principals first (§5.1)
        metrics.add_row(f"peak exposure {party}", "—" if obs_peak is None else str(obs_peak),
                        "—" if opt_peak is None else str(opt_peak))
    for name, obs, opt in bt.metrics_rows():
        metrics.add_row(name, str(obs), "—" if opt is None else str(opt))
    console.print(metrics)

    curves = Table(title="Exposure curves (t:level at each change)")
    for col in ("party", "history", "optimizer"):
        curves.add_column(col, overflow="fold")
    for p in sc.party_ids:
        curves.add_row(p, _curve(bt.observed.exposure.get(p, [])),
                       _curve(bt.optimized.exposure.get(p, [])) if bt.optimized.solved else "—")
    console.print(curves)

    if bt.ordering is not None:
        o = bt.ordering
        console.print(f"Ordering agreement: {o.same_order}/{o.precedence_pairs} historical "
                      f"precedence pairs kept ({_pct(o.share)}); Kendall tau-b over "
                      f"{o.common} common starts = {_tau(o.tau_b)} "
                      f"(concordant {o.concordant}, discordant {o.discordant})")
        for a, b in o.reversed_pairs[:SHOWN_PAIRS]:
            console.print(f"  [dim]history: {a} before {b}; optimizer: not[/]", markup=True)
        if len(o.reversed_pairs) > SHOWN_PAIRS:
            console.print(f"  [dim]… and {len(o.reversed_pairs) - SHOWN_PAIRS} more "
                          "(--format json lists all)[/]", markup=True)

    rules = Table(title="Rules on the historical schedule")
    for col in ("rule", "kind", "tags", "verdict", "detail"):
        rules.add_column(col, overflow="fold")
    for v in bt.rules:
        verdict = v.verdict if v.enabled else f"{v.verdict} (disabled)"
        rules.add_row(v.id, v.kind, ", ".join(v.tags),
                      f"[{VERDICT_STYLE[v.verdict]}]{verdict}[/]",
                      "; ".join(v.violations) or (v.text or ""))
    console.print(rules)

    tags = Table(title="By tag (enabled rules)")
    for col in ("tag", "held", "derived", "broken", "vacuous", "broken rules"):
        tags.add_column(col)
    for tag, g in bt.tags.items():
        tags.add_row(tag, str(g["held"]), str(g["derived from history"]), str(g["broken"]),
                     str(g["vacuous"]),
                     ", ".join(g["broken_rules"]))
    console.print(tags)
    held = "holds" if bt.agreement_held else "does NOT hold"
    console.print(f"Rules tagged 'agreement': the historical schedule {held}.")
    for issue in bt.schedule_issues:
        console.print(f"  [yellow]history vs. scenario:[/] {issue}", markup=True)


def register(app: typer.Typer) -> None:
    @app.command()
    def backtest(
        dataset: Annotated[str, typer.Argument(help="Built-in dataset name or scenario file "
                                                    "with an 'observed:' section.")],
        fmt: Annotated[BacktestFmt, typer.Option("--format", "-f", help="What to print.")
                       ] = BacktestFmt.table,
        time_limit: Annotated[float, typer.Option("--time-limit", "-t", min=0.01,
                              help="Seconds for the optimizer's solve.")] = 30.0,
        workers: Annotated[int | None, typer.Option("--workers", "-w", min=1, max=64,
                           help="CP-SAT workers (default: cores, at most 8).")] = None,
        seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed.")] = 0,
    ) -> None:
        """Evaluate the historical schedule of a dataset and compare it with the optimizer's.

        Exit codes: 0 compared, 1 the scenario is infeasible, 2 invalid input or no
        observed schedule, 3 no roadmap within the time limit.
        """
        import json

        from models import ScenarioError, SolveOptions
        from optimizer.cli.common import err, load, out, status_exit
        from optimizer.studies.backtest import backtest as run_backtest

        sc = load(dataset)
        opts = SolveOptions(time_limit_s=time_limit, seed=seed)
        if workers:
            opts = opts.model_copy(update={"workers": workers})
        try:
            bt = run_backtest(sc, opts)
        except ScenarioError as exc:
            exc.file = exc.file or dataset
            err.print(exc.format(), markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        if fmt is BacktestFmt.json:
            sys.stdout.write(json.dumps(bt.to_dict(), indent=2, ensure_ascii=False) + "\n")
        else:
            render_backtest_table(out, bt)
        raise typer.Exit(status_exit(bt.optimized))
