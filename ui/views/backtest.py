"""The Backtest view: what history did next to what the optimizer proposes.

``render_backtest(scenario)`` draws, for a scenario with an ``observed:``
section: the five metrics side by side, both sets of exposure curves on
shared axes, how far the two orderings agree, and the verdict of every rule
on the historical schedule. The backtest solves once per scenario content
(keyed by its SHA-256) and keeps the outcome in the session.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from models import Scenario, ScenarioError, SolveOptions
from models.canonical import solve_key
from optimizer.studies.backtest import Backtest, backtest
from ui.charts import draw_panels, exposure_panels, spec

STATE_KEY = "backtest_results"
TIME_LIMIT_S = 30.0
HISTORY, OPTIMIZER = "history", "optimizer"
VERDICT_ICON = {"held": "✅ held", "derived from history": "🔁 derived from history",
                "broken": "❌ broken", "vacuous": "➖ not applicable"}


def metrics_frame(bt: Backtest) -> pd.DataFrame:
    rows = [{"metric": name, HISTORY: obs, OPTIMIZER: opt,
             "difference": None if opt is None else opt - obs}
            for name, obs, opt in bt.metrics_rows()]
    return pd.DataFrame(rows).astype({"difference": "Int64", OPTIMIZER: "Int64"})


def rules_frame(bt: Backtest) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for v in bt.rules:
        rows.append({
            "rule": v.id,
            "kind": v.kind,
            "tags": ", ".join(v.tags),
            "agreement": "agreement" in v.tags,
            "verdict": VERDICT_ICON[v.verdict] + ("" if v.enabled else " (disabled)"),
            "detail": "; ".join(v.violations) or (v.text or ""),
        })
    return pd.DataFrame(rows)


def tags_frame(bt: Backtest) -> pd.DataFrame:
    rows = [{"tag": tag, "held": g["held"], "derived from history": g["derived from history"],
             "broken": g["broken"], "not applicable": g["vacuous"],
             "broken rules": ", ".join(g["broken_rules"])} for tag, g in bt.tags.items()]
    return pd.DataFrame(rows)


def has_history(scenario: Scenario) -> bool:
    """True when the scenario records a historical schedule (an ``observed:`` section)."""
    return scenario.observed is not None and bool(scenario.observed.schedule)


def _key(scenario: Scenario, options: SolveOptions | None) -> str:
    return solve_key(scenario, "" if options is None else options)


def _run(scenario: Scenario, options: SolveOptions | None) -> Backtest | str:
    key = _key(scenario, options)
    store: dict[str, Backtest | str] = st.session_state.setdefault(STATE_KEY, {})
    if key not in store:
        with st.spinner("Solving the scenario for the backtest…"):
            try:
                store[key] = backtest(scenario, options or SolveOptions(time_limit_s=TIME_LIMIT_S))
            except ScenarioError as exc:
                store[key] = str(exc)
    return store[key]


def render_backtest(scenario: Scenario, options: SolveOptions | None = None) -> None:
    """Draw the backtest of ``scenario`` (a note when it records no history).

    ``options`` are the solve options of the optimizer's side (the app passes
    its sidebar's); without them, a 30-second limit and the default workers.
    """
    st.subheader("Backtest against history")
    if not has_history(scenario):
        st.info("This scenario records no historical schedule (no `observed:` section), "
                "so there is nothing to backtest. The historical datasets "
                "(agreed_framework_1994, jcpoa_2015, six_party_2007) have one.")
        return
    outcome = _run(scenario, options)
    if isinstance(outcome, str):
        st.error(outcome)
        return
    bt = outcome
    if scenario.observed is not None and scenario.observed.source:
        st.caption(f"History: {scenario.observed.source}")
    held = bt.agreement_held
    st.markdown(("✅ The historical schedule keeps every rule tagged **agreement**."
                 if held else "❌ The historical schedule breaks a rule tagged **agreement**.")
                + f" Optimizer: **{bt.optimized.status}**.")

    st.markdown("**Metrics**")
    st.dataframe(metrics_frame(bt), hide_index=True, width="stretch")

    st.markdown("**Exposure over time** (what each party would lose if the others walked away)")
    runs = {HISTORY: (scenario, bt.observed)}
    if bt.optimized.solved:
        runs[OPTIMIZER] = (scenario, bt.optimized)
    # A panel per party, each fitting its column (ui.charts.exposure_panels).
    draw_panels([spec(c) for c in exposure_panels(runs)], "history-exposure")

    st.markdown("**Ordering agreement**")
    o = bt.ordering
    if o is None:
        st.write("The optimizer found no roadmap, so there is no ordering to compare.")
    else:
        c1, c2, c3 = st.columns(3)
        c1.metric("Historical precedence pairs kept",
                  "—" if o.share is None else f"{100 * o.share:.0f}%",
                  help=f"{o.same_order} of {o.precedence_pairs} pairs (i finished before j "
                       "started in history) are in the same order in the optimizer's roadmap.")
        c2.metric("Kendall tau-b of start times", "—" if o.tau_b is None else f"{o.tau_b:.2f}",
                  help=f"Over the {o.common} concessions present in both schedules: "
                       f"{o.concordant} concordant, {o.discordant} discordant pairs.")
        c3.metric("Concessions in both", o.common)
        if o.reversed_pairs:
            labels = {c.id: c.label for c in scenario.concessions}
            st.dataframe(pd.DataFrame([{"history: first": labels[a], "then": labels[b]}
                                       for a, b in o.reversed_pairs]),
                         hide_index=True, width="stretch")

    st.markdown("**Rules on the historical schedule**")
    st.dataframe(rules_frame(bt), hide_index=True, width="stretch")
    st.dataframe(tags_frame(bt), hide_index=True, width="stretch")
    if bt.schedule_issues:
        st.markdown("**Where history departs from the scenario** (rules aside)")
        for issue in bt.schedule_issues:
            st.write(f"- {issue}")
    if st.button("Solve the backtest again", key="backtest_rerun"):
        st.session_state[STATE_KEY].pop(_key(scenario, options), None)
        st.rerun()
