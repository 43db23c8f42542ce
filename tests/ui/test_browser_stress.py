"""The Stress tab in a real browser, on the US-DPRK seed.

Opens the seed, runs the stress test (10,000 realisations, seed 0) and sees the
breach table, the fan chart, the makespan histogram and the drivers; starts a
long run and stops it (the figures of the realisations done stay); hardens to a
target with one lever and sees the price. Synchronisation is by Playwright's
``expect`` only. Screenshots go to tests/artifacts/ and docs/screenshot-stress.png.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.ui.browser_kit import ARTIFACTS, ROOT, SOLVE_MS, idle, solved

pytestmark = pytest.mark.browser
HARDEN_MS = 600_000   # a handful of CP-SAT solves of the seed, each within the time limit


def test_stress_run_stop_and_harden(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        _stress_path(page, server, expect)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "stress-failure.png"), full_page=True)
        raise
    assert not errors, errors
    page.close()


def _number(page: Any, label: str, value: str, expect: Any) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    idle(page, expect)


def _stress_path(page: Any, server: str, expect: Any) -> None:
    page.goto(server)
    expect(page.get_by_role("heading", name="US-DPRK phased denuclearization roadmap")
           ).to_be_visible(timeout=60_000)
    solved(page, expect)
    page.get_by_role("tab", name="Stress").click()
    idle(page, expect)
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    expect(panel.get_by_label("Realisations (samples)", exact=True)).to_have_value("10000")

    # Run: the breach table with the caps' sides and limits, the three figures.
    panel.get_by_role("button", name="Run the stress test").click()
    expect(panel.get_by_text("Breach probability per cap")).to_be_visible(timeout=SOLVE_MS)
    idle(page, expect)
    table = panel.locator('[data-testid="stDataFrame"]').first
    expect(table).to_be_visible()
    charts = panel.locator('[data-testid="stVegaLiteChart"]')
    expect(charts).to_have_count(3)
    for k in range(3):
        expect(charts.nth(k).locator("canvas, svg").first).to_be_visible()
    expect(panel.locator('[data-testid="stMetric"]', has_text="Makespan P50 · ends ")
           ).to_contain_text("months")
    shown = {m: panel.locator('[data-testid="stMetric"]', has_text=m)
             .locator('[data-testid="stMetricValue"]').inner_text()
             for m in ("Highest breach probability", "Makespan P50", "Makespan P80",
                       "Makespan P95", "Stall probability")}
    (ARTIFACTS / "stress-shown.json").write_text(json.dumps(shown, indent=2), encoding="utf-8")
    charts.nth(0).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "stress-fan.png"))
    # The app scrolls inside its main block: a tall window shows the whole tab at once.
    page.set_viewport_size({"width": 1280, "height": 2300})
    idle(page, expect)
    page.get_by_role("tab", name="Stress").scroll_into_view_if_needed()
    expect(charts.nth(2).locator("canvas, svg").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "stress-full.png"))
    page.screenshot(path=str(ROOT / "docs" / "screenshot-stress.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    idle(page, expect)

    # A long run, stopped: the figures of the realisations done are shown.
    _number(page, "Realisations (samples)", "1000000", expect)
    panel.get_by_role("button", name="Run the stress test").click()
    progress = page.locator('[data-testid="stProgress"]')
    expect(progress).to_contain_text("realisations", timeout=SOLVE_MS)
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(panel.get_by_text("Stopped after")).to_be_visible(timeout=SOLVE_MS)
    expect(progress).to_have_count(0)
    idle(page, expect)
    expect(panel.locator('[data-testid="stVegaLiteChart"]')).to_have_count(3)
    page.screenshot(path=str(ARTIFACTS / "stress-stopped.png"))

    # Harden to 95 % with robust caps only (the seed's caps are breached 98 % of the time).
    _number(page, "Realisations (samples)", "2000", expect)
    _number(page, "Target breach probability (%)", "95", expect)
    levers = panel.locator(".st-key-stress_levers")
    levers.get_by_role("button", name="Clear all").click()
    idle(page, expect)
    box = levers.get_by_role("combobox", name="Ways to harden")
    box.scroll_into_view_if_needed()
    box.click()
    expect(page.get_by_role("listbox")).to_be_visible()
    page.get_by_role("option", name="robust caps", exact=True).click()
    page.keyboard.press("Escape")
    idle(page, expect)
    for words in ("later verification", "slack before irreversible steps"):
        expect(levers.get_by_role("button", name=f"Remove {words}", exact=True)
               ).to_have_count(0)
    expect(levers.get_by_role("button", name="Remove robust caps", exact=True)
           ).to_have_count(1)
    panel.get_by_role("button", name="Harden to target").click()
    expect(progress).to_contain_text("Hardening", timeout=SOLVE_MS)
    expect(panel.locator('[data-testid="stMetric"]', has_text="Price in makespan")
           ).to_contain_text("months", timeout=HARDEN_MS)
    idle(page, expect)
    expect(panel.get_by_text("Hardened roadmap: caps that hold even when every "
                             "verification comes late")).to_be_visible()
    price = panel.locator('[data-testid="stMetric"]', has_text="Price in makespan")
    price.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "stress-hardened.png"))
    expect(panel.get_by_role("button", name="Adopt as the working copy")).to_be_visible()
