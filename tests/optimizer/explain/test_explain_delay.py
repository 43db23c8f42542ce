"""What binds a roadmap under a delayed cap (SPEC §5.3): the chain runs through the late credit."""

from __future__ import annotations

from optimizer.explain.binding import binding_report
from tests.conftest import scenario_from, solve_checked
from tests.optimizer.model.test_verification_delay import cap, scenario


def test_the_critical_chain_waits_for_the_late_credit() -> None:
    # b credits A 8 at 2; the cap (A <= 0) counts it from 2 + 3, so a starts at 5.
    sc = scenario_from(scenario(cap(0, 3)))
    r = solve_checked(sc)
    chain = binding_report(sc, r).critical_chain
    assert [(link.concession, link.start, link.via) for link in chain] == [
        ("b", 0, None), ("a", 5, "rule:cap")]
