"""Mutated scenario files are accepted or rejected cleanly (issue 8, part 1).

Every mutation of a valid file -- wrong types, missing keys, unknown ids,
cycles, negative and huge numbers, unicode, empty files, binary junk, deep
nesting, alias bombs, explicit tags -- goes through ``roadmap validate``: it
either passes (exit 0, ``ok:``) or is rejected with exit 2 and one line on
stderr that starts with the file's name. Never a traceback, never a hang.
"""

from __future__ import annotations

import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from optimizer.cli import app
from tests.properties.strategies import alias_bomb, mutated_files

PER_CASE_S = 20.0   # far above any real case; only a hang reaches it
runner = CliRunner()


class Hang(Exception):
    """A case ran past PER_CASE_S."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def validate_outcome(suffix: str, content: bytes, seconds: float = PER_CASE_S) -> str:
    """'valid' or 'rejected'; AssertionError on a crash, a bad message or a hang."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"case{suffix}"
        path.write_bytes(content)
        try:
            with time_limit(seconds):
                result = runner.invoke(app, ["validate", str(path)])
        except Hang as exc:   # raised outside the runner's own exception capture
            raise AssertionError(f"hang: {exc}") from None
    if isinstance(result.exception, Hang):
        raise AssertionError(f"hang: {result.exception}")
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"crash: {type(result.exception).__name__}: {result.exception}"
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        assert result.stdout.startswith("ok: "), result.stdout
        assert result.stderr == ""
        return "valid"
    assert result.exit_code == 2, (result.exit_code, result.output)
    message = result.stderr.rstrip("\n")
    assert message, "a rejection says why"
    assert "\n" not in message, f"one line, got: {message!r}"
    assert message.startswith(str(path)), f"names the file: {message!r}"
    assert result.stdout == ""
    return "rejected"


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_files())
def test_mutated_file_is_valid_or_cleanly_rejected(case: tuple[str, bytes]) -> None:
    validate_outcome(*case)


def test_unmutated_file_is_valid() -> None:
    text = ("format: roadmap/v1\nhorizon: 6\nparties: [{id: A}, {id: B}]\n"
            "concessions: [{id: a, party: A, duration: 2}]\n")
    assert validate_outcome(".yaml", text.encode()) == "valid"


def test_alias_bomb_is_refused_promptly() -> None:
    # 10 ** 9 leaves: the guard refuses it before anything expands it.
    assert validate_outcome(".yaml", alias_bomb(9, 10).encode(), seconds=10) == "rejected"


def test_hang_is_detected() -> None:
    # The watchdog itself works: a deliberately endless case is reported as a hang.
    def spin() -> None:
        while True:
            pass

    try:
        with time_limit(0.2):
            spin()
    except Hang:
        return
    raise AssertionError("the per-case time limit did not fire")


def validate_text(name: str, text: str) -> tuple[Path, Any]:
    """``roadmap validate`` on a file holding ``text`` (the path is gone afterwards)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text)
        return path, runner.invoke(app, ["validate", str(path)])


def test_many_digit_number_is_rejected_not_crashed() -> None:
    text = "format: roadmap/v1\nhorizon: " + "9" * 5000 + "\n"
    for suffix, content in ((".yaml", text), (".json", '{"horizon": ' + "9" * 5000 + "}"),
                            (".toml", "horizon = " + "9" * 5000 + "\n")):
        path, result = validate_text(f"big{suffix}", content)
        assert result.exit_code == 2, result.output
        assert result.stderr.strip() == (
            f"{path}: {suffix[1:].upper()} error: a number is too long (more than 4300 digits)")


def test_newline_in_a_key_stays_on_one_line() -> None:
    text = ('format: roadmap/v1\n"bad\\nkey": 1\nhorizon: 3\nparties: [{id: A}]\n'
            "concessions: [{id: a, party: A, duration: 1}]\n")
    path, result = validate_text("nl.yaml", text)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{path}:2: bad\\nkey: unknown key"


def test_bad_explicit_tag_is_rejected_not_crashed() -> None:
    for tag, problem in (("!!int abc", "invalid literal for int() with base 10: 'abc'"),
                         ("!!timestamp 2020-13-45", "month must be in 1..12")):
        text = f"format: roadmap/v1\nhorizon: {tag}\n"
        path, result = validate_text("tag.yaml", text)
        assert result.exit_code == 2
        assert result.stderr.strip() == f"{path}: YAML error: cannot read a value: {problem}"
