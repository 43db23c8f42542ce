"""The app's charts: the shared builders (``optimizer.studies.charts``) plus comparisons.

The exchange view, the Gantt and the exposure chart are built once, in
``optimizer.studies.charts``, so the app, the briefing and notebooks draw the
same figures; here they are sized for the page (``width="container"``), and
the comparison charts that only the Compare tab needs are added.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from typing import Any, Literal

import altair as alt
import pandas as pd
import streamlit as st

from models import Result, Scenario
from optimizer.studies.charts import (
    exposure_caps,
    exposure_chart,
    exposure_rows,
    gantt,
    gantt_rows,
    gives_and_receives,
    time_end,
    time_window,
    to_png,
    when,
    worst_moments,
    x_encoding,
)

__all__ = ["draw", "draw_panels", "exposure_caps", "exposure_chart", "exposure_panels", "gantt",
           "gantt_rows", "gives_and_receives", "lane_order", "spec", "time_end", "time_window",
           "to_png", "when", "worst_moments"]

# Altair's theme is global: one conversion at a time.
_THEME_LOCK = threading.Lock()


def _values(data: Any, **_kw: Any) -> Any:
    """A frame's rows as JSON values (missing: null), without Altair's sanitising.

    The builders' frames hold only numbers, strings and booleans; Altair's
    ``sanitize_pandas_dataframe`` (for dates, categories, numpy scalars) was
    half of a spec's conversion on the seed (pandas' Arrow strings). The
    specs are the same, byte for byte (tests/ui/test_chart_specs.py).
    """
    if isinstance(data, pd.DataFrame):
        return {"values": data.astype(object).where(data.notna(), None).to_dict("records")}
    return alt.vegalite.data.default_data_transformer(data)


alt.data_transformers.register("roadmap_values", _values)


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec, built (and schema-checked) once.

    ``st.altair_chart`` converts and validates the Altair object on every
    rerun: on the seed that was 0.47 s of a 0.53 s Roadmap tab (jsonschema
    validation of three specs, cProfile). Memoise this spec with the result
    and draw it with :func:`draw`. The theme is "none", as Streamlit's own
    conversion sets it, so Altair's 300×300 defaults do not enter the spec.
    """
    with _THEME_LOCK, alt.theme.enable("none"), alt.data_transformers.enable("roadmap_values"):
        # Not schema-validated here (0.5 s of a new roadmap's 0.75 s of specs on
        # the seed): tests/ui/test_chart_specs.py validates what the builders make.
        out = dict(chart.to_dict(validate=False))
    text = json.dumps(out, sort_keys=True, default=str).encode()
    out["usermeta"] = {"roadmap_key": hashlib.blake2b(text, digest_size=8).hexdigest()}
    return out


def draw(vega: dict[str, Any], slot: str,
         width: Literal["stretch", "content"] = "stretch") -> None:
    """Draw a spec from :func:`spec` at the page's width.

    Streamlit moves the datasets out of the spec it is given (and may set
    autosize), so it gets a copy: the memoised spec stays whole. The element's
    key is its place on the page (``slot``) and its content: new content is a
    new chart, never new data pushed into a view still being embedded —
    Streamlit's race that shows a blank chart ("Unrecognized data set",
    streamlit/streamlit#11906).
    """
    content = vega.get("usermeta", {}).get("roadmap_key", "")
    st.vega_lite_chart(spec=sized(copy.deepcopy(vega)), width=width,
                       key=f"chart-{slot}-{content}")


COMPOSED = ("hconcat", "vconcat", "concat", "facet", "repeat")


def sized(vega: dict[str, Any]) -> dict[str, Any]:
    """Fit the width only: the height stays the plot's own.

    Left alone, Streamlit gives a single or layered view ``autosize: fit``,
    which squeezes the title, axes and legend into the spec's height: the
    exposure chart's 220 px plot became a sliver with its lines on top of each
    other. Composed charts keep Streamlit's choice (``fit-x`` fails on nested
    compositions).
    """
    if "autosize" not in vega and not any(k in vega for k in COMPOSED):
        vega["autosize"] = {"type": "fit-x", "contains": "padding"}
    return vega


def lane_order(sc: Scenario, result: Result) -> list[str]:
    """Concession ids by start (then party); absent ones last: the baseline's lanes."""
    party_rank = {p.id: k for k, p in enumerate(sc.parties)}
    placed = {e.id: e for e in result.schedule}

    def rank(cid: str) -> tuple[int, int, int, int, str]:
        c = sc.concession(cid)
        e = placed.get(cid)
        if e is None or not e.present or e.start is None:
            return (1, 0, 0, party_rank.get(c.party, 99), cid)
        return (0, e.start, e.end or 0, party_rank.get(c.party, 99), cid)

    return sorted((c.id for c in sc.concessions), key=rank)


def exposure_panels(runs: dict[str, tuple[Scenario, Result]], *,
                    width: int | Literal["container"] = "container",
                    height: int = 150) -> list[alt.Chart]:
    """One panel per principal, the runs' exposure curves overlaid, on one y scale.

    Separate charts (not one concatenation) so that each can fit its column:
    a concatenation has a fixed width, and below a 1280 px window the second
    principal's panel was cut off.
    """
    end = max(time_end(sc, r) for sc, r in runs.values())
    frames = [exposure_rows(sc, r, end, run=name, parties=sc.principal_ids)
              for name, (sc, r) in runs.items()]
    frame = pd.concat(frames, ignore_index=True)
    first_sc = next(iter(runs.values()))[0]
    scale = alt.Scale(domain=[min(0, int(frame["level"].min())),
                              max(0, int(frame["level"].max()))])
    panels = []
    for p in dict.fromkeys(frame["party"]):
        rows = frame[frame["party"] == p]
        panels.append(alt.Chart(rows).mark_line(interpolate="step-after", strokeWidth=2).encode(
            # No axis title: half a column cannot hold it; the ticks are calendar dates.
            x=x_encoding(first_sc, "t", (0, end), title=False),
            y=alt.Y("level:Q", title="exposure (value points)", scale=scale),
            color=alt.Color("run:N", title="Run", sort=list(runs),
                            legend=alt.Legend(orient="top", labelLimit=0)),
            strokeDash=alt.StrokeDash("run:N", sort=list(runs), legend=None),
            tooltip=[alt.Tooltip("run:N", title="Run"), alt.Tooltip("when:N", title="From"),
                     alt.Tooltip("level:Q", title="Exposure (points)")],
        ).properties(width=width, height=height,
                     title=alt.TitleParams(str(rows["party_name"].iloc[0]), anchor="start")))
    return panels


def draw_panels(specs: list[dict[str, Any]], slot: str) -> None:
    """Specs from :func:`exposure_panels`, two a row, each fitting its column."""
    for row in range(0, len(specs), 2):
        cols = st.columns(2)
        for k, panel in enumerate(specs[row:row + 2]):
            with cols[k]:
                draw(panel, f"{slot}-{row + k}")


def with_now(chart: alt.LayerChart, sc: Scenario, as_of: int, lo: int) -> alt.LayerChart:
    """A Gantt with the past (``lo`` to ``as_of``) greyed and a labelled "now" line.

    The grey band is drawn over the bars, so what is already history reads as
    faded; the line and its label sit at ``as_of`` on the chart's own time axis.
    """
    from models.calendar import label as cal_label

    past = pd.DataFrame({"start": [lo], "end": [max(lo, as_of)]})
    now = pd.DataFrame({"start": [as_of],
                        "text": [f"now: {cal_label(sc, as_of) or f'{sc.time_unit} {as_of}'}"]})
    extra = [
        alt.Chart(past).mark_rect(color="#6b7280", opacity=0.28).encode(
            x="start:Q", x2="end:Q"),
        alt.Chart(now).mark_rule(color="#111827", strokeWidth=2).encode(x="start:Q"),
        alt.Chart(now).mark_text(align="left", dx=4, baseline="top", fontSize=12,
                                 fontWeight="bold", color="#111827").encode(
            x="start:Q", text="text:N",
            y=alt.YValue(2)),  # type: ignore[attr-defined]
    ]
    out = chart.copy(deep=False)
    out.layer = [*chart.layer, *extra]
    return out
