"""The Edit tab's parties and phases: add and delete them (the sides and the windows).

With these, a planner can build a scenario from a new one (sidebar: New
scenario) without writing a file. Every change goes through ``state.edit``,
so it is validated like a scenario file and refused in one line.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import authoring
from ui.state import AppState, edit, opened_once


def _done(state: AppState, change: Any, message: str) -> None:
    if edit(state, change, bump=True) is None:
        state.say("success", message)


def _add_party(state: AppState, prefix: str) -> None:
    pid = (st.session_state.get(f"{prefix}.id") or "").strip()
    name = st.session_state.get(f"{prefix}.name") or ""
    _done(state, lambda d: authoring.add_party(d, pid, name), f"Party '{pid}' added.")


def _delete_party(state: AppState, key: str) -> None:
    pid = st.session_state.get(key)
    if pid and state.current(key):
        _done(state, lambda d: authoring.delete_party(d, pid), f"Party '{pid}' deleted.")


def _add_phase(state: AppState, prefix: str) -> None:
    get = st.session_state.get
    fields = {"id": (get(f"{prefix}.id") or "").strip(),
              "name": (get(f"{prefix}.name") or "").strip(),
              "min_length": get(f"{prefix}.min"), "max_length": get(f"{prefix}.max")}
    fields["min_length"] = int(fields["min_length"]) if fields["min_length"] is not None else None
    fields["max_length"] = int(fields["max_length"]) if fields["max_length"] is not None else None
    out: list[str] = []
    _done(state, lambda d: out.append(authoring.add_phase(d, fields)),
          f"Phase '{fields['name'] or fields['id'] or 'new'}' added.")


def _delete_phase(state: AppState, key: str) -> None:
    phid = st.session_state.get(key)
    if phid and state.current(key):
        _done(state, lambda d: authoring.delete_phase(d, phid), f"Phase '{phid}' deleted.")


def parties_editor(state: AppState) -> None:
    sc = state.working
    st.caption("Sides: " + "; ".join(f"**{p.id}** {p.name or ''}".strip() for p in sc.parties)
               + (f"  \nPrincipals: {', '.join(sc.principal_ids)}" if sc.principals else ""))
    with st.form(key=state.key("new_party"), border=False):
        prefix = state.key("np")
        cols = st.columns([1, 2, 1], vertical_alignment="bottom")
        cols[0].text_input("Party id", key=f"{prefix}.id", placeholder="DPRK")
        cols[1].text_input("Party name", key=f"{prefix}.name", placeholder="North Korea")
        cols[2].form_submit_button("Add party", on_click=_add_party, args=(state, prefix),
                                   width="stretch")
    if len(sc.parties) > 1:
        cols = st.columns([3, 1], vertical_alignment="bottom")
        key = state.key("pick_party")
        cols[0].selectbox("Party", sc.party_ids, key=key)
        cols[1].button("Delete party", key=state.key("del_party"), on_click=_delete_party,
                       args=(state, key), width="stretch")


def phases_editor(state: AppState) -> None:
    sc = state.working
    st.caption("Phases, in order: " + ("; ".join(
        f"**{p.id}** {p.name or ''}".strip() for p in sc.phases) if sc.phases else
        "none yet (the whole roadmap is one phase)"))
    with st.form(key=state.key("new_phase"), border=False):
        prefix = state.key("nph")
        cols = st.columns([1, 2, 1, 1])
        cols[0].text_input("Phase id", key=f"{prefix}.id", placeholder=f"P{len(sc.phases) + 1}")
        cols[1].text_input("Phase name", key=f"{prefix}.name", placeholder="Halt")
        cols[2].number_input("Min length", min_value=0, value=1, step=1, key=f"{prefix}.min")
        cols[3].number_input("Max length", min_value=0, value=None, step=1, key=f"{prefix}.max",
                             placeholder="no limit")
        st.form_submit_button("Add phase", on_click=_add_phase, args=(state, prefix))
    if sc.phases:
        cols = st.columns([3, 1], vertical_alignment="bottom")
        key = state.key("pick_phase")
        cols[0].selectbox("Phase", [p.id for p in sc.phases], key=key,
                          format_func=lambda i: next((p.name or p.id for p in sc.phases
                                                      if p.id == i), i))
        cols[1].button("Delete phase", key=state.key("del_phase"), on_click=_delete_phase,
                       args=(state, key), width="stretch")


def structure_editor(state: AppState) -> None:
    """Parties and phases, in one collapsed section (once opened, its forms are drawn
    even while closed, so that what was typed in them survives closing it:
    ui.state.opened_once)."""
    box, draw = opened_once("Parties and phases: add or delete", "structure_editor")
    if not draw:
        return
    with box:
        st.markdown("**Parties**")
        parties_editor(state)
        st.markdown("**Phases**")
        phases_editor(state)
