"""The briefing's stress-test and corrections sections, in words.

The figures are the engines' own: ``optimizer.studies.stress.stress`` (a fixed
seed and sample count, both said in the text, so anyone can rerun
``roadmap stress SCENARIO --samples N --seed S`` and get the same numbers) and
``optimizer.explain.corrections.find_corrections`` phrased by
``correction_sentence`` — the engine and the words of ``roadmap explain``.

Why 5,000 samples: on the seed the stress test takes 0.23 s at 5,000 (0.11 s
at 1,000), and its percentiles move by at most one month and its breach
probabilities by under 1.5 points between 2,000 and 5,000 samples; the PDF
print (3-4 s) dominates the report's time either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models import Result, Scenario
from models.result import Correction
from optimizer.studies.charts import when
from optimizer.studies.stress import PlanNotSolved, StressReport, stress

STRESS_SAMPLES = 5_000
STRESS_SEED = 0
CORRECTIONS = 3
TOP_DRIVERS = 5
DRIVER_WORDS = {"delay": "a slip of", "verification_delay": "a late check of"}


@dataclass
class StressSection:
    samples: int
    seed: int
    described: bool                 # the scenario has an `uncertainty` section
    about: str                      # the scenario's own words on its uncertainty
    finish: list[tuple[str, str]]   # (figure, value in words)
    caps: list[tuple[str, int, float]]           # (whose cap, max, breach probability)
    peaks: list[tuple[str, dict[str, Any], int | None]]   # (side, P50/P80/P95, cap)
    broken: list[tuple[str, float]]              # (rule in words, broken probability)
    drivers: list[str]                           # the top drivers, in words
    headline: str                                # one sentence for page 1
    report: StressReport | None = field(default=None, repr=False)


@dataclass
class CorrectionsSection:
    sentences: list[str]            # cheapest first, each with its cost
    costs: list[int]
    conflict: str                   # the minimal conflict grouped by party and kind
    stopped: bool


def pct(p: float) -> str:
    """'91.8%' — one decimal, as `roadmap stress` prints it."""
    return f"{100 * p:.1f}%"


def _rule_words(sc: Scenario, rid: str) -> str:
    rule = next((r for r in sc.rules if r.id == rid), None)
    return (rule.text or rid) if rule is not None else rid


def _cap_owner(sc: Scenario, cap: dict[str, Any]) -> str:
    names = {p.id: p.name or p.id for p in sc.parties}
    return " and ".join(names.get(p, p) for p in cap["parties"])


def _drivers(sc: Scenario, report: StressReport) -> list[str]:
    titles = {c.id: c.label for c in sc.concessions}
    out = []
    for t in report.tornado[:TOP_DRIVERS]:
        parts = []
        if t["makespan"] is not None:
            parts.append(f"{t['makespan']:+.2f} with the finish")
        peaks = [(p, r) for p, r in t["peak"].items() if p in sc.principal_ids and r is not None]
        parts += [f"{r:+.2f} with the {p} peak" for p, r in peaks]
        out.append(f"{DRIVER_WORDS.get(t['driver'], t['driver'])} "
                   f"{titles.get(t['concession'], t['concession'])} (rank correlation "
                   + ", ".join(parts) + ")")
    return out


def stress_section(sc: Scenario, result: Result, samples: int = STRESS_SAMPLES,
                   seed: int = STRESS_SEED) -> StressSection | None:
    """The stress test of a solved roadmap (None when there is no roadmap or samples is 0)."""
    if not result.solved or samples <= 0:
        return None
    try:
        rep = stress(sc, result, samples=samples, seed=seed)
    except (PlanNotSolved, ValueError):
        return None
    mk = rep.makespan
    finish = [("Planned end", when(sc, rep.plan_makespan))]
    if mk["p50"] is not None:
        finish += [(f"Ends by (P{q})", when(sc, mk[f"p{q}"])) for q in (50, 80, 95)]
    finish.append(("Stalls", f"{pct(rep.stall_probability)} of realisations (a verification "
                             "never comes, so what waits on it never starts)"))
    caps = [(_cap_owner(sc, c), int(c["max"]), float(c["breach_probability"]))
            for c in rep.caps]
    names = {p.id: p.name or p.id for p in sc.parties}
    peaks = [(names.get(p["party"], p["party"]), p["peak"], p["cap"]) for p in rep.parties
             if p["party"] in sc.principal_ids]
    broken = sorted(((_rule_words(sc, r["rule"]), float(r["broken_probability"]))
                     for r in rep.rules if r["broken_probability"] > 0),
                    key=lambda x: -x[1])
    unc = sc.uncertainty
    parts = [f"{rep.samples:,} realisations (seed {rep.seed})"]
    for owner, cap, p in sorted(caps, key=lambda c: -c[2])[:2]:
        parts.append(f"the {owner} cap of {cap} is exceeded in {pct(p)}")
    if mk["p80"] is not None:
        parts.append(f"the roadmap ends by {when(sc, mk['p80'])} in 80% of those that do not "
                     f"stall (planned {when(sc, rep.plan_makespan)})")
    parts.append(f"it stalls in {pct(rep.stall_probability)}")
    headline = "Stress test, " + parts[0] + ": " + "; ".join(parts[1:]) + "."
    return StressSection(
        samples=rep.samples, seed=rep.seed, described=unc is not None,
        about=(unc.text or "") if unc is not None else "",
        finish=finish, caps=caps, peaks=peaks, broken=broken[:6],
        drivers=_drivers(sc, rep), headline=headline, report=rep)


def corrections_section(sc: Scenario, result: Result, *,
                        found: list[Correction] | None = None,
                        bills: list[dict[str | None, int]] | None = None,
                        time_limit_s: float = 30.0, workers: int = 1,
                        k: int = CORRECTIONS) -> CorrectionsSection | None:
    """The cheapest corrections of an infeasible scenario in words (None otherwise).

    ``found`` (with its ``bills``) reuses corrections already searched, e.g.
    by the app's Explain tab; without it they are searched here.
    """
    from optimizer.explain.corrections import bills as bills_of
    from optimizer.explain.corrections import find_corrections
    from optimizer.explain.corrections.words import (
        conflict_keys,
        correction_sentence,
        grouped_conflict,
    )

    if result.status != "infeasible":
        return None
    stopped = False
    if found is None:
        report = find_corrections(sc, k, time_limit_s=time_limit_s, workers=workers)
        found, stopped = report.corrections, report.stopped
        bills = [bills_of(specs) for specs in report.specs]
    if bills is None or len(bills) != len(found):
        bills = [{} for _ in found]
    conflict = ""
    if result.conflict is not None:
        keys = conflict_keys(result.conflict)
        conflict = grouped_conflict(sc, keys) if keys else result.conflict.message
    return CorrectionsSection(
        sentences=[correction_sentence(sc, c, b) for c, b in zip(found, bills, strict=True)],
        costs=[c.cost for c in found], conflict=conflict, stopped=stopped)
