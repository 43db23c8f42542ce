"""excluded_value (SPEC §2.4): sum of total value of absent concessions."""

from __future__ import annotations

from typing import Any

from tests.conftest import solve_checked, starts

EXCLUDED = {"terms": [{"metric": "excluded_value"}]}


def scenario(concessions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"horizon": 10, "parties": [{"id": "A"}, {"id": "B"}],
                            "concessions": concessions, "objective": EXCLUDED}
    data.update(extra)
    return data


def opt(cid: str, value: int | dict[str, int], party: str = "A",
        **fields: Any) -> dict[str, Any]:
    return {"id": cid, "party": party, "duration": 1, "value": value, "optional": True,
            **fields}


def test_everything_kept_when_possible() -> None:
    r = solve_checked(scenario([opt("a", 3), opt("b", 4, "B")]))
    assert r.metrics is not None and r.metrics.excluded_value == 0
    assert all(s.present for s in r.schedule)


def test_knapsack_under_a_resource() -> None:
    # Horizon 2, one team, each item takes the team for 2: only one fits. Keep the 5:
    # excluded 3 + 4 = 7.
    items = [opt(x, v, duration=2, uses={"team": 1}) for x, v in (("a", 3), ("b", 5), ("c", 4))]
    r = solve_checked(scenario(items, horizon=2, resources=[{"id": "team", "capacity": 1}]))
    assert r.metrics is not None and r.metrics.excluded_value == 7
    assert starts(r) == {"a": None, "b": 0, "c": None}


def test_two_small_beat_one_big() -> None:
    # Horizon 4: the team fits two 2-long items (3 + 4) or the 4-long one (6): keep 3 + 4.
    items = [opt("a", 3, duration=2, uses={"team": 1}), opt("b", 4, duration=2,
                                                            uses={"team": 1}),
             opt("c", 6, duration=4, uses={"team": 1})]
    r = solve_checked(scenario(items, horizon=4, resources=[{"id": "team", "capacity": 1}]))
    assert r.metrics is not None and r.metrics.excluded_value == 6
    assert starts(r)["c"] is None


def test_total_value_sums_over_beneficiaries() -> None:
    # Three parties: an int value goes to both others (3 -> 6); a map sums its entries
    # (2 + 5 = 7). Only one fits in the horizon: keep the 7, exclude 6.
    parties = [{"id": "A"}, {"id": "B"}, {"id": "C"}]
    items = [opt("a", 3, duration=2, uses={"team": 1}),
             opt("b", {"A": 2, "C": 5}, "B", duration=2, uses={"team": 1})]
    r = solve_checked(scenario(items, horizon=2, parties=parties,
                               resources=[{"id": "team", "capacity": 1}]))
    assert r.metrics is not None and r.metrics.excluded_value == 6


def test_required_concessions_are_never_excluded() -> None:
    # The required a takes the only slot; the optional b (value 9) is excluded.
    a = {"id": "a", "party": "A", "duration": 2, "value": 1, "uses": {"team": 1}}
    b = opt("b", 9, "B", duration=2, uses={"team": 1})
    r = solve_checked(scenario([a, b], horizon=2, resources=[{"id": "team", "capacity": 1}]))
    assert r.metrics is not None and r.metrics.excluded_value == 9


def test_reported_even_when_not_an_objective() -> None:
    # Makespan alone leaves the optional item out (it would only add length): 5 excluded.
    r = solve_checked(scenario([{"id": "a", "party": "A", "duration": 1},
                                opt("b", 5, "B", duration=3)],
                               objective={"terms": [{"metric": "makespan"}]}))
    assert r.metrics is not None
    assert (r.metrics.makespan, r.metrics.excluded_value) == (1, 5)


def test_latest_end_decides_what_fits() -> None:
    # Both must finish by 1 and share one team: keep the 8, exclude 2.
    items = [opt("a", 2, latest_end=1, uses={"team": 1}),
             opt("b", 8, "B", latest_end=1, uses={"team": 1})]
    r = solve_checked(scenario(items, resources=[{"id": "team", "capacity": 1}]))
    assert r.metrics is not None and r.metrics.excluded_value == 2
