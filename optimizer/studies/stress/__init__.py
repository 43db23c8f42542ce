"""Stress tests (SPEC §5.7): will this roadmap survive slips, refused inspections
and doubt about the numbers?

``stress(scenario, plan=None, samples=10_000, seed=0)`` runs N realisations of
a solved roadmap under the scenario's ``uncertainty`` section and returns a
``StressReport``; ``harden(...)`` looks for the least-costly roadmap whose
breach probability meets a target. Modules: ``compiled`` (the plan as
arrays), ``sampling`` (draws, the correlation model), ``realise`` (the
right-shift policy), ``ledger`` (exposure), ``accumulate`` and ``report``
(figures), ``reference`` (the plain per-sample loop the vectorised path is
tested against), ``harden``, ``table`` (the Rich view).
"""

from optimizer.studies.stress.report import StressReport
from optimizer.studies.stress.run import DEFAULT_SAMPLES, PlanNotSolved, measure, plan_for, stress

__all__ = ["DEFAULT_SAMPLES", "PlanNotSolved", "StressReport", "measure", "plan_for", "stress"]
