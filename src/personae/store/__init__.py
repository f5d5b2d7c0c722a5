"""The session database: sessions, turns, candidate replies with scores, memories; named migrations.

store = SessionStore()                      # SQLite in the personae home, or PERSONAE_DATABASE_URL
record = store.load(session_id)
"""

from personae.store._errors import DatabaseOpenError, SessionNotFoundError, StoreError, TurnConflictError
from personae.store._migrations import MIGRATIONS, Migration, applied_migrations, migrate
from personae.store._server_tables import (
    KEY_PREFIX,
    AccessStore,
    ApiKey,
    EvalRunInfo,
    EvalStatus,
    KeyStatus,
    NewKey,
    Ownership,
    PersonaAvatar,
    SessionListing,
    hash_key,
)
from personae.store._store import (
    DATABASE_ENV,
    SessionRecord,
    SessionStore,
    SessionSummary,
    ShownTurn,
    StoreHook,
    TurnRecord,
    default_database_url,
)
from personae.store._user_memory import MemoryExport, UserMemoryStore

__all__ = [
    "DATABASE_ENV",
    "KEY_PREFIX",
    "MIGRATIONS",
    "AccessStore",
    "ApiKey",
    "DatabaseOpenError",
    "EvalRunInfo",
    "EvalStatus",
    "KeyStatus",
    "MemoryExport",
    "Migration",
    "NewKey",
    "Ownership",
    "PersonaAvatar",
    "SessionListing",
    "SessionNotFoundError",
    "SessionRecord",
    "SessionStore",
    "SessionSummary",
    "ShownTurn",
    "StoreError",
    "StoreHook",
    "TurnConflictError",
    "TurnRecord",
    "UserMemoryStore",
    "applied_migrations",
    "default_database_url",
    "hash_key",
    "migrate",
]
