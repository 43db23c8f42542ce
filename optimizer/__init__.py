"""Roadmap Optimizer's engine: build, solve, explain and check phased roadmaps.

Heavy imports (OR-Tools, pandas) happen on first use so that importing the
package, and so ``roadmap --help``, stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optimizer.solving import Progress, SolveHandle, StopControl, solve, start_solve

__all__ = ["Progress", "SolveHandle", "StopControl", "solve", "start_solve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        import importlib

        _solve_mod = importlib.import_module("optimizer.solving")

        return getattr(_solve_mod, name)
    raise AttributeError(name)
