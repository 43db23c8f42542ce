"""Roadmap Optimizer's engine: build, solve, explain and check phased roadmaps.

The names below resolve lazily to ``optimizer.api`` so that importing the
package, and so ``roadmap --help``, stays fast (OR-Tools and pandas load on
first use).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optimizer.api import (
        Explanation,
        Progress,
        SolveHandle,
        StopControl,
        explain_scenario,
        solve,
        start_solve,
    )
    from optimizer.studies.stress import stress

# name -> module that defines it
_LAZY = {
    "Explanation": "optimizer.api",
    "Progress": "optimizer.api",
    "SolveHandle": "optimizer.api",
    "StopControl": "optimizer.api",
    "explain_scenario": "optimizer.api",
    "solve": "optimizer.api",
    "start_solve": "optimizer.api",
    "stress": "optimizer.studies.stress",
}
__all__ = ["Explanation", "Progress", "SolveHandle", "StopControl", "explain_scenario",
           "solve", "start_solve", "stress"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'optimizer' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
