"""What holds a feasible schedule in place: slack, tight rules, the critical chain.

Slack is exact: for each present concession two small CP-SAT solves (latest
and earliest start) with every other concession fixed where the schedule put
it and every rule and demand still enforced; phase boundaries stay free, as
they are not the planner's choice. Tight rules and the critical chain are
read off the schedule in plain Python.

One piece: one report (slack, tight rules, the critical chain) over one view
of the schedule.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from models.result import Result
from models.rules import Exposure, PhaseBalance, Precedence, Reciprocity
from models.scenario import Scenario
from optimizer.explain.phrasing import at, phase_name, resource_name, span, title
from optimizer.model.build import build
from optimizer.model.derived import Derived, derive_all
from optimizer.model.evaluate import Placed, delivered_by_phase, exposure_curve, placements

PER_SOLVE_S = 10.0


@dataclass
class Slack:
    concession: str
    start: int
    end: int
    earlier: int | None      # how far it could start earlier, others fixed (None: unknown)
    later: int | None


@dataclass
class Tight:
    element: str             # "rule:<id>", "phase:<id>:max_length", "resource:<id>:capacity", ...
    kind: str                # precedence | reciprocity | exposure | phase_balance | phase | ...
    detail: str              # a sentence for a person
    time: int | None = None
    concessions: list[str] = field(default_factory=list)


@dataclass
class ChainLink:
    concession: str
    start: int
    end: int
    via: str | None          # element tying it to the previous link (None for the first)
    detail: str


@dataclass
class BindingReport:
    makespan: int
    slack: list[Slack]
    tight: list[Tight]
    critical_chain: list[ChainLink]
    chain_root: str          # why the first link cannot start earlier

    def to_dict(self) -> dict[str, Any]:
        return {
            "makespan": self.makespan,
            "slack": [asdict(s) for s in self.slack],
            "tight": [asdict(t) for t in self.tight],
            "critical_chain": [asdict(c) for c in self.critical_chain],
            "chain_root": self.chain_root,
        }


@dataclass
class _View:
    """A solved schedule with what the checks below need."""

    sc: Scenario
    derived: dict[str, Derived]
    placed: dict[str, Placed]
    bounds: list[int]                   # B_0..B_K
    curves: dict[str, list[tuple[int, int]]]

    def point(self, cid: str, which: str) -> int:
        pl = self.placed[cid]
        if which == "start":
            return pl.start
        if which == "end":
            return pl.end
        return pl.end + (self.derived[cid].lag or 0)

    def level(self, party: str, t: int) -> int:
        out = 0
        for when, lv in self.curves[party]:
            if when > t:
                break
            out = lv
        return out


def _view(sc: Scenario, result: Result) -> _View:
    derived = derive_all(sc)
    placed = placements(result)
    bounds = [0] + [p.end for p in result.phases]
    curves = {p: exposure_curve(sc, placed, p, derived) for p in sc.party_ids}
    return _View(sc, derived, placed, bounds, curves)


def binding_report(sc: Scenario, result: Result, *, deadline: float | None = None) -> BindingReport:
    if not result.solved:
        raise ValueError("a binding report needs a solved schedule")
    v = _view(sc, result)
    slack = slack_report(sc, result, deadline=deadline)
    tight = tight_elements(sc, result)
    chain, root = critical_chain(sc, result, {s.concession: s for s in slack})
    makespan = max((pl.end for pl in v.placed.values()), default=0)
    return BindingReport(makespan, slack, tight, chain, root)


# --------------------------------------------------------------------------
# Slack
def slack_report(sc: Scenario, result: Result, *, deadline: float | None = None) -> list[Slack]:
    v = _view(sc, result)
    out: list[Slack] = []
    for c in sc.concessions:
        pl = v.placed.get(c.id)
        if pl is None:
            continue
        lo = _extreme(sc, v, c.id, maximise=False, deadline=deadline)
        hi = _extreme(sc, v, c.id, maximise=True, deadline=deadline)
        out.append(Slack(c.id, pl.start, pl.end,
                         None if lo is None else pl.start - lo,
                         None if hi is None else hi - pl.start))
    return out


def _extreme(sc: Scenario, v: _View, cid: str, *, maximise: bool,
             deadline: float | None) -> int | None:
    budget = PER_SOLVE_S if deadline is None else min(PER_SOLVE_S, deadline - time.monotonic())
    if budget <= 0:
        return None
    h = build(sc)
    m = h.model
    for other, cv in h.conc.items():
        pl = v.placed.get(other)
        if other == cid:
            if not cv.required:
                m.add(cv.present == 1)
            continue
        if pl is None:
            m.add(cv.present == 0)
            continue
        if not cv.required:
            m.add(cv.present == 1)
        m.add(cv.start == pl.start)
        m.add(cv.end == pl.end)
    target = h.conc[cid].start
    if maximise:
        m.maximize(target)
    else:
        m.minimize(target)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = budget
    if solver.solve(m) != cp_model.OPTIMAL:
        return None
    return int(solver.value(target))


# --------------------------------------------------------------------------
# Tight rules and demands
def tight_elements(sc: Scenario, result: Result) -> list[Tight]:
    v = _view(sc, result)
    out: list[Tight] = []
    for rule in sc.rules:
        if not rule.enabled:
            continue
        if isinstance(rule, Precedence):
            out.extend(_precedence(v, rule))
        elif isinstance(rule, Reciprocity):
            if rule.a in v.placed and rule.b in v.placed and \
                    abs(v.placed[rule.a].start - v.placed[rule.b].start) == rule.max_gap:
                out.append(Tight(f"rule:{rule.id}", "reciprocity",
                                 f"{title(sc, rule.a)} and {title(sc, rule.b)} start exactly "
                                 f"{span(sc, rule.max_gap)} apart, the most allowed",
                                 max(v.placed[rule.a].start, v.placed[rule.b].start),
                                 [rule.a, rule.b]))
        elif isinstance(rule, Exposure):
            out.extend(_exposure(v, rule))
        elif isinstance(rule, PhaseBalance):
            out.extend(_balance(v, rule))
    out.extend(_phases(v, result))
    out.extend(_resources(v))
    out.extend(_windows(v))
    return out


def _precedence(v: _View, r: Precedence) -> list[Tight]:
    if r.before not in v.placed or r.after not in v.placed:
        return []
    gap = v.point(r.after, r.to) - v.point(r.before, r.from_)
    sc = v.sc
    out = []
    for bound, word in ((r.min_lag, "minimum"), (r.max_lag, "maximum")):
        if bound is not None and gap == bound:
            out.append(Tight(f"rule:{r.id}", "precedence",
                             f"{title(sc, r.after)} {'starts' if r.to == 'start' else 'ends'} "
                             f"at the {word} lag ({span(sc, bound)}) after {title(sc, r.before)} "
                             f"{'is verified' if r.from_ == 'verified' else r.from_ + 's'}",
                             v.point(r.after, r.to), [r.before, r.after]))
    return out


def _exposure(v: _View, r: Exposure) -> list[Tight]:
    out = []
    for p in r.parties or v.sc.principal_ids:
        # A delayed cap (SPEC §5.3) binds on the curve with credit k later.
        curve = v.curves[p] if r.verification_delay == 0 else exposure_curve(
            v.sc, v.placed, p, v.derived, delay=r.verification_delay)
        for t, level in curve:
            if level == r.max:
                after = [cid for cid, pl in v.placed.items()
                         if v.derived[cid].party == p and pl.start == t]
                out.append(Tight(f"rule:{r.id}", "exposure",
                                 f"{p} exposure reaches its cap {r.max} at {at(v.sc, t)}",
                                 t, after))
    return out


def _balance(v: _View, r: PhaseBalance) -> list[Tight]:
    sc = v.sc
    who = list(dict.fromkeys(r.parties or sc.principal_ids))
    cum = {p: delivered_by_phase(sc, v.placed, p, v.derived) for p in who}
    out = []
    for k, ph in enumerate(sc.effective_phases):
        for i, p in enumerate(who):
            for q in who[i + 1:]:
                if abs(cum[p][k] - cum[q][k]) == r.tolerance:
                    out.append(Tight(f"rule:{r.id}", "phase_balance",
                                     f"by the end of phase {phase_name(sc, ph.id)} {p} and {q} "
                                     f"delivered {cum[p][k]} and {cum[q][k]}: exactly the "
                                     f"tolerance {r.tolerance} apart", v.bounds[k + 1], []))
    return out


def _phases(v: _View, result: Result) -> list[Tight]:
    sc = v.sc
    out = []
    for ph, win in zip(sc.effective_phases, result.phases, strict=False):
        length = win.end - win.start
        if ph.max_length is not None and length == ph.max_length:
            out.append(Tight(f"phase:{ph.id}:max_length", "phase",
                             f"phase {phase_name(sc, ph.id)} has its maximum length "
                             f"{span(sc, length)}", win.end))
        elif length == ph.min_length and sc.phases:
            out.append(Tight(f"phase:{ph.id}:min_length", "phase",
                             f"phase {phase_name(sc, ph.id)} has its minimum length "
                             f"{span(sc, length)}", win.end))
    return out


def _resources(v: _View) -> list[Tight]:
    sc = v.sc
    out = []
    for r in sc.resources:
        users = [(cid, pl) for cid, pl in v.placed.items()
                 if sc.concession(cid).uses.get(r.id, 0) > 0]
        times = sorted({pl.start for _, pl in users} | {pl.end for _, pl in users})
        full_from: int | None = None
        for t in [*times, None]:
            use = 0 if t is None else sum(sc.concession(cid).uses[r.id] for cid, pl in users
                                          if pl.start <= t < pl.end)
            if use >= r.capacity and full_from is None:
                full_from = t
            elif use < r.capacity and full_from is not None:
                assert t is not None
                who = [cid for cid, pl in users if pl.start < t and pl.end > full_from]
                out.append(Tight(f"resource:{r.id}:capacity", "resource",
                                 f"all {r.capacity} of {resource_name(sc, r.id)} are in use from "
                                 f"{at(sc, full_from)} to {at(sc, t)}", full_from, who))
                full_from = None
    return out


def _windows(v: _View) -> list[Tight]:
    sc = v.sc
    out = []
    for c in sc.concessions:
        pl = v.placed.get(c.id)
        if pl is None:
            continue
        if c.start is not None:
            out.append(Tight(f"concession:{c.id}:start", "pin",
                             f"{title(sc, c.id)} is pinned at {at(sc, c.start)}", pl.start, [c.id]))
        elif c.earliest_start > 0 and pl.start == c.earliest_start:
            out.append(Tight(f"concession:{c.id}:earliest_start", "window",
                             f"{title(sc, c.id)} starts at its earliest, {at(sc, pl.start)}",
                             pl.start, [c.id]))
        if c.latest_end is not None and pl.end == c.latest_end:
            out.append(Tight(f"concession:{c.id}:latest_end", "window",
                             f"{title(sc, c.id)} ends at its deadline, {at(sc, pl.end)}",
                             pl.end, [c.id]))
        elif pl.end == sc.horizon:
            out.append(Tight("horizon", "window",
                             f"{title(sc, c.id)} ends at the horizon, {at(sc, pl.end)}",
                             pl.end, [c.id]))
    return out


# --------------------------------------------------------------------------
# Critical chain
def critical_chain(sc: Scenario, result: Result,
                   slack: dict[str, Slack] | None = None) -> tuple[list[ChainLink], str]:
    """The concessions, last one ending at the makespan, that hold each other back.

    From a concession ending at the makespan, follow what stops each link
    from starting a unit earlier: a precedence at its minimum lag, a
    reciprocity at its widest gap, a resource that is full until a
    predecessor ends, or an exposure cap that waits for a predecessor's
    verified credit; stop at a window, a pin, a phase opening or time 0.
    """
    v = _view(sc, result)
    if not v.placed:
        return [], "nothing is scheduled"
    makespan = max(pl.end for pl in v.placed.values())
    enders = [c.id for c in sc.concessions if c.id in v.placed
              and v.placed[c.id].end == makespan]
    if slack:
        def earlier(cid: str) -> int:
            e = slack[cid].earlier if cid in slack else None
            return e if e is not None else 1 << 30

        enders.sort(key=earlier)
    entries: list[tuple[str, str | None, str]] = []   # from the last link backwards
    seen: set[str] = set()
    cur = enders[0]
    root = "the chain loops back on itself"
    while cur not in seen:
        seen.add(cur)
        nxt = _blocker(v, cur)
        if nxt is None:
            root = _root(v, cur)
            entries.append((cur, None, root))
            break
        pred, via, why = nxt
        entries.append((cur, via, why))
        cur = pred
    chain = [ChainLink(cid, v.placed[cid].start, v.placed[cid].end, via, detail)
             for cid, via, detail in reversed(entries)]
    return chain, root


def _blocker(v: _View, cid: str) -> tuple[str, str, str] | None:
    sc, pl = v.sc, v.placed[cid]
    for r in sc.rules:
        if not r.enabled:
            continue
        if isinstance(r, Precedence) and r.after == cid and r.before in v.placed and \
                r.before != cid and v.point(cid, r.to) - v.point(r.before, r.from_) == r.min_lag:
            return r.before, f"rule:{r.id}", (
                f"{title(sc, cid)} waits for it (rule '{r.id}', minimum lag "
                f"{span(sc, r.min_lag)})")
        if isinstance(r, Reciprocity) and cid in (r.a, r.b):
            other = r.b if cid == r.a else r.a
            # The partner starting the widest gap *later* keeps this one from moving up.
            if other in v.placed and v.placed[other].start - pl.start == r.max_gap and \
                    r.max_gap > 0:
                return other, f"rule:{r.id}", (
                    f"{title(sc, cid)} must start within {span(sc, r.max_gap)} of it "
                    f"(rule '{r.id}')")
    for res in sc.resources:
        need = sc.concession(cid).uses.get(res.id, 0)
        if need <= 0 or pl.start == 0:
            continue
        t = pl.start - 1
        use = sum(sc.concession(j).uses.get(res.id, 0) for j, q in v.placed.items()
                  if j != cid and q.start <= t < q.end)
        if use + need > res.capacity:
            for j, q in v.placed.items():
                if j != cid and q.end == pl.start and sc.concession(j).uses.get(res.id, 0):
                    return j, f"resource:{res.id}:capacity", (
                        f"{title(sc, cid)} needs {resource_name(sc, res.id)} it frees")
    party, risk = v.derived[cid].party, v.derived[cid].risk
    for r in sc.rules:
        if not (r.enabled and isinstance(r, Exposure)) or risk <= 0 or pl.start == 0:
            continue
        if party not in (r.parties or sc.principal_ids):
            continue
        k = r.verification_delay   # SPEC §5.3: this cap counts credit k late
        if k:
            curve = exposure_curve(sc, v.placed, party, v.derived, delay=k)
            before = next((lv for when, lv in reversed(curve) if when <= pl.start - 1), 0)
        else:
            before = v.level(party, pl.start - 1)
        if before + risk > r.max:
            for j, q in v.placed.items():
                d = v.derived[j]
                if d.party != party and d.lag is not None and d.credit.get(party, 0) > 0 \
                        and q.end + d.lag + k == pl.start:
                    return j, f"rule:{r.id}", (
                        f"{party} can only take this step once its verified credit arrives "
                        f"(exposure cap {r.max}, rule '{r.id}')")
    return None


def _root(v: _View, cid: str) -> str:
    sc, pl = v.sc, v.placed[cid]
    c = sc.concession(cid)
    if c.start is not None:
        return f"{title(sc, cid)} is pinned at {at(sc, c.start)}"
    if pl.start == 0:
        return f"{title(sc, cid)} starts at the very beginning"
    if pl.start == c.earliest_start:
        return f"{title(sc, cid)} cannot start before {at(sc, c.earliest_start)}"
    if pl.phase > 0 and pl.start == v.bounds[pl.phase]:
        pid = sc.effective_phases[pl.phase].id
        return f"{title(sc, cid)} starts as soon as phase {phase_name(sc, pid)} opens"
    return f"{title(sc, cid)} could start earlier only by moving other steps too"
