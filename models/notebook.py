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
            f"<th>{e(k.replace('_', ' '))}</th>" for k in result.metrics.model_fields)
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


def ledger_chart(result: Result, scenario: Scenario | None = None) -> alt.Chart:
    """Each party's exposure over time, one scale (the ledger's exposure column if present)."""
    import altair as alt
    import pandas as pd

    ledger: Any = getattr(result, "ledger", None) or {}
    rows = []
    if ledger:
        for party, entry in ledger.items():
            points = entry["points"] if isinstance(entry, dict) else entry.points
            rows += [{"party": party, "t": p[0], "exposure": p[4]} for p in points]
    else:
        for party, pts in result.exposure.items():
            rows += [{"party": party, "t": t, "exposure": lv} for t, lv in pts]
    frame = pd.DataFrame(rows, columns=["party", "t", "exposure"])
    unit = scenario.time_unit + "s" if scenario is not None else "time"
    return alt.Chart(frame).mark_line(interpolate="step-after").encode(
        x=alt.X("t:Q", title=unit), y=alt.Y("exposure:Q", title="exposure (value points)"),
        color="party:N", tooltip=["party:N", "t:Q", "exposure:Q"],
    ).properties(width=600, title=f"{result.scenario.name}: exposure")
