"""The right-shift execution of one block of realisations, vectorised over samples.

SPEC §5.7's policy: presence and order are the plan's; each concession starts
at the earliest time at or after its planned start that respects every
precedence ``min_lag`` from its predecessors' realised points (for ``to:
end`` the start moves so that the end respects it). A failed verification has
no time: whatever waits on it (``from: verified``) never starts, and neither
does whatever waits, through any precedence, on a step that never starts.

One forward pass in topological order settles an acyclic precedence graph.
A graph with cycles (negative ``min_lag`` back-edges) is iterated from the
plan to its least fixpoint, at most n + 1 passes; a sample still moving after
that can never be executed (delays made a cycle positive) and counts as
stalled. Arrays are (n, b): concessions by samples.

A recorded step (``Compiled.fixed_start``, SPEC §5.5) happened: its start is
the record's whatever its predecessors did, and no precedence into it ties
it to the chain that sets the makespan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.studies.stress.compiled import Compiled
from optimizer.studies.stress.sampling import Draws

NEVER = 1 << 40


@dataclass
class Times:
    start: np.ndarray        # (n, b); NEVER when it never starts
    end: np.ndarray
    verified: np.ndarray     # NEVER when never verified
    duration: np.ndarray     # realised durations
    stalled: np.ndarray      # (b,) bool
    makespan: np.ndarray     # (b,), -1 where stalled
    critical: np.ndarray     # (n, b) bool, False where stalled


def _point(kind: int, s: np.ndarray, e: np.ndarray, v: np.ndarray) -> np.ndarray:
    return s if kind == 0 else e if kind == 1 else v


def realise(comp: Compiled, draws: Draws) -> Times:
    n, b = comp.n, draws.size
    dur = comp.duration[:, None] + draws.delay
    lag = comp.lag[:, None] + draws.vdelay
    no_credit = draws.failed | (comp.lag < 0)[:, None]
    s = np.repeat(comp.start[:, None], b, axis=1)
    e = s + dur
    v = np.where(no_credit, NEVER, e + lag)
    passes = 1 if comp.acyclic else n + 1
    moving = np.zeros(b, bool)
    for _ in range(passes):
        moving = np.zeros(b, bool)
        for i in comp.order:
            if not comp.into[i] or comp.fixed_start[i]:
                continue
            lo = np.full(b, comp.start[i], np.int64)
            never = np.zeros(b, bool)
            for k in comp.into[i]:
                ed = comp.edges[k]
                p = _point(ed.from_kind, s[ed.src], e[ed.src], v[ed.src])
                never |= p >= NEVER
                bound = p + ed.min_lag - (dur[i] if ed.to_kind == 1 else 0)
                np.maximum(lo, bound, out=lo)
            new = np.where(never, NEVER, lo)
            if not comp.acyclic:
                moving |= new != s[i]
            s[i] = new
            e[i] = np.where(never, NEVER, new + dur[i])
            v[i] = np.where(never | no_credit[i], NEVER, e[i] + lag[i])
        if comp.acyclic or not moving.any():
            break
    stalled = (s >= NEVER).any(axis=0) | moving if n else np.zeros(b, bool)
    makespan = np.where(stalled, -1, e.max(axis=0) if n else 0)
    critical = _critical(comp, s, e, v, dur, makespan, stalled)
    return Times(s, e, v, dur, stalled, makespan, critical)


def _critical(comp: Compiled, s: np.ndarray, e: np.ndarray, v: np.ndarray, dur: np.ndarray,
              makespan: np.ndarray, stalled: np.ndarray) -> np.ndarray:
    """The chain that sets the makespan: the last steps and, back from them, every
    predecessor whose precedence is tight (it fixed the step's start)."""
    crit = (e == makespan[None, :]) & ~stalled[None, :]
    passes = 1 if comp.acyclic else comp.n + 1
    for _ in range(passes):
        before = crit.sum()
        for i in reversed(comp.order):
            if comp.fixed_start[i]:
                continue
            for k in comp.into[i]:
                ed = comp.edges[k]
                p = _point(ed.from_kind, s[ed.src], e[ed.src], v[ed.src])
                bound = p + ed.min_lag - (dur[i] if ed.to_kind == 1 else 0)
                crit[ed.src] |= crit[i] & (bound == s[i])
        if comp.acyclic or crit.sum() == before:
            break
    return crit


def broken(comp: Compiled, t: Times) -> tuple[list[str], np.ndarray]:
    """Rules with a ``max_lag`` or ``max_gap`` and, per sample, whether each is broken.

    A lag is broken when its far point comes more than ``max_lag`` after the
    near one, or never comes once the near one has; a gap when the two starts
    are further apart than ``max_gap``, or one starts and the other never does.
    """
    names: list[str] = []
    rows: list[np.ndarray] = []
    for ed in comp.edges:
        if ed.max_lag is None:
            continue
        near = _point(ed.from_kind, t.start[ed.src], t.end[ed.src], t.verified[ed.src])
        far = t.start[ed.dst] if ed.to_kind == 0 else t.end[ed.dst]
        names.append(ed.rule)
        rows.append((near < NEVER) & ((far >= NEVER) | (far - near > ed.max_lag)))
    for g in comp.gaps:
        sa, sb = t.start[g.a], t.start[g.b]
        na, nb = sa >= NEVER, sb >= NEVER
        names.append(g.rule)
        rows.append(~(na & nb) & ((na != nb) | (np.abs(sa - sb) > g.max_gap)))
    b = t.start.shape[1]
    return names, (np.array(rows, bool) if rows else np.zeros((0, b), bool))
