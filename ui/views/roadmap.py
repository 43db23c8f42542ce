"""The Roadmap tab: metrics strip, Gantt chart, exposure curves, phased table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from models import Result, Scenario
from models.result import METRIC_NAMES
from optimizer.model.derived import derive_all
from optimizer.model.evaluate import placements, term_value
from ui import charts, runs
from ui.state import AppState
from ui.views.compare import METRIC_TITLES

STATUS_TEXT = {
    "optimal": "Optimal roadmap (every objective stage proven optimal)",
    "feasible": "Feasible roadmap (the best found before the time limit or Stop; "
                "not proven optimal)",
    "infeasible": "No roadmap satisfies every rule — see the Explain tab",
    "unknown": "No roadmap found within the time limit",
}


def objective_peak(sc: Scenario, result: Result) -> tuple[list[str], int] | None:
    """(parties, peak) of the objective's peak_exposure term when it names parties.

    The all-party metric counts every party, capped or not; the objective may
    count only some of them (US-DPRK: the UNSC is uncapped), so both are shown.
    """
    term = next((t for t in sc.objective.terms
                 if t.metric == "peak_exposure" and t.parties), None)
    if term is None or not result.solved:
        return None
    placed = placements(result)
    parties = list(term.parties or [])
    return parties, term_value(sc, placed, "peak_exposure", parties, derive_all(sc))


def metrics_strip(sc: Scenario, result: Result, previous: Result | None) -> None:
    m = result.metrics
    if m is None:
        return
    prev = previous.metrics if previous is not None else None
    objective = objective_peak(sc, result)
    # Content-wide metrics that wrap, so that no label is cut off at 1280 px.
    with st.container(horizontal=True, gap="small", key="metrics_strip"):
        for name in METRIC_NAMES:
            value = getattr(m, name)
            delta = value - getattr(prev, name) if prev is not None else None
            title = METRIC_TITLES[name]
            if name == "peak_exposure" and objective is not None:
                title += " (all parties)"
            st.metric(title, value, delta=delta or None, delta_color="inverse", width="content",
                      help=None if delta is None else "Change from the previous solve")
            if name == "peak_exposure" and objective is not None:
                parties, peak = objective
                st.metric(f"Peak (objective: {', '.join(parties)})", peak,
                          width="content",
                          help="The peak over the parties that the objective's peak-exposure "
                               "term counts; the all-party figure also counts the others.")


def phased_table(sc: Scenario, result: Result) -> pd.DataFrame:
    titles = {c.id: c.label for c in sc.concessions}
    phase_names = {p.id: p.name or p.id for p in sc.effective_phases}
    order = {p.id: k for k, p in enumerate(result.phases)}
    rows = []
    for e in result.schedule:
        rows.append({
            "Phase": phase_names.get(e.phase or "", "left out") if e.present else "left out",
            "Concession": titles.get(e.id, e.id),
            "Party": e.party,
            "Start": charts.when(sc, e.start) if e.present else "—",
            "End": charts.when(sc, e.end) if e.present else "—",
            "Verified": charts.when(sc, e.verified) if e.present else "—",
            "_k": order.get(e.phase or "", len(order)),
            "_s": e.start if e.start is not None else 10**9,
        })
    frame = pd.DataFrame(rows).sort_values(["_k", "_s", "Party"])
    return frame.drop(columns=["_k", "_s"]).reset_index(drop=True)


def _save(state: AppState, key: str) -> None:
    name = st.session_state.get(key) or ""
    error = runs.save(state, name)
    if error:
        state.say("error", error)
    else:
        state.gen += 1  # a fresh name field with the next default name


def save_box(state: AppState) -> None:
    cols = st.columns([3, 1], vertical_alignment="bottom")
    key = state.key("save_name")
    saved, _ = runs.list_runs()
    with cols[0]:
        st.text_input("Save this roadmap for comparison as", value=runs.next_name(saved),
                      key=key, help=f"Saved in the run store {runs.store_path()}")
    with cols[1]:
        st.button("Save run", key="save_run", on_click=_save, args=(state, key),
                  width="stretch")


def downloads(sc: Scenario, result: Result, chart: object) -> None:
    stem = "".join(ch if ch.isalnum() else "_" for ch in sc.name.lower())[:40] or "roadmap"
    cols = st.columns(3)
    cols[0].download_button("Result (JSON)", result.to_json(), f"{stem}.result.json",
                            "application/json", width="stretch", key="dl_json")
    cols[1].download_button("Schedule (CSV)", result.to_csv(), f"{stem}.csv", "text/csv",
                            width="stretch", key="dl_csv")
    cols[2].download_button("Gantt chart (PNG)", lambda: charts.to_png(chart),  # type: ignore[arg-type]
                            f"{stem}.png", "image/png", width="stretch", key="dl_png")


def roadmap_tab(state: AppState) -> None:
    result, sc = state.result, state.result_scenario
    if result is None or sc is None:
        st.info("Solving the scenario… the roadmap appears here.")
        return
    if state.working != sc:
        st.warning("The scenario has been edited since this roadmap was solved. "
                   "Press **Solve** in the sidebar to update it.")
    text = STATUS_TEXT[result.status]
    wall = f" · {result.solver.wall_time_s:.2f} s"
    if result.status == "optimal":
        st.success(text + wall)
    elif result.status == "feasible":
        st.warning(text + wall)
    else:
        st.error(text + wall)
        if result.conflict is not None:
            st.markdown(result.conflict.message)
        return
    metrics_strip(sc, result, state.previous)
    colour = st.radio("Colour by", ["party", "category"], horizontal=True, key="colour_by")
    gantt = charts.gantt(sc, result, color_by=colour or "party", width=560)
    st.altair_chart(gantt)
    absent = [sc.concession(e.id).label for e in result.schedule if not e.present]
    if absent:
        st.caption("Left out (optional): " + "; ".join(absent))
    st.markdown("**Exposure per party** — what each side would lose if the others walked "
                "away; dashed line: the cap, triangle: the worst moment")
    st.altair_chart(charts.exposure_chart(sc, result, width=380, height=140))
    with st.expander("Phased schedule table", expanded=False):
        st.dataframe(phased_table(sc, result), hide_index=True, width="stretch")
    downloads(sc, result, gantt)
    save_box(state)
