"""exposure: every listed party's exposure stays at or below ``max`` at all times.

Exposure only rises when the party itself starts a concession, so it is
enough to bound it at each of the party's own start times (SPEC §2.3); the
levels at those check points are built once per party in ``levels``.
"""

from __future__ import annotations

from typing import Any

from models.rules import Exposure
from optimizer.handles import Handles, LinearExpr


def levels(h: Handles, party: str) -> list[tuple[str, LinearExpr]]:
    """(concession id, exposure of ``party`` at that concession's start).

    The booleans are half-reified: a level may be over-estimated but never
    under-estimated, which is exact for every use here (caps and minimised
    peaks only ever bound levels from above).
    """
    cached = h.exposure_levels.get(party)
    if cached is not None:
        return cached
    m, sc = h.model, h.scenario
    own = [c.id for c in sc.concessions if c.party == party and h.derived[c.id].risk > 0]
    incoming = [
        c.id for c in sc.concessions
        if c.party != party and h.derived[c.id].credit.get(party, 0) > 0
        and h.derived[c.id].lag is not None
    ]
    out: list[tuple[str, LinearExpr]] = []
    for i in own:
        vi = h.conc[i]
        terms: list[Any] = [h.derived[i].risk]
        for k in own:
            if k == i:
                continue
            vk = h.conc[k]
            before = m.new_bool_var(f"xs:{party}:{k}<={i}")
            # Not counted => k starts strictly later (or is absent).
            m.add(vk.start >= vi.start + 1).only_enforce_if([~before] + h.when_present(k))
            terms.append(h.derived[k].risk * before)
        for j in incoming:
            vj = h.conc[j]
            got = m.new_bool_var(f"xc:{party}:{j}<={i}")
            verified = vj.verified(h.derived[j].lag)
            m.add(verified <= vi.start).only_enforce_if(got)
            if not vj.required:
                m.add_implication(got, vj.present)
            terms.append(-h.derived[j].credit[party] * got)
        out.append((i, sum(terms)))
    h.exposure_levels[party] = out
    return out


def encode(h: Handles, rule: Exposure, enforce: list[Any]) -> None:
    for party in rule.parties or h.scenario.party_ids:
        for cid, level in levels(h, party):
            h.model.add(level <= rule.max).only_enforce_if(enforce + h.when_present(cid))
