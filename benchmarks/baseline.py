"""The plain baseline: one interval per activity, one cumulative per resource.

This is the textbook CP-SAT RCPSP model (no roadmap machinery), written here
so that the engine is measured against what a modeller would write by hand.
"""

from __future__ import annotations

import time

from ortools.sat.python import cp_model

from benchmarks.psplib import Instance, RunRecord, solve_timed


def build_model(inst: Instance) -> tuple[cp_model.CpModel, list[cp_model.IntVar],
                                           cp_model.IntVar]:
    m = cp_model.CpModel()
    h = inst.horizon
    starts = [m.new_int_var(0, h, f"s{k}") for k in range(inst.n)]
    if inst.start_to_start:
        m.add(starts[0] == 0)
    intervals = [m.new_fixed_size_interval_var(s, d, f"i{k}")
                 for k, (s, d) in enumerate(zip(starts, inst.durations, strict=True))]
    for r, cap in enumerate(inst.capacities):
        users = [(intervals[k], inst.demands[k][r]) for k in range(inst.n)
                 if inst.demands[k][r] > 0]
        if users:
            m.add_cumulative([i for i, _ in users], [q for _, q in users], cap)
    for a in inst.arcs:
        # RCPSP/max lags run start to start; .sm arcs finish to start.
        src = starts[a.before] + (0 if inst.start_to_start else inst.durations[a.before])
        m.add(starts[a.after] >= src + a.lag)
    makespan = m.new_int_var(0, h, "makespan")
    for s, d in zip(starts, inst.durations, strict=True):
        m.add(makespan >= s + d)
    m.minimize(makespan)
    return m, starts, makespan


def solve_baseline(inst: Instance, time_limit_s: float, workers: int, seed: int) -> RunRecord:
    t0 = time.perf_counter()
    m, _, _ = build_model(inst)
    build_s = time.perf_counter() - t0
    return solve_timed(m, inst, "baseline", t0, build_s, time_limit_s, workers, seed)
