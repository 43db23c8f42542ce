"""The Stress tab's figures, drawn from a ``StressReport`` (never recomputed here).

Every number comes from the engine's report (``optimizer.studies.stress``),
the same one ``roadmap stress --format json`` prints, so the app and the CLI
show the same figures for the same seed. These builders only turn the report
into frames and Altair charts: the fan of each principal's exposure (P10–P90
band, median, the plan's line, the cap), the makespan histogram with its
percentiles, and the tornado of drivers. Time is on the shared calendar axis
(``x_encoding``), exposure in value points on one scale for the principals.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from models import Result, Scenario
from models.calendar import label as cal_label
from optimizer.studies.charts import CAP_COLOUR, exposure_caps, exposure_rows, when, x_encoding
from optimizer.studies.stress import StressReport

BAND_COLOUR = "#93c5fd"
MEDIAN_COLOUR = "#1d4ed8"
PLAN_COLOUR = "#111827"
PERCENTILES = ("p50", "p80", "p95")
DRIVER_WORDS = {"delay": "its own delay", "verification_delay": "its verification's delay"}


def party_names(sc: Scenario) -> dict[str, str]:
    return {p.id: p.name or p.id for p in sc.parties}


def pct(p: float) -> str:
    return f"{100 * p:.1f} %"


def span(sc: Scenario, t: int | None) -> str:
    """'126 months (ends Dec 2028)': a time from the start, with its calendar date."""
    if t is None:
        return "—"
    date = cal_label(sc, t)
    return f"{t} {sc.time_unit}s" + (f" (ends {date})" if date else "")


def duration(sc: Scenario, t: int | None) -> str:
    return "—" if t is None else f"{t} {sc.time_unit}s"


def ends(sc: Scenario, t: int | None) -> str:
    """' · ends 2028-12' (nothing without a calendar or a time)."""
    date = cal_label(sc, t) if t is not None else None
    return f" · ends {date}" if date else ""


# --------------------------------------------------------------------------
# Fan chart
def fan_rows(sc: Scenario, report: StressReport, parties: list[str]) -> pd.DataFrame:
    names = party_names(sc)
    frame = report.bands_frame()
    frame = frame[frame["party"].isin(parties)].copy()
    frame["party_name"] = [names.get(p, p) for p in frame["party"]]
    frame["when"] = [when(sc, int(t)) for t in frame["t"]]
    return frame


def fan_chart(sc: Scenario, report: StressReport, plan: Result, *,
              width: int = 330, height: int = 230) -> alt.ConcatChart | alt.LayerChart:
    """Each principal's exposure over time: P10–P90 band, median, the plan, the cap."""
    who = sc.principal_ids
    bands = fan_rows(sc, report, who)
    end = int(bands["t"].max()) if not bands.empty else 1
    end = max(end, report.plan_makespan, 1)
    plan_rows = exposure_rows(sc, plan, end, parties=who)
    names = party_names(sc)
    caps = exposure_caps(sc)
    x = x_encoding(sc, "t", (0, end))
    y_title = "exposure (value points)"
    charts = []
    for p in who:
        band = bands[bands["party"] == p]
        line = plan_rows[plan_rows["party"] == p]
        tip = [alt.Tooltip("when:N", title="From"),
               alt.Tooltip("p10:Q", title="P10 (points)"),
               alt.Tooltip("p50:Q", title="Median (points)"),
               alt.Tooltip("p90:Q", title="P90 (points)")]
        layers: list[alt.Chart] = []
        if not band.empty:
            layers += [
                alt.Chart(band).mark_area(interpolate="step-after", color=BAND_COLOUR,
                                          opacity=0.55).encode(
                    x=x, y=alt.Y("p10:Q", title=y_title), y2="p90:Q", tooltip=tip),
                alt.Chart(band).mark_line(interpolate="step-after", color=MEDIAN_COLOUR,
                                          strokeWidth=2).encode(
                    x=x, y=alt.Y("p50:Q", title=y_title), tooltip=tip),
            ]
        layers.append(alt.Chart(line).mark_line(
            interpolate="step-after", color=PLAN_COLOUR, strokeDash=[5, 3],
            strokeWidth=1.6).encode(
            x=x, y=alt.Y("level:Q", title=y_title),
            tooltip=[alt.Tooltip("when:N", title="From"),
                     alt.Tooltip("level:Q", title="The plan (points)")]))
        if p in caps:
            # The label sits at the right end, where the curves have settled.
            cap = pd.DataFrame([{"cap": caps[p], "t": end,
                                 "label": f"cap {caps[p]} value points"}])
            layers.append(alt.Chart(cap).mark_rule(color=CAP_COLOUR, strokeDash=[6, 4])
                          .encode(y="cap:Q", tooltip=[alt.Tooltip("label:N", title="Cap")]))
            layers.append(alt.Chart(cap).mark_text(
                align="right", baseline="bottom", dx=-4, dy=-3, color=CAP_COLOUR, fontSize=11,
                fontWeight="bold").encode(x="t:Q", y="cap:Q", text="label:N"))
        charts.append(alt.layer(*layers).properties(
            width=width, height=height,
            title=alt.TitleParams(names.get(p, p), anchor="start", fontSize=13)))
    subtitle = (f"Blue band: P10–P90 of {report.samples:,} realisations · blue line: the "
                "median · dashed black: the plan · dashed red: the cap")
    return alt.concat(*charts, columns=2).resolve_scale(y="shared").properties(
        title=alt.TitleParams("Exposure of the principals over time (one scale)",
                              subtitle=[subtitle], anchor="start", fontSize=14,
                              subtitleFontSize=11, subtitleColor="#4b5563"))


# --------------------------------------------------------------------------
# Makespan
def makespan_marks(sc: Scenario, report: StressReport) -> pd.DataFrame:
    rows = [{"name": q.upper(), "makespan": v, "label": f"{q.upper()} {span(sc, v)}"}
            for q, v in report.makespan.items() if v is not None]
    rows.append({"name": "plan", "makespan": report.plan_makespan,
                 "label": f"plan {span(sc, report.plan_makespan)}"})
    return pd.DataFrame(rows, columns=["name", "makespan", "label"])


def makespan_chart(sc: Scenario, report: StressReport, *, width: int = 880,
                   height: int = 320) -> alt.LayerChart | alt.FacetChart:
    """How many realisations end at each makespan, P50/P80/P95 and the plan marked."""
    frame = report.makespan_frame()
    frame["share"] = frame["samples"] / max(report.samples, 1)
    frame["ends"] = [span(sc, int(v)) for v in frame["makespan"]]
    marks = makespan_marks(sc, report)
    # Labels on staggered rows near the top, so close percentiles never overlap.
    top = float(frame["share"].max()) if not frame.empty else 1.0
    marks["y"] = [top * (1.3 - 0.13 * k) for k in range(len(marks))]
    lo = int(min([*frame["makespan"], report.plan_makespan])) - 1
    hi = int(max([*frame["makespan"], report.plan_makespan])) + 1
    x = x_encoding(sc, "makespan", (max(0, lo), hi))
    x = x.title(f"makespan ({sc.time_unit}s from the start; the end date on the ticks)")
    bars = alt.Chart(frame).mark_bar(color=MEDIAN_COLOUR, opacity=0.75).encode(
        x=x, y=alt.Y("share:Q", title="share of realisations", axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("ends:N", title="Makespan"),
                 alt.Tooltip("samples:Q", title="Realisations"),
                 alt.Tooltip("share:Q", title="Share", format=".1%")])
    colour = alt.Color("name:N", legend=None,
                       scale=alt.Scale(domain=["plan", "P50", "P80", "P95"],
                                       range=[PLAN_COLOUR, "#059669", "#d97706", CAP_COLOUR]))
    rules = alt.Chart(marks).mark_rule(strokeWidth=2).encode(
        x="makespan:Q", color=colour, tooltip=[alt.Tooltip("label:N", title="Marker")])
    labels = alt.Chart(marks).mark_text(align="left", dx=4, fontSize=11, fontWeight="bold",
                                        baseline="middle").encode(
        x="makespan:Q", y="y:Q", text="label:N", color=colour)
    stalled = (f" · {pct(report.stall_probability)} of realisations stall and have no "
               "makespan" if report.stall_probability else "")
    return alt.layer(bars, rules, labels).properties(
        width=width, height=height,
        title=alt.TitleParams("When the roadmap ends", anchor="start", fontSize=14,
                              subtitle=[f"{report.samples:,} realisations{stalled}"],
                              subtitleFontSize=11, subtitleColor="#4b5563"))


# --------------------------------------------------------------------------
# Tables
def breach_rows(sc: Scenario, report: StressReport) -> pd.DataFrame:
    """One row per cap: who, the limit, the chance it is exceeded, the riskiest moment."""
    names = party_names(sc)
    rules = {r.id: r for r in sc.rules}
    by_party = {p["party"]: p for p in report.parties}
    rows = []
    for c in report.caps:
        who = [names.get(p, p) for p in c["parties"]]
        rule = rules.get(c["rule"])
        riskiest = [by_party[p] for p in c["parties"] if by_party[p]["breach_time"] is not None]
        worst = max(riskiest, key=lambda p: p["breach_time_probability"], default=None)
        rows.append({
            "cap": f"{', '.join(who)}: exposure at most {c['max']} value points",
            "breach probability": pct(c["breach_probability"]),
            "riskiest moment": when(sc, worst["breach_time"]) if worst else "—",
            "over the cap then": pct(worst["breach_time_probability"]) if worst else "—",
            "what the cap says": (rule.text if rule is not None and rule.text else ""),
        })
    return pd.DataFrame(rows, columns=["cap", "breach probability", "riskiest moment",
                                       "over the cap then", "what the cap says"])


def peak_rows(sc: Scenario, report: StressReport) -> pd.DataFrame:
    names = party_names(sc)
    rows = [{"side": names.get(p["party"], p["party"]),
             **{f"peak {q.upper()}": ("—" if p["peak"][q] is None
                                      else f"{p['peak'][q]} value points") for q in PERCENTILES},
             "cap": "—" if p["cap"] is None else f"{p['cap']} value points"}
            for p in report.parties if p["party"] in sc.principal_ids]
    return pd.DataFrame(rows)


def lag_rows(sc: Scenario, report: StressReport) -> pd.DataFrame:
    rules = {r.id: r for r in sc.rules}
    titles = {c.id: c.label for c in sc.concessions}

    def name(rid: str) -> str:
        rule = rules.get(rid)
        return rule.summary(lambda cid: titles.get(cid, cid)) if rule is not None else rid

    return pd.DataFrame([{"rule": name(r["rule"]),
                          "broken probability": pct(r["broken_probability"])}
                         for r in report.rules], columns=["rule", "broken probability"])


def concession_rows(sc: Scenario, report: StressReport) -> pd.DataFrame:
    titles = {c.id: c.label for c in sc.concessions}
    return pd.DataFrame([{"step": titles.get(c["id"], c["id"]),
                          "ends P50": when(sc, c["end"]["p50"]),
                          "ends P80": when(sc, c["end"]["p80"]),
                          "on the critical chain": pct(c["criticality"]),
                          "starts at all": pct(c["started_probability"])}
                         for c in report.concessions])


# --------------------------------------------------------------------------
# Tornado
def tornado_rows(sc: Scenario, report: StressReport) -> pd.DataFrame:
    titles = {c.id: c.label for c in sc.concessions}
    names = party_names(sc)
    rows: list[dict[str, Any]] = []
    for rank, t in enumerate(report.tornado):
        driver = f"{titles.get(t['concession'], t['concession'])} — " \
                 f"{DRIVER_WORDS.get(t['driver'], t['driver'])}"
        measures = [("how late the roadmap ends", t["makespan"])]
        measures += [(f"{names.get(p, p)}'s peak exposure", t["peak"].get(p))
                     for p in sc.principal_ids]
        for what, rho in measures:
            if rho is not None:
                rows.append({"driver": driver, "rank": rank, "moves": what, "rho": rho})
    return pd.DataFrame(rows, columns=["driver", "rank", "moves", "rho"])


def tornado_chart(sc: Scenario, report: StressReport, *, width: int = 520) -> alt.Chart:
    """What drives delay and breaches: rank correlation of each step's delay with each figure."""
    frame = tornado_rows(sc, report)
    order = list(dict.fromkeys(frame.sort_values("rank")["driver"]))
    moves = list(dict.fromkeys(frame["moves"]))
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y("driver:N", sort=order, title=None, axis=alt.Axis(labelLimit=420)),
        yOffset=alt.YOffset("moves:N", sort=moves),
        x=alt.X("rho:Q", scale=alt.Scale(domain=[-1, 1]),
                title="rank correlation (Spearman, −1 to +1, no unit)"),
        color=alt.Color("moves:N", title="Moves", sort=moves,
                        legend=alt.Legend(orient="bottom", direction="vertical",
                                          labelLimit=0)),
        tooltip=[alt.Tooltip("driver:N", title="Step"), alt.Tooltip("moves:N", title="Moves"),
                 alt.Tooltip("rho:Q", title="Rank correlation", format="+.2f")],
    ).properties(width=width, height=alt.Step(11),
                 title=alt.TitleParams("What drives it", anchor="start", fontSize=14,
                                       subtitle=["The steps whose delays move the end date "
                                                 "and the principals' peaks most"],
                                       subtitleFontSize=11, subtitleColor="#4b5563"))
