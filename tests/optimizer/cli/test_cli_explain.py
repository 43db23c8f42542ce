"""`roadmap explain` (issue 3, SPEC §4): exit 0 with an explanation, 2 for invalid input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from optimizer.cli import app
from tests.optimizer.explain.test_explain_binding import CLIFF
from tests.optimizer.explain.test_explain_conflicts import CASES

runner = CliRunner()


def write(tmp_path: Path, data: dict[str, Any], name: str = "s.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def test_infeasible_prints_the_conflict_and_the_fixes(tmp_path: Path) -> None:
    data, _ = CASES["exposure_cap_vs_reciprocity"]
    res = runner.invoke(app, ["explain", write(tmp_path, data), "--time-limit", "10",
                                 "--full"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "infeasible" in res.stdout
    assert "Positions that collide" in res.stdout
    assert "A exposure must stay ≤ 2" in res.stdout
    assert "rules[0].max = 5" in res.stdout
    assert "rules[1].max_gap = 4" in res.stdout


def test_infeasible_json_carries_the_spec_conflict(tmp_path: Path) -> None:
    data, _ = CASES["exclusive_vs_requires"]
    res = runner.invoke(app, ["explain", write(tmp_path, data), "--format", "json",
                              "--full"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["status"] == "infeasible"
    assert out["conflict"]["rules"] == ["ex", "req"]
    assert out["conflict"]["demands"] == [{"concession": "a", "field": "required"}]
    assert {s["path"] for s in out["conflict"]["suggestions"]} == {
        "rules[0].enabled", "rules[1].enabled", "concessions[0].optional"}


def test_feasible_prints_the_binding_report(tmp_path: Path) -> None:
    res = runner.invoke(app, ["explain", write(tmp_path, CLIFF)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for heading in ("Slack", "What binds", "Critical chain (makespan 4)",
                    "Defection exposure"):
        assert heading in res.stdout
    assert "A exposure reaches its cap 4 at month 0" in res.stdout


def test_feasible_json(tmp_path: Path) -> None:
    res = runner.invoke(app, ["explain", write(tmp_path, CLIFF), "-f", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["status"] == "optimal"
    assert out["metrics"]["makespan"] == 4
    assert [c["concession"] for c in out["binding"]["critical_chain"]] == ["a", "b"]
    assert {p["party"]: p["worst_level"] for p in out["defection"]} == {"A": 4, "B": 2}


def test_invalid_input_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    data = {"format": "roadmap/v1", "horizon": 10, "parties": [{"id": "A"}],
            "concessions": [{"id": "a", "party": "Z", "duration": 1}]}
    res = runner.invoke(app, ["explain", write(tmp_path, data)])
    assert res.exit_code == 2
    assert "concessions[0].party" in res.stderr
    assert "Traceback" not in res.output and res.stdout == ""


def test_positive_cycle_exits_2_naming_the_rules(tmp_path: Path) -> None:
    data = {"format": "roadmap/v1", "horizon": 10, "parties": [{"id": "A"}],
            "concessions": [{"id": "a", "party": "A", "duration": 1},
                            {"id": "b", "party": "A", "duration": 1}],
            "rules": [{"id": "ab", "kind": "precedence", "before": "a", "after": "b",
                       "min_lag": 1},
                      {"id": "ba", "kind": "precedence", "before": "b", "after": "a",
                       "min_lag": 1}]}
    res = runner.invoke(app, ["explain", write(tmp_path, data)])
    assert res.exit_code == 2
    assert "cycle" in res.stderr and "ab" in res.stderr and "ba" in res.stderr
    assert "Traceback" not in res.output


def test_unknown_file_exits_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["explain", str(tmp_path / "missing.yaml")])
    assert res.exit_code == 2
    assert "no such file" in res.stderr
