"""Errors of the session store."""

from __future__ import annotations


class StoreError(Exception):
    """The session database cannot be opened, migrated or does not hold what was asked for."""


class SessionNotFoundError(StoreError):
    """No session with the given id."""


class TurnConflictError(StoreError):
    """Another writer (a second process on the same database) changed the session first: this copy is stale."""


class DatabaseOpenError(StoreError):
    """The database URL is malformed, names an unknown driver, or the database cannot be opened or migrated."""
