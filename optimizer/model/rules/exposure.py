"""exposure: every listed party's exposure stays at or below ``max`` at all times.

The encoding (SPEC §2.3): ``exposure_p(t) <= L`` for all t is rewritten
  as ``sum_i risk_i [s_i <= t] + sum_j credit_j [t < v_j] <= L + C`` where C
  is the total credit p could receive (an absent credit source counts as
  never verified). Both sums are non-negative demands of intervals
  ``[s_i, H)`` and ``[0, v_j)``: one cumulative per party, linear in the
  events and independent of the horizon's length. A rule only caps ``L``,
  so explain mode switches the rule off with one literal.

A rule with ``verification_delay: k`` (SPEC §5.3) counts credit from
``v_j + k``: its own cumulative uses ``[0, v_j + k)``, so it gets its own
limit, cached per (party, k); metrics always use the limit with k = 0.

It replaced a pairwise form (exposure bounded at each of the party's own
start times, one half-reified boolean per pair of events; quadratic in
size), deleted in issue 12. Measured then (benchmarks/README.md): the
cumulative form was faster on every scenario tried, the 91-concession seed
(0.08 s vs 0.32 s) and synthetic roadmaps from 30 concessions up (80:
0.25-1.7 s vs 10-20 s); explain mode's sub-solves on a 40-concession fuzz
case dropped from over 20 s to 0.5 s.
"""

from __future__ import annotations

from typing import Any

from models.rules import Exposure
from optimizer.model import progress
from optimizer.model.handles import Handles, LinearExpr


def _events(h: Handles, party: str) -> tuple[list[str], list[str]]:
    sc = h.scenario
    own = [c.id for c in sc.concessions if c.party == party and h.derived[c.id].risk > 0]
    incoming = [
        c.id for c in sc.concessions
        if c.party != party and h.derived[c.id].credit.get(party, 0) > 0
        and h.derived[c.id].lag is not None
    ]
    return own, incoming


def limit(h: Handles, party: str, delay: int = 0) -> LinearExpr:
    """A variable L >= max(0, max_t exposure_party(t)), credit counted from v_j + delay."""
    if h.scenario.progress is not None and delay == 0:   # SPEC §5.5: recorded credit
        return progress.limit(h, party)
    key = ("exposure_limit", (party,) if delay == 0 else (party, f"delay={delay}"))
    cached = h.metric_cache.get(key)
    if cached is not None:
        return cached
    m = h.model
    own, incoming = _events(h, party)
    total_risk = sum(h.derived[i].risk for i in own)
    suffix = "" if delay == 0 else f":delay={delay}"
    lim = m.new_int_var(0, max(total_risk, 0), f"exposure_limit:{party}{suffix}")
    h.metric_cache[key] = lim
    if not own:
        return lim
    max_lag = max((h.derived[j].lag or 0 for j in incoming), default=0)
    max_dur = max(c.max_duration for c in h.scenario.concessions)
    # Past every start and verification time: the level is constant after it.
    end = h.horizon_ub + max_dur + max_lag + delay + 1
    intervals: list[Any] = []
    demands: list[int] = []
    for i in own:
        v = h.conc[i]
        if v.required:
            iv = m.new_interval_var(v.start, end - v.start, end, f"xr:{party}{suffix}:{i}")
        else:
            iv = m.new_optional_interval_var(v.start, end - v.start, end, v.present,
                                             f"xr:{party}{suffix}:{i}")
        intervals.append(iv)
        demands.append(h.derived[i].risk)
    credit_total = 0
    for j in incoming:
        v = h.conc[j]
        credit = h.derived[j].credit[party]
        verified = v.end + (h.derived[j].lag or 0) + delay
        intervals.append(h.credit_pending(j, verified, end, f"xv:{party}{suffix}:{j}"))
        demands.append(credit)
        credit_total += credit
    m.add_cumulative(intervals, demands, lim + credit_total)
    return lim


def encode(h: Handles, rule: Exposure, enforce: list[Any]) -> None:
    if h.scenario.progress is not None:   # SPEC §5.5: caps at own unstarted starts
        progress.cap(h, rule, enforce)
        return
    for party in rule.parties or h.scenario.principal_ids:
        # The cumulative holds unconditionally; only the cap on its limit
        # is the rule, so explain mode can still switch the rule off.
        lim = limit(h, party, rule.verification_delay)
        h.model.add(lim <= rule.max).only_enforce_if(enforce)
