"""requires: if ``if`` is present then ``then`` is present."""

from __future__ import annotations

from typing import Any

from models.rules import Requires
from optimizer.model.handles import Handles


def encode(h: Handles, rule: Requires, enforce: list[Any]) -> None:
    h.model.add(h.conc[rule.if_].present <= h.conc[rule.then].present).only_enforce_if(enforce)
