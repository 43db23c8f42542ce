"""Scenario -> CP-SAT model: variables, windows, phases and resources.

Rules are added by the encoders in ``optimizer.model.rules`` (one module per kind)
and objective terms by ``optimizer.model.metrics``. With ``explain=True`` every
concession-level demand and every rule sits behind its own literal so that
``optimizer.explain.conflict`` can look for a minimal conflicting set.
"""

from __future__ import annotations

import time
from typing import Any

from ortools.sat.python import cp_model

from models.scenario import Scenario
from optimizer.model import progress
from optimizer.model.derived import derive_all
from optimizer.model.handles import ConcessionVars, Handles
from optimizer.model.rules import ENCODERS


def relaxed_horizon(sc: Scenario) -> int:
    """A bound no relaxed schedule needs to pass (explain mode only)."""
    derived = derive_all(sc)
    lags = sum(abs(r.min_lag) + abs(r.max_lag or 0) for r in sc.rules if r.kind == "precedence")
    vlag = max((d.lag or 0) for d in derived.values())
    total = sc.horizon + sum(c.max_duration for c in sc.concessions) + lags + vlag + 1
    total += sum(p.min_length for p in sc.phases)
    return int(min(total, 4 * 10**9))


class BuildTimeout(Exception):
    """The solve's deadline passed while the model was still being built."""


def _check(deadline: float | None, k: int) -> None:
    # Checked every 256 items: cheap, and fine-grained enough that even
    # 50,000 rules overrun a deadline by milliseconds, not seconds.
    if deadline is not None and k % 256 == 0 and time.monotonic() > deadline:
        raise BuildTimeout


def build(sc: Scenario, *, explain: bool = False, deadline: float | None = None,
          relax_phase_ends: bool = False) -> Handles:
    if sc.progress is not None:   # SPEC §5.5: the record fixed, the future from as_of
        sc = progress.model_scenario(sc)
    model = cp_model.CpModel()
    h = Handles(
        scenario=sc, model=model, derived=derive_all(sc),
        horizon_ub=relaxed_horizon(sc) if explain else sc.horizon, explain=explain,
        phase_end_gap=0 if relax_phase_ends else 1,
    )
    _phases(h)
    for k, c in enumerate(sc.concessions):
        _check(deadline, k)
        _concession(h, c)
    if sc.progress is not None:   # SPEC §5.5 (optimizer/model/progress.py)
        progress.fix(h)
        progress.resources(h)
    else:
        _resources(h)
    for k, rule in enumerate(sc.rules):
        _check(deadline, k)
        if rule.enabled:
            ENCODERS[rule.kind](h, rule, h.rule_enforcement(rule.id))
    return h


def _phases(h: Handles) -> None:
    sc, m = h.scenario, h.model
    phases = sc.effective_phases
    h.phase_ids = [p.id for p in phases]
    h.boundaries = [0]
    ub = h.horizon_ub
    if _free_single_phase(h):
        # Nothing constrains the one phase's end: every start is already below
        # the horizon, so no variable or per-concession link is needed (the
        # reported end is tidied to the makespan on read-back).
        h.boundaries.append(sc.horizon)
        return
    for k, ph in enumerate(phases):
        b = m.new_int_var(0, ub, f"B{k + 1}")
        prev = h.boundaries[-1]
        m.add(b >= prev)
        if ph.min_length > 0:
            m.add(b - prev >= ph.min_length).only_enforce_if(
                h.demand(("phase", ph.id, "min_length")))
        if ph.max_length is not None:
            m.add(b - prev <= ph.max_length).only_enforce_if(
                h.demand(("phase", ph.id, "max_length")))
        h.boundaries.append(b)
    if h.explain:
        m.add(h.boundaries[-1] <= sc.horizon).only_enforce_if(h.demand(("horizon",)))


def _free_single_phase(h: Handles) -> bool:
    phases = h.scenario.effective_phases
    if h.explain or len(phases) != 1:
        return False
    ph, horizon = phases[0], h.scenario.horizon
    return ph.min_length <= horizon and (ph.max_length is None or ph.max_length >= horizon)


def _concession(h: Handles, c) -> None:  # type: ignore[no-untyped-def]
    sc, m = h.scenario, h.model
    cid = c.id
    dmin, dmax = c.min_duration, c.max_duration
    latest = min(c.latest_end, sc.horizon) if c.latest_end is not None else sc.horizon
    required = not c.optional and not h.explain

    fits = True
    if h.explain:
        lo, hi = 0, h.horizon_ub
    else:
        lo, hi = c.earliest_start, min(latest - dmin, sc.horizon - 1)
        if c.start is not None:
            lo = hi = c.start
        if lo > hi:
            # Only the horizon closes this window (validation let it through so
            # that the conflict can be explained): it cannot be present.
            fits, hi = False, lo
            latest = lo + dmax
    start = m.new_int_var(lo, hi, f"s:{cid}")
    present = m.new_constant(1) if required else m.new_bool_var(f"x:{cid}")
    if not fits:
        if required:
            m.add_bool_or([])   # an empty clause: infeasible, explained by explain mode
        else:
            m.add(present == 0)
    if h.explain and not c.optional:
        m.add(present == 1).only_enforce_if(h.demand(("concession", cid, "required")))

    end: Any   # an expression for fixed durations, a variable otherwise
    if dmin == dmax:
        duration: Any = dmin
        end = start + dmin
        if required:
            interval = m.new_fixed_size_interval_var(start, dmin, f"i:{cid}")
        else:
            interval = m.new_optional_fixed_size_interval_var(start, dmin, present, f"i:{cid}")
    else:
        duration = m.new_int_var(dmin, dmax, f"d:{cid}")
        # A variable duration may not stretch past latest_end (or the horizon):
        # the start's domain alone only bounds the shortest version.
        end_hi = hi + dmax if h.explain else min(hi + dmax, latest)
        end = m.new_int_var(lo + dmin, end_hi, f"e:{cid}")
        if required:
            interval = m.new_interval_var(start, duration, end, f"i:{cid}")
        else:
            interval = m.new_optional_interval_var(start, duration, end, present, f"i:{cid}")
    if not required and dmin != dmax:
        # An absent optional interval leaves end unconstrained; tie it anyway so
        # the variable stays meaningful in hints and read-back.
        m.add(end == start + duration).only_enforce_if(~present)

    if h.explain:
        m.add(start >= c.earliest_start).only_enforce_if(
            h.demand(("concession", cid, "earliest_start")))
        if c.latest_end is not None:
            m.add(end <= c.latest_end).only_enforce_if(h.demand(("concession", cid, "latest_end")))
        m.add(end <= sc.horizon).only_enforce_if([*h.demand(("horizon",)), present])
        if c.start is not None:
            m.add(start == c.start).only_enforce_if(h.demand(("concession", cid, "start")))

    # Phase membership by start time (SPEC §2.1).
    allowed = set(c.phases) if c.phases is not None else None
    lits: list[cp_model.LinearExprT] = []
    b = h.boundaries
    if len(h.phase_ids) == 1 and (allowed is None or h.phase_ids[0] in allowed):
        lits = [present]
        if not isinstance(b[1], int):
            m.add(start <= b[1] - 1).only_enforce_if(h.when_present_lit(present, required))
    else:
        for k, pid in enumerate(h.phase_ids):
            if allowed is not None and pid not in allowed and not h.explain:
                lits.append(m.new_constant(0))
                continue
            y = m.new_bool_var(f"y:{cid}:{pid}")
            if allowed is not None and pid not in allowed:
                m.add(y == 0).only_enforce_if(h.demand(("concession", cid, "phases")))
            if k > 0:
                m.add(start >= b[k]).only_enforce_if(y)
            m.add(start <= b[k + 1] - h.phase_end_gap).only_enforce_if(y)
            lits.append(y)
        m.add(sum(lits) == present)
    h.conc[cid] = ConcessionVars(
        present=present, start=start, duration=duration, end=end, interval=interval,
        required=required, phase_lits=lits,
    )


def _resources(h: Handles) -> None:
    sc, m = h.scenario, h.model
    for r in sc.resources:
        users = [(h.conc[c.id].interval, c.uses[r.id]) for c in sc.concessions
                 if c.uses.get(r.id, 0) > 0]
        if not users:
            continue
        total = sum(d for _, d in users)
        if total <= r.capacity:
            continue
        capacity: cp_model.LinearExprT = r.capacity
        if h.explain:
            cap = m.new_int_var(r.capacity, total, f"cap:{r.id}")
            m.add(cap <= r.capacity).only_enforce_if(h.demand(("resource", r.id, "capacity")))
            h.capacity[r.id] = cap
            capacity = cap
        m.add_cumulative([i for i, _ in users], [d for _, d in users], capacity)
