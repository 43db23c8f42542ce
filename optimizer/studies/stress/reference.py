"""The stress test one sample at a time, in plain Python: the yardstick.

It consumes the same draws as the vectorised path (``sampling.draw_block``)
and re-derives every per-sample figure with lists and loops: realised times,
stalls, the critical chain, the exposure step function and its peak, broken
lags and gaps. The tests and ``benchmarks/stress.py`` compare it with the
vectorised path sample by sample and report by report; nothing else uses it.
"""

from __future__ import annotations

import numpy as np

from optimizer.studies.stress.compiled import Compiled
from optimizer.studies.stress.realise import NEVER, Times
from optimizer.studies.stress.report import Accumulator, StressReport
from optimizer.studies.stress.sampling import Draws, blocks, draw_block


def _figures(comp: Compiled, i: int, pct: int | None) -> tuple[int, list[int]]:
    """Risk and credit of concession i at value percentage ``pct`` (SPEC §5.7, §2.3, §5.2)."""
    q = 100 if pct is None else pct
    if comp.risk_given[i] >= 0:
        risk = int(comp.risk_given[i])
    else:
        risk = (int(comp.cost[i]) * q // 100) * int(comp.factor[i]) // 100
    credit = []
    for p in range(len(comp.parties)):
        if comp.lag[i] < 0:
            credit.append(0)
        elif comp.has_credit[i]:
            credit.append(int(comp.credit_given[i, p]))
        else:
            credit.append((int(comp.value[i, p]) * q // 100) * int(comp.share[i]) // 10000)
    return risk, credit


def one_sample(comp: Compiled, delay: list[int], vdelay: list[int], failed: list[bool],
               pct: list[int] | None) -> dict[str, object]:
    n = comp.n
    # What the progress record fixed is not random, whatever was drawn for it.
    delay = [0 if comp.fixed_duration[i] else delay[i] for i in range(n)]
    vdelay = [0 if comp.fixed_verification[i] else vdelay[i] for i in range(n)]
    failed = [bool(failed[i]) and not comp.fixed_verification[i] for i in range(n)]
    dur = [int(comp.duration[i]) + delay[i] for i in range(n)]
    lag = [int(comp.lag[i]) + vdelay[i] for i in range(n)]
    s = [int(x) for x in comp.start]
    e = [s[i] + dur[i] for i in range(n)]
    v = [NEVER if failed[i] or comp.lag[i] < 0 else e[i] + lag[i] for i in range(n)]

    def point(j: int, kind: int) -> int:
        return (s, e, v)[kind][j]

    passes = 1 if comp.acyclic else n + 1
    moving = False
    for _ in range(passes):
        moving = False
        for i in comp.order:
            if not comp.into[i] or comp.fixed_start[i]:
                continue      # a recorded step started when the record says
            lo = int(comp.start[i])
            never = False
            for k in comp.into[i]:
                ed = comp.edges[k]
                p = point(ed.src, ed.from_kind)
                if p >= NEVER:
                    never = True
                lo = max(lo, p + ed.min_lag - (dur[i] if ed.to_kind == 1 else 0))
            new = NEVER if never else lo
            moving = moving or new != s[i]
            s[i] = new
            e[i] = NEVER if never else new + dur[i]
            v[i] = NEVER if never or failed[i] or comp.lag[i] < 0 else e[i] + lag[i]
        if comp.acyclic or not moving:
            break
    stalled = any(x >= NEVER for x in s) or (moving and not comp.acyclic)
    makespan = -1 if stalled else max(e, default=0)

    crit = [not stalled and e[i] == makespan for i in range(n)]
    changed = True
    rounds = 0
    while changed and rounds < (1 if comp.acyclic else n + 1):
        changed = False
        rounds += 1
        for i in reversed(comp.order):
            if comp.fixed_start[i]:
                continue
            for k in comp.into[i]:
                ed = comp.edges[k]
                bound = point(ed.src, ed.from_kind) + ed.min_lag - (
                    dur[i] if ed.to_kind == 1 else 0)
                if crit[i] and bound == s[i] and not crit[ed.src]:
                    crit[ed.src] = True
                    changed = True

    figs = [_figures(comp, i, None if pct is None else pct[i]) for i in range(n)]
    last = 0
    rev = [int(r) for r in comp.reversed_at]
    for x in s + v + rev:
        if 0 <= x < NEVER:
            last = max(last, x)
    levels: list[list[int]] = []
    peaks: list[int] = []
    for p in range(len(comp.parties)):
        row = []
        for t in range(last + 1):
            at_risk = sum(figs[i][0] for i in range(n) if comp.party[i] == p and s[i] <= t)
            # A reversed step's credit counts from its verification until the reversal.
            received = sum(figs[j][1][p] for j in range(n)
                           if comp.party[j] != p and v[j] <= t and not 0 <= rev[j] <= t)
            row.append(at_risk - received)
        levels.append(row)
        peaks.append(max(0, max(row)))

    brk: list[bool] = []
    for ed in comp.edges:
        if ed.max_lag is None:
            continue
        near = point(ed.src, ed.from_kind)
        far = s[ed.dst] if ed.to_kind == 0 else e[ed.dst]
        brk.append(near < NEVER and (far >= NEVER or far - near > ed.max_lag))
    for g in comp.gaps:
        na, nb = s[g.a] >= NEVER, s[g.b] >= NEVER
        brk.append(not (na and nb) and (na != nb or abs(s[g.a] - s[g.b]) > g.max_gap))
    return {"start": s, "end": e, "verified": v, "duration": dur, "stalled": stalled,
            "makespan": makespan, "critical": crit, "levels": levels, "peaks": peaks,
            "broken": brk}


def realise_reference(comp: Compiled, draws: Draws) -> list[dict[str, object]]:
    """Every sample of a block, one at a time."""
    out = []
    for k in range(draws.size):
        out.append(one_sample(
            comp, [int(x) for x in draws.delay[:, k]], [int(x) for x in draws.vdelay[:, k]],
            [bool(x) for x in draws.failed[:, k]],
            None if draws.pct is None else [int(x) for x in draws.pct[:, k]]))
    return out


def measure_reference(comp: Compiled, samples: int, seed: int) -> StressReport:
    """The report from the per-sample loop (same draws, same gathering of figures)."""
    from optimizer.studies.stress.realise import broken

    acc = Accumulator(comp)
    for block, size in blocks(samples):
        draws = draw_block(comp, seed, block, size)
        rows = realise_reference(comp, draws)

        def col(key: str, rows: list[dict[str, object]] = rows) -> np.ndarray:
            return np.array([r[key] for r in rows], dtype=np.int64).T

        times = Times(col("start"), col("end"), col("verified"), col("duration"),
                      np.array([r["stalled"] for r in rows], bool),
                      np.array([r["makespan"] for r in rows], np.int64),
                      np.array([r["critical"] for r in rows], bool).T.reshape(comp.n, size))
        width = max(len(r["levels"][0]) for r in rows) if comp.parties else 0  # type: ignore[index]
        for p in range(len(comp.parties)):
            grid = np.array([r["levels"][p] + [r["levels"][p][-1]] *  # type: ignore[index]
                             (width - len(r["levels"][p]))  # type: ignore[index]
                             for r in rows], np.int64)
            acc.grid(p, grid)
        peaks = np.array([r["peaks"] for r in rows], np.int64).T.reshape(len(comp.parties), size)
        names, _vec = broken(comp, times)
        brk = np.array([r["broken"] for r in rows], bool).T.reshape(len(names), size)
        acc.add(draws, times, peaks, names, brk)
    return acc.report(seed)
