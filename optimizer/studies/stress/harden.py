"""Hardening: the least-costly roadmap whose breach probability meets a target.

Two levers, each one integer k found by bisection (the smallest k whose
roadmap meets the target, taking the breach probability as falling with k):

- ``verification_delay``: every enabled exposure rule gets
  ``verification_delay: k`` (SPEC §5.3: the caps must hold even if every
  verification comes k late). An engine that does not yet honour the field
  returns the same roadmap for every k, and the lever finds nothing.
- ``lag``: the roadmap is planned as if every verification took k longer
  (each verified concession's ``verification_lag`` raised by k), so the caps
  hold with every credit k late: §5.3's robust caps in a form any engine
  solves (stricter, since steps that wait on a verification wait k longer in
  the plan too).
- ``buffer``: every enabled precedence into an irreversible step gets k more
  ``min_lag`` (planned slack before what cannot be taken back).
The last two need nothing of the engine.

Candidate scenarios are solved on the batch executor
(``optimizer.studies.batch``: a process pool, or Dask) a round of ``jobs``
candidates at a time, each result checked by the independent checker there.
Every candidate is stressed under the *original* scenario (its rules and
``uncertainty``: a buffer is planning slack, not a new demand), and the
roadmap chosen is re-measured with a fresh seed; if that fails the target,
the search moves on to the next k. The hardened roadmap is re-issued for the
original scenario: its starts and durations pinned and solved under the
original rules (so verified times, exposure and metrics are the original's),
then given the original's SHA-256, status ``feasible`` and no bounds (it is
not an optimum of the original); it must pass the checker against it. Its price is
the rise in makespan (and every other metric) over the unhardened roadmap.

``stop()`` (checked before every round of candidates) and a ``solve_batch``
that raises ``Stopped`` end the search early; the result then keeps what was
found (``stopped`` is True, the candidates so far are listed, and a roadmap
already confirmed with the fresh seed stays the answer).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.canonical import canonical_json, scenario_sha256
from models.errors import ScenarioError
from models.loading import parse_scenario
from models.options import SolveOptions
from models.result import Result, ScenarioRef
from models.scenario import Scenario
from optimizer.studies.stress.compiled import compile_plan
from optimizer.studies.stress.report import StressReport
from optimizer.studies.stress.run import measure, plan_for

LEVERS = ("verification_delay", "lag", "buffer")
FRESH_SEED_OFFSET = 1_000_003


class Stopped(Exception):
    """The search was asked to stop (raised by ``solve_batch`` or by the ``stop`` check)."""


@dataclass
class Candidate:
    lever: str
    k: int
    status: str
    breach_probability: float | None = None
    makespan: int | None = None
    result: Result | None = None


@dataclass
class Hardening:
    target: float
    met: bool
    lever: str | None
    k: int
    base: Result
    base_report: StressReport
    plan: Result | None                  # the hardened roadmap (for the original scenario)
    report: StressReport | None          # re-measured with a fresh seed
    candidates: list[Candidate] = field(default_factory=list)
    stopped: bool = False

    @property
    def price(self) -> dict[str, int] | None:
        """Metric rises of the hardened roadmap over the unhardened one."""
        if self.plan is None or self.plan.metrics is None or self.base.metrics is None:
            return None
        a, b = self.base.metrics.model_dump(), self.plan.metrics.model_dump()
        return {m: int(b[m]) - int(a[m]) for m in a}

    @property
    def lowest(self) -> Candidate | None:
        """The candidate with the lowest breach probability (then the shortest makespan)."""
        done = [c for c in self.candidates if c.breach_probability is not None]
        return min(done, key=lambda c: (c.breach_probability, c.makespan or 0, c.lever, c.k),
                   default=None)

    def to_dict(self) -> dict[str, Any]:
        low = self.lowest
        return {
            "target": self.target, "met": self.met, "stopped": self.stopped,
            "lever": self.lever, "k": self.k,
            "price": self.price,
            "lowest": None if low is None else {
                "lever": low.lever, "k": low.k, "breach_probability": low.breach_probability,
                "makespan": low.makespan},
            "base": {"makespan": self.base.metrics.makespan if self.base.metrics else None,
                     "breach_probability": self.base_report.breach_probability},
            "hardened": None if self.report is None or self.plan is None else {
                "plan": self.plan.scenario.sha256,
                "makespan": self.plan.metrics.makespan if self.plan.metrics else None,
                "breach_probability": self.report.breach_probability,
                "seed": self.report.seed, "report": self.report.to_dict()},
            "candidates": [{"lever": c.lever, "k": c.k, "status": c.status,
                            "breach_probability": c.breach_probability,
                            "makespan": c.makespan} for c in self.candidates],
        }


def variant(sc: Scenario, lever: str, k: int) -> Scenario:
    """The scenario solved for lever ``lever`` at strength ``k``."""
    data = json.loads(canonical_json(sc))
    irreversible = {c["id"] for c in data["concessions"] if c.get("reversibility") ==
                    "irreversible"}
    for rule in data["rules"]:
        if not rule.get("enabled", True):
            continue
        if lever == "verification_delay" and rule["kind"] == "exposure":
            rule["verification_delay"] = k
        elif lever == "buffer" and rule["kind"] == "precedence" and rule["after"] in \
                irreversible:
            rule["min_lag"] = int(rule.get("min_lag", 0)) + k
    if lever == "lag":
        from optimizer.model.derived import derive_all

        derived = derive_all(sc)
        for c in data["concessions"]:
            lag = derived[c["id"]].lag
            if lag is not None:
                c["verification_lag"] = lag + k
    if lever not in LEVERS:
        raise ValueError(f"unknown hardening lever {lever!r} (expected one of {LEVERS})")
    return parse_scenario(data, f"{sc.name} [{lever}={k}]")


def reissue(original: Scenario, result: Result, options: SolveOptions) -> Result | None:
    """A candidate's roadmap as a result for the original scenario, or None when the
    original's rules do not allow it (or an optional step would change presence)."""
    from optimizer.api import solve

    rows = {r.id: r for r in result.schedule}
    data = json.loads(canonical_json(original))
    for c in data["concessions"]:
        row = rows.get(c["id"])
        if row is not None and row.present and row.start is not None and row.end is not None:
            c["start"] = row.start
            c["duration"] = row.end - row.start
            c.pop("earliest_start", None)
            c.pop("latest_end", None)
    try:
        pinned = parse_scenario(data, f"{original.name} [pinned]")
    except ScenarioError:
        return None
    fixed = solve(pinned, options, explain_infeasible=False)
    if not fixed.solved or {r.id: r.present for r in fixed.schedule} != \
            {r.id: r.present for r in result.schedule}:
        return None
    objective = [o.model_copy(update={"bound": None}) for o in fixed.objective]
    return fixed.model_copy(update={
        "scenario": ScenarioRef(name=original.name, sha256=scenario_sha256(original)),
        "status": "feasible", "objective": objective})


def _starts(result: Result) -> dict[str, int | None]:
    return {s.id: s.start for s in result.schedule}


class _Search:
    def __init__(self, sc: Scenario, base: Result, target: float, samples: int, seed: int,
                 solve_batch: Callable[[list[Scenario]], list[Result | None]],
                 log: Callable[[str], None], options: SolveOptions,
                 stop: Callable[[], bool] | None = None) -> None:
        self.options = options
        self.stop = stop
        self.sc, self.base, self.target, self.samples, self.seed = sc, base, target, samples, seed
        self.solve_batch, self.log = solve_batch, log
        self.seen: dict[tuple[str, int], Candidate] = {}

    def evaluate(self, lever: str, ks: list[int]) -> None:
        todo = [k for k in dict.fromkeys(ks) if (lever, k) not in self.seen]
        if not todo:
            return
        if self.stop is not None and self.stop():
            raise Stopped
        results = self.solve_batch([variant(self.sc, lever, k) for k in todo])
        for k, res in zip(todo, results, strict=True):
            issued = reissue(self.sc, res, self.options) if res is not None and res.solved \
                else None
            if res is None or issued is None:
                status = "failed" if res is None else (
                    res.status if not res.solved else "breaks the original rules")
                cand = Candidate(lever, k, status)
            else:
                rep = measure(compile_plan(self.sc, issued), self.samples, self.seed)
                cand = Candidate(lever, k, res.status, rep.breach_probability,
                                 res.metrics.makespan if res.metrics else None, issued)
            self.seen[(lever, k)] = cand
            self.log(f"{lever}={k}: {cand.status}"
                     + (f", breach {cand.breach_probability:.3f}, makespan {cand.makespan}"
                        if cand.breach_probability is not None else ""))

    def good(self, lever: str, k: int) -> bool:
        c = self.seen[(lever, k)]
        return c.breach_probability is not None and c.breach_probability <= self.target

    def feasible(self, lever: str, k: int) -> bool:
        return self.seen[(lever, k)].breach_probability is not None

    def bisect(self, lever: str, hi_start: int, limit: int, jobs: int) -> int | None:
        """The smallest k in [1, limit] that meets the target, or None.

        ``lo`` is the largest k known feasible but short of the target (0 at
        first), ``hi`` the smallest k known to meet it or to be infeasible;
        both are taken as monotone in k. Each round solves ``jobs`` candidates.
        """
        hi = hi_start
        self.evaluate(lever, [hi])
        first = self.seen[(lever, hi)].result
        if first is not None and _starts(first) == _starts(self.base):
            self.log(f"{lever}={hi}: the same roadmap as unhardened (the engine does not "
                     "act on this lever); trying the next one")
            return None
        lo = 0
        while self.feasible(lever, hi) and not self.good(lever, hi) and hi < limit:
            lo, hi = hi, min(limit, hi * 2)
            self.evaluate(lever, [hi])
        while hi - lo > 1:
            probe = sorted({lo + (hi - lo) * j // (jobs + 1) for j in range(1, jobs + 1)}
                           - {lo, hi})
            self.evaluate(lever, probe)
            for k in probe:
                if self.good(lever, k) or not self.feasible(lever, k):
                    hi = k
                    break
                lo = k
        return hi if self.good(lever, hi) else None


def batch_solver(options: SolveOptions, executor: str | Executor, jobs: int,
                 address: str | None = None) -> Callable[[list[Scenario]], list[Result | None]]:
    """Solve candidates on the batch executor; results come back checked (or None)."""
    from optimizer.studies.batch import batch
    from optimizer.studies.store import RunStore

    tmp = tempfile.TemporaryDirectory(prefix="roadmap-harden-")
    store = RunStore(Path(tmp.name) / "runs.sqlite")
    pool: Executor | str = executor
    if executor == "local":
        # One pool for every round: spawning workers (and importing OR-Tools) once.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from optimizer.studies.batch import _worker_init

        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init,
                                   mp_context=multiprocessing.get_context("spawn"))

    def solve(scenarios: list[Scenario]) -> list[Result | None]:
        frame = batch(scenarios, jobs=jobs, executor=pool, address=address,
                      time_limit_s=options.time_limit_s, seed=options.seed, store=store)
        out: list[Result | None] = []
        for row in frame.itertuples():
            failed = isinstance(row.error, str) and bool(row.error)
            if row.status in ("optimal", "feasible", "infeasible", "unknown") and not failed:
                out.append(store.get_run(str(row.run_id)).result)
            else:
                out.append(None)
        return out

    def close() -> None:
        if isinstance(pool, Executor):
            pool.shutdown(wait=True, cancel_futures=True)
        store.close()
        tmp.cleanup()

    solve.close = close  # type: ignore[attr-defined]
    return solve


def widest_delay(scenario: Scenario) -> int:
    """The widest delay (of a step or of its verification) in the ``uncertainty``
    section, at least 1: where the search over a lever's strength starts."""
    unc = scenario.uncertainty
    if unc is None:
        return 1
    entries = [e for e in (unc.default, *unc.parties.values(), *unc.categories.values(),
                           *unc.concessions.values()) if e is not None]
    return max([1] + [e.delay[2] for e in entries if e.delay] +
               [e.verification_delay[2] for e in entries if e.verification_delay])


def harden(scenario: Scenario, plan: Result | None = None, *, target: float = 0.05,
           samples: int = 10_000, seed: int = 0, levers: tuple[str, ...] = LEVERS,
           options: SolveOptions | None = None, executor: str | Executor = "local",
           jobs: int = 2, address: str | None = None, max_k: int | None = None,
           log: Callable[[str], None] | None = None,
           solve_batch: Callable[[list[Scenario]], list[Result | None]] | None = None,
           stop: Callable[[], bool] | None = None) -> Hardening:
    """Find the least-costly roadmap whose breach probability (the highest over the
    caps) is at most ``target``, trying ``levers`` in order; see the module docstring."""
    if not 0.0 <= target <= 1.0:
        raise ValueError(f"the target is a probability in [0, 1], got {target}")
    opts = options or SolveOptions(time_limit_s=30.0, workers=1)
    say = log or (lambda _m: None)
    base = plan_for(scenario, plan, opts)
    base_report = measure(compile_plan(scenario, base), samples, seed)
    say(f"unhardened: breach {base_report.breach_probability:.3f}, "
        f"makespan {base.metrics.makespan if base.metrics else None}")
    out = Hardening(target, False, None, 0, base, base_report, None, None)
    if base_report.breach_probability <= target:
        fresh = measure(compile_plan(scenario, base), samples, seed + FRESH_SEED_OFFSET)
        if fresh.breach_probability <= target:
            out.met, out.plan, out.report = True, base, fresh
            return out
    solver = solve_batch or batch_solver(opts, executor, jobs, address)
    search = _Search(scenario, base, target, samples, seed, solver, say, opts, stop)
    try:
        _levers(scenario, search, out, levers, max_k, jobs, samples, seed, say)
    except Stopped:
        out.stopped = True
        say("stopped: keeping what was found so far")
    finally:
        out.candidates = sorted(search.seen.values(), key=lambda c: (c.lever, c.k))
        closer = getattr(solver, "close", None)
        if solve_batch is None and closer is not None:
            closer()
    return out


def _levers(scenario: Scenario, search: _Search, out: Hardening, levers: tuple[str, ...],
            max_k: int | None, jobs: int, samples: int, seed: int,
            say: Callable[[str], None]) -> None:
    """Every lever in turn; the best confirmed roadmap goes into ``out``."""
    from optimizer.check import check

    spread = widest_delay(scenario)
    limit = max_k if max_k is not None else scenario.horizon
    best: Candidate | None = None
    for lever in levers:
        k = search.bisect(lever, min(spread, limit), limit, max(1, jobs))
        while k is not None and k <= limit:
            cand = search.seen[(lever, k)]
            assert cand.result is not None
            problems = check(scenario, cand.result)
            fresh = measure(compile_plan(scenario, cand.result), samples,
                            seed + FRESH_SEED_OFFSET)
            say(f"{lever}={k}: fresh seed breach {fresh.breach_probability:.3f}"
                + (f"; checker: {problems[0]}" if problems else ""))
            if not problems and fresh.breach_probability <= out.target:
                if best is None or (cand.makespan or 0) < (best.makespan or 0):
                    best = cand
                    out.met, out.lever, out.k = True, lever, k
                    out.plan, out.report = cand.result, fresh
                break
            k += 1
            if k > limit:
                break
            search.evaluate(lever, [k])
            if not search.good(lever, k):
                break
