"""The stress report as Rich tables (``roadmap stress --format table``)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from optimizer.studies.stress.report import StressReport


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def _num(v: Any) -> str:
    return "—" if v is None else str(v)


def render(console: Console, report: StressReport, *, name: str = "", unit: str = "") -> None:
    mk = report.makespan
    console.print(f"[bold]Stress test[/] {name}: {report.samples} samples, seed {report.seed}; "
                  f"planned makespan {report.plan_makespan} {unit}s; "
                  f"makespan P50/P80/P95 {_num(mk['p50'])}/{_num(mk['p80'])}/{_num(mk['p95'])}; "
                  f"stall probability {_pct(report.stall_probability)}")
    caps = Table(title="Exposure caps")
    for col in ("rule", "parties", "max", "breach probability"):
        caps.add_column(col)
    for c in report.caps:
        caps.add_row(c["rule"], ", ".join(c["parties"]), str(c["max"]),
                     _pct(c["breach_probability"]))
    console.print(caps)
    parties = Table(title="Peak exposure per party")
    for col in ("party", "P50", "P80", "P95", "cap", "riskiest time", "P(> cap) then"):
        parties.add_column(col)
    for p in report.parties:
        pk = p["peak"]
        parties.add_row(p["party"], _num(pk["p50"]), _num(pk["p80"]), _num(pk["p95"]),
                        _num(p["cap"]), _num(p["breach_time"]),
                        _pct(p["breach_time_probability"]) if p["cap"] is not None else "—")
    console.print(parties)
    if report.rules:
        rules = Table(title="Lags and gaps")
        rules.add_column("rule")
        rules.add_column("broken probability")
        for r in report.rules:
            rules.add_row(r["rule"], _pct(r["broken_probability"]))
        console.print(rules)
    if report.tornado:
        tor = Table(title="What drives it (Spearman rank correlation)")
        tor.add_column("concession")
        tor.add_column("driver")
        tor.add_column("makespan")
        party_names = [p["party"] for p in report.parties]
        for party in party_names:
            tor.add_column(f"peak {party}")
        for t in report.tornado:
            tor.add_row(t["concession"], t["driver"], _rho(t["makespan"]),
                        *(_rho(t["peak"].get(party)) for party in party_names))
        console.print(tor)
    conc = Table(title="Concessions")
    for col in ("concession", "end P50", "end P80", "criticality", "started"):
        conc.add_column(col)
    for c in report.concessions:
        conc.add_row(c["id"], _num(c["end"]["p50"]), _num(c["end"]["p80"]),
                     _pct(c["criticality"]), _pct(c["started_probability"]))
    console.print(conc)


def _rho(v: float | None) -> str:
    return "—" if v is None else f"{v:+.2f}"
