"""Click-to-card latency of the app's Explain tab on the seed (issue 14's done-when).

Starts the app (``--root``, default this checkout) with Playwright and
headless Chromium, and for each DPRK cap in ``--caps`` (3 first: the
done-when case; each value a new scenario, so neither the solve nor the
explanation comes from a cache): sets the cap in the Edit tab, presses
Solve (which opens the Roadmap tab), opens the Explain tab once the Roadmap
tab says there is no roadmap, and times from Solve until the first
correction card is on the page; then presses Stop and times until "Stopped:" shows. The
engine's own figure (from the job's start to the poll that saw the first
correction) is read from the page once the job has ended. The load average
is recorded before and after, since the machine is shared.

    python -m benchmarks.explain_app [--caps 3,4,5,2,6] [--out benchmarks/results/explain-app.md]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.ui_latency import CHROMIUM, LONG, SEED, drawn, idle, set_cap, start_server

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]


def run(url: str, caps: list[int]) -> list[dict[str, Any]]:
    from playwright.sync_api import expect, sync_playwright

    rows: list[dict[str, Any]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(LONG)
        page.goto(url)
        expect(page.get_by_role("heading", name=SEED)).to_be_visible(timeout=LONG)
        drawn(page, expect)
        for cap in caps:
            set_cap(page, "dprk_exposure_cap", cap, expect)
            card = page.locator(".st-key-correction-0")
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            page.get_by_role("button", name="Solve", exact=True).click()
            # Solve opens the Roadmap tab ("No roadmap satisfies every rule — see the
            # Explain tab"); the planner then opens the Explain tab: timed too.
            expect(page.get_by_text("No roadmap satisfies every rule")).to_be_visible(
                timeout=LONG)
            page.get_by_role("tab", name="Explain").click()
            expect(card).to_be_visible(timeout=LONG)
            t_card = time.perf_counter() - t0
            head = card.locator("h5").inner_text()
            stop = page.get_by_role("button", name="Stop")
            t_stop = None
            if stop.count():
                t1 = time.perf_counter()
                stop.click()
                expect(page.get_by_text("Stopped:")).to_be_visible(timeout=LONG)
                t_stop = time.perf_counter() - t1
            idle(page, expect)
            caption = page.get_by_text("first correction after").first
            engine = None
            if caption.count():
                m = re.search(r"first correction after ([\d.]+) s", caption.inner_text())
                engine = float(m.group(1)) if m else None
            rows.append({"cap": cap, "card_s": t_card, "stop_s": t_stop, "engine_s": engine,
                         "head": head, "load": load})
            print(rows[-1], flush=True)
        browser.close()
    return rows


def table(rows: list[dict[str, Any]], load_before: tuple[float, float, float],
          load_after: tuple[float, float, float]) -> str:
    def f(x: float | None) -> str:
        return "—" if x is None else f"{x:.2f}"

    lines = ["| DPRK cap | click Solve → first card (s) | engine: job start → first card "
             "polled (s) | Stop → 'Stopped:' shown (s) | load (1 min) | first card |",
             "|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['cap']} | {f(r['card_s'])} | {f(r['engine_s'])} | "
                     f"{f(r['stop_s'])} | {r['load']:.1f} | {r['head']} |")
    cards = [r["card_s"] for r in rows]
    lines += ["", f"Median click → card {statistics.median(cards):.2f} s (min {min(cards):.2f}, "
              f"max {max(cards):.2f}); load average before "
              f"{', '.join(f'{x:.1f}' for x in load_before)}, after "
              f"{', '.join(f'{x:.1f}' for x in load_after)} (2 cores)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--caps", default="3,4,5,2,6")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    caps = [int(x) for x in args.caps.split(",")]
    before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(args.root.resolve(), Path(tmp) / "runs.sqlite")
        try:
            rows = run(url, caps)
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=20)
    text = table(rows, before, os.getloadavg())
    print(text)
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
