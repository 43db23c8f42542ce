"""The checker's own arithmetic (SPEC §2.3, §5.2-5.4): per-concession terms, exposure, the ledger.

Copied from SPEC rather than imported from the engine, so that a wrong table
or formula in the engine cannot make the engine and the checker agree.
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from models.scenario import Concession, Scenario

# SPEC §2.3, copied rather than imported so that a wrong table in the models
# cannot make the engine and the checker agree on a wrong answer.
_METHODS: dict[str, tuple[int, int | None]] = {
    "none": (0, None),
    "declaration": (25, 0),
    "public": (100, 0),
    "ntm": (75, 1),
    "monitoring": (90, 1),
    "inspection": (100, 2),
}
_FACTOR = {"reversible": 25, "costly": 60, "irreversible": 100}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

# Later than any time: a credit never reversed lasts until then.
_NEVER = 10**18


@dataclass(frozen=True)
class _Terms:
    """What SPEC §2.3 derives for one concession."""

    party: str
    value: dict[str, int]     # to each other party
    total: int
    risk: int
    credit: dict[str, int]    # to each other party
    lag: int | None           # None: never verified


@dataclass(frozen=True)
class _Placed:
    start: int
    end: int
    phase: int                # index into the scenario's phases


def derive_terms(sc: Scenario, c: Concession) -> _Terms:
    others = [p.id for p in sc.parties if p.id != c.party]
    if isinstance(c.value, dict):
        value = {p: c.value.get(p, 0) for p in others}
    else:
        value = {p: c.value for p in others}
    total = sum(value.values())
    cost = total if c.cost is None else c.cost
    risk = c.risk if c.risk is not None else (cost * _FACTOR[c.reversibility]) // 100
    if c.verification == "none":
        return _Terms(c.party, value, total, risk, {p: 0 for p in others}, None)
    pct, lag = _METHODS[c.verification]
    over = sc.verification_methods.get(c.verification)  # type: ignore[call-overload]
    if over is not None:
        pct = pct if over.credit_pct is None else over.credit_pct
        lag = lag if over.lag is None else over.lag
    if c.verification_lag is not None:
        lag = c.verification_lag
    if c.credit is None:
        # SPEC §5.2: value * pct * keep / 10000, rounded down once (keep 100 when absent).
        keep = 100
        if sc.credit_keep is not None:
            keep = {"reversible": sc.credit_keep.reversible, "costly": sc.credit_keep.costly,
                    "irreversible": sc.credit_keep.irreversible}[c.reversibility]
        credit = {p: (v * pct * keep) // 10000 for p, v in value.items()}
    elif isinstance(c.credit, dict):
        credit = {p: c.credit.get(p, 0) for p in others}
    else:
        credit = {p: c.credit for p in others}
    return _Terms(c.party, value, total, risk, credit, lag)


def exposure_levels(sc: Scenario, terms: dict[str, _Terms], placed: dict[str, _Placed],
                    party: str, delay: int = 0) -> list[tuple[int, int]]:
    """exposure_party(t) as [t, level] points: from t = 0, one per change of level.

    ``delay``: credit counts from ``v_j + delay`` (SPEC §5.3, one rule's view).
    """
    deltas: dict[int, int] = {0: 0}
    for cid, pl in placed.items():
        t = terms[cid]
        if t.party == party:
            deltas[pl.start] = deltas.get(pl.start, 0) + t.risk
        elif t.lag is not None:
            v = pl.end + t.lag + delay
            deltas[v] = deltas.get(v, 0) - t.credit.get(party, 0)
    points: list[tuple[int, int]] = []
    level = 0
    for time in sorted(deltas):
        level += deltas[time]
        if not points or points[-1][1] != level:
            points.append((time, level))
    return points


def ledger_points(terms: dict[str, _Terms], placed: dict[str, _Placed], party: str,
                  credit_span: Callable[[str], tuple[int, int] | None] | None = None,
                  ) -> list[tuple[int, int, int, int, int]]:
    """SPEC §5.4 for one party, evaluated afresh at every candidate time.

    Each figure is a sum of steps; its value at t is read off sorted step
    times with a prefix sum (not the engine's running-delta sweep), and a
    point is kept where any of the four differs from the previous kept one.
    """
    steps: dict[str, list[tuple[int, int]]] = {"delivered": [], "received": [], "at_risk": []}
    for cid, pl in placed.items():
        term = terms[cid]
        if term.party == party:
            steps["delivered"].append((pl.end, term.total))
            steps["at_risk"].append((pl.start, term.risk))
        elif term.lag is not None:
            # [from, until) of the credit: verification to reversal (SPEC §5.5 records).
            span = (pl.end + term.lag, _NEVER) if credit_span is None else credit_span(cid)
            if span is not None:
                steps["received"].append((span[0], term.credit.get(party, 0)))
                if span[1] < _NEVER:
                    steps["received"].append((span[1], -term.credit.get(party, 0)))
    tables: dict[str, tuple[list[int], list[int]]] = {}
    for name, items in steps.items():
        items.sort()
        times, sums, run = [], [], 0
        for time, amount in items:
            run += amount
            times.append(time)
            sums.append(run)
        tables[name] = (times, sums)

    def at(name: str, t: int) -> int:
        times, sums = tables[name]
        k = bisect_right(times, t)
        return sums[k - 1] if k else 0

    candidates = sorted({0} | {time for items in steps.values() for time, _ in items})
    out: list[tuple[int, int, int, int, int]] = []
    for t in candidates:
        d, r, a = at("delivered", t), at("received", t), at("at_risk", t)
        row = (t, d, r, a, a - r)
        if not out or out[-1][1:] != row[1:]:
            out.append(row)
    return out


def _delivered(sc: Scenario, terms: dict[str, _Terms], placed: dict[str, _Placed],
               party: str) -> list[int]:
    """Cumulative total value delivered by ``party`` in phases 1..k, for each k."""
    per = [0] * len(sc.effective_phases)
    for cid, pl in placed.items():
        if terms[cid].party == party:
            per[pl.phase] += terms[cid].total
    out, run = [], 0
    for v in per:
        run += v
        out.append(run)
    return out


def _sha256(sc: Scenario) -> str:
    text = json.dumps(sc.canonical_dict(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
