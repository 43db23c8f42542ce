"""The Explain tab: why a roadmap is impossible, and what holds a schedule in place.

On infeasibility the result carries a minimal conflict (SPEC §3): dropping
any one of its elements makes the rest feasible. So every element gives a
relaxation that is sure to work — switch the rule off, unpin the start,
widen the window — and the engine's numeric suggestions (raise the cap to N)
come first where it found them. Each has an "Apply" button that edits the
working copy and solves again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from models import Demand, Result, Scenario, ScenarioError
from models.result import Suggestion
from optimizer.explain.phrasing import element_sentence
from ui import jobs
from ui.charts import when, worst_moments
from ui.state import AppState, commit, edit

BINDING_BUDGET_S = 15.0


@dataclass(frozen=True)
class Relaxation:
    """One change to the scenario that removes or loosens a conflict element."""

    key: tuple[str, ...]     # the element: ("rule", id) or a demand key
    text: str                # what the planner reads on the button's line
    field: str               # the scenario field to set
    value: Any               # its new value (None removes a bound)


def demand_key(d: Demand) -> tuple[str, ...]:
    if d.concession is not None:
        return ("concession", d.concession, d.field)
    if d.phase is not None:
        return ("phase", d.phase, d.field)
    if d.resource is not None:
        return ("resource", d.resource, d.field)
    return ("horizon",)


def conflict_keys(result: Result) -> list[tuple[str, ...]]:
    conflict = result.conflict
    if conflict is None:
        return []
    return [("rule", r) for r in conflict.rules] + [demand_key(d) for d in conflict.demands]


def drop_relaxation(sc: Scenario, key: tuple[str, ...]) -> Relaxation:
    """Lift the element entirely; minimality makes the rest feasible."""
    from optimizer.model.build import relaxed_horizon

    kind = key[0]
    if kind == "rule":
        return Relaxation(key, "Switch this rule off", "enabled", False)
    if kind == "horizon":
        new = relaxed_horizon(sc)
        return Relaxation(key, f"Extend the horizon to {sc.time_unit} {new}", "horizon", new)
    if kind == "phase":
        if key[2] == "min_length":
            return Relaxation(key, "Drop the phase's minimum length", "min_length", 0)
        return Relaxation(key, "Drop the phase's maximum length", "max_length", None)
    if kind == "resource":
        total = sum(c.uses.get(key[1], 0) for c in sc.concessions)
        return Relaxation(key, f"Raise the capacity to {total}", "capacity", total)
    fld = key[2]
    texts = {
        "start": ("Unpin the start", None),
        "earliest_start": ("Allow it to start at 0", 0),
        "latest_end": ("Drop the deadline (end by the horizon)", None),
        "phases": ("Allow any phase", None),
        "required": ("Make it optional", True),
    }
    text, value = texts[fld]
    return Relaxation(key, text, "optional" if fld == "required" else fld, value)


def engine_relaxations(result: Result) -> list[Suggestion]:
    """The explainer's suggestions (``models.result.Suggestion``)."""
    return list(result.conflict.suggestions) if result.conflict else []


def apply_relaxation(data: dict[str, Any], rel: Relaxation) -> None:
    """Write a relaxation into a scenario dict."""
    kind = rel.key[0]
    if kind == "horizon":
        data["horizon"] = rel.value
        return
    table = {"rule": "rules", "concession": "concessions", "phase": "phases",
             "resource": "resources"}[kind]
    target = next(x for x in data[table] if x["id"] == rel.key[1])
    target[rel.field] = rel.value


def _apply(state: AppState, rel: Relaxation, sentence: str) -> None:
    if edit(state, lambda d: apply_relaxation(d, rel), bump=True) is None:
        state.say("success", f"Applied: {rel.text} — {sentence}")
        jobs.start(state)


def _apply_engine(state: AppState, suggestion: Suggestion) -> None:
    from optimizer.explain.suggestions import apply_suggestion

    try:
        updated = apply_suggestion(state.working, suggestion)
    except ScenarioError as err:
        state.say("error", f"Suggestion not applied — {err}")
        return
    commit(state, updated)
    state.gen += 1
    state.say("success", f"Applied: {suggestion.change}.")
    jobs.start(state)


def _sentence(sc: Scenario, key: tuple[str, ...]) -> str:
    try:
        return element_sentence(sc, key)
    except (KeyError, StopIteration):
        return ":".join(key)


def _suggestion_row(state: AppState, s: Suggestion, key: str) -> None:
    cols = st.columns([5, 1], vertical_alignment="center")
    text = s.change or f"set {s.path} to {s.value}"
    cols[0].markdown(text[:1].upper() + text[1:])
    cols[1].button("Apply", key=key, on_click=_apply_engine, args=(state, s), width="stretch")


def _conflict_view(state: AppState, sc: Scenario, result: Result) -> None:
    conflict = result.conflict
    if conflict is None:
        st.warning("No schedule exists, and no explanation was produced.")
        return
    keys = conflict_keys(result)
    st.error(f"**No roadmap satisfies all of these {len(keys)} positions together.** "
             "The set is minimal: relaxing any one of them removes this conflict.")
    engine = engine_relaxations(result)
    fixes = [s for s in engine if s.resolves == "scenario"]
    if fixes:
        st.markdown("**One change that makes a roadmap possible** — pick the cheapest to give")
        with st.container(border=True, key="fixes"):
            for m, s in enumerate(fixes):
                _suggestion_row(state, s, state.key(f"fix.{m}"))
    from optimizer.explain.phrasing import element_label

    by_element: dict[str, list[Suggestion]] = {}
    for s in engine:
        by_element.setdefault(s.element, []).append(s)
    st.markdown(f"**The positions in conflict ({len(keys)})**")
    with st.expander("Show each position and how to relax it", expanded=len(keys) <= 8):
        for n, key in enumerate(keys):
            sentence = _sentence(sc, key)
            css = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in element_label(key))
            with st.container(border=True, key=f"conflict-{css}"):
                st.markdown(f"**{n + 1}.** {sentence}")
                for m, s in enumerate(by_element.get(element_label(key), [])):
                    if s.resolves != "scenario":
                        _suggestion_row(state, s, state.key(f"sugg.{n}.{m}"))
                rel = drop_relaxation(sc, key)
                cols = st.columns([5, 1], vertical_alignment="center")
                cols[0].markdown(rel.text)
                cols[1].button("Apply", key=state.key(f"drop.{n}"), on_click=_apply,
                               args=(state, rel, sentence), width="stretch")
    if conflict.concessions:
        known = {x.id for x in sc.concessions}
        names = [sc.concession(c).label for c in conflict.concessions if c in known]
        st.caption("Concessions involved: " + "; ".join(names))


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


def explain_tab(state: AppState) -> None:
    result, sc = state.result, state.result_scenario
    if result is None or sc is None:
        st.info("Solve the scenario to see an explanation.")
        return
    if result.status == "infeasible":
        _conflict_view(state, sc, result)
    elif result.solved:
        _binding_view(state, sc, result)
    elif state.result_stopped:
        st.warning("The solve was stopped before any schedule was found; press Solve in the "
                   "sidebar to search again.")
    else:
        st.warning("No schedule was found within the time limit; raise the time limit in the "
                   "sidebar and solve again.")
