"""The app's chart specs are valid Vega-Lite.

`ui.charts.spec` skips Altair's schema check on every new roadmap (half a
second on the seed); this test makes the check once for every chart the
Roadmap and Compare tabs draw, on the seed and on a day-based scenario, and
checks that its faster conversion of the data gives Altair's own spec.
"""

from __future__ import annotations

import pytest

from models import load_scenario
from models.notebook import ledger_chart
from tests.conftest import solve_checked
from ui import charts


@pytest.mark.parametrize("name", ["us_dprk_2018", "jcpoa_2015"])
def test_every_roadmap_chart_validates(name: str) -> None:
    sc = load_scenario(name)
    result = solve_checked(sc, time_limit_s=20.0, workers=1)
    built = [
        charts.gantt(sc, result, color_by="party", width=1100, exchange=True, title=None),
        charts.gantt(sc, result, color_by="category", width=1100, exchange=False,
                     title="Roadmap by party"),
        charts.exposure_chart(sc, result, width=1100, height=220),
        ledger_chart(result, sc, width=1000),
        *charts.exposure_panels({"a": (sc, result), "b": (sc, result)}, height=150),
    ]
    import altair as alt

    for chart in built:
        chart.to_dict(validate=True)   # raises on any spec the schema rejects
        vega = charts.spec(chart)
        assert vega["usermeta"]["roadmap_key"] == charts.spec(chart)["usermeta"]["roadmap_key"]
        # spec() converts the data without Altair's sanitising: the same spec all the same.
        with alt.theme.enable("none"):
            reference = chart.to_dict(validate=False)
        assert {k: v for k, v in vega.items() if k != "usermeta"} == reference
