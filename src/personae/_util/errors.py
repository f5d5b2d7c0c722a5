"""An error that names where bad input sits: the file, the field path and the reason, on one line."""

from __future__ import annotations

from pathlib import Path


class LocatedError(Exception):
    """Base of typed input errors whose message reads `file: field: reason` (the parts that are known)."""

    def __init__(self, path: Path | str | None, reason: str, field: str | None = None) -> None:
        self.path = str(path) if path is not None else None
        self.field = field
        self.reason = reason
        where = f"{self.path}: " if self.path else ""
        at = f"{field}: " if field else ""
        super().__init__(f"{where}{at}{reason}")
