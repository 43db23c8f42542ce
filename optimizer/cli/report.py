"""`roadmap report`: the briefing of a scenario's roadmap, as HTML or PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optimizer.cli.common import EXIT_INVALID, err, fail, load, load_plan

# The briefing's defaults, without importing the engine for `roadmap --help`.
STRESS_SAMPLES = 5_000
STRESS_SEED = 0


def report(
    scenario: Annotated[str, typer.Argument(help="Scenario file or built-in dataset name.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Where to write the briefing: "
                        "FILE.pdf (printed by headless Chromium) or FILE.html.")],
    plan: Annotated[Path | None, typer.Option("--plan", help="A result file of this scenario "
                    "(from `roadmap solve --out`); without it the scenario is solved.")] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", min=0.01,
                          help="Seconds for the solve when no --plan is given.")] = 30.0,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1, max=64,
                       help="CP-SAT workers for the solve.")] = None,
    samples: Annotated[int, typer.Option("--samples", min=0, max=1_000_000,
                       help="Stress-test realisations of the roadmap (0: no stress test).")
                       ] = STRESS_SAMPLES,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the stress test.")
                    ] = STRESS_SEED,
) -> None:
    """Write a briefing a decision-maker can read: summary, exchange view, exposure, stress
    test, corrections when infeasible, rules, sources."""
    suffix = out_file.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        fail(f"{out_file}: --out must end in .pdf or .html")
    sc = load(scenario)
    from models import SolveOptions

    if plan is not None:
        result = load_plan(plan)
        known = {c.id for c in sc.concessions}
        stray = [e.id for e in result.schedule if e.id not in known]
        if stray:
            fail(f"{plan}: schedule[].id '{stray[0]}' is not a concession of {scenario}")
    else:
        from optimizer.api import solve

        opts = SolveOptions(time_limit_s=time_limit)
        if workers:
            opts.workers = workers
        result = solve(sc, opts)
    from optimizer.studies.briefing import BriefingError, briefing, html_to_pdf, render_html

    # An infeasible scenario's corrections get the solve's time limit (as `roadmap explain`).
    page = render_html(briefing(sc, result, samples=samples, seed=seed,
                                time_limit_s=time_limit, workers=workers or 1))
    if suffix == ".pdf":
        try:
            html_to_pdf(page, out_file)
        except BriefingError as exc:
            err.print(str(exc), markup=False)
            raise typer.Exit(EXIT_INVALID) from None
    else:
        tmp = out_file.with_name(out_file.name + ".part")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(out_file)
    err.print(f"briefing written to {out_file} ({result.status})", markup=False)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
