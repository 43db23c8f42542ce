"""PSPLIB instances (RCPSP ``.sm``, RCPSP/max ``.sch``) as roadmap scenarios.

An instance becomes a one-party roadmap: each activity a concession (the
dummy source and sink included, with duration 0; the source pinned at 0 as
RCPSP/max requires), renewable resources with their capacities, and one
precedence rule per arc. ``.sm`` arcs are finish-to-start; RCPSP/max arcs are
start-to-start time lags, a pair of opposite arcs folded into one rule with
``min_lag`` and ``max_lag``. The objective is the makespan, solved through the
normal ``optimizer.solve`` path.

Best-known values come from the reference CSVs next to the instances.

Run as ``python -m benchmarks.psplib FILE`` from the project root (this module's
name shadows the PyPI ``psplib`` package when its own folder is on sys.path).
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _data_dir() -> Path:
    """The PSPLIB folder: $ROADMAP_PSPLIB, else shared/ beside the checkout."""
    env = os.environ.get("ROADMAP_PSPLIB")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "psplib"


DATA = _data_dir()
REFERENCE = DATA / "reference"


@dataclass(frozen=True)
class Arc:
    """start(j) - point(i) >= lag, with point(i) = end(i) for ``.sm`` arcs."""

    before: int
    after: int
    lag: int


@dataclass
class Instance:
    name: str
    family: str                        # j30 | j60 | j120 | max30
    durations: list[int]
    demands: list[list[int]]           # per activity, per resource
    capacities: list[int]
    arcs: list[Arc]
    start_to_start: bool               # RCPSP/max lags (else finish-to-start)
    horizon: int
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.durations)


@dataclass(frozen=True)
class Reference:
    """What is known of an instance: proven optimum, bounds, or infeasible."""

    lower: int | None
    upper: int | None
    infeasible: bool = False

    @property
    def proven(self) -> bool:
        return self.infeasible or (self.lower is not None and self.lower == self.upper)


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------
def family_of(path: Path) -> str:
    if path.suffix.lower() == ".sch":
        return "max30"
    return path.parent.name


def read_instance(path: str | Path) -> Instance:
    import psplib as pypi_psplib  # the PyPI parser; see the module note on shadowing

    path = Path(path)
    is_max = path.suffix.lower() == ".sch"
    raw = pypi_psplib.parse(path, "rcpsp_max" if is_max else "psplib")
    durations = [a.modes[0].duration for a in raw.activities]
    demands = [list(a.modes[0].demands) for a in raw.activities]
    capacities = [r.capacity for r in raw.resources]
    arcs: list[Arc] = []
    for i, a in enumerate(raw.activities):
        delays = a.delays if is_max and a.delays else [0] * len(a.successors)
        for j, d in zip(a.successors, delays, strict=True):
            arcs.append(Arc(i, j, int(d)))
    if is_max:
        # Classical RCPSP/max bound: any feasible instance has a schedule
        # within the sum over activities of max(duration, largest outgoing lag).
        out_max = [0] * len(durations)
        for arc in arcs:
            out_max[arc.before] = max(out_max[arc.before], arc.lag)
        horizon = sum(max(d, o) for d, o in zip(durations, out_max, strict=True))
    else:
        horizon = sum(durations)
    return Instance(name=path.name, family=family_of(path), durations=durations,
                    demands=demands, capacities=capacities, arcs=arcs,
                    start_to_start=is_max, horizon=max(horizon, 1))


def _read_bks(path: Path) -> dict[str, Reference]:
    out: dict[str, Reference] = {}
    # The PSPLIB tables are Windows-1252 text (dashes in the description).
    with path.open(encoding="cp1252", errors="replace") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header = next(k for k, r in enumerate(rows) if r and r[0] == "ID")
    cols = rows[header]
    lb, ub = cols.index("LB value"), cols.index("UB value")
    for r in rows[header + 1:]:
        if len(r) > ub and r[1].endswith(".sm"):
            out[r[1]] = Reference(int(r[lb]), int(r[ub]))
    return out


def _read_kobe(path: Path) -> dict[str, Reference]:
    out: dict[str, Reference] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            value = row["optimum"].strip()
            if value == "unsat":
                out[row["problem"]] = Reference(None, None, infeasible=True)
            elif ".." in value:
                lo, hi = value.split("..")
                out[row["problem"]] = Reference(int(lo), int(hi))
            else:
                out[row["problem"]] = Reference(int(value), int(value))
    return out


_REF_CACHE: dict[str, dict[str, Reference]] = {}
_REF_FILES = {
    "j30": "bks_J30.csv", "j60": "bks_J60_1.csv", "j120": "bks_J120_0.csv",
    "max30": "rcpspmax_j30_kobe_optimum.csv",
}


def reference(inst: Instance) -> Reference | None:
    table = _REF_CACHE.get(inst.family)
    if table is None:
        path = REFERENCE / _REF_FILES[inst.family]
        table = _read_kobe(path) if inst.family == "max30" else _read_bks(path)
        _REF_CACHE[inst.family] = table
    return table.get(inst.name)


# ---------------------------------------------------------------------------
# Instance -> scenario
# ---------------------------------------------------------------------------
def _aid(k: int) -> str:
    return f"a{k}"


def _rules(inst: Instance) -> list[dict[str, Any]]:
    if not inst.start_to_start:
        return [{"id": f"p{k}", "kind": "precedence", "before": _aid(a.before),
                 "after": _aid(a.after), "from": "end", "to": "start"}
                for k, a in enumerate(inst.arcs)]
    # s_j - s_i >= d together with s_i - s_j >= -e reads min_lag d, max_lag e.
    lags: dict[tuple[int, int], int] = {}
    for a in inst.arcs:
        key = (a.before, a.after)
        lags[key] = max(lags.get(key, a.lag), a.lag)
    rules: list[dict[str, Any]] = []
    done: set[tuple[int, int]] = set()
    for (i, j), d in lags.items():
        if (i, j) in done:
            continue
        rule: dict[str, Any] = {"id": f"p{i}_{j}", "kind": "precedence", "before": _aid(i),
                                "after": _aid(j), "from": "start", "to": "start", "min_lag": d}
        back = lags.get((j, i))
        if back is not None and -back >= d:
            rule["max_lag"] = -back
            done.add((j, i))
        done.add((i, j))
        rules.append(rule)
    return rules


def to_scenario_dict(inst: Instance) -> dict[str, Any]:
    resources = [{"id": f"R{r + 1}", "capacity": cap} for r, cap in enumerate(inst.capacities)]
    concessions: list[dict[str, Any]] = []
    for k, (d, dem) in enumerate(zip(inst.durations, inst.demands, strict=True)):
        c: dict[str, Any] = {
            "id": _aid(k), "party": "P", "duration": d,
            "uses": {f"R{r + 1}": q for r, q in enumerate(dem) if q > 0},
            # No value, cost or verification: the roadmap extras stay inert.
            "verification": "none", "cost": 0,
        }
        if k == 0 and inst.start_to_start:
            c["start"] = 0
        concessions.append(c)
    return {
        "format": "roadmap/v1",
        "name": f"PSPLIB {inst.name}",
        "sources": ["PSPLIB, Kolisch & Sprecher (1996)"],
        "time_unit": "day",
        # Every start must lie below the horizon, the sink's included.
        "horizon": inst.horizon + 1,
        "parties": [{"id": "P"}],
        "resources": resources,
        "concessions": concessions,
        "rules": _rules(inst),
        "objective": {"terms": [{"metric": "makespan"}]},
    }


def to_scenario(inst: Instance):  # type: ignore[no-untyped-def]
    """The validated Scenario; raises ScenarioError on a positive lag cycle."""
    from models import parse_scenario

    return parse_scenario(to_scenario_dict(inst), inst.name)


# ---------------------------------------------------------------------------
# Solving through the normal engine path
# ---------------------------------------------------------------------------
@dataclass
class RunRecord:
    """One engine's run on one instance (shared by every engine)."""

    instance: str
    family: str
    engine: str
    status: str                 # optimal | feasible | infeasible | unknown
    objective: int | None
    bound: int | None
    build_s: float
    first_s: float | None       # time to first solution, from the start of the build
    best_s: float | None        # time to the best solution found
    total_s: float
    best_known: int | None = None
    gap_pct: float | None = None
    verdict_ok: bool | None = None
    load1: float = 0.0

    def finish(self, ref: Reference | None) -> RunRecord:
        import os

        self.load1 = round(os.getloadavg()[0], 2)
        if ref is None:
            return self
        self.best_known = ref.upper
        if ref.infeasible:
            self.verdict_ok = self.status == "infeasible" if self.status != "unknown" else None
        else:
            self.verdict_ok = self.status != "infeasible" if self.status != "unknown" else None
            if self.objective is not None and ref.upper:
                self.gap_pct = round(100.0 * (self.objective - ref.upper) / ref.upper, 4)
            if self.status == "optimal" and self.objective is not None and ref.lower is not None:
                # A proven optimum outside the known range is a bug somewhere.
                self.verdict_ok = ref.lower <= self.objective <= (ref.upper or self.objective)
        return self


def solve_ours(inst: Instance, time_limit_s: float, workers: int, seed: int,
               check: bool = False) -> RunRecord:
    from models import ScenarioError, SolveOptions
    from optimizer import solve

    t0 = time.perf_counter()
    try:
        sc = to_scenario(inst)
    except ScenarioError:
        # The validator proved infeasibility (a positive lag cycle).
        total = time.perf_counter() - t0
        return RunRecord(inst.name, inst.family, "ours", "infeasible", None, None, total,
                         None, None, total).finish(reference(inst))
    validate_s = time.perf_counter() - t0
    events: dict[str, float] = {}

    def on_progress(p: Any) -> None:
        if p.event == "stage_start" and "build" not in events:
            events["build"] = p.elapsed_s
        elif p.event == "solution":
            events.setdefault("first", p.elapsed_s)
            events["best"] = p.elapsed_s

    result = solve(sc, SolveOptions(time_limit_s=time_limit_s, workers=workers, seed=seed),
                   on_progress=on_progress, explain_infeasible=False)
    total = time.perf_counter() - t0
    if check:
        from optimizer.check import assert_valid

        assert_valid(sc, result)
    obj = result.objective[0] if result.objective else None
    return RunRecord(
        inst.name, inst.family, "ours", result.status,
        None if obj is None or obj.value is None else int(obj.value),
        None if obj is None or obj.bound is None else int(obj.bound),
        validate_s + events.get("build", 0.0),
        _shift(events.get("first"), validate_s), _shift(events.get("best"), validate_s), total,
    ).finish(reference(inst))


def _shift(x: float | None, by: float) -> float | None:
    return None if x is None else x + by


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description="Solve one PSPLIB instance as a roadmap.")
    ap.add_argument("file")
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    inst = read_instance(args.file)
    rec = solve_ours(inst, args.time_limit, args.workers, args.seed)
    print(rec)


if __name__ == "__main__":
    main()


def solve_timed(model: Any, inst: Instance, engine: str, t0: float, build_s: float,
                time_limit_s: float, workers: int, seed: int) -> RunRecord:
    """Solve a peer's CP-SAT model with the shared settings and timing callback."""
    from ortools.sat.python import cp_model

    from benchmarks.timing import FirstBest, params

    solver = cp_model.CpSolver()
    params(solver, time_limit_s, workers, seed)
    cb = FirstBest(t0)
    status = solver.solve(model, cb)
    total = time.perf_counter() - t0
    return RunRecord(inst.name, inst.family, engine, *cb.outcome(solver, status),
                     build_s, cb.first_s, cb.best_s, total).finish(reference(inst))
