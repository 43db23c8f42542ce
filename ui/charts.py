"""Altair charts of a roadmap: Gantt with phase bands, exposure steps, comparisons.

Everything here turns a (Scenario, Result) pair into plain rows and a chart
spec; no Streamlit calls, so the charts can be rendered to PNG or tested alone.
Time stays numeric (the scenario's unit) on every axis; when the scenario has
a ``calendar_start`` the axis labels and tooltips also show calendar dates.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from models import Result, Scenario
from models.calendar import label as cal_label
from optimizer.explain.defection import PartyExposure, defection_report
from optimizer.model.derived import derive_all

LANE_PX = 17
TITLE_CHARS = 46
PHASE_FILLS = ("#eef2f7", "#dfe6ef")
CAP_COLOUR = "#c0392b"
GANTT_COLUMNS = ["run", "id", "lane", "title", "party", "party_name", "category", "start", "end",
                 "verified", "milestone", "phase", "value", "cost", "risk", "verification",
                 "starts", "ends", "verified_at"]


def _short(text: str, limit: int = TITLE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def when(sc: Scenario, t: int | None) -> str:
    """'14 (2019-08)' with a calendar, '14' without, '—' for no time."""
    if t is None:
        return "—"
    cal = cal_label(sc, t)
    return f"{t} ({cal})" if cal else str(t)


def calendar_label_expr(sc: Scenario) -> str | None:
    """A Vega expression turning a numeric tick into a calendar label."""
    if not sc.calendar_start:
        return None
    parts = [int(x) for x in sc.calendar_start.split("-")]
    year, month0 = parts[0], parts[1] - 1
    day = parts[2] if len(parts) > 2 else 1
    if sc.time_unit == "month":
        date = f"datetime({year}, {month0} + datum.value, {day})"
        fmt = "%b %Y"
    elif sc.time_unit == "week":
        date = f"datetime({year}, {month0}, {day} + 7 * datum.value)"
        fmt = "%d %b %Y"
    else:
        date = f"datetime({year}, {month0}, {day} + datum.value)"
        fmt = "%d %b %Y"
    return f"[format(datum.value, 'd'), timeFormat({date}, '{fmt}')]"


def _x(sc: Scenario, field: str, domain: tuple[int, int], title: bool = True) -> alt.X:
    expr = calendar_label_expr(sc)
    unit = sc.time_unit + "s"
    axis = alt.Axis(labelExpr=expr, labelFlush=True, tickMinStep=1) if expr else alt.Axis(
        tickMinStep=1)
    label = f"{unit} from {sc.calendar_start}" if sc.calendar_start else unit
    return alt.X(f"{field}:Q", scale=alt.Scale(domain=list(domain), nice=False),
                 title=label if title else None, axis=axis)


def time_end(sc: Scenario, result: Result) -> int:
    """Right edge of the time axis: last verification or phase end, at least 1."""
    ends = [e.verified or e.end or 0 for e in result.schedule if e.present]
    ends += [p.end for p in result.phases]
    return max([1, *ends]) + 1


# --------------------------------------------------------------------------
# Rows
def lane_labels(sc: Scenario) -> dict[str, str]:
    """A short, unique lane label per concession (equal titles must not share a lane)."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for c in sc.concessions:
        lane = _short(c.label)
        if lane in seen:
            lane = _short(f"{c.label} [{c.id}]")
        seen.add(lane)
        out[c.id] = lane
    return out


def lane_order(sc: Scenario, result: Result) -> list[str]:
    """Concession ids by party (scenario order), then start; absent ones last."""
    party_rank = {p.id: k for k, p in enumerate(sc.parties)}
    placed = {e.id: e for e in result.schedule}

    def rank(cid: str) -> tuple[int, int, int, int, str]:
        c = sc.concession(cid)
        e = placed.get(cid)
        if e is None or not e.present or e.start is None:
            return (party_rank.get(c.party, 99), 1, 0, 0, cid)
        return (party_rank.get(c.party, 99), 0, e.start, e.end or 0, cid)

    return sorted((c.id for c in sc.concessions), key=rank)


def gantt_rows(sc: Scenario, result: Result, run: str | None = None) -> pd.DataFrame:
    derived = derive_all(sc)
    party_names = {p.id: p.name or p.id for p in sc.parties}
    phase_names = {p.id: p.name or p.id for p in sc.effective_phases}
    lanes = lane_labels(sc)
    rows: list[dict[str, Any]] = []
    for e in result.schedule:
        if not e.present or e.start is None or e.end is None:
            continue
        c = sc.concession(e.id)
        d = derived[e.id]
        rows.append({
            "run": run or "",
            "id": e.id,
            "lane": lanes[e.id],
            "title": c.label,
            "party": e.party,
            "party_name": party_names.get(e.party, e.party),
            "category": c.category,
            "start": e.start,
            "end": e.end,
            "verified": e.verified if e.verified is not None else e.end,
            "milestone": e.start == e.end,
            "phase": phase_names.get(e.phase or "", e.phase or ""),
            "value": d.total_value,
            "cost": d.cost,
            "risk": d.risk,
            "verification": c.verification,
            "starts": when(sc, e.start),
            "ends": when(sc, e.end),
            "verified_at": when(sc, e.verified),
        })
    return pd.DataFrame(rows, columns=GANTT_COLUMNS)


def phase_rows(sc: Scenario, result: Result) -> pd.DataFrame:
    names = {p.id: p.name or p.id for p in sc.effective_phases}
    return pd.DataFrame([
        {"phase": names.get(p.id, p.id), "start": p.start, "end": p.end, "k": k % 2,
         "mid": (p.start + p.end) / 2, "window": f"{when(sc, p.start)} – {when(sc, p.end)}"}
        for k, p in enumerate(result.phases)
    ])


# --------------------------------------------------------------------------
# Gantt
def _colour(color_by: str, domain: list[str] | None) -> alt.Color:
    field = "party_name" if color_by == "party" else "category"
    title = "Party" if color_by == "party" else "Category"
    scale = alt.Scale(domain=domain, scheme="tableau10") if domain else alt.Scale(
        scheme="tableau10")
    return alt.Color(f"{field}:N", title=title, scale=scale,
                     legend=alt.Legend(orient="top", direction="horizontal", symbolOpacity=1,
                                       labelLimit=220))


_TOOLTIP = [
    alt.Tooltip("title:N", title="Concession"),
    alt.Tooltip("party_name:N", title="Party"),
    alt.Tooltip("category:N", title="Category"),
    alt.Tooltip("phase:N", title="Phase"),
    alt.Tooltip("starts:N", title="Starts"),
    alt.Tooltip("ends:N", title="Ends"),
    alt.Tooltip("verified_at:N", title="Verified"),
    alt.Tooltip("verification:N", title="Verification"),
    alt.Tooltip("value:Q", title="Value (total)"),
    alt.Tooltip("cost:Q", title="Cost"),
    alt.Tooltip("risk:Q", title="Risk"),
]


def _colour_domain(sc: Scenario, color_by: str) -> list[str]:
    if color_by == "party":
        return [p.name or p.id for p in sc.parties]
    return sorted({c.category for c in sc.concessions})


def gantt(sc: Scenario, result: Result, *, color_by: str = "party",
          domain: tuple[int, int] | None = None, width: int = 560,
          title: str | None = None, order: list[str] | None = None,
          labels: bool = True) -> alt.VConcatChart:
    """One lane per present concession, grouped by party, on phase bands.

    ``order`` (concession ids) fixes the lanes, so that the Gantt charts of
    several runs line up row by row; ``labels=False`` hides the lane titles
    of all but the first of them.
    """
    frame = gantt_rows(sc, result)
    ids = order or lane_order(sc, result)
    lane_of = lane_labels(sc)
    known = set(lane_of)
    phases = phase_rows(sc, result)
    xdom = domain or (0, time_end(sc, result))
    colour = _colour(color_by, _colour_domain(sc, color_by))
    blocks: list[alt.LayerChart | alt.FacetChart] = []
    if order is None:
        parties = [p for p in sc.parties if not frame.empty and (frame["party"] == p.id).any()]
    else:
        parties = [p for p in sc.parties if any(
            i in known and sc.concession(i).party == p.id for i in ids)]
    for k, party in enumerate(parties):
        rows = frame[frame["party"] == party.id]
        if order is None:
            lanes = [lane_of[i] for i in ids if i in set(rows["id"])]
        else:
            lanes = [lane_of[i] for i in ids if i in known and sc.concession(i).party == party.id]
        y = alt.Y("lane:N", sort=lanes, title=None, scale=alt.Scale(domain=lanes),
                  axis=alt.Axis(labelLimit=300, labelFontSize=11, labels=labels,
                                ticks=labels, labelOverlap=False))
        bands = alt.Chart(phases).mark_rect(opacity=0.9).encode(
            x=_x(sc, "start", xdom, title=k == len(parties) - 1), x2="end:Q",
            color=alt.condition("datum.k == 0", alt.value(PHASE_FILLS[0]),
                                alt.value(PHASE_FILLS[1])),
            tooltip=[alt.Tooltip("phase:N", title="Phase"),
                     alt.Tooltip("window:N", title="Window")],
        )
        layers: list[alt.Chart] = [bands]
        if k == 0:
            layers.append(alt.Chart(phases).mark_text(
                baseline="bottom", dy=-4, fontSize=11, fontWeight="bold", color="#4a5568",
            ).encode(x="mid:Q", text="phase:N", y=alt.value(0)))
        base = alt.Chart(rows)
        layers += [
            base.mark_bar(height=LANE_PX - 5, cornerRadius=2).encode(
                x="start:Q", x2="end:Q", y=y, color=colour, tooltip=_TOOLTIP),
            # The verification lag: the same colour, lighter, after the bar.
            base.mark_bar(opacity=0.3, height=LANE_PX - 6).encode(
                x="end:Q", x2="verified:Q", y=y, color=colour, tooltip=_TOOLTIP),
            base.transform_filter("datum.milestone").mark_point(
                shape="diamond", filled=True, size=90, opacity=1).encode(
                x="start:Q", y=y, color=colour, tooltip=_TOOLTIP),
        ]
        blocks.append(alt.layer(*layers).properties(
            width=width, height=alt.Step(LANE_PX),
            title=alt.TitleParams(party.name or party.id, anchor="start", fontSize=13)))
    if not blocks:
        empty = alt.Chart(pd.DataFrame({"t": [0]})).mark_text(text="No concession is present")
        blocks.append(alt.layer(empty).properties(width=width, height=60))
    chart = alt.vconcat(*blocks, spacing=10).resolve_scale(x="shared", color="shared")
    if title:
        chart = chart.properties(title=alt.TitleParams(title, anchor="start", fontSize=15))
    return chart.configure_view(stroke=None).configure_axis(grid=False)


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
    """Per party, the worst moment to be abandoned (``optimizer.explain.defection``)."""
    return {e.party: e for e in defection_report(sc, result)}


def _steps(points: list[tuple[int, int]], end: int) -> list[tuple[int, int]]:
    pts = list(points) or [(0, 0)]
    if pts[-1][0] < end:
        pts.append((end, pts[-1][1]))
    return pts


def exposure_rows(sc: Scenario, result: Result, end: int, run: str = "") -> pd.DataFrame:
    names = {p.id: p.name or p.id for p in sc.parties}
    rows = []
    for p in sc.party_ids:
        for t, level in _steps(result.exposure.get(p, []), end):
            rows.append({"run": run, "party": p, "party_name": names[p], "t": t,
                         "level": level, "when": when(sc, t)})
    return pd.DataFrame(rows)


def exposure_chart(sc: Scenario, result: Result, *, domain: tuple[int, int] | None = None,
                   width: int = 380, height: int = 150, parties: list[str] | None = None,
                   ) -> alt.ConcatChart:
    """A step chart per party: exposure over time, its cap and its worst moment."""
    xdom = domain or (0, time_end(sc, result))
    frame = exposure_rows(sc, result, xdom[1])
    caps = exposure_caps(sc)
    worst_by_party = worst_moments(sc, result)
    charts = []
    for p in parties or sc.party_ids:
        rows = frame[frame["party"] == p]
        name = next((q.name or q.id for q in sc.parties if q.id == p), p)
        line = alt.Chart(rows).mark_line(interpolate="step-after", strokeWidth=2).encode(
            x=_x(sc, "t", xdom),
            y=alt.Y("level:Q", title="exposure"),
            tooltip=[alt.Tooltip("when:N", title="From"), alt.Tooltip("level:Q", title="Exposure")],
        )
        area = alt.Chart(rows).mark_area(interpolate="step-after", opacity=0.15).encode(
            x="t:Q", y="level:Q")
        layers: list[alt.Chart] = [area, line]
        if p in caps:
            cap = pd.DataFrame({"cap": [caps[p]], "label": [f"cap {caps[p]}"]})
            layers.append(alt.Chart(cap).mark_rule(color=CAP_COLOUR, strokeDash=[6, 4]).encode(
                y="cap:Q", tooltip=[alt.Tooltip("label:N", title="Exposure cap")]))
        worst = worst_by_party.get(p)
        if worst is not None and worst.worst_time is not None:
            titles = {c.id: c.label for c in sc.concessions}
            mark = pd.DataFrame([{
                "t": worst.worst_time, "level": worst.worst_level,
                "when": when(sc, worst.worst_time),
                "after": "; ".join(titles.get(c, c) for c in worst.after)
                         or "verification lapse",
                "given": worst.given, "credited": worst.credited,
            }])
            layers.append(alt.Chart(mark).mark_point(
                shape="triangle-down", size=140, filled=True, color=CAP_COLOUR).encode(
                x="t:Q", y="level:Q",
                tooltip=[alt.Tooltip("when:N", title="Worst moment to be abandoned"),
                         alt.Tooltip("level:Q", title="Exposure"),
                         alt.Tooltip("given:Q", title="Risk of own steps taken"),
                         alt.Tooltip("credited:Q", title="Verified credit received"),
                         alt.Tooltip("after:N", title="Started then")]))
        charts.append(alt.layer(*layers).properties(
            width=width, height=height, title=alt.TitleParams(name, anchor="start")))
    return alt.concat(*charts, columns=2).configure_axis(grid=True, gridOpacity=0.4)


def exposure_compare(runs: dict[str, tuple[Scenario, Result]], *, width: int = 380,
                     height: int = 150) -> alt.ConcatChart:
    """Exposure curves of several runs overlaid per party, on shared axes."""
    end = max(time_end(sc, r) for sc, r in runs.values())
    frames = [exposure_rows(sc, r, end, run=name) for name, (sc, r) in runs.items()]
    frame = pd.concat(frames, ignore_index=True)
    first_sc = next(iter(runs.values()))[0]
    charts = []
    for p in dict.fromkeys(frame["party"]):
        rows = frame[frame["party"] == p]
        charts.append(alt.Chart(rows).mark_line(interpolate="step-after", strokeWidth=2).encode(
            x=_x(first_sc, "t", (0, end)),
            y=alt.Y("level:Q", title="exposure"),
            color=alt.Color("run:N", title="Run", sort=list(runs),
                            legend=alt.Legend(orient="top")),
            strokeDash=alt.StrokeDash("run:N", sort=list(runs), legend=None),
            tooltip=[alt.Tooltip("run:N", title="Run"), alt.Tooltip("when:N", title="From"),
                     alt.Tooltip("level:Q", title="Exposure")],
        ).properties(width=width, height=height,
                     title=alt.TitleParams(str(rows["party_name"].iloc[0]), anchor="start")))
    return alt.concat(*charts, columns=2).resolve_scale(y="shared")


def to_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """PNG bytes through vl-convert (works offline, no browser)."""
    import vl_convert as vlc

    return bytes(vlc.vegalite_to_png(chart.to_json(), scale=scale))

