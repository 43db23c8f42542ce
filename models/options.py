"""Options of one solve (time limit, workers, seed)."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


class SolveOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_limit_s: float = Field(default=30.0, gt=0, le=7 * 24 * 3600)
    workers: int = Field(default_factory=default_workers, ge=1, le=64)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    log: bool = False
