"""``roadmap batch``, ``roadmap compare`` and ``roadmap pareto`` (SPEC §4).

Exit codes: 0 done; 1 some runs of a batch failed (their rows say why; the
rest is stored); 2 invalid input (one line on stderr); 130 interrupted (the
finished runs are kept and summarised; run the same command to resume).

One piece: the three commands share option parsing, the run store and the
interrupt handling.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    import pandas as pd

    from models import Result, Scenario
    from optimizer.studies.batch import BatchProgress
    from optimizer.studies.store import RunStore

from optimizer.cli.common import EXIT_FAILED_RUNS, EXIT_INTERRUPTED, EXIT_INVALID

MAX_TABLE_ROWS = 60


class Executor(StrEnum):
    local = "local"
    dask = "dask"


class CompareFmt(StrEnum):
    table = "table"
    json = "json"


def _consoles() -> tuple[Any, Any]:
    from optimizer.cli.common import err, out

    return out, err


def _fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    _, err = _consoles()
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _open_store(path: Path | None, out_dir: Path | None = None) -> RunStore:
    import sqlite3

    from optimizer.studies.store import RunStore, default_store_path

    target = path or (out_dir / "runs.sqlite" if out_dir else default_store_path())
    try:
        return RunStore(target)
    except (OSError, sqlite3.Error) as exc:
        _fail(f"{target}: cannot open the run store: {exc}")


class _TermAsInterrupt:
    """SIGTERM stops a batch like Ctrl-C does (finished runs are kept)."""

    def __enter__(self) -> _TermAsInterrupt:
        self._old = None
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGTERM, self._handler)
        return self

    @staticmethod
    def _handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)


# --------------------------------------------------------------------------
# batch
def batch_command(
    scenarios: Annotated[list[str] | None, typer.Argument(
        help="Scenario files, folders of them, or built-in dataset names.")] = None,
    sweep_file: Annotated[Path | None, typer.Option("--sweep", help="Sweep file (YAML).")] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="PATH=VALUES, e.g. rules[no_cliff].max=2:20:2 (repeatable).")
    ] = None,
    sample: Annotated[int | None, typer.Option(
        "--sample", min=1, help="Draw N distinct variants of the grid at random.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed of --sample.")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, max=1024,
                    help="Solves at once (default: cores).")] = None,
    executor: Annotated[Executor, typer.Option("--executor", help="local processes or Dask."
                        )] = Executor.local,
    address: Annotated[str | None, typer.Option(
        "--address", help="Dask scheduler, e.g. tcp://host:8786 (default: a local cluster).")
    ] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", min=0.01,
                          help="Seconds per solve.")] = 30.0,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Folder for summary.csv, summary.parquet and (default) runs.sqlite.")
    ] = None,
    store_path: Annotated[Path | None, typer.Option("--store", help="Run store (SQLite).")
                          ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    fail_on_error: Annotated[bool, typer.Option(
        "--fail-on-error", help="Exit 1 when any run failed (default: exit 0, failures "
        "listed with status 'error').")] = False,
) -> None:
    """Solve many scenarios or sweep variants in parallel; resume what is stored.

    Every run is checked and saved in the run store; running the same command
    again skips stored runs (resume after Ctrl-C or a crash).
    """
    from models import ScenarioError
    from optimizer.studies.batch import BatchInterrupted, batch, plan
    from optimizer.studies.sweep import Sweep, load_sweep, make_sweep

    out, err = _consoles()
    try:
        base = load_sweep(sweep_file) if sweep_file else None
        sw: Sweep = make_sweep(param or [], base=base, sample=sample, seed=seed)
        plan(scenarios, sw, time_limit_s=time_limit)   # validate everything before any work
    except ScenarioError as exc:
        _fail(str(exc))
    if executor is Executor.local and address:
        _fail("--address needs --executor dask")
    store = _open_store(store_path, out_dir)
    interrupted = False
    with _Progress(err, enabled=not quiet and err.is_terminal) as bar, _TermAsInterrupt():
        try:
            frame = batch(scenarios, sw, jobs=jobs, executor=executor.value, address=address,
                          time_limit_s=time_limit, store=store, progress=bar.update)
        except BatchInterrupted as exc:
            frame, interrupted = exc.frame, True
        except ScenarioError as exc:
            store.close()
            _fail(str(exc))
    store.close()
    _print_summary(out, frame)
    if out_dir is not None:
        _write_tables(frame, out_dir)
    failed = int((frame["status"] == "error").sum())
    done = int((~frame["status"].isin(["error", "cancelled"])).sum())
    err.print(f"{done} of {len(frame)} runs done ({int(frame['from_store'].sum())} from the "
              f"store), {failed} failed; store: {store.path}", markup=False)
    if interrupted:
        err.print("interrupted: finished runs are kept; run the same command to resume",
                  markup=False)
        raise typer.Exit(EXIT_INTERRUPTED)
    # SPEC §4: a batch that ran exits 0; failed runs are rows with status
    # 'error'. Scripts that want a hard failure ask for it.
    raise typer.Exit(EXIT_FAILED_RUNS if failed and fail_on_error else 0)


class _Progress:
    """A Rich progress bar on stderr: counts, failures, from-store and ETA."""

    def __init__(self, console: Any, *, enabled: bool) -> None:
        self.enabled = enabled
        self.console = console
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("batch"), BarColumn(), MofNCompleteColumn(),
                TextColumn("[red]{task.fields[failed]} failed[/]"),
                TextColumn("{task.fields[stored]} from store"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=self.console, transient=False)
            self.bar.__enter__()
            self.task = self.bar.add_task("batch", total=None, failed=0, stored=0)
        return self

    def update(self, ev: BatchProgress) -> None:
        if self.bar is not None:
            self.bar.update(self.task, total=ev.total, completed=ev.done, failed=ev.failed,
                            stored=ev.from_store)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _param_columns(frame: pd.DataFrame) -> list[str]:
    from models.result import METRIC_NAMES

    fixed = {"run_id", "base", "variant_id", "status", *METRIC_NAMES, "gap", "wall_time_s",
             "elapsed_s", "from_store", "error", "sha256"}
    # Principals' peak columns (peak_exposure[US]) are figures, not parameters.
    return [c for c in frame.columns if c not in fixed and not c.startswith("peak_exposure[")]


def _print_summary(out: Any, frame: pd.DataFrame) -> None:
    from rich.markup import escape
    from rich.table import Table

    from models.result import METRIC_NAMES

    params = _param_columns(frame)
    table = Table(title=f"Batch: {len(frame)} runs")
    for col in ["run", "scenario", *params, "status", *METRIC_NAMES, "gap", "time s"]:
        table.add_column(escape(col), justify="right" if col in METRIC_NAMES or col in
                         ("gap", "time s") else "left")
    for _, row in frame.head(MAX_TABLE_ROWS).iterrows():
        status = str(row["status"]) + (" (stored)" if row["from_store"] else "")
        if row["error"]:
            status += f": {row['error']}"
        cells = [str(row["run_id"])[:9], Path(str(row["base"])).stem,
                 *(_cell(row[p]) for p in params), status,
                 *(_cell(row[m]) for m in METRIC_NAMES),
                 "" if _missing(row["gap"]) else f"{float(row['gap']):.3f}",
                 "" if _missing(row["elapsed_s"]) else f"{float(row['elapsed_s']):.2f}"]
        table.add_row(*(escape(c) for c in cells))
    out.print(table)
    if len(frame) > MAX_TABLE_ROWS:
        out.print(f"… {len(frame) - MAX_TABLE_ROWS} more rows (see summary.csv with --out)")


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or (not isinstance(value, list | dict) and bool(pd.isna(value)))


def _cell(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _write_tables(frame: pd.DataFrame, out_dir: Path) -> None:
    from models.atomic import write_atomic

    flat = frame.copy()
    for col in _param_columns(flat):
        # Parquet needs one type per column; a swept mapping becomes its JSON text.
        if flat[col].map(lambda v: isinstance(v, dict | list)).any() or \
                flat[col].map(type).nunique() > 1:
            flat[col] = flat[col].map(_cell)
    try:
        write_atomic(out_dir / "summary.csv", flat.to_csv(index=False))
        import io

        buf = io.BytesIO()
        flat.to_parquet(buf, index=False)
        write_atomic(out_dir / "summary.parquet", buf.getvalue())
    except OSError as exc:
        _fail(f"{out_dir}: cannot write the summary: {exc.strerror or exc}")


# --------------------------------------------------------------------------
# compare
def _load_ref(ref: str, store: RunStore | None, store_path: Path | None
              ) -> tuple[str, Result, Scenario | None]:
    from pydantic import ValidationError

    from models import Result

    path = Path(ref)
    if path.is_file():
        try:
            return path.stem, Result.from_json(path.read_text(encoding="utf-8")), None
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"{ref}: cannot read: {exc}")
        except (ValidationError, ValueError) as exc:
            first = str(exc).splitlines()[0]
            _fail(f"{ref}: not a roadmap result file ({first})")
    if store is None:
        _fail(f"{ref}: no such result file, and no run store at {store_path}")
    try:
        run = store.get_run(ref)
    except KeyError:
        _fail(f"{ref}: no such result file or run id in {store.path}")
    from models import ScenarioError

    try:
        scenario = run.scenario
    except ScenarioError:
        scenario = None
    return run.label or run.run_id, run.result, scenario


def compare_command(
    refs: Annotated[list[str], typer.Argument(help="Result JSON files or run ids in the store.")],
    fmt: Annotated[CompareFmt, typer.Option("--format", "-f")] = CompareFmt.table,
    store_path: Annotated[Path | None, typer.Option("--store", help="Run store (SQLite).")
                          ] = None,
) -> None:
    """Roadmaps side by side: metrics with deltas against the first, then what moved."""
    from optimizer.studies.compare import compare
    from optimizer.studies.store import default_store_path

    if len(refs) < 2:
        _fail("compare needs at least two results (files or run ids)")
    target = store_path or default_store_path()
    store = _open_store(target) if target.exists() and any(
        not Path(r).is_file() for r in refs) else None
    results: dict[str, Result] = {}
    scenarios: dict[str, Scenario] = {}
    for ref in refs:
        name, result, scenario = _load_ref(ref, store, target)
        while name in results:
            name += "'"
        results[name] = result
        if scenario is not None:
            scenarios[name] = scenario
    if store is not None:
        store.close()
    comparison = compare(results, scenarios or None)
    out, _ = _consoles()
    if fmt is CompareFmt.json:
        sys.stdout.write(json.dumps(comparison.to_dict(), indent=2) + "\n")
        return
    _print_comparison(out, comparison)


def _print_comparison(out: Any, cmp: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    from models.result import METRIC_NAMES

    table = Table(title=escape(f"Metrics (deltas against {cmp.reference})"))
    table.add_column("metric")
    for name in cmp.names:
        table.add_column(escape(name), justify="right")
    table.add_row("status", *cmp.statuses)
    ref_peaks = cmp.principal_peaks.get(cmp.reference, {})
    for party in cmp.principals:          # the principals' own figures first (SPEC §5.1)
        cells = []
        for k, name in enumerate(cmp.names):
            value, ref = cmp.principal_peaks.get(name, {}).get(party), ref_peaks.get(party)
            text = "—" if value is None else str(value)
            if k > 0 and value is not None and ref is not None and value != ref:
                text += f" ({value - ref:+d})"
            cells.append(text)
        table.add_row(escape(f"peak exposure {party}"), *cells)
    for m in METRIC_NAMES:
        cells = []
        for k, name in enumerate(cmp.names):
            value, delta = cmp.metrics[name][m], cmp.deltas[name][m]
            text = "—" if value is None else str(value)
            if k > 0 and delta:
                text += f" ({delta:+d})"
            cells.append(text)
        table.add_row(m, *cells)
    out.print(table)
    if not cmp.concessions:
        out.print("No concession differs.")
        return
    diff = Table(title=f"Concessions that differ ({len(cmp.concessions)}; "
                       f"{cmp.unchanged} unchanged), largest change first")
    diff.add_column("concession")
    diff.add_column("party")
    diff.add_column("change")
    for name in cmp.names:
        diff.add_column(escape(name))
    for d in cmp.concessions:
        cells = []
        for p in d.placements:
            if p is None:
                cells.append("not in scenario")
            elif not p["present"]:
                cells.append("absent")
            else:
                cells.append(f"{p['start']}–{p['end']} {p['phase'] or ''}".strip())
        diff.add_row(escape(d.id), escape(d.party or ""), ", ".join(d.kinds),
                     *(escape(c) for c in cells))
    out.print(diff)


# --------------------------------------------------------------------------
# pareto
def pareto_command(
    scenario: Annotated[str, typer.Argument(help="Scenario file or built-in dataset name.")],
    x: Annotated[str, typer.Option("--x", help="Capped metric: makespan, peak_exposure or "
                                   "phase_imbalance.")] = "makespan",
    y: Annotated[str, typer.Option("--y", help="Minimised metric, or breach_probability "
                                   "(the stress test, SPEC §5.7).")] = "peak_exposure",
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Chart: .png, .svg or "
                        ".html.")] = None,
    store_path: Annotated[Path | None, typer.Option("--store", help="Run store (SQLite).")
                          ] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", "-t", min=0.01,
                          help="Seconds per solve.")] = 30.0,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, max=64)] = 1,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    fmt: Annotated[CompareFmt, typer.Option("--format", "-f")] = CompareFmt.table,
    parties: Annotated[str | None, typer.Option(
        "--parties", help="Comma-separated parties for peak_exposure, e.g. US,DPRK "
        "(default: all parties).")] = None,
    samples: Annotated[int, typer.Option("--samples", "-n", min=1, max=10_000_000,
                       help="With --y breach_probability: realisations per roadmap.")
                       ] = 10_000,
    levers: Annotated[str | None, typer.Option(
        "--levers", help="With --y breach_probability: comma-separated hardening levers "
        "(verification_delay, lag, buffer; default: all).")] = None,
    ks: Annotated[str | None, typer.Option(
        "--k", help="With --y breach_probability: comma-separated lever strengths "
        "(default: 1, 2, 3, 4, 6, ... up to the widest delay in the uncertainty).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=256,
                    help="With --y breach_probability: candidate solves at once.")] = 1,
    executor: Annotated[Executor, typer.Option(
        "--executor", help="With --y breach_probability: where candidates are solved.")
        ] = Executor.local,
) -> None:
    """The trade-off curve of two metrics (epsilon-constraint); points saved in the store.

    ``--y breach_probability`` (with ``--x makespan``): the stress test's breach
    probability against makespan over the hardening levers' roadmaps (SPEC §5.7).
    """
    from models import ScenarioError, SolveOptions
    from optimizer.cli.common import load
    from optimizer.studies.pareto import check_metrics, pareto

    out, err = _consoles()
    if y == "breach_probability":
        _breach_pareto(scenario, x, out_file, time_limit, workers, seed, fmt, samples, levers,
                       ks, jobs, executor)
        return
    try:
        check_metrics(x, y)
    except ScenarioError as exc:
        _fail(str(exc))
    if out_file is not None and out_file.suffix.lower() not in (".png", ".svg", ".html"):
        _fail(f"{out_file}: the chart file must end in .png, .svg or .html")
    sc = load(scenario)
    store = _open_store(store_path)
    opts = SolveOptions(time_limit_s=time_limit, workers=workers, seed=seed)
    try:
        with _TermAsInterrupt():
            chosen = [q.strip() for q in parties.split(",") if q.strip()] if parties else None
            front = pareto(sc, x, y, options=opts, store=store, parties=chosen,
                           on_point=lambda p: err.print(f"point: {x}={p.x} {y}={p.y} "
                                                        f"({p.status})", markup=False))
    except KeyboardInterrupt:
        err.print("interrupted: the points found so far are in the store", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except ScenarioError as exc:
        _fail(str(exc))
    finally:
        store.close()
    if _chart_or_json(front, out_file, fmt):
        return
    from rich.table import Table

    table = Table(title=f"Pareto front: {y} against {x} "
                        f"({'exact' if front.exact else 'not proven optimal'}, "
                        f"{front.solves} solves)")
    for col in (x, y, "cap", "status", "run id"):
        table.add_column(col)
    for p in front.points:
        table.add_row(str(p.x), str(p.y), "" if p.cap is None else str(p.cap), p.status,
                      p.run_id or "")
    out.print(table)
    if not front.points:
        err.print("no schedule found within the time limit", markup=False)
        raise typer.Exit(3)


def _breach_pareto(scenario: str, x: str, out_file: Path | None, time_limit: float,
                   workers: int, seed: int, fmt: CompareFmt, samples: int,
                   levers: str | None, ks: str | None, jobs: int, executor: Executor) -> None:
    """``roadmap pareto --y breach_probability``: makespan against breach probability."""
    from models import SolveOptions
    from optimizer.cli.common import load
    from optimizer.studies.stress import PlanNotSolved
    from optimizer.studies.stress.front import breach_front
    from optimizer.studies.stress.harden import LEVERS

    out, err = _consoles()
    if x != "makespan":
        _fail(f"--x must be makespan with --y breach_probability, got {x!r}")
    if out_file is not None and out_file.suffix.lower() not in (".png", ".svg", ".html"):
        _fail(f"{out_file}: the chart file must end in .png, .svg or .html")
    chosen = tuple(q.strip() for q in levers.split(",") if q.strip()) if levers else LEVERS
    for lever in chosen:
        if lever not in LEVERS:
            _fail(f"--levers: unknown lever {lever!r} (expected {', '.join(LEVERS)})")
    strengths: list[int] | None = None
    if ks:
        try:
            strengths = [int(q) for q in ks.split(",") if q.strip()]
        except ValueError:
            _fail(f"--k: comma-separated whole numbers expected, got {ks!r}")
        if any(k < 0 for k in strengths):
            _fail(f"--k: strengths are 0 or more, got {ks!r}")
    sc = load(scenario)
    opts = SolveOptions(time_limit_s=time_limit, workers=workers, seed=seed)
    try:
        with _TermAsInterrupt():
            front = breach_front(
                sc, levers=chosen, ks=strengths, samples=samples, seed=seed, options=opts,
                executor=executor.value, jobs=jobs,
                on_point=lambda p: err.print(f"point: {p.label}: makespan={p.x} breach "
                                             f"probability={p.y:.4f}", markup=False))
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except PlanNotSolved as exc:
        err.print(f"{sc.name}: {exc}", markup=False)
        raise typer.Exit(1) from None
    if _chart_or_json(front, out_file, fmt):
        return
    from rich.table import Table

    table = Table(title=f"Pareto front: breach probability against makespan "
                        f"({samples} realisations, seed {seed}, {front.solves} solves)")
    for col in ("makespan", "breach probability", "roadmap", "status"):
        table.add_column(col)
    for p in front.points:
        table.add_row(f"{p.x} {sc.time_unit}s", f"{100 * p.y:.1f}%", p.label or "", p.status)
    out.print(table)



def _chart_or_json(front: Any, out_file: Path | None, fmt: CompareFmt) -> bool:
    """Write a front's chart (``--out``) and, for ``--format json``, print it.

    True when the JSON was printed (the table is then not wanted).
    """
    if out_file is not None:
        try:
            front.save_chart(out_file)
        except OSError as exc:
            _fail(f"{out_file}: cannot write the chart: {exc.strerror or exc}")
    if fmt is CompareFmt.json:
        sys.stdout.write(json.dumps(front.to_dict(), indent=2) + "\n")
        return True
    return False


def register(app: typer.Typer) -> None:
    app.command("batch")(batch_command)
    app.command("compare")(compare_command)
    app.command("pareto")(pareto_command)
