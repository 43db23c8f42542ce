"""Defection exposure: how far out on a limb each party is, and when it is worst.

Exposure (SPEC §2.3) is what a party would have lost if the others walked
away at time t: the risk of the steps it has taken, less the credit it has
verifiably received. The worst moment to be abandoned is the peak of that
curve; it is reported with the party's own steps that pushed it there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from models.result import Result
from models.rules import Exposure
from models.scenario import Scenario
from optimizer.explain.phrasing import at, join, title
from optimizer.model.derived import derive_all
from optimizer.model.evaluate import exposure_curve, placements


@dataclass
class PartyExposure:
    party: str
    curve: list[tuple[int, int]]      # [t, level] change points from t = 0 (SPEC §3)
    worst_time: int | None            # None when the party is never exposed
    worst_level: int                  # max(0, peak level)
    after: list[str] = field(default_factory=list)   # own steps started at worst_time
    given: int = 0                    # risk of own steps taken by worst_time
    credited: int = 0                 # verified credit received by worst_time
    cap: int | None = None            # tightest enabled exposure cap on the party
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["curve"] = [[t, lv] for t, lv in self.curve]
        return out


def defection_report(sc: Scenario, result: Result) -> list[PartyExposure]:
    """One entry per party, in scenario order (empty for an unsolved result)."""
    if not result.solved:
        return []
    derived = derive_all(sc)
    placed = placements(result)
    out = []
    for p in sc.party_ids:
        curve = exposure_curve(sc, placed, p, derived)
        caps = [r.max for r in sc.rules if isinstance(r, Exposure) and r.enabled
                and p in (r.parties or sc.principal_ids)]
        cap = min(caps) if caps else None
        peak_t, peak = None, 0
        for t, level in curve:
            if level > peak:
                peak_t, peak = t, level
        entry = PartyExposure(p, curve, peak_t, peak, cap=cap)
        if peak_t is not None:
            entry.after = [cid for cid, pl in placed.items()
                           if derived[cid].party == p and pl.start == peak_t
                           and derived[cid].risk > 0]
            entry.given = sum(derived[cid].risk for cid, pl in placed.items()
                              if derived[cid].party == p and pl.start <= peak_t)
            entry.credited = sum(
                d.credit.get(p, 0) for cid, pl in placed.items()
                if (d := derived[cid]).party != p and d.lag is not None
                and pl.end + d.lag <= peak_t)
        entry.summary = _summary(sc, entry)
        out.append(entry)
    return out


def _summary(sc: Scenario, e: PartyExposure) -> str:
    if e.worst_time is None:
        return f"{e.party} is never exposed: its exposure never rises above 0."
    steps = join([title(sc, c) for c in e.after]) or "its earlier steps"
    text = (f"{e.party} is most exposed at {at(sc, e.worst_time)}, after {steps}: "
            f"{e.worst_level} (gave {e.given}, verified credit {e.credited})")
    if e.cap is not None:
        text += f", cap {e.cap}"
    return text + "."
