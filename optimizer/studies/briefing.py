"""The briefing: what a decision-maker reads about one roadmap, as HTML or PDF.

Page 1 is a summary readable in two minutes — the roadmap phase by phase in
words, each side's gains and risk, the headline figures with their units,
the main risks. Then the exchange view and the exposure chart (SVG, rendered
offline by vl-convert), what each side gives and receives per phase, the
rules that hold the roadmap in place, and every source the scenario cites.

The content is built once (:func:`briefing`) as plain data, then rendered
(:func:`render_html`); :func:`html_to_pdf` prints the HTML with headless
Chromium. Why Chromium and not a PDF library: no maintained HTML-to-PDF
library is installed (WeasyPrint would add a dependency and Pango), while
Chromium is (the browser tests use it); it lays out exactly the HTML and
inline SVG of the HTML briefing, named landscape/portrait pages included,
and prints the seed's eight pages in 3.3-3.9 s on the shared 2-core test
machine under load (two runs of ``html_to_pdf``), well inside a click.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models import Result, Scenario
from models.calendar import label as cal_label
from models.result import METRIC_NAMES
from optimizer.explain.defection import defection_report
from optimizer.model.derived import derive_all
from optimizer.studies import charts
from optimizer.studies.briefing_extra import (
    STRESS_SAMPLES,
    STRESS_SEED,
    CorrectionsSection,
    StressSection,
    corrections_section,
    pct,
    stress_section,
)
from optimizer.studies.glossary import GLOSSARY, METRIC_TERMS, metric_unit

CHROMIUM = os.environ.get("ROADMAP_CHROMIUM", "/usr/bin/chromium")
STATUS_WORDS = {
    "optimal": "an optimal roadmap: no better one exists under these rules and priorities",
    "feasible": "a workable roadmap, the best found in the time allowed (not proven best)",
    "infeasible": "no roadmap satisfies every rule",
    "unknown": "no roadmap was found in the time allowed",
}


@dataclass
class Side:
    party: str
    name: str
    gives: int              # steps it takes
    value_given: int        # value points its steps give the others
    value_received: int     # value points it receives from the others' steps
    peak: int               # its peak exposure (value points)
    worst: str              # when and why it is most exposed, in words
    cap: int | None


@dataclass
class Briefing:
    title: str
    description: str
    status: str
    headline: list[tuple[str, str, str]]      # (figure, value with unit, what it means)
    phases: list[dict[str, Any]]              # from charts.gives_and_receives
    sides: list[Side]
    risks: list[str]
    binding: list[str]
    left_out: list[str]
    sources: list[str]
    charts_svg: dict[str, str] = field(default_factory=dict)
    stress: StressSection | None = None            # solved roadmaps
    corrections: CorrectionsSection | None = None  # infeasible scenarios


def _received(sc: Scenario, result: Result, party: str) -> int:
    total = 0
    for e in result.schedule:
        if not e.present or e.party == party:
            continue
        v = sc.concession(e.id).value
        total += v if isinstance(v, int) else int(v.get(party, 0))
    return total


def _sides(sc: Scenario, result: Result) -> list[Side]:
    derived = derive_all(sc)
    worst = {w.party: w for w in defection_report(sc, result)}
    caps = charts.exposure_caps(sc)
    names = {p.id: p.name or p.id for p in sc.parties}
    titles = {c.id: c.label for c in sc.concessions}
    out = []
    for p in sc.principal_ids:
        mine = [e for e in result.schedule if e.present and e.party == p]
        w = worst.get(p)
        if w is None or w.worst_time is None or w.worst_level <= 0:
            text = "never exposed: what it has received always covers what it has risked"
            peak = 0
        else:
            peak = w.worst_level
            after = [titles.get(c, c) for c in w.after]
            steps = "; ".join(after[:2]) + (f" and {len(after) - 2} more" if len(after) > 2
                                            else "") if after else "a verification lapse"
            text = (f"most exposed at {charts.when(sc, w.worst_time)}, {peak} value points "
                    f"at risk, after starting: {steps}")
        out.append(Side(p, names.get(p, p), len(mine),
                        sum(derived[e.id].total_value for e in mine),
                        _received(sc, result, p), peak, text, caps.get(p)))
    return out


def _headline(sc: Scenario, result: Result) -> list[tuple[str, str, str]]:
    m = result.metrics
    if m is None:
        return []
    rows = []
    for name in METRIC_NAMES:
        value = getattr(m, name)
        unit = metric_unit(sc, name)
        text = f"{value} {unit}"
        if name == "makespan" and cal_label(sc, value):
            text += f" (ends {cal_label(sc, value)})"
        rows.append((METRIC_TERMS[name], text, GLOSSARY[METRIC_TERMS[name]]))
    return rows


def _risks(sc: Scenario, result: Result, sides: list[Side]) -> list[str]:
    out = []
    for s in sorted(sides, key=lambda s: -s.peak):
        if s.peak <= 0:
            continue
        cap = f" (cap {s.cap})" if s.cap is not None else " (no cap)"
        out.append(f"{s.name}: {s.worst}{cap}.")
    irreversible = [sc.concession(e.id).label for e in result.schedule if e.present and
                    sc.concession(e.id).reversibility == "irreversible" and
                    sc.concession(e.id).verification in ("none", "declaration")]
    if irreversible:
        # After the two most exposed sides: page 1 keeps the first three risks.
        out.insert(min(2, len(out)), "Irreversible steps whose verification is weak "
                   "(declaration or none): " + "; ".join(irreversible) + ".")
    return out


def _binding(sc: Scenario, result: Result) -> list[str]:
    from optimizer.explain.binding import tight_elements

    try:
        tight = tight_elements(sc, result)
    except Exception:   # an analysis failure must not cost the briefing
        return []
    seen: dict[str, str] = {}
    for t in tight:
        seen.setdefault(t.element, t.detail)
    return list(seen.values())


def _sources(sc: Scenario) -> list[str]:
    out = list(dict.fromkeys(sc.sources))
    for c in sc.concessions:
        for s in c.sources:
            if s not in out and not any(s == o.split(":")[0] for o in out):
                out.append(s)
    return out


def briefing(sc: Scenario, result: Result, *, with_charts: bool = True,
             samples: int = STRESS_SAMPLES, seed: int = STRESS_SEED,
             corrections: Any = None, time_limit_s: float = 30.0,
             workers: int = 1) -> Briefing:
    """The briefing's content for one scenario and its result.

    A solved roadmap is stress-tested (``samples`` realisations, ``seed``;
    ``samples=0`` leaves the section out). An infeasible scenario gets its
    cheapest corrections: ``corrections`` may pass an ``Explanation`` (or
    anything with ``corrections`` and ``bills``) already computed; otherwise
    they are searched within ``time_limit_s``.
    """
    sides = _sides(sc, result) if result.solved else []
    brief = Briefing(
        title=sc.name, description=sc.description, status=STATUS_WORDS[result.status],
        headline=_headline(sc, result),
        phases=charts.gives_and_receives(sc, result) if result.solved else [],
        sides=sides, risks=_risks(sc, result, sides) if result.solved else [],
        binding=_binding(sc, result) if result.solved else [],
        left_out=[sc.concession(e.id).label for e in result.schedule if not e.present],
        sources=_sources(sc),
        stress=stress_section(sc, result, samples, seed),
        corrections=corrections_section(
            sc, result, found=getattr(corrections, "corrections", None),
            bills=getattr(corrections, "bills", None), time_limit_s=time_limit_s,
            workers=workers))
    if with_charts and result.solved:
        brief.charts_svg = {
            "exchange": charts.to_svg(charts.gantt(sc, result, width=560)),
            "exposure": charts.to_svg(charts.exposure_chart(sc, result, width=900,
                                                            height=220)),
        }
    return brief


# --------------------------------------------------------------------------
# Rendering
CSS = """
@page { size: A4; margin: 12mm 13mm; }
@page wide { size: A4 landscape; margin: 10mm 10mm; }
.wide { page: wide; }
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 9.5pt; color: #111827;
       line-height: 1.35; max-width: 1000px; margin: auto; }
h1 { font-size: 17pt; margin: 0 0 2mm; } h2 { font-size: 12.5pt; margin: 5mm 0 2mm;
  border-bottom: 1px solid #d1d5db; } h3 { font-size: 10.5pt; margin: 3mm 0 1mm; }
.status { font-weight: bold; } .muted { color: #4b5563; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #e5e7eb;
  padding: 1.2mm 2mm; text-align: left; vertical-align: top; }
.page { page-break-after: always; } .chart svg { max-width: 100%; height: auto; }
.wide .chart svg { max-height: 165mm; width: auto; }
.page:not(.wide) .chart svg { width: 100%; max-height: 255mm; }
.phase { margin-bottom: 2mm; } .lead { font-size: 11pt; }
dt { font-weight: bold; } dd { margin: 0 0 1.5mm 4mm; }
"""


def _e(text: object) -> str:
    return html.escape(str(text))


SUMMARY_STEPS = 2
MAIN_RISKS = 3


def _few(titles: list[str]) -> str:
    """The first few titles and how many more: page 1 must read in two minutes."""
    if not titles:
        return "nothing"
    head = "; ".join(titles[:SUMMARY_STEPS])
    more = len(titles) - SUMMARY_STEPS
    return head + (f" and {more} more" if more > 0 else "")


def _phase_words(phase: dict[str, Any]) -> str:
    parts = []
    for side in phase["sides"]:
        if side["gives"]:
            n = len(side["gives"])
            parts.append(f"<b>{_e(side['name'])}</b> gives {n} step{'s' if n > 1 else ''}: "
                         f"{_e(_few(side['gives']))}.")
    return " ".join(parts) or "no steps."


def render_html(b: Briefing) -> str:
    """One self-contained HTML page (inline CSS and SVG; prints to PDF as is)."""
    h: list[str] = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                    f"<title>Briefing: {_e(b.title)}</title><style>{CSS}</style></head><body>"]
    h.append("<section class='page'>")
    h.append(f"<h1>Briefing: {_e(b.title)}</h1>")
    h.append(f"<p class='status'>The result: {_e(b.status)}.</p>")
    if b.phases:
        h.append("<h2>The roadmap, phase by phase</h2>")
        for ph in b.phases:
            h.append(f"<div class='phase'><b>{ph['number']}. {_e(ph['phase'])}</b> "
                     f"<span class='muted'>({_e(ph['window'])})</span>: {_phase_words(ph)}"
                     "</div>")
    if b.sides:
        h.append("<h2>Each side: what it gives, gets and risks</h2><table>"
                 "<tr><th>Side</th><th>Steps</th><th>Gives (value points)</th>"
                 "<th>Receives (value points)</th><th>Peak exposure (value points)</th></tr>")
        for s in b.sides:
            h.append(f"<tr><td>{_e(s.name)}</td><td>{s.gives}</td><td>{s.value_given}</td>"
                     f"<td>{s.value_received}</td><td>{s.peak}"
                     f"{f' (cap {s.cap})' if s.cap is not None else ''}</td></tr>")
        h.append("</table>")
    if b.headline:
        h.append("<h2>Headline figures</h2><p>" + " · ".join(
            f"<b>{_e(name)}</b>: {_e(value)}" for name, value, _ in b.headline)
            + " <span class='muted'>(terms defined on the last page)</span></p>")
    if b.corrections is not None:
        h.append(_corrections_summary(b.corrections))
    if b.risks or b.stress is not None:
        h.append("<h2>Main risks</h2><ul>" + "".join(
            f"<li>{_e(r)}</li>" for r in b.risks[:MAIN_RISKS])
            + (f"<li>{_e(b.stress.headline)} <span class='muted'>(details on the stress-test "
               "page)</span></li>" if b.stress is not None else "") + "</ul>")
    if b.left_out:
        h.append("<p><b>Left out (optional steps):</b> " + _e("; ".join(b.left_out)) + "</p>")
    h.append("</section>")
    if b.charts_svg:
        h.append("<section class='page'><h2>The exchange: every side on one timeline</h2>")
        h.append(f"<div class='chart'>{b.charts_svg['exchange']}</div></section>")
        h.append("<section class='page wide'><h2>Exposure: who could lose what, when</h2>")
        h.append(f"<p>{_e(GLOSSARY['Exposure'])}</p>")
        h.append(f"<div class='chart'>{b.charts_svg['exposure']}</div>")
        h.append("<h2>What each side gives and receives, phase by phase</h2>")
        for ph in b.phases:
            h.append(f"<h3>{ph['number']}. {_e(ph['phase'])} "
                     f"<span class='muted'>({_e(ph['window'])})</span></h3><table>")
            for side in ph["sides"]:
                h.append(f"<tr><td><b>{_e(side['name'])}</b></td><td>gives: "
                         f"{_e('; '.join(side['gives']) or 'nothing')}</td><td>receives: "
                         f"{_e('; '.join(side['receives']) or 'nothing')}</td></tr>")
            h.append("</table>")
        h.append("</section>")
    if b.stress is not None:
        h.append(_stress_page(b.stress))
    if b.corrections is not None and len(b.corrections.sentences) > 1:
        h.append(_corrections_page(b.corrections))
    h.append("<section>")
    if b.binding:
        h.append("<h2>The rules that hold this roadmap in place</h2><ul>"
                 + "".join(f"<li>{_e(x)}</li>" for x in b.binding) + "</ul>")
    h.append("<h2>Terms</h2><dl>" + "".join(
        f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in GLOSSARY.items()) + "</dl>")
    if b.description:
        h.append(f"<h2>About this scenario</h2><p>{_e(b.description)}</p>")
    h.append("<h2>Sources</h2><ol>" + "".join(f"<li>{_e(s)}</li>" for s in b.sources)
             + "</ol>" if b.sources else "<h2>Sources</h2><p>The scenario cites none.</p>")
    h.append("</section></body></html>")
    return "".join(h)


def _corrections_summary(c: CorrectionsSection) -> str:
    """Page 1 of an infeasible scenario: what it would take, cheapest first."""
    h = ["<h2>What it would take: the cheapest correction</h2>"]
    if not c.sentences:
        h.append("<p>No correction was found" + (" before the search was stopped."
                 if c.stopped else " within the time allowed and the positions allowed to "
                 "change.") + "</p>")
    else:
        h.append(f"<p class='lead'>{_e(c.sentences[0])}</p>")
        if len(c.sentences) > 1:
            h.append(f"<p class='muted'>{len(c.sentences) - 1} other correction"
                     f"{'s' if len(c.sentences) > 2 else ''} (costs "
                     + ", ".join(str(x) for x in c.costs[1:])
                     + ") on the next page. Costs, unless the scenario prices a position "
                     "otherwise: 10 for each position changed plus 1 per unit moved; 30 to "
                     "switch a rule off; 10 plus its value to make a step optional.</p>")
    if c.conflict:
        h.append(f"<h2>Why no roadmap exists</h2><p>These positions cannot all hold: "
                 f"{_e(c.conflict)}.</p>")
    return "".join(h)


def _corrections_page(c: CorrectionsSection) -> str:
    rows = "".join(f"<tr><td>{n}</td><td>{cost}</td><td>{_e(text)}</td></tr>"
                   for n, (cost, text) in enumerate(zip(c.costs, c.sentences, strict=True),
                                                    start=1))
    return ("<section class='page'><h2>Corrections, cheapest first</h2>"
            "<p>Each is a set of changes after which a roadmap exists, checked by solving the "
            "corrected scenario; none can be made smaller. The same search as "
            "<code>roadmap explain</code>.</p><table><tr><th>#</th><th>Cost</th>"
            f"<th>The changes, who is asked, and the roadmap they give</th></tr>{rows}</table>"
            "</section>")


def _stress_page(s: StressSection) -> str:
    # No page break after it: the binding rules follow on the same page.
    h = ["<section><h2>Stress test: what if steps slip and checks fail</h2>"]
    if s.described:
        h.append(f"<p>{s.samples:,} random realisations of this roadmap (seed {s.seed}; "
                 f"<code>roadmap stress SCENARIO --samples {s.samples} --seed {s.seed}</code> "
                 "gives the same figures). Each keeps the roadmap's order: a step that slips "
                 "pushes what waits on it; a verification may come late or never. "
                 + (f"The scenario's assumptions: {_e(s.about)}" if s.about else "") + "</p>")
    else:
        h.append(f"<p>The scenario describes no uncertainty (no <code>uncertainty</code> "
                 f"section): each of the {s.samples:,} realisations (seed {s.seed}) is the "
                 "plan itself.</p>")
    h.append("<h3>When it ends</h3><table>" + "".join(
        f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in s.finish) + "</table>")
    if s.caps:
        h.append("<h3>Exposure caps: how often each is exceeded</h3><table><tr><th>Cap on"
                 "</th><th>Cap (value points)</th><th>Exceeded in</th></tr>" + "".join(
                     f"<tr><td>{_e(owner)}</td><td>{cap}</td><td>{pct(p)}</td></tr>"
                     for owner, cap, p in s.caps) + "</table>")
    if s.peaks:
        h.append("<h3>Peak exposure of each side (value points)</h3><table><tr><th>Side</th>"
                 "<th>P50</th><th>P80</th><th>P95</th><th>Cap</th></tr>" + "".join(
                     f"<tr><td>{_e(name)}</td><td>{pk['p50']}</td><td>{pk['p80']}</td>"
                     f"<td>{pk['p95']}</td><td>{'—' if cap is None else cap}</td></tr>"
                     for name, pk, cap in s.peaks) + "</table>")
    if s.drivers:
        h.append("<h3>What drives it</h3><p class='muted'>The steps whose slips move the "
                 "outcome most (Spearman rank correlation over the samples; +1: a longer "
                 "slip always means a later finish or a higher peak).</p><ol>"
                 + "".join(f"<li>{_e(d[0].upper() + d[1:])}</li>" for d in s.drivers)
                 + "</ol>")
    if s.broken:
        h.append("<h3>Timing rules most often broken</h3><table>" + "".join(
            f"<tr><td>{_e(rule)}</td><td>{pct(p)}</td></tr>" for rule, p in s.broken)
            + "</table>")
    h.append("</section>")
    return "".join(h)


class BriefingError(RuntimeError):
    """The PDF could not be printed (no Chromium, or it failed)."""


def html_to_pdf(page: str, out: Path, *, timeout_s: float = 120.0) -> None:
    """Print ``page`` to ``out`` with headless Chromium (written atomically)."""
    exe = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not exe:
        raise BriefingError("PDF needs Chromium (/usr/bin/chromium); write .html instead")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "brief.html"
        src.write_text(page, encoding="utf-8")
        pdf = Path(tmp) / "brief.pdf"
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--no-pdf-header-footer", f"--user-data-dir={tmp}/profile",
               f"--print-to-pdf={pdf}", src.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise BriefingError(f"Chromium did not print within {timeout_s:.0f} s") from None
        if proc.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise BriefingError(f"Chromium failed to print the PDF: {tail[0]}")
        tmp_out = out.with_name(out.name + ".part")
        shutil.copyfile(pdf, tmp_out)
        os.replace(tmp_out, out)
