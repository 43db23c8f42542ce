"""How a Result shows itself in Jupyter: an HTML summary and two Altair charts.

Kept in ``models`` (a Result must display without the engine) and built from
the Result alone, plus the Scenario when given for titles and dates. Altair
and pandas are imported inside the functions: importing ``models`` never
loads them.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import altair as alt

    from models.result import Result
    from models.scenario import Scenario


def result_html(result: Result) -> str:
    """Status, metrics and the schedule as one HTML table (``Result._repr_html_``)."""
    e = html.escape
    parts = [f"<p><b>{e(result.scenario.name)}</b>: {e(result.status)} "
             f"({result.solver.wall_time_s:.2f} s)</p>"]
    if result.metrics is not None:
        parts.append("<table><tr>" + "".join(
            f"<th>{e(k.replace('_', ' '))}</th>" for k in type(result.metrics).model_fields)
            + "</tr><tr>" + "".join(
            f"<td>{v}</td>" for v in result.metrics.model_dump().values()) + "</tr></table>")
    if result.conflict is not None:
        parts.append(f"<p>{e(result.conflict.message)}</p>")
    parts.append(str(result.to_frame().to_html(index=False, na_rep="—")))
    return "".join(parts)


def _titles(scenario: Scenario | None) -> dict[str, str]:
    return {c.id: c.label for c in scenario.concessions} if scenario is not None else {}


def gantt_chart(result: Result, scenario: Scenario | None = None) -> alt.TopLevelMixin:
    """Bars from start to end (light tail to verification), lanes by start, colour by party."""
    import altair as alt
    import pandas as pd

    titles = _titles(scenario)
    rows = [{"step": titles.get(s.id, s.id), "party": s.party, "start": s.start, "end": s.end,
             "verified": s.verified if s.verified is not None else s.end, "phase": s.phase}
            for s in result.schedule if s.present and s.start is not None]
    frame = pd.DataFrame(rows, columns=["step", "party", "start", "end", "verified", "phase"])
    frame = frame.sort_values(["start", "end"], kind="stable")
    unit = scenario.time_unit + "s" if scenario is not None else "time"
    y = alt.Y("step:N", sort=list(frame["step"]), title=None, axis=alt.Axis(labelLimit=0))
    tip = ["step:N", "party:N", "phase:N", "start:Q", "end:Q", "verified:Q"]
    base = alt.Chart(frame)
    return alt.layer(
        base.mark_bar().encode(x=alt.X("start:Q", title=unit), x2="end:Q", y=y,
                               color="party:N", tooltip=tip),
        base.mark_bar(opacity=0.3).encode(x="end:Q", x2="verified:Q", y=y, color="party:N",
                                          tooltip=tip),
    ).properties(width=600, title=f"{result.scenario.name}: schedule")


def ledger_chart(result: Result, scenario: Scenario | None = None,
                 width: int = 600) -> alt.TopLevelMixin:
    """SPEC §5.4 per principal on one shared time axis: delivered, received, at risk and
    exposure (= at risk − received), with each exposure cap as a labelled rule.

    Without a ledger (a result written before v1.1) the exposure curve alone is drawn.
    """
    import altair as alt
    import pandas as pd

    ledger: Any = getattr(result, "ledger", None) or {}
    parties = scenario.principal_ids if scenario is not None else list(ledger or result.exposure)
    rows = []
    for party in parties:
        entry = ledger.get(party)
        if entry is not None:
            points = entry["points"] if isinstance(entry, dict) else entry.points
            for t, delivered, received, at_risk, exposure in points:
                for figure, value in (("delivered", delivered), ("received", received),
                                      ("at risk", at_risk), ("exposure", exposure)):
                    rows.append({"party": party, "t": t, "figure": figure, "value": value})
        else:
            rows += [{"party": party, "t": t, "figure": "exposure", "value": lv}
                     for t, lv in result.exposure.get(party, [])]
    if scenario is not None:
        # Each cap as rows of the same data set (figure "cap"): one data source keeps
        # the chart renderable by Streamlit as well as by vl-convert.
        for rule in scenario.rules:
            if rule.kind == "exposure" and rule.enabled:
                for party in rule.parties or scenario.principal_ids:
                    if party in parties:
                        rows.append({"party": party, "t": 0, "figure": "cap",
                                     "value": rule.max})
    frame = pd.DataFrame(rows, columns=["party", "t", "figure", "value"])
    unit = scenario.time_unit + "s" if scenario is not None else "time"
    figures = ["delivered", "received", "at risk", "exposure"]
    base = alt.Chart()   # every layer reads the one top-level data set
    lines = base.transform_filter(alt.FieldOneOfPredicate("figure", figures)).mark_line(
        interpolate="step-after").encode(
        x=alt.X("t:Q", title=unit, scale=alt.Scale(domainMin=0)),
        y=alt.Y("value:Q", title="value points"),
        color=alt.Color("figure:N", title="figure", scale=alt.Scale(domain=figures),
                        legend=alt.Legend(orient="bottom")),
        strokeWidth=alt.condition(alt.datum.figure == "exposure", alt.value(3), alt.value(1.5)),
        tooltip=["party:N", alt.Tooltip("t:Q", title=unit), "figure:N", "value:Q"])
    cap = base.transform_filter(alt.datum.figure == "cap")
    rule_mark = cap.mark_rule(strokeDash=[6, 3], color="firebrick").encode(y="value:Q")
    label = cap.transform_calculate(label="'cap ' + datum.value").mark_text(
        align="left", dx=4, dy=-6, color="firebrick").encode(
        y="value:Q", x=alt.value(0), text="label:N")
    # One panel per principal (a facet), on one time axis and one value scale, so the
    # two sides' positions can be read against each other.
    return alt.layer(lines, rule_mark, label, data=frame).properties(
        width=width, height=160).facet(
        row=alt.Row("party:N", title=None, sort=parties,
                    header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold")),
    ).resolve_scale(x="shared", y="shared").properties(
        title="Delivered, received, at risk and exposure of each principal (value points)")
