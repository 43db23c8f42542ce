"""phase_balance: cumulative delivered value per phase within ``tolerance`` across parties."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from models.rules import PhaseBalance
from optimizer.model.handles import Handles, LinearExpr


def delivered(h: Handles, party: str) -> list[LinearExpr]:
    """delivered_p(k), k = 1..K: total value of p's present concessions started in phases <= k."""
    cached = h.delivered.get(party)
    if cached is not None:
        return cached
    own = [c.id for c in h.scenario.concessions
           if c.party == party and h.derived[c.id].total_value > 0]
    top = sum(h.derived[c].total_value for c in own)
    out: list[LinearExpr] = []
    previous: LinearExpr = 0
    for k in range(len(h.phase_ids)):
        step = sum(h.derived[c].total_value * h.conc[c].phase_lits[k] for c in own)
        if isinstance(step, int):
            previous = previous + step
            out.append(previous)
            continue
        # One variable per prefix keeps every balance row short: the sums are
        # written once (linear in the concessions) instead of once per pair.
        d = h.model.new_int_var(0, top, f"delivered:{party}:{k + 1}")
        h.model.add(d == previous + step)
        out.append(d)
        previous = d
    h.delivered[party] = out
    return out


def encode(h: Handles, rule: PhaseBalance, enforce: list[Any]) -> None:
    parties = list(dict.fromkeys(rule.parties or h.scenario.principal_ids))
    for p, q in combinations(parties, 2):
        for dp, dq in zip(delivered(h, p), delivered(h, q), strict=True):
            if isinstance(dp, int) and isinstance(dq, int):
                if abs(dp - dq) > rule.tolerance:  # both parties deliver nothing yet
                    h.model.add_bool_or([]).only_enforce_if(enforce)
                continue
            h.model.add(dp - dq <= rule.tolerance).only_enforce_if(enforce)
            h.model.add(dq - dp <= rule.tolerance).only_enforce_if(enforce)
