"""The readable terminal view of a Result: concessions grouped by phase."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from models.calendar import label
from models.result import Result
from models.scenario import Scenario

STATUS_STYLE = {"optimal": "bold green", "feasible": "bold yellow",
                "infeasible": "bold red", "unknown": "bold red"}


def _when(sc: Scenario, t: int | None) -> str:
    if t is None:
        return "—"
    cal = label(sc, t)
    return f"{t} ({cal})" if cal else str(t)


def schedule_table(sc: Scenario, result: Result) -> Table:
    titles = {c.id: c.label for c in sc.concessions}
    names = {p.id: (p.name or p.id) for p in sc.effective_phases}
    unit = sc.time_unit
    table = Table(title=f"{sc.name} — phased roadmap ({unit}s)", title_justify="left",
                  show_lines=False, expand=False)
    table.add_column("Phase / concession", overflow="fold", min_width=28)
    table.add_column("Party", no_wrap=True)
    table.add_column("Start", justify="right", no_wrap=True)
    table.add_column("End", justify="right", no_wrap=True)
    table.add_column("Verified", justify="right", no_wrap=True)
    by_phase: dict[str, list] = {p.id: [] for p in result.phases}  # type: ignore[type-arg]
    absent = []
    for entry in result.schedule:
        if entry.present and entry.phase is not None:
            by_phase.setdefault(entry.phase, []).append(entry)
        else:
            absent.append(entry)
    for ph in result.phases:
        window = f"{_when(sc, ph.start)} – {_when(sc, ph.end)}"
        head = names.get(ph.id) or ph.id
        head = head if head == ph.id else f"{head} [{ph.id}]"
        table.add_row(Text(f"{head}  {window}", style="bold cyan"),
                      "", "", "", "", end_section=False)
        rows = sorted(by_phase.get(ph.id, []), key=lambda e: (e.start, e.end, e.id))
        if not rows:
            table.add_row(Text("  (nothing starts in this phase)", style="dim"), "", "", "", "")
        for e in rows:
            table.add_row(f"  {titles.get(e.id, e.id)}", e.party, _when(sc, e.start),
                          _when(sc, e.end), _when(sc, e.verified))
        table.add_section()
    if absent:
        table.add_row(Text("Left out (optional)", style="bold magenta"), "", "", "", "")
        for e in absent:
            table.add_row(f"  {titles.get(e.id, e.id)}", e.party, "—", "—", "—")
    return table


def ledger_table(sc: Scenario, result: Result) -> Table | None:
    """Per principal (SPEC §5.1, §5.4): the peak and when, and the four ledger figures
    as each phase closes (its last time unit, ``end - 1``) and after the ledger's last change.
    """
    if not result.ledger:
        return None
    names = {p.id: (p.name or p.id) for p in sc.effective_phases}
    table = Table(title="Ledger by principal (exposure = at risk − received)",
                  title_justify="left", expand=False)
    table.add_column("Principal / as of", overflow="fold", min_width=20)
    table.add_column("Time", justify="right", no_wrap=True)
    for col in ("Delivered", "Received", "At risk", "Exposure"):
        table.add_column(col, justify="right", no_wrap=True)
    for party in sc.principal_ids:
        lg = result.ledger.get(party)
        if lg is None:
            continue
        when = lg.peak_time()
        peak = f"peak {lg.peak}" + ("" if when is None else f" at {_when(sc, when)}")
        table.add_row(Text(f"{party}  {peak}", style="bold cyan"), "", "", "", "", "")
        for ph in result.phases:
            t = max(ph.end - 1, ph.start)
            d, r, a, e = lg.at(t)
            table.add_row(f"  end of {names.get(ph.id) or ph.id}", _when(sc, t),
                          str(d), str(r), str(a), str(e))
        last = lg.points[-1]
        table.add_row("  after the last change", _when(sc, last[0]),
                      *(str(x) for x in last[1:]))
        table.add_section()
    return table


def summary(sc: Scenario, result: Result) -> Group:
    lines: list[Text] = []
    status = Text(f"status: {result.status}", style=STATUS_STYLE.get(result.status, ""))
    solver = result.solver
    status.append(f"   solver: {solver.name} {solver.version}, {solver.workers} worker(s), "
                  f"seed {solver.seed}, {solver.wall_time_s:.2f} s"
                  + (f" of {solver.time_limit_s:g} s" if solver.time_limit_s else ""),
                  style="dim")
    lines.append(status)
    if result.metrics is not None:
        m = result.metrics
        lines.append(Text(
            f"makespan {m.makespan} {sc.time_unit}s · peak exposure {m.peak_exposure} · "
            f"weighted completion {m.weighted_completion} · excluded value {m.excluded_value} · "
            f"phase imbalance {m.phase_imbalance}"))
    for k, entry in enumerate(result.objective, 1):
        bound = "—" if entry.bound is None else str(entry.bound)
        weight = f" ×{entry.weight}" if entry.weight is not None else ""
        lines.append(Text(f"  objective {k}: {entry.metric}{weight} = {entry.value} "
                          f"(bound {bound})", style="dim"))
    return Group(*lines)


def render(console: Console, sc: Scenario, result: Result) -> None:
    if result.solved:
        console.print(schedule_table(sc, result))
    console.print(summary(sc, result))
    ledger = ledger_table(sc, result) if result.solved else None
    if ledger is not None:
        console.print(ledger)
    if result.conflict is not None:
        c = result.conflict
        console.print(Text("No roadmap satisfies all of these at once:", style="bold red"))
        items = c.explanations or ([f"rule {r}" for r in c.rules]
                                   + [str(d.spec_dict()) for d in c.demands])
        for line in items:
            console.print(f"  • {line}", markup=False)
        if c.suggestions:
            console.print(Text("Smallest changes (each found by re-solving):", style="bold"))
            ordered = sorted(c.suggestions, key=lambda s: s.resolves != "scenario")
            for s in ordered:
                note = "" if s.resolves == "scenario" else \
                    "  (lifts this conflict; another remains)"
                console.print(f"  → {s.change}{note}", markup=False)
        elif c.message:
            console.print(c.message)
    elif result.status == "unknown":
        console.print(Text("No schedule found within the time limit; try a longer "
                           "--time-limit.", style="red"))
