"""Figures gathered block by block, exact whatever the chunking.

Every figure is an integer, so each distribution is kept as counts per value
(``Counts``) and the nearest-rank percentiles of SPEC §5.7 are read from the
counts at the end: the smallest v with ``P(X <= v) >= q``, compared in
integers (``100 * cumulative >= q * total``). Exposure over time is kept per
party as counts per (t, level), so the fan (P10/P50/P90 per t) and the time at
which the breach risk is highest are exact too; a block whose grid ends
earlier than another's keeps its last level from then on.
"""

from __future__ import annotations

import numpy as np

BAND_CELLS = 4_000_000   # (t, level) cells per party before the fan is given up


class Counts:
    """Counts of non-negative integers."""

    def __init__(self) -> None:
        self.c = np.zeros(0, np.int64)

    def add(self, values: np.ndarray) -> None:
        if values.size == 0:
            return
        m = int(values.max()) + 1
        if m > self.c.size:
            self.c = np.concatenate([self.c, np.zeros(m - self.c.size, np.int64)])
        self.c[:m] += np.bincount(values.astype(np.int64), minlength=m)

    @property
    def total(self) -> int:
        return int(self.c.sum())

    def percentile(self, q: int) -> int | None:
        return nearest_rank(self.c, q)


def nearest_rank(counts: np.ndarray, q: int, offset: int = 0) -> int | None:
    total = int(counts.sum())
    if total == 0:
        return None
    cum = np.cumsum(counts)
    return int(np.argmax(cum * 100 >= q * total)) + offset


class Timeline:
    """One party's exposure level counts per time: (t, level) and exceedances of a cap."""

    def __init__(self, cap: int | None) -> None:
        self.cap = cap
        self.width = 0
        self.lo = 0
        self.hist: np.ndarray | None = np.zeros((0, 0), np.int64)
        self.tail: dict[int, int] = {}          # last level of samples seen so far
        self.over = np.zeros(0, np.int64)       # samples with level > cap, per t
        self.tail_over = 0

    def _grow_width(self, w: int) -> None:
        if w <= self.width:
            return
        extra = w - self.width
        self.over = np.concatenate([self.over, np.full(extra, self.tail_over, np.int64)])
        if self.hist is not None:
            add = np.zeros((extra, self.hist.shape[1]), np.int64)
            for lv, k in self.tail.items():
                add[:, lv - self.lo] += k
            self.hist = np.concatenate([self.hist, add], axis=0)
        self.width = w

    def _grow_levels(self, lo: int, hi: int) -> None:
        if self.hist is None:
            return
        cur_lo, cur_hi = self.lo, self.lo + self.hist.shape[1] - 1
        if self.hist.shape[1] == 0:
            cur_lo, cur_hi = lo, lo - 1
        new_lo, new_hi = min(lo, cur_lo), max(hi, cur_hi)
        if max(self.width, 1) * (new_hi - new_lo + 1) > BAND_CELLS:
            self.hist = None
            return
        if new_lo == cur_lo and new_hi == cur_hi:
            return
        h = np.zeros((self.hist.shape[0], new_hi - new_lo + 1), np.int64)
        if self.hist.shape[1]:
            h[:, cur_lo - new_lo: cur_lo - new_lo + self.hist.shape[1]] = self.hist
        self.hist, self.lo = h, new_lo

    def add(self, level: np.ndarray) -> None:
        """``level`` is (rows, w): the exposure of ``rows`` samples at t = 0..w-1."""
        _rows, w = level.shape
        self._grow_width(w)
        last = level[:, -1]
        if self.cap is not None:
            self.over[:w] += (level > self.cap).sum(axis=0)
            self.over[w:] += int((last > self.cap).sum())
            self.tail_over += int((last > self.cap).sum())
        self._grow_levels(int(level.min()), int(level.max()))
        if self.hist is not None:
            L = self.hist.shape[1]
            idx = (np.arange(w)[None, :] * L + (level - self.lo)).ravel()
            self.hist[:w] += np.bincount(idx, minlength=w * L).reshape(w, L)
            if w < self.width:
                lv, k = np.unique(last, return_counts=True)
                for a, c in zip(lv.tolist(), k.tolist(), strict=True):
                    self.hist[w:, a - self.lo] += c
        lv, k = np.unique(last, return_counts=True)
        for a, c in zip(lv.tolist(), k.tolist(), strict=True):
            self.tail[a] = self.tail.get(a, 0) + c

    def worst(self, samples: int) -> tuple[int | None, float]:
        """The first t at which ``P(exposure > cap)`` is highest, and that probability
        (None and 0 when the exposure never exceeds the cap)."""
        if self.cap is None or self.width == 0 or samples == 0:
            return None, 0.0
        t = int(np.argmax(self.over))
        if self.over[t] == 0:       # never above the cap: no riskiest time
            return None, 0.0
        return t, float(self.over[t]) / samples

    def bands(self) -> list[list[int]] | None:
        """[t, P10, P50, P90] of the exposure at every t (None if too large to keep)."""
        if self.hist is None:
            return None
        out = []
        for t in range(self.width):
            row = self.hist[t]
            out.append([t, *(nearest_rank(row, q, self.lo) or 0 for q in (10, 50, 90))])
        return out
