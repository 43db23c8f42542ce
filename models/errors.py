"""The one error type for bad scenario input.

Every problem a user can make in a scenario file becomes a ``ScenarioError``
that names the file, the field path and the offending value, so the CLI and
the UI can print one clear line instead of a traceback.
"""

from __future__ import annotations

from typing import Any

MAX_VALUE_REPR = 60


def short_repr(value: Any) -> str:
    """A bounded repr: a pasted megabyte must not flood the terminal."""
    text = repr(value)
    if len(text) > MAX_VALUE_REPR:
        text = text[: MAX_VALUE_REPR - 3] + "..."
    return text


class ScenarioError(ValueError):
    """Invalid scenario input (exit code 2)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        path: str | None = None,
        value: Any = ...,
        line: int | None = None,
        rules: list[str] | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.path = path
        self.value = value
        self.line = line
        self.rules = rules or []
        super().__init__(self.format())

    def with_file(self, file: str) -> ScenarioError:
        self.file = file
        self.args = (self.format(),)
        return self

    def format(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.path:
            parts.append(self.path)
        text = ": ".join(parts) + ": " + self.message
        if self.value is not ...:
            text += f" (got {short_repr(self.value)})"
        return text

    def __str__(self) -> str:
        return self.format()


class ScenarioErrors(ScenarioError):
    """Several problems found at once; the first is the headline."""

    def __init__(self, errors: list[ScenarioError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(
            first.message,
            file=first.file,
            path=first.path,
            value=first.value,
            line=first.line,
            rules=first.rules,
        )

    def with_file(self, file: str) -> ScenarioError:
        for err in self.errors:
            err.with_file(file)
        return super().with_file(file)

    def format(self) -> str:
        head = super().format()
        extra = len(getattr(self, "errors", [])) - 1
        if extra > 0:
            head += f" (and {extra} more problem{'s' if extra > 1 else ''})"
        return head

    def all_lines(self) -> list[str]:
        return [e.format() for e in self.errors]
