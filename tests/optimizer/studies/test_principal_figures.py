"""Studies show the principals' own figures (SPEC §5.1): compare first, batch summary columns."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from models import loads_scenario
from optimizer.cli import app
from optimizer.studies.batch import batch
from optimizer.studies.compare import compare
from tests.conftest import solve_checked

# a: A gives B 4 (risk 4), public. b: B gives A 3 (risk 2), public. c: the observer C
# gives A 6 (risk 6), never verified. The cap (no parties) covers the principals A, B:
# with max 2, b goes first and a follows at 1 (A at 4 - 3 = 1, B at 2); with max 4
# everything starts at 0 (A 4, B 2). C's 6 is in the ledger, not in the caps.
SCENARIO = """
format: roadmap/v1
name: principals study
horizon: 10
parties: [{id: A}, {id: B}, {id: C}]
principals: [A, B]
concessions:
  - {id: a, party: A, duration: 1, value: {B: 4}, cost: 4, reversibility: irreversible,
     verification: public}
  - {id: b, party: B, duration: 1, value: {A: 3}, cost: 2, reversibility: irreversible,
     verification: public}
  - {id: c, party: C, duration: 1, value: {A: 6}, cost: 6, reversibility: irreversible,
     verification: none}
rules:
  - {id: cap, kind: exposure, max: 2}
"""


def test_compare_puts_the_principals_peaks_first(tmp_path: Path) -> None:
    tight = loads_scenario(SCENARIO, "yaml", "<t>")
    loose = loads_scenario(SCENARIO.replace("max: 2", "max: 4"), "yaml", "<t>")
    r_tight, r_loose = solve_checked(tight), solve_checked(loose)
    cmp = compare({"tight": r_tight, "loose": r_loose}, {"tight": tight, "loose": loose})
    assert cmp.principals == ["A", "B"]
    assert cmp.principal_peaks == {"tight": {"A": 1, "B": 2}, "loose": {"A": 4, "B": 2}}
    assert cmp.metrics["tight"]["peak_exposure"] == 2 and cmp.metrics["loose"][
        "peak_exposure"] == 4
    assert cmp.to_dict()["runs"][1]["principal_peaks"] == {"A": 4, "B": 2}
    # The command line, from result files (no scenario: every party in the ledgers).
    files = []
    for name, r in (("tight", r_tight), ("loose", r_loose)):
        f = tmp_path / f"{name}.json"
        f.write_text(r.to_json())
        files.append(str(f))
    res = CliRunner().invoke(app, ["compare", *files])
    assert res.exit_code == 0, res.output
    rows = [" ".join(line.replace("│", " ").split()) for line in res.stdout.splitlines()]
    order = [r.split(" ")[2] if r.startswith("peak exposure ") else r.split(" ")[0]
             for r in rows if r.startswith(("peak exposure ", "makespan"))]
    assert order == ["A", "B", "C", "makespan"]
    assert "peak exposure A 1 4 (+3)" in rows and "peak exposure C 6 6" in rows


def test_batch_summary_has_a_peak_column_per_principal(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(SCENARIO)
    frame = batch([f], ["rules[cap].max=2,4"], jobs=1, time_limit_s=20,
                  store=tmp_path / "s.sqlite")
    assert "peak_exposure[C]" not in frame.columns
    got = frame[["rules[cap].max", "makespan", "peak_exposure", "peak_exposure[A]",
                 "peak_exposure[B]"]].to_numpy().tolist()
    assert got == [[2, 2, 2, 1, 2], [4, 1, 4, 4, 2]]
