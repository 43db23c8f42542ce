"""``roadmap stress`` (SPEC §5.7/§5.8): table and JSON, --plan, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from optimizer.cli import app

runner = CliRunner()

SMALL = """\
format: roadmap/v1
name: Two-step exchange
horizon: 24
parties: [{id: US}, {id: DPRK}]
concessions:
  - {id: freeze, party: DPRK, duration: 2, value: 6, reversibility: irreversible,
     verification: inspection}
  - {id: relief, party: US, duration: 1, value: 5, reversibility: irreversible,
     verification: public}
rules:
  - {id: verify_first, kind: precedence, before: freeze, after: relief, from: verified,
     max_lag: 2}
  - {id: us_cap, kind: exposure, parties: [US], max: 5}
objective:
  terms: [{metric: makespan}]
uncertainty:
  default: {delay: [0, 1, 3], verification_delay: [0, 0, 2]}
"""

SPEC_KEYS = ["plan", "samples", "seed", "stall_probability", "makespan", "caps", "rules",
             "parties", "concessions"]


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_stress_json_has_the_spec_keys_in_order(tmp_path: Path) -> None:
    res = runner.invoke(app, ["stress", str(write(tmp_path, SMALL)), "--samples", "500",
                              "--seed", "4", "--format", "json", "--workers", "1"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert list(data)[:len(SPEC_KEYS)] == SPEC_KEYS
    assert data["samples"] == 500 and data["seed"] == 4
    assert set(data["makespan"]) == {"p50", "p80", "p95"}
    assert data["caps"][0]["rule"] == "us_cap"
    assert data["rules"] == [{"rule": "verify_first", "broken_probability": 0.0}]
    assert [c["id"] for c in data["concessions"]] == ["freeze", "relief"]


def test_stress_table_and_plan_file_give_the_same_figures(tmp_path: Path) -> None:
    scen = write(tmp_path, SMALL)
    plan = tmp_path / "plan.json"
    res = runner.invoke(app, ["solve", str(scen), "--out", str(plan), "--workers", "1",
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    a = runner.invoke(app, ["stress", str(scen), "--plan", str(plan), "--samples", "300",
                            "--format", "json"])
    b = runner.invoke(app, ["stress", str(scen), "--samples", "300", "--format", "json",
                            "--workers", "1"])
    assert a.exit_code == b.exit_code == 0, a.output + b.output
    assert json.loads(a.stdout) == json.loads(b.stdout)
    t = runner.invoke(app, ["stress", str(scen), "--plan", str(plan), "--samples", "300"])
    assert t.exit_code == 0, t.output
    assert "Exposure caps" in t.stdout and "us_cap" in t.stdout
    assert "makespan P50/P80/P95" in t.stdout


def test_invalid_uncertainty_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = SMALL.replace("delay: [0, 1, 3]", "delay: [3, 1, 0]")
    res = runner.invoke(app, ["stress", str(write(tmp_path, bad))])
    assert res.exit_code == 2
    assert "uncertainty" in res.output and "Traceback" not in res.output
    unknown = SMALL.replace("  default:", "  parties: {KEDO: {delay: [0, 0, 1]}}\n  default:")
    res = runner.invoke(app, ["stress", str(write(tmp_path, unknown, "u.yaml"))])
    assert res.exit_code == 2 and "KEDO" in res.output


def test_bad_plan_file_exits_2(tmp_path: Path) -> None:
    plan = write(tmp_path, "{not json", "plan.json")
    res = runner.invoke(app, ["stress", str(write(tmp_path, SMALL)), "--plan", str(plan)])
    assert res.exit_code == 2 and "plan" in res.output


def test_infeasible_scenario_exits_1(tmp_path: Path) -> None:
    res = runner.invoke(app, ["stress", str(write(tmp_path, SMALL.replace("horizon: 24",
                                                                          "horizon: 2"))),
                              "--workers", "1"])
    assert res.exit_code == 1
    assert "infeasible" in res.output


HARDEN = """\
format: roadmap/v1
name: buffer
horizon: 30
parties: [{id: A}, {id: B}]
concessions:
  - {id: g, party: B, duration: 1, value: 10, cost: 0, verification: public}
  - {id: h, party: A, duration: 1, value: 0, cost: 10, reversibility: irreversible,
     verification: public}
rules:
  - {id: after_g, kind: precedence, before: g, after: h, from: start}
  - {id: cap, kind: exposure, parties: [A], max: 5}
uncertainty:
  concessions: {g: {delay: [0, 0, 6]}}
"""


def test_target_hardens_and_prints_the_price(tmp_path: Path) -> None:
    plan_out = tmp_path / "hard.json"
    res = runner.invoke(app, ["stress", str(write(tmp_path, HARDEN)), "--target", "0.05",
                              "--samples", "3000", "--jobs", "1", "--workers", "1",
                              "--plan-out", str(plan_out)])
    assert res.exit_code == 0, res.output
    assert "price +5 months of makespan" in res.stdout
    from models import Result, loads_scenario
    from optimizer.check import check

    hard = Result.from_json(plan_out.read_text())
    assert check(loads_scenario(HARDEN, "yaml", "<t>"), hard) == []
