"""The restricted solves that give a later correction search its first solution (``warm``)."""

from __future__ import annotations

import time
from typing import Any

from ortools.sat.python import cp_model

from optimizer.explain.corrections import search
from optimizer.explain.corrections.model import CorrectionModel, build_corrections
from optimizer.explain.corrections.search import minimise
from optimizer.explain.corrections.warm import NEIGHBOURHOODS, restricted, warm_start
from optimizer.solving.handle import StopControl
from tests.conftest import scenario_from
from tests.optimizer.explain.test_corrections import CAP, spec

LEFT_OUT, NO_NUMBERS = (free for _, free in NEIGHBOURHOODS)


def _solve(m: cp_model.CpModel, budget: float = 10.0) -> tuple[int, list[int]] | None:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = budget
    if solver.solve(m) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return int(solver.objective_value), list(solver.response_proto.solution)


def _changed(cm: CorrectionModel, values: list[int]) -> set[tuple[str, ...]]:
    def true(ref: int) -> bool:
        return values[ref] == 1 if ref >= 0 else values[-ref - 1] == 0
    return {pos.element for pos in cm.positions if true(pos.changed.index)}


def _feasible_in_whole_model(cm: CorrectionModel, values: list[int]) -> bool:
    m = cm.model.clone()
    m.clear_hints()
    for i, v in enumerate(values):
        m.add_hint(m.get_int_var_from_proto_index(i), v)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.fix_variables_to_their_hinted_value = True
    return solver.solve(m) in (cp_model.OPTIMAL, cp_model.FEASIBLE)


# CAP: raise the cap 3 -> 5 (12), make a optional (15), switch the cap off (30).
def test_only_free_positions_change_in_a_restricted_model() -> None:
    cm = build_corrections(scenario_from(CAP))
    cm.model.minimize(cm.total)
    whole = _solve(cm.model)
    left_out = _solve(restricted(cm, LEFT_OUT))
    rules = _solve(restricted(cm, NO_NUMBERS))
    assert whole is not None and left_out is not None and rules is not None
    assert whole[0] == 12 and rules[0] == 12     # a rule's number is not a date or size
    assert left_out[0] == 15
    assert _changed(cm, left_out[1]) == {("concession", "a", "required")}
    assert _feasible_in_whole_model(cm, left_out[1])   # a solution of the whole model


def test_the_warm_start_keeps_the_cheapest_and_hints_the_next_neighbourhood() -> None:
    cm = build_corrections(scenario_from(CAP))
    cm.model.minimize(cm.total)
    hints: list[int] = []

    def solve(m: cp_model.CpModel, budget: float) -> tuple[int, list[int]] | None:
        assert 0 < budget <= 1.0
        hints.append(len(m.proto.solution_hint.vars))
        return _solve(m, budget)

    values = warm_start(cm, time.monotonic() + 10, solve)
    assert values is not None and len(values) == len(cm.model.proto.variables)
    assert _changed(cm, values) == {("rule", "cap")}         # 12, found by the second
    assert hints[1] == len(cm.model.proto.variables)     # hinted with the first's 15
    assert warm_start(cm, time.monotonic() - 1, solve) is None     # no time: no solve
    assert len(hints) == 2


# a lasts 4 in a horizon of 3 and may not be left out (relax: false): only the
# horizon helps (3 -> 4: 10 + 1 = 11), so no restricted model has a solution.
def test_no_warm_start_when_only_dates_or_sizes_help() -> None:
    sc = scenario_from(spec([{"id": "a", "party": "A", "duration": 4, "relax": False}],
                            horizon=3))
    cm = build_corrections(sc)
    cm.model.minimize(cm.total)
    assert warm_start(cm, time.monotonic() + 10, lambda m, b: _solve(m, b)) is None
    whole = _solve(cm.model)
    assert whole is not None and whole[0] == 11


def test_a_later_search_with_nothing_allowed_starts_from_the_warm_start(
        monkeypatch: Any) -> None:
    cm = build_corrections(scenario_from(CAP))
    control = StopControl()
    calls: list[int] = []
    real = search.warm_start

    def spy(cm_: CorrectionModel, deadline: float, solve: Any) -> list[int] | None:
        values = real(cm_, deadline, solve)
        calls.append(0 if values is None else len(values))
        return values

    monkeypatch.setattr(search, "warm_start", spy)
    first = minimise(cm, balanced=False, deadline=time.monotonic() + 20, workers=1,
                     control=control)
    assert first is not None and first.cost == 12
    assert calls == []          # the first search starts from the greedy schedule
    # Keep only what the no-good below excludes (the optimum is among it).
    cm.pool[:] = [e for e in cm.pool if ("rule", "cap") in _changed(cm, e[2])]
    assert cm.pool
    cm.forbid({("rule", "cap")})
    assert cm.best_known() is None
    second = minimise(cm, balanced=False, deadline=time.monotonic() + 20, workers=1,
                      control=control)
    assert calls == [len(cm.model.proto.variables)]      # a complete solution ...
    assert list(cm.model.proto.solution_hint.vars) == list(range(calls[0]))   # ... hinted
    assert second is not None and second.cost == 15 and second.proven
    # The restricted solves' solutions join the pool, for the searches after.
    assert any(e[0] == 15 and cm.allowed(e[2]) for e in cm.pool)


def test_a_search_beside_a_verification_takes_one_no_lp_worker(monkeypatch: Any) -> None:
    seen: list[tuple[int, int, int]] = []
    real = search._run

    def spy(m: cp_model.CpModel, solver: cp_model.CpSolver, control: StopControl,
            watch: Any) -> int:
        p = solver.parameters
        seen.append((p.num_workers, p.linearization_level, len(p.subsolvers)))
        return real(m, solver, control, watch)

    monkeypatch.setattr(search, "_run", spy)
    for beside in (False, True):
        cm = build_corrections(scenario_from(CAP))
        found = minimise(cm, balanced=False, deadline=time.monotonic() + 20, workers=2,
                         control=StopControl(), beside=beside)
        assert found is not None and found.cost == 12 and found.proven
    # Alone: CP-SAT's two workers led by no_lp and max_lp (decision 43); beside
    # a verification: one worker, CP-SAT's no_lp strategy (linearization 0).
    assert seen[0] == (2, cp_model.CpSolver().parameters.linearization_level, 2)
    assert seen[-1] == (1, 0, 0)
