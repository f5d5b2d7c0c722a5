"""Typed errors for persona files."""

from __future__ import annotations

from personae._util.errors import LocatedError


class PersonaError(Exception):
    """Base class for every persona problem personae reports to users."""


class PersonaFormatError(LocatedError, PersonaError):
    """A persona file cannot be read or does not match the schema.

    The message is one line naming the file, the field path (e.g. ``statements[3]``) and the reason.
    """
