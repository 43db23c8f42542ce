"""`roadmap solve` shows the principals' ledger (SPEC §5.1, §5.4); `--format json` carries it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from models import Result, load_scenario
from optimizer.check import check
from optimizer.cli import app

runner = CliRunner()

# freeze: DPRK gives the US 6, irreversible (risk 6), inspection: US credited 6 at 2 + 2.
# relief: the US gives 5 (risk 5), public, once the freeze is verified: 4-5, DPRK credited at 5.
# statement: the UN (not a principal) gives DPRK 1 at 0-1, never verified, costs 1 (risk 0).
# P1 is exactly 3 long: [0, 3), P2 [3, 5).
SCENARIO = """\
format: roadmap/v1
name: Ledger demo
calendar_start: 2018-06
horizon: 12
parties: [{id: US}, {id: DPRK}, {id: UN}]
principals: [US, DPRK]
phases: [{id: P1, name: Halt, min_length: 3, max_length: 3}, {id: P2, name: Roll back}]
concessions:
  - {id: freeze, party: DPRK, duration: 2, value: {US: 6}, reversibility: irreversible,
     verification: inspection}
  - {id: relief, party: US, duration: 1, value: {DPRK: 5}, reversibility: irreversible,
     verification: public}
  - {id: statement, party: UN, duration: 1, value: {DPRK: 1}, verification: none, start: 0}
rules:
  - {id: verify_first, kind: precedence, before: freeze, after: relief, from: verified}
"""
LEDGER = {
    "US": {"peak": 0, "points": [[0, 0, 0, 0, 0], [4, 0, 6, 5, -1], [5, 5, 6, 5, -1]]},
    "DPRK": {"peak": 6, "points": [[0, 0, 0, 6, 6], [2, 6, 0, 6, 6], [5, 6, 5, 6, 1]]},
    "UN": {"peak": 0, "points": [[0, 0, 0, 0, 0], [1, 1, 0, 0, 0]]},
}


def _path(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.yaml"
    path.write_text(SCENARIO)
    return path


def test_json_carries_the_ledger(tmp_path: Path) -> None:
    path = _path(tmp_path)
    res = runner.invoke(app, ["solve", str(path), "--format", "json", "--workers", "1"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["ledger"] == LEDGER
    assert check(load_scenario(path), Result.from_dict(data)) == []


def test_table_shows_each_principal_at_each_phase_end(tmp_path: Path) -> None:
    res = runner.invoke(app, ["solve", str(_path(tmp_path)), "--workers", "1"])
    assert res.exit_code == 0, res.output
    ledger = res.stdout.split("Ledger by principal", 1)[1]
    rows = [" ".join(line.replace("│", " ").split()) for line in ledger.splitlines()]
    assert "US peak 0" in rows
    assert "DPRK peak 6 at 0 (2018-06)" in rows
    # (label, time, delivered, received, at risk, exposure): phase ends at t = end - 1.
    for row in ("end of Halt 2 (2018-08) 0 0 0 0", "end of Roll back 4 (2018-10) 0 6 5 -1",
                "after the last change 5 (2018-11) 5 6 5 -1",
                "end of Halt 2 (2018-08) 6 0 6 6", "end of Roll back 4 (2018-10) 6 0 6 6",
                "after the last change 5 (2018-11) 6 5 6 1"):
        assert row in rows, (row, rows)
    assert not any(r.startswith("UN") for r in rows)   # not a principal
