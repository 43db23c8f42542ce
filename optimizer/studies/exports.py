"""Exports a planner hands on: the schedule as a readable CSV, the chart as a titled PNG.

``Result.to_csv`` stays the machine format (ids and time numbers, SPEC §3's
fields); :func:`schedule_csv` is the one for people — concession titles, party
and phase names and calendar dates first, the ids and raw times in their own
columns after them, so a spreadsheet can still join on them. :func:`chart_png`
puts the scenario's name, the roadmap's dates and the export date over the
chart (whose own title and legend stay), so a PNG pasted into a slide says
what it is.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd

from models import Result, Scenario
from models.calendar import label as cal_label
from optimizer.studies.charts import to_png

CSV_COLUMNS = ["Phase", "Concession", "Party", "Starts", "Ends", "Verified", "Category",
               "In the roadmap", "concession_id", "party_id", "phase_id", "start", "end",
               "verified"]


def date_text(sc: Scenario, t: int | None) -> str:
    """'2018-08' (or an ISO day) with a calendar, else 'month 14'; '' for no time."""
    if t is None:
        return ""
    return cal_label(sc, t) or f"{sc.time_unit} {t}"


def schedule_frame(sc: Scenario, result: Result) -> pd.DataFrame:
    """One row per concession, in roadmap order (phase, start), left-out ones last."""
    parties = {p.id: p.name or p.id for p in sc.parties}
    phases = {p.id: p.name or p.id for p in sc.effective_phases}
    order = {p.id: k for k, p in enumerate(result.phases)}
    rows = []
    for e in result.schedule:
        c = sc.concession(e.id)
        rows.append({
            "Phase": phases.get(e.phase or "", e.phase or "") if e.present else "left out",
            "Concession": c.label, "Party": parties.get(e.party, e.party),
            "Starts": date_text(sc, e.start), "Ends": date_text(sc, e.end),
            "Verified": date_text(sc, e.verified), "Category": c.category or "",
            "In the roadmap": "yes" if e.present else "no",
            "concession_id": e.id, "party_id": e.party, "phase_id": e.phase,
            "start": e.start, "end": e.end, "verified": e.verified,
            "_k": order.get(e.phase or "", len(order)) if e.present else len(order) + 1,
        })
    frame = pd.DataFrame(rows, columns=[*CSV_COLUMNS, "_k"])
    frame = frame.sort_values(["_k", "start", "party_id"], kind="stable", na_position="last")
    frame = frame.drop(columns="_k").reset_index(drop=True)
    return frame.astype({c: "Int64" for c in ("start", "end", "verified")})


def schedule_csv(sc: Scenario, result: Result) -> str:
    return str(schedule_frame(sc, result).to_csv(index=False))


def export_title(sc: Scenario, result: Result, today: dt.date | None = None) -> list[str]:
    """[scenario name, 'Optimal roadmap, 2018-06 to 2028-02 · exported 2026-12-01']."""
    day = (today or dt.datetime.now(dt.UTC).date()).isoformat()
    span = ""
    if result.metrics is not None:
        span = f", {date_text(sc, 0)} to {date_text(sc, result.metrics.makespan)}"
    return [sc.name, f"{result.status.capitalize()} roadmap{span} · exported {day}"]


def titled(chart: alt.TopLevelMixin, sc: Scenario, result: Result,
           today: dt.date | None = None) -> alt.VConcatChart:
    """The chart under a title naming the scenario, the roadmap's dates and the export day."""
    name, sub = export_title(sc, result, today)
    return alt.vconcat(chart).properties(title=alt.TitleParams(  # type: ignore[arg-type]
        name, subtitle=[sub], anchor="start", fontSize=17, subtitleFontSize=12,
        subtitleColor="#374151", offset=14), padding=18).configure(background="white")


def chart_png(chart: alt.TopLevelMixin, sc: Scenario, result: Result,
              today: dt.date | None = None, scale: float = 2.0) -> bytes:
    return to_png(titled(chart, sc, result, today), scale=scale)
