"""Independent checker: does a Result honour its Scenario (SPEC §2, §3 and §5.1-5.4)?

Everything is recomputed here in plain Python from the scenario and the
reported schedule. On purpose this module imports neither OR-Tools nor the
engine's own helpers (``optimizer.model.derived``, ``optimizer.model.evaluate``): a bug
shared by the engine and its reader must not hide itself from the checker.

The package: ``figures`` (the SPEC's arithmetic, its own copy), ``checker``
(one result against one scenario), ``progress`` (§5.5 scenarios). Nothing here
imports the engine (an import-linter contract).
"""

from __future__ import annotations

from models.result import Result
from models.scenario import Scenario
from optimizer.check.checker import _Checker
from optimizer.check.figures import derive_terms, exposure_levels, ledger_points
from optimizer.check.progress import _ProgressChecker

__all__ = ["_Checker", "assert_valid", "check", "check_rules", "derive_terms",
           "exposure_levels", "ledger_points"]


def check(scenario: Scenario, result: Result) -> list[str]:
    """Every way ``result`` breaks SPEC §2/§3 for ``scenario``; empty when valid."""
    return _checker(scenario, result).run()


def _checker(scenario: Scenario, result: Result) -> _Checker:
    """§5.5 scenarios get the progress checker (defined at the end of this module)."""
    return _ProgressChecker(scenario, result) if scenario.progress is not None \
        else _Checker(scenario, result)


def check_rules(scenario: Scenario, result: Result,
                include_disabled: bool = False) -> dict[str, list[str]]:
    """Violations of each rule by a solved ``result``, keyed by rule id ([] = the rule holds).

    Only the rules are judged (the schedule's own windows and durations are
    what ``check`` is for); a result without a schedule yields {}. Disabled
    rules are judged too when ``include_disabled`` (for backtests of
    positions that the scenario leaves switched off).
    """
    if result.status not in ("optimal", "feasible"):
        return {}
    chk = _checker(scenario, result)
    if not chk._check_phases():
        return {}
    chk._check_schedule()
    chk.errors.clear()
    out: dict[str, list[str]] = {}
    for rule in scenario.rules:
        if rule.enabled or include_disabled:
            chk._check_rule(rule)
            out[rule.id] = list(chk.errors)
            chk.errors.clear()
    return out


def assert_valid(scenario: Scenario, result: Result) -> None:
    errors = check(scenario, result)
    if errors:
        raise AssertionError("result violates the scenario:\n  " + "\n  ".join(errors))
