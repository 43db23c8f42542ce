"""Backtest: the schedule that history recorded next to the optimizer's roadmap.

``observed_result`` turns a scenario's ``observed:`` section (SPEC §1) into a
``Result`` so that the reported figures, exposure curves and rule verdicts
come from the same code paths as any solved roadmap (``optimizer.model.evaluate``
for the figures, the independent ``optimizer.check`` for the rules).
``backtest`` then solves the scenario and compares the two schedules.

Phase boundaries of the observed schedule. History records starts and ends,
not phase windows, so the windows are chosen by a small CP-SAT model with the
starts fixed: each phase length stays within [min_length, max_length], the
last phase ends by the horizon and after the last observed start, and every
listed concession starts inside the window of the phase it is assigned to.
Among such windows the model prefers, in this order: (1) the fewest
concessions assigned outside their allowed ``phases:`` plus the fewest
``together`` groups split across phases, (2) a last phase that ends as close
as possible to the observed makespan (as solved roadmaps report it), (3) the
earliest boundaries. When no windows can hold every start (history ran past
what the phase lengths allow), the phases are the minimum lengths laid end to
end with the last one stretched to the horizon, and a start past every window
counts as in the last phase; the checker then reports the mismatch as a
schedule issue.

One piece (about 430 lines): one comparison of history with the optimizer —
metrics, curves, rule verdicts and ordering agreement share one view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from models.canonical import scenario_sha256
from models.errors import ScenarioError
from models.options import SolveOptions
from models.result import (
    Metrics,
    ObjectiveEntry,
    PhaseWindow,
    Result,
    ScenarioRef,
    ScheduleEntry,
    SolverInfo,
)
from models.rules import Together
from models.scenario import Scenario
from optimizer.model.derived import derive_all
from optimizer.model.evaluate import Placed, exposure_curve, ledger, metrics, phase_of, term_value

AGREEMENT_TAG = "agreement"
UNTAGGED = "(untagged)"
HELD, BROKEN, VACUOUS = "held", "broken", "vacuous"
# A rule tagged OBSERVED_TAG was read off the observed schedule itself, so its holding on
# that schedule proves nothing: it is reported as DERIVED, never as HELD.
OBSERVED_TAG = "observed"
DERIVED = "derived from history"
VERDICTS = (HELD, DERIVED, BROKEN, VACUOUS)


# --------------------------------------------------------------------------
# The observed schedule as a Result
def _require_observed(sc: Scenario) -> None:
    if sc.observed is None or not sc.observed.schedule:
        raise ScenarioError(f"scenario {sc.name!r} has no observed schedule to backtest",
                            path="observed")
    known = {c.id for c in sc.concessions}
    seen: set[str] = set()
    for n, item in enumerate(sc.observed.schedule):
        where = f"observed.schedule[{n}]"
        if item.id not in known:
            raise ScenarioError("unknown concession", path=f"{where}.id", value=item.id)
        if item.id in seen:
            raise ScenarioError("listed more than once", path=f"{where}.id", value=item.id)
        if item.end < item.start:
            raise ScenarioError(f"end {item.end} before start {item.start}", path=where)
        seen.add(item.id)


def observed_phases(sc: Scenario, starts: dict[str, int], makespan: int) -> list[int]:
    """Phase boundaries B_0..B_K for fixed starts (see the module docstring)."""
    from ortools.sat.python import cp_model

    phases = sc.effective_phases
    k_count, horizon = len(phases), sc.horizon
    m = cp_model.CpModel()
    bounds = [m.new_constant(0)] + [m.new_int_var(1, horizon, f"B{k}")
                                    for k in range(1, k_count + 1)]
    for k, ph in enumerate(phases):
        hi = ph.max_length if ph.max_length is not None else horizon
        m.add(bounds[k + 1] - bounds[k] >= ph.min_length)
        m.add(bounds[k + 1] - bounds[k] <= hi)
    penalties: list[Any] = []
    assign: dict[str, list[Any]] = {}
    for cid, s in starts.items():
        lits = [m.new_bool_var(f"{cid}@{k}") for k in range(k_count)]
        m.add_exactly_one(lits)
        for k, lit in enumerate(lits):
            m.add(bounds[k] <= s).only_enforce_if(lit)
            m.add(bounds[k + 1] >= s + 1).only_enforce_if(lit)
        allowed = sc.concession(cid).phases
        if allowed is not None:
            penalties += [lit for k, lit in enumerate(lits) if phases[k].id not in allowed]
        assign[cid] = lits
    for rule in sc.rules:
        if isinstance(rule, Together) and rule.enabled:
            members = [c for c in dict.fromkeys(rule.concessions) if c in assign]
            for a, b in combinations(members, 2):
                for k in range(k_count):
                    split = m.new_bool_var(f"split_{rule.id}_{a}_{b}_{k}")
                    m.add(assign[a][k] - assign[b][k] <= split)
                    penalties.append(split)
    target = min(max(makespan, max(starts.values(), default=0) + 1), horizon)
    gap = m.new_int_var(0, horizon, "gap")
    m.add_abs_equality(gap, bounds[k_count] - target)
    w_gap = horizon * k_count + 1
    w_pen = w_gap * (horizon + 1)
    m.minimize(w_pen * sum(penalties) + w_gap * gap + sum(bounds[1:]))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10.0
    status = solver.solve(m)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [0] + [int(solver.value(b)) for b in bounds[1:]]
    out, run = [0], 0
    for ph in phases:
        run += ph.min_length
        out.append(min(run, horizon))
    out[-1] = max(out[-1], horizon)
    return out


def observed_result(sc: Scenario) -> Result:
    """The ``observed:`` schedule as a Result (status ``feasible``; bounds null)."""
    _require_observed(sc)
    assert sc.observed is not None
    derived = derive_all(sc)
    items = {it.id: it for it in sc.observed.schedule}
    makespan = max((it.end for it in items.values()), default=0)
    bounds = observed_phases(sc, {cid: it.start for cid, it in items.items()}, makespan)
    phase_ids = [p.id for p in sc.effective_phases]
    placed: dict[str, Placed] = {}
    schedule: list[ScheduleEntry] = []
    for c in sc.concessions:
        it = items.get(c.id)
        if it is None:
            schedule.append(ScheduleEntry(id=c.id, party=c.party, present=False, start=None,
                                          end=None, phase=None, verified=None))
            continue
        pl = Placed(it.start, it.end, phase_of(it.start, bounds))
        placed[c.id] = pl
        lag = derived[c.id].lag
        schedule.append(ScheduleEntry(id=c.id, party=c.party, present=True, start=it.start,
                                      end=it.end, phase=phase_ids[pl.phase],
                                      verified=None if lag is None else it.end + lag))
    objective = [ObjectiveEntry(metric=t.metric, value=term_value(sc, placed, t.metric, t.parties,
                                                                  derived),
                                bound=None, weight=t.weight if sc.objective.mode == "weighted"
                                else None)
                 for t in sc.objective.terms]
    if sc.objective.mode == "weighted":
        total = sum(t.weight * (e.value or 0) for t, e in zip(sc.objective.terms, objective,
                                                               strict=True))
        objective.append(ObjectiveEntry(metric="weighted_sum", value=total, bound=None))
    return Result(
        scenario=ScenarioRef(name=sc.name, sha256=scenario_sha256(sc)),
        status="feasible",
        metrics=Metrics(**metrics(sc, placed, derived)),
        objective=objective,
        solver=SolverInfo(name="observed", version="history", wall_time_s=0.0, workers=0,
                          seed=0, time_limit_s=None),
        phases=[PhaseWindow(id=pid, start=bounds[k], end=bounds[k + 1])
                for k, pid in enumerate(phase_ids)],
        schedule=schedule,
        exposure={p: exposure_curve(sc, placed, p, derived) for p in sc.party_ids},
        ledger=ledger(sc, placed, derived),
    )


# --------------------------------------------------------------------------
# Rule verdicts
@dataclass(frozen=True)
class RuleVerdict:
    id: str
    kind: str
    tags: list[str]
    text: str | None
    enabled: bool
    verdict: str                 # held | derived from history | broken | vacuous
    violations: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "tags": list(self.tags), "text": self.text,
                "enabled": self.enabled, "verdict": self.verdict,
                "violations": list(self.violations)}


def _vacuous(rule: Any, named: list[str], present: set[str]) -> bool:
    """The rule held only because a concession it names is absent."""
    if rule.kind in ("precedence", "reciprocity"):
        # Reciprocity with exactly one side present is broken, judged before this.
        return not all(c in present for c in named)
    if rule.kind == "together":
        return not any(c in present for c in named)
    if rule.kind == "requires":
        return bool(rule.if_ not in present)
    return False


def _deadline_passed(sc: Scenario, result: Result, rule: Any, present: set[str]) -> list[str]:
    """A deadline (precedence with ``max_lag``) whose step never came, though history ran past it.

    The checker sees nothing to check when the later step is absent; in a backtest the
    deadline was still missed if the earlier step happened and the period the record covers
    (the scenario's horizon) runs beyond the deadline (the Agreed Framework's 2003 LWR
    target, with the LWR about 30% built).
    """
    if rule.kind != "precedence" or rule.max_lag is None:
        return []
    if rule.before not in present or rule.after in present:
        return []
    row = next(s for s in result.schedule if s.id == rule.before)
    point = {"start": row.start, "end": row.end, "verified": row.verified}[rule.from_]
    # The dataset's horizon is the period its record covers.
    if point is None or sc.horizon <= point + rule.max_lag:
        return []
    return [f"precedence {rule.id}: {rule.after} never happened, and the record runs to "
            f"{sc.horizon}, past the deadline {rule.before}.{rule.from_} + {rule.max_lag} = "
            f"{point + rule.max_lag}"]


def rule_verdicts(sc: Scenario, result: Result) -> list[RuleVerdict]:
    """Every rule of ``sc`` judged on ``result`` (disabled rules too, marked so)."""
    from optimizer.check import check_rules

    found = check_rules(sc, result, include_disabled=True)
    present = {s.id for s in result.schedule if s.present}
    out = []
    for rule in sc.rules:
        errors = found.get(rule.id, [])
        named = rule.refs()
        if not errors:
            errors = _deadline_passed(sc, result, rule, present)
        verdict = (BROKEN if errors else VACUOUS if _vacuous(rule, named, present)
                   else DERIVED if OBSERVED_TAG in rule.tags else HELD)
        out.append(RuleVerdict(rule.id, rule.kind, list(rule.tags), rule.text, rule.enabled,
                               verdict, errors))
    return out


def by_tag(verdicts: list[RuleVerdict]) -> dict[str, dict[str, Any]]:
    """Verdict counts and rule ids per tag, over enabled rules."""
    groups: dict[str, dict[str, Any]] = {}
    for v in verdicts:
        if not v.enabled:
            continue
        for tag in v.tags or [UNTAGGED]:
            g = groups.setdefault(tag, {HELD: 0, DERIVED: 0, BROKEN: 0, VACUOUS: 0,
                                        "broken_rules": [], "rules": []})
            g[v.verdict] += 1
            g["rules"].append(v.id)
            if v.verdict == BROKEN:
                g["broken_rules"].append(v.id)
    return dict(sorted(groups.items()))


# --------------------------------------------------------------------------
# Ordering agreement
@dataclass(frozen=True)
class Ordering:
    """How far the optimizer orders the concessions as history did.

    ``precedence_pairs``: ordered pairs (i, j) of concessions present in both
    schedules where history finished i no later than it started j (and the
    two were not simultaneous zero-length events); ``same_order`` of them have
    i finishing no later than j starts in the optimizer's roadmap as well.
    ``tau_b``: Kendall's tau-b between the two schedules' start times of the
    concessions present in both (None when undefined: fewer than two such
    concessions, or all starts tied in one schedule).
    """

    common: int
    precedence_pairs: int
    same_order: int
    concordant: int
    discordant: int
    ties_observed: int
    ties_optimized: int
    tau_b: float | None
    reversed_pairs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        return None if not self.precedence_pairs else self.same_order / self.precedence_pairs

    def to_dict(self) -> dict[str, Any]:
        return {"common": self.common, "precedence_pairs": self.precedence_pairs,
                "same_order": self.same_order, "share": self.share,
                "concordant": self.concordant, "discordant": self.discordant,
                "ties_observed": self.ties_observed, "ties_optimized": self.ties_optimized,
                "tau_b": self.tau_b, "reversed_pairs": [list(p) for p in self.reversed_pairs]}


def kendall_tau_b(x: list[int], y: list[int]) -> tuple[float | None, int, int, int, int]:
    """(tau_b, concordant, discordant, pairs tied in x, pairs tied in y).

    tau_b = (C - D) / sqrt((n0 - n1) * (n0 - n2)) with n0 = n(n-1)/2 and n1, n2
    the pairs tied in x and in y (a pair tied in both counts in both).
    """
    if len(x) != len(y):
        raise ValueError("x and y differ in length")
    conc = disc = tx = ty = 0
    for i, j in combinations(range(len(x)), 2):
        dx, dy = x[i] - x[j], y[i] - y[j]
        if dx == 0:
            tx += 1
        if dy == 0:
            ty += 1
        if dx and dy:
            if (dx > 0) == (dy > 0):
                conc += 1
            else:
                disc += 1
    n0 = len(x) * (len(x) - 1) // 2
    denom = (n0 - tx) * (n0 - ty)
    tau = None if denom == 0 else (conc - disc) / math.sqrt(denom)
    return tau, conc, disc, tx, ty


def ordering(sc: Scenario, observed: Result, optimized: Result) -> Ordering:
    obs = {s.id: s for s in observed.schedule if s.present}
    opt = {s.id: s for s in optimized.schedule if s.present}
    common = [c.id for c in sc.concessions if c.id in obs and c.id in opt]
    pairs = same = 0
    reversed_pairs: list[tuple[str, str]] = []
    for i in common:
        for j in common:
            if i == j:
                continue
            oi, oj = obs[i], obs[j]
            assert oi.start is not None and oi.end is not None
            assert oj.start is not None and oj.end is not None
            if not oi.end <= oj.start or oj.end <= oi.start:
                continue    # not before, or two zero-length events at the same instant
            pairs += 1
            pi, pj = opt[i], opt[j]
            assert pi.end is not None and pj.start is not None
            if pi.end <= pj.start:
                same += 1
            else:
                reversed_pairs.append((i, j))
    x = [obs[c].start or 0 for c in common]
    y = [opt[c].start or 0 for c in common]
    tau, conc, disc, tx, ty = kendall_tau_b(x, y)
    return Ordering(len(common), pairs, same, conc, disc, tx, ty, tau, reversed_pairs)


# --------------------------------------------------------------------------
# The backtest
@dataclass(frozen=True)
class Backtest:
    scenario: Scenario
    observed: Result
    optimized: Result
    rules: list[RuleVerdict]
    ordering: Ordering | None          # None when the optimizer found no roadmap
    schedule_issues: list[str]         # observed vs. the scenario, rules aside

    @property
    def tags(self) -> dict[str, dict[str, Any]]:
        return by_tag(self.rules)

    @property
    def agreement_held(self) -> bool:
        """The observed schedule breaks no enabled rule tagged ``agreement``."""
        return not any(v.enabled and AGREEMENT_TAG in v.tags and v.verdict == BROKEN
                       for v in self.rules)

    def metrics_rows(self) -> list[tuple[str, int, int | None]]:
        assert self.observed.metrics is not None
        obs = self.observed.metrics.model_dump()
        opt = self.optimized.metrics.model_dump() if self.optimized.metrics else {}
        return [(name, obs[name], opt.get(name)) for name in obs]

    def principal_rows(self) -> list[tuple[str, int | None, int | None]]:
        """Each principal's own peak exposure (SPEC §5.1, from the ledgers): history, optimizer."""
        def peak(r: Result, p: str) -> int | None:
            return r.ledger[p].peak if p in r.ledger else None

        return [(p, peak(self.observed, p), peak(self.optimized, p))
                for p in self.scenario.principal_ids]

    def to_dict(self) -> dict[str, Any]:
        sc = self.scenario
        assert sc.observed is not None
        return {
            "format": "roadmap-backtest/v1",
            "scenario": self.observed.scenario.model_dump(),
            "observed_source": sc.observed.source,
            "principal_peaks": {party: {"observed": o, "optimized": p}
                                for party, o, p in self.principal_rows()},
            "metrics": {name: {"observed": o, "optimized": p}
                        for name, o, p in self.metrics_rows()},
            "exposure": {"observed": self.observed.to_dict()["exposure"],
                         "optimized": self.optimized.to_dict()["exposure"]},
            "ordering": None if self.ordering is None else self.ordering.to_dict(),
            "agreement_held": self.agreement_held,
            "rules": [v.to_dict() for v in self.rules],
            "tags": self.tags,
            "schedule_issues": list(self.schedule_issues),
            "observed": self.observed.to_dict(),
            "optimized": self.optimized.to_dict(),
        }


def _schedule_issues(sc: Scenario, observed: Result, verdicts: list[RuleVerdict]) -> list[str]:
    from optimizer.check import check

    rule_msgs = {m for v in verdicts for m in v.violations}
    return [m for m in check(sc, observed) if m not in rule_msgs]


def backtest(sc: Scenario, options: SolveOptions | None = None) -> Backtest:
    """Evaluate ``sc.observed`` and solve ``sc``; raises ScenarioError without observed."""
    from optimizer.api import solve

    observed = observed_result(sc)
    verdicts = rule_verdicts(sc, observed)
    optimized = solve(sc, options or SolveOptions())
    order = ordering(sc, observed, optimized) if optimized.solved else None
    return Backtest(sc, observed, optimized, verdicts, order,
                    _schedule_issues(sc, observed, verdicts))
