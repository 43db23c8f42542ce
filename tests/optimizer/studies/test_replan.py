"""Re-planning (SPEC §5.5 ``roadmap replan``): --plan, --as-of, --next, and
metamorphic properties on random scenarios. Every result passes the checker."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from models import Result, ScenarioError, SolveOptions, parse_scenario
from optimizer import solve
from optimizer.check import check
from optimizer.cli import app
from optimizer.studies.replan import next_package, replan, with_as_of
from tests.conftest import scenario_from
from tests.properties.strategies import scenarios

runner = CliRunner()
ONE = SolveOptions(workers=1, time_limit_s=20)

CHAIN = {
    "format": "roadmap/v1", "name": "chain", "horizon": 30,
    "parties": [{"id": "A"}, {"id": "B"}],
    "concessions": [
        {"id": "a1", "party": "A", "duration": 2, "value": 6, "verification": "public"},
        {"id": "b1", "party": "B", "duration": 3, "value": 6, "verification": "public"},
        {"id": "a2", "party": "A", "duration": 2, "value": 6, "verification": "public"},
        {"id": "b2", "party": "B", "duration": 1, "value": 6, "verification": "public"},
    ],
    "rules": [
        {"id": "a1_b1", "kind": "precedence", "before": "a1", "after": "b1"},
        {"id": "b1_a2", "kind": "precedence", "before": "b1", "after": "a2"},
        {"id": "a2_b2", "kind": "precedence", "before": "a2", "after": "b2"},
        {"id": "cap", "kind": "exposure", "max": 4},
    ],
}


def checked(sc: Any, result: Result) -> Result:
    assert check(sc, result) == [], check(sc, result)
    return result


def test_plan_followed_exactly_replans_with_deviation_zero() -> None:
    sc = scenario_from(CHAIN)
    plan = checked(sc, solve(sc, ONE))
    assert plan.metrics is not None and plan.metrics.makespan == 8
    effective, again = replan(sc, plan, ONE, as_of=4)
    checked(effective, again)
    assert [e.metric for e in again.objective] == ["makespan", "deviation"]
    assert again.objective[-1].value == 0 and again.metrics == plan.metrics
    # a1 (0-2) is done, b1 (2-5) under way at 4.
    steps = {s.id: (s.start, s.end) for s in effective.progress.steps}  # type: ignore[union-attr]
    assert steps == {"a1": (0, 2), "b1": (2, None)}


def test_as_of_with_plan_and_a_recorded_delay() -> None:
    sc = scenario_from(CHAIN)
    plan = solve(sc, ONE)
    late = copy.deepcopy(CHAIN)
    late["progress"] = {"as_of": 3, "steps": [{"id": "a1", "start": 1, "end": 3}]}
    sc_late = scenario_from(late)
    effective, again = replan(sc_late, plan, ONE, as_of=6)
    checked(effective, again)
    # b1 went as planned (2-5) although a1 ended late at 3: a1_b1 is broken by the
    # record. a2 (planned 5-7) is under way at 6; b2 follows as planned at 7.
    assert [b.get("rule") for b in again.broken or []] == ["a1_b1"]
    steps = {s.id: (s.start, s.end) for s in effective.progress.steps}  # type: ignore[union-attr]
    assert steps == {"a1": (1, 3), "b1": (2, 5), "a2": (5, None)}
    assert again.metrics is not None and again.metrics.makespan == 8
    assert again.objective[-1].metric == "deviation" and again.objective[-1].value == 0
    assert {s.id: s.start for s in again.schedule} == {"a1": 1, "b1": 2, "a2": 5, "b2": 7}
    _, later = replan(sc_late, plan, ONE, as_of=5)
    # At 5 b1 is done, a2 not started: it starts at once, as planned.
    assert later.objective[-1].value == 0


def test_as_of_earlier_than_progress_is_an_error() -> None:
    data = copy.deepcopy(CHAIN)
    data["progress"] = {"as_of": 5, "steps": []}
    with pytest.raises(ScenarioError, match=r"earlier than progress\.as_of 5"):
        with_as_of(scenario_from(data), None, 4)


def test_plan_deviation_stage_keeps_unstarted_steps_near_the_plan() -> None:
    data = copy.deepcopy(CHAIN)
    data["rules"] = [r for r in data["rules"] if r["kind"] != "exposure"]
    data["concessions"].append({"id": "free", "party": "A", "duration": 1})
    sc = scenario_from(data)
    plan = solve(sc, ONE)
    moved = plan.model_copy(deep=True)
    for s in moved.schedule:
        if s.id == "free":
            s.start, s.end = 5, 6     # a planner's choice, as good for the makespan
    effective, again = replan(sc, moved, ONE, as_of=0)
    checked(effective, again)
    assert next(s.start for s in again.schedule if s.id == "free") == 5
    assert again.objective[-1].value == 0


def test_next_package_ledger_and_self_enforcement() -> None:
    sc = scenario_from(CHAIN)
    effective, result = replan(sc, None, ONE, as_of=0)
    pkg = next_package(effective, result, 3)
    assert {p: [r["id"] for r in rows] for p, rows in pkg.steps.items()} == {
        "A": ["a1"], "B": ["b1"]}
    ledger = {p.party: (p.delivered, p.received, p.at_risk, p.exposure) for p in pkg.ledger}
    # At 3: a1 (value 6, risk 3) done and verified; b1 (risk 3) started at 2, not yet done.
    assert ledger == {"A": (6, 0, 3, 3), "B": (0, 6, 3, -3)}
    assert pkg.self_enforcing


def test_next_package_not_self_enforcing_says_what_would_make_it_so() -> None:
    sc = scenario_from({
        "format": "roadmap/v1", "name": "walk away", "horizon": 20,
        "parties": [{"id": "A"}, {"id": "B"}],
        "concessions": [
            {"id": "x", "party": "A", "duration": 1, "value": 6, "verification": "public"},
            {"id": "y", "party": "B", "duration": 4, "value": 6, "verification": "public"}],
        "rules": [{"id": "cap_a", "kind": "exposure", "parties": ["A"], "max": 2}],
        "progress": {"as_of": 2, "steps": [{"id": "x", "start": 0, "end": 1}]}})
    effective, result = replan(sc, None, ONE)
    checked(effective, result)
    assert [b.get("rule") for b in result.broken or []] == ["cap_a"]
    pkg = next_package(effective, result, 3)
    assert {p: [r["id"] for r in rows] for p, rows in pkg.steps.items()} == {"B": ["y"]}
    # At 5, A has 3 at risk (x) and y's credit comes only at its end, 6.
    assert not pkg.self_enforcing
    short = pkg.shortfalls[0]
    assert (short.party, short.exposure, short.cap) == ("A", 3, 2)
    assert short.uncovered == ["x"] and short.pending == [("y", 6)]
    assert short.covered_at == 6
    text = short.sentence("month")
    assert "NOT self-enforcing" in text and "1 over the cap 2" in text and "to 6" in text


# -- command line --------------------------------------------------------------------
def _write(tmp_path: Path, data: dict[str, Any], name: str = "s.json") -> Path:
    import json

    p = tmp_path / name
    p.write_text(json.dumps(data))
    return p


def test_cli_replan_with_plan_as_of_and_next(tmp_path: Path) -> None:
    scen = _write(tmp_path, CHAIN)
    plan = tmp_path / "plan.json"
    assert runner.invoke(app, ["solve", str(scen), "-o", str(plan), "-w", "1", "-q"]).exit_code == 0
    out = tmp_path / "re.json"
    res = runner.invoke(app, ["replan", str(scen), "--plan", str(plan), "--as-of", "4",
                              "--next", "4", "-o", str(out), "-w", "1"])
    assert res.exit_code == 0, res.output
    assert "Next package" in res.output and "Self-enforcing" in res.output
    result = Result.from_json(out.read_text())
    assert result.objective[-1].metric == "deviation" and result.broken == []
    assert result.to_dict()["broken"] == []


def test_cli_as_of_earlier_than_progress_exits_2(tmp_path: Path) -> None:
    data = copy.deepcopy(CHAIN)
    data["progress"] = {"as_of": 5, "steps": []}
    scen = _write(tmp_path, data)
    res = runner.invoke(app, ["replan", str(scen), "--as-of", "3", "-w", "1"])
    assert res.exit_code == 2
    assert str(scen) in res.output and "progress.as_of" in res.output and "3" in res.output


@pytest.mark.parametrize(("step", "field", "value"), [
    ({"id": "zz", "start": 0, "end": 1}, "progress.steps[0].id", "zz"),
    ({"id": "a1", "start": 3, "end": 2}, "progress.steps[0].end", "2"),
    ({"id": "a1", "start": 0, "end": 6}, "progress.steps[0].end", "6"),
    ({"id": "a1", "start": 5}, "progress.steps[0].start", "5"),
    ({"id": "a1", "start": 0, "end": 2, "verified": 1}, "progress.steps[0].verified", "1"),
    ({"id": "a1", "start": 1, "end": 2, "reversed": 1}, "progress.steps[0].reversed", "1"),
    ({"id": "a1", "start": 1, "verified": 3}, "progress.steps[0].verified", "3"),
])
def test_cli_invalid_progress_record_exits_2(tmp_path: Path, step: dict[str, Any],
                                             field: str, value: str) -> None:
    data = copy.deepcopy(CHAIN)
    data["progress"] = {"as_of": 5, "steps": [step]}
    scen = _write(tmp_path, data)
    for cmd in ("replan", "solve"):
        res = runner.invoke(app, [cmd, str(scen), "-w", "1"])
        assert res.exit_code == 2, res.output
        assert str(scen) in res.output and field in res.output and value in res.output
        assert "Traceback" not in res.output


def test_cli_bad_plan_file_exits_2(tmp_path: Path) -> None:
    scen = _write(tmp_path, CHAIN)
    bad = tmp_path / "plan.json"
    bad.write_text("{\"format\": 1}")
    res = runner.invoke(app, ["replan", str(scen), "--plan", str(bad), "-w", "1"])
    assert res.exit_code == 2 and str(bad) in res.output


# -- metamorphic properties ------------------------------------------------------------
PROPS = settings(max_examples=12, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                        HealthCheck.filter_too_much])


def _no_end_targets(data: dict[str, Any]) -> bool:
    """Precedences onto an end are left out: an under-way step may run past its
    planned maximum (SPEC §5.5), which can only help such a rule."""
    return all(not (r.get("kind") == "precedence" and r.get("to") == "end")
               for r in data.get("rules", []))


def _values(result: Result) -> list[int | None]:
    return [e.value for e in result.objective if e.metric != "deviation"]


def _solved(data: dict[str, Any]) -> tuple[Any, Result] | None:
    try:
        sc = parse_scenario(data, "<fuzz>")
    except ScenarioError:
        return None
    plan = solve(sc, ONE)
    if plan.status != "optimal":
        return None
    return sc, plan


@PROPS
@given(data=scenarios(max_concessions=6, max_rules=5, max_horizon=14),
       st_as_of=st.integers(0, 14))
def test_followed_plan_replans_to_the_same_optimum(data: dict[str, Any], st_as_of: int) -> None:
    assume(_no_end_targets(data))
    solved = _solved(data)
    assume(solved is not None)
    assert solved is not None
    sc, plan = solved
    as_of = min(st_as_of, sc.horizon)
    effective, again = replan(sc, plan, ONE, as_of=as_of)
    checked(effective, again)
    assert again.status == "optimal"
    assert _values(again) == _values(plan)
    assert again.objective[-1].value == 0


@PROPS
@given(data=scenarios(max_concessions=6, max_rules=5, max_horizon=14),
       st_as_of=st.integers(1, 14))
def test_a_recorded_delay_never_improves_the_optimum(data: dict[str, Any],
                                                      st_as_of: int) -> None:
    assume(_no_end_targets(data))
    solved = _solved(data)
    assume(solved is not None)
    assert solved is not None
    sc, plan = solved
    as_of = min(st_as_of, sc.horizon)
    base = with_as_of(sc, plan, as_of)
    assert base.progress is not None
    done = [k for k, s in enumerate(base.progress.steps)
            if s.end is not None and s.end < as_of]
    assume(done)
    steps = list(base.progress.steps)
    k = done[0]
    steps[k] = steps[k].model_copy(update={"end": steps[k].end + 1})  # type: ignore[operator]
    delayed = base.model_copy(update={"progress": base.progress.model_copy(
        update={"steps": steps})})
    _, r0 = replan(base, None, ONE)
    _, r1 = replan(delayed, None, ONE)
    checked(base, r0)
    checked(delayed, r1)
    rules0 = {b.get("rule") for b in r0.broken or []}
    rules1 = {b.get("rule") for b in r1.broken or []}
    assume(rules0 == rules1)      # a newly broken rule is dropped, which may help
    assert r0.status == "optimal"
    if r1.status == "optimal":
        assert _values(r1) >= _values(r0)   # type: ignore[operator]
    else:
        assert r1.status == "infeasible"


def test_cli_progress_step_listed_twice_and_as_of_past_the_horizon_exit_2(
        tmp_path: Path) -> None:
    data = copy.deepcopy(CHAIN)
    data["progress"] = {"as_of": 5, "steps": [{"id": "a1", "start": 0, "end": 2},
                                              {"id": "a1", "start": 0, "end": 2}]}
    res = runner.invoke(app, ["replan", str(_write(tmp_path, data)), "-w", "1"])
    assert res.exit_code == 2 and "progress.steps[1].id" in res.output and "a1" in res.output
    data["progress"] = {"as_of": 31, "steps": []}
    res = runner.invoke(app, ["solve", str(_write(tmp_path, data, "h.json")), "-w", "1"])
    assert res.exit_code == 2 and "progress.as_of" in res.output and "31" in res.output
    res = runner.invoke(app, ["replan", str(_write(tmp_path, CHAIN, "c.json")), "--as-of", "31",
                              "-w", "1"])
    assert res.exit_code == 2 and "progress.as_of" in res.output and "31" in res.output


def test_cli_solve_honours_progress_and_reports_broken(tmp_path: Path) -> None:
    import json

    data = copy.deepcopy(CHAIN)
    data["progress"] = {"as_of": 6, "steps": [{"id": "a1", "start": 0, "end": 2}]}
    data["rules"].append({"id": "sync", "kind": "reciprocity", "a": "a1", "b": "b2",
                          "max_gap": 3})
    res = runner.invoke(app, ["solve", str(_write(tmp_path, data)), "-w", "1", "-f", "json",
                              "-q"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["broken"] == [{"rule": "sync", "message": out["broken"][0]["message"]}]
    starts = {s["id"]: s["start"] for s in out["schedule"]}
    # b1 could start at 2, but nothing new starts before as_of 6.
    assert starts == {"a1": 0, "b1": 6, "a2": 9, "b2": 11}
    checked(scenario_from(data), Result.from_dict(out))
