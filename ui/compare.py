"""Saved runs and the Compare tab: side-by-side roadmaps, metric deltas, what moved.

Runs are kept under a name in the session (a run is the scenario as solved
plus its result). The first selected run is the baseline; every other run is
compared with it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from models.result import METRIC_NAMES
from ui import charts
from ui.state import AppState, SavedRun

METRIC_TITLES = {
    "makespan": "Makespan", "weighted_completion": "Weighted completion",
    "peak_exposure": "Peak exposure", "excluded_value": "Excluded value",
    "phase_imbalance": "Phase imbalance",
}


def next_name(state: AppState) -> str:
    n = len(state.runs) + 1
    while f"Run {n}" in state.runs:
        n += 1
    return f"Run {n}"


def save_run(state: AppState, name: str) -> str | None:
    """Keep the shown result under ``name``; returns an error text or None."""
    name = (name or "").strip()
    if state.result is None or state.result_scenario is None:
        return "Nothing to save yet: solve first."
    if not state.result.solved:
        return "Only a solved roadmap can be saved for comparison."
    if not name:
        return "Give the run a name."
    replaced = name in state.runs
    state.runs[name] = SavedRun(state.result_scenario, state.result)
    state.say("success", f"{'Replaced' if replaced else 'Saved'} run '{name}'.")
    return None


def metrics_frame(runs: dict[str, SavedRun]) -> pd.DataFrame:
    """One row per run: its metrics and the change from the first run."""
    names = list(runs)
    base = runs[names[0]].result.metrics
    rows = []
    for name in names:
        m = runs[name].result.metrics
        row: dict[str, Any] = {"Run": name, "Status": runs[name].result.status}
        for metric in METRIC_NAMES:
            value = getattr(m, metric) if m else None
            ref = getattr(base, metric) if base else None
            row[METRIC_TITLES[metric]] = value
            row[f"Δ {METRIC_TITLES[metric].lower()}"] = (
                value - ref if value is not None and ref is not None else None)
        rows.append(row)
    return pd.DataFrame(rows)


def diff_frame(base_name: str, base: SavedRun, other_name: str, other: SavedRun,
               ) -> pd.DataFrame:
    """Concessions whose start, phase or presence differs between two runs."""
    sc = base.scenario
    phase_names = {p.id: p.name or p.id for p in sc.effective_phases}
    phase_names.update({p.id: p.name or p.id for p in other.scenario.effective_phases})
    a = {e.id: e for e in base.result.schedule}
    b = {e.id: e for e in other.result.schedule}
    titles = {c.id: c.label for c in [*other.scenario.concessions, *sc.concessions]}
    rows = []
    for cid in dict.fromkeys([*a, *b]):
        ea, eb = a.get(cid), b.get(cid)
        in_a = bool(ea and ea.present)
        in_b = bool(eb and eb.present)
        if not in_a and not in_b:
            continue
        start_a = ea.start if ea and in_a else None
        start_b = eb.start if eb and in_b else None
        ph_a = phase_names.get(ea.phase or "", "") if ea and in_a else ""
        ph_b = phase_names.get(eb.phase or "", "") if eb and in_b else ""
        changes = []
        if in_a != in_b:
            changes.append("left out" if in_a else "added")
        else:
            if start_a != start_b:
                changes.append("moved")
            if ph_a != ph_b:
                changes.append("phase change")
        if not changes:
            continue
        shift = start_b - start_a if start_a is not None and start_b is not None else None
        rows.append({
            "Compared": f"{other_name} vs {base_name}",
            "Concession": titles.get(cid, cid),
            "Party": ea.party if ea is not None else (eb.party if eb is not None else ""),
            f"Start ({base_name})": start_a,
            f"Start ({other_name})": start_b,
            "Shift": shift,
            f"Phase ({base_name})": ph_a,
            f"Phase ({other_name})": ph_b,
            "Change": ", ".join(changes),
        })
    frame = pd.DataFrame(rows)
    for col in frame.columns:
        if col.startswith("Start") or col == "Shift":
            frame[col] = frame[col].astype("Int64")
    return frame


def _shared_domain(runs: dict[str, SavedRun]) -> tuple[int, int]:
    return 0, max(charts.time_end(r.scenario, r.result) for r in runs.values())


def _delete(state: AppState, name: str) -> None:
    state.runs.pop(name, None)
    state.say("info", f"Deleted run '{name}'.")


def compare_tab(state: AppState) -> None:
    if not state.runs:
        st.info("No saved runs yet. Solve a variant and use **Save run** on the Roadmap tab; "
                "save two or more to compare them here.")
        return
    names = list(state.runs)
    chosen = st.multiselect("Runs to compare (the first is the baseline)", names,
                            default=names[-3:] if len(names) > 1 else names,
                            # A new key when runs are saved or deleted: the new ones show.
                            key="compare_pick." + "|".join(names))
    if len(chosen) < 2:
        st.info("Pick at least two runs to compare.")
        _run_list(state)
        return
    runs = {n: state.runs[n] for n in chosen}
    st.markdown("**Metrics** (Δ against the baseline; lower is better)")
    st.dataframe(metrics_frame(runs), hide_index=True, width="stretch")
    base_name = chosen[0]
    diffs = [diff_frame(base_name, runs[base_name], n, runs[n]) for n in chosen[1:]]
    moved = pd.concat([d for d in diffs if not d.empty] or [pd.DataFrame()], ignore_index=True)
    st.markdown("**What moved** (start shifts, phase changes, in/out)")
    if moved.empty:
        st.caption("The schedules are identical.")
    else:
        # Blank, not "None", where a concession is out of one of the runs.
        st.dataframe(moved.astype(object).where(moved.notna(), "—"), hide_index=True,
                     width="stretch")
    st.markdown("**Exposure over time** (shared axes)")
    st.altair_chart(charts.exposure_compare(
        {n: (r.scenario, r.result) for n, r in runs.items()}, width=420, height=150))
    st.markdown("**Roadmaps side by side** (shared time axis)")
    domain = _shared_domain(runs)
    base = runs[base_name]
    order = charts.lane_order(base.scenario, base.result)
    width = 300 if len(runs) == 2 else 200
    cols = st.columns([1.6] + [1] * (len(runs) - 1))
    for k, (col, (name, run)) in enumerate(zip(cols, runs.items(), strict=True)):
        with col:
            st.altair_chart(charts.gantt(run.scenario, run.result, domain=domain, width=width,
                                         title=name, order=order, labels=k == 0))
    _run_list(state)


def _run_list(state: AppState) -> None:
    with st.expander(f"Saved runs ({len(state.runs)})"):
        for name, run in list(state.runs.items()):
            cols = st.columns([4, 2, 1])
            m = run.result.metrics
            cols[0].markdown(f"**{name}** — {run.scenario.name}")
            cols[1].caption(f"{run.result.status}; makespan {m.makespan if m else '—'}, "
                            f"peak exposure {m.peak_exposure if m else '—'}")
            cols[2].button("Delete", key=f"del_run.{name}", on_click=_delete,
                           args=(state, name))

