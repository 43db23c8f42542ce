"""How long the briefing takes, part by part: content (stress test or corrections), HTML, PDF.

Two cases: the seed (us_dprk_2018) solved once beforehand (as `roadmap report
--plan`), whose content includes the stress test (5,000 samples, seed 0); and
tests/ui/tiny_roadmap.yaml with its exposure cap at 3, infeasible, whose
content searches the corrections (one worker). Median of ``--repeats`` runs of
each part, seconds, with the load average; ``--out`` appends the table.

    python benchmarks/report_time.py [--repeats 3] [--label L] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from models import SolveOptions, load_scenario, parse_scenario
    from optimizer.api import solve
    from optimizer.studies.briefing import briefing, html_to_pdf, render_html

    seed = load_scenario("us_dprk_2018")
    data = load_scenario(str(ROOT / "tests" / "ui" / "tiny_roadmap.yaml")).model_dump(
        mode="json", by_alias=True)
    data["rules"][2]["max"] = 3
    tiny = parse_scenario(data, "tiny-cap3")
    cases = [("seed, optimal (stress test)", seed), ("tiny cap 3, infeasible (corrections)",
                                                    tiny)]
    rows = []
    for name, sc in cases:
        result = solve(sc, SolveOptions(workers=1, time_limit_s=30))
        parts: dict[str, list[float]] = {"content": [], "html": [], "pdf": [], "total": []}
        for _ in range(args.repeats):
            t_content, b = _timed(lambda sc=sc, result=result: briefing(
                sc, result, workers=1, time_limit_s=30))
            t_html, page = _timed(lambda b=b: render_html(b))
            with tempfile.TemporaryDirectory() as tmp:
                t_pdf, _ = _timed(lambda page=page, tmp=tmp: html_to_pdf(
                    page, Path(tmp) / "b.pdf"))
            for key, t in (("content", t_content), ("html", t_html), ("pdf", t_pdf),
                           ("total", t_content + t_html + t_pdf)):
                parts[key].append(t)
        rows.append((name, {k: statistics.median(v) for k, v in parts.items()}))
    lines = [f"### {args.label}", "",
             f"median of {args.repeats}, seconds (load average {os.getloadavg()[0]:.1f})", "",
             "| case | content | HTML | PDF (Chromium) | total |", "|---|---:|---:|---:|---:|"]
    for name, p in rows:
        lines.append(f"| {name} | {p['content']:.2f} | {p['html']:.2f} | {p['pdf']:.2f} | "
                     f"{p['total']:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
