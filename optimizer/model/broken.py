"""What the record breaks (SPEC §5.5 ``broken``): recorded steps' own fields,
rules the past alone makes impossible, exposure caps the past exceeded.

A rule other than ``exposure`` is broken by the record when, with the record
fixed and every unstarted concession free (present, or absent if optional;
start at or after ``as_of``; any duration in its range; steps under way
ending at or after ``max(as_of, start + min duration)``) and nothing else —
no windows, pins, phases, resources, horizon or other rules — that rule
alone cannot hold, while with every concession free from 0 it could. Each
kind is decided exactly by interval arithmetic on the points it names
(precedence, reciprocity), by counting (exclusive) or by subset sums of
the optional values (phase_balance, whose phases are free: all in one).
``together`` and ``requires`` can never be broken that way (a free
concession can always be present). A precedence ``from: verified`` on a
refused verification is broken only when its successor is recorded too;
otherwise it keeps the successor out (``optimizer.model.progress``).
"""

from __future__ import annotations

from typing import Any

from models.rules import Exclusive, Exposure, PhaseBalance, Precedence, Reciprocity
from models.scenario import Concession, Scenario
from optimizer.model.derived import Derived, derive_all
from optimizer.model.record import Record, credit_window, record_of, underway_end_lb

INF = float("inf")
MAX_SUBSET_SUM = 1_000_000   # larger value totals: phase_balance taken as holding


def underway_latest_broken(c: Concession, step: Any, as_of: int) -> bool:
    return c.latest_end is not None and underway_end_lb(c, step, as_of) > c.latest_end


def concession_fields(sc: Scenario, rec: Record) -> list[dict[str, str]]:
    """Recorded steps' own window, pin and duration that the record breaks."""
    out: list[dict[str, str]] = []
    for c in sc.concessions:
        step = rec.steps.get(c.id)
        if step is None:
            continue

        def add(field: str, msg: str, cid: str = c.id) -> None:
            out.append({"concession": cid, "field": field, "message": msg})

        if step.start < c.earliest_start:
            add("earliest_start", f"{c.id} started at {step.start}, before its earliest_start "
                                  f"{c.earliest_start}")
        if c.start is not None and step.start != c.start:
            add("start", f"{c.id} started at {step.start}, not at its pinned start {c.start}")
        if step.end is not None:
            if c.latest_end is not None and step.end > c.latest_end:
                add("latest_end", f"{c.id} ended at {step.end}, after its latest_end "
                                  f"{c.latest_end}")
            d = step.end - step.start
            if not c.min_duration <= d <= c.max_duration:
                add("duration", f"{c.id} took {d}, outside its duration "
                                f"[{c.min_duration}, {c.max_duration}]")
        else:
            lb = underway_end_lb(c, step, rec.as_of)
            if underway_latest_broken(c, step, rec.as_of):
                add("latest_end", f"{c.id}, under way since {step.start}, cannot end before "
                                  f"{lb}, after its latest_end {c.latest_end}")
            if rec.as_of - step.start > c.max_duration:
                add("duration", f"{c.id} has been under way for {rec.as_of - step.start} "
                                f"(since {step.start}), past its maximum duration "
                                f"{c.max_duration}")
    return out


# -- one concession's possible times ------------------------------------------
class _Span:
    """The possible start, duration and verification lag of one concession."""

    def __init__(self, c: Concession, d: Derived, rec: Record | None) -> None:
        step = rec.steps.get(c.id) if rec is not None else None
        self.lag = d.lag
        self.refused = False
        self.optional = c.optional and step is None
        self.recorded = step is not None
        if step is None:
            t0 = rec.as_of if rec is not None else 0
            self.s: tuple[float, float] = (t0, INF)
            self.d: tuple[float, float] = (c.min_duration, c.max_duration)
            self.v_fixed: int | None = None
        elif step.end is not None:
            self.s = (step.start, step.start)
            self.d = (step.end - step.start, step.end - step.start)
            self.refused = step.verified is False
            self.v_fixed = step.verified if isinstance(step.verified, int) and \
                step.verified is not False else None
        else:
            assert rec is not None
            self.s = (step.start, step.start)
            self.d = (underway_end_lb(c, step, rec.as_of) - step.start, INF)
            self.v_fixed = None

    def coeffs(self, which: str) -> tuple[int, float]:
        """point = s + k * d + off."""
        if which == "start":
            return 0, 0
        if which == "end":
            return 1, 0
        if self.v_fixed is not None:   # a recorded time: an offset from the (fixed) start
            return 0, self.v_fixed - self.s[0]
        return 1, (self.lag or 0)

    def point(self, which: str) -> tuple[float, float]:
        k, off = self.coeffs(which)
        if k == 0:   # no duration term (and no 0 * inf)
            return self.s[0] + off, self.s[1] + off
        return self.s[0] + self.d[0] + off, self.s[1] + self.d[1] + off


def _scale(k: int, lo: float, hi: float) -> tuple[float, float]:
    if k == 0:
        return 0, 0
    return (k * lo, k * hi) if k > 0 else (k * hi, k * lo)


def _gap_range(sp: dict[str, _Span], r: Precedence) -> tuple[float, float]:
    a, b = sp[r.before], sp[r.after]
    if r.before == r.after:
        ka, oa = a.coeffs(r.from_)
        kb, ob = a.coeffs(r.to)
        lo, hi = _scale(kb - ka, *a.d)
        return lo + ob - oa, hi + ob - oa
    pa, pb = a.point(r.from_), b.point(r.to)
    return pb[0] - pa[1], pb[1] - pa[0]


def _precedence_holds(sp: dict[str, _Span], r: Precedence) -> bool:
    a, b = sp[r.before], sp[r.after]
    if a.optional or b.optional:
        return True
    if r.from_ == "verified" and (a.refused or a.lag is None):
        return not b.recorded   # an unstarted successor is kept out instead
    lo, hi = _gap_range(sp, r)
    top = INF if r.max_lag is None else r.max_lag
    return max(lo, r.min_lag) <= min(hi, top)


def _reciprocity_holds(sp: dict[str, _Span], r: Reciprocity) -> bool:
    a, b = sp[r.a], sp[r.b]
    if r.a == r.b or (a.optional and b.optional):
        return True
    gap = max(0, a.s[0] - b.s[1], b.s[0] - a.s[1])
    return gap <= r.max_gap


def _exclusive_holds(sc: Scenario, rec: Record | None, r: Exclusive) -> bool:
    forced = [c for c in dict.fromkeys(r.concessions)
              if not sc.concession(c).optional or (rec is not None and c in rec.steps)]
    return len(forced) <= 1


def _sums(values: list[int]) -> int:
    bits = 1
    for v in values:
        bits |= bits << v
    return bits


def _balance_holds(sc: Scenario, derived: dict[str, Derived], rec: Record | None,
                   r: PhaseBalance) -> bool:
    parties = list(dict.fromkeys(r.parties or sc.principal_ids))
    if sum(d.total_value for d in derived.values()) > MAX_SUBSET_SUM:
        return True
    sets: list[list[int]] = []
    for p in parties:
        fixed, opts = 0, []
        for c in sc.concessions:
            if c.party != p:
                continue
            val = derived[c.id].total_value
            if c.optional and not (rec is not None and c.id in rec.steps):
                opts.append(val)
            else:
                fixed += val
        bits = _sums(opts)
        sets.append([fixed + k for k in range(bits.bit_length()) if bits >> k & 1])
    candidates = sorted({x for s in sets for x in s})
    return any(all(any(x <= y <= x + r.tolerance for y in s) for s in sets)
               for x in candidates)


def _holds(sc: Scenario, derived: dict[str, Derived], rec: Record | None, rule: Any) -> bool:
    if isinstance(rule, (Precedence, Reciprocity)):
        sp = {cid: _Span(sc.concession(cid), derived[cid], rec) for _, cid in rule.ref_fields()}
        if isinstance(rule, Precedence):
            return _precedence_holds(sp, rule)
        return _reciprocity_holds(sp, rule)
    if isinstance(rule, Exclusive):
        return _exclusive_holds(sc, rec, rule)
    if isinstance(rule, PhaseBalance):
        return _balance_holds(sc, derived, rec, rule)
    return True


def _rule_message(rule: Any) -> str:
    if isinstance(rule, Precedence):
        lag = f"min_lag {rule.min_lag}" + (f", max_lag {rule.max_lag}"
                                           if rule.max_lag is not None else "")
        return (f"the record puts {rule.after} ({rule.to}) after {rule.before} "
                f"({rule.from_}) outside {lag}, whatever comes next")
    if isinstance(rule, Reciprocity):
        return (f"the record puts the starts of {rule.a} and {rule.b} more than max_gap "
                f"{rule.max_gap} apart, whatever comes next")
    if isinstance(rule, Exclusive):
        return "the record has more than one of these concessions under way or done"
    return f"the record leaves the parties' delivered values more than {rule.tolerance} apart"


def _exposure_past(sc: Scenario, derived: dict[str, Derived], rec: Record,
                   rule: Exposure) -> str | None:
    """The first breach of the cap before ``as_of`` by the record alone."""
    delay = int(getattr(rule, "verification_delay", 0) or 0)
    for p in rule.parties or sc.principal_ids:
        deltas: dict[int, int] = {}
        for cid, step in rec.steps.items():
            d = derived[cid]
            if d.party == p:
                deltas[step.start] = deltas.get(step.start, 0) + d.risk
            elif step.end is not None and d.credit.get(p, 0):
                got, lost = credit_window(rec, cid, step.end, d.lag, delay)
                if got is not None:
                    deltas[got] = deltas.get(got, 0) - d.credit[p]
                    if lost is not None:
                        deltas[lost] = deltas.get(lost, 0) + d.credit[p]
        level = 0
        for t in sorted(deltas):
            level += deltas[t]
            if t < rec.as_of and level > rule.max:
                return (f"the record alone puts {p}'s exposure at {level} at t={t}, over the "
                        f"cap {rule.max} (before as_of {rec.as_of}); the cap binds from then "
                        "at each of its new steps")
    return None


def broken_rules(sc: Scenario) -> list[dict[str, str]]:
    rec = record_of(sc)
    if rec is None:
        return []
    derived = derive_all(sc)
    out: list[dict[str, str]] = []
    for rule in sc.rules:
        if not rule.enabled:
            continue
        if isinstance(rule, Exposure):
            msg = _exposure_past(sc, derived, rec, rule)
            if msg is not None:
                out.append({"rule": rule.id, "message": msg})
        elif not _holds(sc, derived, rec, rule) and _holds(sc, derived, None, rule):
            out.append({"rule": rule.id, "message": _rule_message(rule)})
    return out


def broken_rule_ids(sc: Scenario) -> set[str]:
    """The rules the model leaves out (never an exposure rule)."""
    return {b["rule"] for b in broken_rules(sc)
            if not isinstance(_rule(sc, b["rule"]), Exposure)}


def _rule(sc: Scenario, rid: str) -> Any:
    return next(r for r in sc.rules if r.id == rid)


def broken(sc: Scenario) -> list[dict[str, str]] | None:
    """SPEC §5.5 ``broken``: None without progress, else concession fields then rules."""
    rec = record_of(sc)
    if rec is None:
        return None
    return concession_fields(sc, rec) + broken_rules(sc)
