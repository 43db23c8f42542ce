"""The Explain tab: why a roadmap is impossible, and what holds a schedule in place.

For an impossible roadmap, the cheapest corrections as cards and the
grouped conflict (``ui.views.corrections``, computed in the background by
``ui.explaining``); for a feasible one, each party's worst moment to be
abandoned, the critical chain and each step's slack.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from models import Result, Scenario
from ui import explaining, jobs
from ui.charts import when, worst_moments
from ui.state import AppState
from ui.views.corrections import applied_panel, corrections_view, prepare, stale_note

__all__ = ["explain_tab", "prepare"]

BINDING_BUDGET_S = 15.0


def defection_frame(sc: Scenario, result: Result) -> pd.DataFrame:
    """Per party: the worst moment to be abandoned, how much, after what."""
    worst = worst_moments(sc, result)
    titles = {c.id: c.label for c in sc.concessions}
    rows = []
    for p in sc.parties:
        w = worst.get(p.id)
        exposed = w is not None and w.worst_time is not None
        rows.append({
            "Party": p.name or p.id,
            "Worst moment": when(sc, w.worst_time) if exposed and w else "never exposed",
            "Exposure then": w.worst_level if w else 0,
            "Risk taken": w.given if w else 0,
            "Verified credit": w.credited if w else 0,
            "Cap": "—" if w is None or w.cap is None else str(w.cap),
            "Started then": "; ".join(titles.get(c, c) for c in w.after) if w else "",
        })
    return pd.DataFrame(rows)


def binding_frames(sc: Scenario, report: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(slack per concession with the rules tight on it, the critical chain)."""
    titles = {c.id: c.label for c in sc.concessions}
    party = {c.id: c.party for c in sc.concessions}
    tight_on: dict[str, list[str]] = {}
    for t in report.tight:
        for cid in t.concessions:
            tight_on.setdefault(cid, []).append(t.element.split(":", 1)[-1])
    on_chain = {link.concession for link in report.critical_chain}

    def fmt(x: int | None) -> str:
        return "?" if x is None else str(x)

    slack = pd.DataFrame([{
        "Concession": titles.get(s.concession, s.concession),
        "Party": party.get(s.concession, ""),
        "Start": when(sc, s.start),
        "Could start earlier by": fmt(s.earlier),
        "Could start later by": fmt(s.later),
        "Critical": "yes" if s.concession in on_chain else "",
        "Tight rules": ", ".join(dict.fromkeys(tight_on.get(s.concession, []))),
    } for s in report.slack])
    chain = pd.DataFrame([{
        "Concession": titles.get(link.concession, link.concession),
        "Start": when(sc, link.start), "End": when(sc, link.end), "Why": link.detail,
    } for link in report.critical_chain])
    return slack, chain


def _report(state: AppState, sc: Scenario, result: Result) -> Any:
    """The binding report of the shown result, computed once per result."""
    import time

    from optimizer.explain.binding import binding_report

    key = state.result_key or ""
    if key not in state.analysis:
        with st.spinner("Working out what holds this roadmap in place…"):
            state.analysis[key] = binding_report(sc, result,
                                                 deadline=time.monotonic() + BINDING_BUDGET_S)
    return state.analysis[key]


def _binding_view(state: AppState, sc: Scenario, result: Result) -> None:
    st.success(f"A roadmap exists ({result.status}). Below: what holds it in place.")
    st.markdown("**Defection exposure** — if the others walked away at the worst moment")
    st.dataframe(defection_frame(sc, result), hide_index=True, width="stretch")
    report = _report(state, sc, result)
    slack, chain = binding_frames(sc, report)
    st.markdown(f"**Critical chain** — what sets the makespan ({report.makespan} "
                f"{sc.time_unit}s)")
    if chain.empty:
        st.caption("No chain: nothing ends at the makespan.")
    else:
        st.dataframe(chain, hide_index=True, width="stretch")
        st.caption(report.chain_root)
    st.markdown("**Slack and binding rules per concession** (others held where they are)")
    st.dataframe(slack, hide_index=True, width="stretch")
    if report.tight:
        with st.expander(f"Tight rules and limits ({len(report.tight)})"):
            st.dataframe(pd.DataFrame([{
                "Rule or limit": t.element, "When": when(sc, t.time), "What": t.detail,
            } for t in report.tight]), hide_index=True, width="stretch")


def explain_tab(state: AppState, is_open: bool = True) -> None:
    explaining.drain(state)
    applied_panel(state, "explain")
    result, sc = state.result, state.result_scenario
    if result is None or sc is None:
        st.info("Solve the scenario to see an explanation.")
        return
    current = state.working is sc or state.working == sc
    if not current and jobs.running():
        st.info("Solving the edited scenario… its explanation appears here.")
        return
    if result.status == "infeasible":
        corrections_view(state, sc, current)
    elif result.solved:
        if not current:
            stale_note(state, "roadmap")
        if not is_open and state.result_key not in state.analysis:
            # The binding report re-solves the model once per concession (~1.8 s
            # on the seed): worked out when the planner opens this tab, not for
            # every new roadmap whichever tab is open.
            st.caption("Open this tab to see what holds the roadmap in place.")
        else:
            _binding_view(state, sc, result)
    elif state.result_stopped:
        st.warning("The solve was stopped before any schedule was found; press Solve in the "
                   "sidebar to search again.")
    else:
        st.warning("No schedule was found within the time limit; raise the time limit in the "
                   "sidebar and solve again.")
