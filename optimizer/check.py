"""Independent checker: does a Result honour its Scenario (SPEC §2, §3 and §5.1-5.4)?

Everything is recomputed here in plain Python from the scenario and the
reported schedule. On purpose this module imports neither OR-Tools nor the
engine's own helpers (``optimizer.model.derived``, ``optimizer.model.evaluate``): a bug
shared by the engine and its reader must not hide itself from the checker.

One piece on purpose (about 500 lines): the whole verifier is read in one
sitting against SPEC, and splitting it would invite sharing helpers with the engine.
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

from models.result import METRIC_NAMES, Result, ScheduleEntry
from models.rules import (
    Exclusive,
    Exposure,
    PhaseBalance,
    Precedence,
    Reciprocity,
    Requires,
    Together,
)
from models.scenario import Concession, Scenario

# SPEC §2.3, copied rather than imported so that a wrong table in the models
# cannot make the engine and the checker agree on a wrong answer.
_METHODS: dict[str, tuple[int, int | None]] = {
    "none": (0, None),
    "declaration": (25, 0),
    "public": (100, 0),
    "ntm": (75, 1),
    "monitoring": (90, 1),
    "inspection": (100, 2),
}
_FACTOR = {"reversible": 25, "costly": 60, "irreversible": 100}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

# Later than any time: a credit never reversed lasts until then.
_NEVER = 10**18


@dataclass(frozen=True)
class _Terms:
    """What SPEC §2.3 derives for one concession."""

    party: str
    value: dict[str, int]     # to each other party
    total: int
    risk: int
    credit: dict[str, int]    # to each other party
    lag: int | None           # None: never verified


@dataclass(frozen=True)
class _Placed:
    start: int
    end: int
    phase: int                # index into the scenario's phases


def derive_terms(sc: Scenario, c: Concession) -> _Terms:
    others = [p.id for p in sc.parties if p.id != c.party]
    if isinstance(c.value, dict):
        value = {p: c.value.get(p, 0) for p in others}
    else:
        value = {p: c.value for p in others}
    total = sum(value.values())
    cost = total if c.cost is None else c.cost
    risk = c.risk if c.risk is not None else (cost * _FACTOR[c.reversibility]) // 100
    if c.verification == "none":
        return _Terms(c.party, value, total, risk, {p: 0 for p in others}, None)
    pct, lag = _METHODS[c.verification]
    over = sc.verification_methods.get(c.verification)  # type: ignore[call-overload]
    if over is not None:
        pct = pct if over.credit_pct is None else over.credit_pct
        lag = lag if over.lag is None else over.lag
    if c.verification_lag is not None:
        lag = c.verification_lag
    if c.credit is None:
        # SPEC §5.2: value * pct * keep / 10000, rounded down once (keep 100 when absent).
        keep = 100
        if sc.credit_keep is not None:
            keep = {"reversible": sc.credit_keep.reversible, "costly": sc.credit_keep.costly,
                    "irreversible": sc.credit_keep.irreversible}[c.reversibility]
        credit = {p: (v * pct * keep) // 10000 for p, v in value.items()}
    elif isinstance(c.credit, dict):
        credit = {p: c.credit.get(p, 0) for p in others}
    else:
        credit = {p: c.credit for p in others}
    return _Terms(c.party, value, total, risk, credit, lag)


def exposure_levels(sc: Scenario, terms: dict[str, _Terms], placed: dict[str, _Placed],
                    party: str, delay: int = 0) -> list[tuple[int, int]]:
    """exposure_party(t) as [t, level] points: from t = 0, one per change of level.

    ``delay``: credit counts from ``v_j + delay`` (SPEC §5.3, one rule's view).
    """
    deltas: dict[int, int] = {0: 0}
    for cid, pl in placed.items():
        t = terms[cid]
        if t.party == party:
            deltas[pl.start] = deltas.get(pl.start, 0) + t.risk
        elif t.lag is not None:
            v = pl.end + t.lag + delay
            deltas[v] = deltas.get(v, 0) - t.credit.get(party, 0)
    points: list[tuple[int, int]] = []
    level = 0
    for time in sorted(deltas):
        level += deltas[time]
        if not points or points[-1][1] != level:
            points.append((time, level))
    return points


def ledger_points(terms: dict[str, _Terms], placed: dict[str, _Placed], party: str,
                  credit_span: Callable[[str], tuple[int, int] | None] | None = None,
                  ) -> list[tuple[int, int, int, int, int]]:
    """SPEC §5.4 for one party, evaluated afresh at every candidate time.

    Each figure is a sum of steps; its value at t is read off sorted step
    times with a prefix sum (not the engine's running-delta sweep), and a
    point is kept where any of the four differs from the previous kept one.
    """
    steps: dict[str, list[tuple[int, int]]] = {"delivered": [], "received": [], "at_risk": []}
    for cid, pl in placed.items():
        term = terms[cid]
        if term.party == party:
            steps["delivered"].append((pl.end, term.total))
            steps["at_risk"].append((pl.start, term.risk))
        elif term.lag is not None:
            # [from, until) of the credit: verification to reversal (SPEC §5.5 records).
            span = (pl.end + term.lag, _NEVER) if credit_span is None else credit_span(cid)
            if span is not None:
                steps["received"].append((span[0], term.credit.get(party, 0)))
                if span[1] < _NEVER:
                    steps["received"].append((span[1], -term.credit.get(party, 0)))
    tables: dict[str, tuple[list[int], list[int]]] = {}
    for name, items in steps.items():
        items.sort()
        times, sums, run = [], [], 0
        for time, amount in items:
            run += amount
            times.append(time)
            sums.append(run)
        tables[name] = (times, sums)

    def at(name: str, t: int) -> int:
        times, sums = tables[name]
        k = bisect_right(times, t)
        return sums[k - 1] if k else 0

    candidates = sorted({0} | {time for items in steps.values() for time, _ in items})
    out: list[tuple[int, int, int, int, int]] = []
    for t in candidates:
        d, r, a = at("delivered", t), at("received", t), at("at_risk", t)
        row = (t, d, r, a, a - r)
        if not out or out[-1][1:] != row[1:]:
            out.append(row)
    return out


def _delivered(sc: Scenario, terms: dict[str, _Terms], placed: dict[str, _Placed],
               party: str) -> list[int]:
    """Cumulative total value delivered by ``party`` in phases 1..k, for each k."""
    per = [0] * len(sc.effective_phases)
    for cid, pl in placed.items():
        if terms[cid].party == party:
            per[pl.phase] += terms[cid].total
    out, run = [], 0
    for v in per:
        run += v
        out.append(run)
    return out


def _sha256(sc: Scenario) -> str:
    text = json.dumps(sc.canonical_dict(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Checker:
    def __init__(self, sc: Scenario, result: Result) -> None:
        self.sc = sc
        self.r = result
        self.errors: list[str] = []
        self.terms = {c.id: derive_terms(sc, c) for c in sc.concessions}
        self.phase_ids = [p.id for p in sc.effective_phases]
        self.placed: dict[str, _Placed] = {}
        self.entries: dict[str, ScheduleEntry] = {}

    def err(self, msg: str) -> None:
        self.errors.append(msg)

    # -- top level -----------------------------------------------------------
    def run(self) -> list[str]:
        r = self.r
        if r.format != "roadmap-result/v1":
            self.err(f"format is {r.format!r}, expected 'roadmap-result/v1'")
        if r.scenario.name != self.sc.name:
            self.err(f"scenario.name {r.scenario.name!r} != scenario's {self.sc.name!r}")
        if not _HEX64.match(r.scenario.sha256):
            self.err(f"scenario.sha256 {r.scenario.sha256!r} is not 64 lowercase hex chars")
        elif r.scenario.sha256 != _sha256(self.sc):
            self.err("scenario.sha256 does not match the canonical scenario JSON")
        if r.status in ("infeasible", "unknown"):
            self._check_empty()
            return self.errors
        if r.status not in ("optimal", "feasible"):
            self.err(f"unknown status {r.status!r}")
            return self.errors
        if r.conflict is not None:
            self.err(f"conflict must be null for status {r.status}")
        if not self._check_phases():
            return self.errors
        self._check_schedule()
        self._check_resources()
        for rule in self.sc.rules:
            if rule.enabled:
                self._check_rule(rule)
        self._check_exposure()
        self._check_ledger()
        self._check_metrics()
        self._check_objective()
        return self.errors

    def _check_empty(self) -> None:
        r = self.r
        if r.metrics is not None:
            self.err(f"metrics must be null for status {r.status}")
        for name, value in (("schedule", r.schedule), ("phases", r.phases),
                            ("objective", r.objective)):
            if value:
                self.err(f"{name} must be an empty list for status {r.status}")
        if r.exposure:
            self.err(f"exposure must be an empty object for status {r.status}")
        if r.ledger:
            self.err(f"ledger must be an empty object for status {r.status}")
        if r.status == "unknown" and r.conflict is not None:
            self.err("conflict must be null for status unknown")
        if r.status == "infeasible" and r.conflict is not None:
            enabled = {rule.id for rule in self.sc.rules if rule.enabled}
            for rid in r.conflict.rules:
                if rid not in enabled:
                    self.err(f"conflict names {rid!r}, not an enabled rule")
            known = {c.id for c in self.sc.concessions}
            for cid in r.conflict.concessions:
                if cid not in known:
                    self.err(f"conflict names unknown concession {cid!r}")

    # -- phases (SPEC §2.1) --------------------------------------------------
    def _check_phases(self) -> bool:
        got = [p.id for p in self.r.phases]
        if got != self.phase_ids:
            self.err(f"phases are {got}, expected {self.phase_ids} in this order")
            return False
        prev = 0
        for k, (win, ph) in enumerate(zip(self.r.phases, self.sc.effective_phases, strict=True)):
            if win.start != prev:
                what = "start at 0" if k == 0 else f"start where {self.phase_ids[k - 1]} ends"
                self.err(f"phase {win.id} starts at {win.start}, must {what} ({prev}):"
                         " phase windows not contiguous")
            length = win.end - win.start
            hi = ph.max_length if ph.max_length is not None else self.sc.horizon
            if length < ph.min_length:
                self.err(f"phase {win.id} length {length} below min_length {ph.min_length}")
            if length > hi:
                self.err(f"phase {win.id} length {length} above max_length {hi}")
            prev = win.end
        if prev > self.sc.horizon:
            self.err(f"last phase ends at {prev}, after the horizon {self.sc.horizon}")
        return True

    # -- schedule, windows, durations, verification (SPEC §2, §2.2, §3) -------
    def _check_schedule(self) -> None:
        by_id: dict[str, ScheduleEntry] = {}
        for s in self.r.schedule:
            if s.id in by_id:
                self.err(f"schedule lists {s.id!r} more than once")
            by_id[s.id] = s
        known = {c.id for c in self.sc.concessions}
        for cid in by_id:
            if cid not in known:
                self.err(f"schedule lists unknown concession {cid!r}")
        for c in self.sc.concessions:
            entry = by_id.get(c.id)
            if entry is None:
                self.err(f"schedule is missing concession {c.id!r}")
                continue
            self.entries[c.id] = entry
            self._check_entry(c, entry)

    def _check_entry(self, c: Concession, s: ScheduleEntry) -> None:
        sc = self.sc
        if s.party != c.party:
            self.err(f"{c.id}: party {s.party!r}, expected {c.party!r}")
        if not s.present:
            if not c.optional:
                self.err(f"{c.id}: required concession is absent")
            if (s.start, s.end, s.phase, s.verified) != (None, None, None, None):
                self.err(f"{c.id}: absent concession must have null start/end/phase/verified")
            return
        if s.start is None or s.end is None or s.phase is None:
            self.err(f"{c.id}: present concession needs start, end and phase")
            return
        start, end = s.start, s.end
        latest = c.latest_end if c.latest_end is not None else sc.horizon
        if start < c.earliest_start:
            self.err(f"{c.id}: start {start} before earliest_start {c.earliest_start}")
        if start < 0:
            self.err(f"{c.id}: start {start} is negative")
        if c.start is not None and start != c.start:
            self.err(f"{c.id}: start {start} but pinned to {c.start}")
        duration = end - start
        if not c.min_duration <= duration <= c.max_duration:
            want = (str(c.min_duration) if c.min_duration == c.max_duration
                    else f"[{c.min_duration}, {c.max_duration}]")
            self.err(f"{c.id}: duration {duration} (start {start}, end {end}), expected {want}")
        if end > latest:
            self.err(f"{c.id}: end {end} after latest_end {latest}")
        if end > sc.horizon:
            self.err(f"{c.id}: end {end} after the horizon {sc.horizon}")
        lag = self.terms[c.id].lag
        want_v = None if lag is None else end + lag
        if s.verified != want_v:
            self.err(f"{c.id}: verified {s.verified}, expected {want_v}")
        if s.phase not in self.phase_ids:
            self.err(f"{c.id}: unknown phase {s.phase!r}")
            return
        k = self.phase_ids.index(s.phase)
        win = self.r.phases[k]
        if not win.start <= start < win.end:
            self.err(f"{c.id}: start {start} outside its phase {s.phase} window "
                     f"[{win.start}, {win.end}): wrong phase label")
        if c.phases is not None and s.phase not in c.phases:
            self.err(f"{c.id}: starts in phase {s.phase}, not one of its allowed {c.phases}")
        self.placed[c.id] = _Placed(start, end, k)

    # -- resources ------------------------------------------------------------
    def _check_resources(self) -> None:
        for res in self.sc.resources:
            users = [(pl, self.sc.concession(cid).uses.get(res.id, 0))
                     for cid, pl in self.placed.items()]
            users = [(pl, u) for pl, u in users if u > 0 and pl.end > pl.start]
            # Load only rises at a start, so the starts are the times to look at.
            for t in sorted({pl.start for pl, _ in users}):
                load = sum(u for pl, u in users if pl.start <= t < pl.end)
                if load > res.capacity:
                    self.err(f"resource {res.id}: load {load} at t={t} over capacity "
                             f"{res.capacity}")
                    break

    # -- rules (SPEC §2.2) ----------------------------------------------------
    def _present(self, cid: str) -> bool:
        return cid in self.placed

    def _point(self, cid: str, which: str) -> int | None:
        pl = self.placed[cid]
        if which == "start":
            return pl.start
        if which == "end":
            return pl.end
        lag = self.terms[cid].lag
        return None if lag is None else pl.end + lag

    def _check_rule(self, rule: object) -> None:
        if isinstance(rule, Precedence):
            self._precedence(rule)
        elif isinstance(rule, Reciprocity):
            self._reciprocity(rule)
        elif isinstance(rule, Together):
            self._together(rule)
        elif isinstance(rule, Exclusive):
            present = [c for c in dict.fromkeys(rule.concessions) if self._present(c)]
            if len(present) > 1:
                self.err(f"exclusive {rule.id}: more than one present: {present}")
        elif isinstance(rule, Requires):
            if self._present(rule.if_) and not self._present(rule.then):
                self.err(f"requires {rule.id}: {rule.if_} present but {rule.then} absent")
        elif isinstance(rule, Exposure):
            self._exposure_cap(rule)
        elif isinstance(rule, PhaseBalance):
            self._phase_balance(rule)

    def _precedence(self, r: Precedence) -> None:
        if not (self._present(r.before) and self._present(r.after)):
            return
        a = self._point(r.before, r.from_)
        b = self._point(r.after, r.to)
        if a is None or b is None:
            self.err(f"precedence {r.id}: {r.before} has no verified time")
            return
        gap = b - a
        label = f"{r.after}.{r.to} - {r.before}.{r.from_} = {b} - {a} = {gap}"
        if gap < r.min_lag:
            self.err(f"precedence {r.id}: {label} < min_lag {r.min_lag}")
        if r.max_lag is not None and gap > r.max_lag:
            self.err(f"precedence {r.id}: {label} > max_lag {r.max_lag}")

    def _reciprocity(self, r: Reciprocity) -> None:
        pa, pb = self._present(r.a), self._present(r.b)
        if pa != pb:
            self.err(f"reciprocity {r.id}: presence mismatch ({r.a}={pa}, {r.b}={pb})")
        elif pa:
            gap = abs(self.placed[r.a].start - self.placed[r.b].start)
            if gap > r.max_gap:
                self.err(f"reciprocity {r.id}: start gap {gap} > max_gap {r.max_gap}")

    def _together(self, r: Together) -> None:
        ids = list(dict.fromkeys(r.concessions))
        present = [c for c in ids if self._present(c)]
        if present and len(present) != len(ids):
            self.err(f"together {r.id}: presence mismatch (present: {present} of {ids})")
        phases = {self.phase_ids[self.placed[c].phase] for c in present}
        if len(phases) > 1:
            self.err(f"together {r.id}: split across phases {sorted(phases)}")

    def _principals(self) -> list[str]:
        """SPEC §5.1: the principals, or every party when none are named."""
        if self.sc.principals:
            return list(self.sc.principals)
        return [q.id for q in self.sc.parties]

    def _exposure_cap(self, r: Exposure) -> None:
        k = r.verification_delay
        late = f" with every verification {k} late" if k else ""
        for p in r.parties or self._principals():
            curve = exposure_levels(self.sc, self.terms, self.placed, p, delay=k)
            for t, level in curve:
                if level > r.max:
                    self.err(f"exposure {r.id}: {p} exposure {level} at t={t}{late} over cap "
                             f"{r.max}")
                    break

    def _phase_balance(self, r: PhaseBalance) -> None:
        parties = list(dict.fromkeys(r.parties or self._principals()))
        cum = {p: _delivered(self.sc, self.terms, self.placed, p) for p in parties}
        for p, q in combinations(parties, 2):
            for k, (a, b) in enumerate(zip(cum[p], cum[q], strict=True)):
                if abs(a - b) > r.tolerance:
                    self.err(f"phase_balance {r.id}: phase {self.phase_ids[k]} delivered "
                             f"{p}={a} vs {q}={b}, gap {abs(a - b)} over tolerance "
                             f"{r.tolerance}")

    # -- reported figures (SPEC §2.3, §2.4, §3) -------------------------------
    def _check_exposure(self) -> None:
        parties = [p.id for p in self.sc.parties]
        if sorted(self.r.exposure) != sorted(parties):
            self.err(f"exposure has parties {sorted(self.r.exposure)}, expected {sorted(parties)}")
        for p in parties:
            if p not in self.r.exposure:
                continue
            want = exposure_levels(self.sc, self.terms, self.placed, p)
            got = [(int(t), int(lv)) for t, lv in self.r.exposure[p]]
            if got != want:
                self.err(f"exposure curve of {p} is {got}, expected {want}")

    def _ledger_span(self) -> Callable[[str], tuple[int, int] | None] | None:
        """How long each credit lasts in the ledger (None: from verification on)."""
        return None

    def _check_ledger(self) -> None:
        parties = [p.id for p in self.sc.parties]
        got_parties = list(self.r.ledger)
        for p in got_parties:
            if p not in parties:
                self.err(f"ledger has unknown party {p!r}")
        for p in parties:
            entry = self.r.ledger.get(p)
            if entry is None:
                self.err(f"ledger is missing party {p!r}")
                continue
            want = ledger_points(self.terms, self.placed, p, self._ledger_span())
            want_peak = max([0] + [pt[4] for pt in want])
            if entry.peak != want_peak:
                self.err(f"ledger {p}: peak {entry.peak}, expected {want_peak}")
            got = [tuple(int(x) for x in pt) for pt in entry.points]
            times = [pt[0] for pt in got]
            if times != sorted(set(times)):
                self.err(f"ledger {p}: point times {times} not strictly increasing")
            if got == want:
                continue
            got_at = {pt[0]: pt for pt in got}
            want_at = {pt[0]: pt for pt in want}
            for t in sorted(set(got_at) | set(want_at)):
                g, w = got_at.get(t), want_at.get(t)
                if g is None:
                    self.err(f"ledger {p}: missing point at t={t}, expected {list(w or ())}")
                elif w is None:
                    self.err(f"ledger {p}: extra point {list(g)} (nothing changes at t={t})")
                elif g != w:
                    self.err(f"ledger {p}: point at t={t} is {list(g)}, expected {list(w)}"
                             " [t, delivered, received, at_risk, exposure]")

    def metric(self, name: str, parties: list[str] | None = None) -> int:
        placed, terms = self.placed, self.terms
        if name == "makespan":
            return max((pl.end for pl in placed.values()), default=0)
        if name == "weighted_completion":
            # One pass over the concessions: a per-id lookup would be quadratic.
            return sum(c.priority * placed[c.id].end for c in self.sc.concessions
                       if c.id in placed)
        if name == "peak_exposure":
            chosen = parties or self._principals()
            return max((max(0, lv) for p in chosen
                        for _, lv in exposure_levels(self.sc, terms, placed, p)), default=0)
        if name == "excluded_value":
            return sum(t.total for cid, t in terms.items() if cid not in placed)
        if name == "phase_imbalance":
            principals = self._principals()   # SPEC §5.1: pairs of principals
            cum = {p: _delivered(self.sc, terms, placed, p) for p in principals}
            return max((abs(a - b) for p, q in combinations(principals, 2)
                        for a, b in zip(cum[p], cum[q], strict=True)), default=0)
        raise ValueError(f"unknown metric {name!r}")

    def _check_metrics(self) -> None:
        m = self.r.metrics
        if m is None:
            self.err(f"metrics must hold all five figures for status {self.r.status}")
            return
        for name in METRIC_NAMES:
            got, want = getattr(m, name), self.metric(name)
            if got != want:
                self.err(f"metric {name} is {got}, expected {want}")

    def _check_objective(self) -> None:
        obj = self.sc.objective
        entries = self.r.objective
        weighted = obj.mode == "weighted"
        expected_len = len(obj.terms) + (1 if weighted else 0)
        if len(entries) != expected_len:
            self.err(f"objective has {len(entries)} entries, expected {expected_len}")
            return
        total = 0
        for k, term in enumerate(obj.terms):
            e = entries[k]
            want = self.metric(term.metric, term.parties)
            total += term.weight * want
            if e.metric != term.metric:
                self.err(f"objective[{k}] metric {e.metric!r}, expected {term.metric!r}")
            if e.value != want:
                self.err(f"objective[{k}] ({term.metric}) value {e.value}, expected {want}")
            if weighted and e.weight != term.weight:
                self.err(f"objective[{k}] weight {e.weight}, expected {term.weight}")
            if not weighted and e.weight is not None:
                self.err(f"objective[{k}] has a weight in lexicographic mode")
            if not weighted:
                self._bound(k, e.metric, e.value, e.bound)
        if weighted:
            last = entries[-1]
            if last.metric != "weighted_sum":
                self.err(f"last objective entry is {last.metric!r}, expected 'weighted_sum'")
            if last.value != total:
                self.err(f"objective weighted_sum value {last.value}, expected {total}")
            if last.weight is not None:
                self.err("objective weighted_sum entry must not carry a weight")
            self._bound(len(entries) - 1, "weighted_sum", last.value, last.bound)

    def _bound(self, k: int, metric: str, value: int | None, bound: int | None) -> None:
        if bound is not None and value is not None and bound > value:
            self.err(f"objective[{k}] ({metric}) bound {bound} above value {value}")
        if self.r.status == "optimal" and bound != value:
            self.err(f"objective[{k}] ({metric}) status optimal but bound {bound} != value "
                     f"{value}")


def check(scenario: Scenario, result: Result) -> list[str]:
    """Every way ``result`` breaks SPEC §2/§3 for ``scenario``; empty when valid."""
    return _checker(scenario, result).run()


def _checker(scenario: Scenario, result: Result) -> _Checker:
    """§5.5 scenarios get the progress checker (defined at the end of this module)."""
    return _ProgressChecker(scenario, result) if scenario.progress is not None \
        else _Checker(scenario, result)


def check_rules(scenario: Scenario, result: Result,
                include_disabled: bool = False) -> dict[str, list[str]]:
    """Violations of each rule by a solved ``result``, keyed by rule id ([] = the rule holds).

    Only the rules are judged (the schedule's own windows and durations are
    what ``check`` is for); a result without a schedule yields {}. Disabled
    rules are judged too when ``include_disabled`` (for backtests of
    positions that the scenario leaves switched off).
    """
    if result.status not in ("optimal", "feasible"):
        return {}
    chk = _checker(scenario, result)
    if not chk._check_phases():
        return {}
    chk._check_schedule()
    chk.errors.clear()
    out: dict[str, list[str]] = {}
    for rule in scenario.rules:
        if rule.enabled or include_disabled:
            chk._check_rule(rule)
            out[rule.id] = list(chk.errors)
            chk.errors.clear()
    return out


def assert_valid(scenario: Scenario, result: Result) -> None:
    errors = check(scenario, result)
    if errors:
        raise AssertionError("result violates the scenario:\n  " + "\n  ".join(errors))


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
