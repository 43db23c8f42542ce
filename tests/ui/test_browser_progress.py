"""Browser flow of the Progress tab (issue 16 point 4) on the seed.

The seed opens solved (the plan). In the Progress tab: "as of" Hanoi
(2019-02), a few rows of what had happened by then typed into the record
editor (the remains handed over in July 2018, the exercise suspension in
August, the inter-Korean military measures from September to December),
the steps the plan started before Hanoi and not recorded taken as gone as
planned (``roadmap replan --plan PLAN --as-of 8``), Re-plan; then the plan
and the re-plan side by side with the past greyed and a "now" line, what
moved, and the next package with each side's ledger.

Why "as planned" for the rest: with only the Hanoi record the seed cannot be
re-planned at all (its halt deadlines at month 12 cannot hold from month 8;
``us_dprk_2018_hanoi`` is the seed with them moved to 13).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.browser_kit import ARTIFACTS, ROOT, SOLVE_MS, idle, solved

pytestmark = pytest.mark.browser

# Columns of the record editor, left to right (the id column is hidden).
COLUMN = {"Concession": 0, "Party": 1, "State": 2, "Started": 3, "Finished": 4,
          "Verification": 5, "Verified at": 6, "Reversed at": 7}
HEADER_PX, ROW_PX = 35, 35


@pytest.fixture
def page(server: str, browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
    pg = ctx.new_page()
    pg.goto(server)
    try:
        yield pg
    finally:
        ctx.close()


def record_cell(page: Any, expect: Any, row: int, column: str, text: str) -> None:
    """Type one cell of the record editor as a planner would: select, type, Enter.

    The grid is a canvas: the first data cell is clicked, the arrow keys move to
    the cell (the grid scrolls itself), and typing opens its editor, which is
    then filled (keys typed while it opens would be lost). A click that lands
    while the grid is still being drawn selects nothing; it is then repeated.
    """
    grid = page.locator('[data-testid="stDataFrame"]:visible').first
    canvas = grid.locator('[data-testid="data-grid-canvas"]')
    editor = page.locator("textarea.gdg-input, .gdg-clip-region textarea, "
                          ".gdg-clip-region input").first
    from playwright.sync_api import Error as PlaywrightError

    for attempt in range(3):
        # A rerun still drawing the grid can detach the cell editor under the
        # keyboard (seen under CI load): start from an idle page, and try again
        # when the editor is gone before the text is in.
        idle(page, expect)
        expect(canvas).to_be_visible()
        grid.click(position={"x": 30, "y": HEADER_PX + ROW_PX // 2})
        for _ in range(COLUMN[column]):
            page.keyboard.press("ArrowRight")
        for _ in range(row):
            page.keyboard.press("ArrowDown")
        page.keyboard.type(text[0])
        try:
            expect(editor).to_be_visible(timeout=5_000)
            editor.fill(text, timeout=10_000)
            editor.press("Enter", timeout=10_000)
            break
        except (AssertionError, PlaywrightError):
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    expect(page.get_by_text("Progress record saved in the working copy")).to_be_visible(
        timeout=30_000)
    idle(page, expect)


def test_record_replan_side_by_side_and_next_package(page: Any) -> None:
    from playwright.sync_api import expect

    from models import load_scenario

    seed = load_scenario("us_dprk_2018")
    rows = {c.id: k for k, c in enumerate(seed.concessions)}
    solved(page, expect)
    page.get_by_role("tab", name="Progress").click()
    idle(page, expect)
    as_of = page.get_by_role("textbox", name="As of (the present: nothing new starts")
    as_of.fill("2019-02")
    as_of.press("Enter")
    expect(page.get_by_text("As of 2019-02 (month 8)")).to_be_visible(timeout=30_000)
    idle(page, expect)
    for cid, start, end in [("dprk_pow_mia_remains", "2018-07", "2018-08"),
                            ("us_joint_exercise_limits", "2018-08", "2018-09"),
                            ("rok_military_confidence_building", "2018-09", "2018-12")]:
        record_cell(page, expect, rows[cid], "Started", start)
        record_cell(page, expect, rows[cid], "Finished", end)
    page.screenshot(path=str(ARTIFACTS / "progress-record.png"), full_page=False)
    page.get_by_text("went as planned").click()
    idle(page, expect)
    page.get_by_role("button", name="Re-plan").click()
    expect(page.get_by_text("Re-plan: optimal")).to_be_visible(timeout=SOLVE_MS)
    idle(page, expect, SOLVE_MS)
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    charts = panel.locator('[data-testid="stVegaLiteChart"]')
    expect(charts).to_have_count(2)          # plan and re-plan, side by side
    for k in range(2):
        expect(charts.nth(k).locator("canvas, svg").first).to_be_visible()
    expect(panel.get_by_text("What moved")).to_be_visible()
    # The inter-Korean measures moved (plan: month 1; record: 2018-09): the table is there.
    expect(panel.get_by_text("Nothing moved")).to_have_count(0)
    expect(panel.get_by_text("Broken by the record")).to_be_visible()
    expect(panel.get_by_text("The next package to put on the table")).to_be_visible()
    expect(panel.get_by_text("Self-enforcing").or_(
        panel.get_by_text("Not self-enforcing")).first).to_be_visible()
    chart_box = charts.first.bounding_box()
    assert chart_box is not None and chart_box["width"] > 300
    # The main pane scrolls, not the page: each screenshot scrolls to its part first.
    charts.first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "progress-replan.png"))
    page.screenshot(path=str(ROOT / "docs" / "screenshot-progress.png"))
    panel.get_by_text("The next package to put on the table").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "progress-next-package.png"))
