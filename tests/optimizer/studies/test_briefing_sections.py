"""The briefing's stress-test and corrections sections, read back from the PDF.

Stress: the seed's figures in the PDF are optimizer.studies.stress's for the
same plan, sample count and seed (5,000, seed 0), and the text says both.
Corrections: tests/ui/tiny_roadmap.yaml with its exposure cap lowered from 4
to 3 has no roadmap (a1 and b1 start together, each risks 4 at once, credit
comes only at their end); the cheapest correction raises the cap back to 4:
one position (10) moved one unit (1), cost 11 — the same sentence
`roadmap explain` prints. Pages are rendered to PNG (pdftoppm) into
tests/artifacts/ for a look.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from models import load_scenario, parse_scenario
from models.options import SolveOptions
from optimizer.studies.briefing import briefing, html_to_pdf, render_html
from optimizer.studies.briefing_extra import STRESS_SAMPLES, STRESS_SEED, pct
from optimizer.studies.charts import when
from optimizer.studies.stress import stress
from tests.conftest import solve_checked

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
TINY = Path(__file__).resolve().parents[2] / "ui" / "tiny_roadmap.yaml"
PRINTS = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm")
         and Path("/usr/bin/chromium").exists()), reason="needs poppler-utils and Chromium")


def _pdf_text(page: str, out: Path, png: str) -> list[str]:
    pdf = out / "brief.pdf"
    html_to_pdf(page, pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(ARTIFACTS / png)], check=True)
    return [" ".join(p.split()) for p in text.split("\f")]


@pytest.fixture(scope="module")
def seed() -> tuple[object, object]:
    sc = load_scenario("us_dprk_2018")
    return sc, solve_checked(sc, time_limit_s=30)


def test_cli_defaults_are_the_briefings() -> None:
    from optimizer.cli import report

    assert (report.STRESS_SAMPLES, report.STRESS_SEED) == (STRESS_SAMPLES, STRESS_SEED)


def test_stress_section_holds_the_engines_figures(seed) -> None:  # type: ignore[no-untyped-def]
    sc, result = seed
    b = briefing(sc, result, with_charts=False)
    rep = stress(sc, result, samples=STRESS_SAMPLES, seed=STRESS_SEED)
    s = b.stress
    assert s is not None and (s.samples, s.seed) == (5000, 0)
    assert s.report is not None and s.report.to_dict() == rep.to_dict()
    assert [(cap, p) for _, cap, p in s.caps] == [(c["max"], c["breach_probability"])
                                                 for c in rep.caps]
    assert dict(s.finish)["Ends by (P80)"] == when(sc, rep.makespan["p80"])
    assert s.drivers and len(s.drivers) <= 5
    # Without samples, no section.
    assert briefing(sc, result, with_charts=False, samples=0).stress is None


@PRINTS
def test_pdf_has_the_seeds_stress_figures(seed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sc, result = seed
    rep = stress(sc, result, samples=STRESS_SAMPLES, seed=STRESS_SEED)
    pages = _pdf_text(render_html(briefing(sc, result)), tmp_path, "briefing-seed")
    first, text = pages[0], " ".join(pages)
    # Page 1: one line of the stress test among the main risks, with its samples and seed.
    assert "Stress test, 5,000 realisations (seed 0):" in first
    worst = max(rep.caps, key=lambda c: c["breach_probability"])
    assert f"cap of {worst['max']} is exceeded in {pct(worst['breach_probability'])}" in first
    assert f"stalls in {pct(rep.stall_probability)}" in first
    # The stress-test page: every cap, the makespan percentiles, stalls, peaks, drivers.
    page = next(p for p in pages if p.startswith("Stress test: what if steps slip"))
    assert "--samples 5000 --seed 0" in page
    for c in rep.caps:
        assert f"{c['max']} {pct(c['breach_probability'])}" in page
    mk = rep.makespan
    for q in (50, 80, 95):
        assert f"Ends by (P{q}) {when(sc, mk[f'p{q}'])}" in page
    assert f"Planned end {when(sc, rep.plan_makespan)}" in page
    assert f"Stalls {pct(rep.stall_probability)} of realisations" in page
    dprk = next(p for p in rep.parties if p["party"] == "DPRK")["peak"]
    assert (f"Democratic People's Republic of Korea {dprk['p50']} {dprk['p80']} "
            f"{dprk['p95']} 49") in page
    titles = {c.id: c.label for c in sc.concessions}
    assert f"A slip of {titles[rep.tornado[0]['concession']]}" in page
    assert "Exposure of the principals" in text   # the rest of the briefing is still there


def _tiny_cap3() -> object:
    data = load_scenario(str(TINY)).model_dump(mode="json", by_alias=True)
    data["rules"][2]["max"] = 3
    return parse_scenario(data, "tiny-cap3")


@PRINTS
def test_infeasible_briefing_leads_with_the_cheapest_correction(tmp_path: Path) -> None:
    from optimizer.api import solve
    from optimizer.explain.corrections.words import correction_sentence
    from optimizer.explain.explanation import explain_scenario

    sc = _tiny_cap3()
    result = solve(sc, SolveOptions(workers=1, time_limit_s=10))
    assert result.status == "infeasible"
    b = briefing(sc, result, workers=1, time_limit_s=20)
    assert b.stress is None and b.corrections is not None
    assert b.corrections.costs[0] == 11
    # The same engine and words as `roadmap explain`.
    ex = explain_scenario(sc, SolveOptions(workers=1, time_limit_s=20), suggest=False)
    expected = [correction_sentence(sc, c, bill) for c, bill in zip(ex.corrections, ex.bills,
                                                                    strict=True)]
    assert b.corrections.sentences == expected
    assert expected[0].startswith("Raise the A/B exposure cap from 3 to 4 (cost 11)")
    pages = _pdf_text(render_html(b), tmp_path, "briefing-infeasible")
    assert "What it would take: the cheapest correction" in pages[0]
    assert " ".join(expected[0].split()) in pages[0]
    assert "1 sequencing rule; 1 required A step; the A/B exposure cap 3" in pages[0]
    assert "Corrections, cheapest first" in pages[1]
    # An explanation already computed (the app's Explain tab) is reused, not searched again.
    again = briefing(sc, result, corrections=ex, with_charts=False)
    assert again.corrections is not None and again.corrections.sentences == expected


def test_report_command_takes_samples_and_seed(tmp_path: Path) -> None:
    """The tiny scenario describes no uncertainty: every realisation is the plan (a1, b1
    at [0, 2], a2 at [2, 5]), so its cap of 4 (the peak is 4) is never exceeded."""
    from typer.testing import CliRunner

    from optimizer.cli import app

    out = tmp_path / "brief.html"
    res = CliRunner().invoke(app, ["report", str(TINY), "--out", str(out), "--samples", "200",
                                   "--seed", "7", "-w", "1"])
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert ("Stress test, 200 realisations (seed 7): the Alpha and Beta cap of 4 is exceeded "
            "in 0.0%; the roadmap ends by month 5 (2020-06) in 80% of those that do not stall "
            "(planned month 5 (2020-06)); it stalls in 0.0%.") in page
    assert "each of the 200 realisations (seed 7) is the plan itself" in page
    none = CliRunner().invoke(app, ["report", str(TINY), "--out", str(out), "--samples", "0",
                                    "-w", "1"])
    assert none.exit_code == 0 and "Stress test" not in out.read_text(encoding="utf-8")
