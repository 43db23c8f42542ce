"""Ctrl-C / SIGTERM during `roadmap solve`: best schedule kept, exit 130, no torn files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from models import Result, load_scenario
from optimizer.check import check

ROOT = Path(__file__).resolve().parents[3]


def hard_scenario(path: Path) -> Path:
    """Many jobs on a tight resource with a weighted objective: first solution fast,
    optimality proof slow (well beyond the test's patience)."""
    lines = ["format: roadmap/v1", "horizon: 3000", "parties: [{id: A}, {id: B}]",
             "resources: [{id: r, capacity: 3}, {id: q, capacity: 2}]", "concessions:"]
    for i in range(120):
        uses = f"{{r: {1 + i % 3}}}" if i % 2 else f"{{q: {1 + i % 2}}}"
        lines.append(f"  - {{id: c{i}, party: {'AB'[i % 2]}, duration: {1 + (i * 7) % 11}, "
                     f"uses: {uses}, priority: {1 + (i * 5) % 9}}}")
    lines.append("rules:")
    for i in range(0, 110, 3):
        lines.append(f"  - {{id: p{i}, kind: precedence, before: c{i}, after: c{i + 7}}}")
    lines.append("objective: {terms: [{metric: weighted_completion}]}")
    path.write_text("\n".join(lines))
    return path


def interrupted(command: str, scenario: Path, out: Path,
                sig: signal.Signals) -> tuple[int, str, str]:
    """Run ``roadmap COMMAND SCENARIO --out OUT`` (JSON, progress lines), send ``sig``
    at its first reported solution; (exit code, stdout, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "optimizer.cli", command, str(scenario), "--time-limit", "120",
         "--workers", "1", "--out", str(out), "--format", "json", "--progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=out.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stderr is not None
        # Synchronise on the first reported solution, then interrupt.
        for line in proc.stderr:
            if line.startswith("progress:"):
                break
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, stdout, stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_keeps_best_schedule(tmp_path: Path, sig: signal.Signals) -> None:
    scenario = hard_scenario(tmp_path / "hard.yaml")
    out = tmp_path / "best.json"
    code, stdout, stderr = interrupted("solve", scenario, out, sig)
    assert code == 130, stderr
    saved = json.loads(out.read_text())
    assert saved["status"] == "feasible"
    assert json.loads(stdout)["status"] == "feasible"
    result = Result.from_dict(saved)
    assert check(load_scenario(scenario), result) == []
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
