"""The Pareto front by epsilon-constraint equals the front found by brute force over the cap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models import SolveOptions, loads_scenario
from optimizer.check import assert_valid
from optimizer.studies.pareto import capped, pareto, with_objective
from optimizer.studies.store import RunStore

SMALL = """
format: roadmap/v1
name: small pareto
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
"""
OPTS = SolveOptions(workers=1, seed=0, time_limit_s=20)


def brute_force(x: str, y: str, caps: range) -> list[tuple[int, int]]:
    """Solve min (y, x) under every cap on x; keep the non-dominated (x, y) pairs."""
    from optimizer import solve

    base = with_objective(loads_scenario(SMALL), y, x)
    found = set()
    for cap in caps:
        sc = capped(base, x, cap)
        if sc is None:
            continue
        result = solve(sc, OPTS, explain_infeasible=False)
        assert_valid(sc, result)
        if result.solved:
            assert result.status == "optimal"
            mx = result.metrics.model_dump()  # type: ignore[union-attr]
            assert mx[x] <= cap
            found.add((mx[x], mx[y]))
    return sorted(p for p in found
                  if not any(q != p and q[0] <= p[0] and q[1] <= p[1] for q in found))


@pytest.mark.parametrize("x, y, expected", [
    ("makespan", "peak_exposure", [(4, 10), (5, 6), (10, 4)]),
    ("peak_exposure", "makespan", [(4, 10), (6, 5), (10, 4)]),
])
def test_front_equals_brute_force_over_the_cap(x, y, expected):
    front = pareto(loads_scenario(SMALL), x, y, options=OPTS)
    assert front.exact
    assert front.pairs() == expected
    # One solve per point plus the one that finds nothing below the last point.
    assert front.solves == len(expected) + 1
    assert brute_force(x, y, range(0, 13)) == expected
    for p in front.points:
        assert_valid(p.scenario, p.result)


def test_each_point_is_saved_in_the_store_and_reused(tmp_path: Path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        front = pareto(loads_scenario(SMALL), "makespan", "peak_exposure", options=OPTS,
                       store=store)
        runs = {r["run_id"]: r for r in store.list_runs(source="pareto")}
        # The last solve (makespan <= 3) has no schedule; it is stored too, so a rerun
        # does not repeat it.
        assert sorted(r["status"] for r in runs.values()) == ["infeasible"] + ["optimal"] * 3
        assert sorted((r["makespan"], r["peak_exposure"]) for r in runs.values()
                      if r["status"] == "optimal") == front.pairs()
        for p in front.points:
            stored = store.get_run(p.run_id or "")
            assert stored.result.to_dict() == p.result.to_dict()
            assert_valid(stored.scenario, stored.result)
            assert stored.params == {"x": "makespan", "cap": p.cap}
        again = pareto(loads_scenario(SMALL), "makespan", "peak_exposure", options=OPTS,
                       store=store)
        assert again.pairs() == front.pairs()
        assert store.count() == len(front.points) + 1


def test_makespan_cap_keeps_out_an_optional_concession_that_cannot_fit():
    sc = loads_scenario("""
format: roadmap/v1
horizon: 20
parties: [{id: A}, {id: B}]
concessions:
  - {id: a, party: A, duration: 2, value: 3}
  - {id: late, party: B, duration: 2, value: 5, optional: true, earliest_start: 6}
objective: {terms: [{metric: excluded_value}]}
""")
    assert capped(sc, "makespan", 1) is None            # 'a' cannot end by 1
    sc4 = capped(sc, "makespan", 4)
    assert sc4 is not None
    from optimizer import solve

    result = solve(sc4, OPTS)
    assert_valid(sc4, result)
    assert {s.id: s.present for s in result.schedule} == {"a": True, "late": False}
    assert result.metrics is not None and result.metrics.excluded_value == 5
    front = pareto(sc, "makespan", "excluded_value", options=OPTS)
    assert front.pairs() == [(2, 5), (8, 0)]


def test_chart_png_and_html(tmp_path: Path):
    front = pareto(loads_scenario(SMALL), "makespan", "peak_exposure", options=OPTS)
    png = front.save_chart(tmp_path / "front.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = front.save_chart(tmp_path / "front.html").read_text()
    assert "vega" in html and "peak_exposure" in html


def test_roadmap_pareto_cli(tmp_path: Path):
    from optimizer.cli import app

    f = tmp_path / "small.yaml"
    f.write_text(SMALL)
    runner = CliRunner()
    res = runner.invoke(app, ["pareto", str(f), "--x", "makespan", "--y", "peak_exposure",
                              "--store", str(tmp_path / "s.sqlite"), "--format", "json",
                              "--out", str(tmp_path / "c.html")])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [(p["x"], p["y"]) for p in data["points"]] == [(4, 10), (5, 6), (10, 4)]
    assert (tmp_path / "c.html").exists()
    res = runner.invoke(app, ["pareto", str(f), "--x", "excluded_value"])
    assert res.exit_code == 2 and "--x must be one of" in res.output
    res = runner.invoke(app, ["pareto", str(f), "--x", "makespan", "--y", "makespan"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["pareto", str(f), "--out", str(tmp_path / "c.gif")])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_parties_narrow_peak_exposure_to_the_named_sides() -> None:
    """An observer C that gives up 40 at time 0 flattens the all-party front at 40;
    narrowed to A and B, each point's y is the peak of A's and B's curves alone."""
    text = SMALL.replace("parties: [{id: A}, {id: B}]", "parties: [{id: A}, {id: B}, {id: C}]")
    # C gives up 40 at time 0, before anything of A or B can be verified.
    text = text.replace("rules:", "  - {id: c1, party: C, duration: 1, value: {A: 0}, cost: 40,"
                        " reversibility: irreversible, verification: public, start: 0}\nrules:")
    sc = loads_scenario(text)
    narrowed = pareto(sc, "makespan", "peak_exposure", options=OPTS, parties=["A", "B"])
    for point in narrowed.points:
        assert_valid(point.scenario, point.result)
        curves = point.result.exposure
        assert point.y == max(level for p in ("A", "B") for _, level in curves[p])
    everyone = pareto(sc, "makespan", "peak_exposure", options=OPTS)
    assert {p.y for p in everyone.points} == {40}
    assert max(p.y for p in narrowed.points) < 40
