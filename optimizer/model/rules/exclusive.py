"""exclusive: at most one of the listed concessions is present."""

from __future__ import annotations

from typing import Any

from models.rules import Exclusive
from optimizer.model.handles import Handles


def encode(h: Handles, rule: Exclusive, enforce: list[Any]) -> None:
    ids = list(dict.fromkeys(rule.concessions))
    h.model.add(sum(h.conc[c].present for c in ids) <= 1).only_enforce_if(enforce)
