"""Typed errors for persona files."""

from __future__ import annotations

from pathlib import Path


class PersonaError(Exception):
    """Base class for every persona problem personae reports to users."""


class PersonaFormatError(PersonaError):
    """A persona file cannot be read or does not match the schema.

    The message is one line naming the file, the field path (e.g. ``statements[3]``) and the reason.
    """

    def __init__(self, path: Path | str | None, reason: str, field: str | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.field = field
        self.reason = reason
        where = f"{self.path}: " if self.path else ""
        at = f"{field}: " if field else ""
        super().__init__(f"{where}{at}{reason}")
