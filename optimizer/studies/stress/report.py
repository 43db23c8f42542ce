"""The stress report (SPEC §5.7): what it holds, how it is gathered, JSON and tables.

JSON has SPEC's keys first, in SPEC's order; extra fields follow them:
``plan_makespan``; per cap its ``parties`` and ``max``; per party the cap it
is held to, ``breach_time`` (the first t at which ``P(exposure > cap)`` is
highest) and that probability, and its share of samples above 0; per
concession ``started_probability``; ``tornado`` (Spearman rank correlation
of each concession's sampled delays with each party's peak and with the
makespan, over the first ``TORNADO_SAMPLES`` samples; makespan over the ones
among them that do not stall), ``exposure_bands`` (P10/P50/P90 of each
party's exposure at every t, for fan charts; ``bands_frame()``) and
``makespan_distribution`` (``[makespan, samples]`` over the samples that do
not stall, for a histogram; ``makespan_frame()``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.studies.stress.accumulate import Counts, Timeline
from optimizer.studies.stress.compiled import Compiled
from optimizer.studies.stress.realise import NEVER, Times
from optimizer.studies.stress.sampling import Draws

if TYPE_CHECKING:
    import pandas as pd

TORNADO_SAMPLES = 10_000
TORNADO_TOP = 10


@dataclass
class StressReport:
    plan: str
    samples: int
    seed: int
    stall_probability: float
    makespan: dict[str, int | None]
    caps: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    parties: list[dict[str, Any]]
    concessions: list[dict[str, Any]]
    plan_makespan: int = 0
    tornado: list[dict[str, Any]] = field(default_factory=list)
    exposure_bands: dict[str, list[list[int]] | None] = field(default_factory=dict)
    makespan_distribution: list[list[int]] = field(default_factory=list)

    # -- views ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan, "samples": self.samples, "seed": self.seed,
            "stall_probability": self.stall_probability, "makespan": dict(self.makespan),
            "caps": [dict(c) for c in self.caps], "rules": [dict(r) for r in self.rules],
            "parties": [dict(p) for p in self.parties],
            "concessions": [dict(c) for c in self.concessions],
            "plan_makespan": self.plan_makespan, "tornado": [dict(t) for t in self.tornado],
            "exposure_bands": dict(self.exposure_bands),
            "makespan_distribution": [list(r) for r in self.makespan_distribution],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @property
    def breach_probability(self) -> float:
        """The largest breach probability over the caps (0 without caps)."""
        return max((c["breach_probability"] for c in self.caps), default=0.0)

    def to_frame(self) -> pd.DataFrame:
        """One row per concession: id, end P50/P80, criticality, started probability."""
        import pandas as pd

        return pd.DataFrame([{"id": c["id"], "end_p50": c["end"]["p50"],
                              "end_p80": c["end"]["p80"], "criticality": c["criticality"],
                              "started_probability": c["started_probability"]}
                             for c in self.concessions],
                            columns=["id", "end_p50", "end_p80", "criticality",
                                     "started_probability"])

    def caps_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.caps, columns=["rule", "breach_probability", "parties", "max"])

    def rules_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rules, columns=["rule", "broken_probability"])

    def parties_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([{"party": p["party"], "peak_p50": p["peak"]["p50"],
                              "peak_p80": p["peak"]["p80"], "peak_p95": p["peak"]["p95"],
                              "cap": p["cap"], "breach_time": p["breach_time"],
                              "breach_time_probability": p["breach_time_probability"]}
                             for p in self.parties])

    def bands_frame(self) -> pd.DataFrame:
        """One row per party and time: the P10, P50 and P90 of its exposure then."""
        import pandas as pd

        rows = [{"party": party, "t": t, "p10": p10, "p50": p50, "p90": p90}
                for party, bands in self.exposure_bands.items() if bands
                for t, p10, p50, p90 in bands]
        return pd.DataFrame(rows, columns=["party", "t", "p10", "p50", "p90"])

    def makespan_frame(self) -> pd.DataFrame:
        """How many samples (that do not stall) end at each makespan."""
        import pandas as pd

        return pd.DataFrame(self.makespan_distribution, columns=["makespan", "samples"])

    def tornado_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = []
        for t in self.tornado:
            row = {"concession": t["concession"], "driver": t["driver"],
                   "makespan": t["makespan"]}
            row.update({f"peak_{p}": r for p, r in t["peak"].items()})
            rows.append(row)
        return pd.DataFrame(rows)


def _rank(x: np.ndarray) -> np.ndarray:
    """Average ranks of integers (ties share the mean of their positions)."""
    x = x.astype(np.int64)
    lo = int(x.min())
    counts = np.bincount(x - lo)
    before = np.cumsum(counts) - counts
    return (before + (counts + 1) / 2.0)[x - lo]


def _standard(r: np.ndarray) -> np.ndarray:
    """Ranks centred and scaled to unit variance (all zeros when constant)."""
    c = r - r.mean()
    sd = c.std()
    return c / sd if sd > 0 else np.zeros_like(c)


def _correlate(rx: np.ndarray, ry: np.ndarray) -> float | None:
    sx, sy = rx.std(), ry.std()
    if rx.size < 3 or sx == 0 or sy == 0:
        return None
    return float(((rx - rx.mean()) * (ry - ry.mean())).mean() / (sx * sy))


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    """Spearman's rank correlation of two integer samples (None when one is constant)."""
    if x.size < 3:
        return None
    return _correlate(_rank(x), _rank(y))


class Accumulator:
    """Everything the report needs, gathered one block at a time."""

    def __init__(self, comp: Compiled) -> None:
        self.comp = comp
        P = len(comp.parties)
        self.samples = 0
        self.stalled = 0
        self.makespan = Counts()
        self.ends = [Counts() for _ in range(comp.n)]
        self.critical = np.zeros(comp.n, np.int64)
        self.peaks = [Counts() for _ in range(P)]
        self.positive = np.zeros(P, np.int64)
        self.breach = np.zeros(len(comp.caps), np.int64)
        self.broken_names: list[str] = []
        self.broken = np.zeros(0, np.int64)
        tight: list[int | None] = []
        for p in range(P):
            maxes = [c.max for c in comp.caps if p in c.parties]
            tight.append(min(maxes) if maxes else None)
        self.tight = tight
        self.timelines = [Timeline(tight[p]) for p in range(P)]
        self.tornado: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.tornado_n = 0

    def grid(self, p: int, level: np.ndarray) -> None:
        self.timelines[p].add(level)

    def add(self, draws: Draws, t: Times, peaks: np.ndarray, names: list[str],
            broken: np.ndarray) -> None:
        b = draws.size
        self.samples += b
        self.stalled += int(t.stalled.sum())
        ok = ~t.stalled
        self.makespan.add(t.makespan[ok])
        for i in range(self.comp.n):
            started = t.start[i] < NEVER
            self.ends[i].add(t.end[i][started])
        self.critical += t.critical.sum(axis=1)
        for p in range(len(self.comp.parties)):
            self.peaks[p].add(peaks[p])
            self.positive[p] += int((peaks[p] > 0).sum())
        for k, cap in enumerate(self.comp.caps):
            over = np.zeros(b, bool)
            for p in cap.parties:
                over |= peaks[p] > cap.max
            self.breach[k] += int(over.sum())
        if not self.broken_names:
            self.broken_names = names
            self.broken = np.zeros(len(names), np.int64)
        self.broken += broken.sum(axis=1) if broken.size else 0
        if self.tornado_n < TORNADO_SAMPLES:
            m = min(b, TORNADO_SAMPLES - self.tornado_n)
            self.tornado.append((draws.delay[:, :m], draws.vdelay[:, :m], peaks[:, :m],
                                 t.makespan[:m]))
            self.tornado_n += m

    def _tornado(self) -> list[dict[str, Any]]:
        if not self.tornado:
            return []
        delay = np.concatenate([x[0] for x in self.tornado], axis=1)
        vdelay = np.concatenate([x[1] for x in self.tornado], axis=1)
        peaks = np.concatenate([x[2] for x in self.tornado], axis=1)
        mk = np.concatenate([x[3] for x in self.tornado])
        ok = mk >= 0
        P = len(self.comp.parties)
        targets = [_standard(_rank(peaks[p])) for p in range(P)]
        mk_std = _standard(_rank(mk[ok])) if ok.sum() >= 3 else None
        rows = []
        for driver, arr in (("delay", delay), ("verification_delay", vdelay)):
            live = [i for i in range(self.comp.n) if arr[i].min() != arr[i].max()]
            if not live:
                continue
            ranks = np.array([_standard(_rank(arr[i])) for i in live])     # (k, m)
            peak_rho = ranks @ np.array(targets).T / ranks.shape[1]        # (k, P)
            if mk_std is not None:
                sub = np.array([_standard(_rank(arr[i][ok])) for i in live])
                mk_rho = sub @ mk_std / sub.shape[1]
            for j, i in enumerate(live):
                peak = {party: (None if not targets[p].any() else round(float(peak_rho[j, p]), 6))
                        for p, party in enumerate(self.comp.parties)}
                rows.append({"concession": self.comp.ids[i], "driver": driver,
                             "makespan": (round(float(mk_rho[j]), 6)
                                          if mk_std is not None and mk_std.any()
                                          and sub[j].any() else None),
                             "peak": peak})

        def strength(r: dict[str, Any]) -> float:
            vals = [abs(v) for v in (r["makespan"], *r["peak"].values()) if v is not None]
            return max(vals, default=0.0)

        rows.sort(key=lambda r: (-strength(r), r["concession"], r["driver"]))
        return rows[:TORNADO_TOP]

    def report(self, seed: int) -> StressReport:
        comp, n = self.comp, max(self.samples, 1)
        ok = self.samples - self.stalled
        return StressReport(
            plan=comp.plan_sha, samples=self.samples, seed=seed,
            stall_probability=self.stalled / n,
            makespan={f"p{q}": self.makespan.percentile(q) for q in (50, 80, 95)},
            caps=[{"rule": c.rule, "breach_probability": int(self.breach[k]) / n,
                   "parties": [comp.parties[p] for p in c.parties], "max": c.max}
                  for k, c in enumerate(comp.caps)],
            rules=[{"rule": r, "broken_probability": int(self.broken[k]) / n}
                   for k, r in enumerate(self.broken_names)],
            parties=[{"party": party,
                      "peak": {f"p{q}": self.peaks[p].percentile(q) for q in (50, 80, 95)},
                      "cap": self.tight[p],
                      "breach_time": self.timelines[p].worst(self.samples)[0],
                      "breach_time_probability": self.timelines[p].worst(self.samples)[1],
                      "positive_probability": int(self.positive[p]) / n}
                     for p, party in enumerate(comp.parties)],
            concessions=[{"id": cid,
                          "end": {"p50": self.ends[i].percentile(50),
                                  "p80": self.ends[i].percentile(80)},
                          "criticality": int(self.critical[i]) / ok if ok else 0.0,
                          "started_probability": self.ends[i].total / n}
                         for i, cid in enumerate(comp.ids)],
            plan_makespan=comp.plan_makespan, tornado=self._tornado(),
            exposure_bands={party: self.timelines[p].bands()
                            for p, party in enumerate(comp.parties)},
            makespan_distribution=[[v, int(k)] for v, k in enumerate(self.makespan.c.tolist())
                                   if k])
