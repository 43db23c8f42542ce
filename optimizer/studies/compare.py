"""Roadmaps side by side: metrics, their deltas against the first, and what moved.

The first result is the reference. The principals' own figures (SPEC
§5.1: each principal's peak exposure, from the ledger) come first, then the
five metrics (themselves over the principals). A concession *differs* when, in some
other result, it is present in one and absent in the other, starts or ends at
another time, or starts in another phase. Differences are ordered by size:
presence changes first, then the largest start shift, then the largest end
shift, then phase changes, then by id. Used by ``roadmap compare`` and by the
UI's compare view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.result import METRIC_NAMES, Result, ScheduleEntry
from models.scenario import Scenario


@dataclass(frozen=True)
class Change:
    """How one concession differs in one result from the reference result."""

    run: str
    present: tuple[bool | None, bool | None] | None = None   # (reference, this); None = same
    start_shift: int | None = None
    end_shift: int | None = None
    phase: tuple[str | None, str | None] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run,
                "present": list(self.present) if self.present else None,
                "start_shift": self.start_shift, "end_shift": self.end_shift,
                "phase": list(self.phase) if self.phase else None}


@dataclass(frozen=True)
class ConcessionDiff:
    id: str
    party: str | None
    title: str | None
    # Per result, in order: (present, start, end, phase); None if it is not in that schedule.
    placements: list[dict[str, Any] | None]
    changes: list[Change]

    @property
    def kinds(self) -> list[str]:
        out = []
        if any(c.present for c in self.changes):
            out.append("present/absent")
        if any(c.start_shift for c in self.changes):
            out.append("start shift")
        if any(c.end_shift for c in self.changes) and "start shift" not in out:
            out.append("end shift")
        if any(c.phase for c in self.changes):
            out.append("phase change")
        return out

    def size(self) -> tuple[int, int, int, int]:
        return (
            sum(1 for c in self.changes if c.present),
            max((abs(c.start_shift or 0) for c in self.changes), default=0),
            max((abs(c.end_shift or 0) for c in self.changes), default=0),
            sum(1 for c in self.changes if c.phase),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "party": self.party, "title": self.title, "kinds": self.kinds,
                "placements": self.placements, "changes": [c.to_dict() for c in self.changes]}


@dataclass
class Comparison:
    names: list[str]
    statuses: list[str]
    metrics: dict[str, dict[str, int | None]]           # run -> metric -> value
    deltas: dict[str, dict[str, int | None]]            # run -> metric -> value - reference
    phases: dict[str, list[dict[str, Any]]]             # run -> phase windows
    concessions: list[ConcessionDiff] = field(default_factory=list)
    unchanged: int = 0
    principals: list[str] = field(default_factory=list)
    # run -> principal -> its ledger peak (None: unsolved run or no ledger for it)
    principal_peaks: dict[str, dict[str, int | None]] = field(default_factory=dict)

    @property
    def reference(self) -> str:
        return self.names[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "roadmap-compare/v1",
            "reference": self.reference,
            "principals": list(self.principals),
            "runs": [{"name": n, "status": s,
                      "principal_peaks": self.principal_peaks.get(n, {}),
                      "metrics": self.metrics[n],
                      "deltas": self.deltas[n], "phases": self.phases[n]}
                     for n, s in zip(self.names, self.statuses, strict=True)],
            "concessions": [d.to_dict() for d in self.concessions],
            "unchanged": self.unchanged,
        }


def _placement(e: ScheduleEntry) -> dict[str, Any]:
    return {"present": e.present, "start": e.start, "end": e.end, "phase": e.phase}


def _shift(a: int | None, b: int | None) -> int | None:
    if a is None or b is None or a == b:
        return None
    return b - a


def _change(run: str, ref: ScheduleEntry | None, other: ScheduleEntry | None) -> Change | None:
    ref_present = ref.present if ref is not None else None
    other_present = other.present if other is not None else None
    if ref_present != other_present:
        return Change(run, present=(ref_present, other_present))
    if ref is None or other is None or not ref.present:
        return None
    start = _shift(ref.start, other.start)
    end = _shift(ref.end, other.end)
    phase = (ref.phase, other.phase) if ref.phase != other.phase else None
    if start is None and end is None and phase is None:
        return None
    return Change(run, start_shift=start, end_shift=end, phase=phase)


def compare(results: dict[str, Result],
            scenarios: dict[str, Scenario] | None = None) -> Comparison:
    """Compare results (``{name: result}``, the first is the reference)."""
    if not results:
        raise ValueError("compare needs at least one result")
    names = list(results)
    ref_name = names[0]
    metrics: dict[str, dict[str, int | None]] = {}
    for name, r in results.items():
        values = r.metrics.model_dump() if r.metrics else {}
        metrics[name] = {m: values.get(m) for m in METRIC_NAMES}
    deltas = {
        name: {m: (None if metrics[name][m] is None or metrics[ref_name][m] is None
                   else int(metrics[name][m] or 0) - int(metrics[ref_name][m] or 0))
               for m in METRIC_NAMES}
        for name in names
    }
    entries = [{e.id: e for e in results[n].schedule} for n in names]
    solved = [results[n].solved for n in names]
    order = list(dict.fromkeys(cid for table in entries for cid in table))
    info = _concession_info(scenarios)
    diffs, unchanged = [], 0
    for cid in order:
        if not solved[0]:
            break
        changes = [c for k in range(1, len(names)) if solved[k]
                   if (c := _change(names[k], entries[0].get(cid), entries[k].get(cid)))]
        if not changes:
            unchanged += 1
            continue
        party, title = info.get(cid, (None, None))
        first = next(t[cid] for t in entries if cid in t)
        diffs.append(ConcessionDiff(
            cid, party or first.party, title,
            [_placement(t[cid]) if cid in t else None for t in entries], changes))
    diffs.sort(key=lambda d: (tuple(-x for x in d.size()), d.id))
    principals = _principals(results, scenarios)
    peaks = {n: {p: (results[n].ledger[p].peak if p in results[n].ledger else None)
                 for p in principals} for n in names}
    return Comparison(names, [results[n].status for n in names], metrics, deltas,
                      {n: [p.model_dump() for p in results[n].phases] for n in names},
                      diffs, unchanged, principals, peaks)


def _principals(results: dict[str, Result], scenarios: dict[str, Scenario] | None) -> list[str]:
    """The scenarios' principals in order (SPEC §5.1); without scenarios, the ledgers' parties."""
    if scenarios:
        return list(dict.fromkeys(p for sc in scenarios.values() for p in sc.principal_ids))
    return list(dict.fromkeys(p for r in results.values() for p in r.ledger))


def _concession_info(scenarios: dict[str, Scenario] | None) -> dict[str, tuple[str, str | None]]:
    out: dict[str, tuple[str, str | None]] = {}
    for sc in (scenarios or {}).values():
        for c in sc.concessions:
            out.setdefault(c.id, (c.party, c.title))
    return out
