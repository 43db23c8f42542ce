"""The built-in datasets: valid, solvable (or provably not), and true to history."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from models import Scenario, list_datasets, load_scenario
from models.result import Result
from models.rules import Precedence
from optimizer.check import assert_valid, check_rules
from optimizer.cli import app
from optimizer.studies.backtest import AGREEMENT_TAG, observed_result, rule_verdicts
from tests.conftest import solve_checked

# Optimal objective values, term by term, with 1 worker and seed 0.
OPTIMA: dict[str, list[tuple[str, int]]] = {
    "us_dprk_2018": [("peak_exposure", 8), ("makespan", 113), ("weighted_completion", 2169)],
    "jcpoa_2015": [("makespan", 3743), ("weighted_completion", 24590), ("peak_exposure", 4)],
    "agreed_framework_1994": [("peak_exposure", 7), ("makespan", 86),
                              ("weighted_completion", 489)],
    "six_party_2007": [("peak_exposure", 1), ("makespan", 110), ("weighted_completion", 636)],
    "hecker_2018": [("makespan", 80), ("peak_exposure", 56), ("weighted_completion", 1869)],
    "hanoi_2019_dprk": [("peak_exposure", 2), ("makespan", 30), ("weighted_completion", 214)],
}
INFEASIBLE = "hanoi_2019_us"
JOINT = "hanoi_2019"     # both Hanoi positions with owners (issue 14): infeasible, corrected
ALL = sorted([*OPTIMA, INFEASIBLE, JOINT])
HISTORICAL = ["agreed_framework_1994", "jcpoa_2015", "six_party_2007"]


def _obs(sc: Scenario) -> dict[str, tuple[int, int]]:
    assert sc.observed is not None
    return {it.id: (it.start, it.end) for it in sc.observed.schedule}


def _placed(result: Result) -> dict[str, tuple[int, int]]:
    return {s.id: (s.start, s.end) for s in result.schedule
            if s.present and s.start is not None and s.end is not None}


def test_the_eight_datasets_ship_with_the_tool() -> None:
    assert sorted(p.stem for p in list_datasets()) == ALL


def test_roadmap_datasets_lists_every_dataset() -> None:
    run = CliRunner().invoke(app, ["datasets"])
    assert run.exit_code == 0
    for name in ALL:
        assert name in run.output
    assert "invalid" not in run.output


@pytest.mark.parametrize("name", ALL)
def test_every_concession_has_text_sources_and_a_short_title(name: str) -> None:
    sc = load_scenario(name)
    assert sc.sources and sc.calendar_start
    for c in sc.concessions:
        assert c.text and c.sources, c.id
        assert c.title is not None and len(c.title) <= 70, c.id
    for r in sc.rules:
        assert r.text, r.id


@pytest.mark.parametrize("name", sorted(OPTIMA))
def test_dataset_solves_to_its_known_optimum(name: str) -> None:
    result = solve_checked(load_scenario(name), time_limit_s=60.0)
    assert result.status == "optimal"
    assert [(o.metric, o.value) for o in result.objective] == OPTIMA[name]
    assert all(o.bound == o.value for o in result.objective)


def test_hanoi_us_position_is_infeasible_with_its_exact_minimal_conflict() -> None:
    sc = load_scenario(INFEASIBLE)
    result = solve_checked(sc, time_limit_s=60.0)
    assert result.status == "infeasible"
    assert result.conflict is not None
    # One of several minimal conflicts of this position; which one the deletion
    # filter returns depends on the model's encoding (pinned: 1 worker, seed 0).
    assert result.conflict.rules == ["dprk_exposure_cap", "hanoi_us_yongbyon_first"]
    assert [d.spec_dict() for d in result.conflict.demands] == [
        {"concession": "dprk_nuclear_test_moratorium", "field": "required"},
        {"concession": "dprk_programme_declaration", "field": "required"},
        {"concession": "dprk_yongbyon_dismantlement", "field": "required"},
        {"concession": "dprk_undeclared_enrichment_freeze", "field": "required"},
        {"concession": "dprk_nuclear_test_moratorium", "field": "latest_end"},
        {"concession": "dprk_programme_declaration", "field": "latest_end"},
        {"field": "horizon"},
    ]
    fixes = {s.change: s.resolves for s in result.conflict.suggestions}
    assert fixes["raise the exposure cap of rule 'dprk_exposure_cap' from 8 to 12"] == "scenario"


@pytest.mark.parametrize("name", HISTORICAL)
def test_observed_schedule_keeps_every_agreement_rule(name: str) -> None:
    sc = load_scenario(name)
    observed = observed_result(sc)
    found = check_rules(sc, observed)
    agreement = [r.id for r in sc.rules if r.enabled and AGREEMENT_TAG in r.tags]
    assert agreement
    assert {rid: found[rid] for rid in agreement} == {rid: [] for rid in agreement}
    verdicts = {v.id: v.verdict for v in rule_verdicts(sc, observed)}
    assert all(verdicts[rid] in ("held", "vacuous") for rid in agreement)


def test_jcpoa_verification_comes_before_implementation_day_relief() -> None:
    obs = _obs(load_scenario("jcpoa_2015"))
    report_day = obs["iaea_implementation_report"][0]
    assert obs["iran_annex_v_nuclear_steps"][1] <= report_day == 186
    for relief in ("unsc_resolutions_terminated", "eu_nuclear_sanctions_lifted",
                   "us_secondary_sanctions_ceased"):
        assert obs[relief][0] == report_day
    # Adoption Day is UNSCR 2231 + 90 days; relief was adopted then, effective later.
    assert obs["iran_adoption_day"][0] == obs["unscr_2231_endorsement"][0] + 90
    assert obs["eu_lifting_regulation_adopted"][0] < report_day
    assert obs["iran_pmd_roadmap"][1] <= report_day


def test_agreed_framework_special_inspections_before_key_components() -> None:
    sc = load_scenario("agreed_framework_1994")
    obs = _obs(sc)
    # History: the freeze within a month, oil within three; no key component was ever
    # delivered, so none went in before special inspections.
    assert obs["dprk_nuclear_freeze"][1] <= 1
    assert obs["us_first_hfo_shipment"][0] <= 3
    assert "kedo_key_components" not in obs and "dprk_iaea_full_compliance" not in obs
    rule = next(r for r in sc.rules if r.id == "compliance_before_key_components")
    assert isinstance(rule, Precedence) and AGREEMENT_TAG in rule.tags
    assert (rule.before, rule.after) == ("dprk_iaea_full_compliance", "kedo_key_components")
    # The optimizer's roadmap under the same rules keeps the order.
    placed = _placed(solve_checked(sc))
    assert placed["dprk_iaea_full_compliance"][1] <= placed["kedo_key_components"][0]
    assert placed["kedo_lwr_construction"][0] + 36 <= placed["dprk_iaea_full_compliance"][0]


def test_six_party_shutdown_after_bda_and_first_oil_sst_45_days_after_declaration() -> None:
    obs = _obs(load_scenario("six_party_2007"))
    shutdown = obs["dprk_yongbyon_shutdown"][0]
    assert obs["us_bda_funds_released"][1] <= shutdown == 151
    assert obs["rok_first_hfo_50000t"][0] <= shutdown
    declaration = obs["dprk_complete_declaration"][1]
    assert obs["us_twea_lifted"][0] == declaration == 499
    assert obs["us_sst_rescinded"][0] - declaration >= 45
    assert obs["us_sst_rescinded"][0] == 606


def test_observed_results_are_valid_apart_from_the_steps_that_never_happened() -> None:
    for name in HISTORICAL:
        sc = load_scenario(name)
        observed = observed_result(sc)
        absent_required = {c.id for c in sc.concessions
                           if not c.optional and c.id not in _obs(sc)}
        agreement_only = sc.model_copy(update={
            "rules": [r for r in sc.rules if AGREEMENT_TAG in r.tags],
            "concessions": [c.model_copy(update={"optional": c.optional
                                                 or c.id in absent_required})
                            for c in sc.concessions],
        })
        rebuilt = observed_result(agreement_only)
        assert_valid(agreement_only, rebuilt)
        assert rebuilt.metrics == observed.metrics


def test_hanoi_joint_balanced_compromise_asks_least_of_the_side_asked_most() -> None:
    """SPEC §5.6 on the joint Hanoi dataset. By total cost several corrections tie at 44
    (e.g. the DPRK cap 8 -> 12 (14) with the DPRK's own reciprocity switched off (30):
    all 44 asked of the DPRK). Balanced: drop Yongbyon's dismantlement (the US's demand:
    10 + value 14 = 24) and the UN relief (the DPRK's: 10 + 10 = 20): the side asked
    most pays 24."""
    from optimizer.explain.corrections import bills, find_corrections

    sc = load_scenario(JOINT)
    assert sc.principal_ids == ["US", "DPRK"]
    total = find_corrections(sc, 1, time_limit_s=30, workers=1)
    assert total.corrections[0].cost == 44 and total.corrections[0].proven
    rep = find_corrections(sc, 1, balanced=True, time_limit_s=30, workers=1)
    (best,) = rep.corrections
    assert best.proven and best.cost == 44
    assert {(ch.path, ch.party) for ch in best.changes} == {
        ("concessions[dprk_yongbyon_dismantlement].optional", "US"),
        ("concessions[unsc_lift_2016_17_resolutions].optional", "DPRK")}
    assert bills(rep.specs[0]) == {"US": 24, "DPRK": 20}
    assert best.metrics is not None and best.metrics.makespan == 13
