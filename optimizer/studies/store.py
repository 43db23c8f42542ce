"""The run store: every solved roadmap in one SQLite file.

Batches, Pareto curves and the UI's saved runs all land here. SQLite in WAL
mode lets readers go on while one writer commits; each run is one
``BEGIN IMMEDIATE`` transaction, so two batches writing the same file wait
for each other (``busy_timeout``) instead of failing or losing rows.

Only the process that opened the store writes to it: worker processes send
result JSON back and the parent saves it, so a worker killed mid-write can
never leave a half-written row. A store object refuses to be used after a
``fork`` for the same reason.

A run's *key* is the scenario's SHA-256 plus the canonical JSON of the solve
options; a batch skips every run whose key is already stored (resume).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.canonical import options_json, solve_key
from models.result import METRIC_NAMES, Result
from models.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

    from models.options import SolveOptions

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 60_000

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    source TEXT NOT NULL,
    name TEXT,
    label TEXT,
    base TEXT,
    variant_id TEXT,
    sha256 TEXT NOT NULL,
    options_json TEXT NOT NULL,
    scenario_json TEXT NOT NULL,
    solver_version TEXT,
    result_json TEXT NOT NULL,
    status TEXT NOT NULL,
    {", ".join(f"{m} INTEGER" for m in METRIC_NAMES)},
    gap REAL,
    wall_time_s REAL,
    elapsed_s REAL,
    params_json TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX IF NOT EXISTS runs_key ON runs (sha256, options_json);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at);
"""

SUMMARY_COLUMNS = ("run_id", "created_at", "source", "name", "label", "base", "variant_id",
                   "sha256", "status", *METRIC_NAMES, "gap", "wall_time_s", "elapsed_s",
                   "params_json")


def default_store_path() -> Path:
    """``$ROADMAP_STORE``, else ``roadmap-runs.sqlite`` in the current folder."""
    env = os.environ.get("ROADMAP_STORE")
    return Path(env) if env else Path("roadmap-runs.sqlite")


def run_key_id(sha256: str, opts_json: str) -> str:
    """The deterministic id of a batch run: the same solve always gets the same id."""
    return "r" + solve_key(sha256, opts_json)[:15]


def result_gap(result: Result) -> float | None:
    """Largest relative gap between a stage's value and its proven bound (0 when optimal)."""
    if not result.solved:
        return None
    gaps = []
    for entry in result.objective:
        if entry.value is None or entry.bound is None:
            return None
        gaps.append(abs(entry.value - entry.bound) / max(1, abs(entry.value)))
    return max(gaps, default=0.0)


@dataclass(frozen=True)
class StoredRun:
    run_id: str
    created_at: str
    source: str
    name: str | None
    label: str | None
    base: str | None
    variant_id: str | None
    sha256: str
    options_json: str
    scenario_json: str
    solver_version: str | None
    result_json: str
    status: str
    gap: float | None
    wall_time_s: float | None
    elapsed_s: float | None
    params_json: str

    @property
    def result(self) -> Result:
        return Result.from_json(self.result_json)

    @property
    def scenario(self) -> Scenario:
        from models.loading import parse_scenario

        return parse_scenario(json.loads(self.scenario_json), f"run {self.run_id}")

    @property
    def options(self) -> dict[str, Any]:
        return dict(json.loads(self.options_json))

    @property
    def params(self) -> dict[str, Any]:
        return dict(json.loads(self.params_json))


_FIELDS = tuple(StoredRun.__dataclass_fields__)


def _retry_busy(step: Callable[[], Any]) -> Any:
    """Run ``step``, retrying while another process holds the database.

    Switching a new file to WAL takes an exclusive lock and SQLite may answer
    "database is locked" at once, without its busy handler, while a second
    batch is creating the same store: wait and retry, up to the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


class RunStore:
    """A SQLite file of runs; safe for several processes and threads at once."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._pid = os.getpid()
        self._lock = threading.Lock()
        # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE.
        self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                     isolation_level=None, check_same_thread=False)
        self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        mode = _retry_busy(lambda: self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        if str(mode).lower() != "wal":
            raise OSError(f"{self.path}: cannot switch the run store to WAL mode ({mode})")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._write() as cur:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    cur.execute(statement)
            cur.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    # -- plumbing -------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        if os.getpid() != self._pid:
            raise RuntimeError("a run store is written only by the process that opened it")
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cur = self._conn.cursor()
            cur.row_factory = sqlite3.Row
            return list(cur.execute(sql, args).fetchall())

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------
    def save_run(self, result: Result, scenario: Scenario | str,
                 options: SolveOptions | dict[str, Any] | str, *, label: str | None = None,
                 name: str | None = None, source: str = "ui", run_id: str | None = None,
                 base: str | None = None, variant_id: str | None = None,
                 params: dict[str, Any] | None = None, elapsed_s: float | None = None) -> str:
        """Save one run and return its id.

        Without ``run_id`` a UI save gets a fresh id (saving twice keeps two
        runs); batches pass the deterministic ``run_key_id`` so that two
        batches solving the same run store it once (the first one wins).
        """
        from models.canonical import canonical_json

        sc_json = scenario if isinstance(scenario, str) else canonical_json(scenario)
        opts = options if isinstance(options, str) else options_json(options)
        rid = run_id or "u" + uuid.uuid4().hex[:15]
        metrics = result.metrics.model_dump() if result.metrics else {}
        row = {
            "run_id": rid,
            "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
            "source": source,
            "name": name if name is not None else result.scenario.name,
            "label": label,
            "base": base,
            "variant_id": variant_id,
            "sha256": result.scenario.sha256,
            "options_json": opts,
            "scenario_json": sc_json,
            "solver_version": result.solver.version,
            "result_json": result.to_json(indent=None),
            "status": result.status,
            **{m: metrics.get(m) for m in METRIC_NAMES},
            "gap": result_gap(result),
            "wall_time_s": result.solver.wall_time_s,
            "elapsed_s": elapsed_s,
            "params_json": json.dumps(params or {}, sort_keys=True, default=str),
        }
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._write() as cur:
            cur.execute(f"INSERT OR IGNORE INTO runs ({cols}) VALUES ({marks})",
                        tuple(row.values()))
        return rid

    def delete_run(self, run_id: str) -> bool:
        with self._write() as cur:
            cur.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            return cur.rowcount > 0

    def set_label(self, run_id: str, label: str | None) -> None:
        with self._write() as cur:
            cur.execute("UPDATE runs SET label = ? WHERE run_id = ?", (label, run_id))

    # -- reading --------------------------------------------------------------
    def get_run(self, run_id: str) -> StoredRun:
        """The run with this id (a unique prefix of at least 6 characters also works)."""
        rows = self._query(f"SELECT {', '.join(_FIELDS)} FROM runs WHERE run_id = ?", (run_id,))
        if not rows and len(run_id) >= 6:
            rows = self._query(f"SELECT {', '.join(_FIELDS)} FROM runs WHERE run_id LIKE ?"
                               " LIMIT 2", (run_id.replace("%", "") + "%",))
            if len(rows) > 1:
                raise KeyError(f"run id prefix '{run_id}' is ambiguous")
        if not rows:
            raise KeyError(f"no run '{run_id}' in {self.path}")
        return StoredRun(**{k: rows[0][k] for k in _FIELDS})

    def find(self, sha256: str, opts_json: str) -> StoredRun | None:
        rows = self._query("SELECT run_id FROM runs WHERE sha256 = ? AND options_json = ? "
                           "ORDER BY created_at LIMIT 1", (sha256, opts_json))
        return self.get_run(rows[0]["run_id"]) if rows else None

    def keys(self) -> set[tuple[str, str]]:
        """(sha256, options_json) of every stored run: what a resumed batch may skip."""
        return {(r["sha256"], r["options_json"])
                for r in self._query("SELECT sha256, options_json FROM runs")}

    def list_runs(self, *, source: str | None = None, sha256: str | None = None,
                  limit: int | None = None) -> list[dict[str, Any]]:
        """Summaries (no scenario or result JSON), newest first."""
        where, args = [], []
        if source is not None:
            where.append("source = ?")
            args.append(source)
        if sha256 is not None:
            where.append("sha256 = ?")
            args.append(sha256)
        sql = f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, run_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [dict(r) for r in self._query(sql, tuple(args))]

    def count(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM runs")[0]["n"])

    def to_frame(self, **filters: Any) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.list_runs(**filters), columns=list(SUMMARY_COLUMNS))
