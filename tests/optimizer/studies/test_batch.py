"""batch(): local processes and Dask give the same metrics; every result is checked."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from models import loads_scenario
from optimizer.check import assert_valid
from optimizer.studies import batch as batch_mod
from optimizer.studies.batch import accept, batch, plan
from optimizer.studies.store import RunStore

# Two parties; the cap on everybody's exposure trades against the makespan.
SMALL = """
format: roadmap/v1
name: small batch
horizon: 12
parties: [{id: A}, {id: B}]
phases: [{id: P1}, {id: P2}]
concessions:
  - {id: a1, party: A, duration: 2, value: 2, reversibility: irreversible, verification: public}
  - {id: a2, party: A, duration: 2, value: 4, reversibility: irreversible, verification: public}
  - {id: a3, party: A, duration: 1, value: 6, reversibility: irreversible,
     verification: inspection}
  - {id: b1, party: B, duration: 2, value: 2, reversibility: irreversible, verification: public}
  - {id: b2, party: B, duration: 3, value: 4, reversibility: irreversible, verification: public}
  - {id: b3, party: B, duration: 1, value: 6, reversibility: irreversible, verification: ntm}
rules:
  - {id: a_first, kind: precedence, before: a1, after: a2}
  - {id: no_cliff, kind: exposure, max: 10}
"""
SWEEP = ["rules[no_cliff].max=3,4,6,10"]
# Makespan under each cap, as on the Pareto front of this scenario (tests/test_pareto.py);
# with a cap of 3, a3 (risk 6) can never start before credit arrives... and b3 neither:
# no schedule at all.
EXPECTED = {3: ("infeasible", None), 4: ("optimal", 10), 6: ("optimal", 5),
            10: ("optimal", 4)}


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    f = tmp_path / "small.yaml"
    f.write_text(SMALL)
    return f


def _metrics(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    cols = ["rules[no_cliff].max", "status", "makespan", "weighted_completion",
            "peak_exposure", "excluded_value", "phase_imbalance"]
    return [tuple(None if pd.isna(v) else v for v in row) for row in frame[cols].to_numpy()]


def _check_store(store_path: Path, frame: pd.DataFrame) -> None:
    with RunStore(store_path) as store:
        for run_id in frame["run_id"]:
            run = store.get_run(run_id)
            assert_valid(run.scenario, run.result)


def test_local_and_dask_give_identical_metrics(tmp_path: Path, small_file: Path):
    local = batch([small_file], SWEEP, jobs=2, executor="local", time_limit_s=20,
                  store=tmp_path / "local.sqlite")
    dask = batch([small_file], SWEEP, jobs=2, executor="dask", time_limit_s=20,
                 store=tmp_path / "dask.sqlite")
    assert _metrics(local) == _metrics(dask)
    got = {row[0]: (row[1], row[2]) for row in _metrics(local)}
    assert got == EXPECTED
    assert list(local["from_store"]) == [False] * 4
    assert local["error"].isna().all()
    _check_store(tmp_path / "local.sqlite", local)
    _check_store(tmp_path / "dask.sqlite", dask)


def test_dask_scheduler_address(tmp_path: Path, small_file: Path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        frame = batch([small_file], SWEEP[:1], executor="dask",
                      address=cluster.scheduler_address, time_limit_s=20,
                      store=tmp_path / "s.sqlite")
    assert {row[0]: (row[1], row[2]) for row in _metrics(frame)} == EXPECTED


def test_rerun_skips_everything_stored(tmp_path: Path, small_file: Path, monkeypatch):
    store = tmp_path / "s.sqlite"
    first = batch([small_file], SWEEP, jobs=1, time_limit_s=20, store=store)
    calls: list[str] = []
    monkeypatch.setattr(batch_mod, "solve_task", lambda p: calls.append(p["run_id"]))
    with ThreadPoolExecutor(1) as ex:
        again = batch([small_file], SWEEP, executor=ex, time_limit_s=20, store=store)
    assert calls == []
    assert list(again["from_store"]) == [True] * 4
    assert _metrics(again) == _metrics(first)
    # Other options (a different time limit) are another run.
    with ThreadPoolExecutor(1) as ex:
        other = batch([small_file], ["rules[no_cliff].max=10"], executor=ex,
                      time_limit_s=21, store=store)
    assert len(calls) == 1
    assert list(other["status"]) == ["error"]   # the stub returned nothing: not stored
    with RunStore(store) as st:
        assert st.count() == 4


def _tampered(mutate: Any) -> Any:
    def task(payload: dict[str, Any]) -> dict[str, Any]:
        out = batch_mod.__dict__["_real_task"](payload)
        data = json.loads(out["result_json"])
        out["result_json"] = mutate(data)
        return out
    return task


def test_corrupted_or_invalid_results_never_enter_the_store(tmp_path: Path, small_file: Path,
                                                            monkeypatch):
    monkeypatch.setitem(batch_mod.__dict__, "_real_task", batch_mod.solve_task)

    def shift_start(data: dict[str, Any]) -> str:
        if data["schedule"]:
            data["schedule"][0]["start"] += 1   # breaks end = start + duration
        return json.dumps(data)

    cases = {
        "garbage": lambda data: "{not json",
        "wrong metric": lambda data: json.dumps(
            {**data, "metrics": data["metrics"] and {**data["metrics"], "makespan": 0}}),
        "moved start": shift_start,
        "other scenario": lambda data: json.dumps(
            {**data, "scenario": {**data["scenario"], "sha256": "f" * 64}}),
    }
    store_path = tmp_path / "s.sqlite"
    for name, mutate in cases.items():
        monkeypatch.setattr(batch_mod, "solve_task", _tampered(mutate))
        with ThreadPoolExecutor(2) as ex:
            frame = batch([small_file], ["rules[no_cliff].max=6,10"], executor=ex,
                          time_limit_s=20, store=store_path)
        assert list(frame["status"]) == ["error", "error"], name
        assert frame["error"].str.contains("invalid result").all(), name
        with RunStore(store_path) as store:
            assert store.count() == 0, name
    # A task that raises is reported, not stored.
    monkeypatch.setattr(batch_mod, "solve_task", lambda p: {"run_id": p["run_id"],
                                                            "error": "RuntimeError: boom"})
    with ThreadPoolExecutor(1) as ex:
        frame = batch([small_file], ["rules[no_cliff].max=6"], executor=ex, store=store_path)
    assert list(frame["error"]) == ["RuntimeError: boom"]
    with RunStore(store_path) as store:
        assert store.count() == 0


def test_accept_rejects_a_result_for_a_bad_schedule(small_file: Path):
    spec = plan([small_file], ["rules[no_cliff].max=10"], time_limit_s=20)[0]
    out = batch_mod.solve_task(spec.payload())
    result, why = accept(spec, out)
    assert why is None and result is not None and result.status == "optimal"
    data = json.loads(out["result_json"])
    data["metrics"]["peak_exposure"] += 1
    result, why = accept(spec, {**out, "result_json": json.dumps(data)})
    assert result is None and why is not None and "peak_exposure" in why


def test_plan_folders_and_dataset_errors(tmp_path: Path, small_file: Path):
    (tmp_path / "two.json").write_text(json.dumps(
        {**loads_scenario(SMALL).canonical_dict(), "name": "second"}))
    (tmp_path / "notes.txt").write_text("ignored")
    specs = plan([tmp_path], ["rules[no_cliff].max=6,10"], time_limit_s=5)
    assert [Path(s.base).name for s in specs] == ["small.yaml"] * 2 + ["two.json"] * 2
    assert len({s.run_id for s in specs}) == 4
    assert specs[0].options == {"time_limit_s": 5.0, "workers": 1, "seed": 0}
    from models import ScenarioError

    with pytest.raises(ScenarioError, match="no_such_scenario"):
        plan(["no_such_scenario"], None)
    with pytest.raises(ScenarioError, match="no scenarios given"):
        plan([], None)


def test_roadmap_batch_cli_writes_tables_and_exit_codes(tmp_path: Path, small_file: Path):
    from optimizer.cli import app

    runner = CliRunner()
    out_dir = tmp_path / "out"
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"scenarios: [{small_file.name}]\nparameters:\n"
                     "  rules[no_cliff].max: [4, 6, 10]\n")
    res = runner.invoke(app, ["batch", "--sweep", str(sweep), "-j", "2", "-t", "20",
                              "--out", str(out_dir)])
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(out_dir / "summary.csv")
    pq = pd.read_parquet(out_dir / "summary.parquet")
    assert list(csv["makespan"]) == [10, 5, 4]
    assert list(pq["makespan"]) == [10, 5, 4]
    assert list(csv["rules[no_cliff].max"]) == [4, 6, 10]
    assert "3 of 3 runs done (0 from the store)" in res.output
    res = runner.invoke(app, ["batch", "--sweep", str(sweep), "-t", "20", "--out", str(out_dir)])
    assert res.exit_code == 0 and "(3 from the store)" in res.output
    res = runner.invoke(app, ["batch", str(small_file), "-p", "rules[nope].max=3"])
    assert res.exit_code == 2
    assert "rules[nope].max" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["batch", str(small_file), "--address", "tcp://x:1"])
    assert res.exit_code == 2
