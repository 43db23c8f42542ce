"""The CSV and PNG exports on the hand-checked tiny scenario (tests/ui/tiny_roadmap.yaml).

Its optimum (tests/ui/test_app_logic.py): a1 and b1 at [0, 2] (public: verified at
their end), a2 at [2, 5], verified two months later (inspection) at 7. The
calendar starts 2020-01, so month 2 is 2020-03, 5 is 2020-06, 7 is 2020-08.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from models import load_scenario, parse_scenario
from optimizer.studies import charts
from optimizer.studies.exports import chart_png, schedule_csv, titled
from tests.conftest import solve_checked

TINY = Path(__file__).resolve().parents[2] / "ui" / "tiny_roadmap.yaml"
DAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def tiny() -> tuple[object, object]:
    sc = load_scenario(str(TINY))
    return sc, solve_checked(sc, time_limit_s=10)


def test_csv_has_titles_names_and_dates_then_the_ids(tiny) -> None:  # type: ignore[no-untyped-def]
    sc, result = tiny
    rows = list(csv.reader(io.StringIO(schedule_csv(sc, result))))
    assert rows[0] == ["Phase", "Concession", "Party", "Starts", "Ends", "Verified", "Category",
                       "In the roadmap", "concession_id", "party_id", "phase_id", "start", "end",
                       "verified"]
    assert rows[1:] == [
        ["Whole roadmap", "Alpha freezes", "Alpha", "2020-01", "2020-03", "2020-03", "nuclear",
         "yes", "a1", "A", "P1", "0", "2", "2"],
        ["Whole roadmap", "Beta lifts sanctions", "Beta", "2020-01", "2020-03", "2020-03",
         "sanctions", "yes", "b1", "B", "P1", "0", "2", "2"],
        ["Whole roadmap", "Alpha dismantles", "Alpha", "2020-03", "2020-06", "2020-08",
         "nuclear", "yes", "a2", "A", "P1", "2", "5", "7"]]


def test_csv_without_a_calendar_says_the_time_unit(tiny) -> None:  # type: ignore[no-untyped-def]
    sc, _ = tiny
    data = sc.model_dump(mode="json", by_alias=True)
    data["calendar_start"] = None
    plain = parse_scenario(data, "no-calendar")
    result = solve_checked(plain, time_limit_s=10)
    rows = list(csv.DictReader(io.StringIO(schedule_csv(plain, result))))
    a2 = next(r for r in rows if r["concession_id"] == "a2")
    assert (a2["Starts"], a2["Ends"], a2["Verified"]) == ("month 2", "month 5", "month 7")


def test_png_carries_name_dates_title_and_legend(tiny) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    sc, result = tiny
    gantt = charts.gantt(sc, result, width=600)
    spec = titled(gantt, sc, result, DAY).to_dict()
    assert spec["title"]["text"] == "Tiny two-party roadmap"
    assert spec["title"]["subtitle"] == [
        "Optimal roadmap, 2020-01 to 2020-06 · exported 2026-12-01"]
    inner = spec["vconcat"][0]
    assert inner["title"]["text"] == "Exchange view: every side on one timeline"
    colours = [layer["encoding"]["color"] for layer in inner["layer"]
               if "color" in layer.get("encoding", {}) and "field" in layer["encoding"]["color"]]
    assert colours and all(c.get("legend", {}) is not None for c in colours)
    assert any(c.get("title") == "Gives" for c in colours)
    png = chart_png(gantt, sc, result, DAY, scale=1)
    bare = charts.to_png(gantt, scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(png)) as im, Image.open(io.BytesIO(bare)) as bare_im:
        # The name and dates sit above the chart: the export is taller than the bare chart.
        assert im.size[1] > bare_im.size[1] + 30
