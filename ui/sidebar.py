"""The sidebar: pick or upload a scenario, solve options, the Solve button, downloads."""

from __future__ import annotations

import os

import streamlit as st

from models import (
    ScenarioError,
    dumps_scenario,
    list_datasets,
    loads_scenario,
    parse_scenario,
)
from models.datasets import SUFFIXES
from optimizer.studies.glossary import GLOSSARY
from ui import jobs
from ui.state import (
    AppState,
    load,
    modified,
    open_tab,
    opened_once,
    read_scenario,
    redo,
    reset,
    undo,
)

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
UPLOAD_TYPES = ["yaml", "yml", "json", "toml"]


def read_upload(name: str, data: bytes) -> tuple[object | None, str | None]:
    """(scenario, None) or (None, message) for an uploaded file; never raises."""
    kind = SUFFIXES.get(os.path.splitext(name)[1].lower())
    if kind is None:
        return None, f"{name}: unknown file type (expected .yaml, .yml, .json or .toml)"
    if len(data) > MAX_UPLOAD_BYTES:
        return None, (f"{name}: file is {len(data):,} bytes; the limit is "
                      f"{MAX_UPLOAD_BYTES:,}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, f"{name}: not UTF-8 text (byte {exc.start})"
    if "\x00" in text:
        return None, f"{name}: file contains NUL bytes (binary data?)"
    try:
        return loads_scenario(text, kind, name), None
    except ScenarioError as err:
        return None, str(err)


LAST_UPLOAD = "rm_last_upload"


def _uploaded(state: AppState, key: str) -> None:
    file = st.session_state.get(key)
    if file is None or not state.current(key):
        return
    # One upload is loaded once. Under load the browser reported the same file
    # again with a later click (CI: with Stop; an uploader of the generation
    # before the load, still on the page), and loading it again threw away
    # what came after it: the stopped roadmap, and any edits.
    file_id = getattr(file, "file_id", None)
    if file_id is not None and st.session_state.get(LAST_UPLOAD) == file_id:
        return
    st.session_state[LAST_UPLOAD] = file_id
    scenario, error = read_upload(file.name, file.getvalue())
    if error is not None:
        state.say("error", f"Upload rejected — {error}")
        state.gen += 1  # clears the uploader so the same file can be fixed and retried
        return
    load(state, scenario, file.name)  # type: ignore[arg-type]
    state.say("success", f"Loaded {file.name}.")


def _picked(state: AppState, key: str) -> None:
    name = st.session_state.get(key)
    if not state.current(key):
        # A picker of an earlier generation, still on the page, reported again with
        # a later click (a Stop under load, after an upload): it reopened the
        # dataset picked before, throwing the uploaded scenario away.
        return
    if not name or name == state.source:
        # Re-picking the open scenario must not throw the planner's edits away.
        return
    try:
        load(state, read_scenario(name), name)
    except ScenarioError as err:
        state.say("error", str(err))


def _undo(state: AppState) -> None:
    if undo(state):
        state.say("info", "Undone: the working copy is back to before the last edit.")


def _redo(state: AppState) -> None:
    if redo(state):
        state.say("info", "Redone.")


def _reset(state: AppState) -> None:
    reset(state)
    state.say("info", "Edits discarded: back to the scenario as loaded.")


def scenario_box(state: AppState) -> None:
    st.header("Scenario")
    names = [p.stem for p in list_datasets()]
    index = names.index(state.source) if state.source in names else None
    key = state.key("dataset")
    st.selectbox("Built-in scenario", names, index=index, key=key, on_change=_picked,
                 args=(state, key), placeholder="Pick a built-in scenario")
    key = state.key("upload")
    st.file_uploader("…or upload YAML / JSON / TOML (max 2 MB)", type=UPLOAD_TYPES, key=key,
                     on_change=_uploaded, args=(state, key), max_upload_size=2)
    sc = state.working
    badge = " (edited)" if modified(state) else ""
    st.caption(f"**{sc.name}**{badge}  \n{len(sc.parties)} parties · "
               f"{len(sc.concessions)} concessions · {len(sc.rules)} rules · "
               f"horizon {sc.horizon} {sc.time_unit}s")
    cols = st.columns(2)
    cols[0].button("↶ Undo", key="undo_edit", on_click=_undo, args=(state,),
                   disabled=not state.past, width="stretch",
                   help=f"Undo the last edit ({len(state.past)} in the history)")
    cols[1].button("↷ Redo", key="redo_edit", on_click=_redo, args=(state,),
                   disabled=not state.future, width="stretch",
                   help=f"Redo an undone edit ({len(state.future)} undone)")
    cols = st.columns(2)
    cols[0].download_button("⬇ YAML", lambda: dumps_scenario(sc, "yaml"),  # type: ignore[arg-type]
                            f"{state.source.rsplit('.', 1)[0]}-edited.yaml", "application/x-yaml",
                            key="dl_yaml", width="stretch",
                            help="Download the working copy of the scenario as YAML")
    cols[1].button("Reset edits", key="reset_edits", on_click=_reset, args=(state,),
                   disabled=not modified(state), width="stretch")


def _set_option(state: AppState, fld: str, key: str) -> None:
    value = st.session_state.get(key)
    if value is not None:
        setattr(state, fld, float(value) if fld == "time_limit_s" else int(value))


def _solve(state: AppState) -> None:
    # The answer to Solve is a roadmap: the Roadmap tab opens, so that the
    # planner sees it (and its progress) without a second click, and the tab
    # the click came from (the Edit tab's ~100 inputs) is not drawn again.
    open_tab("Roadmap")
    jobs.start(state)


def solve_box(state: AppState) -> None:
    st.header("Solve")
    cols = st.columns(2)
    with cols[0]:
        st.number_input("Time limit (s)", min_value=0.5, max_value=600.0, step=1.0,
                        value=state.time_limit_s, key="opt_time_limit",
                        on_change=_set_option, args=(state, "time_limit_s", "opt_time_limit"))
    with cols[1]:
        st.number_input("Workers", min_value=1, max_value=max(1, os.cpu_count() or 1), step=1,
                        value=state.workers, key="opt_workers",
                        on_change=_set_option, args=(state, "workers", "opt_workers"))
    st.button("Solve", type="primary", key="solve", on_click=_solve, args=(state,),
              width="stretch", disabled=jobs.running())


TIME_UNITS = ["month", "week", "day"]


def _new_scenario(state: AppState) -> None:
    from ui.authoring import new_scenario

    get = st.session_state.get
    try:
        data = new_scenario(get("new_sc.name") or "", get("new_sc.unit") or "month",
                            int(get("new_sc.horizon") or 1), get("new_sc.calendar") or None,
                            get("new_sc.party") or "", get("new_sc.party_name") or "")
        sc = parse_scenario(data, "new scenario")
    except ValueError as err:   # ScenarioError too: one line naming the field
        state.say("error", f"New scenario not created — {err}")
        return
    load(state, sc, "new scenario")
    state.say("success", f"New scenario '{sc.name}'. In the Edit tab: add the other parties, "
                         "the phases, the concessions (then delete the first step), the rules "
                         "and the objective.")


def new_box(state: AppState) -> None:
    """Start from nothing: a name, a time unit, a horizon and the first party."""
    box, draw = opened_once("New scenario", "new_scenario_box")
    if not draw:
        return
    with box, st.form("new_scenario_form", border=False):
        st.text_input("Name", key="new_sc.name", placeholder="Freeze for relief")
        cols = st.columns(2)
        cols[0].selectbox("Time unit", TIME_UNITS, key="new_sc.unit")
        cols[1].number_input("Horizon", min_value=1, value=24, step=1, key="new_sc.horizon",
                             help="Everything ends by this time (in the time unit)")
        st.text_input("Calendar start (optional)", key="new_sc.calendar",
                      placeholder="2018-06 or 2018-06-12",
                      help="Only for display: dates on the axes and in the tables")
        first = st.columns([2, 3])
        first[0].text_input("First party", key="new_sc.party", placeholder="US",
                            help="Its id: how concessions and rules name it")
        first[1].text_input("Its name", key="new_sc.party_name",
                            placeholder="United States")
        st.form_submit_button("Create the scenario", on_click=_new_scenario,
                              args=(state,), width="stretch")


def help_box() -> None:
    """The glossary: every term the charts and figures use, in one place."""
    # Drawn while open only: its dozen paragraphs were redrawn by every click.
    box = st.expander("Help: the terms used here", expanded=False, key="help_panel",
                      on_change="rerun")
    if box.open is False:
        return
    with box:
        for term, text in GLOSSARY.items():
            st.markdown(f"**{term}** — {text}")


def render(state: AppState) -> None:
    with st.sidebar:
        scenario_box(state)
        new_box(state)
        solve_box(state)
        help_box()
