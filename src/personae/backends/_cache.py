"""The request cache: SQLite rows of JSON outputs keyed on a hash of the full request.

Contract: the key is `content_hash` of canonical JSON over the backend identity (provider, base URL,
model), the messages and the generation config minus `cache` (with a pass-through request's fields, which other
requests do not have). Changing that recipe invalidates every entry.
Errors are never cached. The cache never fails a request: a read or write SQLite refuses (a database locked by
another process past the busy wait, a full disk) is logged and treated as a miss or a skipped write.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from personae._util.hashing import content_hash
from personae._util.paths import cache_dir
from personae.backends._types import BackendOutput, GenerateConfig, Message

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    created REAL NOT NULL,
    expires REAL,
    value TEXT NOT NULL
)
"""


def default_cache_path() -> Path:
    """The default cache database, under `cache_dir()`."""
    return cache_dir() / "requests.sqlite"


def cache_key(identity: dict[str, Any], messages: Sequence[Message], config: GenerateConfig) -> str:
    """The cache key of a request (see the module docstring for the contract)."""
    key: dict[str, Any] = {
        "backend": identity,
        "messages": [m.model_dump(mode="json") | ({"fields": m.fields} if m.fields else {}) for m in messages],
        "config": config.model_dump(mode="json", exclude={"cache"}),
    }
    if config.pass_through:  # left out of dumps (and so of the keys of every other request)
        key["config"]["pass_through"] = config.pass_through
    if config.prefix is not None:
        key["config"]["prefix"] = config.prefix
    return content_hash(key)


class RequestCache:
    """A small SQLite-backed key/value store for backend outputs; safe to share across threads."""

    def __init__(
        self, path: Path | str | None = None, ttl_seconds: float | None = 7 * 24 * 3600, busy_timeout: float = 30.0
    ) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.ttl_seconds = ttl_seconds
        self.busy_timeout = busy_timeout
        """Seconds an operation waits for another writer's lock before SQLite gives up."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # WAL is a property of the file, so it is set once here, not on every connection. Several processes may
        # create one new cache together (Ray workers); should the switch report "database is locked" without
        # SQLite's busy wait, it is retried for up to 5 s (a suspected cause of a flaky Ray test).
        for attempt in range(100):
            try:
                with self._connect() as conn:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute(_SCHEMA)
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 99:
                    raise
                time.sleep(0.05)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for one operation, committed (or rolled back) and closed at the end of the block.

        Closed explicitly: a `sqlite3.Connection` sits in a reference cycle with its statement cache, so a dropped
        one stays open, with its file handles and shared-memory mapping, until the next GC pass.
        """
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def get(self, key: str) -> BackendOutput | None:
        """The cached output for `key`, or None if absent, expired or unreadable (a warning says why)."""
        try:
            with self._connect() as conn:
                row = conn.execute("SELECT value, expires FROM entries WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            log.warning("request cache %s: read failed, treated as a miss: %s", self.path, exc)
            return None
        if row is None:
            return None
        value, expires = row
        if expires is not None and expires < time.time():
            return None
        return BackendOutput.model_validate_json(value)

    def put(self, key: str, output: BackendOutput) -> None:
        """Store `output` under `key`, replacing any previous entry (skipped, with a warning, if SQLite refuses)."""
        now = time.time()
        expires = now + self.ttl_seconds if self.ttl_seconds is not None else None
        try:
            with self._connect() as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO entries (key, created, expires, value) VALUES (?, ?, ?, ?)",
                    (key, now, expires, output.model_dump_json()),
                )
        except sqlite3.Error as exc:
            log.warning("request cache %s: write skipped: %s", self.path, exc)

    def size(self) -> int:
        """Number of entries (expired ones included until pruned)."""
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def prune(self) -> int:
        """Delete expired entries; returns how many were removed."""
        with self._connect() as conn:
            cur = conn.execute("DELETE FROM entries WHERE expires IS NOT NULL AND expires < ?", (time.time(),))
            return cur.rowcount

    def clear(self) -> int:
        """Delete every entry; returns how many were removed."""
        with self._connect() as conn:
            cur = conn.execute("DELETE FROM entries")
            return cur.rowcount


def cache_clear(path: Path | str | None = None) -> int:
    """Empty the request cache at `path` (default location if None); returns the number of entries removed."""
    return RequestCache(path).clear()


def cache_size(path: Path | str | None = None) -> int:
    """Number of entries in the request cache at `path`."""
    return RequestCache(path).size()


def cache_prune(path: Path | str | None = None) -> int:
    """Remove expired entries from the request cache at `path`."""
    return RequestCache(path).prune()
