"""Solver values -> Result (SPEC §3); figures recomputed in plain Python."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from models.result import (
    Metrics,
    ObjectiveEntry,
    PhaseWindow,
    Result,
    ScenarioRef,
    ScheduleEntry,
    SolverInfo,
)
from models.scenario import Scenario
from optimizer.model.derived import Derived
from optimizer.model.evaluate import Placed, exposure_curve, ledger, metrics, term_value
from optimizer.model.handles import Handles
from optimizer.model.progress_readback import annotate


def empty_result(ref: ScenarioRef, info: SolverInfo, status: str) -> Result:
    return Result(scenario=ref, status=status, metrics=None, objective=[], solver=info,  # type: ignore[arg-type]
                  phases=[], schedule=[], exposure={}, conflict=None)


Evaluate = Callable[[Any], int]


def read_result(h: Handles, value: Evaluate, ref: ScenarioRef, info: SolverInfo,
                status: str) -> Result:
    sc = h.scenario
    bounds = [value(b) for b in h.boundaries]
    placed: dict[str, Placed] = {}
    for c in sc.concessions:
        v = h.conc[c.id]
        if not value(v.present):
            continue
        start, end = value(v.start), value(v.end)
        phase = next((k for k, y in enumerate(v.phase_lits) if value(y)), None)
        if phase is None:
            from optimizer.model.evaluate import phase_of

            phase = phase_of(start, bounds)
        placed[c.id] = Placed(start, end, phase)
    tidy_last_phase(sc, bounds, placed)
    return assemble(sc, h.derived, h.phase_ids, bounds, placed, ref, info, status)


def assemble(sc: Scenario, derived: dict[str, Derived], phase_ids: list[str], bounds: list[int],
             placed: dict[str, Placed], ref: ScenarioRef, info: SolverInfo,
             status: str) -> Result:
    """A Result from placed concessions and phase boundaries (objective left empty)."""
    schedule = []
    for c in sc.concessions:
        pl = placed.get(c.id)
        lag = derived[c.id].lag
        if pl is None:
            schedule.append(ScheduleEntry(id=c.id, party=c.party, present=False, start=None,
                                          end=None, phase=None, verified=None))
        else:
            schedule.append(ScheduleEntry(
                id=c.id, party=c.party, present=True, start=pl.start, end=pl.end,
                phase=phase_ids[pl.phase], verified=None if lag is None else pl.end + lag))
    phases = [PhaseWindow(id=pid, start=bounds[k], end=bounds[k + 1])
              for k, pid in enumerate(phase_ids)]
    figures = metrics(sc, placed, derived)
    exposure = {p: exposure_curve(sc, placed, p, derived) for p in sc.party_ids}
    result = Result(scenario=ref, status=status, metrics=Metrics(**figures), objective=[],  # type: ignore[arg-type]
                    solver=info, phases=phases, schedule=schedule, exposure=exposure,
                    ledger=ledger(sc, placed, derived))
    if sc.progress is not None:   # SPEC §5.5: recorded verifications, reversals, broken
        annotate(result, sc, derived)
    return result


def tidy_last_phase(sc: Scenario, bounds: list[int], placed: dict[str, Placed]) -> None:
    """Report the last phase as ending with the roadmap when the rules allow.

    The end of the last phase is free (SPEC §2.1) and nothing but its own
    length limits and the starts inside it depend on it, so the solver's
    arbitrary choice is replaced by the makespan clamped to what is allowed.
    """
    k = len(bounds) - 1
    ph = sc.effective_phases[-1]
    prev = bounds[k - 1]
    lo = prev + ph.min_length
    for pl in placed.values():
        if pl.phase == k - 1:
            lo = max(lo, pl.start + 1)
    hi = min(sc.horizon, prev + (ph.max_length if ph.max_length is not None else sc.horizon))
    makespan = max((pl.end for pl in placed.values()), default=0)
    if lo <= hi:
        bounds[k] = min(max(makespan, lo), hi)


def objective_entries(sc: Scenario, placed: dict[str, Placed], derived: dict[str, Derived],
                      stage_bounds: list[int | None]) -> list[ObjectiveEntry]:
    """SPEC §3 ``objective``: each term's value; the proven bound of each stage.

    Lexicographic: one stage per term. Weighted: one stage, whose bound goes on
    the ``weighted_sum`` entry that follows the terms.
    """
    def bound(k: int) -> int | None:
        return stage_bounds[k] if k < len(stage_bounds) else None

    weighted = sc.objective.mode == "weighted"
    entries: list[ObjectiveEntry] = []
    total = 0
    for k, t in enumerate(sc.objective.terms):
        v = term_value(sc, placed, t.metric, t.parties, derived)
        total += t.weight * v
        entries.append(ObjectiveEntry(metric=t.metric, value=v, bound=None, weight=t.weight)
                       if weighted else ObjectiveEntry(metric=t.metric, value=v, bound=bound(k)))
    if weighted:
        entries.append(ObjectiveEntry(metric="weighted_sum", value=total, bound=bound(0)))
    return entries
