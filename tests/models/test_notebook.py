"""A Result in Jupyter: an HTML table and Altair charts, without loading Altair on import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from models import load_scenario
from tests.conftest import solve_checked

TINY = Path(__file__).resolve().parents[1] / "ui" / "tiny_roadmap.yaml"


def test_importing_models_does_not_load_altair() -> None:
    code = "import models, models.result, models.notebook, sys; print('altair' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_repr_html_and_charts_of_the_tiny_roadmap() -> None:
    sc = load_scenario(str(TINY))
    result = solve_checked(sc)
    page = result._repr_html_()
    assert "optimal" in page and "<table" in page and "a2" in page
    gantt = result.gantt(sc).to_dict()
    bars = gantt["layer"][0]
    data = gantt["datasets"][(bars.get("data") or gantt["data"])["name"]]
    # Hand-checked optimum: a1 and b1 at [0, 2], a2 at [2, 5] verified at 7.
    assert sorted((d["step"], d["start"], d["end"], d["verified"]) for d in data) == [
        ("Alpha dismantles", 2, 5, 7), ("Alpha freezes", 0, 2, 2),
        ("Beta lifts sanctions", 0, 2, 2)]
    ledger = result.ledger_chart(sc).to_dict()
    rows = [r for d in ledger["datasets"].values() for r in d if "figure" in r]
    assert [(r["t"], r["value"]) for r in rows
            if r["party"] == "B" and r["figure"] == "exposure"] == [(0, 4), (2, 0), (7, -6)]
    # SPEC §5.4: all four figures, one panel per principal on one shared scale.
    assert {r["figure"] for r in rows} >= {"delivered", "received", "at risk", "exposure"}
    assert ledger["facet"]["row"]["field"] == "party"
    assert ledger["resolve"]["scale"] == {"x": "shared", "y": "shared"}
