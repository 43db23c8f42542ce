"""The Progress tab: record what has happened, set "as of", re-plan (SPEC §5.5).

The record is the working copy's ``progress`` section, edited in a data
editor (``ui.progress_record``) and committed through ``ui.state.edit``, so
Undo/Redo and validation are the Edit tab's. "Re-plan" runs
``optimizer.studies.replan.start_replan`` — the engine of ``roadmap replan`` —
in the background with progress and Stop (the pattern of ``ui.jobs``), against
the plan shown on the Roadmap tab (``--plan``). The plan and the re-plan are
then drawn side by side on one time axis with the past greyed and a "now"
line; what moved, what the record broke, and the next package (the CLI's
``--next`` figures, from ``next_package``) follow.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from models import Result, Scenario, SolveOptions
from models.calendar import label as cal_label
from models.calendar import to_time
from models.canonical import solve_key
from ui import charts
from ui.jobs import Job, describe
from ui.progress_record import (
    STATES,
    VERIFICATIONS,
    RecordError,
    apply_record_edits,
    describe_time,
    record_rows,
    set_as_of,
    show_time,
    validated,
)
from ui.state import AppState, edit

JOB_KEY = "rm_replan_job"
DONE_KEY = "rm_replans"       # solve key -> Replanned
SHOWN_KEY = "rm_replan_shown"
POLL_S = 0.5
# The --next window the app opens with: six months (the CLI examples' `--next 6`),
# or about the same span in the scenario's own unit.
DEFAULT_NEXT = {"month": 6, "week": 26, "day": 90}


@dataclass
class Replanned:
    """A finished re-plan: what was asked (scenario, plan) and what came back."""

    key: str
    scenario: Scenario          # the scenario solved (``--as-of`` applied)
    result: Result
    plan: Result | None
    plan_scenario: Scenario | None
    options: SolveOptions
    stopped: bool = False


@dataclass
class ReplanJob:
    job: Job                     # the handle, key, scenario and timing (ui.jobs)
    plan: Result | None
    plan_scenario: Scenario | None


def _t(sc: Scenario, t: int | None) -> str:
    """A time for tables: the calendar label, else '<unit> t'."""
    if t is None:
        return "—"
    return cal_label(sc, t) or f"{sc.time_unit} {t}"


# -- the record ---------------------------------------------------------------------
def _commit_rows(state: AppState, key: str) -> None:
    edits = st.session_state.get(key) or {}
    rows = edits.get("edited_rows") or {}
    sc = state.working

    def change(data: dict[str, Any]) -> None:
        apply_record_edits(sc, data, rows)
        validated(sc, data)

    if edit(state, change, bump=True) is None:
        state.say("success", "Progress record saved in the working copy (Undo reverts it).")


def _commit_as_of(state: AppState, key: str) -> None:
    if not state.current(key):
        return
    text = str(st.session_state.get(key) or "").strip()
    sc = state.working

    def change(data: dict[str, Any]) -> None:
        try:
            t = to_time(sc, text)
        except ValueError as exc:
            raise RecordError(f"As of: {exc}") from None
        set_as_of(data, t)
        validated(sc, data)

    edit(state, change, bump=True)


def record_editor(state: AppState) -> None:
    sc = state.working
    as_of = sc.progress.as_of if sc.progress is not None else 0
    key = state.key("as_of")
    cols = st.columns([1, 3], vertical_alignment="bottom")
    with cols[0]:
        st.text_input("As of (the present: nothing new starts before it)", key=key,
                      value=show_time(sc, as_of), on_change=_commit_as_of, args=(state, key),
                      help="A calendar date like the table's, or a number of "
                           f"{sc.time_unit}s from the start")
    with cols[1]:
        st.caption(f"As of {describe_time(sc, as_of)}"
                   + ("" if sc.progress is not None else " (nothing recorded yet)"))
    dates = ("calendar dates (e.g. " + (cal_label(sc, 0) or "") + ") or " + sc.time_unit +
             "s") if sc.calendar_start else f"{sc.time_unit}s (whole numbers)"
    st.caption(f"Record what has happened: times in {dates}. Done: started and finished; "
               "under way: started only; reversed: done, then taken back at a date (its "
               "credit stops, its risk stays); verification on schedule (end + lag), at a "
               "date, or refused (no credit). Rows left 'not started' start at or after "
               "'as of'.")
    table_key = state.key("progress_table")
    col = st.column_config
    st.data_editor(
        state.memo(("progress_rows", id(sc)), lambda: record_rows(sc), sc), key=table_key,
        hide_index=True, num_rows="fixed", width="stretch",
        height=min(38 + 35 * len(sc.concessions), 560),
        disabled=["id", "title", "party"],
        column_config={
            "id": None,
            "title": col.TextColumn("Concession", width="large"),
            "party": col.TextColumn("Party", width="small"),
            "state": col.SelectboxColumn("State", options=STATES, required=True),
            "started": col.TextColumn("Started"),
            "finished": col.TextColumn("Finished"),
            "verification": col.SelectboxColumn("Verification", options=VERIFICATIONS,
                                                required=True),
            "verified_at": col.TextColumn("Verified at"),
            "reversed_at": col.TextColumn("Reversed at"),
            "note": col.TextColumn("Note", width="medium"),
        },
    )
    edits = st.session_state.get(table_key) or {}
    if edits.get("edited_rows") and state.current(table_key):
        _commit_rows(state, table_key)
        st.rerun()


# -- the background re-plan -----------------------------------------------------------
def current_job() -> ReplanJob | None:
    job = st.session_state.get(JOB_KEY)
    return job if isinstance(job, ReplanJob) else None


def the_plan(state: AppState) -> tuple[Result | None, Scenario | None]:
    """The plan to re-plan against: the roadmap on the Roadmap tab, when it has a schedule."""
    if state.result is not None and state.result.solved:
        return state.result, state.result_scenario
    return None, None


def replan_key(sc: Scenario, plan: Result | None, as_planned: bool,
               options: SolveOptions) -> str:
    plan_part = "" if plan is None else plan.to_json()
    return solve_key(sc, options) + "|" + solve_key(plan_part + f"|{as_planned}", {})


def start(state: AppState, as_planned: bool) -> None:
    """Re-plan the working copy against the plan (``roadmap replan --plan [--as-of]``)."""
    from models import ScenarioError
    from optimizer.studies.replan import start_replan

    sc = state.working
    plan, plan_sc = the_plan(state)
    options = state.options()
    key = replan_key(sc, plan, as_planned, options)
    done: dict[str, Replanned] = st.session_state.setdefault(DONE_KEY, {})
    if key in done:
        st.session_state[SHOWN_KEY] = key
        state.say("info", "Same record, plan and options as an earlier re-plan: shown from "
                          "the cache.")
        return
    old = current_job()
    if old is not None:
        old.job.handle.stop()
    as_of = sc.progress.as_of if (as_planned and plan is not None and sc.progress) else None
    try:
        effective, handle = start_replan(sc, plan, options, as_of)
    except ScenarioError as exc:
        st.session_state[JOB_KEY] = None
        state.say("error", f"Re-plan not started — {exc}")
        return
    st.session_state[JOB_KEY] = ReplanJob(Job(handle, key, effective, options,
                                              time.monotonic()), plan, plan_sc)


def stop() -> None:
    job = current_job()
    if job is not None:
        job.job.stopped = True
        job.job.handle.stop()


def collect(state: AppState) -> None:
    """Move a finished re-plan into the session's store of re-plans."""
    rj = current_job()
    if rj is None or not rj.job.handle.done():
        return
    st.session_state[JOB_KEY] = None
    job = rj.job
    try:
        result: Result = job.handle.result(0)
    except Exception as exc:
        state.say("error", f"The re-plan failed: {type(exc).__name__}: {exc}")
        return
    if job.stopped and result.status == "optimal":
        result = result.model_copy(update={"status": "feasible"})
    done: dict[str, Replanned] = st.session_state.setdefault(DONE_KEY, {})
    entry = Replanned(job.key, job.scenario, result, rj.plan, rj.plan_scenario, job.options,
                      job.stopped)
    if not job.stopped and result.status != "unknown":
        done[job.key] = entry
    st.session_state[SHOWN_KEY] = job.key
    st.session_state["rm_replan_last"] = entry
    if job.stopped:
        state.say("warning", "Re-plan stopped: showing the best re-plan found so far.")


def shown() -> Replanned | None:
    entry = st.session_state.get("rm_replan_last")
    key = st.session_state.get(SHOWN_KEY)
    done: dict[str, Replanned] = st.session_state.get(DONE_KEY) or {}
    if key in done:
        return done[key]
    return entry if isinstance(entry, Replanned) and entry.key == key else None


@st.fragment(run_every=POLL_S)
def progress_panel() -> None:
    """Progress of the running re-plan, with Stop; drawn only while one runs."""
    rj = current_job()
    if rj is None:
        return
    job = rj.job
    for event in job.handle.drain():
        job.last = event
    if job.handle.done():
        st.rerun(scope="app")
    elapsed = time.monotonic() - job.started
    cols = st.columns([6, 1])
    with cols[0]:
        st.progress(min(1.0, elapsed / max(job.options.time_limit_s, 0.1)),
                    text="Re-planning — " + describe(job))
    with cols[1]:
        st.button("Stop", key="stop_replan", on_click=stop, type="secondary",
                  help="Stop the re-plan and keep the best found so far")


# -- the figures ----------------------------------------------------------------------
def moved_frame(plan_sc: Scenario, plan: Result, sc: Scenario, result: Result) -> pd.DataFrame:
    """Concessions whose start changed between the plan and the re-plan, most moved first."""
    before = {e.id: e for e in plan.schedule}
    rows = []
    for e in result.schedule:
        p = before.get(e.id)
        old = p.start if p is not None and p.present else None
        new = e.start if e.present else None
        if old == new:
            continue
        by = None if old is None or new is None else new - old
        rows.append({"Concession": sc.concession(e.id).label, "Party": e.party,
                     "Planned start": _t(plan_sc, old), "New start": _t(sc, new),
                     f"Moved by ({sc.time_unit}s)": by,
                     "_k": -abs(by) if by is not None else 0})
    frame = pd.DataFrame(rows, columns=["Concession", "Party", "Planned start", "New start",
                                        f"Moved by ({sc.time_unit}s)", "_k"])
    frame = frame.sort_values("_k", kind="stable").drop(columns="_k").reset_index(drop=True)
    return frame.astype({f"Moved by ({sc.time_unit}s)": "Int64"})


def broken_lines(sc: Scenario, result: Result) -> list[str]:
    """The rules and recorded steps the record breaks (SPEC §5.5), in words."""
    from optimizer.explain.phrasing import rule_sentence

    rules = {r.id: r for r in sc.rules}
    lines = []
    for b in result.broken or []:
        if b.get("rule"):
            rule = rules.get(b["rule"])
            words = rule_sentence(sc, rule) if rule is not None else b["rule"]
            lines.append(f"Rule {words} — {b['message']}")
        else:
            title = sc.concession(b["concession"]).label
            lines.append(f"“{title}”, {b['field'].replace('_', ' ')}: {b['message']}")
    return lines


def package_frames(sc: Scenario, pkg: Any) -> dict[str, pd.DataFrame]:
    """The next package's steps by party (titles, calendar dates)."""
    out = {}
    for party, rows in pkg.steps.items():
        out[party] = pd.DataFrame([{
            "Concession": r["title"], "Starts": _t(sc, r["start"]), "Ends": _t(sc, r["end"]),
            "Verified": "never (refused)" if r["verified"] is None else _t(sc, r["verified"]),
        } for r in rows])
    return out


def ledger_frame(sc: Scenario, pkg: Any) -> pd.DataFrame:
    caps = charts.exposure_caps(sc)
    names = {p.id: p.name or p.id for p in sc.parties}
    return pd.DataFrame([{
        "Principal": names.get(p.party, p.party), "Delivered": p.delivered,
        "Received (verified)": p.received, "At risk": p.at_risk, "Exposure": p.exposure,
        "Cap": caps.get(p.party),
    } for p in pkg.ledger]).astype({"Cap": "Int64"})


def verdict_lines(sc: Scenario, pkg: Any) -> list[str]:
    """Self-enforcing or not, in words (titles and dates instead of ids and times)."""
    if pkg.self_enforcing:
        return [f"Self-enforcing: if nothing after {_t(sc, pkg.until)} happens, every capped "
                "side is still within its cap."]
    title = {c.id: c.label for c in sc.concessions}
    lines = []
    for s in pkg.shortfalls:
        text = (f"Not self-enforcing for {s.party} (rule {s.rule}): if nothing after "
                f"{_t(sc, pkg.until)} happens, {s.party}'s exposure is {s.exposure}, "
                f"{s.exposure - s.cap} over its cap of {s.cap}")
        if s.uncovered:
            text += "; not covered: " + "; ".join(f"“{title[c]}”" for c in s.uncovered)
        if s.covered_at is not None:
            pending = "; ".join(f"“{title[c]}”" for c, _ in s.pending)
            text += (f". It would be if the package ran to {_t(sc, s.covered_at)} "
                     f"(verification due of {pending})")
        elif s.uncovered:
            text += (f". Hold back “{title[s.uncovered[0]]}”, or add verified credit of "
                     f"{s.exposure - s.cap} for {s.party}")
        lines.append(text + ".")
    return lines


def side_by_side(state: AppState, done: Replanned) -> None:
    sc, result = done.scenario, done.result
    as_of = sc.progress.as_of if sc.progress is not None else 0
    plan, plan_sc = done.plan, done.plan_scenario
    runs = [(f"Re-plan from {_t(sc, as_of)}", sc, result)]
    if plan is not None and plan_sc is not None:
        runs.insert(0, ("Plan (the Roadmap tab's roadmap)", plan_sc, plan))
    lo = min(charts.time_window(s, r)[0] for _, s, r in runs)
    hi = max(max(charts.time_window(s, r)[1] for _, s, r in runs), as_of + 1)
    order = charts.lane_order(*(runs[0][1:]))

    def build(k: int) -> Any:
        title, s, r = runs[k]
        # Side by side, the parties' names fewer to a legend row so that none is cut
        # (the plan's plot is the narrower: its lane titles take half its column).
        per_row = 4 if len(runs) == 1 else (1 if k == 0 else 2)
        g = charts.gantt(s, r, domain=(lo, hi), order=order, width="container",
                         title=title, labels=k == 0, legend_columns=per_row)
        return charts.with_now(g, s, as_of, lo) if isinstance(g, alt.LayerChart) else g

    cols = st.columns([3, 2] if len(runs) == 2 else [1])
    for k, column in enumerate(cols):
        with column:
            chart = state.memo(("replan_gantt", done.key, k), partial(build, k), done)
            st.altair_chart(chart, width="stretch")


def show_replan(state: AppState, done: Replanned) -> None:
    sc, result = done.scenario, done.result
    status = {"optimal": st.success, "feasible": st.warning}.get(result.status, st.error)
    figures = ", ".join(f"{o.metric.replace('_', ' ')} {o.value}" for o in result.objective)
    status(f"Re-plan: {result.status} — {figures} · {result.solver.wall_time_s:.2f} s")
    if not result.solved:
        if result.conflict is not None:
            st.markdown(result.conflict.message)
        return
    if done.plan is None:
        st.caption("No plan to compare with (the Roadmap tab has no schedule): the re-plan "
                   "alone is shown, and nothing is kept near a plan.")
    side_by_side(state, done)
    lines = broken_lines(sc, result)
    st.markdown("**Broken by the record** (not enforced; what happened, happened)")
    if lines:
        st.markdown("\n".join(f"- {line}" for line in lines))
    else:
        st.caption("Nothing: every rule can still hold.")
    if done.plan is not None and done.plan_scenario is not None:
        st.markdown("**What moved** (planned start → new start)")
        moved = moved_frame(done.plan_scenario, done.plan, sc, result)
        if moved.empty:
            st.caption("Nothing moved: every step starts as planned.")
        else:
            st.dataframe(moved, hide_index=True, width="stretch")
    next_package_view(state, done)


def next_package_view(state: AppState, done: Replanned) -> None:
    from optimizer.studies.replan import next_package

    sc, result = done.scenario, done.result
    st.markdown("**The next package to put on the table**")
    n = st.number_input(f"Window ({sc.time_unit}s from 'as of', like `roadmap replan --next N`)",
                        min_value=1, max_value=max(1, sc.horizon), step=1,
                        value=min(DEFAULT_NEXT.get(sc.time_unit, 6), max(1, sc.horizon)),
                        key="replan_next")
    pkg = state.memo(("next_package", done.key, int(n)),
                     lambda: next_package(sc, result, int(n)), done)
    st.caption(f"Steps that start from {_t(sc, pkg.as_of)} until before {_t(sc, pkg.until)}, "
               f"and where each principal stands at {_t(sc, pkg.until)} if nothing that starts "
               "later happens.")
    frames = package_frames(sc, pkg)
    if not frames:
        st.caption("No step starts in this window.")
    names = {p.id: p.name or p.id for p in sc.parties}
    for party, frame in frames.items():
        st.markdown(f"*{names.get(party, party)} gives*")
        st.dataframe(frame, hide_index=True, width="stretch")
    st.dataframe(ledger_frame(sc, pkg), hide_index=True, width="stretch")
    for line in verdict_lines(sc, pkg):
        (st.success if pkg.self_enforcing else st.warning)(line)


# -- the tab --------------------------------------------------------------------------
def progress_tab(state: AppState, is_open: bool | None) -> None:
    if not is_open:
        st.caption("Open this tab to record what has happened and re-plan from it.")
        return
    collect(state)
    st.subheader("Progress and re-planning", anchor=False)
    record_editor(state)
    plan, _ = the_plan(state)
    sc = state.working
    cols = st.columns([3, 1], vertical_alignment="bottom")
    with cols[0]:
        as_planned = st.checkbox(
            "Steps the plan started before 'as of' and not recorded here went as planned "
            "(`--as-of` with `--plan`)", key="replan_as_planned", value=False,
            disabled=plan is None)
    with cols[1]:
        st.button("Re-plan", type="primary", key="replan", on_click=start,
                  args=(state, bool(as_planned)), width="stretch",
                  disabled=current_job() is not None)
    st.caption("Re-plans the working copy from its record, keeping unstarted steps near the "
               "plan on the Roadmap tab (`roadmap replan SCENARIO --plan RESULT`)."
               if plan is not None else "No plan on the Roadmap tab yet: the re-plan will "
               "not be kept near one.")
    if current_job() is not None:
        progress_panel()
    done = shown()
    if done is None:
        return
    if done.key != replan_key(sc, plan, bool(as_planned), state.options()):
        st.info("The record, the plan or the options changed since this re-plan: press "
                "**Re-plan** to update it.")
    show_replan(state, done)
