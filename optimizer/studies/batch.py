"""Many solves at once: scenario folders and sweeps, on one machine or a Dask cluster.

Everything is written against ``concurrent.futures.Executor``: a
``ProcessPoolExecutor`` (spawned processes, one CP-SAT worker each) by
default, or Dask distributed's ``Client.get_executor()``. A task carries the
canonical scenario JSON in and the result JSON out, so nothing unpicklable
crosses a process boundary and a remote worker needs only this package.

The parent process alone checks each result (``optimizer.check``) and saves
it in the run store, one transaction per run, as soon as it arrives: Ctrl-C,
a killed worker or a crash of the parent loses at most the runs in flight,
and running the same batch again skips what is stored (same scenario SHA-256
and options).

One piece: executors, retries, resume and the store writes are one state
machine over the runs in flight.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.canonical import options_json
from models.errors import ScenarioError
from models.loading import load_scenario
from models.options import SolveOptions
from models.result import METRIC_NAMES, Result
from models.scenario import Scenario
from optimizer.studies.store import RunStore, StoredRun, result_gap, run_key_id
from optimizer.studies.sweep import Sweep, Variant, load_sweep, make_sweep

if TYPE_CHECKING:
    import pandas as pd

SCENARIO_SUFFIXES = (".yaml", ".yml", ".json", ".toml")
# A run whose worker died this many times is reported as failed rather than
# retried again: it may be the run that kills its worker (memory, a crash).
MAX_WORKER_DEATHS = 2
POLL_S = 0.2


@dataclass(frozen=True)
class RunSpec:
    """One solve of a batch: a concrete scenario and the options of its solve."""

    run_id: str
    base: str
    variant: Variant
    scenario_json: str
    sha256: str
    options: dict[str, Any]
    options_json: str

    @property
    def label(self) -> str:
        return f"{self.base} {self.variant.label}" if self.variant.params else self.base

    def payload(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "name": self.base, "scenario_json": self.scenario_json,
                "options": self.options}


@dataclass(frozen=True)
class BatchProgress:
    """Reported after the plan is made and after every finished run."""

    total: int          # runs in the batch
    done: int           # finished: solved now, failed, or found in the store
    failed: int
    from_store: int
    row: dict[str, Any] | None = None


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during a batch; ``frame`` holds every row (unfinished ones 'cancelled')."""

    def __init__(self, frame: pd.DataFrame) -> None:
        super().__init__("batch interrupted")
        self.frame = frame


# --------------------------------------------------------------------------
# The task (runs in a worker process: plain data in, plain data out)
def solve_task(payload: dict[str, Any]) -> dict[str, Any]:
    from models.loading import parse_scenario
    from optimizer.api import solve

    t0 = time.monotonic()
    trace = os.environ.get("ROADMAP_BATCH_LOG")
    if trace:
        # One short O_APPEND write per task start: a record of which process
        # solved what, also used by the tests to prove that resume recomputes nothing.
        with open(trace, "a", encoding="utf-8") as fh:
            fh.write(f"{payload['run_id']} {os.getpid()}\n")
    try:
        scenario = parse_scenario(json.loads(payload["scenario_json"]), payload["name"])
        result = solve(scenario, SolveOptions(**payload["options"]))
        return {"run_id": payload["run_id"], "result_json": result.to_json(indent=None),
                "elapsed_s": round(time.monotonic() - t0, 3), "pid": os.getpid()}
    except Exception as exc:  # sent back as data: an exception may not unpickle
        return {"run_id": payload["run_id"], "error": f"{type(exc).__name__}: {exc}",
                "elapsed_s": round(time.monotonic() - t0, 3), "pid": os.getpid()}


def _worker_init() -> None:
    # Ctrl-C in a terminal reaches the whole process group; only the parent
    # decides what stops, and it terminates the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def accept(spec: RunSpec, out: dict[str, Any]) -> tuple[Result | None, str | None]:
    """Parse and verify a task's output; (result, None) or (None, why it is rejected)."""
    if not isinstance(out, dict):
        return None, f"invalid task output: {type(out).__name__}"
    if out.get("error"):
        return None, str(out["error"])
    try:
        result = Result.from_json(out["result_json"])
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"invalid result JSON: {str(exc).splitlines()[0]}"
    if result.scenario.sha256 != spec.sha256:
        return None, "invalid result: it is for another scenario (sha256 differs)"
    try:
        from optimizer.check import check
    except ImportError:  # the checker is optional at import time only
        return result, None
    problems = check(spec.variant.scenario, result)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return None, f"invalid result: {problems[0]}{more}"
    return result, None


# --------------------------------------------------------------------------
# Planning
def _scenario_refs(item: Scenario | str | os.PathLike[str]) -> list[tuple[str, Scenario]]:
    if isinstance(item, Scenario):
        return [(item.name, item)]
    path = Path(item)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SCENARIO_SUFFIXES)
        if not files:
            raise ScenarioError("no scenario files (.yaml, .yml, .json, .toml) in this folder",
                                file=str(path))
        return [(str(p), load_scenario(p)) for p in files]
    return [(str(item), load_scenario(item))]


def _as_sweep(sweep: Sweep | str | os.PathLike[str] | Sequence[str] | None) -> Sweep:
    if sweep is None:
        return Sweep()
    if isinstance(sweep, Sweep):
        return sweep
    if isinstance(sweep, str | os.PathLike):
        return load_sweep(os.fspath(sweep))
    return make_sweep(list(sweep))


def plan(scenarios_or_paths: Iterable[Scenario | str | os.PathLike[str]] | None,
         sweep: Sweep | str | os.PathLike[str] | Sequence[str] | None = None, *,
         time_limit_s: float = 30.0, seed: int = 0) -> list[RunSpec]:
    """Every run of a batch, validated, in order; raises ScenarioError on bad input."""
    from models.canonical import canonical_json, scenario_sha256

    sw = _as_sweep(sweep)
    items = list(scenarios_or_paths or [])
    if not items and sw.scenarios:
        folder = Path(sw.file).parent
        items = [str(folder / s) if (folder / s).exists() else s for s in sw.scenarios]
    if not items:
        raise ScenarioError("no scenarios given (name files, folders or dataset names)",
                            file="<command line>")
    opts = SolveOptions(time_limit_s=time_limit_s, workers=1, seed=seed)
    opts_dict = {k: v for k, v in opts.model_dump().items() if k != "log"}
    opts_json = options_json(opts)
    specs: list[RunSpec] = []
    for item in items:
        for base, scenario in _scenario_refs(item):
            for variant in sw.expand(scenario, base):
                sha = scenario_sha256(variant.scenario)
                specs.append(RunSpec(run_key_id(sha, opts_json), base, variant,
                                     canonical_json(variant.scenario), sha, opts_dict,
                                     opts_json))
    return specs


# --------------------------------------------------------------------------
# Executors
@dataclass
class _Pool:
    kind: str
    jobs: int
    address: str | None
    executor: Executor | None = None
    _closers: list[Callable[[], object]] = field(default_factory=list)

    def start(self) -> Executor:
        if self.kind == "local":
            self.executor = ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init)
        else:
            self.executor = self._start_dask()
        return self.executor

    def _start_dask(self) -> Executor:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ScenarioError("--executor dask needs Dask: pip install 'roadmap-optimizer[dask]'",
                                file="<command line>") from None
        import logging

        if self.address:
            try:
                client = Client(self.address, timeout=10)
            except (OSError, TimeoutError) as exc:
                raise ScenarioError(f"cannot reach the Dask scheduler: {exc}",
                                    file="<command line>", value=self.address) from None
        else:
            cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            self._closers.append(lambda: cluster.close())
            client = Client(cluster)
        self._closers.insert(0, client.close)
        return client.get_executor(pure=False)

    def restart(self) -> Executor:
        self.stop(kill=True)
        return self.start()

    def stop(self, *, kill: bool = False) -> None:
        if self.kind == "given":  # the caller's executor: the caller shuts it down
            return
        ex, self.executor = self.executor, None
        if ex is not None:
            if isinstance(ex, ProcessPoolExecutor):
                procs = list(getattr(ex, "_processes", {}).values()) if kill else []
                ex.shutdown(wait=not kill, cancel_futures=True)
                # The stdlib only learns terminate_workers() in 3.14: a running
                # CP-SAT search would otherwise finish before shutdown returns.
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.join(5)
            else:
                ex.shutdown(wait=not kill)
        if self.kind == "dask" and self.executor is None:
            for close in self._closers:
                # Closing a client or cluster that already went away is not an error.
                with contextlib.suppress(Exception):
                    close()
            self._closers.clear()


# --------------------------------------------------------------------------
# The front door
def batch(scenarios_or_paths: Iterable[Scenario | str | os.PathLike[str]] | None = None,
          sweep: Sweep | str | os.PathLike[str] | Sequence[str] | None = None, *,
          jobs: int | None = None, executor: str | Executor = "local",
          address: str | None = None, time_limit_s: float = 30.0, seed: int = 0,
          store: RunStore | str | os.PathLike[str] | None = None,
          progress: Callable[[BatchProgress], None] | None = None) -> pd.DataFrame:
    """Solve every scenario (times every sweep variant) and return one row per run.

    ``scenarios_or_paths``: Scenario objects, scenario files, folders of them
    or dataset names. ``sweep``: a Sweep, a sweep file, or ``PATH=VALUES``
    strings. ``executor``: "local", "dask" (a LocalCluster of ``jobs``
    workers, or the scheduler at ``address``) or any Executor. Runs already in
    ``store`` for the same scenario and options are not solved again.
    Ctrl-C raises ``BatchInterrupted`` carrying the partial table.
    """
    specs = plan(scenarios_or_paths, sweep, time_limit_s=time_limit_s, seed=seed)
    jobs = max(1, jobs or os.cpu_count() or 1)
    if isinstance(executor, str) and executor not in ("local", "dask"):
        raise ScenarioError("expected local or dask", file="<command line>", path="executor",
                            value=executor)
    own_store = not isinstance(store, RunStore)
    st = store if isinstance(store, RunStore) else RunStore(store)
    try:
        return _Runner(specs, st, progress or (lambda _e: None)).run(executor, jobs, address)
    finally:
        if own_store:
            st.close()


class _Runner:
    def __init__(self, specs: list[RunSpec], store: RunStore,
                 progress: Callable[[BatchProgress], None]) -> None:
        self.specs, self.store, self.progress = specs, store, progress
        self.rows: dict[str, dict[str, Any]] = {}
        self.failed = self.from_store = 0
        self.deaths: dict[str, int] = {}
        self.pending: dict[Future[Any], RunSpec] = {}
        self.unique = list({s.run_id: s for s in specs}.values())

    def _event(self, row: dict[str, Any] | None) -> None:
        self.progress(BatchProgress(len(self.unique), len(self.rows), self.failed,
                                    self.from_store, row))

    def run(self, executor: str | Executor, jobs: int, address: str | None) -> pd.DataFrame:
        keys = self.store.keys()
        todo = []
        for spec in self.unique:
            stored = (self.store.find(spec.sha256, spec.options_json)
                      if (spec.sha256, spec.options_json) in keys else None)
            if stored is not None:
                self.rows[spec.run_id] = _row_from_store(spec, stored)
                self.from_store += 1
            else:
                todo.append(spec)
        self._event(None)
        if todo:
            pool = (_Pool("given", jobs, address, executor) if isinstance(executor, Executor)
                    else _Pool(executor, jobs, address))
            try:
                ex = pool.executor or pool.start()
                self._drive(pool, ex, todo)
            except KeyboardInterrupt:
                for fut in self.pending:
                    fut.cancel()
                pool.stop(kill=True)
                raise BatchInterrupted(self.frame()) from None
            finally:
                if pool.kind != "given":
                    pool.stop()
        return self.frame()

    def _drive(self, pool: _Pool, ex: Executor, todo: list[RunSpec]) -> None:
        pending: dict[Future[Any], RunSpec] = {ex.submit(solve_task, s.payload()): s for s in todo}
        self.pending = pending
        while pending:
            done, _ = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            died: list[RunSpec] = []
            for fut in done:
                spec = pending.pop(fut)
                try:
                    out = fut.result()
                except BrokenProcessPool:
                    died.append(spec)
                    continue
                except CancelledError:
                    out = {"error": "cancelled"}
                except Exception as exc:  # e.g. a Dask worker lost too often
                    out = {"error": f"{type(exc).__name__}: {exc}"}
                self._finish(spec, out)
            if died:
                # A worker process died: the pool is unusable. The other runs in it
                # fail the same way at once; collect them, then start a new pool.
                for fut, spec in list(pending.items()):
                    try:
                        self._finish(spec, fut.result(timeout=30))
                    except (BrokenProcessPool, CancelledError, TimeoutError):
                        died.append(spec)
                    pending.pop(fut)
                retry = []
                for spec in died:
                    self.deaths[spec.run_id] = self.deaths.get(spec.run_id, 0) + 1
                    if self.deaths[spec.run_id] >= MAX_WORKER_DEATHS:
                        self._finish(spec, {"error": "the worker process died"})
                    else:
                        retry.append(spec)
                if retry and pool.kind == "given":
                    for spec in retry:
                        self._finish(spec, {"error": "the worker process died"})
                elif retry:
                    ex = pool.restart()
                    pending = {ex.submit(solve_task, s.payload()): s for s in retry}
                    self.pending = pending

    def _finish(self, spec: RunSpec, out: dict[str, Any]) -> None:
        result, why = accept(spec, out)
        if not isinstance(out, dict):
            out = {}
        if result is None:
            self.failed += 1
            row = _row(spec, None, "error", why, out.get("elapsed_s"), from_store=False)
        else:
            self.store.save_run(result, spec.scenario_json, spec.options_json, label=spec.label,
                                name=result.scenario.name, source="batch", run_id=spec.run_id,
                                base=spec.base, variant_id=spec.variant.id,
                                params=spec.variant.params, elapsed_s=out.get("elapsed_s"))
            row = _row(spec, result, result.status, None, out.get("elapsed_s"),
                       from_store=False)
        self.rows[spec.run_id] = row
        self._event(row)

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = []
        for spec in self.specs:
            row = self.rows.get(spec.run_id)
            if row is None:
                row = _row(spec, None, "cancelled", None, None, from_store=False)
            rows.append({**row, "base": spec.base, "variant_id": spec.variant.id,
                         **spec.variant.params})
        param_cols = list(dict.fromkeys(p for s in self.specs for p in s.variant.params))
        # SPEC §5.1: each principal's own peak (from the ledger), after the metrics.
        peak_cols = list(dict.fromkeys(principal_column(p) for s in self.specs
                                       for p in s.variant.scenario.principal_ids))
        cols = ["run_id", "base", "variant_id", *param_cols, "status", *METRIC_NAMES,
                *peak_cols, "gap", "wall_time_s", "elapsed_s", "from_store", "error", "sha256"]
        frame = pd.DataFrame(rows, columns=cols)
        for m in (*METRIC_NAMES, *peak_cols):
            frame[m] = frame[m].astype("Int64")
        return frame


def principal_column(party: str) -> str:
    """The summary column of one principal's peak exposure, e.g. ``peak_exposure[US]``."""
    return f"peak_exposure[{party}]"


def _row(spec: RunSpec, result: Result | None, status: str, error: str | None,
         elapsed: float | None, *, from_store: bool) -> dict[str, Any]:
    metrics = result.metrics.model_dump() if result is not None and result.metrics else {}
    ledger = result.ledger if result is not None else {}
    return {
        "run_id": spec.run_id, "status": status,
        **{m: metrics.get(m) for m in METRIC_NAMES},
        **{principal_column(p): (ledger[p].peak if p in ledger else None)
           for p in spec.variant.scenario.principal_ids},
        "gap": result_gap(result) if result is not None else None,
        "wall_time_s": result.solver.wall_time_s if result is not None else None,
        "elapsed_s": elapsed, "from_store": from_store, "error": error, "sha256": spec.sha256,
    }


def _row_from_store(spec: RunSpec, stored: StoredRun) -> dict[str, Any]:
    row = _row(spec, stored.result, stored.status, None, stored.elapsed_s, from_store=True)
    row["run_id"] = stored.run_id
    return row
