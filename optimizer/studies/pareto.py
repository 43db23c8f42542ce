"""The trade-off curve of two metrics (e.g. speed against safety) by epsilon-constraint.

First minimise ``y`` (then ``x``) with no cap: the front's right end. Then,
stepping the cap down to one below the last point's ``x``, minimise ``y``
(then ``x``) subject to ``x <= cap``, until no schedule meets the cap. With
integer metrics and optimal solves this yields exactly the non-dominated
points, each with its schedule.

The cap is written into the scenario itself, so every point is an ordinary
roadmap/v1 scenario that the checker verifies and ``roadmap solve`` can
reproduce:

- ``peak_exposure <= cap``: an exposure rule over the principals (SPEC §5.1) with ``max: cap``;
- ``phase_imbalance <= cap``: a phase_balance rule over the principals with ``tolerance: cap``;
- ``makespan <= cap``: every concession's ``latest_end`` clamped to ``cap``; an optional
  concession that cannot fit by then is kept out by a precedence from its end to
  its own start (which no present concession can honour).

``weighted_completion`` and ``excluded_value`` have no such rule, so they may be
``y`` but not ``x``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.errors import ScenarioError
from models.loading import parse_scenario
from models.options import SolveOptions
from models.result import METRIC_NAMES, Result
from models.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

    from optimizer.studies.store import RunStore

CAPPABLE = ("makespan", "peak_exposure", "phase_imbalance")
MAX_POINTS = 500


@dataclass(frozen=True)
class ParetoPoint:
    x: int
    y: float                 # an integer metric, or a probability (breach_probability)
    cap: int | None          # the cap on x that produced it (None: uncapped); a lever's k
    status: str
    run_id: str | None
    result: Result
    scenario: Scenario
    label: str | None = None  # what produced it when not a cap (e.g. "buffer=4")


@dataclass
class ParetoFront:
    x: str
    y: str
    points: list[ParetoPoint] = field(default_factory=list)   # increasing x, decreasing y
    solves: int = 0

    @property
    def exact(self) -> bool:
        """True when every solve was proven optimal (the front is then exact)."""
        return all(p.status == "optimal" for p in self.points)

    def pairs(self) -> list[tuple[int, float]]:
        return [(p.x, p.y) for p in self.points]

    @property
    def labelled(self) -> bool:
        return any(p.label is not None for p in self.points)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        extra = ["label"] if self.labelled else []
        return pd.DataFrame([{self.x: p.x, self.y: p.y, "cap": p.cap, "status": p.status,
                              "run_id": p.run_id, **({"label": p.label} if extra else {})}
                             for p in self.points],
                            columns=[self.x, self.y, "cap", "status", "run_id", *extra])

    def to_dict(self) -> dict[str, Any]:
        labelled = self.labelled
        return {"x": self.x, "y": self.y, "exact": self.exact, "solves": self.solves,
                "points": [{"x": p.x, "y": p.y, "cap": p.cap, "status": p.status,
                            "run_id": p.run_id, **({"label": p.label} if labelled else {})}
                           for p in self.points]}

    def chart(self) -> Any:
        import altair as alt

        data = self.to_frame()
        share = self.y == "breach_probability"
        base = alt.Chart(data).encode(
            x=alt.X(f"{self.x}:Q", title=self.x.replace("_", " ")),
            y=alt.Y(f"{self.y}:Q", title=self.y.replace("_", " "),
                    axis=alt.Axis(format="%") if share else alt.Axis()),
        )
        line = base.mark_line(interpolate="step-after", color="#888")
        dots = base.mark_circle(size=90).encode(
            tooltip=[self.x, self.y, "status", "label" if self.labelled else "run_id"])
        return (line + dots).properties(
            title=f"Trade-off: {self.y} against {self.x}", width=520, height=340)

    def save_chart(self, path: str | os.PathLike[str]) -> Path:
        """Write the curve as .png (via vl-convert), .svg or .html."""
        target = Path(path)
        if target.suffix.lower() not in (".png", ".svg", ".html"):
            raise ScenarioError("the chart file must end in .png, .svg or .html",
                                file=str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        self.chart().save(str(target))
        return target


def _unique_id(sc: Scenario, stem: str) -> str:
    taken = {r.id for r in sc.rules}
    k, rid = 1, stem
    while rid in taken:
        k += 1
        rid = f"{stem}_{k}"
    return rid


def _term(metric: str, parties: list[str] | None) -> dict[str, Any]:
    term: dict[str, Any] = {"metric": metric}
    if parties and metric == "peak_exposure":
        term["parties"] = list(parties)
    return term


def with_objective(sc: Scenario, y: str, x: str, parties: list[str] | None = None) -> Scenario:
    data = sc.canonical_dict()
    data["objective"] = {"mode": "lexicographic",
                         "terms": [_term(y, parties), _term(x, parties)]}
    return parse_scenario(data, sc.name)


def capped(sc: Scenario, x: str, cap: int, parties: list[str] | None = None) -> Scenario | None:
    """``sc`` with ``x <= cap`` as scenario rules; None when no schedule can meet it."""
    data = sc.canonical_dict()
    rules: list[dict[str, Any]] = data["rules"]  # type: ignore[assignment]
    if x == "peak_exposure":
        rule: dict[str, Any] = {"id": _unique_id(sc, "pareto_cap"), "kind": "exposure",
                                "max": cap, "text": f"Pareto cap: peak exposure <= {cap}"}
        if parties:
            rule["parties"] = list(parties)
        rules.append(rule)
    elif x == "phase_imbalance":
        rules.append({"id": _unique_id(sc, "pareto_cap"), "kind": "phase_balance",
                      "tolerance": cap, "text": f"Pareto cap: phase imbalance <= {cap}"})
    elif x == "makespan":
        for c, cd in zip(sc.concessions, data["concessions"], strict=True):  # type: ignore[call-overload]
            latest = min(c.latest_end if c.latest_end is not None else sc.horizon, cap)
            first = c.start if c.start is not None else c.earliest_start
            if first + c.min_duration <= latest:
                cd["latest_end"] = latest
            elif c.optional:
                rules.append({"id": _unique_id(sc, f"pareto_out_{c.id}"), "kind": "precedence",
                              "before": c.id, "after": c.id, "from": "end", "to": "start",
                              "min_lag": c.max_duration + 1,
                              "text": f"Pareto cap: '{c.id}' cannot end by {cap}"})
            else:
                return None
    else:
        raise ScenarioError(f"x must be one of {', '.join(CAPPABLE)}", path="x", value=x,
                            file="<command line>")
    try:
        return parse_scenario(data, sc.name)
    except ScenarioError as err:
        if err.rules:   # a positive cycle: the cap makes the required part impossible
            return None
        raise


def check_metrics(x: str, y: str) -> None:
    if x not in CAPPABLE:
        raise ScenarioError(f"--x must be one of {', '.join(CAPPABLE)}", file="<command line>",
                            value=x)
    if y not in METRIC_NAMES:
        raise ScenarioError(f"--y must be one of {', '.join(METRIC_NAMES)}",
                            file="<command line>", value=y)
    if x == y:
        raise ScenarioError("--x and --y must be different metrics", file="<command line>")


def pareto(scenario: Scenario, x: str = "makespan", y: str = "peak_exposure", *,
           options: SolveOptions | None = None, store: RunStore | None = None,
           on_point: Callable[[ParetoPoint], None] | None = None,
           max_points: int = MAX_POINTS, parties: list[str] | None = None) -> ParetoFront:
    """The Pareto front of (x, y), both minimised; each point saved in ``store`` if given.

    ``parties`` narrows peak_exposure (as x or y) to those parties, e.g. the
    two negotiating sides when observers such as the UNSC are uncapped.
    """
    check_metrics(x, y)
    for pid in parties or []:
        if pid not in scenario.party_ids:
            raise ScenarioError("unknown party", path="parties", value=pid,
                                file="<command line>")
    opts = options or SolveOptions(workers=1)
    base = with_objective(scenario, y, x, parties)
    front = ParetoFront(x, y)
    cap: int | None = None
    current: Scenario | None = base
    while current is not None and len(front.points) < max_points:
        result, run_id = _solve(current, opts, store, x, cap)
        front.solves += 1
        if not result.solved or result.metrics is None:
            break
        # The objective entries are y then x, each over the requested parties.
        vy, vx = (entry.value for entry in result.objective[:2])
        assert vx is not None and vy is not None
        point = ParetoPoint(vx, vy, cap, result.status, run_id, result, current)
        front.points.append(point)
        if on_point is not None:
            on_point(point)
        if point.x == 0:
            break
        cap = point.x - 1
        current = capped(base, x, cap, parties)
    front.points = _non_dominated(front.points)
    return front


def _non_dominated(points: list[ParetoPoint]) -> list[ParetoPoint]:
    """Drop points another one dominates (only possible after a non-optimal solve)."""
    keep = [p for p in points
            if not any((q.x <= p.x and q.y <= p.y) and (q.x, q.y) != (p.x, p.y) for q in points)]
    seen: set[tuple[int, float]] = set()
    out = []
    for p in sorted(keep, key=lambda p: (p.x, p.y)):
        if (p.x, p.y) not in seen:
            seen.add((p.x, p.y))
            out.append(p)
    return out


def _solve(sc: Scenario, opts: SolveOptions, store: RunStore | None, x: str,
           cap: int | None) -> tuple[Result, str | None]:
    from models.canonical import options_json, scenario_sha256
    from optimizer.api import solve
    from optimizer.studies.store import run_key_id

    if store is None:
        return _checked(sc, solve(sc, opts, explain_infeasible=False)), None
    sha, oj = scenario_sha256(sc), options_json(opts)
    stored = store.find(sha, oj)
    if stored is not None:
        return stored.result, stored.run_id
    result = _checked(sc, solve(sc, opts, explain_infeasible=False))
    label = f"pareto {x}<={cap}" if cap is not None else f"pareto {x} uncapped"
    rid = store.save_run(result, sc, opts, label=label, source="pareto",
                         run_id=run_key_id(sha, oj), params={"x": x, "cap": cap})
    return result, rid


def _checked(sc: Scenario, result: Result) -> Result:
    from optimizer.check import check

    problems = check(sc, result)
    if problems:
        raise RuntimeError(f"internal error: the solver's schedule fails the checker: "
                           f"{problems[0]}")
    return result
