"""What every browser test needs: the app's server, Chromium, and page helpers.

One Streamlit server and one Chromium serve the whole session (the fixtures
in tests/ui/conftest.py); the server's log is checked for tracebacks when
the session ends, so a flow in any test module that logs one fails the run.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
START_TIMEOUT_S = 90
SOLVE_MS = 120_000    # a solve plus, when infeasible, the conflict search


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Block on the health endpoint; urlopen's timeout paces the retries."""
    import time

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            # Not listening yet: wait on the process instead of sleeping blindly.
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.5)
    raise RuntimeError("streamlit did not become healthy")


def idle(page: Any, expect: Any, timeout: int = 30_000) -> None:
    """Wait until no script run is in progress (stale copies of elements are gone)."""
    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=timeout)


def set_option(page: Any, label: str, typed: str, shown: str, expect: Any) -> None:
    """Type a solve option into the sidebar (``label``), commit it with Enter, and wait
    until the box shows ``shown`` (Streamlit's formatting, e.g. "30.00") and the run ends."""
    box = page.locator('[data-testid="stSidebar"]').get_by_label(label, exact=True)
    box.fill(typed)
    box.press("Enter")
    expect(box).to_have_value(shown)
    idle(page, expect)


def set_cap(page: Any, rule: str, value: int, expect: Any, current: int) -> None:
    page.get_by_role("tab", name="Edit").click()
    idle(page, expect)
    cap = page.locator(f".st-key-rule-{rule}").get_by_label("Cap", exact=True)
    expect(cap).to_have_value(str(current))
    cap.fill(str(value))
    cap.press("Enter")
    # The Roadmap tab flags the result as stale once the edit is committed.
    expect(page.get_by_text("edited since this roadmap was solved")).to_be_attached()
    idle(page, expect)


def solved(page: Any, expect: Any) -> None:
    """Wait for the solve to end and the roadmap to be drawn.

    The progress bar is absent both before a solve is first drawn and after
    it ends, so its absence is checked only once the result is on the page.
    """
    idle(page, expect, SOLVE_MS)
    page.get_by_role("tab", name="Roadmap").click()
    expect(page.get_by_text("Optimal roadmap")).to_be_visible(timeout=SOLVE_MS)
    # The roadmap shown is the new one (after an edit, the old one carries a warning).
    expect(page.get_by_text("edited since this roadmap was solved")).to_have_count(
        0, timeout=SOLVE_MS)
    expect(page.locator('[data-testid="stProgress"]')).to_have_count(0, timeout=SOLVE_MS)
    idle(page, expect, SOLVE_MS)
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    charts = panel.locator('[data-testid="stVegaLiteChart"]')
    # The Gantt and the exposure charts; the ledger's is drawn once its expander opens.
    expect(charts).to_have_count(2)
    expect(charts.first.locator("canvas, svg").first).to_be_visible()
    expect(charts.nth(1).locator("canvas, svg").first).to_be_visible()


def open_ledger(page: Any, expect: Any, shot: Path | None = None) -> None:
    """Open the Roadmap tab's ledger expander (its chart is drawn then), take ``shot``,
    and close it again (``solved`` expects it closed)."""
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    header = panel.get_by_text("Ledger of each principal")
    header.click()
    charts = panel.locator('[data-testid="stVegaLiteChart"]')
    expect(charts).to_have_count(3)
    expect(charts.nth(2).locator("canvas, svg").first).to_be_visible()
    idle(page, expect)
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    header.click()
    expect(charts).to_have_count(2)
    idle(page, expect)


def save(page: Any, name: str, expect: Any) -> None:
    box = page.get_by_label("Save this roadmap for comparison as", exact=True)
    box.fill(name)
    box.press("Enter")
    page.get_by_role("button", name="Save run").click()
    expect(page.get_by_text(f"Saved run '{name}' (id ")).to_be_visible()
    idle(page, expect)




# Streamlit's chart element can lose a race between a rerun's new data and a
# view still being embedded and logs "Unrecognized data set: <hash>" in the
# browser console (streamlit/streamlit#11906, #11342; still seen with 1.67
# under heavy load). It is the frontend's, not the app's: the flows check
# that every chart they need is drawn, so only this one message is let through.
UPSTREAM_PAGE_ERRORS = ("Unrecognized data set: ",)


def app_errors(errors: list[str]) -> list[str]:
    """The page errors that are the app's (the upstream chart race left out)."""
    return [e for e in errors if not e.startswith(UPSTREAM_PAGE_ERRORS)]
