"""The same instance through PyJobShop's CP-SAT backend (the peer).

PyJobShop builds the model (``pyjobshop.solvers.ortools.CPModel``); it is
solved here with the same settings as the other engines and a callback that
times the first and best solutions, which PyJobShop's own ``solve`` does not
report.
"""

from __future__ import annotations

import time

from benchmarks.psplib import Instance, RunRecord, solve_timed


def build_data(inst: Instance):  # type: ignore[no-untyped-def]
    from pyjobshop import Model

    model = Model()
    resources = [model.add_renewable(cap, name=f"R{r + 1}")
                 for r, cap in enumerate(inst.capacities)]
    tasks = []
    for k, d in enumerate(inst.durations):
        # RCPSP/max measures every lag from the project start at time 0.
        pinned = k == 0 and inst.start_to_start
        task = model.add_task(name=f"a{k}", latest_end=inst.horizon,
                              **({"latest_start": 0} if pinned else {}))
        used = [r for r in range(len(resources)) if inst.demands[k][r] > 0]
        model.add_mode(task, [resources[r] for r in used], d,
                       [inst.demands[k][r] for r in used])
        tasks.append(task)
    for a in inst.arcs:
        if inst.start_to_start:
            model.add_start_before_start(tasks[a.before], tasks[a.after], a.lag)
        else:
            model.add_end_before_start(tasks[a.before], tasks[a.after], a.lag)
    model.set_objective(weight_makespan=1)
    return model.data()


def solve_pyjobshop(inst: Instance, time_limit_s: float, workers: int, seed: int) -> RunRecord:
    from pyjobshop.solvers.ortools import CPModel

    t0 = time.perf_counter()
    data = build_data(inst)
    cp = CPModel(data)
    m = cp.model
    build_s = time.perf_counter() - t0
    return solve_timed(m, inst, "pyjobshop", t0, build_s, time_limit_s, workers, seed)
