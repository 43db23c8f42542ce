"""The five metrics of SPEC §2.4 as CP-SAT expressions (objective terms).

Each is built once per model on demand; every expression is only ever
minimised (weights are >= 0), which lets the max-style metrics use plain
lower-bounding constraints.
"""

from __future__ import annotations

from itertools import permutations
from typing import Any

from optimizer.model.handles import Handles, LinearExpr
from optimizer.model.rules.exposure import limit
from optimizer.model.rules.phase_balance import delivered


def metric_expr(h: Handles, metric: str, parties: list[str] | None = None) -> LinearExpr:
    key = (metric, tuple(parties or ()))
    cached = h.metric_cache.get(key)
    if cached is not None:
        return cached
    expr = _BUILDERS[metric](h, parties)
    h.metric_cache[key] = expr
    return expr


def _makespan(h: Handles, _: list[str] | None) -> LinearExpr:
    m = h.model
    lo = 0 if h.explain else max(
        ((c.start if c.start is not None else c.earliest_start) + c.min_duration
         for c in h.scenario.concessions if not c.optional), default=0)
    ms = m.new_int_var(lo, h.horizon_ub + _max_dur(h), "makespan")
    for cid, v in h.conc.items():
        m.add(ms >= v.end).only_enforce_if(h.when_present(cid))
    # Redundant energy bound per resource: everything runs inside [0, makespan],
    # so capacity * makespan covers the work. CP-SAT cannot prove makespan
    # optimal on a shared resource without it (e.g. 14 jobs on capacity 2:
    # bound 5 after 20 s with one worker; proven at once with it).
    for r in h.scenario.resources:
        energy = [c.uses[r.id] * c.min_duration * h.conc[c.id].present
                  for c in h.scenario.concessions
                  if c.uses.get(r.id, 0) > 0 and c.min_duration > 0]
        # Not under progress (SPEC §5.5): capacities hold from as_of only.
        if energy and r.capacity > 0 and not h.explain and h.scenario.progress is None:
            m.add(r.capacity * ms >= sum(energy))
    return ms


def _max_dur(h: Handles) -> int:
    return max((c.max_duration for c in h.scenario.concessions), default=0)


def _weighted_completion(h: Handles, _: list[str] | None) -> LinearExpr:
    m = h.model
    terms: list[Any] = []
    for c in h.scenario.concessions:
        if c.priority == 0:
            continue
        v = h.conc[c.id]
        if v.required:
            terms.append(c.priority * v.end)
        else:
            # e_i counted only when present: ep == end if present else 0.
            ep = m.new_int_var(0, h.horizon_ub + _max_dur(h), f"ep:{c.id}")
            m.add(ep >= v.end).only_enforce_if(v.present)
            terms.append(c.priority * ep)
    return sum(terms)


def _peak_exposure(h: Handles, parties: list[str] | None) -> LinearExpr:
    m = h.model
    chosen = parties or h.scenario.principal_ids   # SPEC §5.1
    bound = sum(d.risk for d in h.derived.values())
    peak = m.new_int_var(0, max(bound, 0), "peak_exposure:" + ",".join(chosen))
    for p in chosen:
        m.add(peak >= limit(h, p))
    return peak


def _excluded_value(h: Handles, _: list[str] | None) -> LinearExpr:
    terms = [h.derived[cid].total_value * (1 - v.present)
             for cid, v in h.conc.items() if not v.required and h.derived[cid].total_value > 0]
    return sum(terms)


def _phase_imbalance(h: Handles, _: list[str] | None) -> LinearExpr:
    m = h.model
    parties = h.scenario.principal_ids   # SPEC §5.1: pairs of principals
    if len(parties) < 2:
        return 0
    bound = sum(d.total_value for d in h.derived.values())
    imb = m.new_int_var(0, bound, "phase_imbalance")
    for p, q in permutations(parties, 2):
        for dp, dq in zip(delivered(h, p), delivered(h, q), strict=True):
            m.add(imb >= dp - dq)
    return imb


_BUILDERS = {
    "makespan": _makespan,
    "weighted_completion": _weighted_completion,
    "peak_exposure": _peak_exposure,
    "excluded_value": _excluded_value,
    "phase_imbalance": _phase_imbalance,
}
