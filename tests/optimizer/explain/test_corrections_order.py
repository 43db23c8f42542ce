"""Corrections verified beside one another are still offered in order (decision 52)."""

from __future__ import annotations

import threading
import time
from typing import Any

import optimizer.explain.corrections as corrections
from optimizer.explain.corrections import find_corrections
from tests.conftest import scenario_from
from tests.optimizer.explain.test_corrections import CAP


def test_the_last_correction_verified_beside_a_slow_one_is_offered_after_it(
        monkeypatch: Any) -> None:
    real = corrections.verify
    started: list[tuple[float, int]] = []
    finished: list[tuple[float, int]] = []
    first_running = threading.Event()

    def slow_first(sc: Any, changes: Any, deadline: float, workers: int,
                   control: Any, no_lp: bool = False) -> Any:
        cost = sum(ch.cost for ch in changes)
        started.append((time.monotonic(), cost))
        if cost == 12:            # the first correction: slow, still running at the end
            first_running.set()
            time.sleep(0.5)
        assert no_lp == (workers == 1)     # the background checks solve without the LP
        out = real(sc, changes, deadline, workers, control, no_lp)
        finished.append((time.monotonic(), cost))
        return out

    monkeypatch.setattr(corrections, "verify", slow_first)
    offered: list[int] = []
    rep = find_corrections(scenario_from(CAP), 2, time_limit_s=20, workers=2,
                           on_correction=lambda c, _s, _r: offered.append(c.cost))
    assert offered == [12, 15]                        # in order ...
    assert [c.cost for c in rep.corrections] == [12, 15]
    assert all(c.proven and c.metrics is not None for c in rep.corrections)
    # ... though the second was verified while the first still was.
    t_second = next(t for t, cost in started if cost == 15)
    assert first_running.is_set()
    assert t_second < next(t for t, cost in finished if cost == 12)
