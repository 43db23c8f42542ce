"""Canonical scenario JSON, its SHA-256 (SPEC §3), and the key of "the same solve".

The run store, the batch, Pareto, the app's result cache and its backtest
cache all recognise a repeated solve by ``solve_key``: the same scenario and
the same options that change a result give the same answer.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from models.options import SolveOptions
from models.scenario import Scenario


def canonical_json(sc: Scenario) -> str:
    return json.dumps(sc.canonical_dict(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def scenario_sha256(sc: Scenario) -> str:
    return hashlib.sha256(canonical_json(sc).encode("utf-8")).hexdigest()


def options_json(options: SolveOptions | dict[str, Any]) -> str:
    """Canonical JSON of the options that change a result (``log`` does not)."""
    data = options if isinstance(options, dict) else options.model_dump()
    data = {k: v for k, v in data.items() if k != "log"}
    if "time_limit_s" in data:
        data["time_limit_s"] = float(data["time_limit_s"])
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def solve_key(scenario: Scenario | str, options: SolveOptions | dict[str, Any] | str) -> str:
    """SHA-256 hex of (scenario SHA-256, canonical options): the key of one solve.

    ``scenario`` may be given as its SHA-256 and ``options`` as their canonical JSON.
    """
    sha = scenario if isinstance(scenario, str) else scenario_sha256(scenario)
    opts = options if isinstance(options, str) else options_json(options)
    return hashlib.sha256(f"{sha}|{opts}".encode()).hexdigest()
