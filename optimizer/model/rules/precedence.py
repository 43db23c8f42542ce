"""precedence: point(after, to) - point(before, from) in [min_lag, max_lag] when both present."""

from __future__ import annotations

from typing import Any

from models.rules import Precedence
from optimizer.model import progress
from optimizer.model.handles import Handles


def point(h: Handles, cid: str, which: str) -> Any:
    v = h.conc[cid]
    if which == "start":
        return v.start
    if which == "end":
        return v.end
    return v.verified(h.derived[cid].lag)


def encode(h: Handles, rule: Precedence, enforce: list[Any]) -> None:
    if progress.refused_successor(h, rule, enforce):   # SPEC §5.5: refused verification
        return
    gap = point(h, rule.after, rule.to) - point(h, rule.before, rule.from_)
    cond = enforce + h.when_present(rule.before, rule.after)
    h.model.add(gap >= rule.min_lag).only_enforce_if(cond)
    if rule.max_lag is not None:
        h.model.add(gap <= rule.max_lag).only_enforce_if(cond)
