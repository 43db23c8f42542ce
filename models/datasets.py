"""The built-in datasets: where they are and how a name resolves to one."""

from __future__ import annotations

import os
from pathlib import Path

from models.errors import ScenarioError

SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}


def datasets_dir() -> Path:
    """The folder of built-in scenarios: the checkout's, or the wheel's copy."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "datasets", here / "_datasets"):
        if candidate.is_dir():
            return candidate
    return here.parent / "datasets"


def list_datasets() -> list[Path]:
    folder = datasets_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


def resolve_scenario(ref: str | os.PathLike[str]) -> Path:
    """A path as given, or the name of a built-in dataset (with or without suffix).

    Names cannot escape the datasets folder: only a plain file name found in
    the listing is accepted.
    """
    path = Path(ref)
    if path.is_file():
        return path
    name = str(ref)
    if os.sep not in name and "/" not in name and not name.startswith("."):
        for candidate in list_datasets():
            if name in (candidate.name, candidate.stem):
                return candidate
    if path.exists():
        raise ScenarioError("is not a regular file", file=str(ref))
    known = ", ".join(p.stem for p in list_datasets()) or "none"
    raise ScenarioError(
        f"no such file, and not a built-in dataset (built-in: {known})", file=str(ref)
    )
