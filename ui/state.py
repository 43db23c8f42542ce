"""The app's session state: a working copy of the scenario and what was solved.

The loaded scenario (``original``) is never changed; every edit rebuilds the
working copy through ``parse_scenario`` so the same validation as the CLI
applies, and a rejected edit leaves the working copy as it was.

Widgets are keyed with a *generation* number: when the working copy changes
from outside a widget (a dataset is loaded, a suggestion applied, a table
edit committed) the generation is bumped and every widget starts again from
the working copy instead of from its stale browser-side value.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from models import Result, Scenario, ScenarioError, SolveOptions, load_scenario, parse_scenario
from models.datasets import resolve_scenario

DEFAULT_DATASET = "us_dprk_2018"
# A server-side override of the scenario the app opens on (tests, demos).
SCENARIO_ENV = "ROADMAP_UI_SCENARIO"
DEFAULT_TIME_LIMIT_S = 10.0
MEMO_LIMIT = 64
_OPEN_TAB = "rm_open_tab"      # the tab to open on the next run (open_tab)
_TABS_GEN = "rm_tabs_gen"      # bumped to give the tabs a new key (main_tabs)
_TABS_SENT = "rm_tabs_sent"    # the open tab sent by the last run that ended
_TAB_CLICKED = "rm_tab_clicked"  # the planner clicked a tab: this run's callbacks saw it


def tabs_key() -> str:
    """The main tabs' widget key; its value is the open tab's label."""
    gen = st.session_state.get(_TABS_GEN, 0)
    return "main_tabs" if not gen else f"main_tabs.{gen}"


def open_tab(name: str, rebuild: bool = False) -> None:
    """Open tab ``name`` on the next run of the whole app (see :func:`main_tabs`).

    ``rebuild``: give the tabs a new key whatever the browser reports. Apply
    (a correction) needs it: after its edit, which renews every widget of the
    working copy, the browser ignored the switch in about one apply of five
    (never in some thirty Solves, measured with benchmarks/ui_latency.py).
    Not set from the click's callback itself: a click inside a fragment (a
    correction card while its search runs) reruns the fragment first.
    """
    if st.session_state.get(_TAB_CLICKED):
        return      # a tab click handled by this same run wins (_tab_clicked)
    st.session_state[_OPEN_TAB] = (name, rebuild)


def main_tabs(names: list[str]) -> Sequence[Any]:
    """The app's tabs (a tab switch reruns the app), opening what :func:`open_tab` asked for.

    Streamlit's browser side follows a tab set from here only when it differs
    from the one it last received: a click on another tab whose run was cut
    short by the next click leaves the browser on the clicked tab while the
    server believes the earlier one is open. So the tab of the last run that
    ended (:func:`tabs_drawn`, called at the end of the app's run) is kept,
    and when the tab asked for is that one but the browser reports another,
    the tabs get a new key: the browser builds them anew on the tab asked for
    (about a second of drawing, every tab's content mounted again; only then).
    """
    asked = st.session_state.pop(_OPEN_TAB, None)
    if asked is not None:
        name, rebuild = asked
        shown = st.session_state.get(tabs_key())
        if rebuild or (name == st.session_state.get(_TABS_SENT) and shown not in (None, name)):
            st.session_state[_TABS_GEN] = st.session_state.get(_TABS_GEN, 0) + 1
        st.session_state[tabs_key()] = name
    return st.tabs(names, key=tabs_key(), on_change=_tab_clicked)


def _tab_clicked() -> None:
    """The planner's own click on a tab wins over an opening asked for by a click before it.

    Solve, then at once a click on another tab: Streamlit runs both clicks'
    callbacks in one run (the second request joins the first before it
    starts), in an order of its own, or the tab click's run follows a Solve
    run cut short before it drew the tabs. Either way Solve's "open the
    Roadmap tab" threw the planner back there. So a tab click drops the
    opening pending, and one asked for later in the same run's callbacks
    (:func:`open_tab`) is not made, until the run's script starts
    (:func:`callbacks_over`).
    """
    st.session_state.pop(_OPEN_TAB, None)
    st.session_state[_TAB_CLICKED] = True


def tabs_drawn(names: list[str], tabs: Sequence[Any]) -> None:
    """The run that drew ``tabs`` ended: the browser has the open tab it sent."""
    st.session_state[_TABS_SENT] = next(
        (n for n, t in zip(names, tabs, strict=True) if t.open), names[0])


_OPENED = "rm_opened."


def opened_once(label: str, key: str) -> tuple[Any, bool]:
    """A collapsed expander, and whether to draw its contents: once it has been opened.

    What a browser shows in a form is forgotten as soon as a run leaves the
    form out, so a form opened once is drawn on every later run, open or
    closed, tab shown or not (docs/decisions.md, 50). One never opened costs
    nothing: the Edit tab's three authoring sections were 81 of the ~200
    elements a browser redrew on every click (save, solve, switch), Edit tab
    open or not. Opening reruns the app (``on_change``); AppTest opens one by
    setting its key in the session state to True.
    """
    box = st.expander(label, expanded=False, key=key, on_change="rerun")
    if box.open:
        st.session_state[_OPENED + key] = True
    return box, box.open is not False or bool(st.session_state.get(_OPENED + key))


@dataclass
class AppState:
    source: str
    original: Scenario
    working: Scenario
    gen: int = 0
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    workers: int = 1
    seed: int = 0
    result: Result | None = None
    result_scenario: Scenario | None = None
    result_key: str | None = None
    result_options: SolveOptions | None = None
    result_stopped: bool = False   # the planner stopped the solve that gave `result`
    previous: Result | None = None
    previous_scenario: Scenario | None = None
    cache: dict[str, Result] = field(default_factory=dict)
    flash: list[tuple[str, str]] = field(default_factory=list)
    analysis: dict[str, Any] = field(default_factory=dict)   # binding reports by result key
    auto_solve: bool = True
    # Undo/redo: earlier and undone working copies (newest last), this dataset only.
    past: list[Scenario] = field(default_factory=list)
    future: list[Scenario] = field(default_factory=list)
    # Derived views of immutable objects, keyed by what they derive from (see memo()).
    memos: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def memo(self, key: tuple[Any, ...], build: Callable[[], Any], *keep: Any) -> Any:
        """``build()`` once per key: a rerun redraws, it does not recompute.

        Keys hold ids of the scenario and result objects, which the app never
        mutates (an edit makes a new working copy), plus the view's options;
        the objects themselves are kept with the entry (``keep``), so an id is
        never reused by another object while its entry lives.
        """
        if key not in self.memos:
            if len(self.memos) > MEMO_LIMIT:
                self.memos.clear()
            self.memos[key] = (keep, build())
        return self.memos[key][1]

    def options(self) -> SolveOptions:
        return SolveOptions(time_limit_s=self.time_limit_s, workers=self.workers, seed=self.seed)

    def key(self, name: str) -> str:
        """A widget key tied to the current generation of the working copy."""
        return f"g{self.gen}.{name}"

    def current(self, key: str) -> bool:
        """True when a widget key belongs to the working copy's generation.

        A callback of a widget drawn for an earlier working copy (another
        dataset, an undone edit) must not write into this one: its rule or
        concession may not exist here at all.
        """
        return key.startswith(f"g{self.gen}.")

    def say(self, level: str, message: str) -> None:
        """Queue a message shown once at the top of the next run."""
        self.flash.append((level, message))


def _default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


# Parsed scenario files of this process, by (path, modification time, size).
_READ: dict[tuple[str, int, int], Scenario] = {}


def read_scenario(ref: str) -> Scenario:
    """``load_scenario``, remembered while the file is unchanged.

    Reading the seed's YAML takes about 0.2 s (PyYAML's pure-Python loader:
    libyaml's is not used, its C composer has no recursion guard for a
    deeply nested file), most of a dataset switch's server time. A switch
    back to a dataset gets a deep copy of the first reading (2 ms), so that
    nothing one session does to its scenario reaches another.
    """
    try:
        path = resolve_scenario(ref)
        stat = path.stat()
    except (ScenarioError, OSError):
        return load_scenario(ref)          # its own error message
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _READ:
        _READ[key] = load_scenario(ref)
    return _READ[key].model_copy(deep=True)


def initial_scenario() -> tuple[str, Scenario]:
    ref = os.environ.get(SCENARIO_ENV) or DEFAULT_DATASET
    return ref, read_scenario(ref)


def callbacks_over() -> None:
    """The run's script starts: its callbacks are over (the mark of :func:`_tab_clicked`)."""
    st.session_state.pop(_TAB_CLICKED, None)


def get() -> AppState:
    """The session's state, created on first use (the first call of every run)."""
    callbacks_over()
    if "rm" not in st.session_state:
        try:
            ref, sc = initial_scenario()
        except ScenarioError as err:
            # The app must still open; show why the default did not load.
            ref, sc = "built-in example", _fallback()
            fresh = AppState(source=ref, original=sc, working=sc, workers=_default_workers())
            fresh.say("error", str(err))
            st.session_state["rm"] = fresh
            return fresh
        label = os.path.basename(ref)
        st.session_state["rm"] = AppState(source=label, original=sc, working=sc,
                                          workers=_default_workers())
    state: AppState = st.session_state["rm"]
    return state


def _fallback() -> Scenario:
    return parse_scenario({
        "format": "roadmap/v1", "name": "Two-step example", "horizon": 12,
        "parties": [{"id": "A"}, {"id": "B"}],
        "concessions": [{"id": "a1", "party": "A", "duration": 2, "value": 3},
                        {"id": "b1", "party": "B", "duration": 2, "value": 3}],
    }, "<built-in example>")


def load(state: AppState, scenario: Scenario, source: str) -> None:
    """Replace the scenario being edited (a new dataset or upload)."""
    state.original = scenario
    state.working = scenario
    state.source = source
    state.gen += 1
    state.auto_solve = True
    # The old roadmap must not stay on screen under the new scenario's title:
    # the new one comes from the cache at once, or is solved.
    state.result = state.result_scenario = state.result_key = None
    state.previous = state.previous_scenario = None
    state.past.clear()
    state.future.clear()


HISTORY_LIMIT = 200


def commit(state: AppState, updated: Scenario) -> None:
    """Make ``updated`` the working copy, remembering the old one for Undo."""
    if updated == state.working:
        return
    state.past.append(state.working)
    del state.past[:-HISTORY_LIMIT]
    state.future.clear()
    state.working = updated


def undo(state: AppState) -> bool:
    if not state.past:
        return False
    state.future.append(state.working)
    state.working = state.past.pop()
    state.gen += 1
    return True


def redo(state: AppState) -> bool:
    if not state.future:
        return False
    state.past.append(state.working)
    state.working = state.future.pop()
    state.gen += 1
    return True


def reset(state: AppState) -> None:
    commit(state, state.original)   # undoable, like any edit
    state.gen += 1


def as_dict(sc: Scenario) -> dict[str, Any]:
    return sc.model_dump(mode="json", by_alias=True)


def edit(state: AppState, change: Callable[[dict[str, Any]], None], *,
         bump: bool = False) -> str | None:
    """Apply ``change`` to a dict copy of the working scenario and re-validate.

    Returns the error text when the edit is rejected (the working copy is then
    unchanged and the widgets are reset to it), else None.
    """
    data = as_dict(state.working)
    try:
        change(data)
        updated = parse_scenario(data, "edited scenario")
    except (ValueError, TypeError, KeyError) as err:
        # ScenarioError is a ValueError: the one-line message, never a traceback.
        state.gen += 1
        state.say("error", f"Edit not applied — {err}")
        return str(err)
    commit(state, updated)
    if bump:
        state.gen += 1
    return None


def modified(state: AppState) -> bool:
    if state.working is state.original:
        return False
    return bool(state.memo(("modified", id(state.working), id(state.original)),
                           lambda: state.working != state.original,
                           state.working, state.original))
