"""Ctrl-C / SIGTERM during `roadmap replan`: best re-plan kept and written, exit 130."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from models import Result, load_scenario
from optimizer.check import check
from tests.optimizer.cli.test_interrupts import hard_scenario, interrupted


def with_progress(path: Path) -> Path:
    """The hard scenario with a record: c0 and c1 done, c2 under way at 3."""
    text = path.read_text()
    text += ("\nprogress:\n  as_of: 3\n  steps:\n"
             "    - {id: c0, start: 0, end: 1}\n"
             "    - {id: c1, start: 0, end: 2}\n"
             "    - {id: c2, start: 1}\n")
    path.write_text(text)
    return path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_keeps_best_replan(tmp_path: Path, sig: signal.Signals) -> None:
    scenario = with_progress(hard_scenario(tmp_path / "hard.yaml"))
    out = tmp_path / "best.json"
    code, stdout, stderr = interrupted("replan", scenario, out, sig)
    assert code == 130, stderr
    assert "interrupted: kept the best re-plan" in stderr
    assert "Traceback" not in stderr
    saved = json.loads(out.read_text())
    assert saved["status"] == "feasible"
    assert json.loads(stdout)["status"] == "feasible"
    assert saved["broken"] == json.loads(stdout)["broken"]
    result = Result.from_dict(saved)
    sc = load_scenario(scenario)
    assert check(sc, result) == []
    starts = {e.id: (e.start, e.end) for e in result.schedule}
    assert starts["c0"] == (0, 1) and starts["c1"] == (0, 2) and starts["c2"][0] == 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
