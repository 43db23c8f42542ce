"""Backtests judge history with the principals' semantics (SPEC §5.1) and show their peaks."""

from __future__ import annotations

from models import SolveOptions
from optimizer.check import assert_valid
from optimizer.studies.backtest import backtest, observed_result
from tests.conftest import scenario_from
from tests.optimizer.studies.test_backtest import PHASED


def test_observed_metrics_and_peaks_cover_the_principals() -> None:
    # PHASED with A as the only principal: the imbalance has no pair (v1: 4, A's 4 against
    # B's 0 in P1) and the peak is A's own 4 (a1's risk until b1's inspection credit at 7).
    # In any schedule A carries a1's 4 until b1 is verified.
    sc = scenario_from(PHASED.replace("horizon: 20", "horizon: 20\nprincipals: [A]"))
    obs = observed_result(sc)
    kept = sc.model_copy(update={"rules": sc.rules[:1]})   # history broke the wish a2_first
    assert_valid(kept, observed_result(kept))
    assert obs.metrics is not None
    assert (obs.metrics.peak_exposure, obs.metrics.phase_imbalance) == (4, 0)
    assert {p: lg.peak for p, lg in obs.ledger.items()} == {"A": 4, "B": 0}
    bt = backtest(sc, SolveOptions(workers=1, time_limit_s=20))
    assert_valid(sc, bt.optimized)
    assert bt.principal_rows() == [("A", 4, 4)]
    assert bt.to_dict()["principal_peaks"] == {"A": {"observed": 4, "optimized": 4}}
