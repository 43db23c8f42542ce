"""The explain-mode feasibility oracle: which subsets of a scenario's positions hold together.

The model is built in explain mode (``build(sc, explain=True)``): every
enabled rule and every concession-level demand sits behind its own literal,
so one model answers "are these positions feasible together?" for any
subset, by solving under assumptions. Conflicts and suggestions ask it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from ortools.sat.python import cp_model

from models.scenario import Scenario
from optimizer.model.build import build
from optimizer.solving.handle import StopControl

Key = tuple[str, ...]
PER_SOLVE_S = 20.0      # one sub-solve never runs longer, even without a deadline
FEASIBLE, INFEASIBLE, UNKNOWN = "feasible", "infeasible", "unknown"

# Deletion order: elements tried first are dropped from the conflict when
# possible, so the ones least telling for a negotiator go first and the
# rules (the negotiating positions) last.
_ORDER = {"required": 0, "earliest_start": 1, "phases": 2, "start": 3, "latest_end": 4,
          "min_length": 5, "max_length": 5, "capacity": 6, "horizon": 7, "rule": 8}


# --------------------------------------------------------------------------
# Feasibility under a set of elements
def element_keys(sc: Scenario) -> list[Key]:
    """Every element an explanation may name, in deletion order."""
    h = build(sc, explain=True)
    return _ordered(sc, literals(h))


def literals(h: Any) -> dict[Key, Any]:
    out: dict[Key, Any] = {("rule", rid): lit for rid, lit in h.rule_lits.items()}
    out.update(h.demands)
    return out


def _ordered(sc: Scenario, keys: Iterable[Key]) -> list[Key]:
    rule_pos = {r.id: n for n, r in enumerate(sc.rules)}
    conc_pos = {c.id: n for n, c in enumerate(sc.concessions)}

    def rank(k: Key) -> tuple[int, int, str]:
        if k[0] == "rule":
            return (_ORDER["rule"], rule_pos.get(k[1], 0), "")
        if k[0] == "horizon":
            return (_ORDER["horizon"], 0, "")
        return (_ORDER.get(k[-1], 9), conc_pos.get(k[1], 0), ":".join(k))

    return sorted(keys, key=rank)


def remaining(deadline: float | None) -> float:
    if deadline is None:
        return PER_SOLVE_S
    return min(PER_SOLVE_S, deadline - time.monotonic())


class Oracle:
    """One explain-mode model, solved under different sets of assumptions."""

    def __init__(self, sc: Scenario, control: StopControl | None = None) -> None:
        self.sc = sc
        self.control = control
        self.h = build(sc, explain=True)
        self.lits = literals(self.h)
        self.keys = _ordered(sc, self.lits)
        self.solves = 0

    def check(self, keys: Iterable[Key], deadline: float | None) -> tuple[str, list[Key]]:
        """(status, core) with the given elements enforced and all others dropped."""
        keys = [k for k in keys if k in self.lits]
        budget = remaining(deadline)
        control = self.control
        if budget <= 0 or (control is not None and control.stopped):
            return UNKNOWN, []
        m = self.h.model
        m.clear_assumptions()
        m.add_assumptions([self.lits[k] for k in keys])
        solver = sub_solver(budget, control)
        if control is not None:
            control.attach(solver)
        try:
            status = solver.solve(m)
        finally:
            if control is not None:
                control.attach(None)
        self.solves += 1
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return FEASIBLE, []
        if status == cp_model.INFEASIBLE:
            core = {int(i) for i in solver.sufficient_assumptions_for_infeasibility()}
            return INFEASIBLE, [k for k in keys if self.lits[k].index in core]
        if status == cp_model.MODEL_INVALID:
            raise RuntimeError(f"internal error: invalid explain model: {m.validate()}")
        return UNKNOWN, []


def sub_solver(budget: float, control: StopControl | None = None) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers = 1           # cores from assumptions need a single worker
    p.random_seed = 0
    p.max_time_in_seconds = max(budget, 0.001)
    if control is not None:
        # A stop interrupts the sub-solve once it runs (see StopControl).
        p.catch_sigint_signal = False
        p.log_search_progress = True
        p.log_to_stdout = False
        solver.log_callback = lambda _line: control.mark_running()
    return solver


def feasible(sc: Scenario, scope: Iterable[Key] | None = None,
             deadline: float | None = None, control: StopControl | None = None) -> str:
    """Solve ``sc`` with the elements in ``scope`` enforced (None: all of them)."""
    oracle = Oracle(sc, control)
    keys = oracle.keys if scope is None else list(scope)
    return oracle.check(keys, deadline)[0]
