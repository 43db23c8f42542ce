"""The next correction search started on the current one's hint (decision 60)."""

from __future__ import annotations

import time
from typing import Any

import optimizer.explain.corrections as corrections
from models import Scenario, load_scenario
from models.paths import set_path
from optimizer.check import check
from optimizer.explain.corrections import find_corrections
from optimizer.explain.corrections.ahead import Lookahead
from optimizer.explain.corrections.model import Values, build_corrections
from optimizer.explain.corrections.search import minimise
from optimizer.explain.corrections.verify import corrected
from optimizer.solving.handle import StopControl
from tests.conftest import scenario_from
from tests.optimizer.explain.test_corrections import CAP, assert_verified_and_irreducible


def _seed_cap_3() -> Scenario:
    data = load_scenario("us_dprk_2018").model_dump(mode="json", by_alias=True)
    set_path(data, "rules[dprk_exposure_cap].max", 3)
    return scenario_from(data)


def _record(monkeypatch: Any) -> list[str]:
    seen: list[str] = []
    adopt, drop = Lookahead.adopt, Lookahead.drop

    def adopting(self: Lookahead, control: StopControl) -> Any:
        seen.append("adopt")
        return adopt(self, control)

    def dropping(self: Lookahead) -> None:
        seen.append("drop")
        drop(self)

    monkeypatch.setattr(Lookahead, "adopt", adopting)
    monkeypatch.setattr(Lookahead, "drop", dropping)
    return seen


def test_the_lookahead_answers_as_the_next_search_would() -> None:
    # CAP: raise the cap 3 -> 5 (12), then make a optional (15), then nothing.
    cm = build_corrections(scenario_from(CAP))
    first = minimise(cm, balanced=False, deadline=time.monotonic() + 20, workers=2,
                     control=StopControl())
    assert first is not None and first.cost == 12
    hint = cm.read(first.solver)
    told: list[str] = []
    ahead = Lookahead(cm, hint, balanced=False, deadline=time.monotonic() + 20, workers=2,
                      label="finding correction 2 of 3", report=told.append)
    ahead._thread.join(20)
    assert told == []                     # not told before it is adopted ...
    fork, found = ahead.adopt(StopControl())
    assert told and told[-1].startswith("finding correction 2 of 3: best cost 15")  # ... then so
    assert found is not None and found.proven and found.cost == 15
    assert [ch.path for ch in fork.read(found.solver)] == ["concessions[a].optional"]
    # The fork's no-good is its own: the model it was forked from is unchanged.
    assert cm.nogoods == [] and len(fork.nogoods) == 1
    again = minimise(cm, balanced=False, deadline=time.monotonic() + 20, workers=2,
                     control=StopControl())
    assert again is not None and again.cost == 12


def test_the_seed_with_the_dprk_cap_at_3_adopts_the_third_search(monkeypatch: Any) -> None:
    seen = _record(monkeypatch)
    sc = _seed_cap_3()
    rep = find_corrections(sc, 3, time_limit_s=60, workers=2)
    # The same three corrections as searched one after another (workers=1 in
    # test_corrections: 30, then the DPRK steps made optional, then with the US cap).
    assert [c.cost for c in rep.corrections] == [30, 94, 104]
    assert all(c.proven for c in rep.corrections)
    assert "adopt" in seen
    for specs, result in zip(rep.specs, rep.results, strict=True):
        assert result is not None and check(corrected(sc, specs), result) == []


def test_a_lookahead_on_another_set_is_dropped_and_changes_nothing(monkeypatch: Any) -> None:
    class Elsewhere(Lookahead):
        """Forks as usual, but claims a set no search answers with."""

        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **kw)
            self.key = self.key | {("nowhere",)}

    monkeypatch.setattr(corrections, "Lookahead", Elsewhere)
    seen = _record(monkeypatch)
    sc = scenario_from(CAP)
    rep = find_corrections(sc, 3, time_limit_s=20, workers=2)
    assert [c.cost for c in rep.corrections] == [12, 15]
    assert seen and set(seen) == {"drop"}
    for c in rep.corrections:
        assert_verified_and_irreducible(sc, c)


def test_a_stop_ends_a_lookahead_at_once() -> None:
    sc = _seed_cap_3()
    cm = build_corrections(sc)
    first = minimise(cm, balanced=False, deadline=time.monotonic() + 30, workers=2,
                     control=StopControl())
    assert first is not None
    # The next search from the cap switched off is a long one (seconds).
    ahead = Lookahead(cm, cm.read(first.solver), balanced=False,
                      deadline=time.monotonic() + 30, workers=2, label="x",
                      report=lambda _m: None)
    time.sleep(0.3)
    control = StopControl()
    control.stop()
    _fork, found = ahead.adopt(control)
    assert found is None or not found.proven      # stopped, not searched to the end
    dropped = Lookahead(cm, cm.read(first.solver), balanced=False,
                        deadline=time.monotonic() + 30, workers=2, label="x",
                        report=lambda _m: None)
    time.sleep(0.3)
    dropped.drop()
    dropped.join(StopControl())
    assert not dropped._thread.is_alive()
    assert dropped._found is None or not dropped._found.proven


def test_a_solution_on_another_set_stops_the_lookahead() -> None:
    cm = build_corrections(scenario_from(CAP))
    first = minimise(cm, balanced=False, deadline=time.monotonic() + 20, workers=1,
                     control=StopControl())
    assert first is not None
    same = list(first.solver.response_proto.solution)
    elsewhere = cm.fork()                 # the next correction: a made optional
    elsewhere.forbid({("rule", "cap")})
    second = minimise(elsewhere, balanced=False, deadline=time.monotonic() + 20, workers=1,
                      control=StopControl())
    assert second is not None
    other = list(second.solver.response_proto.solution)
    assert [ch.path for ch in cm.read(Values(other))] == ["concessions[a].optional"]
    ahead = Lookahead(cm, cm.read(first.solver), balanced=False,
                      deadline=time.monotonic() + 20, workers=2, label="x",
                      report=lambda _m: None)
    ahead.watch(same)                     # the hint's own set (any amounts): kept
    assert not ahead.dropped
    ahead.watch(other)
    assert ahead.dropped
    ahead.join(StopControl())


def test_a_search_shares_the_machine_only_when_told_so(monkeypatch: Any) -> None:
    """Decision 62: the last stage's search takes one worker of two only while
    ``shared`` says another search runs beside it; the warm start keeps ``beside``."""
    import optimizer.explain.corrections.search as search

    made: list[tuple[int, bool]] = []
    real = search._solver

    def recording(budget: float, workers: int, control: StopControl,
                  no_lp: bool = False) -> Any:
        made.append((workers, no_lp))
        return real(budget, workers, control, no_lp)

    monkeypatch.setattr(search, "_solver", recording)
    for together, expected in ((False, (2, False)), (True, (1, True))):
        cm = build_corrections(scenario_from(CAP))
        assert minimise(cm, balanced=False, deadline=time.monotonic() + 20, workers=2,
                        control=StopControl()) is not None
        cm.forbid({("rule", "cap")})
        made.clear()
        found = minimise(cm, balanced=False, deadline=time.monotonic() + 20, workers=2,
                         control=StopControl(), beside=True, shared=lambda t=together: t)
        assert found is not None and found.cost == 15
        assert made[-1] == expected
        assert all(m == (1, True) for m in made[:-1])     # the warm start's solves
