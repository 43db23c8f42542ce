"""Where one Streamlit rerun of the app spends its time, outside the solver.

Runs the app in ``streamlit.testing.v1.AppTest`` on a scenario (default the
seed, us_dprk_2018), waits for the first solve, then times ``REPEATS`` plain
reruns with each tab open in turn (no solve: the result comes from the
state). Each part of the page is timed with ``time.perf_counter`` around its
render function (sidebar, every tab), and the whole rerun around
``AppTest.run()``; with ``--profile`` one rerun is also run under cProfile and
its top functions printed.

    python benchmarks/rerun_profile.py [--scenario us_dprk_2018] [--repeats 5]
                                      [--label after] [--out FILE] [--profile]

AppTest runs the script in-process without a browser: it measures the
script's own work (building widgets and chart specs), not the network or the
browser's drawing, which ``benchmarks/ui_latency.py`` adds.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "ui" / "app.py"
WAIT_S = 120.0

# (module, function) of every part of the page, as ui/app.py calls them.
PARTS = [("ui.sidebar", "render", "sidebar"), ("ui.views.roadmap", "roadmap_tab", "Roadmap"),
         ("ui.editing", "edit_tab", "Edit"), ("ui.views.explain", "explain_tab", "Explain"),
         ("ui.views.compare", "compare_tab", "Compare")]


# The script runs in AppTest's own thread: cProfile is switched on inside each
# part (in that thread) while PROFILE["on"] is set.
PROFILE: dict[str, Any] = {"on": False, "prof": cProfile.Profile()}


def _wrap(times: dict[str, list[float]], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        if PROFILE["on"]:
            PROFILE["prof"].enable()
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            times[name].append(time.perf_counter() - t0)
            if PROFILE["on"]:
                PROFILE["prof"].disable()
    return timed


def settle(at: Any) -> None:
    at.run()
    for _ in range(5):
        job = at.session_state.get("rm_job", None)
        if job is None:
            break
        job.handle.result(WAIT_S)
        at.run()
    if at.exception:
        raise RuntimeError([e.value for e in at.exception])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="us_dprk_2018")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-tab", default="Roadmap", help="the tab open when profiling")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ["ROADMAP_UI_SCENARIO"] = args.scenario
    import importlib

    from streamlit.testing.v1 import AppTest

    times: dict[str, list[float]] = defaultdict(list)
    for module, func, name in PARTS:
        mod = importlib.import_module(module)
        if hasattr(mod, func):
            setattr(mod, func, _wrap(times, name, getattr(mod, func)))
    at = AppTest.from_file(str(APP), default_timeout=WAIT_S)
    at.run()
    at.number_input(key="opt_workers").set_value(1)
    settle(at)
    tabs = ["Roadmap", "Edit", "Explain", "Compare"]
    rows = []
    for tab in tabs:
        at.session_state["main_tabs"] = tab
        at.run()            # the tab switch itself; not counted
        times.clear()
        total = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            at.run()
            total.append(time.perf_counter() - t0)
        parts = {name: statistics.median(times[name]) if times[name] else 0.0
                 for _, _, name in PARTS}
        rows.append((tab, statistics.median(total), parts))
    load = os.getloadavg()[0]
    lines = [f"### {args.label}", "",
             f"{args.scenario}, AppTest, median of {args.repeats} plain reruns per open tab "
             f"(load average {load:.1f}); seconds", "",
             "| open tab | whole rerun | " + " | ".join(n for _, _, n in PARTS) + " |",
             "|---|---:|" + "---:|" * len(PARTS)]
    for tab, whole, parts in rows:
        lines.append(f"| {tab} | {whole:.3f} | "
                     + " | ".join(f"{parts[n]:.3f}" for _, _, n in PARTS) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.profile:
        at.session_state["main_tabs"] = args.profile_tab
        at.run()
        PROFILE["on"] = True
        at.run()
        PROFILE["on"] = False
        buf = io.StringIO()
        pstats.Stats(PROFILE["prof"], stream=buf).sort_stats("cumulative").print_stats(45)
        print(buf.getvalue())
    if args.out:
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
