"""The Edit tab: concessions, rules, objective, horizon and phases.

Every widget starts from the working copy and writes back through
``state.edit`` in its ``on_change`` callback, so an edit is validated exactly
like a scenario file and a rejected one is reported, not half-applied.

Over 400 lines, knowingly: one tab's widgets for every part of a scenario, each
with its callback; the pure edit functions it calls live in ``ui/authoring.py``.
Splitting the tab by section is the next step (it also draws slowest, ~1 s).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from models import Scenario
from models.result import METRIC_NAMES
from ui import authoring
from ui.state import AppState, edit, opened_once

REVERSIBILITY = ["reversible", "costly", "irreversible"]
METHODS = ["none", "declaration", "public", "ntm", "monitoring", "inspection"]
METRIC_LABELS = {
    "peak_exposure": "Peak exposure (the cliff)",
    "makespan": "Makespan (finish early)",
    "weighted_completion": "Weighted completion (priorities early)",
    "excluded_value": "Excluded value (leave little out)",
    "phase_imbalance": "Phase imbalance",
}
KIND_LABELS = {
    "exposure": "Exposure caps", "phase_balance": "Phase balance",
    "precedence": "Sequencing (precedence)", "reciprocity": "Reciprocity (in step)",
    "together": "Packages (together)", "exclusive": "Alternatives (exclusive)",
    "requires": "Requirements",
}
TABLE_COLUMNS = ["id", "party", "title", "category", "dur_min", "dur_max", "value", "cost",
                 "reversibility", "verification", "optional", "earliest_start", "latest_end",
                 "phases", "start", "priority"]


# --------------------------------------------------------------------------
# Concession table: scenario <-> rows
def value_text(value: int | dict[str, int]) -> str:
    if isinstance(value, int):
        return str(value)
    return ", ".join(f"{p}={v}" for p, v in value.items())


def parse_value(text: str, what: str = "value") -> int | dict[str, int]:
    """'8' for 8 to every other party, or 'US=8, ROK=2' per party."""
    text = (text or "").strip()
    if not text:
        return 0
    if "=" not in text and ":" not in text:
        return _whole(text, what)
    out: dict[str, int] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        sep = "=" if "=" in part else ":"
        party, _, amount = part.partition(sep)
        out[party.strip()] = _whole(amount.strip(), f"{what} for {party.strip()}")
    return out


def _whole(raw: Any, what: str) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"{what}: expected a whole number")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            pass
    raise ValueError(f"{what}: expected a whole number, got '{raw}'")


def _maybe_whole(raw: Any, what: str) -> int | None:
    if raw is None or (isinstance(raw, float) and pd.isna(raw)) or raw == "":
        return None
    return _whole(raw, what)


def concession_rows(sc: Scenario) -> pd.DataFrame:
    rows = []
    for c in sc.concessions:
        rows.append({
            "id": c.id, "party": c.party, "title": c.label, "category": c.category,
            "dur_min": c.min_duration, "dur_max": c.max_duration, "value": value_text(c.value),
            "cost": c.cost, "reversibility": c.reversibility, "verification": c.verification,
            "optional": c.optional, "earliest_start": c.earliest_start,
            "latest_end": c.latest_end, "phases": list(c.phases or []), "start": c.start,
            "priority": c.priority,
        })
    frame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    for col in ("cost", "latest_end", "start"):
        frame[col] = frame[col].astype("Int64")
    return frame


def apply_row_edit(data: dict[str, Any], index: int, changes: dict[str, Any]) -> None:
    """Write one table row's edited cells into the scenario dict."""
    c = data["concessions"][index]
    label = c["id"]
    for col, raw in changes.items():
        if col in ("dur_min", "dur_max"):
            cur = c["duration"]
            lo, hi = (cur, cur) if isinstance(cur, int) else (cur["min"], cur["max"])
            new = _whole(raw, f"{label}: duration")
            lo, hi = (new, hi) if col == "dur_min" else (lo, new)
            if col == "dur_min" and lo > hi:
                hi = lo
            if col == "dur_max" and hi < lo:
                lo = hi
            c["duration"] = lo if lo == hi else {"min": lo, "max": hi}
        elif col == "value":
            c["value"] = parse_value(str(raw), f"{label}: value")
        elif col in ("cost", "latest_end", "start"):
            c[col] = _maybe_whole(raw, f"{label}: {col}")
        elif col in ("earliest_start", "priority"):
            c[col] = _maybe_whole(raw, f"{label}: {col}") or (0 if col == "earliest_start" else 1)
        elif col == "optional":
            c["optional"] = bool(raw)
        elif col == "phases":
            c["phases"] = (list(raw) or None) if raw is not None else None
        elif col in ("category", "reversibility", "verification", "party"):
            c[col] = raw
        elif col == "title":
            c["title"] = str(raw or "").strip() or None
        elif col == "id":
            authoring.rename_concession(data, label, str(raw or "").strip())


def apply_table_edits(data: dict[str, Any], edits: dict[str, Any]) -> None:
    for index, changes in (edits.get("edited_rows") or {}).items():
        apply_row_edit(data, int(index), changes)


def _table_changed(state: AppState, key: str) -> None:
    if not state.current(key):
        return
    edits = st.session_state.get(key) or {}
    edit(state, lambda d: apply_table_edits(d, edits), bump=True)


def concession_table(state: AppState) -> None:
    sc = state.working
    st.caption("Edit cells directly. Value: one number for every other party, or "
               "`US=8, ROK=2`. Empty cost = total value; empty latest end = horizon; "
               "start pins the concession; empty phases = any phase.")
    key = state.key("conc_table")
    col = st.column_config
    st.data_editor(
        state.memo(("rows", id(sc)), lambda: concession_rows(sc), sc), key=key,
        hide_index=True, num_rows="fixed", width="stretch",
        height=min(38 + 35 * len(sc.concessions), 720),
        column_config={
            "id": col.TextColumn("Id", width="small", required=True),
            "party": col.SelectboxColumn("Party", options=sc.party_ids, width="small",
                                         required=True),
            "title": col.TextColumn("Title", width="large"),
            "category": col.TextColumn("Category", width="small"),
            "dur_min": col.NumberColumn("Dur. min", min_value=0, step=1, format="%d"),
            "dur_max": col.NumberColumn("Dur. max", min_value=0, step=1, format="%d"),
            "value": col.TextColumn("Value"),
            "cost": col.NumberColumn("Cost", min_value=0, step=1, format="%d"),
            "reversibility": col.SelectboxColumn("Reversibility", options=REVERSIBILITY,
                                                 required=True),
            "verification": col.SelectboxColumn("Verification", options=METHODS, required=True),
            "optional": col.CheckboxColumn("Optional"),
            "earliest_start": col.NumberColumn("Earliest", min_value=0, step=1, format="%d"),
            "latest_end": col.NumberColumn("Latest end", min_value=0, step=1, format="%d"),
            "phases": col.MultiselectColumn("Phases", options=[p.id for p in sc.phases]),
            "start": col.NumberColumn("Pinned start", min_value=0, step=1, format="%d"),
            "priority": col.NumberColumn("Priority", min_value=0, step=1, format="%d"),
        },
    )
    # Commit cell edits into the working copy, then redraw the table from it
    # under a new key (so edits are never applied twice).
    edits = st.session_state.get(key) or {}
    if edits.get("edited_rows"):
        _table_changed(state, key)
        st.rerun()


# --------------------------------------------------------------------------
# Rules
def _rule_index(data: dict[str, Any], rid: str) -> dict[str, Any]:
    found = next((r for r in data["rules"] if r["id"] == rid), None)
    if found is None:
        raise KeyError(f"no rule '{rid}' in the working copy")
    return found


def _set_rule(state: AppState, rid: str, fld: str, key: str) -> None:
    if not state.current(key) or all(r.id != rid for r in state.working.rules):
        return   # a widget of an earlier working copy (e.g. before a dataset switch)
    value = st.session_state.get(key)

    def change(d: dict[str, Any]) -> None:
        rule = _rule_index(d, rid)
        if fld == "enabled":
            rule["enabled"] = bool(value)
        elif fld == "max_lag":
            rule[fld] = _maybe_whole(value, f"{rid}: {fld}")
        else:
            rule[fld] = _whole(value, f"{rid}: {fld}")

    edit(state, change)


def rule_summary(sc: Scenario, rule: Any) -> str:
    if not rule.refs():   # exposure, phase_balance: the parties they cover
        return f"parties: {', '.join(rule.parties or sc.party_ids)}"
    name = {c.id: c.label for c in sc.concessions}
    return str(rule.summary(lambda cid: name.get(cid, cid)))


PARAMS: dict[str, list[tuple[str, str]]] = {
    "exposure": [("max", "Cap")],
    "phase_balance": [("tolerance", "Tolerance")],
    "precedence": [("min_lag", "Min lag"), ("max_lag", "Max lag")],
    "reciprocity": [("max_gap", "Max gap")],
}


def _rule_row(state: AppState, rule: Any, numbers: bool = True) -> None:
    with st.container(key=f"rule-{rule.id}"):
        _rule_widgets(state, rule, numbers)


def _rule_widgets(state: AppState, rule: Any, numbers: bool = True) -> None:
    params = PARAMS.get(rule.kind, []) if numbers else []
    cols = st.columns([6] + [1.3] * len(params) if params else [1])
    with cols[0]:
        key = state.key(f"rule_on.{rule.id}")
        label = rule.text or rule.id
        st.toggle(label, value=rule.enabled, key=key, on_change=_set_rule,
                  args=(state, rule.id, "enabled", key),
                  help=f"{rule.text or rule.id}  \n`{rule.id}` — "
                       f"{rule_summary(state.working, rule)}")
    for col, (fld, title) in zip(cols[1:], params, strict=True):
        with col:
            key = state.key(f"rule_{fld}.{rule.id}")
            current = getattr(rule, fld)
            lower = None if fld in ("min_lag", "max_lag") else 0
            st.number_input(title, value=current, step=1, min_value=lower, key=key,
                            on_change=_set_rule, args=(state, rule.id, fld, key),
                            disabled=not rule.enabled, placeholder="none")


def _edit_with(state: AppState, change: Any, done: str) -> None:
    if edit(state, change, bump=True) is None:
        state.say("success", done)


def _add_rule(state: AppState, key: str) -> None:
    text = st.session_state.get(key) or ""
    out: list[str] = []
    _edit_with(state, lambda d: out.append(authoring.add_rule(d, text)), "Rule added.")


def _rule_action(state: AppState, action: str, key: str) -> None:
    rid = st.session_state.get(key)
    if not rid or not state.current(key):
        return
    if action == "duplicate":
        _edit_with(state, lambda d: authoring.duplicate_rule(d, rid), f"Rule '{rid}' duplicated.")
    else:
        _edit_with(state, lambda d: authoring.delete_rule(d, rid), f"Rule '{rid}' deleted.")


def rule_authoring(state: AppState) -> None:
    """Add a rule of any kind (as YAML, checked by the same models), duplicate or delete one."""
    sc = state.working
    box, draw = opened_once("Add, duplicate or delete a rule", "rule_authoring")
    if not draw:
        return
    with box:
        kind = st.selectbox("Kind of the new rule", list(KIND_LABELS),
                            format_func=lambda k: KIND_LABELS[k], key=state.key("new_rule_kind"))
        key = state.key(f"new_rule_yaml.{kind}")
        st.text_area("The new rule (YAML; concessions by id)",
                     authoring.rule_template(kind or "exposure", sc), key=key, height=150)
        st.button("Add rule", key=state.key("add_rule"), on_click=_add_rule, args=(state, key))
        if sc.rules:
            cols = st.columns([4, 1, 1], vertical_alignment="bottom")
            pick = state.key("pick_rule")
            with cols[0]:
                st.selectbox("Rule", [r.id for r in sc.rules], key=pick,
                             format_func=lambda rid: next(
                                 (r.text or r.id for r in sc.rules if r.id == rid), rid))
            cols[1].button("Duplicate", key=state.key("dup_rule"), on_click=_rule_action,
                           args=(state, "duplicate", pick), width="stretch")
            cols[2].button("Delete", key=state.key("del_rule"), on_click=_rule_action,
                           args=(state, "delete", pick), width="stretch")


def rules_editor(state: AppState) -> None:
    sc = state.working
    if not sc.rules:
        st.info("This scenario has no rules.")
        return
    for kind, title in KIND_LABELS.items():
        rules = [r for r in sc.rules if r.kind == kind]
        if not rules:
            continue
        on = sum(r.enabled for r in rules)
        expanded = kind in ("exposure", "phase_balance")
        group = st.expander(f"{title} — {on} of {len(rules)} on", expanded=expanded,
                            key=f"rule_group.{kind}", on_change="rerun")
        # Every number input costs Streamlit a pass over the whole session state
        # (quadratic: 0.5 s of the seed's Edit tab went to the 108 lag inputs of
        # collapsed groups). A closed group keeps its on/off switches; its numbers
        # are drawn when it is opened.
        numbers = group.open is not False
        with group:
            for rule in rules:
                _rule_row(state, rule, numbers)


# --------------------------------------------------------------------------
# Objective, horizon and phases
def _set_terms(state: AppState, key: str) -> None:
    if not state.current(key):
        return
    chosen: list[str] = list(st.session_state.get(key) or [])
    if not chosen:
        state.gen += 1
        state.say("error", "Edit not applied — the objective needs at least one term.")
        return

    def change(d: dict[str, Any]) -> None:
        old = {t["metric"]: t for t in d["objective"]["terms"]}
        d["objective"]["terms"] = [old.get(m, {"metric": m, "weight": 1, "parties": None})
                                   for m in chosen]

    edit(state, change)


def _set_objective(state: AppState, fld: str, key: str, metric: str | None = None) -> None:
    if not state.current(key):
        return
    value = st.session_state.get(key)

    def change(d: dict[str, Any]) -> None:
        if fld == "mode":
            d["objective"]["mode"] = value
            return
        term = next(t for t in d["objective"]["terms"] if t["metric"] == metric)
        if fld == "weight":
            term["weight"] = _whole(value, f"weight of {metric}")
        else:
            term["parties"] = list(value) if value else None

    edit(state, change)


def _move_term(state: AppState, metric: str, step: int) -> None:
    edit(state, lambda d: authoring.move_term(d, metric, step), bump=True)


def objective_editor(state: AppState) -> None:
    obj = state.working.objective
    key = state.key("obj_mode")
    st.radio("Mode", ["lexicographic", "weighted"], index=0 if obj.mode == "lexicographic" else 1,
             key=key, horizontal=True, on_change=_set_objective, args=(state, "mode", key),
             help="Lexicographic: optimise the first term, then the next without losing the "
                  "first. Weighted: minimise the weighted sum.")
    key = state.key("obj_terms")
    st.multiselect("Terms used (add or remove here; order them with ↑/↓ below)",
                   list(METRIC_NAMES),
                   default=[t.metric for t in obj.terms], key=key,
                   format_func=lambda m: METRIC_LABELS.get(m, m),
                   on_change=_set_terms, args=(state, key))
    for k, term in enumerate(obj.terms):
        move = st.columns([5, 1, 1], vertical_alignment="center")
        move[0].markdown(f"{k + 1}. {METRIC_LABELS.get(term.metric, term.metric)}")
        move[1].button("↑", key=state.key(f"term_up.{term.metric}"), disabled=k == 0,
                       on_click=_move_term, args=(state, term.metric, -1),
                       help="More important")
        move[2].button("↓", key=state.key(f"term_down.{term.metric}"),
                       disabled=k == len(obj.terms) - 1, on_click=_move_term,
                       args=(state, term.metric, +1), help="Less important")
        cols = st.columns([1, 2])
        if obj.mode == "weighted":
            with cols[0]:
                key = state.key(f"obj_w.{term.metric}")
                st.number_input(f"Weight: {term.metric.replace('_', ' ')}", min_value=0,
                                step=1, value=term.weight, key=key, on_change=_set_objective,
                                args=(state, "weight", key, term.metric))
        if term.metric == "peak_exposure":
            with cols[1]:
                key = state.key("obj_parties")
                st.multiselect("Parties whose exposure counts (empty = all)",
                               state.working.party_ids, default=term.parties or [], key=key,
                               on_change=_set_objective,
                               args=(state, "parties", key, term.metric))


def _set_top(state: AppState, fld: str, key: str, phase: str | None = None) -> None:
    if not state.current(key):
        return
    value = st.session_state.get(key)

    def change(d: dict[str, Any]) -> None:
        if phase is None:
            d[fld] = _whole(value, fld)
            return
        ph = next(p for p in d["phases"] if p["id"] == phase)
        ph[fld] = _maybe_whole(value, f"{phase}: {fld}") if fld == "max_length" else _whole(
            value, f"{phase}: {fld}")

    edit(state, change)


def timing_editor(state: AppState) -> None:
    sc = state.working
    key = state.key("horizon")
    st.number_input(f"Horizon ({sc.time_unit}s): everything ends by", min_value=1, step=1,
                    value=sc.horizon, key=key, on_change=_set_top, args=(state, "horizon", key))
    if not sc.phases:
        st.caption("No phases defined: the whole roadmap is one phase.")
        return
    st.markdown("**Phase lengths**")
    for ph in sc.phases:
        cols = st.columns([2, 1, 1])
        cols[0].markdown(f"{ph.name or ph.id}  \n`{ph.id}`")
        with cols[1]:
            key = state.key(f"ph_min.{ph.id}")
            st.number_input("Min length", min_value=0, step=1, value=ph.min_length, key=key,
                            on_change=_set_top, args=(state, "min_length", key, ph.id))
        with cols[2]:
            key = state.key(f"ph_max.{ph.id}")
            st.number_input("Max length", min_value=0, step=1, value=ph.max_length, key=key,
                            placeholder="no limit", on_change=_set_top,
                            args=(state, "max_length", key, ph.id))


def _add_concession(state: AppState, prefix: str) -> None:
    get = st.session_state.get
    try:
        fields = {
            "id": (get(f"{prefix}.id") or "").strip(), "party": get(f"{prefix}.party"),
            "title": (get(f"{prefix}.title") or "").strip(),
            "duration": _whole(get(f"{prefix}.duration"), "duration"),
            "value": parse_value(str(get(f"{prefix}.value") or "0")),
            "reversibility": get(f"{prefix}.reversibility"),
            "verification": get(f"{prefix}.verification"),
            "optional": bool(get(f"{prefix}.optional")),
        }
    except ValueError as err:
        state.say("error", f"Concession not added — {err}")
        return
    _edit_with(state, lambda d: authoring.add_concession(d, fields),
               f"Concession '{fields['title'] or fields['id'] or 'new'}' added.")


def _concession_action(state: AppState, action: str, key: str) -> None:
    cid = st.session_state.get(key)
    if not cid or not state.current(key):
        return
    if action == "duplicate":
        _edit_with(state, lambda d: authoring.duplicate_concession(d, cid),
                   f"Concession '{cid}' duplicated.")
        return
    dropped: list[str] = []
    done = f"Concession '{cid}' deleted."
    if edit(state, lambda d: dropped.extend(authoring.delete_concession(d, cid)),
            bump=True) is None:
        state.say("success", done + (f" Rules that named it, removed too: "
                                     f"{', '.join(dropped)}." if dropped else ""))


def concession_authoring(state: AppState) -> None:
    sc = state.working
    box, draw = opened_once("Add, duplicate or delete a concession", "concession_authoring")
    if not draw:
        return
    with box:
        with st.form(key=state.key("new_concession"), border=False):
            prefix = state.key("nc")
            cols = st.columns([1, 1, 3])
            cols[0].text_input("Id (empty: a fresh one)", key=f"{prefix}.id")
            cols[1].selectbox("Party (gives it)", sc.party_ids, key=f"{prefix}.party")
            cols[2].text_input("Title", key=f"{prefix}.title")
            more = st.columns([2, 2, 2, 2, 1], vertical_alignment="bottom")
            more[0].number_input(f"Duration ({sc.time_unit}s)", min_value=0, value=1, step=1,
                                 key=f"{prefix}.duration")
            more[1].text_input("Value (8, or US=8, ROK=2)", value="1", key=f"{prefix}.value")
            more[2].selectbox("Reversibility", REVERSIBILITY, index=1,
                              key=f"{prefix}.reversibility")
            more[3].selectbox("Verification", METHODS, index=1, key=f"{prefix}.verification")
            more[4].checkbox("Optional", key=f"{prefix}.optional",
                             help="May be left out (counts in excluded value)")
            st.form_submit_button("Add concession", on_click=_add_concession,
                                  args=(state, prefix))
        if sc.concessions:
            cols = st.columns([4, 1, 1], vertical_alignment="bottom")
            pick = state.key("pick_concession")
            with cols[0]:
                st.selectbox("Concession", [c.id for c in sc.concessions], key=pick,
                             format_func=lambda cid: f"{sc.concession(cid).label} ({cid})")
            cols[1].button("Duplicate", key=state.key("dup_conc"), on_click=_concession_action,
                           args=(state, "duplicate", pick), width="stretch")
            cols[2].button("Delete", key=state.key("del_conc"), on_click=_concession_action,
                           args=(state, "delete", pick), width="stretch")


def changes_panel(state: AppState) -> None:
    lines: list[str] = [] if state.working is state.original else state.memo(
        ("diff", id(state.original), id(state.working)),
        lambda: authoring.diff(state.original, state.working), state.original, state.working)
    with st.expander(f"Changes from the source ({len(lines)})", expanded=bool(lines),
                     key="changes_panel"):
        if not lines:
            st.caption("The working copy is the scenario as loaded.")
        for line in lines:
            st.markdown(f"- {line}")


def edit_tab(state: AppState, is_open: bool = True) -> None:
    """The Edit tab; closed, only what a planner may have half typed.

    The forms (a new party, phase, concession) and the new rule's YAML are
    drawn whether the tab is open or not, at the same places, once their
    section has been opened (``ui.state.opened_once``): a browser forgets what
    was typed into a form that a run leaves out, so a planner who looked at
    the Roadmap tab half-way through a new concession found it empty. The
    rule, objective and timing inputs and the concession table (about 100
    inputs on the seed, ~0.15 s a run) are drawn only while open.
    """
    from ui.structure import structure_editor

    changes_panel(state)
    structure_editor(state)
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader("Rules")
        rule_authoring(state)
        if is_open:
            rules_editor(state)
    with right:
        if is_open:
            st.subheader("Objective")
            objective_editor(state)
            st.subheader("Horizon and phases")
            timing_editor(state)
    st.subheader("Concessions")
    concession_authoring(state)
    if is_open:
        concession_table(state)
