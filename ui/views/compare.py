"""The Compare tab: saved runs side by side — metric deltas, what moved, shared axes.

Runs come from the run store (``ui.runs``). The figures are
``optimizer.studies.compare.compare``'s, the function behind ``roadmap compare``, so
the UI and the CLI never disagree: the first selected run is the baseline,
every metric delta is against it, and the concessions that differ are listed
largest change first (presence, then start shift, end shift, phase).
"""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from models import Result, Scenario
from models.result import METRIC_NAMES
from optimizer.studies.compare import Change, Comparison, compare
from ui import charts, runs
from ui.state import AppState

METRIC_TITLES = {
    "makespan": "Makespan", "weighted_completion": "Weighted completion",
    "peak_exposure": "Peak exposure", "excluded_value": "Excluded value",
    "phase_imbalance": "Phase imbalance",
}
ABSENT = "—"


def like_for_like(scenarios: dict[str, Scenario]) -> str | None:
    """None when the runs' figures compare; else why not, in one sentence."""
    units = {sc.time_unit for sc in scenarios.values()}
    principals = {tuple(sc.principal_ids) for sc in scenarios.values()}
    if len(units) > 1:
        return ("These runs count time in different units (" + " and ".join(
            f"{u}s" for u in sorted(units)) + "): their figures are shown side by side, "
            "without differences.")
    if len(principals) > 1:
        return ("These runs are between different sides: their figures are shown side by "
                "side, without differences.")
    return None


def principal_peaks(sc: Scenario, result: Result) -> dict[str, int | None]:
    """Each principal's own peak exposure (value points), None when not solved."""
    if not result.solved:
        return {p: None for p in sc.principal_ids}
    return {p: max([0, *(lv for _, lv in result.exposure.get(p, []))])
            for p in sc.principal_ids}
MOVED_COLUMNS = ["Compared", "Concession", "Party", "Change", "Baseline start", "Start",
                 "Start shift", "End shift", "Baseline phase", "Phase"]


def _cell(value: Any) -> str:
    return ABSENT if value is None or (isinstance(value, float) and pd.isna(value)) else str(
        value)


def metrics_frame(cmp: Comparison, loaded: dict[str, tuple[Scenario, Result]] | None = None,
                  deltas: bool = True) -> pd.DataFrame:
    """One row per run: the principals' peaks first, then the metrics (with units).

    ``deltas=False`` (runs that are not like for like) leaves the differences out.
    """
    rows = []
    for name, status in zip(cmp.names, cmp.statuses, strict=True):
        row: dict[str, Any] = {"Run": name, "Status": status}
        if loaded is not None:
            sc, result = loaded[name]
            for p, peak in principal_peaks(sc, result).items():
                row[f"Peak exposure of {p} (points)"] = _cell(peak)
        for metric in METRIC_NAMES:
            msc = loaded[name][0] if loaded is not None else None
            unit = {"makespan": f"{msc.time_unit}s" if msc else "time",
                    "weighted_completion": "priority × time" if deltas or msc is None else
                    f"priority × {msc.time_unit}s"}.get(metric, "points")
            title = METRIC_TITLES[metric]
            if metric == "peak_exposure":
                title = "Peak exposure, principals"   # SPEC §5.1
            row[f"{title} ({unit})" if deltas else title] = (
                _cell(cmp.metrics[name][metric]) if deltas or msc is None else
                f"{_cell(cmp.metrics[name][metric])} {unit}")
            if deltas:
                delta = cmp.deltas[name][metric]
                row[f"Δ {METRIC_TITLES[metric].lower()}"] = (
                    ABSENT if delta is None else f"{delta:+d}" if delta else "0")
        rows.append(row)
    # A principal of one run only: "—" in the others, never NaN or None.
    return pd.DataFrame(rows).fillna(ABSENT)


def _change_text(change: Change) -> str:
    if change.present is not None:
        before, after = change.present
        if after and not before:
            return "added"
        return "left out" if before else "not in this run"
    parts = []
    if change.start_shift:
        parts.append("starts later" if change.start_shift > 0 else "starts earlier")
    elif change.end_shift:
        parts.append("ends later" if change.end_shift > 0 else "ends earlier")
    if change.phase is not None:
        parts.append("phase change")
    return ", ".join(parts)


def moved_frame(cmp: Comparison, scenarios: dict[str, Scenario]) -> pd.DataFrame:
    """One row per concession and compared run, largest change first; times as dates."""
    frame = _moved(cmp, scenarios)
    sc = scenarios[cmp.reference]
    for col in ("Baseline start", "Start"):
        frame[col] = [ABSENT if pd.isna(v) else charts.when(sc, int(v)) for v in frame[col]]
    for col in ("Start shift", "End shift"):
        frame[col] = [ABSENT if pd.isna(v) else f"{int(v):+d} {sc.time_unit}s" if v else
                      "0" for v in frame[col]]
    return frame


def _moved(cmp: Comparison, scenarios: dict[str, Scenario]) -> pd.DataFrame:
    """One row per concession and compared run, largest change first."""
    titles: dict[str, str] = {}
    phase_names: dict[str, str] = {}
    for sc in scenarios.values():
        for c in sc.concessions:
            titles.setdefault(c.id, c.label)
        for p in sc.effective_phases:
            phase_names.setdefault(p.id, p.name or p.id)
    index = {name: k for k, name in enumerate(cmp.names)}

    def placed(p: dict[str, Any] | None, fld: str) -> Any:
        if p is None or not p["present"]:
            return None
        return phase_names.get(p[fld], p[fld]) if fld == "phase" else p[fld]

    rows = []
    for diff in cmp.concessions:
        ref = diff.placements[0]
        for change in diff.changes:
            this = diff.placements[index[change.run]]
            rows.append({
                "Compared": f"{change.run} vs {cmp.reference}",
                "Concession": titles.get(diff.id, diff.title or diff.id),
                "Party": diff.party or "",
                "Change": _change_text(change),
                "Baseline start": placed(ref, "start"),
                "Start": placed(this, "start"),
                "Start shift": change.start_shift,
                "End shift": change.end_shift,
                "Baseline phase": placed(ref, "phase") or "—",
                "Phase": placed(this, "phase") or "—",
            })
    frame = pd.DataFrame(rows, columns=MOVED_COLUMNS)
    # Nullable integers: a concession out of one run shows blank, not "None" or 1.0.
    return frame.astype({c: "Int64" for c in
                         ("Baseline start", "Start", "Start shift", "End shift")})


def _shared_domain(loaded: dict[str, tuple[Scenario, Result]]) -> tuple[int, int]:
    return 0, max(charts.time_end(sc, r) for sc, r in loaded.values())


def _digest(ids: list[str]) -> str:
    return hashlib.sha1("|".join(ids).encode()).hexdigest()[:12]


def _pick(ids: list[str], names: dict[str, str]) -> list[str]:
    # A new key whenever runs are saved or deleted, so the newest are preselected.
    digest = _digest(ids)
    chosen: list[str] = st.multiselect(
        "Runs to compare (the first is the baseline)", ids,
        default=ids[-3:] if len(ids) > 1 else ids, format_func=lambda rid: names[rid],
        key=f"compare_pick.{digest}")
    return chosen


def compare_tab(state: AppState) -> None:
    include = st.toggle("Include runs from batches and Pareto curves", key="compare_all",
                        help=f"Every run in the store {runs.store_path()}, not only the "
                             "runs saved here")
    rows, error = runs.list_runs(include_batches=include)
    if error:
        st.error(error)
        return
    if not rows:
        st.info("No saved runs yet. Solve a variant and use **Save run** on the Roadmap tab; "
                "save two or more to compare them here.")
        return
    names = runs.display_names(rows)
    chosen = _pick([r["run_id"] for r in rows], names)
    if len(chosen) < 2:
        st.info("Pick at least two runs to compare.")
    else:
        _comparison(state, {names[rid]: rid for rid in chosen})
    run_list(state, rows, names)


def _comparison(state: AppState, picked: dict[str, str]) -> None:
    # A saved run never changes (a rename changes its name, which is in the key):
    # loading, comparing and charting happen once per choice of runs, not per rerun.
    key = tuple(picked.items())
    try:
        loaded: dict[str, tuple[Scenario, Result]] = state.memo(
            ("compare_runs", key), lambda: {name: runs.load(rid) for name, rid in picked.items()})
    except runs.STORE_ERRORS as err:
        st.error(runs.load_error(err))
        return
    scenarios = {n: sc for n, (sc, _) in loaded.items()}
    cmp = state.memo(("compare", key), lambda: compare(
        {n: r for n, (_, r) in loaded.items()}, scenarios))
    unlike = like_for_like(scenarios)
    if unlike:
        st.warning(unlike)
        st.markdown("**Figures side by side**")
        st.dataframe(metrics_frame(cmp, loaded, deltas=False), hide_index=True,
                     width="stretch")
        for name, (sc, result) in loaded.items():
            charts.draw(state.memo(("compare_gantt", key, name), partial(
                _gantt_spec, sc, result, title=f"{name}: {sc.name}")), f"compare-gantt-{name}")
        return
    st.markdown(f"**Figures** (Δ against the baseline, *{cmp.reference}*; lower is better)")
    st.dataframe(metrics_frame(cmp, loaded), hide_index=True, width="stretch")
    st.markdown("**What moved** (largest change first: in/out, start shift, end shift, phase)")
    moved = moved_frame(cmp, scenarios)
    if moved.empty:
        st.caption("The schedules are identical.")
    else:
        st.dataframe(moved, hide_index=True, width="stretch",
                     column_config={"Concession": st.column_config.TextColumn(width="large"),
                                    "Change": st.column_config.TextColumn(width="medium")})
        st.caption(f"{cmp.unchanged} concession(s) unchanged.")
    st.markdown("**Exposure of the principals over time** (one scale)")
    # One panel per principal, two a row, each fitting its column at any window
    # width (one fixed-width concatenation was cut off below 1280 px).
    panels = state.memo(("compare_exposure", key), lambda: [
        charts.spec(c) for c in charts.exposure_panels(loaded, height=150)])
    charts.draw_panels(panels, "compare-exposure")
    st.markdown("**Roadmaps one under the other** (the same lanes and time axis)")
    domain = _shared_domain(loaded)
    base_sc, base_result = loaded[cmp.reference]
    order = charts.lane_order(base_sc, base_result)
    for name, (sc, result) in loaded.items():
        charts.draw(state.memo(("compare_lanes", key, name), partial(
            _gantt_spec, sc, result, title=name, domain=domain, order=order)),
            f"compare-lanes-{name}")


def _gantt_spec(sc: Scenario, result: Result, *, title: str,
                domain: tuple[int, int] | None = None,
                order: list[str] | None = None) -> dict[str, Any]:
    return charts.spec(charts.gantt(sc, result, domain=domain, width=1100, title=title,
                                    order=order))


def runs_table(rows: list[dict[str, Any]], names: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame([{
        "Run": names[r["run_id"]],
        "Id": r["run_id"],
        "Scenario": r.get("name") or "",
        "Status": r["status"],
        **{METRIC_TITLES[m]: r.get(m) for m in METRIC_NAMES},
        "Saved (UTC)": str(r["created_at"])[:19].replace("T", " "),
        "From": r.get("source") or "",
    } for r in rows])
    return frame.astype({METRIC_TITLES[m]: "Int64" for m in METRIC_NAMES})


def _rename(state: AppState, run_id: str, old: str, key: str) -> None:
    runs.rename(state, run_id, old, st.session_state.get(key) or "")


def run_list(state: AppState, rows: list[dict[str, Any]], names: dict[str, str]) -> None:
    with st.expander(f"Saved runs ({len(rows)}) — stored in {runs.store_path().name}",
                     expanded=len(rows) < 2):
        st.dataframe(runs_table(rows, names), hide_index=True, width="stretch")
        ids = [r["run_id"] for r in rows]
        cols = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
        with cols[0]:
            picked = st.selectbox("Run", ids, index=len(ids) - 1,
                                  format_func=lambda rid: names[rid],
                                  key=f"manage_run.{_digest(ids)}")
        if picked is None:
            return
        key = f"rename_to.{picked}.{names[picked]}"
        with cols[1]:
            st.text_input("New name", value=names[picked], key=key)
        cols[2].button("Rename", key="rename_run", on_click=_rename,
                       args=(state, picked, names[picked], key), width="stretch")
        cols[3].button("Delete", key="delete_run", on_click=runs.delete,
                       args=(state, picked, names[picked]), width="stretch")
