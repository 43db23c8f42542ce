"""The Explain tab for an impossible roadmap: the cheapest corrections as cards.

Each card is one correction from the engine (SPEC §5.6): its cost, each
change in words with the side that gives way, and the corrected roadmap's
key figures from the correction's own verification solve. "Apply" writes
the changes into a new working copy through ``ui.state.edit`` (so Undo takes
it back), says what changed, and solves again. A rule switched off or a step
made optional is said in a warning on the card and again after applying.
Below the cards: the minimal conflict grouped by party and kind, the full
list one click away. An explanation of an earlier version of the scenario is
marked out of date, with a Refresh button, and cannot be applied.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

from models import Result, Scenario
from models.calendar import label as cal_label
from models.paths import set_path
from optimizer.explain.corrections.words import change_sentence, conflict_keys, grouped_conflict
from optimizer.explain.phrasing import element_sentence
from optimizer.studies.glossary import GLOSSARY, metric_unit
from ui import explaining, jobs
from ui.explaining import Found, Shown
from ui.state import AppState, edit, open_tab
from ui.wording import change_line, dropped, live, rule_label, who_gives_way


@dataclass
class Applied:
    """The last correction applied: what it changed, shown while it is the working copy."""

    before: Scenario
    after: Scenario
    cost: int
    lines: list[str]
    dropped: list[str]


def _apply(state: AppState, key: str, n: int) -> None:
    ex = explaining.store()
    shown = ex.by_key.get(key)
    if shown is None or n >= len(shown.found):
        return
    if state.working != shown.scenario:
        state.say("warning", "Not applied: the scenario changed since these corrections were "
                             "found. Refresh the explanation first.")
        return
    found = shown.found[n]
    changes = found.correction.changes
    before = state.working

    def write(data: dict[str, object]) -> None:
        for ch in changes:
            set_path(data, ch.path, ch.to, "correction")

    if edit(state, write, bump=True) is not None:
        return
    after = state.working
    applied = Applied(before, after, found.correction.cost,
                      [change_line(before, live(state.original, after), ch) for ch in changes],
                      dropped(live(state.original, before), changes))
    ex.applied = applied
    explaining.stop()
    # The corrected roadmap is the answer: the Roadmap tab opens and shows it
    # under what the correction changed (applied_panel). It is the correction's
    # verified roadmap when that one is proven optimal, else solved now.
    known = found.verified is not None and jobs.show_known(state, found.verified)
    state.say("success", f"Applied the correction of cost {applied.cost}: "
                         + "; ".join(applied.lines) + (
                             ". The corrected roadmap is the one verified with it."
                             if known else ". Solving the corrected scenario…"))
    for line in applied.dropped:
        state.say("warning", line)
    open_tab("Roadmap", rebuild=True)
    if not known:
        jobs.start(state)


def applied_panel(state: AppState, slot: str) -> None:
    """What the applied correction changed, while the working copy is that version.

    Drawn on the Roadmap tab (which Apply opens) and the Explain tab: ``slot``
    keeps the two keys apart.
    """
    applied = explaining.store().applied
    if not isinstance(applied, Applied) or applied.after is not state.working:
        return
    with st.container(border=True, key=f"applied-{slot}"):
        st.markdown(f"**Correction applied (cost {applied.cost})** — what changed:")
        for line in applied.lines:
            st.markdown(f"- {line}")
        for line in applied.dropped:
            st.warning(line, icon="⚠️")
        st.caption("↶ Undo in the sidebar takes it back.")


def _figures(sc: Scenario, verified: Result | None) -> None:
    if verified is None or verified.metrics is None:
        st.caption("Not verified: no schedule of the corrected scenario was found in the time "
                   "limit (the figures appear once it is applied and solved).")
        return
    m = verified.metrics
    with st.container(horizontal=True, gap="small"):
        date = cal_label(sc, m.makespan)
        st.metric("Makespan", f"{m.makespan} {metric_unit(sc, 'makespan')}"
                  + (f" ({date})" if date else ""), width="content",
                  help=GLOSSARY["Makespan"])
        for p in sc.principal_ids:
            lg = verified.ledger.get(p)
            if lg is not None:
                st.metric(f"{p} peak exposure", f"{lg.peak} value points", width="content",
                          help=GLOSSARY["Peak exposure"])
        st.metric("Weighted completion", f"{m.weighted_completion} "
                  f"{metric_unit(sc, 'weighted_completion')}", width="content",
                  help=GLOSSARY["Weighted completion"])


def _card(state: AppState, shown: Shown, n: int, found: Found, words: Scenario,
          current: bool) -> None:
    c = found.correction
    with st.container(border=True, key=f"correction-{n}"):
        head = "Cheapest correction" if n == 0 else f"Correction {n + 1}"
        proof = ":green[proven cheapest]" if c.proven else ":orange[not proven cheapest]"
        if n > 0:
            proof = ":green[proven]" if c.proven else ":orange[not proven]"
        stale = "" if current else " · :red[out of date: for an earlier version]"
        st.markdown(f"##### {head} · cost {c.cost} · {proof}{stale}")
        who = {p: v for p, v in found.bills.items() if p is not None}
        if who:
            st.markdown("Asked of " + ", ".join(f"**{p}** ({v})" for p, v in who.items())
                        + (f"; {found.bills[None]} on shared positions"
                           if found.bills.get(None) else ""))
        rules = {r.id: r for r in words.rules}
        for ch in c.changes:
            rid = ch.path[6:].split("]", 1)[0] if ch.path.startswith("rules[") else None
            label = f"  \n:gray[“{rule_label(words, rules[rid])}”]" if rid in rules else ""
            st.markdown(f"- {change_sentence(words, ch)} — *{who_gives_way(words, ch)}*{label}")
        for line in dropped(words, c.changes):
            st.warning(line, icon="⚠️")
        st.markdown("**With it:**")
        _figures(words, found.verified)
        st.button("Apply", key=state.key(f"apply.{n}"), on_click=_apply,
                  args=(state, shown.key, n), type="primary" if n == 0 else "secondary",
                  disabled=not current,
                  help="Make a new working copy with these changes and solve it (Undo takes "
                       "it back)" if current else "Out of date: refresh the explanation first")


def _conflict(shown: Shown, words: Scenario) -> None:
    conflict = shown.conflict
    if conflict is None:
        if not shown.done:
            st.caption("The minimal conflict is worked out after the corrections.")
        return
    keys = conflict_keys(conflict)
    if not keys:
        st.caption(conflict.message)
        return
    st.markdown(f"**Why no roadmap exists** — {len(keys)} positions that cannot all hold "
                f"together: {grouped_conflict(words, keys)}.")
    if "may not be minimal" in conflict.message or "ran out" in conflict.message:
        st.caption(conflict.message)
    with st.expander(f"Show all {len(keys)} positions", key="conflict_list"):
        for k, key in enumerate(keys):
            try:
                sentence = element_sentence(words, key)
            except (KeyError, StopIteration):
                sentence = ":".join(key)
            st.markdown(f"{k + 1}. {sentence}")


def _cards(state: AppState, shown: Shown, current: bool) -> None:
    words = live(state.original, shown.scenario)
    running = explaining.running(shown.key)
    if shown.error:
        st.error(f"The explanation failed: {shown.error}")
    if shown.done and shown.stopped:
        if shown.by_planner:
            st.warning("**Stopped:** these are the corrections found before the stop — not "
                       "proven to be the cheapest, and perhaps not all.")
        else:
            st.warning(f"**Out of time** ({shown.options.time_limit_s:g} s, the sidebar's "
                       "time limit): these are the corrections found so far — not all proven. "
                       "Raise the time limit to search longer.")
        if current:
            st.button("Search again", key="explain_again", on_click=explaining.forget,
                      args=(shown.key,))
    if not shown.found:
        if shown.done and not shown.error:
            st.info("No correction was found with the positions allowed to change "
                    "(`relax: false` forbids some) within the time limit.")
        elif running:
            st.caption("Finding the cheapest correction…")
    for n, found in enumerate(shown.found):
        _card(state, shown, n, found, words, current)
    if shown.done and shown.seconds is not None:
        first = "" if shown.first_s is None else f"first correction after {shown.first_s:.1f} s, "
        st.caption(f"Searched with a time limit of {shown.options.time_limit_s:g} s and "
                   f"{shown.options.workers} worker(s): {first}all done after "
                   f"{shown.seconds:.1f} s.")
    _conflict(shown, words)


def _refresh(state: AppState) -> None:
    explaining.stop()
    jobs.start(state)


def stale_note(state: AppState, what: str) -> None:
    cols = st.columns([5, 1], vertical_alignment="center")
    cols[0].warning(f"**Out of date:** the scenario was edited (or reset) after this {what} "
                    "was computed.")
    cols[1].button("Refresh", key="explain_refresh", on_click=_refresh, args=(state,),
                   type="primary", width="stretch", disabled=jobs.running(),
                   help="Solve the current working copy and explain it")


def prepare(state: AppState) -> None:
    """Start explaining an infeasible result at the top of the run (not when the tab is
    reached, a second later): the first card is then ready sooner."""
    result, sc = state.result, state.result_scenario
    job = explaining.store().job
    if job is not None and not job.key.startswith(f"{state.result_key}|"):
        explaining.stop()     # another result is shown now: its answer is not wanted
        explaining.drain(state)
    if jobs.running() or result is None or sc is None or result.status != "infeasible":
        return
    if state.working is sc or state.working == sc:
        explaining.start(state, bool(st.session_state.get("explain_balanced", False)))


def corrections_view(state: AppState, sc: Scenario, current: bool) -> None:
    """The infeasible result ``sc``'s corrections and conflict."""
    ex = explaining.store()
    balanced = bool(st.session_state.get("explain_balanced", False))
    key = explaining.explain_key(state.result_key or "", balanced)
    if not current:
        stale_note(state, "explanation")
        shown = ex.by_key.get(key)
        if shown is not None and shown.found:
            with st.expander("The earlier corrections (for the earlier version; cannot be "
                             "applied)"):
                _cards(state, shown, current=False)
        return
    st.error("**No roadmap satisfies every position.** What is the least to give up, and "
             "who gives it? The cheapest corrections, cheapest first:")
    st.toggle("Balanced: ask least of the side asked most", key="explain_balanced",
              help="Order corrections by the largest cost charged to one principal, then by "
                   "the total (as `roadmap explain --balanced`)")
    shown = ex.by_key.get(key) if jobs.running() else explaining.start(state, balanced)
    if shown is None:
        st.caption("Waiting for the solve to finish…")
        return
    if explaining.running(shown.key):
        live_panel(state, shown.key)
    else:
        _cards(state, shown, current=True)


@st.fragment(run_every=explaining.POLL_S)
def live_panel(state: AppState, key: str) -> None:
    """While the explanation runs: its progress line, Stop, and the cards found so far.

    A fragment, so that a new card shows on the next poll without a run of the
    whole app; the whole app runs again when the job ends or a card is applied.
    """
    ex = explaining.store()
    shown = ex.by_key.get(key)
    if shown is None or shown.done or state.working != shown.scenario:
        # Applied, forgotten, or ended: the whole app takes over, and this fragment
        # stops polling.
        st.rerun(scope="app")
        return
    explaining.drain(state)
    if shown.done:
        # The end is drawn by the whole app, not here: a "Search again" drawn in the
        # fragment would be replaced by the app's own copy a moment later, and a click
        # landing in between was lost (CI, loaded machine).
        st.rerun(scope="app")
        return
    job = ex.job
    if job is None or job.key != key:
        st.rerun(scope="app")
        return
    limit = 2 * max(shown.options.time_limit_s, 0.1)   # the corrections, then the conflict
    frac = min(1.0, (time.monotonic() - job.started) / limit)
    cols = st.columns([6, 1], vertical_alignment="center")
    with cols[0]:
        st.progress(frac, text=explaining.describe(job, shown))
    with cols[1]:
        st.button("Stop", key="stop_explain", on_click=explaining.stop, type="secondary",
                  help="Stop the explanation at once and keep the corrections found so far "
                       "(not proven cheapest)")
    _cards(state, shown, current=True)
