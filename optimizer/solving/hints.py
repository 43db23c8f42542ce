"""A greedy first schedule, used only as a CP-SAT solution hint.

Serial schedule generation: concessions are taken in order of their earliest
start under the temporal rules (longest paths from the windows), and each is
put at the earliest time that keeps, with what is already placed, the
precedence lags (both ways), reciprocity gaps, its window, every resource
and its party's exposure cap. Phase boundaries are then chosen by a dynamic
programme over time that honours phase lengths, allowed phases, together
groups and phase balance. Where a greedy cannot keep a rule it breaks it and
counts a violation; the solver either confirms the hint (``violations == 0``)
or repairs it, so the result is never taken on trust.

Measured on synthetic roadmaps (benchmarks/README.md): without the hint the
solver found no schedule for 1,000 concessions in 60 s.

One piece: a single list-scheduling algorithm, its phase dynamic programme
and its repairs share one state; splitting them would scatter that state.
"""

from __future__ import annotations

import heapq
import random
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from models.scenario import Scenario
from optimizer.model.derived import Derived
from optimizer.model.handles import Handles

# Time-indexed profiles are used; beyond this many time points the greedy
# would cost more than it saves and no hint is made.
MAX_POINTS = 400_000


@dataclass
class Plan:
    present: dict[str, bool]
    start: dict[str, int]
    duration: dict[str, int]
    bounds: list[int]               # B_0..B_K
    phase: dict[str, int]           # phase index of each present concession
    violations: int = 0
    notes: list[str] = field(default_factory=list)


def hint_solution(m: cp_model.CpModel, values: list[int]) -> None:
    """Replace the hints of ``m`` by a complete solution vector of it (every variable,
    in order), as a solver's ``response_proto.solution`` gives it."""
    m.clear_hints()
    m.proto.solution_hint.vars.extend(range(len(values)))
    m.proto.solution_hint.values.extend(values)


def _offset(which: str, d: int, lag: int | None) -> int:
    if which == "start":
        return 0
    if which == "end":
        return d
    return d + (lag or 0)


def _presence(sc: Scenario) -> dict[str, bool]:
    """Required concessions and whatever they drag in; other optional ones stay out."""
    present = {c.id: not c.optional for c in sc.concessions}
    rules = [r for r in sc.rules if r.enabled]
    changed = True
    while changed:
        changed = False
        for r in rules:
            if r.kind == "requires" and present[r.if_] and not present[r.then]:
                present[r.then] = changed = True
            elif r.kind in ("reciprocity", "together"):
                ids = [r.a, r.b] if r.kind == "reciprocity" else list(r.concessions)
                if any(present[i] for i in ids) and not all(present[i] for i in ids):
                    for i in ids:
                        present[i] = True
                    changed = True
    return present


class OutOfTime(Exception):
    """The solve's deadline passed while the greedy was still placing."""


def _check(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise OutOfTime


def greedy(sc: Scenario, derived: dict[str, Derived], passes: int = 0,
           deadline: float | None = None) -> Plan | None:
    present = _presence(sc)
    conc = {c.id: c for c in sc.concessions}
    ids = [c.id for c in sc.concessions if present[c.id]]
    dur = {c.id: c.min_duration for c in sc.concessions}
    max_lag = max((d.lag or 0 for d in derived.values()), default=0)
    max_dur = max((c.max_duration for c in sc.concessions), default=0)
    size = sc.horizon + max_dur + max_lag + 2
    if size > MAX_POINTS:
        return None

    # Temporal edges s_j >= s_i + w as (i, j, w); windows as [lo, hi].
    edges: list[tuple[str, str, int]] = []
    precedes: set[tuple[str, str]] = set()
    for r in sc.rules:
        if not r.enabled:
            continue
        if r.kind == "precedence":
            if not (present[r.before] and present[r.after]):
                continue
            fb = _offset(r.from_, dur[r.before], derived[r.before].lag)
            ta = _offset(r.to, dur[r.after], derived[r.after].lag)
            edges.append((r.before, r.after, fb + r.min_lag - ta))
            if r.before != r.after:
                precedes.add((r.before, r.after))
            if r.max_lag is not None:
                edges.append((r.after, r.before, ta - fb - r.max_lag))
        elif r.kind == "reciprocity" and present[r.a] and present[r.b]:
            edges.append((r.a, r.b, -r.max_gap))
            edges.append((r.b, r.a, -r.max_gap))
    lo: dict[str, int] = {}
    hi: dict[str, int] = {}
    for i in ids:
        c = conc[i]
        latest = c.latest_end if c.latest_end is not None else sc.horizon
        lo[i], hi[i] = c.earliest_start, min(latest - dur[i], sc.horizon - 1)
        if c.start is not None:
            lo[i] = hi[i] = c.start
    est = _longest_paths(ids, edges, lo)
    succ: dict[str, list[tuple[str, int]]] = {i: [] for i in ids}
    pred: dict[str, list[tuple[str, int]]] = {i: [] for i in ids}
    for i, j, w in edges:
        succ[i].append((j, w))
        pred[j].append((i, w))
    pos = {c.id: k for k, c in enumerate(sc.concessions)}
    partner: dict[str, str] = {}
    for r in sc.rules:
        if r.enabled and r.kind == "reciprocity" and present[r.a] and present[r.b]:
            partner.setdefault(r.a, r.b)
            partner.setdefault(r.b, r.a)
    setup = _Setup(sc, derived, size, ids, est, hi, pred, succ, partner, dur, precedes)
    # Packed: earliest starts first. Where the caps then deadlock (tight caps
    # want credit before risk), the file order with starts that never go
    # back in time usually keeps them, as it did when the roadmap was written.
    best: Plan | None = None
    tail = _tails(ids, edges, dur)
    orders = [(sorted(ids, key=lambda i: (-tail[i], est[i], pos[i])), False),
              (sorted(ids, key=lambda i: (est[i], pos[i])), False),
              (_topological(ids, edges, pos, precedes), True)]
    # Seeded noise on the latest-finish priority: a few samples usually beat
    # the plain rule by a few percent (a fixed count keeps hints reproducible).
    rng = random.Random(0)
    spread = max(1, max(dur.values(), default=1))
    for _ in range(passes):
        noisy = {i: -tail[i] - rng.random() * 2 * spread for i in ids}
        orders.append((sorted(ids, key=lambda i: (noisy[i], pos[i])), False))
    for order, monotone in orders:
        _check(deadline)
        plan = _run(setup, present, order, monotone, deadline)
        if best is None or _rank(plan) < _rank(best):
            best = plan
    assert best is not None
    for r in sc.rules:
        if r.enabled and r.kind == "exclusive" and sum(present[i] for i in
                                                       set(r.concessions)) > 1:
            best.violations += 1   # required ones that exclude each other
            best.notes.append(f"exclusive {r.id}")
    return best


def _rank(plan: Plan) -> tuple[int, int]:
    return plan.violations, max((plan.start[i] + plan.duration[i] for i in plan.start),
                                default=0)


@dataclass
class _Setup:
    sc: Scenario
    derived: dict[str, Derived]
    size: int
    ids: list[str]
    est: dict[str, int]
    hi: dict[str, int]
    pred: dict[str, list[tuple[str, int]]]
    succ: dict[str, list[tuple[str, int]]]
    partner: dict[str, str]
    duration: dict[str, int]
    precedes: set[tuple[str, str]]


def _topological(ids: list[str], edges: list[tuple[str, str, int]], pos: dict[str, int],
                 precedes: set[tuple[str, str]]) -> list[str]:
    """File order, bent only where a precedence rule points backwards in it."""
    indeg = {i: 0 for i in ids}
    out: dict[str, list[str]] = {i: [] for i in ids}
    for i, j in precedes:
        out[i].append(j)
        indeg[j] += 1
    heap = [(pos[i], i) for i in ids if indeg[i] == 0]
    heapq.heapify(heap)
    order: list[str] = []
    left = set(ids)
    while left:
        if not heap:   # a cycle of (non-positive) lags: break it at the first in file order
            i = min(left, key=lambda k: pos[k])
            indeg[i] = 0
            heap.append((pos[i], i))
        _, i = heapq.heappop(heap)
        if i not in left:
            continue
        left.discard(i)
        order.append(i)
        for j in out[i]:
            indeg[j] -= 1
            if indeg[j] == 0 and j in left:
                heapq.heappush(heap, (pos[j], j))
    return order


def _run(st: _Setup, present: dict[str, bool], order: list[str], monotone: bool,
         deadline: float | None = None) -> Plan:
    sc, derived, succ, partner = st.sc, st.derived, st.succ, st.partner
    conc = {c.id: c for c in sc.concessions}
    ids = st.ids
    plan = Plan(present=present, start={}, duration=st.duration, bounds=[], phase={})
    rank = {i: k for k, i in enumerate(order)}
    # An edge that agrees with the order makes its head wait for its tail.
    # A reciprocity pair is placed together, so partners never wait on each other.
    # Precedence rules always make their head wait (the priority order need
    # not be topological); other edges only when they agree with the order.
    def waits(j: str, i: str) -> bool:
        return partner.get(i) != j and (rank[j] < rank[i] or (j, i) in st.precedes)

    waiting = {i: sum(1 for j, _ in st.pred[i] if waits(j, i)) for i in ids}
    g = _State(st, plan, monotone)
    ready = [rank[i] for i in ids if waiting[i] == 0]
    heapq.heapify(ready)
    blocked: dict[str, list[int]] = {p: [] for p in g.caps}

    def placed(i: str) -> None:
        for q in g.credited(i):
            for k in blocked[q]:
                heapq.heappush(ready, k)
            blocked[q] = []
        for j, _ in succ[i]:
            if waits(i, j):
                waiting[j] -= 1
                if waiting[j] == 0:
                    heapq.heappush(ready, rank[j])

    steps = 0
    while ready or any(blocked.values()):
        steps += 1
        if steps % 128 == 0:
            _check(deadline)
        forced = not ready
        if forced:
            # Nothing fits under the caps: break the cap of the earliest waiting one.
            p = min((p for p in blocked if blocked[p]), key=lambda p: blocked[p][0])
            i = order[heapq.heappop(blocked[p])]
        else:
            i = order[heapq.heappop(ready)]
        if i in plan.start:
            continue
        if not forced and g.room(i) is None:
            heapq.heappush(blocked[conc[i].party], rank[i])
            continue
        j = partner.get(i)
        if j is not None and j not in plan.start:
            if waiting[j] > 0:
                continue    # placed together with j once j is ready
            if not forced and g.room(j) is None:
                heapq.heappush(blocked[conc[j].party], rank[j])
                continue    # ... or once j's party has room
            first, second = (i, j) if rank[i] < rank[j] else (j, i)
            done = g.pair(first, second, forced)
            for k in done:
                placed(k)
            if done:
                continue
            heapq.heappush(ready, rank[j])
        g.single(i, forced)
        placed(i)
    for i in order:
        if i not in plan.start:   # left over by a deadlock of the rules above
            g.single(i, True)
    for p, curve in g.expo.items():
        if curve.max(initial=0) > g.caps[p]:
            plan.violations += 1
            plan.notes.append(f"exposure {p}")
    _choose_phases(sc, derived, plan)
    return plan


class _State:
    """Resource and exposure profiles of the concessions placed so far."""

    def __init__(self, st: _Setup, plan: Plan, monotone: bool) -> None:
        sc = st.sc
        self.sc, self.derived, self.plan, self.size = sc, st.derived, plan, st.size
        self.est, self.hi, self.pred, self.succ = st.est, st.hi, st.pred, st.succ
        self.monotone, self.last = monotone, 0
        self.conc = {c.id: c for c in sc.concessions}
        self.load = {r.id: np.zeros(st.size, dtype=np.int64) for r in sc.resources}
        self.cap = {r.id: r.capacity for r in sc.resources}
        self.caps = _exposure_caps(sc)
        self.delays = _exposure_delays(sc)
        self.expo = {p: np.zeros(st.size, dtype=np.int64) for p in self.caps}

    def window(self, i: str) -> tuple[int, int]:
        start = self.plan.start
        t_lo = max([self.est[i], self.last if self.monotone else 0]
                   + [start[j] + w for j, w in self.pred[i] if j in start])
        t_hi = min([self.hi[i]] + [start[j] - w for j, w in self.succ[i] if j in start])
        return t_lo, t_hi

    def room(self, i: str) -> int | None:
        """Earliest start that keeps i's party under its cap (None: none yet)."""
        p, risk = self.conc[i].party, self.derived[i].risk
        if p not in self.expo or risk <= 0:
            return 0
        t = _exposure_room(self.expo[p], self.caps[p] - risk)
        return None if t >= self.size - 1 else t

    def uses(self, i: str) -> dict[str, int]:
        return {r: q for r, q in self.conc[i].uses.items() if q > 0 and r in self.load}

    def fit(self, i: str, t: int) -> int | None:
        return _fit(self.load, self.cap, self.uses(i), self.plan.duration[i], t, self.size)

    def credited(self, i: str) -> list[str]:
        d = self.derived[i]
        if d.lag is None:
            return []
        return [q for q, c in d.credit.items() if q in self.expo and c > 0]

    def put(self, i: str, t: int, sign: int = 1) -> None:
        d = self.plan.duration[i]
        for r, q in self.uses(i).items():
            self.load[r][t:t + d] += sign * q
        p, risk = self.conc[i].party, self.derived[i].risk
        if p in self.expo and risk > 0:
            self.expo[p][t:] += sign * risk
        lag = self.derived[i].lag
        if lag is not None:
            for party in self.credited(i):
                v = min(t + d + lag + self.delays.get(party, 0), self.size - 1)
                self.expo[party][v:] -= sign * self.derived[i].credit[party]
        if sign > 0:
            self.plan.start[i] = t
            if t >= self.last:
                self.prev_last, self.last = self.last, t
        else:
            del self.plan.start[i]
            if t == self.last:
                self.last = self.prev_last

    def earliest(self, i: str, forced: bool) -> tuple[int | None, int, int]:
        t_lo, t_hi = self.window(i)
        room = None if forced else self.room(i)
        if room is not None:
            t_lo = max(t_lo, room)
        return self.fit(i, t_lo), t_lo, t_hi

    def single(self, i: str, forced: bool) -> None:
        t, t_lo, t_hi = self.earliest(i, forced)
        if t is None or t > t_hi or forced:
            self.plan.violations += 1
            self.plan.notes.append("cap" if forced else "resource" if t is None else "window")
            lo = self.est[i]
            t = min(max(t_lo, lo), self.hi[i]) if t is None else min(t, max(t_hi, lo))
        self.put(i, t)

    def pair(self, i: str, j: str, forced: bool) -> list[str]:
        """Place a reciprocity pair together: i first, j within its gap."""
        t_lo = self.window(i)[0]
        for _ in range(200):
            room = None if forced else self.room(i)
            ti = self.fit(i, max(t_lo, room or 0))
            if ti is None or ti > self.window(i)[1]:
                return []
            self.put(i, ti)
            tj, _, tj_hi = self.earliest(j, forced)
            if tj is not None and tj <= tj_hi:
                self.put(j, tj)
                return [i, j]
            self.put(i, ti, -1)
            if tj is None:
                return []
            # j needs a later partner: move i to just within the gap of j's slot.
            t_lo = max(ti + 1, tj - (tj_hi - ti))
        return []


def _tails(ids: list[str], edges: list[tuple[str, str, int]],
           dur: dict[str, int]) -> dict[str, int]:
    """Longest path from each start to the end of the roadmap (capped rounds)."""
    tail = {i: dur[i] for i in ids}
    for _ in range(min(len(ids), 50)):
        changed = False
        for i, j, w in edges:
            if w + tail[j] > tail[i]:
                tail[i] = w + tail[j]
                changed = True
        if not changed:
            break
    return tail


def _longest_paths(ids: list[str], edges: list[tuple[str, str, int]],
                   lo: dict[str, int]) -> dict[str, int]:
    """Earliest starts under the temporal edges (Bellman-Ford, capped rounds)."""
    est = dict(lo)
    for _ in range(min(len(ids), 50)):
        changed = False
        for i, j, w in edges:
            if est[i] + w > est[j]:
                est[j] = est[i] + w
                changed = True
        if not changed:
            break
    return est


def _exposure_caps(sc: Scenario) -> dict[str, int]:
    caps: dict[str, int] = {}
    for r in sc.rules:
        if r.enabled and r.kind == "exposure":
            for p in r.parties or sc.principal_ids:
                caps[p] = min(caps.get(p, r.max), r.max)
    return caps


def _exposure_delays(sc: Scenario) -> dict[str, int]:
    """Per capped party, the largest ``verification_delay`` of its caps (SPEC §5.3).

    The greedy counts credit that late against the tightest cap: a
    conservative profile under which every cap of the party holds.
    """
    delays: dict[str, int] = {}
    for r in sc.rules:
        if r.enabled and r.kind == "exposure":
            for p in r.parties or sc.principal_ids:
                delays[p] = max(delays.get(p, 0), r.verification_delay)
    return delays


def _exposure_room(curve: np.ndarray, room: int) -> int:
    """First t from which the curve stays at or below ``room`` (len(curve) if never)."""
    over = np.nonzero(curve > room)[0]
    return 0 if over.size == 0 else int(over[-1]) + 1


def _fit(load: dict[str, np.ndarray], cap: dict[str, int], uses: dict[str, int], d: int,
         t: int, size: int) -> int | None:
    """Earliest start >= t at which every resource has room for the whole duration."""
    if not uses or d == 0:
        return t if t < size else None
    span = 64 + 4 * d
    while t + d <= size:
        # Look ahead in growing windows: one vectorised pass per window.
        stop = min(size, t + span)
        bad = np.zeros(stop - t, dtype=bool)
        for r, q in uses.items():
            bad |= load[r][t:stop] + q > cap[r]
        run = np.concatenate(([0], np.cumsum(bad)))
        ok = np.nonzero(run[d:] == run[:-d])[0] if stop - t >= d else np.zeros(0, dtype=int)
        if ok.size:
            return t + int(ok[0])
        if stop == size:
            return None
        t = max(t + 1, stop - d + 1)
        span *= 2
    return None


def _choose_phases(sc: Scenario, derived: dict[str, Derived], plan: Plan) -> None:
    """Boundaries B_1..B_K by reachability over (phase, time); greedy fallback."""
    phases = sc.effective_phases
    K, H = len(phases), sc.horizon
    starts = plan.start
    conc = {c.id: c for c in sc.concessions}
    last = max(starts.values(), default=-1)
    ok_cut = np.ones(H + 1, dtype=bool)       # a boundary may sit at t
    # Together groups may not be split by a boundary.
    for r in sc.rules:
        if r.enabled and r.kind == "together":
            ss = [starts[i] for i in r.concessions if i in starts]
            if len(ss) > 1 and min(ss) < max(ss):
                ok_cut[min(ss) + 1:max(ss) + 1] = False
    _balance_mask(sc, derived, plan, ok_cut)
    bad_last = []                              # per phase: last start not allowed in it, by t
    for ph in phases:
        arr = np.full(H + 1, -1, dtype=np.int64)
        for i, s in starts.items():
            allowed = conc[i].phases if K > 1 else None
            if allowed is not None and ph.id not in allowed and s + 1 <= H:
                arr[s + 1] = max(arr[s + 1], s)
        bad_last.append(np.maximum.accumulate(arr))
    reach = np.zeros((K + 1, H + 1), dtype=bool)
    reach[0, 0] = True
    for k, ph in enumerate(phases, start=1):
        prefix = np.concatenate(([0], np.cumsum(reach[k - 1])))
        mn, mx = ph.min_length, ph.max_length if ph.max_length is not None else H
        t = np.arange(H + 1)
        a = np.maximum(np.maximum(t - mx, bad_last[k - 1] + 1), 0)
        b = t - mn
        has = (b >= a) & (b >= 0)
        cnt = np.where(has, prefix[np.clip(b, -1, H) + 1] - prefix[np.clip(a, 0, H + 1)], 0)
        reach[k] = (cnt > 0) & ok_cut
        if k == K:
            reach[k, :last + 1] = False
    ends = np.nonzero(reach[K])[0]
    bounds: list[int]
    if ends.size == 0:
        plan.violations += 1
        plan.notes.append("phases")
        qs = sorted(starts.values()) or [0]
        raw = [0] + [qs[min(len(qs) - 1, (len(qs) * k) // K)] for k in range(1, K)] + [H]
        bounds = [min(max(b, raw[n - 1] if n else 0), H) for n, b in enumerate(raw)]
    else:
        bounds = [0] * (K + 1)
        bounds[K] = int(ends[0])
        for k in range(K, 0, -1):
            ph = phases[k - 1]
            end = bounds[k]
            mx = ph.max_length if ph.max_length is not None else H
            first = int(max(end - mx, int(bad_last[k - 1][end]) + 1, 0))
            cands = np.nonzero(reach[k - 1, first:end - ph.min_length + 1])[0]
            bounds[k - 1] = first + int(cands[-1]) if k > 1 else 0
    plan.bounds = bounds
    for i, s in starts.items():
        k = 0
        while k < K - 1 and s >= bounds[k + 1]:
            k += 1
        plan.phase[i] = k


def _balance_mask(sc: Scenario, derived: dict[str, Derived], plan: Plan,
                  ok_cut: np.ndarray) -> None:
    H = len(ok_cut) - 1
    party = {c.id: c.party for c in sc.concessions}
    for r in sc.rules:
        if not (r.enabled and r.kind == "phase_balance"):
            continue
        parties = list(dict.fromkeys(r.parties or sc.principal_ids))
        if len(parties) < 2:
            continue
        cum = {}
        for p in parties:
            arr = np.zeros(H + 2, dtype=np.int64)
            for i, s in plan.start.items():
                if party[i] == p and s + 1 <= H:
                    arr[s + 1] += derived[i].total_value
            cum[p] = np.cumsum(arr)[:H + 1]     # delivered by starts < t
        stacked = np.stack([cum[p] for p in parties])
        spread = stacked.max(axis=0) - stacked.min(axis=0)
        ok_cut &= spread <= r.tolerance


def hint_pairs(h: Handles, plan: Plan) -> list[tuple[Any, int]]:
    """(model variable, value) for the decision variables of a plan."""
    out: list[tuple[Any, int]] = []
    seen: set[int] = set()

    def add(var: Any, value: int) -> None:
        # Constants are shared variables (one per value): hint each var once.
        if isinstance(var, cp_model.IntVar) and var.index not in seen:
            seen.add(var.index)
            out.append((var, value))

    for cid, v in h.conc.items():
        on = plan.present[cid]
        add(v.present, int(on))
        if not on:
            continue
        s, d = plan.start[cid], plan.duration[cid]
        add(v.start, s)
        add(v.duration, d)
        add(v.end, s + d)
        k = plan.phase.get(cid, 0)
        for n, y in enumerate(v.phase_lits):
            add(y, int(n == k))
    for b, value in zip(h.boundaries, plan.bounds, strict=False):
        add(b, value)
    return out


@dataclass
class Hint:
    pairs: list[tuple[Any, int]]
    plan: Plan


# Below this many concessions CP-SAT finds a first schedule at once by
# itself, and a hint only steers its search (j3029_9: 5.5 s with, 2.9 s
# without); from synthetic 200 up it is what makes the first schedule quick.
MIN_CONCESSIONS = 150


def first_hint(sc: Scenario, h: Handles, deadline: float | None = None) -> Hint | None:
    """A complete, rule-abiding greedy schedule as hint pairs (None: no such, or no time)."""
    if h.explain or len(sc.concessions) < MIN_CONCESSIONS:
        return None
    try:
        plan = greedy(sc, h.derived, deadline=deadline)
    except OutOfTime:
        return None
    if plan is None or plan.violations:
        return None
    return Hint(hint_pairs(h, plan), plan)


def better_hint(sc: Scenario, h: Handles, first: Hint,
                deadline: float | None = None) -> Hint | None:
    """More greedy samples (fewer on big roadmaps); a shorter schedule or None."""
    n = len(sc.concessions)
    passes = 8 if n <= 400 else 4 if n <= 1500 else 0
    if passes == 0:
        return None
    try:
        plan = greedy(sc, h.derived, passes, deadline=deadline)
    except OutOfTime:
        return None
    if plan is None or plan.violations or _rank(plan) >= _rank(first.plan):
        return None
    return Hint(hint_pairs(h, plan), plan)
