"""The Roadmap tab: metrics strip, Gantt chart, exposure curves, phased table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from models import Result, Scenario
from models.calendar import label as cal_label
from models.result import METRIC_NAMES
from optimizer.model.derived import derive_all
from optimizer.model.evaluate import placements, term_value
from optimizer.studies.exports import chart_png, schedule_csv
from optimizer.studies.glossary import GLOSSARY, METRIC_TERMS, metric_unit
from ui import charts, explaining, runs
from ui.state import AppState
from ui.views.corrections import applied_panel

METRIC_TITLES = METRIC_TERMS

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
    if objective is not None and set(objective[0]) == set(sc.principal_ids):
        objective = None   # SPEC §5.1: the metric already covers exactly these parties
    # Content-wide metrics that wrap, so that no label is cut off at 1280 px.
    with st.container(horizontal=True, gap="small", key="metrics_strip"):
        if objective is not None:
            parties, peak = objective
            st.metric(f"Peak (objective: {', '.join(parties)})", f"{peak} value points",
                      width="content",
                      help=GLOSSARY["Peak exposure"] + " Here over the parties that the "
                           "objective's peak-exposure term counts.")
        for name in METRIC_NAMES:
            value = getattr(m, name)
            delta = value - getattr(prev, name) if prev is not None else None
            title = METRIC_TITLES[name]
            if name == "peak_exposure":
                # SPEC §5.1: the reported peak is over the principals.
                title += f" ({', '.join(sc.principal_ids)})"
            unit = metric_unit(sc, name)
            date = cal_label(sc, value) if name == "makespan" else None
            shown = f"{value} {unit}" + (f" ({date})" if date else "")
            help_text = GLOSSARY[METRIC_TITLES[name]]
            if delta:
                help_text += " The arrow: change from the previous solve."
            st.metric(title, shown, delta=delta or None, delta_color="inverse",
                      width="content", help=help_text)


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


def same_frame(a: Scenario, b: Scenario) -> bool:
    """Figures compare only in the same time unit between the same principals."""
    return a.time_unit == b.time_unit and a.principal_ids == b.principal_ids


def exchange_table(sc: Scenario, result: Result) -> None:
    """Per phase, in words: what each principal gives and what it receives."""
    for phase in charts.gives_and_receives(sc, result):
        st.markdown(f"**{phase['number']}. {phase['phase']}** — {phase['window']}")
        cols = st.columns(len(phase["sides"]) or 1)
        for col, side in zip(cols, phase["sides"], strict=False):
            with col:
                gives = "; ".join(side["gives"]) or "nothing"
                gets = "; ".join(side["receives"]) or "nothing"
                st.markdown(f"*{side['name']}* gives: {gives}  \nreceives: {gets}")


_SAVED = "rm_save_message"


def _save(state: AppState, key: str) -> None:
    name = st.session_state.get(key) or ""
    error = runs.save(state, name)
    if error:
        st.session_state[_SAVED] = ("error", error)
        return
    # Said under the box by the fragment's own run, not at the top of the next one.
    st.session_state[_SAVED] = state.flash.pop()
    st.session_state.pop(key, None)    # a fresh name field with the next default name


@st.fragment
def save_box(state: AppState) -> None:
    """The name and "Save run", in a fragment: a save reruns these few elements only.

    Saving changes nothing else on the page (the Compare and History tabs,
    which list the saved runs, are drawn only while open), but a run of the
    whole app made the browser redraw its ~200 elements: a save took 0.35 s
    from click to the page's last change, 0.14 s as a fragment (seed, quiet
    machine, benchmarks/ui_latency.py). Its answer is said here, under the box.
    """
    cols = st.columns([3, 1], vertical_alignment="bottom")
    key = state.key("save_name")
    saved, _ = runs.list_runs()
    with cols[0]:
        st.text_input("Save this roadmap for comparison as", value=runs.next_name(saved),
                      key=key, help=f"Saved in the run store {runs.store_path()}")
    with cols[1]:
        st.button("Save run", key="save_run", on_click=_save, args=(state, key),
                  width="stretch")
    said = st.session_state.pop(_SAVED, None)
    if said is not None:
        level, message = said
        (st.error if level == "error" else st.success)(message)


def _stem(sc: Scenario) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in sc.name.lower())[:40] or "roadmap"


def briefing_buttons(sc: Scenario, result: Result, cols: Sequence[Any],
                     state: AppState | None = None) -> None:
    """The briefing, built on click: for a roadmap (with its stress test) or, when there
    is none, its cheapest corrections (searched within the app's time limit)."""
    stem = _stem(sc)
    limit = state.time_limit_s if state is not None else 30.0
    # The Explain tab's corrections when it has them: the same words, no second search.
    found = explaining.for_briefing(state) if state is not None and not result.solved \
        else None
    cols[0].download_button("Briefing (PDF)", lambda: briefing_pdf(sc, result, found, limit),  # type: ignore[arg-type]
                            f"{stem}.briefing.pdf", "application/pdf", width="stretch",
                            key="dl_brief_pdf", help="Summary, exchange view, exposure, "
                            "stress test (or the corrections), binding rules and sources, for "
                            "a decision-maker")
    cols[1].download_button("Briefing (HTML)", lambda: briefing_html(sc, result, found, limit),  # type: ignore[arg-type]
                            f"{stem}.briefing.html", "text/html", width="stretch",
                            key="dl_brief_html")


def downloads(sc: Scenario, result: Result, chart: object,
              state: AppState | None = None) -> None:
    stem = _stem(sc)
    cols = st.columns(5)
    briefing_buttons(sc, result, cols, state)
    cols[2].download_button("Result (JSON)", result.to_json(), f"{stem}.result.json",
                            "application/json", width="stretch", key="dl_json")
    cols[3].download_button("Schedule (CSV)", lambda: schedule_csv(sc, result),  # type: ignore[arg-type]
                            f"{stem}.csv", "text/csv", width="stretch", key="dl_csv",
                            help="Titles, party and phase names and calendar dates; the ids "
                                 "and time numbers in their own columns")
    cols[4].download_button("Chart (PNG)", lambda: chart_png(chart, sc, result),  # type: ignore[arg-type]
                            f"{stem}.png", "image/png", width="stretch", key="dl_png",
                            help="The chart with its legend, under the scenario's name and "
                                 "dates")


def briefing_html(sc: Scenario, result: Result, found: Any = None,
                  time_limit_s: float = 30.0) -> str:
    """The same briefing as `roadmap report` (its default stress samples and seed)."""
    from optimizer.studies.briefing import briefing, render_html

    return render_html(briefing(sc, result, corrections=found, time_limit_s=time_limit_s))


def briefing_pdf(sc: Scenario, result: Result, found: Any = None,
                 time_limit_s: float = 30.0) -> bytes:
    """The PDF briefing, printed on demand (a second or two of Chromium)."""
    import tempfile
    from pathlib import Path

    from optimizer.studies.briefing import html_to_pdf

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "brief.pdf"
        html_to_pdf(briefing_html(sc, result, found, time_limit_s), out)
        return out.read_bytes()


def roadmap_tab(state: AppState) -> None:
    result, sc = state.result, state.result_scenario
    if result is None or sc is None:
        st.info("Solving the scenario… the roadmap appears here.")
        return
    applied_panel(state, "roadmap")
    if state.working != sc:
        st.warning("The scenario has been edited since this roadmap was solved. "
                   "Press **Solve** in the sidebar to update it.")
    text = STATUS_TEXT[result.status]
    if result.status == "unknown" and state.result_stopped:
        text = "Stopped before any roadmap was found: press Solve to search again"
    wall = f" · {result.solver.wall_time_s:.2f} s"
    if result.status == "optimal":
        st.success(text + wall)
    elif result.status == "feasible":
        st.warning(text + wall)
    else:
        st.error(text + wall)
        if result.conflict is not None:
            st.markdown(result.conflict.message)
        if result.status == "infeasible":
            briefing_buttons(sc, result, st.columns(5), state)
        return
    previous = state.previous if (state.previous_scenario is not None and same_frame(
        state.previous_scenario, sc)) else None
    metrics_strip(sc, result, previous)
    cols = st.columns(2)
    with cols[0]:
        view = st.radio("View", ["Exchange (all sides by time)", "By party"], horizontal=True,
                        key="gantt_view", help=GLOSSARY["Reciprocal pair"])
    with cols[1]:
        colour = st.radio("Colour by", ["party", "category"], horizontal=True, key="colour_by")
    exchange = (view or "").startswith("Exchange")
    # Charts are memoised by the solve's key (the scenario's content and the options)
    # and the result: a switch back to a dataset solved before (a new scenario object,
    # its result from the cache) draws them without building them again (~0.3 s).
    shown = (state.result_key, id(result))
    gantt = state.memo(("gantt", *shown, colour, exchange), lambda: charts.gantt(
        sc, result, color_by=colour or "party", width=1100, exchange=exchange,
        title=None if exchange else "Roadmap by party"), result)
    charts.draw(state.memo(("gantt_spec", id(gantt)), lambda: charts.spec(gantt), gantt), "gantt")
    absent = [sc.concession(e.id).label for e in result.schedule if not e.present]
    if absent:
        st.caption("Left out (optional): " + "; ".join(absent))
    # The two collapsed sections are drawn while open only (opening reruns the app):
    # their ~30 elements and the table's grid were redrawn by every click.
    words = st.expander("What each side gives and receives, phase by phase", expanded=False,
                        key="exchange_open", on_change="rerun")
    if words.open is not False:
        with words:
            exchange_table(sc, result)
    charts.draw(state.memo(("exposure", *shown), lambda: charts.spec(
        charts.exposure_chart(sc, result, width=1100, height=220)), result), "exposure")
    # Built only while open (its chart is ~0.2 s of each new roadmap's run, and as
    # much again for the browser to draw); opening it reruns the app.
    ledger = st.expander("Ledger of each principal: delivered, received, at risk, exposure",
                         expanded=False, key="ledger_open", on_change="rerun")
    with ledger:
        from models.notebook import ledger_chart

        st.caption(GLOSSARY["Exposure"])
        if ledger.open:
            charts.draw(state.memo(("ledger", *shown), lambda: charts.spec(
                ledger_chart(result, sc, width=1000)), result), "ledger")
    others = [p for p in sc.party_ids if p not in sc.principal_ids]
    if others:
        st.caption("Other parties (not principals): " + ", ".join(others))
    table = st.expander("Phased schedule table", expanded=False, key="table_open",
                        on_change="rerun")
    if table.open is not False:
        with table:
            st.dataframe(phased_table(sc, result), hide_index=True, width="stretch")
    downloads(sc, result, gantt, state)
    save_box(state)
