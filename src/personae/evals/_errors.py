"""Typed errors of the evaluation harness."""

from __future__ import annotations

from personae._util.errors import LocatedError


class EvalError(Exception):
    """Base class for evaluation problems reported to users."""


class EvalSpecError(LocatedError, EvalError):
    """An eval spec (or a file it names) is malformed: the message names the file and the field."""


class EvalLimitError(EvalError):
    """An eval larger than its caller allows (items, personas, statements): refused before anything runs."""


class RescoreError(LocatedError, EvalError):
    """A folder cannot be rescored (not a finished run, a malformed file): the message names the file and field."""


class UnscorableSample(EvalError):
    """A sample lacks what its task's `score` needs (e.g. its persona, or a conversation in its transcript)."""


class JudgeParseError(EvalError):
    """A judge's output could not be read as the expected structure; keeps the raw text."""

    def __init__(self, reason: str, raw: str) -> None:
        self.reason = reason
        self.raw = raw
        super().__init__(reason)
