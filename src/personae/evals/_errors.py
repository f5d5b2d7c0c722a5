"""Typed errors of the evaluation harness."""

from __future__ import annotations

from pathlib import Path


class EvalError(Exception):
    """Base class for evaluation problems reported to users."""


class EvalSpecError(EvalError):
    """An eval spec (or a file it names) is malformed: the message names the file and the field."""

    def __init__(self, path: Path | str | None, reason: str, field: str | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.field = field
        self.reason = reason
        where = f"{self.path}: " if self.path else ""
        at = f"{field}: " if field else ""
        super().__init__(f"{where}{at}{reason}")


class JudgeParseError(EvalError):
    """A judge's output could not be read as the expected structure; keeps the raw text."""

    def __init__(self, reason: str, raw: str) -> None:
        self.reason = reason
        self.raw = raw
        super().__init__(reason)
