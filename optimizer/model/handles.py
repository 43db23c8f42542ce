"""All CP-SAT variables of one roadmap model, owned in one place.

Rule encoders read these handles and add constraints; they never create
variables that another part owns (the exposure helpers are created once per
party here, on first use, and shared by every rule and metric that needs them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from ortools.sat.python import cp_model

from models.scenario import Scenario
from optimizer.model.derived import Derived

LinearExpr = Union[cp_model.LinearExpr, cp_model.IntVar, int]
Literal = Union[cp_model.IntVar, Any]

# Keys of the demands that explanations may drop, e.g.
# ("concession", "a", "latest_end"), ("phase", "P1", "min_length"),
# ("resource", "r", "capacity"), ("horizon",).
DemandKey = tuple[str, ...]


@dataclass
class ConcessionVars:
    present: Any                # literal (a constant true when required)
    start: cp_model.IntVar
    duration: LinearExpr
    end: LinearExpr
    interval: cp_model.IntervalVar
    required: bool              # always present (x_i fixed to 1)
    phase_lits: list[Any]       # y_{i,k} for each phase (constant 0 when not allowed)
    # SPEC §5.5 (set by optimizer.model.progress.fix): a recorded verification
    # time replaces end + lag; a refused one never happens.
    verified_at: int | None = None
    refused: bool = False

    def verified(self, lag: int | None) -> LinearExpr | None:
        if lag is None or self.refused:
            return None
        return self.verified_at if self.verified_at is not None else self.end + lag


@dataclass
class Handles:
    scenario: Scenario
    model: cp_model.CpModel
    derived: dict[str, Derived]
    horizon_ub: int                          # the domain bound of every time variable
    conc: dict[str, ConcessionVars] = field(default_factory=dict)
    boundaries: list[LinearExpr] = field(default_factory=list)   # B_0..B_K
    phase_ids: list[str] = field(default_factory=list)
    explain: bool = False
    # 1: a start lies strictly before its phase's end (SPEC §2.1); 0 in the
    # relaxation that bounds a coarse-grain solve (optimizer/timescale.py).
    phase_end_gap: int = 1
    demands: dict[DemandKey, Any] = field(default_factory=dict)  # explain mode only
    rule_lits: dict[str, Any] = field(default_factory=dict)      # explain mode only
    capacity: dict[str, Any] = field(default_factory=dict)       # explain mode: resource -> var
    delivered: dict[str, list[LinearExpr]] = field(default_factory=dict)
    metric_cache: dict[tuple[str, tuple[str, ...]], LinearExpr] = field(default_factory=dict)

    def demand(self, key: DemandKey) -> list[Any]:
        """Enforcement literals for a concession-level demand.

        In a normal solve demands are hard (no literal); in explain mode each
        gets its own literal so the conflict search can switch it off.
        """
        if not self.explain:
            return []
        lit = self.demands.get(key)
        if lit is None:
            lit = self.model.new_bool_var("demand:" + ":".join(key))
            self.demands[key] = lit
        return [lit]

    def rule_enforcement(self, rule_id: str) -> list[Any]:
        if not self.explain:
            return []
        lit = self.rule_lits.get(rule_id)
        if lit is None:
            lit = self.model.new_bool_var("rule:" + rule_id)
            self.rule_lits[rule_id] = lit
        return [lit]

    @staticmethod
    def when_present_lit(present: Any, required: bool) -> list[Any]:
        return [] if required else [present]

    def when_present(self, *ids: str) -> list[Any]:
        """Presence literals of the optional concessions among ``ids``."""
        return [self.conc[i].present for i in ids if not self.conc[i].required]

    def credit_pending(self, cid: str, verified: Any, end: int, name: str) -> Any:
        """The interval ``[0, verified)`` during which ``cid``'s credit has not yet come.

        An optional concession left out never verifies: its interval runs to ``end``
        (past every check point), so the exposure cumulatives treat it as no credit.
        """
        m = self.model
        v = self.conc[cid]
        if not v.required:
            w = m.new_int_var(0, end, f"{name}:w")
            m.add(w == verified).only_enforce_if(v.present)
            m.add(w == end).only_enforce_if(~v.present)
            verified = w
        return m.new_interval_var(0, verified, verified, name)

