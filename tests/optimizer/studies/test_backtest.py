"""Backtests: the observed schedule as a Result, rule verdicts, ordering agreement, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models import SolveOptions, load_scenario
from optimizer.check import assert_valid, check_rules
from optimizer.cli import app
from optimizer.studies.backtest import backtest, kendall_tau_b, observed_result
from tests.conftest import scenario_from

runner = CliRunner()
ONE_WORKER = SolveOptions(time_limit_s=30.0, workers=1, seed=0)

# The optimizer's roadmap may not start second-phase items before 3 Oct 2007 (day 232);
# Japan's withheld aid share (value 2) is absent in history and left out by the optimizer.
SIX_PARTY_METRICS = {
    "makespan": {"observed": 668, "optimized": 322},
    "weighted_completion": {"observed": 6202, "optimized": 2827},
    "peak_exposure": {"observed": 2, "optimized": 2},
    "excluded_value": {"observed": 8, "optimized": 2},
    "phase_imbalance": {"observed": 21, "optimized": 27},
}
WRITTEN_DEADLINES = ["bda_within_30_days", "shutdown_within_60_days", "first_hfo_within_60_days",
                     "disablement_by_end_2007", "declaration_by_end_2007"]
# Read off the record ("observed, not written"): derived from history, never "held".
DERIVED_RULES = ["bda_before_shutdown", "first_oil_before_shutdown"]
AGREEMENT_RULES = ["working_groups_within_30_days", "sst_twea_process_in_initial_phase",
                   "shutdown_before_disablement", "first_oil_before_bulk_aid",
                   "aid_in_parallel_with_disablement", "twea_with_declaration",
                   "sst_45_days_after_declaration"]

# Two phases, one concession restricted to the second: the observed windows must put
# the start at 3 into P2 and end the last phase at the observed makespan.
PHASED = """\
format: roadmap/v1
name: Phased history
horizon: 20
parties: [{id: A}, {id: B}]
phases: [{id: P1, min_length: 2, max_length: 4}, {id: P2}]
concessions:
  - {id: a1, party: A, duration: 1, value: 4, reversibility: irreversible, verification: public}
  - {id: b1, party: B, duration: 2, value: 3, reversibility: costly, verification: inspection,
     phases: [P2]}
  - {id: a2, party: A, duration: 2, value: 2, reversibility: reversible}
rules:
  - {id: b_after_a, kind: precedence, before: a1, after: b1, tags: [agreement]}
  - {id: a2_first, kind: precedence, before: a2, after: a1, tags: [wish]}
observed:
  schedule:
    - {id: a1, start: 0, end: 1}
    - {id: b1, start: 3, end: 5}
    - {id: a2, start: 6, end: 8}
"""


def test_six_party_backtest_exactly() -> None:
    bt = backtest(load_scenario("six_party_2007"), ONE_WORKER)
    out = bt.to_dict()
    assert out["metrics"] == SIX_PARTY_METRICS
    assert bt.optimized.status == "optimal"
    # History's exposure, by hand: the BDA transfer (irreversible, risk 4) on day 132
    # against the credit of 2 the US holds from day 32 puts the US at +2.
    assert out["exposure"]["observed"] == {
        "DPRK": [[0, -1], [32, -2], [132, -6], [151, -5], [172, -7], [265, -3], [499, 1],
                 [606, -4], [669, -9]],
        "US": [[0, -1], [32, -2], [132, 2], [157, -4], [499, -5], [562, -13], [606, -10]],
        "ROK": [[0, 0], [232, 1]],
        "PRC": [[0, 0]],
        "JPN": [[0, 0]],
    }
    assert set(out["exposure"]["optimized"]) == {"DPRK", "US", "ROK", "PRC", "JPN"}
    order = out["ordering"]
    assert {k: order[k] for k in ("common", "precedence_pairs", "same_order", "concordant",
                                  "discordant", "ties_observed", "ties_optimized")} == {
        "common": 11, "precedence_pairs": 47, "same_order": 44, "concordant": 40,
        "discordant": 1, "ties_observed": 3, "ties_optimized": 13}
    assert order["share"] == 44 / 47
    assert order["tau_b"] == (40 - 1) / math.sqrt((55 - 3) * (55 - 13))
    assert len(order["reversed_pairs"]) == 3
    verdicts = {v["id"]: v["verdict"] for v in out["rules"]}
    assert verdicts == {**{r: "held" for r in AGREEMENT_RULES},
                        **{r: "derived from history" for r in DERIVED_RULES},
                        **{r: "broken" for r in WRITTEN_DEADLINES},
                        "protocol_before_remaining_aid": "vacuous"}
    assert out["agreement_held"] is True
    assert {t: (g["held"], g["derived from history"], g["broken"], g["vacuous"])
            for t, g in out["tags"].items()} == {
        "agreement": (7, 0, 0, 0), "dec_2008": (0, 0, 0, 1), "missed": (0, 0, 5, 0),
        "observed": (0, 2, 0, 0), "practice": (0, 2, 0, 1), "written_deadline": (0, 0, 5, 0)}
    broken = next(v for v in out["rules"] if v["id"] == "bda_within_30_days")
    assert broken["violations"] == [
        "precedence bda_within_30_days: us_bda_funds_released.end - "
        "feb13_initial_actions_agreed.end = 132 - 0 = 132 > max_lag 30"]
    assert out["schedule_issues"] == ["dprk_verification_protocol: required concession is absent"]
    assert out["observed"]["phases"] == [{"id": "P1", "start": 0, "end": 668}]
    assert out["optimized"]["status"] == "optimal"


def test_observed_phases_follow_the_allowed_phases_and_end_with_history() -> None:
    sc = scenario_from(PHASED)
    obs = observed_result(sc)
    assert [(p.id, p.start, p.end) for p in obs.phases] == [("P1", 0, 2), ("P2", 2, 8)]
    assert {s.id: (s.phase, s.verified) for s in obs.schedule} == {
        "a1": ("P1", 1), "b1": ("P2", 7), "a2": ("P2", 8)}
    assert obs.status == "feasible" and obs.solver.name == "observed"
    # risk: a1 4 (irreversible), a2 floor(2*25/100) = 0; b1 costly 3 -> 1
    assert obs.exposure == {"A": [(0, 4), (7, 1)], "B": [(0, 0), (1, -4), (3, -3)]}
    assert obs.metrics is not None
    assert obs.metrics.model_dump() == {"makespan": 8, "weighted_completion": 14,
                                        "peak_exposure": 4, "excluded_value": 0,
                                        "phase_imbalance": 4}
    assert check_rules(sc, obs) == {"b_after_a": [], "a2_first": [
        "precedence a2_first: a1.start - a2.end = 0 - 8 = -8 < min_lag 0"]}
    # Without the broken wish, the observed schedule is a valid roadmap of the scenario.
    kept = sc.model_copy(update={"rules": sc.rules[:1]})
    assert_valid(kept, observed_result(kept))


def test_backtest_of_a_small_scenario() -> None:
    bt = backtest(scenario_from(PHASED), ONE_WORKER)
    assert bt.agreement_held
    assert bt.optimized.status == "optimal"
    assert {v.id: v.verdict for v in bt.rules} == {"b_after_a": "held", "a2_first": "broken"}
    assert bt.tags["wish"]["broken_rules"] == ["a2_first"]
    # History: a1, b1, a2. The optimizer must finish a2 before a1 (a2_first) and b1
    # after a1, so only a1 -> b1 of history's three pairs survives; starts a1 < b1 agree,
    # the two pairs with a2 are discordant: tau_b = (1 - 2) / 3.
    assert bt.ordering is not None
    assert bt.ordering.reversed_pairs == [("a1", "a2"), ("b1", "a2")]
    assert (bt.ordering.precedence_pairs, bt.ordering.same_order) == (3, 1)
    assert bt.ordering.tau_b == -1 / 3


@pytest.mark.parametrize(("x", "y", "expected"), [
    ([1, 2, 3], [1, 2, 3], (1.0, 3, 0, 0, 0)),
    ([1, 2, 3], [3, 2, 1], (-1.0, 0, 3, 0, 0)),
    ([1, 2, 3], [1, 3, 2], (1 / 3, 2, 1, 0, 0)),
    # one pair tied in x: tau_b = 2 / sqrt((3 - 1) * 3)
    ([1, 1, 2], [1, 2, 3], (2 / math.sqrt(6), 2, 0, 1, 0)),
    ([5, 5], [1, 2], (None, 0, 0, 1, 0)),
    ([7], [7], (None, 0, 0, 0, 0)),
])
def test_kendall_tau_b(x: list[int], y: list[int],
                       expected: tuple[float | None, int, int, int, int]) -> None:
    assert kendall_tau_b(x, y) == expected


# ------------------------------------------------------------------ CLI
def test_cli_backtest_json() -> None:
    res = runner.invoke(app, ["backtest", "six_party_2007", "--format", "json", "-w", "1",
                              "-t", "30"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["format"] == "roadmap-backtest/v1"
    assert out["metrics"] == SIX_PARTY_METRICS
    assert out["ordering"]["precedence_pairs"] == 47
    assert out["agreement_held"] is True


def test_cli_backtest_table() -> None:
    res = runner.invoke(app, ["backtest", "agreed_framework_1994", "-w", "1"])
    assert res.exit_code == 0, res.output
    assert "Ordering agreement" in res.stdout
    assert "compliance_before_key_components" in res.stdout
    # The 2003 LWR target passed with the LWR about 30% built: history broke it.
    assert "Rules tagged 'agreement': the historical schedule does NOT hold." in res.stdout
    assert "lwr_target_2003" in res.stdout


def test_cli_backtest_without_observed_exits_2_with_one_line() -> None:
    res = runner.invoke(app, ["backtest", "us_dprk_2018"])
    assert res.exit_code == 2
    assert res.stdout == ""
    assert res.stderr.strip().count("\n") == 0
    assert "no observed schedule" in res.stderr


def test_cli_backtest_invalid_input_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(PHASED.replace("id: b1, start: 3", "id: nope, start: 3"))
    res = runner.invoke(app, ["backtest", str(bad)])
    assert res.exit_code == 2
    assert "observed.schedule[1]" in res.stderr and "Traceback" not in res.stderr
    assert runner.invoke(app, ["backtest", "no_such_dataset"]).exit_code == 2


def test_cli_backtest_infeasible_scenario_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "tight.yaml"
    path.write_text(PHASED.replace("horizon: 20", "horizon: 20\n# tight").replace(
        "  - {id: a2_first", "  - {id: cap, kind: exposure, parties: [A], max: 3}\n"
        "  - {id: a2_first"))
    res = runner.invoke(app, ["backtest", str(path), "--format", "json", "-w", "1"])
    assert res.exit_code == 1
    out = json.loads(res.stdout)
    assert out["ordering"] is None
    assert out["metrics"]["peak_exposure"] == {"observed": 4, "optimized": None}
    assert {v["id"]: v["verdict"] for v in out["rules"]}["cap"] == "broken"
