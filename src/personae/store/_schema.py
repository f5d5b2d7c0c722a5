"""The session database as SQLAlchemy 2 ORM classes: sessions, turns, swipes, memories, and the server's access rows.

The tables themselves are created and changed only by the named migrations in `_migrations.py`; a test checks
that these classes and the migrated schema agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Timezone-aware now, the timestamp of every row."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of personae's tables."""


class SessionRow(Base):
    """One role-play session: a persona copy, the user's name and settings."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    persona_hash: Mapped[str] = mapped_column(String(80), index=True)
    persona_name: Mapped[str] = mapped_column(String(200))
    persona_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    user_name: Mapped[str] = mapped_column(String(200))
    backend: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Counts the session's changes: a process holding an older version holds a stale copy (migration 0005)."""

    turns: Mapped[list[TurnRow]] = relationship(
        back_populates="session", order_by="TurnRow.index", cascade="all, delete-orphan"
    )
    memories: Mapped[list[MemoryRow]] = relationship(
        back_populates="session", order_by="MemoryRow.id", cascade="all, delete-orphan"
    )


class TurnRow(Base):
    """One user message, the prompt sent for it, and which candidate is shown."""

    __tablename__ = "turns"
    __table_args__ = (Index("uq_turns_session_branch_index", "session_id", "branch", "index", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    user_text: Mapped[str] = mapped_column(Text)
    prompt: Mapped[dict[str, Any]] = mapped_column(JSON)
    chosen_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    branch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """0: the conversation as it stands; n > 0: turns set aside when an earlier message was edited, deleted or
    branched from (migration 0007), kept with their swipes and scores and restored if the client returns to them."""

    session: Mapped[SessionRow] = relationship(back_populates="turns")
    candidates: Mapped[list[CandidateRow]] = relationship(
        back_populates="turn", order_by="CandidateRow.index", cascade="all, delete-orphan"
    )


class CandidateRow(Base):
    """One generated reply for a turn with its faithfulness scores; the turn's swipes."""

    __tablename__ = "candidates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    finish_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    apc: Mapped[float | None] = mapped_column(Float, nullable=True)
    apc_normalized: Mapped[float | None] = mapped_column(Float, nullable=True)
    violations: Mapped[int | None] = mapped_column(Integer, nullable=True)
    history_contradictions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    turn: Mapped[TurnRow] = relationship(back_populates="candidates")


class MemoryRow(Base):
    """Long-term memory: a rolling summary of older turns, or one past exchange kept for retrieval."""

    __tablename__ = "memories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    first_turn: Mapped[int] = mapped_column(Integer)
    last_turn: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    session: Mapped[SessionRow] = relationship(back_populates="memories")


class ApiKeyRow(Base):
    """A server API key; only its SHA-256 is stored, the key itself is shown once when created."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SessionOwnerRow(Base):
    """Which key owns a session, for which persona, and the hashes that map a stateless chat history onto it."""

    __tablename__ = "session_owners"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    persona_id: Mapped[str] = mapped_column(String(200))
    head_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class ServerPersonaRow(Base):
    """A persona uploaded to the server by a key (visible to that key only)."""

    __tablename__ = "server_personas"
    __table_args__ = (UniqueConstraint("key_id", "persona_id", name="uq_server_personas_key_persona"),)

    row_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    persona_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    persona_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    avatar: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    """The persona's picture (PNG, JPEG or WebP), if it came with one (migration 0009); loaded only when asked for."""
    avatar_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """The picture's media type, e.g. `image/png`."""
    avatar_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """SHA-256 (hex) of the picture: its ETag, and the version in its URL so a new picture is fetched anew."""


class EvalRunRow(Base):
    """An eval run started through the server: its owning key, output folder and outcome."""

    __tablename__ = "server_evals"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    out_dir: Mapped[str] = mapped_column(Text)
    items: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    runner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The server process running it (`host:pid:start`), so another one can tell when it has died (migration 0006)."""


class UserFactRow(Base):
    """A fact a character knows about its user, per (key, user, character); superseded facts stay as history."""

    __tablename__ = "user_facts"
    __table_args__ = (Index("ix_user_facts_scope", "key_id", "user_name", "persona_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=True)
    """The owning server key; NULL for the local CLI's memory."""
    user_name: Mapped[str] = mapped_column(String(200))
    persona_id: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    session_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    turn: Mapped[int | None] = mapped_column(Integer, nullable=True)
    said_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    refers_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(String(20))
    superseded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UserEpisodeRow(Base):
    """A dated summary of a stretch of a session, kept per (key, user, character)."""

    __tablename__ = "user_episodes"
    __table_args__ = (
        Index("ix_user_episodes_scope", "key_id", "user_name", "persona_id"),
        UniqueConstraint("session_id", "first_turn", name="uq_user_episodes_session_turn"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=True)
    user_name: Mapped[str] = mapped_column(String(200))
    persona_id: Mapped[str] = mapped_column(String(200))
    session_id: Mapped[str] = mapped_column(String(32))
    first_turn: Mapped[int] = mapped_column(Integer)
    last_turn: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    happened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
