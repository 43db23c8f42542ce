"""Properties of the stress test's exact gathering of figures (SPEC §5.7)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.studies.stress.accumulate import Counts, Timeline


@given(st.lists(st.integers(0, 60), min_size=1, max_size=200),
       st.lists(st.integers(0, 60), max_size=200), st.sampled_from([50, 80, 95, 10, 90]))
@settings(max_examples=200, deadline=None)
def test_nearest_rank_percentiles_from_counts(a: list[int], b: list[int], q: int) -> None:
    c = Counts()
    c.add(np.array(a))
    c.add(np.array(b, dtype=np.int64))
    xs = sorted(a + b)
    # nearest rank: the smallest v with P(X <= v) >= q / 100
    assert c.percentile(q) == xs[math.ceil(q * len(xs) / 100) - 1]


@given(st.lists(st.lists(st.lists(st.integers(-5, 9), min_size=1, max_size=6),
                         min_size=1, max_size=4), min_size=1, max_size=4),
       st.integers(-2, 6))
@settings(max_examples=150, deadline=None)
def test_timeline_blocks_of_any_width_equal_the_padded_whole(
        blocks: list[list[list[int]]], cap: int) -> None:
    # each block: rows of one width (its own last event time); rows keep their last level
    tl = Timeline(cap)
    rows: list[list[int]] = []
    for block in blocks:
        w = len(block[0])
        grid = np.array([r[:w] + [r[-1]] * (w - len(r[:w])) for r in block], np.int64)
        tl.add(grid)
        rows += grid.tolist()
    width = max(len(r) for r in rows)
    full = np.array([r + [r[-1]] * (width - len(r)) for r in rows], np.int64)
    over = (full > cap).sum(axis=0)
    t, p = tl.worst(len(rows))
    if over.max() == 0:
        assert (t, p) == (None, 0.0)
    else:
        assert t == int(np.argmax(over)) and p == over.max() / len(rows)
    bands = tl.bands()
    assert bands is not None
    for t_, p10, p50, p90 in bands:
        col = sorted(full[:, t_].tolist())
        n = len(col)
        assert [p10, p50, p90] == [col[math.ceil(q * n / 100) - 1] for q in (10, 50, 90)]
