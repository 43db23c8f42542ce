"""reciprocity: both or neither present, and starts at most ``max_gap`` apart."""

from __future__ import annotations

from typing import Any

from models.rules import Reciprocity
from optimizer.model.handles import Handles


def encode(h: Handles, rule: Reciprocity, enforce: list[Any]) -> None:
    a, b = h.conc[rule.a], h.conc[rule.b]
    m = h.model
    if not (a.required and b.required):
        m.add(a.present == b.present).only_enforce_if(enforce)
    cond = enforce + h.when_present(rule.a, rule.b)
    m.add(a.start - b.start <= rule.max_gap).only_enforce_if(cond)
    m.add(b.start - a.start <= rule.max_gap).only_enforce_if(cond)
