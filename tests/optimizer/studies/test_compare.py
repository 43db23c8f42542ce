"""compare(): exact metric deltas and concession differences on hand-built results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from models import Result
from optimizer.studies.compare import compare

SHA = "0" * 64


def result(metrics: dict[str, int] | None, schedule: list[tuple], status: str = "optimal"
           ) -> Result:
    entries = []
    for cid, party, start, end, phase in schedule:
        present = start is not None
        entries.append({"id": cid, "party": party, "present": present, "start": start,
                        "end": end, "phase": phase, "verified": end})
    data: dict[str, Any] = {
        "format": "roadmap-result/v1",
        "scenario": {"name": "t", "sha256": SHA},
        "status": status,
        "metrics": metrics,
        "objective": [],
        "solver": {"name": "ortools-cp-sat", "version": "9.15", "wall_time_s": 0.1,
                   "workers": 1, "seed": 0, "time_limit_s": 10},
        "phases": [{"id": "P1", "start": 0, "end": 5}, {"id": "P2", "start": 5, "end": 20}],
        "schedule": entries if metrics is not None else [],
        "exposure": {},
        "conflict": None,
    }
    return Result.from_dict(data)


def m(makespan: int, wc: int, peak: int, excl: int, imb: int) -> dict[str, int]:
    return {"makespan": makespan, "weighted_completion": wc, "peak_exposure": peak,
            "excluded_value": excl, "phase_imbalance": imb}


REF = result(m(10, 30, 4, 0, 2), [
    ("a", "A", 0, 2, "P1"), ("b", "B", 1, 3, "P1"), ("c", "A", 5, 10, "P2"),
    ("d", "B", 4, 6, "P1"), ("e", "A", None, None, None),
])
OTHER = result(m(14, 41, 3, 5, 0), [
    ("a", "A", 0, 2, "P1"),          # unchanged
    ("b", "B", 2, 4, "P1"),          # start +1
    ("c", "A", 9, 14, "P2"),         # start +4
    ("d", "B", 6, 8, "P2"),          # start +2 and a phase change
    ("e", "A", 0, 1, "P1"),          # absent -> present
])


def test_metric_deltas_against_the_first_are_exact():
    cmp = compare({"ref": REF, "other": OTHER})
    assert cmp.reference == "ref"
    assert cmp.deltas["ref"] == m(0, 0, 0, 0, 0)
    assert cmp.deltas["other"] == m(4, 11, -1, 5, -2)
    assert cmp.metrics["other"]["weighted_completion"] == 41


def test_concessions_that_differ_are_ordered_by_size_of_change():
    cmp = compare({"ref": REF, "other": OTHER})
    assert [d.id for d in cmp.concessions] == ["e", "c", "d", "b"]
    assert cmp.unchanged == 1
    by_id = {d.id: d for d in cmp.concessions}
    e, c, d, b = by_id["e"].changes[0], by_id["c"].changes[0], by_id["d"].changes[0], \
        by_id["b"].changes[0]
    assert e.present == (False, True) and e.start_shift is None
    assert (c.start_shift, c.end_shift, c.phase) == (4, 4, None)
    assert (d.start_shift, d.end_shift, d.phase) == (2, 2, ("P1", "P2"))
    assert (b.start_shift, b.end_shift) == (1, 1)
    assert by_id["d"].kinds == ["start shift", "phase change"]
    assert by_id["e"].kinds == ["present/absent"]


def test_three_results_each_compared_with_the_first_and_json_view():
    third = result(m(10, 30, 4, 0, 2), [
        ("a", "A", 0, 3, "P1"), ("b", "B", 1, 3, "P1"), ("c", "A", 5, 10, "P2"),
        ("d", "B", 4, 6, "P1"), ("e", "A", None, None, None),
    ])
    cmp = compare({"ref": REF, "other": OTHER, "third": third})
    assert cmp.deltas["third"] == m(0, 0, 0, 0, 0)
    by_id = {d.id: d for d in cmp.concessions}
    # 'a' only changes in the third run: its end moves by one (a longer duration).
    assert [(ch.run, ch.start_shift, ch.end_shift) for ch in by_id["a"].changes] == \
        [("third", None, 1)]
    assert by_id["a"].kinds == ["end shift"]
    data = json.loads(json.dumps(cmp.to_dict()))
    assert data["reference"] == "ref"
    assert [r["name"] for r in data["runs"]] == ["ref", "other", "third"]
    assert data["runs"][1]["deltas"]["makespan"] == 4
    assert data["concessions"][0]["id"] == "e"
    assert data["concessions"][0]["changes"] == [
        {"run": "other", "present": [False, True], "start_shift": None, "end_shift": None,
         "phase": None}]


def test_an_unsolved_result_has_no_metrics_and_no_deltas():
    infeasible = result(None, [], status="infeasible")
    cmp = compare({"ref": REF, "inf": infeasible})
    assert cmp.deltas["inf"] == {k: None for k in m(0, 0, 0, 0, 0)}
    assert cmp.concessions == []
    assert cmp.statuses == ["optimal", "infeasible"]


def test_roadmap_compare_files_table_and_json(tmp_path: Path):
    from optimizer.cli import app

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(REF.to_json())
    b.write_text(OTHER.to_json())
    runner = CliRunner()
    res = runner.invoke(app, ["compare", str(a), str(b), "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["runs"][1]["deltas"] == m(4, 11, -1, 5, -2)
    res = runner.invoke(app, ["compare", str(a), str(b)])
    assert res.exit_code == 0
    assert "14 (+4)" in res.stdout
    assert "present/absent" in res.stdout


def test_roadmap_compare_bad_input_exits_2_with_one_line(tmp_path: Path):
    from optimizer.cli import app

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "nope"}')
    good = tmp_path / "good.json"
    good.write_text(REF.to_json())
    runner = CliRunner()
    res = runner.invoke(app, ["compare", str(good), str(bad)])
    assert res.exit_code == 2
    assert "not a roadmap result file" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["compare", str(good), "no_such_run",
                              "--store", str(tmp_path / "s.sqlite")])
    assert res.exit_code == 2
    assert "no_such_run" in res.output
    res = runner.invoke(app, ["compare", str(good)])
    assert res.exit_code == 2
