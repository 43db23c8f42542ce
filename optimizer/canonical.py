"""Canonical scenario JSON and its SHA-256 (SPEC §3)."""

from __future__ import annotations

import hashlib
import json

from models.scenario import Scenario


def canonical_json(sc: Scenario) -> str:
    return json.dumps(sc.canonical_dict(), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def scenario_sha256(sc: Scenario) -> str:
    return hashlib.sha256(canonical_json(sc).encode("utf-8")).hexdigest()
