"""The `roadmap` command line: formats, output files and exit codes (SPEC §4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from models import Result, load_scenario
from optimizer.check import check
from optimizer.cli import app

runner = CliRunner()

SMALL = """\
format: roadmap/v1
name: Two-step exchange
time_unit: month
calendar_start: 2018-06
horizon: 12
parties: [{id: US}, {id: DPRK}]
phases: [{id: P1, name: Halt}, {id: P2, name: Roll back}]
concessions:
  - {id: freeze, party: DPRK, title: Freeze Yongbyon, duration: 2, value: 6,
     reversibility: irreversible, verification: inspection}
  - {id: relief, party: US, title: Sanctions relief, duration: 1, value: 5,
     reversibility: irreversible, verification: public}
rules:
  - {id: verify_first, kind: precedence, before: freeze, after: relief, from: verified}
objective:
  terms: [{metric: makespan}]
"""

INFEASIBLE = SMALL.replace("horizon: 12", "horizon: 4")


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_solve_table_groups_by_phase_with_calendar(tmp_path: Path) -> None:
    res = runner.invoke(app, ["solve", str(write(tmp_path, SMALL)), "--workers", "1"])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "Halt" in out and "Freeze Yongbyon" in out and "Sanctions relief" in out
    assert "2018-06" in out  # calendar labels next to month numbers
    assert "status: optimal" in out
    assert "makespan 5 months" in out


def test_solve_json_is_the_spec_result(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL)
    res = runner.invoke(app, ["solve", str(path), "--format", "json", "--workers", "1"])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["format"] == "roadmap-result/v1"
    assert data["status"] == "optimal"
    assert data["metrics"]["makespan"] == 5  # freeze 0-2, verified 4, relief 4-5
    starts = {s["id"]: s["start"] for s in data["schedule"]}
    assert starts == {"freeze": 0, "relief": 4}
    assert data["conflict"] is None
    assert check(load_scenario(path), Result.from_dict(data)) == []


def test_solve_csv(tmp_path: Path) -> None:
    res = runner.invoke(app, ["solve", str(write(tmp_path, SMALL)), "-f", "csv", "-w", "1"])
    assert res.exit_code == 0
    lines = res.stdout.strip().splitlines()
    assert lines[0] == "id,party,present,start,end,phase,verified"
    assert "freeze,DPRK,True,0,2,P1,4" in lines


def test_out_file_written_for_solved_and_infeasible(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["solve", str(write(tmp_path, SMALL)), "--out", str(out), "-w", "1"])
    assert res.exit_code == 0
    assert json.loads(out.read_text())["status"] == "optimal"
    res = runner.invoke(app, ["solve", str(write(tmp_path, INFEASIBLE, "bad.yaml")),
                              "--out", str(out), "-w", "1"])
    assert res.exit_code == 1
    data = json.loads(out.read_text())
    assert data["status"] == "infeasible"
    assert data["metrics"] is None and data["schedule"] == [] and data["exposure"] == {}
    assert data["conflict"] is not None
    assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")] == []


def test_out_csv(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    res = runner.invoke(app, ["solve", str(write(tmp_path, SMALL)), "--out", str(out), "-w", "1"])
    assert res.exit_code == 0
    assert out.read_text().startswith("id,party,present,start,end,phase,verified")


def test_validate_ok_and_schema(tmp_path: Path) -> None:
    res = runner.invoke(app, ["validate", str(write(tmp_path, SMALL))])
    assert res.exit_code == 0 and "ok:" in res.stdout
    res = runner.invoke(app, ["schema"])
    assert res.exit_code == 0
    schema = json.loads(res.stdout)
    assert "concessions" in schema["properties"]
    assert "precedence" in json.dumps(schema)


def test_datasets_lists_the_seed() -> None:
    res = runner.invoke(app, ["datasets"])
    assert res.exit_code == 0
    assert "us_dprk_2018" in res.stdout


def test_builtin_dataset_by_name_from_any_directory(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "optimizer.cli", "validate", "us_dprk_2018"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok:" in proc.stdout


def test_dataset_names_cannot_escape_the_folder(tmp_path: Path) -> None:
    res = runner.invoke(app, ["validate", "../pyproject"])
    assert res.exit_code == 2
    assert "not a built-in dataset" in res.stderr


def test_unknown_status_exit_3_when_no_time(tmp_path: Path) -> None:
    # 40 concessions on one unit-capacity resource: no solution within 10 ms.
    lines = ["format: roadmap/v1", "horizon: 2000", "parties: [{id: A}, {id: B}]",
             "resources: [{id: r, capacity: 1}]", "concessions:"]
    for i in range(400):
        lines.append(f"  - {{id: c{i}, party: {'AB'[i % 2]}, duration: {1 + i % 5}, "
                     f"uses: {{r: 1}}, value: {i % 7}}}")
    lines.append("objective: {terms: [{metric: weighted_completion}, {metric: makespan}]}")
    path = write(tmp_path, "\n".join(lines))
    out = tmp_path / "u.json"
    res = runner.invoke(app, ["solve", str(path), "--time-limit", "0.01", "-w", "1",
                              "--out", str(out)])
    data = json.loads(out.read_text())
    if data["status"] == "unknown":
        assert res.exit_code == 3
        assert data["metrics"] is None and data["schedule"] == []
    else:  # a very fast machine may find one: then it is a valid schedule
        assert res.exit_code == 0
        assert check(load_scenario(path), Result.from_dict(data)) == []


def test_result_conflict_has_exactly_the_spec_keys(tmp_path: Path) -> None:
    res = runner.invoke(app, ["solve", str(write(tmp_path, INFEASIBLE)), "-f", "json", "-w", "1"])
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert set(data) == {"format", "scenario", "status", "metrics", "objective", "solver",
                         "phases", "schedule", "exposure", "conflict", "ledger"}
    assert data["ledger"] == {}   # SPEC §5.4: {} for infeasible
    assert set(data["conflict"]) == {"rules", "demands", "concessions", "message"}
    assert data["conflict"]["rules"] == ["verify_first"]
    assert "horizon" in data["conflict"]["message"]
