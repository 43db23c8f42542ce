"""Click-to-visible latency of the app's main actions on the seed (US-DPRK 2018).

Starts the Streamlit app of a checkout (``--root``, default this one) on a
free port, drives it with Playwright and headless Chromium, and times, five
times each, from the click until the answer is on the page and the script
run is over:

- dataset switch: pick another built-in scenario, then the seed again, until
  the seed's heading and its two charts are drawn;
- re-solve: change the US exposure cap on the Edit tab, press Solve, until
  the Roadmap tab (which Solve opens) shows the new roadmap's charts (no
  "edited since" warning, no progress bar);
- save: press "Save run" until the confirmation shows;
- apply a correction: on an infeasible variant (both caps 7), press the
  Apply of the Explain tab's first correction card until the Roadmap tab
  (which Apply opens) shows the corrected roadmap.

Two instruments (``--instrument``):

- ``page`` (the default): timestamps taken in the page itself. The clock
  starts at the browser's click (or key) event that triggers the action and
  stops at the page's last change (an element, attribute or text, or a
  stroke on a chart's canvas) before it has been still for half a second
  with the script run over; only then are the answer's contents checked with
  Playwright (not timed). This is what the planner waits for.
- ``playwright``: the clock runs in this script from the call that clicks
  until Playwright's ``expect`` sees the answer. It adds what the planner
  does not wait for: the click's actionability checks, ``expect``'s polling
  back-off (checks at 0, 0.1, 0.35, 0.85 s after it starts…) and its text
  searches over the whole page, run in the page's main thread while the
  page is being drawn. Kept to compare with the earlier tables.

Prints a Markdown table (median, min, max in seconds) and, with ``--out``,
writes it to a file. Usage::

    python benchmarks/ui_latency.py [--root DIR] [--label before] [--out FILE]
        [--instrument page|playwright]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
SEED = "US-DPRK phased denuclearization roadmap"
OTHER = "agreed_framework_1994"
REPEATS = 5
LONG = 120_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(root: Path, store: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(root), ROADMAP_STORE=str(store))
    env.pop("ROADMAP_UI_SCENARIO", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(root / "ui" / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(
                url + "/_stcore/health", timeout=2) as r:
            if r.status == 200:
                return proc, url
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def idle(page: Any, expect: Any, timeout: int = LONG) -> None:
    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=timeout)


def drawn(page: Any, expect: Any) -> None:
    """The Roadmap tab shows a fresh, optimal roadmap with its charts."""
    expect(page.get_by_text("Optimal roadmap")).to_be_visible(timeout=LONG)
    expect(page.get_by_text("edited since this roadmap was solved")).to_have_count(0, timeout=LONG)
    expect(page.locator('[data-testid="stProgress"]')).to_have_count(0, timeout=LONG)
    idle(page, expect)
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    expect(panel.locator('[data-testid="stVegaLiteChart"] canvas, '
                         '[data-testid="stVegaLiteChart"] svg').first).to_be_visible(timeout=LONG)


# The page's own clock: the last click or key event, and the last change of
# the page (any element, attribute or text, or a stroke on a canvas).
PAGE_CLOCK = r"""
() => {
  if (window.__rmClock) return;
  const c = window.__rmClock = {inputs: [], last: 0};
  for (const ev of ['click', 'keydown']) {
    document.addEventListener(ev, () => c.inputs.push(performance.now()), true);
  }
  new MutationObserver(() => { c.last = performance.now(); }).observe(
    document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  // A chart draws on its canvas without changing the page: its drawing counts too.
  const proto = CanvasRenderingContext2D.prototype;
  for (const name of ['fillRect', 'fillText', 'fill', 'stroke', 'strokeText', 'drawImage',
                      'clearRect']) {
    const draw = proto[name];
    proto[name] = function (...args) { c.last = performance.now(); return draw.apply(this, args); };
  }
}
"""
# Resolves once the page has not changed for ``quiet`` ms and the script run
# is over: the time from the action's click to the page's last change.
PAGE_SETTLED = r"""
([quiet, since]) => new Promise(resolve => {
  const c = window.__rmClock;
  const app = document.querySelector('[data-testid="stApp"]');
  const timer = setInterval(() => {
    const t = performance.now();
    if (t - since > 120000) { clearInterval(timer); resolve(NaN); return; }
    if (app.getAttribute('data-test-script-state') === 'notRunning' &&
        c.last > since && t - c.last >= quiet) {
      clearInterval(timer);
      const clicks = c.inputs.filter(x => x >= since);
      resolve((c.last - clicks[clicks.length - 1]) / 1000);
    }
  }, 20);
})
"""
QUIET_MS = 500
INSTRUMENT = "page"


def timed(action: Callable[[], None], until: Callable[[], None], page: Any) -> float:
    """Seconds from the action's click to its answer, by the chosen instrument.

    ``page``: the action's last click or key event in the page (a dataset pick
    opens the list first: the pick is the action) to the page's last change;
    ``until`` then checks the answer's contents, untimed.
    """
    if INSTRUMENT == "playwright":
        t0 = time.perf_counter()
        action()
        until()
        return time.perf_counter() - t0
    page.evaluate(PAGE_CLOCK)
    since = float(page.evaluate("performance.now()"))
    action()
    seconds = float(page.evaluate(PAGE_SETTLED, [QUIET_MS, since]))
    until()
    if seconds != seconds:   # NaN: the page never settled
        raise RuntimeError("the page did not settle within 120 s")
    return seconds


def pick_dataset(page: Any, name: str) -> None:
    """Open the sidebar's dataset box and pick ``name``; a list closed by a rerun before
    the pick (the box is drawn anew) is opened again."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    for attempt in range(3):
        box.click()
        try:
            page.get_by_role("option", name=name, exact=True).click(
                timeout=5_000 if attempt < 2 else LONG)
            return
        except Exception:        # Playwright's TimeoutError: open the list again
            if attempt == 2:
                raise


def switch_away(page: Any, expect: Any) -> None:
    """Open another dataset (retried: a switch the app drops is retried, not timed)."""
    for _ in range(3):
        pick_dataset(page, OTHER)
        idle(page, expect)
        if page.get_by_role("heading", name=SEED).count() == 0:
            return
    raise RuntimeError(f"the app did not switch to {OTHER}")


def set_cap(page: Any, rule: str, value: int, expect: Any) -> None:
    page.get_by_role("tab", name="Edit").click()
    idle(page, expect)
    # exact: the DPRK cap's text (its toggle's label) also says "cap".
    cap = page.locator(f".st-key-rule-{rule}").get_by_label("Cap", exact=True)
    cap.fill(str(value))
    cap.press("Enter")
    idle(page, expect)


def solve_click(page: Any) -> None:
    page.get_by_role("button", name="Solve", exact=True).click()


def roadmap_tab(page: Any, expect: Any) -> None:
    page.get_by_role("tab", name="Roadmap").click()
    idle(page, expect)


def roadmap_open(page: Any, expect: Any) -> None:
    expect(page.get_by_role("tab", name="Roadmap")).to_have_attribute(
        "aria-selected", "true", timeout=LONG)


def measure(url: str, out: dict[str, list[float]]) -> dict[str, list[float]]:
    """Fill ``out`` as it goes, so that a failure keeps what was measured."""
    from playwright.sync_api import expect, sync_playwright

    out.update({"first page": [], "dataset switch": [], "re-solve": [], "save": [],
                "apply a correction": []})
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(LONG)
        # No page clock before the page exists: the first page is timed from the call.
        t0 = time.perf_counter()
        page.goto(url)
        expect(page.get_by_role("heading", name=SEED)).to_be_visible(timeout=LONG)
        drawn(page, expect)
        out["first page"].append(time.perf_counter() - t0)
        try:
            _actions(page, expect, out)
        except Exception:
            page.screenshot(path=FAILURE_PNG)
            raise
        browser.close()
    return out


FAILURE_PNG = "/tmp/ui_latency_failure.png"
ONLY = os.environ.get("UI_LATENCY_ONLY", "")


def want(name: str) -> bool:
    """UI_LATENCY_ONLY='re-solve,save' measures only those actions."""
    return not ONLY or name in ONLY.split(",")


def _actions(page: Any, expect: Any, out: dict[str, list[float]]) -> None:
    def seed_drawn() -> None:
        expect(page.get_by_role("heading", name=SEED)).to_be_visible(timeout=LONG)
        drawn(page, expect)

    for _ in range(REPEATS if want("dataset switch") else 0):
        switch_away(page, expect)
        roadmap_tab(page, expect)
        drawn(page, expect)
        out["dataset switch"].append(timed(lambda: pick_dataset(page, "us_dprk_2018"),
                                           seed_drawn, page))
    if True:
        for k in range(REPEATS if want("re-solve") else 0):
            set_cap(page, "us_exposure_cap", 9 + k, expect)

            def then() -> None:
                # Solve opens the Roadmap tab itself: no second click.
                roadmap_open(page, expect)
                drawn(page, expect)

            out["re-solve"].append(timed(lambda: solve_click(page), then, page))
        roadmap_tab(page, expect)
        for k in range(REPEATS if want("save") else 0):
            box = page.get_by_label("Save this roadmap for comparison as", exact=True)
            box.fill(f"bench {k}")
            box.press("Enter")
            idle(page, expect)
            out["save"].append(timed(
                lambda: page.get_by_role("button", name="Save run").click(),
                lambda k=k: (expect(page.get_by_text(f"Saved run 'bench {k}'")).to_be_visible(),
                             idle(page, expect)), page))
        if want("apply a correction"):
            # The conflict explainer's budget is the time limit: 30 s, as in the browser test.
            limit = page.get_by_label("Time limit (s)")
            limit.fill("30")
            limit.press("Enter")
            idle(page, expect)
        for _ in range(REPEATS if want("apply a correction") else 0):
            reset = page.get_by_role("button", name="Reset edits")
            if reset.is_enabled():
                reset.click()
                idle(page, expect)
            set_cap(page, "us_exposure_cap", 7, expect)
            set_cap(page, "dprk_exposure_cap", 7, expect)
            solve_click(page)
            idle(page, expect)
            expect(page.locator('[data-testid="stProgress"]')).to_have_count(0, timeout=LONG)
            page.get_by_role("tab", name="Explain").click()
            idle(page, expect)
            # The cheapest correction's card (issue 14's Explain tab).
            apply = page.locator(".st-key-correction-0").get_by_role("button", name="Apply")
            expect(apply).to_be_visible(timeout=LONG)

            def applied() -> None:
                expect(page.get_by_text("Applied the correction")).to_be_visible(timeout=LONG)
                roadmap_open(page, expect)   # Apply opens it: no second click
                drawn(page, expect)

            out["apply a correction"].append(timed(lambda apply=apply: apply.click(), applied,
                                                   page))


def table(label: str, results: dict[str, list[float]]) -> str:
    lines = [f"### {label}", "", "| action | median (s) | min (s) | max (s) | n |",
             "|---|---:|---:|---:|---:|"]
    for name, xs in results.items():
        lines.append(f"| {name} | {statistics.median(xs):.2f} | {min(xs):.2f} | "
                     f"{max(xs):.2f} | {len(xs)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--repeats", type=int, default=REPEATS,
                        help="times each action is measured (5 for the record)")
    parser.add_argument("--instrument", choices=["page", "playwright"], default=INSTRUMENT,
                        help="page: the page's own clock, click to last change (default); "
                             "playwright: this script's clock until expect() sees the answer")
    args = parser.parse_args()
    globals()["REPEATS"] = args.repeats   # read by _actions
    globals()["INSTRUMENT"] = args.instrument   # read by timed
    partial: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(args.root.resolve(), Path(tmp) / "runs.sqlite")
        failure = ""
        try:
            results = measure(url, partial)
        except Exception as exc:   # report what was measured, and where it stopped
            results = partial
            failure = f"stopped early: {type(exc).__name__}: {str(exc).splitlines()[0]}\n"
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=20)
    text = table(args.label, {k: v for k, v in results.items() if v}) + failure
    print(text)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
