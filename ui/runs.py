"""Saved runs: the UI's side of the run store (``optimizer.studies.store.RunStore``).

The store is the same SQLite file that batches and Pareto curves write to
(``$ROADMAP_STORE``, else ``optimizer.studies.store.default_store_path()``), so a
saved run survives a page reload or a restart of the app, and a run saved in
the UI can be compared with ``roadmap compare`` by its id. The UI saves with
``source="ui"`` and the run's name as its label.

Every function returns an error text instead of raising: a locked, missing or
unwritable store must show one line, never a traceback.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import streamlit as st

from models import Result, Scenario, ScenarioError
from optimizer.studies.store import RunStore, default_store_path
from ui.state import AppState

SOURCE = "ui"
STORE_KEY = "rm_store"
LOADED_KEY = "rm_loaded_runs"
# What can go wrong with a store file: locked, corrupt, unreadable, bad stored JSON.
STORE_ERRORS = (sqlite3.Error, OSError, RuntimeError, KeyError, ValueError)


def store_path() -> Path:
    return default_store_path().resolve()


def store() -> RunStore:
    """The session's connection to the store (reopened if ``$ROADMAP_STORE`` moved)."""
    path = store_path()
    current = st.session_state.get(STORE_KEY)
    if isinstance(current, RunStore) and current.path == path:
        return current
    opened = RunStore(path)
    st.session_state[STORE_KEY] = opened
    return opened


def list_runs(include_batches: bool = False) -> tuple[list[dict[str, Any]], str | None]:
    """Run summaries, oldest first (so the first picked is the earliest saved)."""
    try:
        rows = store().list_runs(source=None if include_batches else SOURCE)
    except STORE_ERRORS as err:
        return [], f"The run store {store_path()} cannot be read — {err}"
    return list(reversed(rows)), None


def display_names(rows: list[dict[str, Any]]) -> dict[str, str]:
    """run_id -> a unique name: the label, else the scenario name and variant."""
    base: dict[str, str] = {}
    for r in rows:
        name = r.get("label") or " ".join(x for x in (r.get("name"), r.get("variant_id")) if x)
        base[r["run_id"]] = name or r["run_id"]
    counts: dict[str, int] = {}
    for name in base.values():
        counts[name] = counts.get(name, 0) + 1
    return {rid: name if counts[name] == 1 else f"{name} [{rid[:7]}]"
            for rid, name in base.items()}


def load(run_id: str) -> tuple[Scenario, Result]:
    """A run's scenario and result (parsed once per session: stored runs never change)."""
    loaded: dict[str, tuple[Scenario, Result]] = st.session_state.setdefault(LOADED_KEY, {})
    if run_id not in loaded:
        run = store().get_run(run_id)
        loaded[run_id] = (run.scenario, run.result)
    return loaded[run_id]


def next_name(rows: list[dict[str, Any]]) -> str:
    labels = {r.get("label") for r in rows if r.get("source") == SOURCE}
    n = len(labels) + 1
    while f"Run {n}" in labels:
        n += 1
    return f"Run {n}"


def save(state: AppState, name: str) -> str | None:
    """Store the shown result under ``name``; an error text, or None when saved.

    Saving under the name of an earlier UI run replaces that run, as a
    planner re-saving "Baseline" expects.
    """
    name = (name or "").strip()
    if state.result is None or state.result_scenario is None:
        return "Nothing to save yet: solve first."
    if not state.result.solved:
        return "Only a solved roadmap can be saved for comparison."
    if not name:
        return "Give the run a name."
    try:
        s = store()
        old = [r["run_id"] for r in s.list_runs(source=SOURCE) if r.get("label") == name]
        options = state.result_options or state.options()
        run_id = s.save_run(state.result, state.result_scenario, options, label=name,
                            source=SOURCE)
        for rid in old:
            s.delete_run(rid)
    except STORE_ERRORS as err:
        return f"Run not saved: the run store {store_path()} failed — {err}"
    verb = "Replaced" if old else "Saved"
    state.say("success", f"{verb} run '{name}' (id {run_id}).")
    return None


def delete(state: AppState, run_id: str, name: str) -> None:
    try:
        store().delete_run(run_id)
    except STORE_ERRORS as err:
        state.say("error", f"Run not deleted — {err}")
        return
    state.say("info", f"Deleted run '{name}'.")


def rename(state: AppState, run_id: str, old: str, new: str) -> None:
    new = (new or "").strip()
    if not new:
        state.say("error", "Give the run a name.")
        return
    try:
        s = store()
        if any(r.get("label") == new and r["run_id"] != run_id
               for r in s.list_runs(source=SOURCE)):
            state.say("error", f"A saved run is already called '{new}'.")
            return
        s.set_label(run_id, new)
    except STORE_ERRORS as err:
        state.say("error", f"Run not renamed — {err}")
        return
    state.say("success", f"Renamed run '{old}' to '{new}'.")


def load_error(err: Exception) -> str:
    if isinstance(err, ScenarioError):
        return f"A stored run no longer loads — {err}"
    return f"A stored run cannot be read — {err}"
