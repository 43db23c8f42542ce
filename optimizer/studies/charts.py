"""Altair charts of a roadmap that the app, the briefing and notebooks share.

The exchange view (every side on one timeline, reciprocal pairs linked), the
Gantt chart and the exposure chart (principals on one scale, the cap
labelled). No Streamlit here: the briefing renders the same specs to SVG
with vl-convert, and ``ui/charts.py`` draws them in the app. Time stays
numeric (the scenario's unit) so figures compare; with a ``calendar_start``
the ticks and tooltips show calendar dates.

One piece (about 410 lines): the three charts share the calendar axis, the
phase bands and the colour scheme, so a planner reads them as one picture.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from models import Result, Scenario
from models.calendar import label as cal_label
from optimizer.explain.defection import PartyExposure, defection_report
from optimizer.model.derived import derive_all

LANE_PX = 20
PHASE_FILLS = ("#eef2f7", "#dfe6ef")
CAP_COLOUR = "#c0392b"
LINK_COLOUR = "#6b7280"
MARKS_NOTE = ("Solid bar: the step is being carried out · light tail: done, awaiting "
              "verification · ◆ a one-off step · grey line: a reciprocal pair (in step)")
GANTT_COLUMNS = ["id", "lane", "title", "party", "party_name", "category", "start", "end",
                 "verified", "milestone", "phase", "value", "cost", "risk", "verification",
                 "starts", "ends", "verified_at", "order"]

Width = int | str   # pixels, or "container"
AnyChart = alt.LayerChart | alt.FacetChart   # what alt.layer(...).properties() gives


def when(sc: Scenario, t: int | None) -> str:
    """'month 14 (Aug 2019)' with a calendar, 'month 14' without, '—' for no time."""
    if t is None:
        return "—"
    cal = cal_label(sc, t)
    return f"{sc.time_unit} {t} ({cal})" if cal else f"{sc.time_unit} {t}"


def calendar_label_expr(sc: Scenario) -> str | None:
    """A Vega expression turning a numeric tick into a calendar label."""
    if not sc.calendar_start:
        return None
    parts = [int(x) for x in sc.calendar_start.split("-")]
    year, month0 = parts[0], parts[1] - 1
    day = parts[2] if len(parts) > 2 else 1
    if sc.time_unit == "month":
        date, fmt = f"datetime({year}, {month0} + datum.value, {day})", "%b %Y"
    elif sc.time_unit == "week":
        date, fmt = f"datetime({year}, {month0}, {day} + 7 * datum.value)", "%d %b %Y"
    else:
        date, fmt = f"datetime({year}, {month0}, {day} + datum.value)", "%d %b %Y"
    return f"timeFormat({date}, '{fmt}')"


def axis_title(sc: Scenario) -> str:
    unit = sc.time_unit + "s"
    return f"{unit} from {sc.calendar_start} (calendar dates on the ticks)" if (
        sc.calendar_start) else unit


ZOOM_TICKS = (0, 7, 30, 90, 180, 365, 730, 1095, 1825, 2555, 3650, 5475, 7300)


def clustered(sc: Scenario, result: Result, domain: tuple[int, int]) -> bool:
    """True when most steps crowd the first sixth of the axis (JCPOA: days 0-200 of 3,650)."""
    ends = sorted((e.end or 0) for e in result.schedule if e.present and e.end is not None)
    if sc.time_unit != "day" or len(ends) < 4 or domain[1] - domain[0] < 60:
        return False
    return ends[len(ends) // 2] - domain[0] < (domain[1] - domain[0]) / 6


def x_encoding(sc: Scenario, field: str, domain: tuple[int, int], title: bool = True,
               zoom: bool = False) -> alt.X:
    """The shared time axis; ``zoom`` spreads crowded early steps (a log-like scale)."""
    expr = calendar_label_expr(sc)
    kw: dict[str, Any] = {"labelOverlap": True, "tickMinStep": 1}
    if expr:
        kw.update(labelExpr=expr, labelFlush=True)
    scale = alt.Scale(domain=list(domain), nice=False)
    text = axis_title(sc)
    if zoom:
        span = domain[1] - domain[0]
        scale = alt.Scale(domain=list(domain), nice=False, type="symlog",
                          constant=max(1, span // 100))
        kw["values"] = [t for t in ZOOM_TICKS if domain[0] <= t <= domain[1]]
        text += " — stretched scale: early steps spread out, later years compressed"
    return alt.X(f"{field}:Q", scale=scale, title=text if title else None, axis=alt.Axis(**kw))


def time_window(sc: Scenario, result: Result) -> tuple[int, int]:
    """Where the steps are: from the first start to the last verification.

    Auto-zoom for day-based scenarios whose phases run to a distant horizon:
    the axis shows the steps, not ten years of empty phase.
    """
    present = [e for e in result.schedule if e.present and e.start is not None]
    if not present:
        return 0, max(1, *(p.end for p in result.phases)) if result.phases else 1
    lo = min(e.start or 0 for e in present)
    hi = max((e.verified if e.verified is not None else e.end) or 0 for e in present)
    pad = max(1, (hi - lo) // 30)
    return max(0, lo - pad), hi + pad


def time_end(sc: Scenario, result: Result) -> int:
    return time_window(sc, result)[1]


# --------------------------------------------------------------------------
# Rows
def gantt_rows(sc: Scenario, result: Result) -> pd.DataFrame:
    derived = derive_all(sc)
    party_names = {p.id: p.name or p.id for p in sc.parties}
    phase_names = {p.id: p.name or p.id for p in sc.effective_phases}
    rows: list[dict[str, Any]] = []
    for e in result.schedule:
        if not e.present or e.start is None or e.end is None:
            continue
        c = sc.concession(e.id)
        d = derived[e.id]
        rows.append({
            "id": e.id, "lane": c.label, "title": c.label, "party": e.party,
            "party_name": party_names.get(e.party, e.party), "category": c.category,
            "start": e.start, "end": e.end,
            "verified": e.verified if e.verified is not None else e.end,
            "milestone": e.start == e.end,
            "phase": phase_names.get(e.phase or "", e.phase or ""),
            "value": d.total_value, "cost": d.cost, "risk": d.risk,
            "verification": c.verification, "starts": when(sc, e.start),
            "ends": when(sc, e.end), "verified_at": when(sc, e.verified), "order": 0,
        })
    frame = pd.DataFrame(rows, columns=GANTT_COLUMNS)
    # Equal titles must not share a lane.
    dup = frame["lane"].duplicated(keep=False)
    frame.loc[dup, "lane"] = frame.loc[dup, "title"] + " [" + frame.loc[dup, "id"] + "]"
    return frame


def phase_rows(sc: Scenario, result: Result, window: tuple[int, int]) -> pd.DataFrame:
    names = {p.id: p.name or p.id for p in sc.effective_phases}
    rows = []
    for k, p in enumerate(result.phases):
        lo, hi = max(p.start, window[0]), min(p.end, window[1])
        if hi <= lo:
            continue
        rows.append({"phase": f"{k + 1}. {names.get(p.id, p.id)}", "start": lo, "end": hi,
                     "k": k % 2, "row": k % 2, "mid": (lo + hi) / 2,
                     "window": f"{when(sc, p.start)} – {when(sc, p.end)}"})
    return pd.DataFrame(rows, columns=["phase", "start", "end", "k", "row", "mid", "window"])


def reciprocal_links(sc: Scenario, frame: pd.DataFrame) -> pd.DataFrame:
    """One segment per enabled reciprocity rule whose two steps are both present."""
    at = {r.id: r for r in frame.itertuples()}
    rows = []
    for rule in sc.rules:
        if rule.kind != "reciprocity" or not rule.enabled:
            continue
        a, b = at.get(rule.a), at.get(rule.b)
        if a is None or b is None:
            continue
        rows.append({"lane_a": a.lane, "lane_b": b.lane, "t_a": a.start, "t_b": b.start,
                     "rule": rule.text or rule.summary(lambda cid: sc.concession(cid).label)})
    return pd.DataFrame(rows, columns=["lane_a", "lane_b", "t_a", "t_b", "rule"])


# --------------------------------------------------------------------------
# Gantt / exchange view
_TOOLTIP = [
    alt.Tooltip("title:N", title="Concession"), alt.Tooltip("party_name:N", title="Party"),
    alt.Tooltip("phase:N", title="Phase"), alt.Tooltip("starts:N", title="Starts"),
    alt.Tooltip("ends:N", title="Ends"), alt.Tooltip("verified_at:N", title="Verified"),
    alt.Tooltip("verification:N", title="Verification"),
    alt.Tooltip("value:Q", title="Value to the others (points)"),
    alt.Tooltip("cost:Q", title="Cost to the giver (points)"),
    alt.Tooltip("risk:Q", title="Risk if abandoned (points)"),
]


def _party_colour(sc: Scenario, color_by: str, columns: int = 4) -> alt.Color:
    if color_by == "category":
        return alt.Color("category:N", title="Category",
                         scale=alt.Scale(domain=sorted({c.category for c in sc.concessions}),
                                         scheme="tableau10"),
                         legend=alt.Legend(orient="bottom", labelLimit=0))
    return alt.Color("party_name:N", title="Gives",
                     scale=alt.Scale(domain=[p.name or p.id for p in sc.parties],
                                     scheme="tableau10"),
                     legend=alt.Legend(orient="bottom", labelLimit=0, symbolOpacity=1,
                                       columns=columns))


def gantt(sc: Scenario, result: Result, *, color_by: str = "party",
          domain: tuple[int, int] | None = None, width: Width = 900,
          title: str | None = None, order: list[str] | None = None,
          labels: bool = True, exchange: bool = True, legend_columns: int = 4) -> AnyChart:
    """Every step on one shared time axis, one lane each, full titles.

    ``exchange=True`` (the exchange view) orders the lanes by start time across
    all sides, so that what is traded for what sits together, and links the
    reciprocal pairs; ``exchange=False`` groups the lanes by party. ``order``
    (concession ids) fixes the lanes so several runs line up row by row.
    ``legend_columns``: the parties per legend row (fewer for a narrow chart).
    """
    frame = gantt_rows(sc, result)
    window = domain or time_window(sc, result)
    party_rank = {p.id: k for k, p in enumerate(sc.parties)}
    if order is not None:
        rank = {cid: k for k, cid in enumerate(order)}
        frame["order"] = [rank.get(i, len(rank)) for i in frame["id"]]
    elif exchange:
        frame = frame.assign(_p=[party_rank.get(p, 99) for p in frame["party"]]).sort_values(
            ["start", "end", "_p"], kind="stable").drop(columns="_p")
        frame["order"] = range(len(frame))
    else:
        frame = frame.assign(_p=[party_rank.get(p, 99) for p in frame["party"]]).sort_values(
            ["_p", "start", "end"], kind="stable").drop(columns="_p")
        frame["order"] = range(len(frame))
    frame = frame.sort_values("order", kind="stable")
    lanes = list(frame["lane"])
    if frame.empty:
        return alt.layer(alt.Chart(pd.DataFrame({"t": ["No step is in this roadmap"]}))
                         .mark_text(fontSize=14).encode(text="t:N")).properties(
            width=width, height=60)
    phases = phase_rows(sc, result, window)
    y = alt.Y("lane:N", sort=lanes, title=None, scale=alt.Scale(domain=lanes),
              axis=alt.Axis(labelLimit=0 if labels else 1, labelFontSize=11, labels=labels,
                            ticks=False, labelOverlap=False, labelPadding=6))
    colour = _party_colour(sc, color_by, legend_columns)
    x = x_encoding(sc, "start", window, zoom=clustered(sc, result, window))
    layers: list[alt.Chart] = []
    if not phases.empty:
        layers.append(alt.Chart(phases).mark_rect(opacity=0.9).encode(
            x=x, x2=alt.X2("end"),
            color=alt.ColorValue(condition={"test": "datum.k == 0", "value": PHASE_FILLS[0]},
                                 value=PHASE_FILLS[1]),
            tooltip=[alt.Tooltip("phase:N", title="Phase"),
                     alt.Tooltip("window:N", title="Window")]))
        # Phase names on two alternating rows above the lanes, so neighbours never overlap;
        # a name longer than its band is cut by Vega (the tooltip and the table have it).
        layers.append(alt.Chart(phases).mark_text(
            baseline="bottom", fontSize=11, fontWeight="bold", color="#374151",
            limit=160).encode(
            x=alt.X("mid:Q"), text=alt.Text("phase:N"),
            y=alt.YValue(alt.expr("datum.row == 0 ? -18 : -4")),  # type: ignore[attr-defined]
            tooltip=[alt.Tooltip("phase:N", title="Phase"),
                     alt.Tooltip("window:N", title="Window")]))
    base = alt.Chart(frame)
    links = reciprocal_links(sc, frame)
    layers += [
        base.mark_bar(height=LANE_PX - 6, cornerRadius=2).encode(
            x=x if phases.empty else alt.X("start:Q"), x2=alt.X2("end"), y=y, color=colour,
            tooltip=_TOOLTIP),
        base.mark_bar(opacity=0.3, height=LANE_PX - 8).encode(
            x=alt.X("end:Q"), x2=alt.X2("verified"), y=y, color=colour, tooltip=_TOOLTIP),
        base.transform_filter("datum.milestone").mark_point(
            shape="diamond", filled=True, size=110, opacity=1).encode(
            x=alt.X("start:Q"), y=y, color=colour, tooltip=_TOOLTIP),
    ]
    if not links.empty:
        layers.append(alt.Chart(links).mark_rule(color=LINK_COLOUR, strokeWidth=1.5,
                                                 strokeDash=[3, 2]).encode(
            x=alt.X("t_a:Q"), x2=alt.X2("t_b"), y=alt.Y("lane_a:N", sort=lanes),
            y2=alt.Y2("lane_b"),
            tooltip=[alt.Tooltip("rule:N", title="Reciprocal pair")]))
    head = title or ("Exchange view: every side on one timeline" if exchange and order is None
                     else None)
    chart = alt.layer(*layers).properties(
        width=width, height=alt.Step(LANE_PX),
        title=alt.TitleParams(head or "", subtitle=[MARKS_NOTE], anchor="start", fontSize=14,
                              subtitleFontSize=11, subtitleColor="#4b5563", offset=26))
    return chart


def gives_and_receives(sc: Scenario, result: Result) -> list[dict[str, Any]]:
    """Per phase and principal: the steps it gives and the steps it receives (in words)."""
    names = {p.id: p.name or p.id for p in sc.effective_phases}
    party = {p.id: p.name or p.id for p in sc.parties}
    principals = sc.principal_ids
    out = []
    for k, ph in enumerate(result.phases):
        steps = [e for e in result.schedule if e.present and e.phase == ph.id]
        sides = []
        for p in principals:
            gives = [sc.concession(e.id).label for e in steps if e.party == p]
            receives = [sc.concession(e.id).label for e in steps if e.party != p and (
                _value_to(sc, e.id, p) > 0)]
            sides.append({"party": p, "name": party.get(p, p), "gives": gives,
                          "receives": receives})
        out.append({"number": k + 1, "phase": names.get(ph.id, ph.id),
                    "window": f"{when(sc, ph.start)} – {when(sc, ph.end)}", "sides": sides})
    return out


def _value_to(sc: Scenario, cid: str, party: str) -> int:
    c = sc.concession(cid)
    if isinstance(c.value, int):
        return c.value
    return int(c.value.get(party, 0))


# --------------------------------------------------------------------------
# Exposure
def exposure_caps(sc: Scenario) -> dict[str, int]:
    """Tightest enabled exposure cap per party (SPEC §2.2)."""
    caps: dict[str, int] = {}
    for rule in sc.rules:
        if rule.kind == "exposure" and rule.enabled:
            for p in rule.parties or sc.party_ids:
                caps[p] = min(caps.get(p, rule.max), rule.max)
    return caps


def worst_moments(sc: Scenario, result: Result) -> dict[str, PartyExposure]:
    return {e.party: e for e in defection_report(sc, result)}


def exposure_rows(sc: Scenario, result: Result, end: int, run: str = "",
                  parties: list[str] | None = None) -> pd.DataFrame:
    names = {p.id: p.name or p.id for p in sc.parties}
    rows = []
    for p in parties or sc.party_ids:
        pts = list(result.exposure.get(p, [])) or [(0, 0)]
        if pts[-1][0] < end:
            pts.append((end, pts[-1][1]))
        for t, level in pts:
            rows.append({"run": run, "party": p, "party_name": names.get(p, p), "t": t,
                         "level": level, "when": when(sc, t)})
    return pd.DataFrame(rows, columns=["run", "party", "party_name", "t", "level", "when"])


EXPOSURE_NOTE = ("Exposure: what a side would lose, in value points, if the others "
                 "walked away now (risk of its own steps taken minus verified credit "
                 "received). Below 0: it has received more than it has risked.")


def exposure_chart(sc: Scenario, result: Result, *, domain: tuple[int, int] | None = None,
                   width: Width = 900, height: int = 220,
                   parties: list[str] | None = None) -> AnyChart:
    """The principals' exposure on ONE scale, each cap a labelled line, worst moments marked."""
    who = parties or sc.principal_ids
    window = domain or time_window(sc, result)
    frame = exposure_rows(sc, result, window[1], parties=who)
    names = {p.id: p.name or p.id for p in sc.parties}
    colour = alt.Color("party_name:N", title="Side",
                       scale=alt.Scale(domain=[names.get(p, p) for p in who],
                                       scheme="tableau10"),
                       legend=alt.Legend(orient="bottom", labelLimit=0, columns=4))
    x = x_encoding(sc, "t", window, zoom=clustered(sc, result, window))
    layers: list[alt.Chart] = [
        alt.Chart(pd.DataFrame({"y": [0], "label": ["0 = even"]})).mark_rule(
            color="#9ca3af").encode(y=alt.Y("y:Q")),
        alt.Chart(frame).mark_line(interpolate="step-after", strokeWidth=2.2).encode(
            x=x, y=alt.Y("level:Q", title="exposure (value points)"), color=colour,
            tooltip=[alt.Tooltip("party_name:N", title="Side"),
                     alt.Tooltip("when:N", title="From"),
                     alt.Tooltip("level:Q", title="Exposure (points)")]),
    ]
    caps = exposure_caps(sc)
    if any(p in caps for p in who):
        # Parties sharing a cap share its label.
        merged: dict[int, list[str]] = {}
        for p in who:
            if p in caps:
                merged.setdefault(caps[p], []).append(p)
        caps_frame = pd.DataFrame([{"cap": v, "t": window[0],
                                    "label": f"cap {v}: {', '.join(ps)}"}
                                   for v, ps in merged.items()])
        layers.append(alt.Chart(caps_frame).mark_rule(
            color=CAP_COLOUR, strokeDash=[6, 4]).encode(
            y=alt.Y("cap:Q"), tooltip=[alt.Tooltip("label:N", title="Exposure cap")]))
        layers.append(alt.Chart(caps_frame).mark_text(
            align="left", baseline="bottom", dx=4, dy=-3, color=CAP_COLOUR, fontSize=11,
            fontWeight="bold").encode(
            x=alt.X("t:Q"), y=alt.Y("cap:Q"), text=alt.Text("label:N")))
    worst = worst_moments(sc, result)
    titles = {c.id: c.label for c in sc.concessions}
    marks = [{"t": w.worst_time, "level": w.worst_level, "party_name": names.get(p, p),
              "when": when(sc, w.worst_time),
              "after": "; ".join(titles.get(c, c) for c in w.after) or "verification lapse",
              "label": "worst moment"}
             for p, w in worst.items() if p in who and w.worst_time is not None]
    if marks:
        mframe = pd.DataFrame(marks)
        layers.append(alt.Chart(mframe).mark_point(
            shape="triangle-down", size=120, filled=True).encode(
            x=alt.X("t:Q"), y=alt.Y("level:Q"), color=colour,
            tooltip=[alt.Tooltip("party_name:N", title="Side"),
                     alt.Tooltip("when:N", title="Worst moment to be abandoned"),
                     alt.Tooltip("level:Q", title="Exposure (points)"),
                     alt.Tooltip("after:N", title="Started then")]))
    return alt.layer(*layers).properties(
        width=width, height=height,
        title=alt.TitleParams("Exposure of the principals (one scale)",
                              subtitle=[EXPOSURE_NOTE, "Dashed red: the cap · ▼ each side's "
                                        "worst moment to be abandoned"],
                              anchor="start", fontSize=14, subtitleFontSize=11,
                              subtitleColor="#4b5563"))


def to_svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert as vlc

    return str(vlc.vegalite_to_svg(chart.to_json()))


def to_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    import vl_convert as vlc

    return bytes(vlc.vegalite_to_png(chart.to_json(), scale=scale))
