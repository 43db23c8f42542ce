"""The checker for scenarios with ``progress`` (SPEC §5.5).

Recorded steps as recorded, nothing new before ``as_of``, the caps and
capacities from ``as_of`` only, and ``broken`` recomputed from the SPEC's
definition with the checker's own arithmetic (not ``optimizer.model.broken``).
"""

from __future__ import annotations

from collections.abc import Callable

from models.result import Result, ScheduleEntry
from models.rules import (
    Exclusive,
    Exposure,
    PhaseBalance,
    Precedence,
    Reciprocity,
)
from models.scenario import Concession, Scenario
from optimizer.check.checker import _Checker
from optimizer.check.figures import _NEVER, _Placed, _Terms, derive_terms


# -- progress (SPEC §5.5) --------------------------------------------------------
# A separate checker for scenarios with ``progress``: recorded steps as recorded,
# nothing new before ``as_of``, the caps and capacities from ``as_of`` only, and
# ``broken`` recomputed here from the SPEC's definition with this module's own
# arithmetic (not the engine's ``optimizer.model.broken``).
class _ProgressChecker(_Checker):
    def __init__(self, sc: Scenario, result: Result) -> None:
        super().__init__(sc, result)
        assert sc.progress is not None
        self.as_of = sc.progress.as_of
        self.steps = {s.id: s for s in sc.progress.steps}
        self.broken_keys = _progress_broken(sc, self.terms)

    def run(self) -> list[str]:
        errors = super().run()
        got = self.r.broken
        if got is None:
            self.err("broken is missing: the scenario has progress")
        else:
            keys = set()
            for b in got:
                keys.add(("rule", b["rule"]) if "rule" in b else
                         ("concession", b.get("concession", "?"), b.get("field", "?")))
            if keys != self.broken_keys:
                self.err(f"broken lists {sorted(keys)}, expected {sorted(self.broken_keys)}")
        return errors

    def _check_entry(self, c: Concession, s: ScheduleEntry) -> None:
        step = self.steps.get(c.id)
        if step is None:
            super()._check_entry(c, s)
            if s.present and s.start is not None and s.start < self.as_of:
                self.err(f"{c.id}: not recorded, but starts at {s.start} before as_of "
                         f"{self.as_of}")
            if s.reversed is not None:
                self.err(f"{c.id}: reversed {s.reversed} but not recorded as reversed")
            return
        if not s.present or s.start is None or s.end is None or s.phase is None:
            self.err(f"{c.id}: recorded step must be present with start, end and phase")
            return
        if s.start != step.start:
            self.err(f"{c.id}: start {s.start}, recorded {step.start}")
        lag = self.terms[c.id].lag
        if step.end is not None:
            if s.end != step.end:
                self.err(f"{c.id}: end {s.end}, recorded {step.end}")
            if lag is None or step.verified is False:
                want_v = None
            else:
                want_v = step.end + lag if step.verified is None else step.verified
        else:
            low = max(self.as_of, step.start + c.min_duration)
            if s.end < low:
                self.err(f"{c.id}: under way, end {s.end} before {low}")
            if s.end > self.sc.horizon:
                self.err(f"{c.id}: end {s.end} after the horizon {self.sc.horizon}")
            if c.latest_end is not None and low <= c.latest_end < s.end:
                self.err(f"{c.id}: end {s.end} after latest_end {c.latest_end}")
            want_v = None if lag is None else s.end + lag
        if s.verified != want_v:
            self.err(f"{c.id}: verified {s.verified}, expected {want_v}")
        if s.reversed != step.reversed:
            self.err(f"{c.id}: reversed {s.reversed}, recorded {step.reversed}")
        if s.phase not in self.phase_ids:
            self.err(f"{c.id}: unknown phase {s.phase!r}")
            return
        k = self.phase_ids.index(s.phase)
        win = self.r.phases[k]
        if not win.start <= s.start < win.end:
            self.err(f"{c.id}: start {s.start} outside its phase {s.phase} window")
        self.placed[c.id] = _Placed(s.start, s.end, k)

    def _point(self, cid: str, which: str) -> int | None:
        if which == "verified":
            return self.entries[cid].verified
        return super()._point(cid, which)

    def _ledger_span(self) -> Callable[[str], tuple[int, int] | None] | None:
        return lambda cid: self._credit_span(cid, 0)

    def _credit_span(self, cid: str, delay: int) -> tuple[int, int] | None:
        """[from, until) of the credit a present concession gives (None: never)."""
        v = self.entries[cid].verified
        if v is None:
            return None
        step = self.steps.get(cid)
        until = _NEVER if step is None or step.reversed is None else step.reversed
        return (v + delay, until) if v + delay < until else None

    def _level(self, p: str, t: int, delay: int = 0) -> int:
        level = 0
        for cid, pl in self.placed.items():
            tm = self.terms[cid]
            if tm.party == p:
                if pl.start <= t:
                    level += tm.risk
            elif tm.lag is not None and tm.credit.get(p, 0):
                span = self._credit_span(cid, delay)
                if span is not None and span[0] <= t < span[1]:
                    level -= tm.credit[p]
        return level

    def _levels(self, p: str) -> list[tuple[int, int]]:
        times = {0}
        for cid, pl in self.placed.items():
            times.add(pl.start)
            span = self._credit_span(cid, 0) if self.terms[cid].lag is not None else None
            if span is not None:
                times.update(x for x in span if x < _NEVER)
        out: list[tuple[int, int]] = []
        for t in sorted(times):
            lv = self._level(p, t)
            if not out or out[-1][1] != lv:
                out.append((t, lv))
        return out

    def _check_resources(self) -> None:
        for res in self.sc.resources:
            users = [(pl, self.sc.concession(cid).uses.get(res.id, 0))
                     for cid, pl in self.placed.items()]
            users = [(pl, u) for pl, u in users if u > 0 and pl.end > max(pl.start, self.as_of)]
            for t in sorted({max(pl.start, self.as_of) for pl, _ in users}):
                load = sum(u for pl, u in users if pl.start <= t < pl.end)
                if load > res.capacity:
                    self.err(f"resource {res.id}: load {load} at t={t} (after as_of) over "
                             f"capacity {res.capacity}")
                    break

    def _check_rule(self, rule: object) -> None:
        rid = getattr(rule, "id", "")
        if ("rule", rid) in self.broken_keys and not isinstance(rule, Exposure):
            return
        super()._check_rule(rule)

    def _exposure_cap(self, r: Exposure) -> None:
        delay = int(getattr(r, "verification_delay", 0) or 0)
        for p in r.parties or self.sc.principal_ids:
            for cid, pl in sorted(self.placed.items(), key=lambda kv: kv[1].start):
                if cid in self.steps or self.terms[cid].party != p:
                    continue
                level = self._level(p, pl.start, delay)
                if level > r.max:
                    self.err(f"exposure {r.id}: {p} exposure {level} at its start of {cid} "
                             f"(t={pl.start}) over cap {r.max}")
                    break

    def _check_exposure(self) -> None:
        parties = [p.id for p in self.sc.parties]
        if sorted(self.r.exposure) != sorted(parties):
            self.err(f"exposure has parties {sorted(self.r.exposure)}, expected {sorted(parties)}")
        for p in parties:
            if p in self.r.exposure:
                got = [(int(t), int(lv)) for t, lv in self.r.exposure[p]]
                want = self._levels(p)
                if got != want:
                    self.err(f"exposure curve of {p} is {got}, expected {want}")

    def metric(self, name: str, parties: list[str] | None = None) -> int:
        if name != "peak_exposure":
            return super().metric(name, parties)
        chosen = parties or self.sc.principal_ids   # SPEC §5.1
        return max((max(0, lv) for p in chosen for _, lv in self._levels(p)), default=0)

    def _check_objective(self) -> None:
        entries = self.r.objective
        if entries and entries[-1].metric == "deviation":
            last = entries[-1]
            if last.value is None or last.value < 0:
                self.err(f"deviation value {last.value} must be a non-negative integer")
            self._bound(len(entries) - 1, "deviation", last.value, last.bound)
            self.r = self.r.model_copy(update={"objective": entries[:-1]})
            try:
                super()._check_objective()
            finally:
                self.r = self.r.model_copy(update={"objective": entries})
            return
        super()._check_objective()


def _progress_broken(sc: Scenario, terms: dict[str, _Terms]) -> set[tuple[str, ...]]:
    """SPEC §5.5 ``broken`` as keys, from the definition (own arithmetic)."""
    assert sc.progress is not None
    as_of = sc.progress.as_of
    steps = {s.id: s for s in sc.progress.steps}
    out: set[tuple[str, ...]] = set()
    for c in sc.concessions:
        st = steps.get(c.id)
        if st is None:
            continue
        if st.start < c.earliest_start:
            out.add(("concession", c.id, "earliest_start"))
        if c.start is not None and c.start != st.start:
            out.add(("concession", c.id, "start"))
        if st.end is not None:
            if c.latest_end is not None and st.end > c.latest_end:
                out.add(("concession", c.id, "latest_end"))
            if not c.min_duration <= st.end - st.start <= c.max_duration:
                out.add(("concession", c.id, "duration"))
        else:
            if c.latest_end is not None and max(as_of, st.start + c.min_duration) > c.latest_end:
                out.add(("concession", c.id, "latest_end"))
            if as_of - st.start > c.max_duration:
                out.add(("concession", c.id, "duration"))
    for rule in sc.rules:
        if not rule.enabled:
            continue
        if isinstance(rule, Exposure):
            if _past_breach(sc, terms, steps, as_of, rule):
                out.add(("rule", rule.id))
        elif not _can_hold(sc, rule, steps, as_of) and _can_hold(sc, rule, {}, 0):
            out.add(("rule", rule.id))
    return out


def _window(sc: Scenario, steps: dict, as_of: int, cid: str, which: str,
            lag: int | None) -> tuple[float, float] | None:
    """Earliest and latest time of a point (None: a refused verification)."""
    c, st, big = sc.concession(cid), steps.get(cid), float("inf")
    if st is None:
        first = as_of + {"start": 0, "end": c.min_duration,
                         "verified": c.min_duration + (lag or 0)}[which]
        return (first, big)
    if which == "start":
        return (st.start, st.start)
    if st.end is None:
        first = max(as_of, st.start + c.min_duration) + (lag or 0 if which == "verified" else 0)
        return (first, big)
    if which == "end":
        return (st.end, st.end)
    if st.verified is False:
        return None
    v = st.end + (lag or 0) if st.verified is None else st.verified
    return (v, v)


def _can_hold(sc: Scenario, rule: object, steps: dict, as_of: int) -> bool:
    big = float("inf")

    def optional_free(cid: str) -> bool:
        return sc.concession(cid).optional and cid not in steps

    if isinstance(rule, Precedence):
        if optional_free(rule.before) or optional_free(rule.after):
            return True
        lag = derive_terms(sc, sc.concession(rule.before)).lag
        if rule.before == rule.after:
            c, st = sc.concession(rule.before), steps.get(rule.before)
            if st is not None and st.end is not None:
                pts = {"start": st.start, "end": st.end}
                if rule.from_ == "verified" or rule.to == "verified":
                    w = _window(sc, steps, as_of, rule.before, "verified", lag)
                    if w is None:
                        return False
                    pts["verified"] = int(w[0])
                gap = pts[rule.to] - pts[rule.from_]
                return gap >= rule.min_lag and (rule.max_lag is None or gap <= rule.max_lag)
            dlo = c.min_duration if st is None else max(as_of, st.start + c.min_duration) - st.start
            dhi: float = c.max_duration if st is None else big
            lagv = lag or 0
            off = {"start": (0, 0), "end": (1, 0), "verified": (1, lagv)}
            k = off[rule.to][0] - off[rule.from_][0]
            base = off[rule.to][1] - off[rule.from_][1]
            lo, hi = (base, base) if k == 0 else (
                (base + dlo, base + dhi) if k > 0 else (base - dhi, base - dlo))
        else:
            a = _window(sc, steps, as_of, rule.before, rule.from_, lag)
            if a is None:
                return rule.after not in steps
            b = _window(sc, steps, as_of, rule.after, rule.to,
                        derive_terms(sc, sc.concession(rule.after)).lag)
            assert b is not None
            lo, hi = b[0] - a[1], b[1] - a[0]
        top = big if rule.max_lag is None else rule.max_lag
        return max(lo, rule.min_lag) <= min(hi, top)
    if isinstance(rule, Reciprocity):
        if rule.a == rule.b or (optional_free(rule.a) and optional_free(rule.b)):
            return True
        a = _window(sc, steps, as_of, rule.a, "start", None)
        b = _window(sc, steps, as_of, rule.b, "start", None)
        assert a is not None and b is not None
        return max(0, a[0] - b[1], b[0] - a[1]) <= rule.max_gap
    if isinstance(rule, Exclusive):
        return sum(1 for cid in dict.fromkeys(rule.concessions)
                   if cid in steps or not sc.concession(cid).optional) <= 1
    if isinstance(rule, PhaseBalance):
        parties = list(dict.fromkeys(rule.parties or sc.principal_ids))
        reach: list[set[int]] = []
        for p in parties:
            sums = {0}
            for c in sc.concessions:
                if c.party != p:
                    continue
                val = derive_terms(sc, c).total
                if c.optional and c.id not in steps:
                    sums |= {x + val for x in sums}
                else:
                    sums = {x + val for x in sums}
            reach.append(sums)
        return any(all(any(lo <= y <= lo + rule.tolerance for y in s) for s in reach)
                   for lo in set().union(*reach))
    return True


def _past_breach(sc: Scenario, terms: dict[str, _Terms], steps: dict, as_of: int,
                 rule: Exposure) -> bool:
    delay = int(getattr(rule, "verification_delay", 0) or 0)
    for p in rule.parties or sc.principal_ids:
        for t in range(as_of):
            level = 0
            for cid, st in steps.items():
                tm = terms[cid]
                if tm.party == p:
                    level += tm.risk if st.start <= t else 0
                elif st.end is not None and tm.lag is not None and st.verified is not False:
                    v = (st.end + tm.lag if st.verified is None else st.verified) + delay
                    until = st.reversed if st.reversed is not None else _NEVER
                    if v <= t < until:
                        level -= tm.credit.get(p, 0)
            if level > rule.max:
                return True
    return False
