"""together: all present or all absent; the present ones start in the same phase."""

from __future__ import annotations

from typing import Any

from models.rules import Together
from optimizer.model.handles import Handles


def encode(h: Handles, rule: Together, enforce: list[Any]) -> None:
    m = h.model
    ids = list(dict.fromkeys(rule.concessions))
    first = h.conc[ids[0]]
    for cid in ids[1:]:
        other = h.conc[cid]
        if not (first.required and other.required):
            m.add(first.present == other.present).only_enforce_if(enforce)
        if len(h.phase_ids) > 1:
            # Same phase: equal membership literals (both absent: all zero).
            for ya, yb in zip(first.phase_lits, other.phase_lits, strict=True):
                m.add(ya == yb).only_enforce_if(enforce)
