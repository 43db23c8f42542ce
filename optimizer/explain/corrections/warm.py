"""A first solution for a later correction search that the earlier ones cannot hint.

After a no-good, the searches' pool may hold nothing the next search still
allows (the seed with the DPRK cap at 3: every solution of the first search
switched the cap off), and the search then starts from the greedy schedule
alone and spends most of its time finding a good correction, not proving it
(the second search: 7 CPU-s without a hint; 1.4 to find 94 with the bound
given, 1.8 to prove it). Here the same model is solved first with only some
kinds of position free, the others held unchanged: a smaller search that
finds good corrections fast, each a solution of the whole model (the same
variables, more constraints), so a complete hint. Tried in order, each
hinted with the best so far; one that cannot help is proven infeasible at
once. On the seed with the DPRK cap at 3 the first finds and proves 94 (the
second search's optimum) in 0.15-0.25 s on one worker, and the second search
then only proves it (1.2-1.5 s in all, against 2.7-4.5 s before).
Fixing the schedule instead (the starts of correction 1's verified schedule,
or of the greedy hint) and freeing every position gave 215-237 and 222: the
cheap corrections move most dates (docs/decisions.md, 52).

* ``concessions left out``: only concessions made optional;
* ``no dates or sizes``: every position but the numbers of concessions,
  phases, resources and the horizon (their wide ranges of dates and sizes
  are what makes the whole search slow); rules' numbers stay (decision 46
  bounds them by switching the rule off).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from optimizer.explain.corrections.model import CorrectionModel, Position
from optimizer.solving.hints import hint_solution

Solution = list[int]
Found = tuple[int, Solution]               # (objective, values of every variable)
Restriction = Callable[[Position], bool]   # may this position change?

NEIGHBOURHOODS: list[tuple[str, Restriction]] = [
    ("concessions left out", lambda pos: all(p.kind == "optional" for p in pos.parts)),
    ("no dates or sizes", lambda pos: pos.element[0] == "rule"
     or all(p.kind != "amount" for p in pos.parts)),
]
# The most one restricted solve may take: longer, and the whole search would
# have found as much by itself.
BUDGET_S = 1.0


def restricted(cm: CorrectionModel, free: Restriction) -> cp_model.CpModel:
    """A copy of the model (objective, hints, assumptions, no-goods) in which only
    positions ``free`` accepts may change."""
    m = cm.model.clone()
    for pos in cm.positions:
        if not free(pos):
            ref = pos.changed.index
            m.proto.constraints.add().bool_or.literals.append(-ref - 1)   # not changed
    return m


def warm_start(cm: CorrectionModel, deadline: float,
               solve: Callable[[cp_model.CpModel, float], Found | None]) -> Solution | None:
    """The best solution of the restricted models, each solved by ``solve(model,
    budget)`` (None: no solution in time; the caller owns the solver, its stop
    control and its pool), or None when none had one."""
    best: Found | None = None
    for _name, free in NEIGHBOURHOODS:
        budget = min(BUDGET_S, deadline - time.monotonic())
        if budget <= 0:
            break
        m = restricted(cm, free)
        if best is not None:
            hint_solution(m, best[1])
        found = solve(m, budget)
        if found is not None and (best is None or found[0] <= best[0]):
            best = found
    return None if best is None else best[1]
