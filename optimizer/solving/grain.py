"""Solving in the scenario's natural time grain.

A roadmap written in days whose every time figure is a whole number of
months is the same roadmap as the one written in months, but CP-SAT does not
know that: it explores starts on every day, and proving optimality takes
several times longer (issue 7 asks that days cost at most twice months).

``grain`` is the greatest common divisor of every time figure the model
reads. When it is above one, the solver works on ``coarsen(scenario, g)``
(every time figure divided by g) and ``lift`` multiplies the schedule back.

Why the coarse model gives the right answer. Map any schedule to the grid by
``floor(t / g) * g``. Floor is monotone and ``floor(t + c) = floor(t) + c``
for every multiple c of g, so every precedence, reciprocity gap, window, pin
and duration (fixed or ranged) still holds; a resource or exposure total on
a grid cell equals the original total at the cell's last moment, so every
capacity and exposure cap still holds; makespan and weighted completion only
fall, presence and value are unchanged. Only phase membership (``B <= s < B'``)
is not preserved: a start just before a boundary may land on it. Hence:

* one phase: the end of the phase may be rounded up instead, so the coarse
  model is exact (same optimum, and its bounds are bounds of the original);
* several phases: the coarse model's schedules are schedules of the
  original, but its optimum is only an upper bound (tests/test_timescale.py
  has a two-concession roadmap whose optimum lies off the grid). The same
  coarse model with ``s <= B'`` instead (the relaxation, into which the floor
  map sends every schedule) bounds the original from below; hinted with the
  coarse optimum it usually proves at once that nothing is lower. Equal
  stage values settle it; otherwise the original model is solved in the
  time left, starting from the coarse schedule.
"""

from __future__ import annotations

from math import gcd
from typing import overload

from models.result import Result, ScenarioRef, SolverInfo
from models.scenario import Concession, DurationRange, Scenario
from optimizer.model.derived import derive_all
from optimizer.model.evaluate import placements
from optimizer.solving.readback import assemble, objective_entries, tidy_last_phase

# Metrics measured in time units: their values scale with the grain.
TIME_METRICS = frozenset({"makespan", "weighted_completion"})


def grain(sc: Scenario) -> int:
    """The largest g dividing every time figure the model reads (1 if none)."""
    if sc.progress is not None:
        return 1     # SPEC §5.5: recorded times are solved as written
    g = sc.horizon
    for c in sc.concessions:
        g = gcd(g, c.min_duration, c.max_duration, c.earliest_start, c.latest_end or 0,
                c.start or 0)
        if g == 1:
            return 1     # the common case, found before any derived figure is computed
    phases = sc.effective_phases
    for ph in phases:
        # One phase: its minimum only bounds its free end, which may be rounded up.
        g = gcd(g, ph.max_length or 0, ph.min_length if len(phases) > 1 else 0)
    for r in sc.rules:
        if r.kind == "precedence":
            g = gcd(g, r.min_lag, r.max_lag or 0)
        elif r.kind == "reciprocity":
            g = gcd(g, r.max_gap)
        elif r.kind == "exposure":
            g = gcd(g, r.verification_delay)   # SPEC §5.3: a time figure too
    if g > 1:
        derived = derive_all(sc)
        g = gcd(g, *(d.lag for d in derived.values() if d.lag is not None))
    return max(g, 1)


def single_phase(sc: Scenario) -> bool:
    return len(sc.effective_phases) == 1


def coarsen(sc: Scenario, g: int) -> Scenario:
    """The scenario with every time figure divided by g (g divides them all)."""
    derived = derive_all(sc)

    def conc(c: Concession) -> Concession:
        lag = derived[c.id].lag
        duration: int | DurationRange = (
            c.duration // g if isinstance(c.duration, int)
            else DurationRange(min=c.duration.min // g, max=c.duration.max // g))
        return c.model_copy(update={
            "duration": duration, "earliest_start": c.earliest_start // g,
            "latest_end": None if c.latest_end is None else c.latest_end // g,
            "start": None if c.start is None else c.start // g,
            # The effective lag, made explicit: method defaults are not divisible.
            "verification_lag": None if lag is None else lag // g,
        })

    phases = [p.model_copy(update={
        "min_length": -(-p.min_length // g),   # rounded up (exact: see the module doc)
        "max_length": None if p.max_length is None else p.max_length // g,
    }) for p in sc.phases]
    rules = []
    for r in sc.rules:
        if r.kind == "precedence":
            r = r.model_copy(update={"min_lag": r.min_lag // g,
                                     "max_lag": None if r.max_lag is None else r.max_lag // g})
        elif r.kind == "reciprocity":
            r = r.model_copy(update={"max_gap": r.max_gap // g})
        elif r.kind == "exposure":
            r = r.model_copy(update={"verification_delay": r.verification_delay // g})
        rules.append(r)
    objective = sc.objective
    if objective.mode == "weighted":
        # Keep the weighted sum in the original units: a time term counts g times.
        objective = objective.model_copy(update={"terms": [
            t.model_copy(update={"weight": t.weight * g}) if t.metric in TIME_METRICS else t
            for t in objective.terms]})
    return sc.model_copy(update={
        "horizon": sc.horizon // g, "phases": phases, "rules": rules, "objective": objective,
        "concessions": [conc(c) for c in sc.concessions],
    })


@overload
def scale_value(metric: str, value: int, g: int) -> int: ...


@overload
def scale_value(metric: str, value: float | None, g: int) -> float | None: ...


def scale_value(metric: str, value: float | None, g: int) -> float | None:
    """A coarse stage figure (value or bound) in the original units."""
    if value is None or metric not in TIME_METRICS:
        return value
    return value * g


def lift(coarse: Result, sc: Scenario, g: int, status: str, stage_bounds: list[int | None],
         ref: ScenarioRef, info: SolverInfo) -> Result:
    """The coarse result as a result of the original scenario.

    ``stage_bounds``: the bound to report for each optimisation stage, already
    in original units (missing stages report none).
    """
    placed = placements(coarse, scale=g)
    ends = [p.start * g for p in coarse.phases] + [coarse.phases[-1].end * g]
    tidy_last_phase(sc, ends, placed)
    derived = derive_all(sc)
    result = assemble(sc, derived, [p.id for p in coarse.phases], ends, placed, ref, info,
                      status)
    result.objective = objective_entries(sc, placed, derived, stage_bounds)
    return result


def starts_inside_phases(res: Result, sc: Scenario) -> bool:
    """Whether every start lies strictly before its phase's end (SPEC §2.1).

    A schedule of the relaxation (``s <= B``) that passes is a schedule of the
    coarse model itself. The last phase's end is free up to its maximum
    length and the horizon, so only that limit counts there.
    """
    phases = sc.effective_phases
    index = {p.id: k for k, p in enumerate(res.phases)}
    last = len(res.phases) - 1
    max_len = phases[-1].max_length
    last_hi = sc.horizon if max_len is None else min(sc.horizon, res.phases[last].start + max_len)
    for s in res.schedule:
        if not s.present or s.start is None:
            continue
        k = index[s.phase or ""]
        end = last_hi if k == last else res.phases[k].end
        if s.start >= end:
            return False
    return True
