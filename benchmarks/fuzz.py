"""The long fuzz campaign of issue 8: N random valid scenarios and N mutated files.

Valid scenarios (``tests.strategies.scenarios``, 1-40 concessions, every rule
kind, both objective modes) are solved with one worker; each outcome must be
a schedule the independent checker accepts with the checker's metrics, an
``infeasible`` result whose conflict is verified minimal by re-solving, or a
validation rejection of a positive cycle. Mutated files
(``tests.strategies.mutated_files``) go through ``roadmap validate`` and must
pass or be rejected with exit 2 and one line naming the file.

Anything else is counted as a crash (an exception), a disagreement (checker or
conflict verification failed, or a bad rejection message) or a hang (a case
past its watchdog). Counts are written to ``benchmarks/results/fuzz.md`` and
``fuzz.csv`` every ``--every`` cases, so a campaign stopped early still
leaves its figures; failing cases go to ``fuzz_failures.jsonl``.

    python -m benchmarks.fuzz --valid 10000 --mutated 10000 --seed 1

Each part can run in its own process (``--valid 0`` or ``--mutated 0``); the
report merges the parts' state files (``fuzz_<part>.json``).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.atomic import write_atomic  # noqa: E402
from tests.properties.strategies import mutated_files, scenarios  # noqa: E402
from tests.properties.test_fuzz_mutations import Hang, validate_outcome  # noqa: E402
from tests.properties.test_fuzz_mutations import time_limit as watchdog  # noqa: E402
from tests.properties.test_fuzz_valid import assert_solved_correctly  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PARTS = ("valid", "mutated")
OUTCOMES = {
    "valid": ("optimal", "feasible", "infeasible_minimal_conflict", "rejected_cycle",
              "crash", "disagreement", "hang"),
    "mutated": ("valid", "rejected", "crash", "disagreement", "hang"),
}
VALID_CASE_S = 120.0   # solve + conflict search + one re-solve per conflict element
MUTATED_CASE_S = 20.0




class Tally:
    def __init__(self, part: str, target: int, seed_: int, every: int) -> None:
        self.part, self.target, self.seed, self.every = part, target, seed_, every
        self.counts: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()    # first line of each failure
        self.t0 = time.monotonic()
        self.slowest = 0.0

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def add(self, outcome: str, elapsed: float, case: Any = None, why: str = "") -> None:
        self.counts[outcome] += 1
        self.slowest = max(self.slowest, elapsed)
        if why:
            self.kinds[f"{outcome}: {why.splitlines()[0][:160]}"] += 1
            record = {"part": self.part, "outcome": outcome, "why": why[:2000],
                      "case": _jsonable(case)}
            with (RESULTS / "fuzz_failures.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, ensure_ascii=True) + "\n")
        if self.done % self.every == 0 or self.done == self.target:
            self.save()

    def save(self) -> None:
        state = {"part": self.part, "target": self.target, "seed": self.seed,
                 "done": self.done, "counts": dict(self.counts), "failures": dict(self.kinds),
                 "elapsed_s": round(time.monotonic() - self.t0, 1),
                 "slowest_case_s": round(self.slowest, 2),
                 "finished": self.done >= self.target}
        write_atomic(RESULTS / f"fuzz_{self.part}.json", json.dumps(state, indent=2) + "\n")
        write_report()


def _jsonable(case: Any) -> Any:
    if isinstance(case, tuple) and len(case) == 2 and isinstance(case[1], bytes):
        return {"suffix": case[0], "base64": base64.b64encode(case[1]).decode("ascii")}
    return case


def classify_valid(data: dict[str, Any], tally: Tally) -> None:
    t0 = time.monotonic()
    try:
        with watchdog(VALID_CASE_S):
            status = assert_solved_correctly(data)
    except Hang as exc:
        tally.add("hang", time.monotonic() - t0, data, str(exc))
        return
    except AssertionError as exc:
        tally.add("disagreement", time.monotonic() - t0, data, str(exc) or "assertion")
        return
    except Exception as exc:
        tally.add("crash", time.monotonic() - t0, data, f"{type(exc).__name__}: {exc}")
        return
    outcome = {"rejected": "rejected_cycle",
               "infeasible": "infeasible_minimal_conflict"}.get(status, status)
    tally.add(outcome, time.monotonic() - t0)


def classify_mutated(case: tuple[str, bytes], tally: Tally) -> None:
    t0 = time.monotonic()
    try:
        outcome = validate_outcome(*case, seconds=MUTATED_CASE_S)
    except AssertionError as exc:
        text = str(exc)
        kind = ("hang" if text.startswith("hang") else
                "crash" if text.startswith("crash") else "disagreement")
        tally.add(kind, time.monotonic() - t0, case, text)
        return
    except Exception as exc:
        tally.add("crash", time.monotonic() - t0, case, f"{type(exc).__name__}: {exc}")
        return
    tally.add(outcome, time.monotonic() - t0)


def run_part(part: str, n: int, seed_: int, every: int) -> Tally:
    tally = Tally(part, n, seed_, every)
    tally.save()
    if n <= 0:
        return tally
    strategy: Any = scenarios() if part == "valid" else mutated_files()
    body: Callable[[Any], None] = (
        (lambda d: classify_valid(d, tally)) if part == "valid"
        else (lambda c: classify_mutated(c, tally)))

    @seed(seed_)
    @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(strategy)
    def campaign(case: Any) -> None:
        body(case)

    campaign()
    tally.save()
    return tally


def write_report() -> None:
    states = {}
    for part in PARTS:
        path = RESULTS / f"fuzz_{part}.json"
        if path.exists():
            states[part] = json.loads(path.read_text(encoding="utf-8"))
    rows = ["part,outcome,count"]
    for part, st in states.items():
        for outcome in OUTCOMES[part]:
            rows.append(f"{part},{outcome},{st['counts'].get(outcome, 0)}")
        rows.append(f"{part},total,{st['done']}")
    write_atomic(RESULTS / "fuzz.csv", "\n".join(rows) + "\n")

    lines = ["# Fuzz campaign (issue 8)", "",
             "Generated by `benchmarks/fuzz.py`; strategies in `tests/strategies.py`. "
             "Valid scenarios are solved with one worker and checked by `optimizer.check`; "
             "infeasible ones have their conflict verified minimal by re-solving the scenario "
             "with everything outside the conflict dropped (infeasible) and with each conflict "
             "element dropped in turn (feasible). Mutated files go through `roadmap validate`.",
             ""]
    for part, st in states.items():
        status = "finished" if st["finished"] else "in progress / stopped early"
        lines += [f"## {part} ({st['done']:,} of {st['target']:,} cases, seed {st['seed']}, "
                  f"{status})", "",
                  f"Elapsed {st['elapsed_s']:,} s; slowest case {st['slowest_case_s']} s.", "",
                  "| outcome | count |", "|---|---:|"]
        lines += [f"| {o} | {st['counts'].get(o, 0):,} |" for o in OUTCOMES[part]]
        lines.append("")
        if st["failures"]:
            lines += ["Failures (first line, count); cases in `fuzz_failures.jsonl`:", ""]
            lines += [f"- {k} — {v}" for k, v in sorted(st["failures"].items(),
                                                          key=lambda kv: -kv[1])]
            lines.append("")
    write_atomic(RESULTS / "fuzz.md", "\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--valid", type=int, default=1000, help="valid scenarios to solve")
    ap.add_argument("--mutated", type=int, default=1000, help="mutated files to validate")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--every", type=int, default=100, help="save the counts every N cases")
    args = ap.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    bad = 0
    for part, n in (("valid", args.valid), ("mutated", args.mutated)):
        if n <= 0:
            continue
        tally = run_part(part, n, args.seed, args.every)
        c = tally.counts
        bad += c["crash"] + c["disagreement"] + c["hang"]
        print(f"{part}: {tally.done} cases: " + ", ".join(
            f"{o} {c.get(o, 0)}" for o in OUTCOMES[part]), flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
