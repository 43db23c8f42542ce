"""The scripting API: start_solve / stop / progress, and the SPEC §3 result JSON."""

from __future__ import annotations

import json
import random
import time
from typing import Any

from models import Result, SolveOptions
from optimizer import solve, start_solve
from optimizer.check import assert_valid
from optimizer.solving.handle import Progress, StopControl
from tests.conftest import scenario_from, solve_checked

TOP_KEYS = ["format", "scenario", "status", "metrics", "objective", "solver", "phases",
            "schedule", "exposure", "conflict", "ledger"]   # ledger: SPEC §5.4
METRICS = {"makespan", "weighted_completion", "peak_exposure", "excluded_value",
           "phase_imbalance"}


def big(n: int = 60, seed: int = 7) -> dict[str, Any]:
    """A scenario far too big to prove optimal in a moment: 60 items, a team, a cap."""
    rnd = random.Random(seed)
    cons = [{"id": f"c{i}", "party": "A" if i % 2 == 0 else "B",
             "duration": rnd.randint(1, 6), "value": rnd.randint(1, 9),
             "priority": rnd.randint(1, 5),
             "verification": rnd.choice(["ntm", "monitoring", "inspection", "public"]),
             "uses": {"team": rnd.randint(1, 2)}} for i in range(n)]
    rules: list[dict[str, Any]] = [{"id": "cap", "kind": "exposure", "max": 12}]
    rules += [{"id": f"p{i}", "kind": "precedence", "before": f"c{i}", "after": f"c{i + 2}"}
              for i in range(0, n - 2, 3)]
    return {"name": "big", "horizon": 400, "parties": [{"id": "A"}, {"id": "B"}],
            "resources": [{"id": "team", "capacity": 3}], "concessions": cons, "rules": rules,
            "objective": {"terms": [{"metric": "weighted_completion"}]}}


SMALL = {"name": "small", "horizon": 10, "parties": [{"id": "A"}, {"id": "B"}],
         "concessions": [{"id": "a", "party": "A", "duration": 2, "value": 4},
                         {"id": "b", "party": "B", "duration": 3, "value": 4}],
         "rules": [{"id": "r", "kind": "precedence", "before": "a", "after": "b"}]}


def test_stop_returns_the_best_schedule_so_far() -> None:
    sc = scenario_from(big())
    handle = start_solve(sc, SolveOptions(time_limit_s=30, workers=1, seed=0))
    events: list[Progress] = []
    deadline = time.monotonic() + 25
    while time.monotonic() < deadline:
        events.append(handle.progress.get(timeout=25))
        if events[-1].event == "solution":
            break
    handle.stop()
    result = handle.result(timeout=20)
    assert handle.done()
    assert events[0].event == "stage_start" and events[0].metric == "weighted_completion"
    assert events[-1].event == "solution" and events[-1].objective is not None
    assert result.status == "feasible"
    assert_valid(sc, result)
    entry = result.objective[0]
    assert entry.value is not None and entry.bound is not None and entry.bound < entry.value
    assert result.metrics is not None
    assert entry.value == result.metrics.weighted_completion
    assert result.solver.time_limit_s == 30


def test_progress_callback_of_a_small_solve() -> None:
    seen: list[Progress] = []
    sc = scenario_from(SMALL)
    result = solve(sc, SolveOptions(time_limit_s=10, workers=1), on_progress=seen.append)
    assert_valid(sc, result)
    assert result.status == "optimal"
    assert seen[0].event == "stage_start"
    assert seen[-1].event == "stage_end" and seen[-1].objective == 5 and seen[-1].bound == 5
    assert any(p.event == "solution" for p in seen)


def test_handle_result_of_a_finished_solve() -> None:
    sc = scenario_from(SMALL)
    handle = start_solve(sc, SolveOptions(time_limit_s=10, workers=1))
    result = handle.result(timeout=20)
    assert_valid(sc, result)
    assert result.status == "optimal"
    assert result.metrics is not None and result.metrics.makespan == 5
    assert [p.event for p in handle.drain()][-1] == "stage_end"


def test_optimal_result_json_shape() -> None:
    result = solve_checked(SMALL, time_limit_s=10)
    data = json.loads(result.to_json())
    assert list(data) == TOP_KEYS
    assert data["format"] == "roadmap-result/v1"
    assert data["status"] == "optimal"
    assert set(data["metrics"]) == METRICS
    assert data["objective"] == [{"metric": "makespan", "value": 5, "bound": 5}]
    assert data["scenario"]["name"] == "small" and len(data["scenario"]["sha256"]) == 64
    assert set(data["solver"]) == {"name", "version", "wall_time_s", "workers", "seed",
                                   "time_limit_s"}
    assert data["solver"]["name"] == "ortools-cp-sat" and data["solver"]["workers"] == 1
    assert data["phases"] == [{"id": "P1", "start": 0, "end": 5}]
    assert data["schedule"] == [
        {"id": "a", "party": "A", "present": True, "start": 0, "end": 2, "phase": "P1",
         "verified": 2},
        {"id": "b", "party": "B", "present": True, "start": 2, "end": 5, "phase": "P1",
         "verified": 5},
    ]
    # a: cost 4 costly -> risk 2 at 0; b's declaration credit 1 reaches A at 5. Mirror for B.
    assert data["exposure"] == {"A": [[0, 2], [5, 1]], "B": [[0, 0], [2, 1]]}
    assert data["conflict"] is None
    assert Result.from_dict(data).to_dict() == data


def test_weighted_result_json_shape() -> None:
    spec = {**SMALL, "objective": {"mode": "weighted", "terms": [
        {"metric": "makespan", "weight": 3}, {"metric": "weighted_completion", "weight": 2}]}}
    data = solve_checked(spec, time_limit_s=10).to_dict()
    # makespan 5, completion 2 + 5 = 7: 3 * 5 + 2 * 7 = 29.
    assert data["objective"] == [
        {"metric": "makespan", "value": 5, "bound": None, "weight": 3},
        {"metric": "weighted_completion", "value": 7, "bound": None, "weight": 2},
        {"metric": "weighted_sum", "value": 29, "bound": 29},
    ]


def test_infeasible_result_json_shape() -> None:
    spec = {**SMALL, "horizon": 4}
    data = solve_checked(spec, time_limit_s=10).to_dict()
    assert list(data) == TOP_KEYS
    assert data["status"] == "infeasible"
    assert (data["metrics"], data["objective"], data["phases"], data["schedule"],
            data["exposure"]) == (None, [], [], [], {})
    conflict = data["conflict"]
    assert {"rules", "demands", "concessions", "message"} <= set(conflict)
    assert conflict["rules"] == ["r"]
    assert {"field": "horizon"} in conflict["demands"]


def test_unknown_result_json_shape() -> None:
    # Stopped before the search starts: no schedule at all.
    sc = scenario_from(big())
    control = StopControl()
    control.stop()
    result = solve(sc, SolveOptions(time_limit_s=30, workers=1), control=control)
    assert_valid(sc, result)
    data = result.to_dict()
    assert list(data) == TOP_KEYS
    assert data["status"] == "unknown"
    assert (data["metrics"], data["objective"], data["phases"], data["schedule"],
            data["exposure"], data["conflict"]) == (None, [], [], [], {}, None)
