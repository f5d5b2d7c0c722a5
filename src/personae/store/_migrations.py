"""Named schema migrations, applied in order and recorded in `personae_migrations`.

Each migration is frozen once released: it spells out its own DDL instead of reading the ORM classes, so a later
change to `_schema.py` needs a new migration here (a test compares the two).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
    text,
)

from personae.store._errors import StoreError

MIGRATIONS_TABLE = "personae_migrations"


@dataclass(frozen=True)
class Migration:
    """One schema change with a stable name."""

    name: str
    apply: Callable[[Connection], None]


def _initial(conn: Connection) -> None:
    """Sessions, turns, candidates (swipes) and memories."""
    md = MetaData()
    Table(
        "sessions",
        md,
        Column("id", String(32), primary_key=True),
        Column("persona_hash", String(80), nullable=False),
        Column("persona_name", String(200), nullable=False),
        Column("persona_json", JSON, nullable=False),
        Column("user_name", String(200), nullable=False),
        Column("backend", String(200), nullable=False),
        Column("settings", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        Index("ix_sessions_persona_hash", "persona_hash"),
    )
    Table(
        "turns",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("session_id", String(32), ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
        Column("index", Integer, nullable=False),
        Column("user_text", Text, nullable=False),
        Column("prompt", JSON, nullable=False),
        Column("chosen_index", Integer, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Index("ix_turns_session_id", "session_id"),
    )
    Table(
        "candidates",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("turn_id", Integer, ForeignKey("turns.id", ondelete="CASCADE"), nullable=False),
        Column("index", Integer, nullable=False),
        Column("round", Integer, nullable=False),
        Column("text", Text, nullable=False),
        Column("finish_reason", String(40), nullable=True),
        Column("apc", Float, nullable=True),
        Column("apc_normalized", Float, nullable=True),
        Column("violations", Integer, nullable=True),
        Column("history_contradictions", Integer, nullable=True),
        Column("scores", JSON, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Index("ix_candidates_turn_id", "turn_id"),
    )
    Table(
        "memories",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("session_id", String(32), ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
        Column("kind", String(20), nullable=False),
        Column("content", Text, nullable=False),
        Column("first_turn", Integer, nullable=False),
        Column("last_turn", Integer, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Index("ix_memories_session_id", "session_id"),
    )
    md.create_all(conn)


def _server_access(conn: Connection) -> None:
    """API keys (hashed), which key owns which session and conversation, and personas uploaded to the server."""
    md = MetaData()
    Table("sessions", md, Column("id", String(32), primary_key=True))
    Table(
        "api_keys",
        md,
        Column("id", String(16), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("key_hash", String(64), nullable=False, unique=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "session_owners",
        md,
        Column("session_id", String(32), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
        Column("key_id", String(16), ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
        Column("persona_id", String(200), nullable=False),
        Column("head_hash", String(64), nullable=True),
        Column("prev_hash", String(64), nullable=True),
        Index("ix_session_owners_key_id", "key_id"),
        Index("ix_session_owners_head_hash", "head_hash"),
        Index("ix_session_owners_prev_hash", "prev_hash"),
    )
    Table(
        "server_personas",
        md,
        Column("row_id", Integer, primary_key=True, autoincrement=True),
        Column("key_id", String(16), ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
        Column("persona_id", String(200), nullable=False),
        Column("name", String(200), nullable=False),
        Column("persona_json", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("key_id", "persona_id", name="uq_server_personas_key_persona"),
    )
    for table in md.sorted_tables:
        if table.name != "sessions":
            table.create(conn)


def _server_evals(conn: Connection) -> None:
    """Eval runs started through the server: which key owns each, where its folder is, and how it ended."""
    md = MetaData()
    Table("api_keys", md, Column("id", String(16), primary_key=True))
    Table(
        "server_evals",
        md,
        Column("id", String(16), primary_key=True),
        Column("key_id", String(16), ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
        Column("name", String(200), nullable=False),
        Column("out_dir", Text, nullable=False),
        Column("items", Integer, nullable=False),
        Column("status", String(20), nullable=False),
        Column("error", Text, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("finished_at", DateTime(timezone=True), nullable=True),
        Index("ix_server_evals_key_id", "key_id"),
    )
    md.tables["server_evals"].create(conn)


def _unique_turn_index(conn: Connection) -> None:
    """One row per (session, turn index): a second process storing the same turn is refused by the database.

    A database that already holds such duplicates is not changed; the error names them, for the user to resolve.
    """
    turns = Table("turns", MetaData(), autoload_with=conn)
    doubled = conn.execute(
        select(turns.c.session_id, turns.c["index"], func.count())
        .group_by(turns.c.session_id, turns.c["index"])
        .having(func.count() > 1)
        .order_by(turns.c.session_id, turns.c["index"])
    ).all()
    if doubled:
        shown = ", ".join(f"session {sid} turn {index} ({n} rows)" for sid, index, n in doubled[:5])
        more = f" and {len(doubled) - 5} more" if len(doubled) > 5 else ""
        raise StoreError(
            f"migration 0004_unique_turn_index: turns stored more than once: {shown}{more}; "
            "delete the extra rows of table turns, then start personae again"
        )
    Index("uq_turns_session_index", turns.c.session_id, turns.c["index"], unique=True).create(conn)


def _session_version(conn: Connection) -> None:
    """A change counter on each session: every write checks it, so a process holding a stale copy is refused."""
    conn.execute(text("ALTER TABLE sessions ADD COLUMN version INTEGER DEFAULT 0 NOT NULL"))


def _eval_runner(conn: Connection) -> None:
    """Which server process runs each eval, so a run whose worker died is not shown as running for ever."""
    conn.execute(text("ALTER TABLE server_evals ADD COLUMN runner VARCHAR(200)"))


def _turn_branches(conn: Connection) -> None:
    """Turns set aside as branches (edits, deletions and branches of earlier messages) stay in the session.

    Turn indexes are then unique per (session, branch): the conversation as it stands is branch 0.
    """
    conn.execute(text("ALTER TABLE turns ADD COLUMN branch INTEGER DEFAULT 0 NOT NULL"))
    turns = Table("turns", MetaData(), autoload_with=conn)
    Index("uq_turns_session_index", turns.c.session_id, turns.c["index"], unique=True).drop(conn)
    columns = (turns.c.session_id, turns.c.branch, turns.c["index"])
    Index("uq_turns_session_branch_index", *columns, unique=True).create(conn)


def _user_memory(conn: Connection) -> None:
    """What characters know about their users across sessions: facts (with their history) and dated episodes."""
    md = MetaData()
    Table("api_keys", md, Column("id", String(16), primary_key=True))

    def scope() -> tuple[Column[str], ...]:
        return (
            Column("key_id", String(16), ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=True),
            Column("user_name", String(200), nullable=False),
            Column("persona_id", String(200), nullable=False),
        )

    Table(
        "user_facts",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        *scope(),
        Column("topic", String(200), nullable=False),
        Column("text", Text, nullable=False),
        Column("session_id", String(32), nullable=True),
        Column("turn", Integer, nullable=True),
        Column("said_at", DateTime(timezone=True), nullable=True),
        Column("refers_to", Date, nullable=True),
        Column("source", String(20), nullable=False),
        Column("superseded_by", Integer, nullable=True),
        Column("superseded_at", DateTime(timezone=True), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Index("ix_user_facts_scope", "key_id", "user_name", "persona_id"),
    )
    Table(
        "user_episodes",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        *scope(),
        Column("session_id", String(32), nullable=False),
        Column("first_turn", Integer, nullable=False),
        Column("last_turn", Integer, nullable=False),
        Column("summary", Text, nullable=False),
        Column("events", JSON, nullable=False),
        Column("happened_at", DateTime(timezone=True), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Index("ix_user_episodes_scope", "key_id", "user_name", "persona_id"),
        UniqueConstraint("session_id", "first_turn", name="uq_user_episodes_session_turn"),
    )
    md.tables["user_facts"].create(conn)
    md.tables["user_episodes"].create(conn)


def _persona_avatars(conn: Connection) -> None:
    """Uploaded personas keep their picture (from a PNG card or a CHARX icon): its bytes, media type and SHA-256."""
    blob = LargeBinary().compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE server_personas ADD COLUMN avatar {blob}"))
    conn.execute(text("ALTER TABLE server_personas ADD COLUMN avatar_type VARCHAR(40)"))
    conn.execute(text("ALTER TABLE server_personas ADD COLUMN avatar_hash VARCHAR(64)"))


MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_initial", _initial),
    Migration("0002_server_access", _server_access),
    Migration("0003_server_evals", _server_evals),
    Migration("0004_unique_turn_index", _unique_turn_index),
    Migration("0005_session_version", _session_version),
    Migration("0006_eval_runner", _eval_runner),
    Migration("0007_turn_branches", _turn_branches),
    Migration("0008_user_memory", _user_memory),
    Migration("0009_persona_avatars", _persona_avatars),
)
"""Every migration personae knows, oldest first. Append only."""

_metadata = MetaData()
_applied = Table(
    MIGRATIONS_TABLE,
    _metadata,
    Column("name", String(100), primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


def applied_migrations(conn: Connection) -> list[str]:
    """Names of the migrations already applied to the database, in the order they were applied."""
    if not inspect(conn).has_table(MIGRATIONS_TABLE):
        return []
    rows = conn.execute(select(_applied.c.name, _applied.c.applied_at).order_by(_applied.c.applied_at)).all()
    return [row.name for row in rows]


def migrate(conn: Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[str]:
    """Apply the pending migrations in order; returns the names applied now.

    Refuses a database that has migrations this version of personae does not know (it was made by a newer one).
    """
    _metadata.create_all(conn)
    done = applied_migrations(conn)
    known = {m.name for m in migrations}
    unknown = [name for name in done if name not in known]
    if unknown:
        raise StoreError(f"the database has migrations this personae does not know: {', '.join(unknown)}; upgrade")
    applied: list[str] = []
    for migration in migrations:
        if migration.name in done:
            continue
        migration.apply(conn)
        conn.execute(_applied.insert().values(name=migration.name, applied_at=datetime.now(UTC)))
        applied.append(migration.name)
    return applied
