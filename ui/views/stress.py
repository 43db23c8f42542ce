"""The Stress tab (SPEC §5.7, issue 15): will this roadmap survive slips, refused
inspections and doubt about the numbers?

It stresses the roadmap shown in the Roadmap tab (the solved result, under the
scenario it was solved for) with the engine's ``stress`` — the figures are the
report's, the same as ``roadmap stress --plan RESULT --samples N --seed S``
prints — and hardens it with the engine's ``harden``. Both run in the
background (``ui.stress_jobs``) with progress and a Stop that keeps what was
found. A hardened roadmap can be adopted as the new working copy (undoable).
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

import pandas as pd
import streamlit as st

from models import Result, Scenario
from optimizer.studies.glossary import GLOSSARY
from optimizer.studies.stress import DEFAULT_SAMPLES, StressReport
from ui import jobs, stress_charts, stress_jobs
from ui.state import AppState, commit

MAX_APP_SAMPLES = 1_000_000
LEVER_WORDS = {
    "verification_delay": "caps that hold even when every verification comes late",
    "lag": "every verification planned later",
    "buffer": "slack before every irreversible step",
}
LEVER_SHORT = {   # the multiselect's chips: short enough to show all three
    "verification_delay": "robust caps",
    "lag": "later verification",
    "buffer": "slack before irreversible steps",
}
LAST_KEY = "rm_stress_last"      # per plan: the latest stress and hardening outcome keys


def _plan(state: AppState) -> tuple[Scenario, Result] | None:
    if state.result is None or state.result_scenario is None or not state.result.solved:
        return None
    return state.result_scenario, state.result


def _last() -> dict[tuple[str, str], tuple[Any, ...]]:
    if LAST_KEY not in st.session_state:
        st.session_state[LAST_KEY] = {}
    store: dict[tuple[str, str], tuple[Any, ...]] = st.session_state[LAST_KEY]
    return store


def lever_text(sc: Scenario, lever: str | None, k: int) -> str:
    if lever is None:
        return "no change needed"
    return f"{LEVER_WORDS.get(lever, lever)} ({k} {sc.time_unit}{'s' if k != 1 else ''})"


_LOG = re.compile(r"^(verification_delay|lag|buffer)=(\d+): (.*)$")


def log_words(sc: Scenario, line: str) -> str:
    """An engine log line in a planner's words ('caps that hold …: breach 90.2 %')."""
    m = _LOG.match(line)
    if not m:
        return line
    rest = re.sub(r"breach (\d\.\d+)", lambda b: f"breach probability "
                  f"{100 * float(b.group(1)):.1f} %", m.group(3))
    rest = re.sub(r"makespan (\d+)", rf"makespan \1 {sc.time_unit}s", rest)
    return f"{lever_text(sc, m.group(1), int(m.group(2)))}: {rest}"


# --------------------------------------------------------------------------
# Progress
def _describe(job: stress_jobs.StressJob, sc: Scenario | None) -> tuple[float, str]:
    elapsed = time.monotonic() - job.started
    if job.kind == "stress":
        frac = min(1.0, job.progress / max(job.total, 1))
        return frac, (f"Stress test: {job.progress:,} of {job.total:,} realisations, "
                      f"{elapsed:.1f} s elapsed")
    frac = min(1.0, job.progress / max(job.total, 1))
    last = log_words(sc, job.last) if sc is not None and job.last else (job.last or
                                                                          "measuring the plan")
    return frac, (f"Hardening: {job.progress} candidate roadmaps tried (at most about "
                  f"{job.total}); last: {last} · {elapsed:.0f} s elapsed")


@st.fragment(run_every=stress_jobs.POLL_S)
def progress_panel(sc: Scenario | None) -> None:
    """The running job's progress line and Stop; drawn only while one runs."""
    job = stress_jobs.current()
    if job is None:
        return
    job.drain()
    if job.done():
        st.rerun(scope="app")
    frac, text = _describe(job, sc)
    cols = st.columns([6, 1], vertical_alignment="center")
    with cols[0]:
        st.progress(frac, text=("Stopping… " if job.stopped else "") + text)
    with cols[1]:
        st.button("Stop", key="stop_stress", on_click=job.stop, type="secondary",
                  help="Stop now and keep what was found so far")


# --------------------------------------------------------------------------
# The report
def _headline(sc: Scenario, rep: StressReport) -> None:
    mk = rep.makespan
    with st.container(horizontal=True, gap="small", key="stress_headline"):
        st.metric("Highest breach probability", stress_charts.pct(rep.breach_probability),
                  width="content", help=GLOSSARY["Breach probability"])
        # Short values keep the strip on one line; the end date goes with the label.
        for q in stress_charts.PERCENTILES:
            st.metric(f"Makespan {q.upper()}{stress_charts.ends(sc, mk[q])}",
                      stress_charts.duration(sc, mk[q]), width="content",
                      help=GLOSSARY["Makespan"] + f" {q.upper()}: {q[1:]} % of the "
                      "realisations that do not stall end by then.")
        st.metric(f"Planned makespan{stress_charts.ends(sc, rep.plan_makespan)}",
                  stress_charts.duration(sc, rep.plan_makespan), width="content")
        st.metric("Stall probability", stress_charts.pct(rep.stall_probability),
                  width="content", help=GLOSSARY["Stall probability"])


def show_report(sc: Scenario, plan: Result, rep: StressReport, *, requested: int) -> None:
    if rep.samples < requested:
        st.warning(f"Stopped after {rep.samples:,} of {requested:,} realisations: the "
                   "figures below cover those.")
    st.caption(f"{rep.samples:,} realisations, seed {rep.seed}. Same figures as "
               f"`roadmap stress --plan RESULT --samples {rep.samples} --seed {rep.seed}`.")
    _headline(sc, rep)
    st.markdown("**Breach probability per cap**")
    st.dataframe(stress_charts.breach_rows(sc, rep), hide_index=True, width="stretch",
                 key="stress_breach_table")
    st.altair_chart(stress_charts.fan_chart(sc, rep, plan), width="content",
                    key="stress_fan")
    st.altair_chart(stress_charts.makespan_chart(sc, rep, width=1000), width="stretch",
                    key="stress_makespan")
    if rep.tornado:
        st.altair_chart(stress_charts.tornado_chart(sc, rep, width=1000), width="stretch",
                        key="stress_tornado")
        st.caption(GLOSSARY["Driver"])
    else:
        st.caption("No driver: no step's delay varies between realisations.")
    with st.expander("Peaks, lags and gaps, and every step"):
        st.markdown("Peak exposure per principal")
        st.dataframe(stress_charts.peak_rows(sc, rep), hide_index=True, width="stretch")
        if rep.rules:
            st.markdown("Rules with a maximum lag or gap: how often they are broken")
            st.dataframe(stress_charts.lag_rows(sc, rep), hide_index=True, width="stretch")
        st.markdown("Every step: when it ends, how often it sets the end date")
        st.dataframe(stress_charts.concession_rows(sc, rep), hide_index=True,
                     width="stretch")
    st.download_button("Download the report (JSON)", rep.to_json() + "\n",
                       file_name="stress.json", mime="application/json",
                       key="stress_download")


# --------------------------------------------------------------------------
# Hardening
def _adopt(state: AppState, source: Scenario, lever: str, k: int) -> None:
    from optimizer.studies.stress.harden import variant

    commit(state, variant(source, lever, k))
    state.gen += 1
    state.say("success", f"Adopted the hardened roadmap's scenario ({lever_text(source, lever, k)})"
                         " as the working copy; Undo in the sidebar takes it back.")
    jobs.start(state)


def show_hardening(state: AppState, sc: Scenario, hard: Any, stopped: bool) -> None:
    base_mk = hard.base.metrics.makespan if hard.base.metrics else None
    if hard.stopped or stopped:
        st.warning("Hardening stopped: showing what was found so far.")
    if hard.met and hard.plan is not None and hard.report is not None:
        price = (hard.price or {}).get("makespan", 0)
        new_mk = hard.plan.metrics.makespan if hard.plan.metrics else None
        st.success(f"Hardened roadmap: {lever_text(sc, hard.lever, hard.k)}. Breach "
                   f"probability {stress_charts.pct(hard.report.breach_probability)} "
                   f"(re-measured with seed {hard.report.seed}), target "
                   f"{stress_charts.pct(hard.target)}.")
        with st.container(horizontal=True, gap="small", key="harden_price"):
            st.metric("Breach probability, hardened",
                      stress_charts.pct(hard.report.breach_probability), width="content",
                      delta=f"{100 * (hard.report.breach_probability - hard.base_report.breach_probability):+.1f} points",  # noqa: E501
                      delta_color="inverse")
            st.metric("Price in makespan", f"{price:+d} {sc.time_unit}s", width="content",
                      help=GLOSSARY["Hardening"])
            st.metric("Makespan, hardened", stress_charts.span(sc, new_mk), width="content")
            st.metric("Makespan, unhardened", stress_charts.span(sc, base_mk),
                      width="content")
        if hard.lever is not None:
            st.button("Adopt as the working copy", key="stress_adopt", type="primary",
                      on_click=_adopt, args=(state, sc, hard.lever, hard.k),
                      help="Make the hardened scenario the working copy and solve it "
                           "(undoable)")
    else:
        low = hard.lowest
        text = (f"No roadmap found with breach probability at most "
                f"{stress_charts.pct(hard.target)}.")
        if low is not None and low.breach_probability is not None:
            text += (f" Lowest found: {lever_text(sc, low.lever, low.k)}, breach probability "
                     f"{stress_charts.pct(low.breach_probability)}, makespan "
                     f"{stress_charts.span(sc, low.makespan)}.")
        st.info(text)
    if hard.candidates:
        rows = [{"candidate": lever_text(sc, c.lever, c.k),
                 "outcome": c.status,
                 "breach probability": ("—" if c.breach_probability is None
                                        else stress_charts.pct(c.breach_probability)),
                 "makespan": stress_charts.span(sc, c.makespan)}
                for c in hard.candidates]
        with st.expander(f"Candidate roadmaps tried ({len(rows)})"):
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _harden_bound(sc: Scenario, levers: tuple[str, ...]) -> int:
    return len(levers) * (math.ceil(math.log2(max(2, sc.horizon))) + 4)


# --------------------------------------------------------------------------
def stress_tab(state: AppState) -> None:
    failures: list[str] = []
    stress_jobs.collect(lambda _level, message: failures.append(message))
    for message in failures:
        st.error(message)
    st.caption("Runs the roadmap shown in the Roadmap tab through many random realisations "
               "of the scenario's uncertainty (slips, late or refused verifications, doubt "
               "about values): how likely is each side to be driven past its cap?")
    chosen = _plan(state)
    if chosen is None:
        if jobs.running():
            st.info("Solving: the stress test runs the roadmap once it is found.")
        else:
            st.info("There is no solved roadmap to stress: solve the scenario first.")
        return
    sc, plan = chosen
    if sc.uncertainty is None:
        st.info("This scenario has no uncertainty section: every realisation follows the "
                "plan exactly, so every probability is 0.")
    if state.working != sc:
        st.caption("The roadmap shown was solved for an earlier version of the working copy; "
                   "it is stressed under the scenario it was solved for.")
    cols = st.columns([1, 1, 1, 1], vertical_alignment="bottom")
    samples = int(cols[0].number_input("Realisations (samples)", min_value=1,
                                       max_value=MAX_APP_SAMPLES, value=DEFAULT_SAMPLES,
                                       step=1000, key="stress_samples"))
    seed = int(cols[1].number_input("Seed", min_value=0, value=0, step=1, key="stress_seed",
                                    help="The same seed gives the same figures"))
    busy = stress_jobs.running()
    key = ("stress", state.result_key, samples, seed)
    last = _last()
    if cols[2].button("Run the stress test", key="stress_run", type="primary",
                      disabled=busy):
        stress_jobs.start_stress(key, sc, plan, samples, seed)
        last[("stress", str(state.result_key))] = key
        busy = True
    # One slot for the running job's progress (a stress run or hardening), under the inputs.
    slot = st.container()
    shown = last.get(("stress", str(state.result_key)))
    outcome = stress_jobs.outcomes().get(shown) if shown is not None else None
    if outcome is not None and shown is not None:
        show_report(sc, plan, outcome[0], requested=int(shown[2]))
    elif not busy:
        st.caption("Choose the number of realisations and a seed, then run the test.")

    st.divider()
    st.subheader("Harden to a target", anchor=False)
    st.caption(GLOSSARY["Hardening"] + " Each candidate roadmap is solved and stressed with "
               "the realisations and seed above.")
    hcols = st.columns([1, 3, 1], vertical_alignment="bottom")
    target_pct = float(hcols[0].number_input("Target breach probability (%)", min_value=0.0,
                                             max_value=100.0, value=5.0, step=1.0,
                                             key="stress_target"))
    picked = hcols[1].multiselect("Ways to harden", list(LEVER_WORDS),
                                  default=list(LEVER_WORDS), key="stress_levers",
                                  format_func=lambda lv: LEVER_SHORT[lv],
                                  help="Robust caps: " + LEVER_WORDS["verification_delay"]
                                       + ". Later verification: " + LEVER_WORDS["lag"]
                                       + ". Slack: " + LEVER_WORDS["buffer"] + ".")
    levers = tuple(lv for lv in LEVER_WORDS if lv in picked)
    hkey = ("harden", state.result_key, samples, seed, target_pct, levers)
    if hcols[2].button("Harden to target", key="stress_harden", disabled=busy or not levers):
        stress_jobs.start_harden(hkey, sc, plan, target=target_pct / 100, samples=samples,
                                 seed=seed, options=state.options(), levers=levers,
                                 bound=_harden_bound(sc, levers))
        last[("harden", str(state.result_key))] = hkey
        busy = True
    if busy:
        with slot:
            progress_panel(sc)
    hshown = last.get(("harden", str(state.result_key)))
    houtcome = stress_jobs.outcomes().get(hshown) if hshown is not None else None
    if houtcome is not None:
        show_hardening(state, sc, houtcome[0], houtcome[1])
