"""A solved roadmap turned into flat arrays for the stress test (SPEC §5.7).

Everything the realisation needs is resolved once here: the present
concessions in a forward order of the precedence graph, their planned start,
duration and verification lag (read from the plan, so a variable duration
keeps the length the plan chose), the per-concession figures of SPEC §2.3/§5.2,
the precedence edges between present concessions and the uncertainty entry
that applies to each field of each concession (most specific wins, field by
field: concession, category, party, default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.extensions import UncertaintyEntry
from models.result import Result
from models.rules import Exposure, Precedence, Reciprocity
from models.scenario import REVERSIBILITY_FACTOR, Concession, Scenario
from optimizer.model.derived import Derived, derive_all, method

FROM_KIND = {"start": 0, "end": 1, "verified": 2}
TO_KIND = {"start": 0, "end": 1}
FIELDS = ("delay", "verification_delay", "verification_failure")


def credit_share(sc: Scenario, c: Concession) -> int:
    """The credit a concession's value earns, in units of 1/10000 (SPEC §5.2).

    ``credit_pct(method) * keep(reversibility)``: with no ``credit_keep`` the
    keep is 100 and this is §2.3's ``credit_pct * 100``. The one place the
    stress test applies ``credit_keep`` (the engine's ``derive`` may learn it
    too; the stress test never reads the engine's computed credit, so it is
    not applied twice).
    """
    if c.verification == "none":
        return 0
    pct, _lag = method(sc, c.verification)
    keep = sc.credit_keep.pct(c.reversibility) if sc.credit_keep is not None else 100
    return pct * keep


@dataclass(frozen=True)
class Edge:
    rule: str
    src: int
    dst: int
    from_kind: int       # 0 start, 1 end, 2 verified
    to_kind: int         # 0 start, 1 end
    min_lag: int
    max_lag: int | None


@dataclass(frozen=True)
class Gap:
    rule: str
    a: int
    b: int
    max_gap: int


@dataclass(frozen=True)
class Cap:
    rule: str
    parties: tuple[int, ...]
    max: int


@dataclass
class Compiled:
    """The roadmap as arrays over its present concessions (index i)."""

    ids: list[str]
    parties: list[str]
    party: np.ndarray            # (n,) party index
    start: np.ndarray            # (n,) planned start
    duration: np.ndarray         # (n,) planned duration (end - start)
    lag: np.ndarray              # (n,) planned verification lag, -1 = never verified
    value: np.ndarray            # (n, P) value to each party (0 to itself)
    cost: np.ndarray             # (n,)
    factor: np.ndarray           # (n,) reversibility factor, percent
    share: np.ndarray            # (n,) credit share, 1/10000
    risk_given: np.ndarray       # (n,) -1 = computed
    credit_given: np.ndarray     # (n, P) used where has_credit
    has_credit: np.ndarray       # (n,) bool: credit taken as written
    risk: np.ndarray             # (n,) at 100 % value
    credit: np.ndarray           # (n, P) at 100 % value; 0 when never verified
    delay: np.ndarray            # (n, 3) triangular [min, mode, max]
    vdelay: np.ndarray           # (n, 3)
    fail: np.ndarray             # (n,) probability the verification never comes
    value_pct: tuple[int, int, int] | None
    correlation: float
    order: list[int]             # forward order (topological when acyclic)
    acyclic: bool
    edges: list[Edge]
    into: list[list[int]]        # per concession, indices into ``edges`` ending there
    gaps: list[Gap]
    caps: list[Cap]
    horizon: int
    plan_sha: str
    plan_makespan: int
    # Risk (n, R) and credit (n, P, R) at each value percentage min..max of ``value``.
    risk_table: np.ndarray | None = None
    credit_table: np.ndarray | None = None
    # Progress records (module docstring); all False / -1 without a progress section.
    fixed_start: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    fixed_duration: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    fixed_verification: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    reversed_at: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def n(self) -> int:
        return len(self.ids)


def _pick(entries: list[UncertaintyEntry | None], field: str) -> Any:
    for e in entries:
        if e is not None and getattr(e, field) is not None:
            return getattr(e, field)
    return None


def _order(n: int, edges: list[Edge], start: np.ndarray) -> tuple[list[int], bool]:
    """Kahn's order (ties by planned start, then index); cycles fall back to start order."""
    indeg = [0] * n
    out: list[list[int]] = [[] for _ in range(n)]
    for e in edges:
        if e.src != e.dst:
            indeg[e.dst] += 1
            out[e.src].append(e.dst)
    import heapq

    ready = [(int(start[i]), i) for i in range(n) if indeg[i] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _s, i = heapq.heappop(ready)
        order.append(i)
        for j in out[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                heapq.heappush(ready, (int(start[j]), j))
    if len(order) == n and all(e.src != e.dst for e in edges):
        return order, True
    return sorted(range(n), key=lambda i: (int(start[i]), i)), False


def compile_plan(sc: Scenario, plan: Result) -> Compiled:
    """Flatten a solved roadmap and the scenario's ``uncertainty`` for sampling."""
    if not plan.solved:
        raise ValueError(f"the plan is {plan.status}: only a solved roadmap can be stressed")
    rows = {s.id: s for s in plan.schedule}
    present = [c for c in sc.concessions
               if c.id in rows and rows[c.id].present and rows[c.id].start is not None]
    parties = sc.party_ids
    pidx = {p: k for k, p in enumerate(parties)}
    index = {c.id: i for i, c in enumerate(present)}
    derived: dict[str, Derived] = derive_all(sc)
    n, P = len(present), len(parties)
    unc = sc.uncertainty

    start = np.zeros(n, np.int64)
    duration = np.zeros(n, np.int64)
    lag = np.full(n, -1, np.int64)
    value = np.zeros((n, P), np.int64)
    cost = np.zeros(n, np.int64)
    factor = np.zeros(n, np.int64)
    share = np.zeros(n, np.int64)
    risk_given = np.full(n, -1, np.int64)
    credit_given = np.zeros((n, P), np.int64)
    has_credit = np.zeros(n, bool)
    delay = np.zeros((n, 3), np.int64)
    vdelay = np.zeros((n, 3), np.int64)
    fail = np.zeros(n, np.float64)
    for i, c in enumerate(present):
        row = rows[c.id]
        d = derived[c.id]
        start[i] = int(row.start or 0)
        duration[i] = int(row.end or 0) - int(row.start or 0)
        if row.verified is not None and d.lag is not None:
            lag[i] = row.verified - int(row.end or 0)
        for p, v in d.value.items():
            value[i, pidx[p]] = v
        cost[i] = d.cost
        factor[i] = REVERSIBILITY_FACTOR[c.reversibility]
        share[i] = credit_share(sc, c)
        if c.risk is not None:
            risk_given[i] = int(c.risk)
        if c.credit is not None and c.verification != "none":
            has_credit[i] = True
            for p, v in d.credit.items():
                credit_given[i, pidx[p]] = v
        if unc is not None:
            entries = [unc.concessions.get(c.id), unc.categories.get(c.category or ""),
                       unc.parties.get(c.party), unc.default]
            dl = _pick(entries, "delay")
            vd = _pick(entries, "verification_delay")
            vf = _pick(entries, "verification_failure")
            if dl is not None:
                delay[i] = dl
            if vd is not None:
                vdelay[i] = vd
            if vf is not None:
                fail[i] = float(vf)
    party = np.array([pidx[c.party] for c in present], np.int64)

    edges: list[Edge] = []
    gaps: list[Gap] = []
    caps: list[Cap] = []
    for r in sc.rules:
        if not r.enabled:
            continue
        if isinstance(r, Precedence) and r.before in index and r.after in index:
            edges.append(Edge(r.id, index[r.before], index[r.after], FROM_KIND[r.from_],
                              TO_KIND[r.to], r.min_lag, r.max_lag))
        elif isinstance(r, Reciprocity) and r.a in index and r.b in index:
            gaps.append(Gap(r.id, index[r.a], index[r.b], r.max_gap))
        elif isinstance(r, Exposure):
            names = r.parties if r.parties else sc.principal_ids
            caps.append(Cap(r.id, tuple(pidx[p] for p in names), r.max))
    into: list[list[int]] = [[] for _ in range(n)]
    for k, e in enumerate(edges):
        into[e.dst].append(k)
    order, acyclic = _order(n, edges, start)
    value_pct = tuple(unc.value) if unc is not None and unc.value is not None else None
    comp = Compiled(
        ids=[c.id for c in present], parties=parties, party=party, start=start,
        duration=duration, lag=lag, value=value, cost=cost, factor=factor, share=share,
        risk_given=risk_given, credit_given=credit_given, has_credit=has_credit,
        risk=np.zeros(n, np.int64), credit=np.zeros((n, P), np.int64),
        delay=delay, vdelay=vdelay, fail=fail,
        value_pct=value_pct,  # type: ignore[arg-type]
        correlation=float(unc.party_correlation) if unc is not None else 0.0,
        order=order, acyclic=acyclic, edges=edges, into=into, gaps=gaps, caps=caps,
        horizon=sc.horizon, plan_sha=plan.scenario.sha256,
        plan_makespan=int((start + duration).max()) if n else 0)
    _records(sc, comp)
    risk, credit = figures(comp, None)
    comp.risk, comp.credit = risk[:, 0], credit[:, :, 0]
    if value_pct is not None:
        pcts = np.arange(value_pct[0], value_pct[2] + 1, dtype=np.int64)
        comp.risk_table, comp.credit_table = figures(comp, np.tile(pcts, (n, 1)))
    return comp


def _records(sc: Scenario, comp: Compiled) -> None:
    """Mark what the progress section fixed (module docstring)."""
    n = comp.n
    comp.fixed_start = np.zeros(n, bool)
    comp.fixed_duration = np.zeros(n, bool)
    comp.fixed_verification = np.zeros(n, bool)
    comp.reversed_at = np.full(n, -1, np.int64)
    if sc.progress is None:
        return
    index = {cid: i for i, cid in enumerate(comp.ids)}
    as_of = sc.progress.as_of
    for step in sc.progress.steps:
        i = index.get(step.id)
        if i is None:
            continue
        comp.fixed_start[i] = True
        if step.end is None:      # under way: its remaining duration is the future's
            continue
        comp.fixed_duration[i] = True
        if step.verified is not None or comp.lag[i] < 0:
            comp.fixed_verification[i] = True          # recorded, refused, or never due
        else:
            comp.fixed_verification[i] = int(comp.start[i] + comp.duration[i]
                                             + comp.lag[i]) <= as_of
        if step.reversed is not None:
            comp.reversed_at[i] = step.reversed


def figures(comp: Compiled, pct: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Risk (n, b) and credit (n, P, b) at value percentages ``pct`` (n, b); None = 100 %.

    Sampling reads these from tables made once per percentage (``risk_table``,
    ``credit_table``), not per sample.

    SPEC §5.7: the percentage scales value and cost with §2.3's rounding down;
    risk is ``floor(cost * factor / 100)`` and credit ``floor(value * share / 10000)``
    (§5.2, rounded down once); a given ``risk`` or ``credit`` is taken as written.
    Concessions never verified earn no credit.
    """
    if pct is None:
        pct = np.full((comp.n, 1), 100, np.int64)
    cost = comp.cost[:, None] * pct // 100
    risk = np.where(comp.risk_given[:, None] >= 0, comp.risk_given[:, None],
                    cost * comp.factor[:, None] // 100)
    value = comp.value[:, :, None] * pct[:, None, :] // 100
    credit = value * comp.share[:, None, None] // 10000
    credit = np.where(comp.has_credit[:, None, None], comp.credit_given[:, :, None], credit)
    credit = np.where((comp.lag >= 0)[:, None, None], credit, 0)
    return risk, credit
