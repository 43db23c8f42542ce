"""The Progress tab's record editor: rows of the working copy's concessions with
their recorded state (SPEC §5.5), and the edits written back as ``progress``.

Times are shown and typed as calendar labels when the scenario has a
``calendar_start`` (``2019-02``, or an ISO date), else as whole time units; a
number is accepted either way. The rows are only a view: every edit is
written into a dict copy of the scenario and validated by ``parse_scenario``
(``models.extensions.Progress``, ``models.validation``), so the app accepts
exactly what a scenario file may hold. A rejected edit raises ``RecordError``,
whose one line names the row (the concession's title and id) and the column.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from models import Scenario, ScenarioError, parse_scenario
from models.calendar import label as cal_label
from models.calendar import to_time

NOT_STARTED, UNDER_WAY, DONE, REVERSED = "not started", "under way", "done", "reversed"
STATES = [NOT_STARTED, UNDER_WAY, DONE, REVERSED]
ON_SCHEDULE, VERIFIED_AT, REFUSED = "on schedule", "verified at", "refused"
VERIFICATIONS = [ON_SCHEDULE, VERIFIED_AT, REFUSED]
COLUMNS = ["id", "title", "party", "state", "started", "finished", "verification",
           "verified_at", "reversed_at", "note"]
# The column a progress-step field is edited in (for messages).
FIELD_COLUMN = {"id": "Concession", "start": "Started", "end": "Finished",
                "verified": "Verified at", "reversed": "Reversed at", "as_of": "As of"}
TITLES = {"state": "State", "started": "Started", "finished": "Finished",
          "verification": "Verification", "verified_at": "Verified at",
          "reversed_at": "Reversed at", "note": "Note"}


class RecordError(ValueError):
    """A record edit that cannot be saved: one line naming the row and the column."""


def show_time(sc: Scenario, t: int | None) -> str:
    """A time as the editor shows it: its calendar label, else the number."""
    if t is None:
        return ""
    return cal_label(sc, t) or str(t)


def describe_time(sc: Scenario, t: int) -> str:
    """'2019-02 (month 8)' with a calendar, 'month 8' without."""
    cal = cal_label(sc, t)
    return f"{cal} ({sc.time_unit} {t})" if cal else f"{sc.time_unit} {t}"


def record_rows(sc: Scenario) -> pd.DataFrame:
    """One row per concession, in the scenario's order, with its recorded state."""
    steps = {s.id: s for s in (sc.progress.steps if sc.progress is not None else [])}
    rows = []
    for c in sc.concessions:
        s = steps.get(c.id)
        if s is None:
            state = NOT_STARTED
        elif s.end is None:
            state = UNDER_WAY
        else:
            state = REVERSED if s.reversed is not None else DONE
        verification = ON_SCHEDULE
        if s is not None and s.verified is False:
            verification = REFUSED
        elif s is not None and s.verified is not None:
            verification = VERIFIED_AT
        rows.append({
            "id": c.id, "title": c.label, "party": c.party, "state": state,
            "started": show_time(sc, s.start) if s is not None else "",
            "finished": show_time(sc, s.end) if s is not None else "",
            "verification": verification,
            "verified_at": show_time(sc, s.verified) if s is not None and s.verified not in (
                None, False) else "",  # type: ignore[arg-type]
            "reversed_at": show_time(sc, s.reversed) if s is not None else "",
            "note": (s.note or "") if s is not None else "",
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def _text(raw: Any) -> str:
    if raw is None or (isinstance(raw, float) and raw != raw):   # NaN from an emptied cell
        return ""
    return str(raw).strip()


def _row_name(row: dict[str, Any]) -> str:
    return f"row “{row['title']}” ({row['id']})"


def _time(sc: Scenario, row: dict[str, Any], col: str) -> int | None:
    text = _text(row.get(col))
    if not text:
        return None
    try:
        return to_time(sc, text)
    except ValueError as exc:
        raise RecordError(f"{_row_name(row)}, {TITLES[col]}: {exc}") from None


def _state(row: dict[str, Any], changes: dict[str, Any]) -> str:
    """The state the row asks for: as chosen, or read off the cells just typed."""
    if changes.get("state"):
        return str(changes["state"])
    current = str(row.get("state") or NOT_STARTED)
    typed = set(changes) & {"started", "finished", "reversed_at", "verification", "verified_at"}
    if not typed:
        return current
    if _text(row.get("reversed_at")):
        return REVERSED
    if _text(row.get("finished")):
        return DONE
    if _text(row.get("started")):
        return UNDER_WAY
    return NOT_STARTED


def step_of(sc: Scenario, row: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any] | None:
    """The progress step a row stands for (None: not started)."""
    state = _state(row, changes)
    if state not in STATES:
        raise RecordError(f"{_row_name(row)}, State: expected one of {', '.join(STATES)}, "
                          f"got {state!r}")
    if state == NOT_STARTED:
        return None
    start = _time(sc, row, "started")
    if start is None:
        raise RecordError(f"{_row_name(row)}, Started: a step {state} needs its start date")
    step: dict[str, Any] = {"id": row["id"], "start": start}
    note = _text(row.get("note"))
    if state == UNDER_WAY:
        # An explicit "under way" drops the later dates; typed ones are kept and
        # validated (SPEC §5.8: no verification or reversal on a step under way).
        if "state" not in changes:
            for col, fld in (("finished", "end"), ("verified_at", "verified"),
                             ("reversed_at", "reversed")):
                t = _time(sc, row, col)
                if t is not None:
                    step[fld] = t
            if _text(row.get("verification")) == REFUSED:
                step["verified"] = False
    else:
        end = _time(sc, row, "finished")
        if end is None:
            raise RecordError(f"{_row_name(row)}, Finished: a step {state} needs its end date")
        step["end"] = end
        verification = _text(row.get("verification")) or ON_SCHEDULE
        verified = _time(sc, row, "verified_at")
        if verification == REFUSED:
            step["verified"] = False
        elif verified is not None:
            step["verified"] = verified
        elif verification == VERIFIED_AT:
            raise RecordError(f"{_row_name(row)}, Verified at: give the date of the "
                              "verification (or choose 'on schedule' or 'refused')")
        if state == REVERSED:
            reversed_at = _time(sc, row, "reversed_at")
            if reversed_at is None:
                raise RecordError(f"{_row_name(row)}, Reversed at: a reversed step needs "
                                  "the date it was taken back")
            step["reversed"] = reversed_at
    if note:
        step["note"] = note
    return step


def _merge_step(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Keep what the editor does not show (a step's sources) across an edit."""
    if old is not None and old.get("sources"):
        new["sources"] = old["sources"]
    return new


def apply_record_edits(sc: Scenario, data: dict[str, Any], edited_rows: dict[Any, Any]) -> None:
    """Write the editor's edited rows into ``data['progress']`` (scenario order)."""
    frame = record_rows(sc)
    rows = frame.to_dict("records")
    old = data.get("progress") or {"as_of": 0, "steps": []}
    by_id = {s["id"]: s for s in old.get("steps") or []}
    for index, changes in edited_rows.items():
        row = rows[int(index)]
        row.update(changes)
        step = step_of(sc, row, changes)
        if step is None:
            by_id.pop(row["id"], None)
        else:
            by_id[row["id"]] = _merge_step(by_id.get(row["id"]), step)
    order = [c.id for c in sc.concessions]
    steps = [by_id[cid] for cid in order if cid in by_id]
    data["progress"] = {**old, "steps": steps}


STEP_PATH = re.compile(r"^progress\.steps\[(\d+)\]\.(\w+)$")


def explain_error(sc: Scenario, data: dict[str, Any], err: ScenarioError) -> str:
    """The validation error in the editor's words: the row and column, the value as a date."""
    value = err.value
    got = ""
    if isinstance(value, int) and not isinstance(value, bool):
        got = f" (got {describe_time(sc, value)})"
    elif value is not ...:
        got = f" (got {value!r})"
    m = STEP_PATH.match(err.path or "")
    if m:
        step = (data.get("progress") or {}).get("steps", [])[int(m.group(1))]
        try:
            title = sc.concession(step["id"]).label
        except KeyError:
            title = step["id"]
        column = FIELD_COLUMN.get(m.group(2), m.group(2))
        return f"row “{title}” ({step['id']}), {column}: {err.message}{got}"
    if err.path == "progress.as_of":
        return f"As of: {err.message}{got}"
    return str(err)


def validated(sc: Scenario, data: dict[str, Any]) -> Scenario:
    """``parse_scenario`` of the edited dict; its error rephrased for the editor."""
    try:
        return parse_scenario(data, "edited scenario")
    except ScenarioError as err:
        raise RecordError(explain_error(sc, data, err)) from None


def set_as_of(data: dict[str, Any], as_of: int) -> None:
    old = data.get("progress") or {"steps": []}
    data["progress"] = {**old, "as_of": int(as_of)}
