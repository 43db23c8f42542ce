"""Hardening on the Dask executor (``--executor dask``) gives the process pool's answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from models import SolveOptions
from optimizer.check import check
from optimizer.studies.stress.harden import harden
from tests.conftest import scenario_from, solve_checked
from tests.optimizer.studies.test_stress_front import BUFFER

OPTS = SolveOptions(time_limit_s=10, workers=1, seed=0)


def _run(sc: Any, plan: Any, **executor: Any) -> Any:
    return harden(sc, plan, target=0.05, samples=4000, seed=0, levers=("buffer", "lag"),
                  options=OPTS, jobs=1, **executor)


def test_dask_hardening_equals_the_process_pool(tmp_path: Path) -> None:
    from distributed import LocalCluster

    sc = scenario_from(BUFFER)
    plan = solve_checked(sc)
    local = _run(sc, plan, executor="local")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        dask = _run(sc, plan, executor="dask", address=cluster.scheduler_address)
        # The CLI's --executor dask on the same scheduler prints the same hardening.
        path = tmp_path / "buffer.yaml"
        import yaml

        path.write_text(yaml.safe_dump(dict(BUFFER, format="roadmap/v1")), encoding="utf-8")
        plan_file = tmp_path / "plan.json"
        plan_file.write_text(plan.to_json(), encoding="utf-8")
        from optimizer.cli import app

        res = CliRunner().invoke(app, [
            "stress", str(path), "--plan", str(plan_file), "--target", "0.05", "--samples",
            "4000", "--seed", "0", "-t", "10", "-j", "1", "--executor", "dask", "--address",
            cluster.scheduler_address, "-f", "json"])
    assert local.to_dict() == dask.to_dict()
    # buffer: the first k with P(round X >= k) <= 5 % for X ~ Tri(0, 0, 6) is 6; lag
    # (g's verification planned k later, h at 1 + k) meets it at 5: the same roadmap,
    # h at [6, 7]; the buffer, tried first, is kept (no shorter makespan from lag).
    assert local.met and (local.lever, local.k) == ("buffer", 6)
    assert local.plan is not None and check(sc, local.plan) == []
    assert local.price is not None and local.price["makespan"] == 5
    assert {(c.lever, c.k) for c in local.candidates} >= {("buffer", 6), ("lag", 5)}
    assert res.exit_code == 0, res.output
    cli = json.loads(res.stdout)
    # The CLI tries every lever, robust caps first: verification_delay = 5 (the caps hold
    # with g's credit 5 late: h at 6) meets the target at the same price.
    assert (cli["met"], cli["lever"], cli["k"]) == (True, "verification_delay", 5)
    assert cli["price"]["makespan"] == 5
    assert cli["hardened"]["breach_probability"] <= 0.05
