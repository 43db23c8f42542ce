"""The planner's words: one definition per term, shown on hover, in Help and in the briefing.

Definitions follow SPEC §2.3–2.4 and §5 in plain language; figures carry their
unit (value points, or the scenario's time unit), so no number stands alone.
"""

from __future__ import annotations

from models import Scenario

GLOSSARY: dict[str, str] = {
    "Exposure": (
        "What a side would lose, in value points, if the others walked away at that moment: "
        "the risk of its own steps already taken, minus the verified credit it has received. "
        "Below 0 means it has received more than it has risked."),
    "Credit": (
        "The part of a step's value that the receiving side can count once the step is "
        "verified: full for public acts and inspections, less for declarations or remote "
        "monitoring, nothing for unverifiable steps."),
    "Risk": (
        "What a step costs its giver if the deal collapses: its cost, scaled by how hard the "
        "step is to take back (reversible 25 %, costly 60 %, irreversible 100 %)."),
    "Verification lag": (
        "The time between a step being completed and the other side being able to verify it "
        "(e.g. 2 time units for on-site inspection). Credit counts only from then on; the "
        "light tail after each bar in the Gantt chart."),
    "Peak exposure": (
        "The largest exposure of any principal at any moment of the roadmap (the 'cliff'), in "
        "value points; an exposure cap bounds it per side."),
    "Makespan": "When the last step ends, counted from the start of the roadmap.",
    "Weighted completion": (
        "The sum over all steps of priority × end time: small when the high-priority steps "
        "end early. Only comparable between variants of the same scenario."),
    "Excluded value": "The total value of optional steps that the roadmap leaves out.",
    "Phase imbalance": (
        "The largest gap, in value points, between what two principals deliver in the same "
        "phase: small when every phase is an even exchange."),
    "Principals": (
        "The negotiating sides whose exposure and balance the roadmap is judged on; other "
        "parties (e.g. the UN Security Council) act but are not judged."),
    "Reciprocal pair": (
        "Two steps of different sides that must start together (within a stated gap): "
        "linked by a grey line in the exchange view."),
    "Breach probability": (
        "The share of the stress test's random realisations in which a side's exposure "
        "goes above its cap at some moment: the chance that slips, late or refused "
        "verifications and doubt about the numbers drive it off the cliff."),
    "Stall probability": (
        "The share of realisations in which the roadmap stops for good: a verification "
        "never comes, so the steps that wait on it never start."),
    "Driver": (
        "A step whose delay moves a figure: the rank correlation (from -1 to +1, no unit) "
        "between how late the step was in a realisation and how late the roadmap ended or "
        "how exposed a side got. Near +1: when this step slips, that figure gets worse."),
    "Hardening": (
        "Re-planning so that the caps still hold when things slip: caps that must hold "
        "even with late verification, verification planned later, or slack before "
        "irreversible steps. Its price is the longer roadmap."),
    "Binding rule": (
        "A rule that holds the roadmap where it is: relaxing it would give a better roadmap."),
}

METRIC_TERMS = {
    "makespan": "Makespan", "weighted_completion": "Weighted completion",
    "peak_exposure": "Peak exposure", "excluded_value": "Excluded value",
    "phase_imbalance": "Phase imbalance",
}


def metric_unit(sc: Scenario, metric: str) -> str:
    """The unit a metric is counted in, for labels ('months', 'value points')."""
    if metric == "makespan":
        return sc.time_unit + "s"
    if metric == "weighted_completion":
        return f"priority × {sc.time_unit}s"
    return "value points"


def metric_label(sc: Scenario, metric: str) -> str:
    return f"{METRIC_TERMS.get(metric, metric)} ({metric_unit(sc, metric)})"


def define(term: str) -> str:
    return GLOSSARY.get(term, "")
