"""The planner's path in a real browser (Playwright driving Debian's Chromium).

Opens the app on the US-DPRK scenario, saves the seed roadmap, tightens the
US and DPRK exposure caps from 8 to 7 (no roadmap exists), reads the
conflict, applies the cheapest correction the explainer found, saves that
roadmap and compares the two. Synchronisation
is by Playwright's auto-retrying ``expect`` only.
Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ui.browser_kit import (
    ARTIFACTS,
    ROOT,
    SOLVE_MS,
    app_errors,
    idle,
    open_ledger,
    save,
    set_cap,
    set_option,
    solved,
)

pytestmark = pytest.mark.browser


def test_tighten_explain_relax_compare(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        _planner_path(page, server, expect)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
        raise
    assert not app_errors(errors), errors
    page.close()


def _planner_path(page: Any, server: str, expect: Any) -> None:
    page.goto(server)

    # Open: the US-DPRK scenario, solved.
    expect(page.get_by_role("heading", name="US-DPRK phased denuclearization roadmap")
           ).to_be_visible(timeout=60_000)
    solved(page, expect)
    expect(page.locator('[data-testid="stMetric"]', has_text="Makespan")).to_contain_text("116")
    # SPEC §5.1: the reported peak is the principals' (US, DPRK), labelled with them.
    expect(page.locator('[data-testid="stMetric"]', has_text="Peak exposure (US, DPRK)")
           ).to_contain_text("49")
    page.screenshot(path=str(ARTIFACTS / "roadmap.png"))
    # The ledger of each principal is drawn once its expander is opened.
    open_ledger(page, expect, ARTIFACTS / "roadmap-ledger.png")
    page.screenshot(path=str(ARTIFACTS / "roadmap-full.png"), full_page=True)
    save(page, "Seed", expect)
    # More time for the search: it is also the conflict explainer's budget.
    set_option(page, "Time limit (s)", "30", "30.00", expect)

    # A tighter US cap (8 -> 7) still has a roadmap.
    set_cap(page, "us_exposure_cap", 7, expect, current=8)
    page.get_by_role("button", name="Solve", exact=True).click()
    solved(page, expect)

    # The DPRK cap (49 in the v1.1 seed) at 7 too: no roadmap; the Explain tab lists
    # the conflict.
    set_cap(page, "dprk_exposure_cap", 7, expect, current=49)
    # Solve, and at once (in the same moment, before Solve's run has drawn the tabs) a
    # click on the Explain tab: the planner's click wins over Solve's "open the Roadmap
    # tab", which used to throw the planner back there.
    page.evaluate("""() => {
        [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Solve')
            .click();
        [...document.querySelectorAll('[role=tab]')].find(t => t.innerText.trim() === 'Explain')
            .click();
    }""")
    expect(page.locator('[data-testid="stProgress"]')).to_have_count(0, timeout=SOLVE_MS)
    idle(page, expect, SOLVE_MS)
    expect(page.get_by_role("tab", name="Explain")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_text("No roadmap satisfies every position")).to_be_visible(
        timeout=SOLVE_MS)
    fixes = page.locator(".st-key-correction-0")
    expect(fixes.get_by_role("button", name="Apply")).to_be_visible(timeout=SOLVE_MS)
    expect(page.get_by_text("Why no roadmap exists")).to_be_visible(timeout=SOLVE_MS)
    page.get_by_text("Show all").click()
    expect(page.locator(".st-key-conflict_list")).to_contain_text("The DPRK is never exposed")
    page.screenshot(path=str(ARTIFACTS / "conflict.png"))

    # Apply the cheapest correction the explainer found.
    fixes.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Applied the correction")).to_be_visible()
    solved(page, expect)
    save(page, "Both caps 7", expect)

    # Compare the two feasible roadmaps side by side.
    page.get_by_role("tab", name="Compare").click()
    idle(page, expect)
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    expect(panel.get_by_text("Roadmaps one under the other")).to_be_visible()
    # Each principal's exposure panel (US, DPRK) and the two runs' Gantts.
    vega = panel.locator('[data-testid="stVegaLiteChart"]')
    expect(vega).to_have_count(4)
    # Both exposure panels fit the page (one fixed-width pair was cut off below 1280 px).
    page_box = panel.bounding_box()
    for k in (0, 1):
        vega.nth(k).locator("canvas, svg").first.wait_for()
        box = vega.nth(k).locator("canvas, svg").first.bounding_box()
        assert page_box is not None and box is not None
        assert box["x"] + box["width"] <= page_box["x"] + page_box["width"] + 1, (k, box)
    tables = panel.locator('[data-testid="stDataFrame"]')
    expect(tables).to_have_count(3)  # the metrics, what moved, the saved runs
    expect(panel.get_by_text("The schedules are identical")).to_have_count(0)
    expect(panel.get_by_text("Δ against the baseline, Seed")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "compare.png"))
    page.screenshot(path=str(ARTIFACTS / "compare-full.png"), full_page=True)
    for k, name in ((0, "compare-exposure"), (2, "compare-gantt")):
        vega.nth(k).scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


DOCS = ROOT / "docs"


def test_author_undo_reorder_glossary_report_compare(server: str, browser: Any) -> None:
    """Issue 17's flows: add a concession and a rule, undo, reorder the objective,
    read the glossary, download the briefing, compare two datasets."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        _author_flow(page, server, expect)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "failure-authoring.png"), full_page=True)
        raise
    assert not app_errors(errors), errors
    page.close()


def _author_flow(page: Any, server: str, expect: Any) -> None:
    page.goto(server)
    expect(page.get_by_role("heading", name="US-DPRK phased denuclearization roadmap")
           ).to_be_visible(timeout=60_000)
    solved(page, expect)
    # The exchange view is the default; units on the figures.
    expect(page.get_by_label("Exchange (all sides by time)")).to_be_checked()
    expect(page.locator('[data-testid="stMetric"]', has_text="Makespan")).to_contain_text(
        "116 months (2028-02)")
    page.screenshot(path=str(DOCS / "screenshot-roadmap.png"))
    page.screenshot(path=str(ARTIFACTS / "roadmap-1600.png"), full_page=True)

    # The glossary: the Help panel defines the terms the figures use.
    page.get_by_text("Help: the terms used here").click()
    help_panel = page.locator(".st-key-help_panel")
    expect(help_panel).to_contain_text("Phase imbalance")
    expect(help_panel).to_contain_text("Weighted completion")
    expect(help_panel).to_contain_text("Verification lag")

    # The briefing downloads as HTML with the seed's headline figures.
    with page.expect_download() as dl:
        page.get_by_role("button", name="Briefing (HTML)").click()
    brief = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "Makespan</b>: 116 months" in brief and "<svg" in brief
    idle(page, expect)

    # Add a concession through the form.
    page.get_by_role("tab", name="Edit").click()
    idle(page, expect)
    page.get_by_text("Add, duplicate or delete a concession").click()
    page.get_by_label("Title", exact=True).fill("US opens a trade office in Pyongyang")
    page.get_by_label("Title", exact=True).press("Tab")
    page.get_by_role("button", name="Add concession").click()
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar).to_contain_text("44 concessions · 56 rules")
    idle(page, expect)
    # Add a rule: the new step only after the liaison offices.
    page.get_by_text("Add, duplicate or delete a rule").click()
    box = page.get_by_label("The new rule (YAML; concessions by id)")
    expect(box).to_be_visible()
    box.fill("kind: precedence\nbefore: us_liaison_offices\nafter: step\n"
             "text: Trade office after the liaison offices\n")
    page.keyboard.press("Control+Enter")
    idle(page, expect)
    page.get_by_role("button", name="Add rule").click()
    expect(sidebar).to_contain_text("44 concessions · 57 rules")
    idle(page, expect)
    changes = page.locator(".st-key-changes_panel")
    expect(changes).to_contain_text("Concession added: US opens a trade office")
    expect(changes).to_contain_text("Rule added: Trade office after the liaison offices")
    # Undo the rule: the concession stays, the rule goes.
    page.get_by_role("button", name="↶ Undo").click()
    expect(sidebar).to_contain_text("44 concessions · 56 rules")
    idle(page, expect)
    expect(changes).not_to_contain_text("Rule added")
    expect(changes).to_contain_text("Concession added")
    # Reorder the objective: weighted completion (the seed's second term) above peak exposure.
    up = page.get_by_role("button", name="↑").nth(1)
    up.click()
    idle(page, expect)
    expect(changes).to_contain_text(
        "Objective: lexicographic, weighted completion > peak exposure > makespan")
    page.screenshot(path=str(ARTIFACTS / "edit-1600.png"), full_page=True)

    # Compare two datasets: the seed and JCPOA (days against months: no deltas).
    page.get_by_role("button", name="Reset edits").click()
    idle(page, expect)
    solved(page, expect)
    save(page, "Seed 2018", expect)
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    box.click()
    page.get_by_role("option", name="jcpoa_2015", exact=True).click()
    expect(page.get_by_role("heading", name="JCPOA (Iran, 2015)")).to_be_visible(
        timeout=SOLVE_MS)
    solved(page, expect)
    save(page, "JCPOA", expect)
    page.get_by_role("tab", name="Compare").click()
    idle(page, expect)
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    expect(panel.get_by_text("different units (days and months)")).to_be_visible()
    expect(panel.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "compare-datasets.png"), full_page=True)
    page.screenshot(path=str(DOCS / "screenshot-compare.png"))


def test_half_typed_forms_survive_a_look_at_another_tab(server: str, browser: Any) -> None:
    """A new concession and a new party half typed in the Edit tab, a look at the Roadmap
    tab and at a closed "Parties and phases" section: what was typed is still there."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    try:
        page.goto(server)
        solved(page, expect)
        page.get_by_role("tab", name="Edit").click()
        idle(page, expect)
        page.get_by_text("Add, duplicate or delete a concession", exact=True).click()
        concession = page.get_by_test_id("stForm").filter(
            has=page.get_by_role("button", name="Add concession", exact=True))
        concession.get_by_label("Title", exact=True).fill("Joint liaison offices")
        page.get_by_text("Parties and phases: add or delete", exact=True).click()
        party = page.get_by_test_id("stForm").filter(
            has=page.get_by_role("button", name="Add party", exact=True))
        party.get_by_label("Party name", exact=True).fill("People's Republic of China")
        # Close the section, look at the roadmap, come back, open the section again.
        page.get_by_text("Parties and phases: add or delete", exact=True).click()
        page.get_by_role("tab", name="Roadmap").click()
        idle(page, expect)
        expect(page.get_by_text("Optimal roadmap")).to_be_visible()
        page.get_by_role("tab", name="Edit").click()
        idle(page, expect)
        expect(concession.get_by_label("Title", exact=True)).to_have_value(
            "Joint liaison offices")
        page.get_by_text("Parties and phases: add or delete", exact=True).click()
        expect(party.get_by_label("Party name", exact=True)).to_have_value(
            "People's Republic of China")
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "failure-drafts.png"), full_page=True)
        raise
    page.close()


def test_server_log_has_no_traceback(server: str) -> None:
    """Runs last in this module: nothing above may have logged a traceback.

    (tests/ui/conftest.py checks the log again at the end of every browser
    module, each of which has its own server.)
    """
    log = (ARTIFACTS / "streamlit.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, log[log.index("Traceback"):][:2000]
