"""One encoder per rule kind: ``encode(handles, rule, enforce)``.

``enforce`` is the list of enforcement literals of the rule (empty in a
normal solve, one literal in explain mode); every constraint a rule adds is
conditioned on it, so the same code serves solving and conflict search.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from optimizer.model.rules import (
    exclusive,
    exposure,
    phase_balance,
    precedence,
    reciprocity,
    requires,
    together,
)

Encoder = Callable[[Any, Any, list[Any]], None]

ENCODERS: dict[str, Encoder] = {
    "precedence": precedence.encode,
    "reciprocity": reciprocity.encode,
    "together": together.encode,
    "exclusive": exclusive.encode,
    "requires": requires.encode,
    "exposure": exposure.encode,
    "phase_balance": phase_balance.encode,
}
