"""Re-planning from the state of play (SPEC §5.5) and the next package to table.

``with_as_of`` moves the present to T, taking every step a plan started
before T (and that the record does not list) as having gone as planned;
``replan`` solves from the record with a last ``deviation`` stage when a plan
is given; ``next_package`` lists the steps of the next N time units, each
principal's ledger at the end of that window, and whether the package is
self-enforcing by the scenario's caps if nothing after it happens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from models.extensions import Progress, ProgressStep
from models.options import SolveOptions
from models.result import Result
from models.rules import Exposure
from models.scenario import Scenario
from models.validation import ScenarioError, check_step_times
from optimizer.api import Progress as SolveProgress
from optimizer.api import SolveHandle, StopControl, solve
from optimizer.model.derived import derive_all


def with_as_of(sc: Scenario, plan: Result | None, as_of: int, source: str = "--as-of") -> Scenario:
    """The scenario with ``progress.as_of`` = T and the plan's steps before T recorded.

    Raises ScenarioError (exit 2) when T is earlier than the recorded present
    or outside the horizon.
    """
    current = sc.progress
    if current is not None and as_of < current.as_of:
        raise ScenarioError(f"{source} {as_of} is earlier than progress.as_of {current.as_of}",
                            path="progress.as_of", value=as_of)
    if not 0 <= as_of <= sc.horizon:
        raise ScenarioError(f"{source} must lie in [0, horizon {sc.horizon}]",
                            path="progress.as_of", value=as_of)
    steps = list(current.steps) if current is not None else []
    listed = {s.id for s in steps}
    for k, s in enumerate(steps):
        check_step_times(s, as_of, f"progress.steps[{k}]", what=source)
    if plan is not None:
        known = {c.id for c in sc.concessions}
        for row in plan.schedule:
            if row.id not in known:
                raise ScenarioError("the plan names a concession the scenario does not have",
                                    path="plan.schedule.id", value=row.id)
            if not row.present or row.start is None or row.end is None or row.id in listed:
                continue
            if row.start < as_of:
                done = row.end <= as_of
                steps.append(ProgressStep(id=row.id, start=row.start,
                                          end=row.end if done else None,
                                          note="as planned (--as-of)"))
    source_note = current.source if current is not None else None
    return sc.model_copy(update={"progress": Progress(as_of=as_of, steps=steps,
                                                      source=source_note)})


def planned_starts(plan: Result) -> dict[str, int]:
    return {s.id: s.start for s in plan.schedule if s.present and s.start is not None}


def effective_scenario(sc: Scenario, plan: Result | None = None,
                       as_of: int | None = None) -> Scenario:
    """The scenario a re-plan solves: ``--as-of`` applied; without progress the present is 0."""
    if as_of is not None:
        return with_as_of(sc, plan, as_of)
    if sc.progress is None:
        return sc.model_copy(update={"progress": Progress(as_of=0)})
    return sc


def replan(sc: Scenario, plan: Result | None = None, options: SolveOptions | None = None,
           as_of: int | None = None, *,
           on_progress: Callable[[SolveProgress], None] | None = None,
           control: StopControl | None = None) -> tuple[Scenario, Result]:
    """(the scenario solved, its result). Without progress the present is 0."""
    sc = effective_scenario(sc, plan, as_of)
    planned = planned_starts(plan) if plan is not None else None
    return sc, solve(sc, options, planned=planned, on_progress=on_progress, control=control)


def start_replan(sc: Scenario, plan: Result | None = None, options: SolveOptions | None = None,
                 as_of: int | None = None) -> tuple[Scenario, SolveHandle]:
    """The same re-plan in a worker thread (progress queue, ``stop()``), for the CLI's
    interrupts and the app's Stop. Bad input raises ScenarioError here, before the thread."""
    effective = effective_scenario(sc, plan, as_of)
    planned = planned_starts(plan) if plan is not None else None

    def target(scenario: Scenario, opts: SolveOptions | None,
               report: Callable[[SolveProgress], None], ctl: StopControl) -> Result:
        return solve(scenario, opts, planned=planned, on_progress=report, control=ctl)

    return effective, SolveHandle(target, effective, options)


# -- the next package ---------------------------------------------------------
@dataclass
class Position:
    """A principal's ledger (SPEC §5.4 figures) at one time."""

    party: str
    delivered: int
    received: int
    at_risk: int
    exposure: int


@dataclass
class Shortfall:
    rule: str
    party: str
    cap: int
    exposure: int
    uncovered: list[str]            # own steps (latest first) whose risk the cap does not cover
    pending: list[tuple[str, int]]  # credits due after the window: (step, counts from)
    covered_at: int | None          # when pending credit alone would bring it within the cap

    def sentence(self, unit: str) -> str:
        over = self.exposure - self.cap
        text = (f"NOT self-enforcing for {self.party} under {self.rule}: if nothing after the "
                f"package happens, {self.party}'s exposure is {self.exposure}, {over} over the "
                f"cap {self.cap}")
        if self.uncovered:
            text += f"; uncovered: {', '.join(self.uncovered)}"
        if self.covered_at is not None:
            text += (f"; it would be covered if the package ran to {self.covered_at} "
                     f"(pending verification of {', '.join(c for c, _ in self.pending)})")
        elif self.uncovered:
            text += f"; hold back {self.uncovered[0]} or add verified credit of {over}"
        return text + "."


@dataclass
class Package:
    as_of: int
    until: int                                   # the window is [as_of, until)
    steps: dict[str, list[dict[str, Any]]]       # party -> rows
    ledger: list[Position]
    shortfalls: list[Shortfall] = field(default_factory=list)

    @property
    def self_enforcing(self) -> bool:
        return not self.shortfalls

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of, "until": self.until,
            "steps": self.steps,
            "ledger": {p.party: {"delivered": p.delivered, "received": p.received,
                                 "at_risk": p.at_risk, "exposure": p.exposure}
                       for p in self.ledger},
            "self_enforcing": self.self_enforcing,
            "shortfalls": [{"rule": s.rule, "party": s.party, "cap": s.cap,
                            "exposure": s.exposure, "uncovered": s.uncovered,
                            "pending": [list(x) for x in s.pending],
                            "covered_at": s.covered_at} for s in self.shortfalls],
        }


def _credit_from(row: Any, delay: int) -> tuple[int, int] | None:
    if row.verified is None:
        return None
    until = row.reversed if row.reversed is not None else 10**18
    v = row.verified + delay
    return (v, until) if v < until else None


def next_package(sc: Scenario, result: Result, n: int) -> Package:
    """Steps starting in [as_of, as_of + n), and where each principal stands at
    as_of + n if nothing that starts later happens (and no later verification
    arrives: exposure is what is lost if the others walk away)."""
    as_of = sc.progress.as_of if sc.progress is not None else 0
    until = as_of + n
    derived = derive_all(sc)
    rows = [r for r in result.schedule if r.present and r.start is not None]
    happened = [r for r in rows if r.start < until]   # type: ignore[operator]
    steps: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(happened, key=lambda r: (r.start, r.id)):
        if r.start is not None and r.start >= as_of:
            c = sc.concession(r.id)
            steps.setdefault(r.party, []).append({
                "id": r.id, "title": c.label, "start": r.start, "end": r.end,
                "verified": r.verified})

    def position(p: str, t: int, delay: int = 0) -> Position:
        delivered = received = at_risk = 0
        for r in happened:
            d = derived[r.id]
            if d.party == p:
                if r.end is not None and r.end <= t:
                    delivered += d.total_value
                if r.start is not None and r.start <= t:
                    at_risk += d.risk
            elif d.credit.get(p, 0):
                span = _credit_from(r, delay)
                if span is not None and span[0] <= t < span[1]:
                    received += d.credit[p]
        return Position(p, delivered, received, at_risk, at_risk - received)

    ledger = [position(p, until) for p in sc.principal_ids]
    shortfalls: list[Shortfall] = []
    for rule in sc.rules:
        if not isinstance(rule, Exposure) or not rule.enabled:
            continue
        delay = int(getattr(rule, "verification_delay", 0) or 0)
        for p in rule.parties or sc.principal_ids:
            pos = position(p, until, delay)
            if pos.exposure <= rule.max:
                continue
            # Own steps given so far, latest first: the ones the cap does not cover.
            own = sorted((r for r in happened if r.party == p and derived[r.id].risk > 0),
                         key=lambda r: -(r.start or 0))
            uncovered, excess = [], pos.exposure - rule.max
            for r in own:
                if excess <= 0:
                    break
                uncovered.append(r.id)
                excess -= derived[r.id].risk
            pending = sorted(((r.id, span[0]) for r in happened if r.party != p
                              and derived[r.id].credit.get(p, 0)
                              and (span := _credit_from(r, delay)) is not None
                              and span[0] > until), key=lambda x: x[1])
            covered_at = next((t for _, t in pending
                               if position(p, t, delay).exposure <= rule.max), None)
            shortfalls.append(Shortfall(rule.id, p, rule.max, pos.exposure, uncovered,
                                        pending, covered_at))
    return Package(as_of, until, steps, ledger, shortfalls)


def package_text(sc: Scenario, pkg: Package) -> list[str]:
    """The package in words, one line each (the CLI prints them)."""
    unit = sc.time_unit
    lines = [f"Next package: steps starting in [{pkg.as_of}, {pkg.until}) ({unit}s)"]
    if not pkg.steps:
        lines.append("  (no step starts in this window)")
    for party, rows in pkg.steps.items():
        lines.append(f"  {party}:")
        for r in rows:
            v = "never" if r["verified"] is None else r["verified"]
            lines.append(f"    {r['id']}: {r['start']}-{r['end']}, verified {v}")
    lines.append(f"Position at {pkg.until} if nothing after the package happens:")
    for pos in pkg.ledger:
        lines.append(f"  {pos.party}: delivered {pos.delivered}, received {pos.received}, "
                     f"at risk {pos.at_risk}, exposure {pos.exposure}")
    if pkg.self_enforcing:
        lines.append("Self-enforcing: every capped side stays within its cap even if nothing "
                     "after the package happens.")
    for s in pkg.shortfalls:
        lines.append(s.sentence(unit))
    return lines
