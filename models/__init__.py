"""Scenario and result types of Roadmap Optimizer (SPEC §1 and §3)."""

from models.datasets import datasets_dir, list_datasets, resolve_scenario
from models.errors import ScenarioError, ScenarioErrors
from models.loading import dumps_scenario, load_scenario, loads_scenario, parse_scenario
from models.options import SolveOptions
from models.result import Conflict, Demand, Metrics, Result, ScheduleEntry
from models.rules import (
    Exclusive,
    Exposure,
    PhaseBalance,
    Precedence,
    Reciprocity,
    Requires,
    Rule,
    Together,
)
from models.scenario import Concession, Objective, ObjectiveTerm, Party, Phase, Resource, Scenario

__all__ = [
    "Concession", "Conflict", "Demand", "Exclusive", "Exposure", "Metrics", "Objective",
    "ObjectiveTerm", "Party", "Phase", "PhaseBalance", "Precedence", "Reciprocity", "Requires",
    "Resource", "Result", "Rule", "Scenario", "ScenarioError", "ScenarioErrors", "ScheduleEntry",
    "SolveOptions", "Together", "datasets_dir", "dumps_scenario", "list_datasets",
    "load_scenario", "loads_scenario", "parse_scenario", "resolve_scenario",
]
