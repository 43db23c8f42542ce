"""The checker proper: every hard constraint, metric, objective entry and ledger of SPEC §2-§5.4.

One piece on purpose: the verifier of one result is read in one sitting
against SPEC.
"""

from __future__ import annotations

from collections.abc import Callable
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
from optimizer.check.figures import (
    _HEX64,
    _delivered,
    _Placed,
    _sha256,
    derive_terms,
    exposure_levels,
    ledger_points,
)


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
