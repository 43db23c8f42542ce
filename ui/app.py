"""Roadmap Optimizer's Streamlit app: `roadmap ui` or `streamlit run ui/app.py`."""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run ui/app.py` puts ui/ (not the project) on sys.path.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402
from streamlit import config as st_config  # noqa: E402

# No ForwardMsg cache (large messages sent once, then by reference): with
# fragments its browser and server halves can disagree on what the browser
# still holds (streamlit/streamlit#10012 and the "Cached ForwardMsg MISS"
# reports after it), and an Apply next to the correction cards' polling
# fragment failed so, with a connection error, once in 29 applies measured
# (benchmarks/ui_latency.py). Read per message, so set here for every way the
# app is started. The cost: a chart's spec (~50 KB on the seed) is sent again
# by each run that draws it, over the local socket.
st_config.set_option("global.minCachedMessageSize", 1 << 40)

st.set_page_config(page_title="Roadmap Optimizer", page_icon="🗺️", layout="wide",
                   initial_sidebar_state="expanded")

from ui import editing, jobs, sidebar  # noqa: E402
from ui import state as app_state  # noqa: E402
from ui.views import backtest as backtest_view  # noqa: E402
from ui.views import compare, roadmap  # noqa: E402
from ui.views import explain as explain_view  # noqa: E402
from ui.views import progress as progress_view  # noqa: E402
from ui.views import stress as stress_view  # noqa: E402

FLASH = {"error": st.error, "warning": st.warning, "info": st.info, "success": st.success}


def main() -> None:
    state = app_state.get()
    jobs.collect(state)
    explain_view.prepare(state)   # an infeasible result: its corrections start now
    sidebar.render(state)
    if state.auto_solve and not jobs.running():
        state.auto_solve = False
        jobs.start(state)
    st.header(state.working.name, anchor=False)
    # One fixed slot for messages and progress keeps the tabs at the same place
    # in the page, so the open tab survives a rerun.
    with st.container():
        for level, message in state.flash:
            FLASH.get(level, st.info)(message)
        state.flash.clear()
        if jobs.running():
            jobs.progress_panel()
    history = backtest_view.has_history(state.working)
    names = ["Roadmap", "Edit", "Explain", "Compare", "Stress", "Progress"] + (
        ["History"] if history else [])
    # Tab switches rerun the script so that the History tab (a solve of its
    # own) is computed only while it is open.
    tabs = app_state.main_tabs(names)   # Solve and Apply open the Roadmap tab
    with tabs[0]:
        roadmap.roadmap_tab(state)
    with tabs[1]:
        # ~100 inputs on the seed: drawn only while open, but for its forms.
        editing.edit_tab(state, bool(tabs[1].open))
    with tabs[2]:
        explain_view.explain_tab(state, tabs[2].open is not False)
    with tabs[3]:
        # Loading and comparing the saved runs (~0.5 s for three on the seed) was half
        # of every Save: done while the tab is open only.
        if tabs[3].open:
            compare.compare_tab(state)
        else:
            st.caption("Open this tab to compare saved runs.")
    with tabs[4]:   # stress runs are long: drawn only while the tab is open
        if tabs[4].open:
            stress_view.stress_tab(state)
    with tabs[5]:   # its re-plan runs only when asked, its view only while open
        progress_view.progress_tab(state, tabs[5].open)
    if history:
        with tabs[6]:
            if tabs[6].open:
                backtest_view.render_backtest(state.working, state.options())
            else:
                st.caption("Open this tab to backtest the scenario against history.")
    # Last: a run cut short by the next click never gets here (ui.state.main_tabs).
    app_state.tabs_drawn(names, tabs)


try:
    main()
except Exception as exc:  # st.rerun/st.stop are BaseExceptions and pass through
    # A planner sees one line, never a stack trace; the server log keeps the detail.
    import logging

    logging.getLogger("roadmap.ui").exception("internal error")
    st.error(f"Internal error: {type(exc).__name__}: {exc}. Reload the page to start again.")
