"""`roadmap explain` corrections (SPEC §5.6, issue 14): words, JSON, grouping, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from optimizer.cli import app
from tests.optimizer.explain.test_corrections import BALANCE, CAP

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, data: dict[str, Any], name: str = "s.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def seed_with_dprk_cap(tmp_path: Path, cap: int) -> Path:
    # The seed as issue 14 measured it (before the v1.1 dataset rework): tests/data/v1.
    v1_seed = Path(__file__).resolve().parents[2] / "data" / "v1" / "us_dprk_2018.yaml"
    data = yaml.safe_load(v1_seed.read_text(encoding="utf-8"))
    rule = next(r for r in data["rules"] if r["id"] == "dprk_exposure_cap")
    rule["max"] = cap
    path = tmp_path / f"seed_cap{cap}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_json_has_top_level_corrections_cheapest_first(tmp_path: Path) -> None:
    res = runner.invoke(app, ["explain", write(tmp_path, CAP), "-f", "json", "--workers", "1"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [c["cost"] for c in out["corrections"]] == [12, 15]
    first = out["corrections"][0]
    assert first["proven"] is True
    assert first["changes"] == [{"path": "rules[cap].max", "from": 3, "to": 5, "party": "A"}]
    assert first["metrics"]["peak_exposure"] == 5
    assert set(first) == {"cost", "proven", "changes", "metrics"}
    assert out["conflict"]["rules"] == ["cap"]


def test_corrections_option_and_balanced(tmp_path: Path) -> None:
    res = runner.invoke(app, ["explain", write(tmp_path, BALANCE), "-f", "json",
                              "--corrections", "1", "--workers", "1"])
    assert [c["cost"] for c in json.loads(res.stdout)["corrections"]] == [16]
    res = runner.invoke(app, ["explain", write(tmp_path, BALANCE), "-f", "json",
                              "--corrections", "1", "--balanced", "--workers", "1"])
    assert res.exit_code == 0, res.output
    (only,) = json.loads(res.stdout)["corrections"]
    assert only["cost"] == 24
    assert {ch["party"] for ch in only["changes"]} == {"A", "B"}


def test_table_leads_with_the_cheapest_correction_in_words(tmp_path: Path) -> None:
    data = {**CAP, "rules": [{**CAP["rules"][0], "text": "A is never exposed by more than 8."}]}
    res = runner.invoke(app, ["explain", write(tmp_path, data), "--workers", "1"],
                        env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
    assert lines[1].startswith("Cheapest correction: Raise the A's exposure cap from 3 to 5 "
                               "(cost 12; asked of A). With it: makespan 1, peak exposure 5")
    assert lines[2].startswith("  2. Make 'a' (A) optional (cost 15).")
    # Grouped conflict, with the rule's current number (not the 8 of its text).
    assert "Minimal conflict (2 positions that cannot all hold): 1 required A step; " \
           "the A exposure cap 3." in res.stdout
    assert "Positions that collide" not in res.stdout
    full = runner.invoke(app, ["explain", write(tmp_path, data), "--workers", "1", "--full"],
                         env={"COLUMNS": "250"})
    assert "A is never exposed by more than 8. (A exposure must stay ≤ 3)" in full.stdout
    assert "Positions that collide" in full.stdout


def test_no_correction_when_nothing_may_change(tmp_path: Path) -> None:
    data = {**CAP, "concessions": [{**CAP["concessions"][0], "relax": False}],
            "rules": [{**CAP["rules"][0], "relax": False}]}
    res = runner.invoke(app, ["explain", write(tmp_path, data), "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "No correction was found" in res.stdout


def test_sigint_returns_the_corrections_found_so_far(tmp_path: Path) -> None:
    """Interrupted during the conflict search (after the corrections): exit 130 with
    the corrections in the JSON and the stop said on stderr."""
    scenario = seed_with_dprk_cap(tmp_path, 3)
    proc = subprocess.Popen(
        [sys.executable, "-m", "optimizer.cli", "explain", str(scenario), "-f", "json",
         "--workers", "2", "--time-limit", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "finding the minimal conflict" in line:
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Stopped" in stderr
    out = json.loads(stdout)
    assert out["stopped"] is True
    fixes = {(ch["path"], ch["from"], ch["to"], ch["party"])
             for c in out["corrections"] for ch in c["changes"]}
    assert ("rules[dprk_exposure_cap].max", 3, 8, "DPRK") in fixes


def test_sigterm_during_the_first_search_exits_130(tmp_path: Path) -> None:
    scenario = seed_with_dprk_cap(tmp_path, 3)
    proc = subprocess.Popen(
        [sys.executable, "-m", "optimizer.cli", "explain", str(scenario), "--workers", "1",
         "--time-limit", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "finding the cheapest correction" in line:
                break
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Stopped" in stderr
    assert "status: infeasible" in stdout
    assert "Cheapest correction" in stdout or "No correction was found before the stop" \
        in stdout
