"""Each party's exposure over time in every realisation (the §5.4 ledger's exposure).

``exposure_p(t)`` = risk of p's started steps with ``s <= t`` minus credit to p
of other parties' steps verified by t (``v <= t``) and not reversed by t
(SPEC §5.5: a reversal at r ends the credit from r on), with the realised
times and the sample's risk and credit. A step that never starts carries no risk; a
verification that never comes, no credit. A cap rule's
``verification_delay`` plays no part (SPEC §5.7).

The step function is laid on the integer grid ``0..T`` (T the last event of
the block) by a bincount of the events and a cumulative sum, rows taken a
slice at a time so that memory stays bounded whatever the horizon.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from optimizer.studies.stress.compiled import Compiled
from optimizer.studies.stress.realise import NEVER, Times

GRID_CELLS = 2_000_000   # cells of one exposure slice (rows x times)

GridSink = Callable[[int, np.ndarray], None]   # (party index, exposure (rows, T + 1))


def horizon_of(t: Times, reversed_at: np.ndarray | None = None) -> int:
    """The last time any event of the block happens (reversals included)."""
    last = 0 if reversed_at is None or reversed_at.size == 0 else max(0, int(reversed_at.max()))
    for arr in (t.start, t.verified):
        finite = arr[arr < NEVER]
        if finite.size:
            last = max(last, int(finite.max()))
    return last


def exposure(comp: Compiled, t: Times, pct: np.ndarray | None,
             sink: GridSink | None = None) -> np.ndarray:
    """Peak exposure (P, b) per party and sample; every slice of the grid goes to ``sink``.

    ``pct`` (n, b) holds the sample's value percentages (None: 100 %); risk and
    credit are read from the compiled tables at those percentages.
    """
    n, b = t.start.shape
    P = len(comp.parties)
    T = horizon_of(t, comp.reversed_at)
    width = T + 1
    rows = max(1, GRID_CELLS // width)
    peaks = np.zeros((P, b), np.int64)
    if pct is None or comp.risk_table is None or comp.credit_table is None:
        risk = np.broadcast_to(comp.risk[:, None], (n, b))
        credit = np.broadcast_to(comp.credit[:, :, None], (n, P, b))

        def credit_to(p: int, idx: np.ndarray) -> np.ndarray:
            return credit[idx, p]
    else:
        col = pct - int(comp.value_pct[0])  # type: ignore[index]
        rix = np.arange(n)[:, None]
        risk = comp.risk_table[rix, col]
        table = comp.credit_table

        def credit_to(p: int, idx: np.ndarray) -> np.ndarray:
            return table[idx, p][np.arange(idx.size)[:, None], col[idx]]
    started = t.start < NEVER
    verified = t.verified < NEVER
    for p in range(P):
        own = np.flatnonzero(comp.party == p)
        gives = np.flatnonzero((comp.party != p) & (comp.lag >= 0))
        got = credit_to(p, gives)
        rev = comp.reversed_at[gives][:, None]
        # Credit counts on [v, r): none at all when the reversal came first.
        counts = verified[gives] & ((rev < 0) | (t.verified[gives] < rev))
        back = np.flatnonzero(comp.reversed_at[gives] >= 0)
        times = np.concatenate([t.start[own], t.verified[gives],
                                np.broadcast_to(rev[back], (back.size, b))], axis=0)
        deltas = np.concatenate([np.where(started[own], risk[own], 0),
                                 -np.where(counts, got, 0),
                                 np.where(counts[back], got[back], 0)], axis=0)
        if times.shape[0] == 0:
            if sink is not None:
                for lo in range(0, b, rows):
                    sink(p, np.zeros((min(b, lo + rows) - lo, width), np.int64))
            continue
        times = np.minimum(times, T)
        for lo in range(0, b, rows):
            hi = min(b, lo + rows)
            r = hi - lo
            idx = times[:, lo:hi] + (np.arange(r) * width)[None, :]
            grid = np.bincount(idx.ravel(), weights=deltas[:, lo:hi].ravel().astype(np.float64),
                               minlength=r * width)
            level = np.cumsum(grid.reshape(r, width).astype(np.int64), axis=1)
            peaks[p, lo:hi] = np.maximum(level.max(axis=1), 0)
            if sink is not None:
                sink(p, level)
    return peaks
