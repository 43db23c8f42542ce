"""Progress and re-planning (SPEC §5.5): the past as fact, the future from ``as_of``.

A scenario with ``progress`` is solved through one model in which

* every recorded step is fixed as recorded (done: start and end; under way:
  start, and an end at or after ``max(as_of, start + min duration)`` with no
  upper limit but the horizon and, unless the record alone breaks it, its
  ``latest_end``); its own window, pin, allowed phases and duration are not
  enforced, so the builder sees a *model scenario* in which those fields are
  replaced by the record (``model_scenario``) and the real ones are only
  reported (``optimizer.model.broken``);
* every other present concession starts at or after ``as_of``;
* a recorded verification time replaces ``end + lag``, a refused one never
  happens (no credit; a ``from: verified`` successor stays out), and a
  reversal stops the credit from its date (``credit_window``);
* rules the record breaks are switched off in the model scenario;
* resources hold from ``as_of`` only (``resources``), exposure caps at the
  capped party's own unstarted starts only (``cap``; the encoding is below).

The model scenario keeps every id, party, value and objective of the real
one, so read-back, metrics and hints work on it unchanged; the result's
SHA-256 is still that of the real scenario (``optimizer.solving.stages``).

Exposure caps under progress. v1 caps exposure at every t; with a record,
the past may already exceed a cap, and SPEC §5.5 asks the cap only at the
starts ``t >= as_of`` of the capped party's own unstarted steps. After
``as_of`` the exposure only rises at those starts (every recorded start,
verification and reversal lies at or before ``as_of``; a rule's
``verification_delay`` only moves credit later, i.e. lowers exposure
later), so it is non-increasing between them. Hence "at most the cap at
each of those starts" is the same as "at most the cap at every t from the
first of them on". That is one cumulative per (party, delay) like v1's,
plus one interval ``[first, END)`` of demand ``M`` (the party's total
risk) and ``M`` more capacity: before ``first`` the cap is loose by ``M``
(never binding), from ``first`` on it is exact. ``first`` is a variable
below every present own unstarted start; the solver pushes it up to their
minimum. This keeps v1's linear size (a reified pairwise check at each
start would be quadratic, the form issue 12 measured 4-60x slower).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from models.scenario import DurationRange, Scenario
from optimizer.model.broken import broken_rule_ids, underway_latest_broken
from optimizer.model.record import credit_window, record_of, underway_end_lb

if TYPE_CHECKING:
    from optimizer.model.handles import Handles, LinearExpr


# -- the model scenario -------------------------------------------------------
def model_scenario(sc: Scenario) -> Scenario:
    """The scenario the builder sees: recorded steps as recorded, the future from
    ``as_of``, and the rules the record breaks switched off."""
    rec = record_of(sc)
    assert rec is not None
    concessions = []
    for c in sc.concessions:
        step = rec.steps.get(c.id)
        if step is None:
            concessions.append(c.model_copy(update={
                "earliest_start": max(c.earliest_start, rec.as_of)}))
        elif step.end is not None:
            concessions.append(c.model_copy(update={
                "earliest_start": step.start, "start": step.start, "latest_end": None,
                "duration": step.end - step.start, "phases": None, "optional": False}))
        else:
            lo = underway_end_lb(c, step, rec.as_of)
            hi = max(lo, sc.horizon)
            keep_latest = c.latest_end is not None and not underway_latest_broken(c, step,
                                                                                  rec.as_of)
            concessions.append(c.model_copy(update={
                "earliest_start": step.start, "start": step.start,
                "latest_end": c.latest_end if keep_latest else None,
                "duration": DurationRange.model_construct(min=lo - step.start,
                                                          max=hi - step.start),
                "phases": None, "optional": False}))
    off = broken_rule_ids(sc)
    rules = [r.model_copy(update={"enabled": False}) if r.id in off else r for r in sc.rules]
    return sc.model_copy(update={"concessions": concessions, "rules": rules})


def fix(h: Handles) -> None:
    """After the concessions' variables exist, before any rule: the record's
    verification overrides, and nothing new before ``as_of``."""
    rec = record_of(h.scenario)
    assert rec is not None
    m = h.model
    for c in h.scenario.concessions:
        v = h.conc[c.id]
        step = rec.steps.get(c.id)
        if step is None:
            m.add(v.start >= rec.as_of).only_enforce_if(h.when_present(c.id))
            continue
        # Unconditional (not explain-mode demands): the past is not negotiable.
        m.add(v.present == 1)
        m.add(v.start == step.start)
        if step.end is not None:
            m.add(v.end == step.end)
            lag = h.derived[c.id].lag
            if step.verified is False:
                v.refused = True
            elif step.verified is not None and lag is not None:
                v.verified_at = step.verified
        else:
            m.add(v.end >= underway_end_lb(c, step, rec.as_of))
            m.add(v.end <= max(h.scenario.horizon, rec.as_of))
            if h.explain:
                m.add(v.end <= h.scenario.horizon).only_enforce_if(h.demand(("horizon",)))


def resources(h: Handles) -> None:
    """Capacities from ``as_of`` on: recorded steps still running count from then."""
    rec = record_of(h.scenario)
    assert rec is not None
    m, sc = h.model, h.scenario
    for r in sc.resources:
        intervals: list[Any] = []
        demands: list[int] = []
        for c in sc.concessions:
            use = c.uses.get(r.id, 0)
            if use <= 0 or rec.done(c.id):
                continue
            v = h.conc[c.id]
            if rec.under_way(c.id):
                intervals.append(m.new_interval_var(rec.as_of, v.end - rec.as_of, v.end,
                                                    f"ru:{r.id}:{c.id}"))
            else:
                intervals.append(v.interval)
            demands.append(use)
        if sum(demands) <= r.capacity:
            continue
        capacity: Any = r.capacity
        if h.explain:
            capacity = m.new_int_var(r.capacity, sum(demands), f"cap:{r.id}")
            m.add(capacity <= r.capacity).only_enforce_if(h.demand(("resource", r.id,
                                                                    "capacity")))
        m.add_cumulative(intervals, demands, capacity)


# -- exposure -----------------------------------------------------------------
def _timeline_end(h: Handles, delay: int) -> int:
    max_lag = max((d.lag or 0 for d in h.derived.values()), default=0)
    max_dur = max((c.max_duration for c in h.scenario.concessions), default=0)
    return h.horizon_ub + max_dur + max_lag + delay + 1


def _exposure_cumulative(h: Handles, party: str, delay: int, capped: bool) -> LinearExpr:
    """L with ``exposure(t) <= L`` for every t (``capped`` False, the metric), or
    for every t from the party's first unstarted start on (``capped``)."""
    key = ("progress_exposure" + (":cap" if capped else ""), (party, str(delay)))
    cached = h.metric_cache.get(key)
    if cached is not None:
        return cached
    rec = record_of(h.scenario)
    assert rec is not None
    m, sc = h.model, h.scenario
    end = _timeline_end(h, delay)
    own = [c.id for c in sc.concessions if c.party == party]
    total_risk = sum(h.derived[i].risk for i in own)
    lim = m.new_int_var(0, max(total_risk, 0), f"{key[0]}:{party}:{delay}")
    h.metric_cache[key] = lim
    intervals: list[Any] = []
    demands: list[int] = []
    for i in own:
        risk = h.derived[i].risk
        if risk <= 0:
            continue
        v = h.conc[i]
        if v.required:
            iv = m.new_interval_var(v.start, end - v.start, end, f"pr:{party}:{delay}:{i}")
        else:
            iv = m.new_optional_interval_var(v.start, end - v.start, end, v.present,
                                             f"pr:{party}:{delay}:{i}")
        intervals.append(iv)
        demands.append(risk)
    credit_total = 0
    for c in sc.concessions:
        d = h.derived[c.id]
        credit = d.credit.get(party, 0)
        if c.party == party or credit <= 0 or d.lag is None:
            continue
        v = h.conc[c.id]
        step = rec.steps.get(c.id)
        if step is not None and step.end is not None:
            got, lost = credit_window(rec, c.id, step.end, d.lag, delay)
            if got is None:
                continue   # never counts: not in C, no interval
            intervals.append(m.new_fixed_size_interval_var(0, got, f"pv:{party}:{delay}:{c.id}"))
            demands.append(credit)
            if lost is not None:
                intervals.append(m.new_fixed_size_interval_var(lost, end - lost,
                                                               f"pl:{party}:{delay}:{c.id}"))
                demands.append(credit)
            credit_total += credit
            continue
        verified = v.end + d.lag + delay
        intervals.append(h.credit_pending(c.id, verified, end, f"pv:{party}:{delay}:{c.id}"))
        demands.append(credit)
        credit_total += credit
    if not intervals:
        return lim
    capacity: Any = lim + credit_total
    if capped:
        unstarted = [i for i in own if i not in rec.steps]
        if not unstarted:
            return lim
        first = m.new_int_var(rec.as_of, end, f"pfirst:{party}:{delay}")
        for i in unstarted:
            m.add(first <= h.conc[i].start).only_enforce_if(h.when_present(i))
        relief = total_risk
        intervals.append(m.new_interval_var(first, end - first, end, f"prel:{party}:{delay}"))
        demands.append(relief)
        capacity = capacity + relief
    m.add_cumulative(intervals, demands, capacity)
    return lim


def limit(h: Handles, party: str) -> LinearExpr:
    """The metric's exposure bound: every t, past and future (SPEC §5.5)."""
    return _exposure_cumulative(h, party, 0, capped=False)


def cap(h: Handles, rule: Any, enforce: list[Any]) -> None:
    """An exposure rule under progress: at the capped party's own unstarted starts."""
    delay = int(getattr(rule, "verification_delay", 0) or 0)
    parties: list[str] = rule.parties or h.scenario.principal_ids
    for party in parties:
        h.model.add(_exposure_cumulative(h, party, delay, capped=True) <= rule.max
                    ).only_enforce_if(enforce)


def refused_successor(h: Handles, rule: Any, enforce: list[Any]) -> bool:
    """A precedence ``from: verified`` on a refused verification keeps its
    successor out (True: handled here)."""
    if rule.from_ != "verified" or not getattr(h.conc[rule.before], "refused", False):
        return False
    h.model.add(h.conc[rule.after].present == 0).only_enforce_if(enforce)
    return True


# -- re-planning against a plan (SPEC §5.5 ``--plan``) ------------------------------
def deviation_expr(h: Handles, planned: dict[str, int]) -> LinearExpr:
    """sum |s_i - planned s_i| over the unrecorded concessions present in both."""
    rec = record_of(h.scenario)
    m = h.model
    terms: list[Any] = []
    for cid, p in planned.items():
        if cid not in h.conc or (rec is not None and cid in rec.steps):
            continue
        v = h.conc[cid]
        dev = m.new_int_var(0, h.horizon_ub + abs(p), f"dev:{cid}")
        m.add(dev >= v.start - p).only_enforce_if(h.when_present(cid))
        m.add(dev >= p - v.start).only_enforce_if(h.when_present(cid))
        terms.append(dev)
    return sum(terms)


def deviation_value(sc: Scenario, starts: dict[str, int | None],
                    planned: dict[str, int]) -> int:
    """The same figure of a schedule (``starts``: None when absent)."""
    rec = record_of(sc)
    total = 0
    for cid, p in planned.items():
        s = starts.get(cid)
        if s is None or (rec is not None and cid in rec.steps):
            continue
        total += abs(s - p)
    return total
