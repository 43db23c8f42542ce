"""The briefing of the seed: its text (read back from the PDF) carries the seed's figures.

The seed's optimum (hand-checked in tests/optimizer/test_datasets.py and the
README): makespan 116 months, weighted completion 1759, peak exposure of the
principals 49 (the DPRK, at its cap of 49 in month 20), the US peak 8 under its
cap of 8. The PDF is printed by headless Chromium, its text extracted with
poppler's pdftotext and its first page rendered to PNG with pdftoppm.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from models import load_scenario
from optimizer.studies.briefing import briefing, html_to_pdf, render_html
from tests.conftest import solve_checked

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture(scope="module")
def seed() -> tuple[object, object]:
    sc = load_scenario("us_dprk_2018")
    return sc, solve_checked(sc, time_limit_s=30)


def test_content_names_the_sides_figures_and_sources(seed) -> None:  # type: ignore[no-untyped-def]
    sc, result = seed
    b = briefing(sc, result, with_charts=False)
    sides = {s.party: s for s in b.sides}
    assert (sides["US"].peak, sides["US"].cap) == (8, 8)
    assert (sides["DPRK"].peak, sides["DPRK"].cap) == (49, 49)
    assert [p["phase"] for p in b.phases] == ["Halt", "Roll back", "Eliminate", "Normalize"]
    assert dict((n, v) for n, v, _ in b.headline)["Makespan"] == "116 months (ends 2028-02)"
    assert b.sources[0].startswith("SEED: 38 North (2018)")
    assert b.risks[0].startswith(
        "Democratic People's Republic of Korea: most exposed at month 20")


@pytest.mark.skipif(not (shutil.which("pdftotext") and Path("/usr/bin/chromium").exists()),
                    reason="needs poppler-utils and Chromium")
def test_pdf_text_has_the_seeds_figures(seed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sc, result = seed
    page = render_html(briefing(sc, result))
    assert page.count("<svg") >= 2   # the exchange view and the exposure chart, inline
    pdf = tmp_path / "brief.pdf"
    html_to_pdf(page, pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    first = text.split("\f")[0]
    # Page 1: the summary with the headline figures and units.
    assert "Briefing: US-DPRK phased denuclearization roadmap" in first
    assert "Makespan: 116 months (ends 2028-02)" in " ".join(first.split())
    assert "Weighted completion: 1759 priority × months" in " ".join(first.split())
    assert "Peak exposure: 49 value points" in " ".join(first.split())
    assert "8 (cap 8)" in first and "49 (cap 49)" in first
    assert "Main risks" in first
    # Later pages: the charts' own text (SVG text survives into the PDF), rules, sources.
    assert "Exchange view" in text and "Exposure of the principals" in text
    assert "The rules that hold this roadmap in place" in text
    assert "38 North" in text
    pages = int(next(line.split()[-1] for line in subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()
        if line.startswith("Pages:")))
    assert pages >= 4
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("briefing-[0-9]*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "3", str(pdf),
                    str(ARTIFACTS / "briefing")], check=True)
    # pdftoppm pads page numbers to the document's digits (briefing-01.png from 10 pages).
    first_png = sorted(ARTIFACTS.glob("briefing-[0-9]*.png"))[0]
    assert int(first_png.stem.rsplit("-", 1)[1]) == 1 and first_png.stat().st_size > 10_000


def test_report_command_rejects_a_bad_suffix_in_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from optimizer.cli import app

    res = CliRunner().invoke(app, ["report", "us_dprk_2018", "--out", str(tmp_path / "b.doc")])
    assert res.exit_code == 2
    assert "must end in .pdf or .html" in res.output
    assert "Traceback" not in res.output


def test_report_command_writes_html_from_a_plan(seed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from optimizer.cli import app

    _sc, result = seed
    plan = tmp_path / "seed.result.json"
    plan.write_text(result.to_json(), encoding="utf-8")
    out = tmp_path / "brief.html"
    res = CliRunner().invoke(app, ["report", "us_dprk_2018", "--plan", str(plan),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "Makespan</b>: 116 months" in page
    other = CliRunner().invoke(app, ["report", "tests/ui/tiny_roadmap.yaml", "--plan",
                                     str(plan), "--out", str(out)])
    assert other.exit_code == 2 and "is not a concession of" in other.output
