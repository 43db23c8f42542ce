"""Metrics and exposure curves of a concrete schedule, in plain Python.

Used to fill a Result from solver values (so reported figures never depend
on how a metric was encoded) and to evaluate observed historical schedules.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

from models.result import METRIC_NAMES, PartyLedger, Result
from models.scenario import Scenario
from optimizer.model.derived import Derived, derive_all
from optimizer.model.record import credit_window, record_of


@dataclass(frozen=True)
class Placed:
    """A present concession: start, end and phase index (0-based)."""

    start: int
    end: int
    phase: int


def placements(result: Result, scale: int = 1) -> dict[str, Placed]:
    """The present concessions of a result as placements (times multiplied by ``scale``).

    The one conversion from a Result to the plain-Python evaluators' input:
    phase indices follow the result's own phases (0 when a row names none).
    """
    index = {p.id: k for k, p in enumerate(result.phases)}
    return {
        s.id: Placed(s.start * scale, s.end * scale, index.get(s.phase or "", 0))
        for s in result.schedule
        if s.present and s.start is not None and s.end is not None
    }


def phase_of(start: int, boundaries: list[int]) -> int:
    for k in range(1, len(boundaries)):
        if boundaries[k - 1] <= start < boundaries[k]:
            return k - 1
    return len(boundaries) - 2


def exposure_curve(sc: Scenario, placed: dict[str, Placed], party: str,
                   derived: dict[str, Derived] | None = None,
                   delay: int = 0) -> list[tuple[int, int]]:
    """The step function exposure_party(t) as [t, level] change points from t = 0.

    ``delay``: credit counts from ``v_j + delay`` (an exposure rule's
    ``verification_delay``, SPEC §5.3); metrics and the ledger use 0.
    """
    derived = derived or derive_all(sc)
    rec = record_of(sc)   # SPEC §5.5: recorded verifications and reversals
    deltas: dict[int, int] = {0: 0}
    for cid, pl in placed.items():
        d = derived[cid]
        if d.party == party:
            if d.risk:
                deltas[pl.start] = deltas.get(pl.start, 0) + d.risk
        elif d.lag is not None and d.credit.get(party, 0):
            # §5.3/§5.5: credit from the (recorded) verification, k later, until reversed.
            got, lost = credit_window(rec, cid, pl.end, d.lag, delay)
            if got is not None:
                deltas[got] = deltas.get(got, 0) - d.credit[party]
                if lost is not None:
                    deltas[lost] = deltas.get(lost, 0) + d.credit[party]
    points: list[tuple[int, int]] = []
    level = 0
    for t in sorted(deltas):
        level += deltas[t]
        if not points or points[-1][1] != level:
            points.append((t, level))
    return points


def peak_exposure(sc: Scenario, placed: dict[str, Placed], derived: dict[str, Derived],
                  parties: list[str] | None = None) -> int:
    peak = 0
    for p in parties or sc.principal_ids:   # SPEC §5.1
        for _, level in exposure_curve(sc, placed, p, derived):
            peak = max(peak, level)
    return peak


def weighted_completion(sc: Scenario, placed: dict[str, Placed]) -> int:
    # One pass over the concessions: a per-id lookup would make this quadratic.
    return sum(c.priority * placed[c.id].end for c in sc.concessions if c.id in placed)


def _figure(sc: Scenario, placed: dict[str, Placed], derived: dict[str, Derived],
            metric: str, parties: list[str] | None = None) -> int:
    if metric == "makespan":
        return max((pl.end for pl in placed.values()), default=0)
    if metric == "weighted_completion":
        return weighted_completion(sc, placed)
    if metric == "peak_exposure":
        return peak_exposure(sc, placed, derived, parties)
    if metric == "excluded_value":
        return sum(d.total_value for cid, d in derived.items() if cid not in placed)
    return phase_imbalance(sc, placed, derived)


METRICS = METRIC_NAMES


def metrics(sc: Scenario, placed: dict[str, Placed], derived: dict[str, Derived] | None = None,
            parties: list[str] | None = None) -> dict[str, int]:
    derived = derived or derive_all(sc)
    return {m: _figure(sc, placed, derived, m, parties) for m in METRICS}


def delivered_by_phase(sc: Scenario, placed: dict[str, Placed], party: str,
                       derived: dict[str, Derived]) -> list[int]:
    k_count = len(sc.effective_phases)
    per = [0] * k_count
    for cid, pl in placed.items():
        if derived[cid].party == party:
            per[pl.phase] += derived[cid].total_value
    out, run = [], 0
    for v in per:
        run += v
        out.append(run)
    return out


def phase_imbalance(sc: Scenario, placed: dict[str, Placed], derived: dict[str, Derived]) -> int:
    best = 0
    principals = sc.principal_ids   # SPEC §5.1: pairs of principals
    cum = {p: delivered_by_phase(sc, placed, p, derived) for p in principals}
    for p, q in permutations(principals, 2):
        for a, b in zip(cum[p], cum[q], strict=True):
            best = max(best, a - b)
    return best


def term_value(sc: Scenario, placed: dict[str, Placed], metric: str,
               parties: list[str] | None, derived: dict[str, Derived]) -> int:
    """One metric (an objective term's value: peak exposure over the term's parties)."""
    return _figure(sc, placed, derived, metric, parties if metric == "peak_exposure" else None)


def ledger(sc: Scenario, placed: dict[str, Placed],
           derived: dict[str, Derived]) -> dict[str, PartyLedger]:
    """SPEC §5.4 for every party: delivered, received, at risk and exposure over time.

    Points at t = 0 and wherever one of the four figures changes; each
    party's peak is max(0, its highest exposure).
    """
    out: dict[str, PartyLedger] = {}
    rec = record_of(sc)   # SPEC §5.5: recorded verifications and reversals
    for party in sc.party_ids:
        # time -> [delivered, received, at_risk] increments
        steps: dict[int, list[int]] = {0: [0, 0, 0]}
        for cid, pl in placed.items():
            d = derived[cid]
            if d.party == party:
                if d.total_value:
                    steps.setdefault(pl.end, [0, 0, 0])[0] += d.total_value
                if d.risk:
                    steps.setdefault(pl.start, [0, 0, 0])[2] += d.risk
            elif d.lag is not None and d.credit.get(party, 0):
                # A reversed step stays delivered; only its credit stops (§5.4).
                got, lost = credit_window(rec, cid, pl.end, d.lag)
                if got is not None:
                    steps.setdefault(got, [0, 0, 0])[1] += d.credit[party]
                    if lost is not None:
                        steps.setdefault(lost, [0, 0, 0])[1] -= d.credit[party]
        points: list[tuple[int, int, int, int, int]] = []
        delivered = received = at_risk = 0
        for t in sorted(steps):
            a, b, c = steps[t]
            delivered, received, at_risk = delivered + a, received + b, at_risk + c
            row = (t, delivered, received, at_risk, at_risk - received)
            if not points or points[-1][1:] != row[1:]:
                points.append(row)
        peak = max(0, max(pt[4] for pt in points))
        out[party] = PartyLedger(peak=peak, points=points)
    return out
