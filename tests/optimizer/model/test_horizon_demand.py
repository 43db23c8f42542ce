"""The horizon is a demand: shortening it gives an explained conflict, not invalid input."""

from __future__ import annotations

from typer.testing import CliRunner

from models import Demand
from optimizer.cli import app
from tests.conftest import solve_checked

BASE = {
    "horizon": 6,
    "parties": [{"id": "US"}, {"id": "DPRK"}],
    "concessions": [
        {"id": "long", "party": "DPRK", "duration": 10},
        {"id": "short", "party": "US", "duration": 2, "latest_end": 50},
        {"id": "extra", "party": "US", "duration": 8, "optional": True, "value": 3},
    ],
    "objective": {"terms": [{"metric": "excluded_value"}, {"metric": "makespan"}]},
}


def test_a_required_concession_longer_than_the_horizon_is_an_explained_conflict() -> None:
    result = solve_checked(BASE)
    assert result.status == "infeasible"
    assert result.conflict is not None
    assert result.conflict.rules == []
    assert result.conflict.demands == [Demand(concession="long", field="required"),
                                       Demand(field="horizon")]
    horizon = [s for s in result.conflict.suggestions if s.path == "horizon"]
    # 10 months of work from month 0 end exactly at a horizon of 10.
    assert horizon and horizon[0].value == 10 and horizon[0].resolves == "scenario"


def test_latest_end_beyond_the_horizon_is_capped_by_it_and_misfits_stay_out() -> None:
    data = {**BASE, "concessions": [c for c in BASE["concessions"] if c["id"] != "long"]}
    result = solve_checked(data)
    assert result.status == "optimal"
    by_id = {s.id: s for s in result.schedule}
    assert by_id["short"].end is not None and by_id["short"].end <= 6
    assert by_id["extra"].present is False          # 8 months cannot fit in 6
    assert result.metrics is not None and result.metrics.excluded_value == 3


def test_cli_exit_1_not_2_for_a_horizon_too_short(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import yaml

    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump({"format": "roadmap/v1", **BASE}))
    res = CliRunner().invoke(app, ["solve", str(path), "-w", "1"])
    assert res.exit_code == 1, res.output
    assert "horizon" in res.stdout
