"""User memory in the session database: facts with their history and episodes, per (key, user, character).

Every query is filtered by the scope's key and user (and character, unless the scope asks for all of them): one
key's or user's memory never comes back for another's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, delete, func, insert, select, update

from personae.memory import Episode, MemoryScope, UserFact
from personae.store._schema import UserEpisodeRow, UserFactRow, utcnow
from personae.store._store import SessionStore


class MemoryExport(BaseModel):
    """Everything kept about one user (for one character or all): what `personae memory export` writes."""

    key_id: str | None
    """The owning key (None: the local CLI)."""
    user: str
    """The user's name."""
    persona_id: str | None
    """The character, or None for every character."""
    facts: list[UserFact] = Field(default_factory=list)
    """Facts, oldest first, superseded ones included."""
    episodes: list[Episode] = Field(default_factory=list)
    """Episodes, oldest first."""


def _where(table: type[UserFactRow] | type[UserEpisodeRow], scope: MemoryScope) -> list[ColumnElement[bool]]:
    """The filter of a scope: its key (NULL for the local CLI), its user and, if named, its character."""
    key = table.key_id.is_(None) if scope.key_id is None else table.key_id == scope.key_id
    where = [key, table.user_name == scope.user]
    if scope.persona_id is not None:
        where.append(table.persona_id == scope.persona_id)
    return where


def _utc(value: datetime | None) -> datetime | None:
    """A stored time as aware UTC: SQLite hands back naive datetimes for what was written as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _fact(row: UserFactRow) -> UserFact:
    return UserFact(
        id=row.id,
        text=row.text,
        topic=row.topic,
        persona_id=row.persona_id,
        session_id=row.session_id,
        turn=row.turn,
        said_at=_utc(row.said_at),
        refers_to=row.refers_to,
        source=row.source,  # type: ignore[arg-type]  # written from FactSource only
        superseded_by=row.superseded_by,
        superseded_at=_utc(row.superseded_at),
    )


def _episode(row: UserEpisodeRow) -> Episode:
    return Episode(
        id=row.id,
        persona_id=row.persona_id,
        session_id=row.session_id,
        first_turn=row.first_turn,
        last_turn=row.last_turn,
        summary=row.summary,
        events=list(row.events or []),
        happened_at=_utc(row.happened_at),
    )


class UserMemoryStore:
    """Reads and writes user memory in a `SessionStore`'s database (implements `personae.memory.MemoryRepository`).

    Example:
        memory = UserMemoryStore(SessionStore())
        memory.facts(MemoryScope(None, "Sam", "ada-quint"))
    """

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self._sessions = store._sessions

    def facts(
        self,
        scope: MemoryScope,
        history: bool = False,
        *,
        ids: Sequence[int] | None = None,
        topic: str | None = None,
        after: int | None = None,
        session_id: str | None = None,
    ) -> list[UserFact]:
        """Facts of the scope, oldest first; superseded ones too with `history`.

        `ids`, `topic` and `after` (ids above it) narrow the query: what recall and supersession read when a
        character knows too many facts to read them all (see `personae.memory.FactIndex`); `session_id` what one
        session told (its episode's events).
        """
        query = select(UserFactRow).where(*_where(UserFactRow, scope))
        if not history:
            query = query.where(UserFactRow.superseded_at.is_(None))
        if ids is not None:
            query = query.where(UserFactRow.id.in_(list(ids)))
        if topic is not None:
            query = query.where(UserFactRow.topic == topic)
        if after is not None:
            query = query.where(UserFactRow.id > after)
        if session_id is not None:
            query = query.where(UserFactRow.session_id == session_id)
        with self._sessions() as db:
            return [_fact(row) for row in db.scalars(query.order_by(UserFactRow.id))]

    def add_fact(self, scope: MemoryScope, fact: UserFact, supersedes: Sequence[int] = ()) -> UserFact:
        """Store `fact` for the scope's character, marking `supersedes` (of the same key and user) as replaced."""
        persona_id = scope.persona_id or fact.persona_id
        if not persona_id:
            raise ValueError("a fact is stored for one character: give MemoryScope.persona_id")
        now = utcnow()
        values: dict[str, Any] = {
            "key_id": scope.key_id,
            "user_name": scope.user,
            "persona_id": persona_id,
            "topic": fact.topic,
            "text": fact.text,
            "session_id": fact.session_id,
            "turn": fact.turn,
            "said_at": fact.said_at,
            "refers_to": fact.refers_to,
            "source": fact.source,
            "created_at": now,
        }
        with self.store.engine.begin() as conn:
            new_id = conn.execute(insert(UserFactRow).values(values).returning(UserFactRow.id)).scalar_one()
            if supersedes:
                owner = _where(UserFactRow, scope._replace(persona_id=None))
                conn.execute(
                    update(UserFactRow)
                    .where(UserFactRow.id.in_(list(supersedes)), UserFactRow.superseded_at.is_(None), *owner)
                    .values(superseded_by=new_id, superseded_at=now)
                )
        return fact.model_copy(update={"id": int(new_id), "persona_id": persona_id})

    def fact(self, scope: MemoryScope, fact_id: int) -> UserFact | None:
        """One fact of the scope by id (None if it is another key's, user's or character's)."""
        with self._sessions() as db:
            row = db.scalar(select(UserFactRow).where(UserFactRow.id == fact_id, *_where(UserFactRow, scope)))
            return _fact(row) if row else None

    def correct(self, scope: MemoryScope, fact_id: int, text: str) -> UserFact | None:
        """Replace a current fact's text with the user's correction (the old one is kept as history)."""
        old = self.fact(scope, fact_id)
        if old is None or not old.current:
            return None
        new = old.model_copy(update={"id": None, "text": text, "source": "user", "said_at": utcnow()})
        return self.add_fact(scope._replace(persona_id=old.persona_id), new, [fact_id])

    def forget(self, scope: MemoryScope, fact_ids: Sequence[int] | None = None) -> int:
        """Delete facts for good (history too): the given ones, or all of the scope with its episodes."""
        with self.store.engine.begin() as conn:
            query = delete(UserFactRow).where(*_where(UserFactRow, scope))
            if fact_ids is not None:
                # A forgotten fact takes the facts it superseded with it: no trace of what the user asked to forget.
                ids = set(fact_ids)
                while True:
                    more = set(
                        conn.execute(
                            select(UserFactRow.id).where(
                                UserFactRow.superseded_by.in_(list(ids)), *_where(UserFactRow, scope)
                            )
                        ).scalars()
                    )
                    if more <= ids:
                        break
                    ids |= more
                query = query.where(UserFactRow.id.in_(list(ids)))
            gone = conn.execute(query).rowcount or 0
            if fact_ids is None:
                gone += conn.execute(delete(UserEpisodeRow).where(*_where(UserEpisodeRow, scope))).rowcount or 0
        return int(gone)

    def episodes(
        self, scope: MemoryScope, *, newest: int | None = None, excluding_session: str | None = None
    ) -> list[Episode]:
        """Episodes of the scope, oldest first; only the `newest` so many, leaving out `excluding_session`'s."""
        query = select(UserEpisodeRow).where(*_where(UserEpisodeRow, scope))
        if excluding_session is not None:
            query = query.where(UserEpisodeRow.session_id != excluding_session)
        query = query.order_by(UserEpisodeRow.id.desc())
        if newest is not None:
            query = query.limit(newest)
        with self._sessions() as db:
            return [_episode(row) for row in reversed(db.scalars(query).all())]

    def save_episode(self, scope: MemoryScope, episode: Episode) -> Episode:
        """Store an episode, replacing the one of the same session and first turn (a stretch still going on)."""
        persona_id = scope.persona_id or episode.persona_id
        values: dict[str, Any] = {
            "key_id": scope.key_id,
            "user_name": scope.user,
            "persona_id": persona_id,
            "session_id": episode.session_id,
            "first_turn": episode.first_turn,
            "last_turn": episode.last_turn,
            "summary": episode.summary,
            "events": list(episode.events),
            "happened_at": episode.happened_at,
            "created_at": utcnow(),
        }
        same = (UserEpisodeRow.session_id == episode.session_id, UserEpisodeRow.first_turn == episode.first_turn)
        with self.store.engine.begin() as conn:
            conn.execute(delete(UserEpisodeRow).where(*same, *_where(UserEpisodeRow, scope)))
            new_id = conn.execute(insert(UserEpisodeRow).values(values).returning(UserEpisodeRow.id)).scalar_one()
        return episode.model_copy(update={"id": int(new_id), "persona_id": persona_id})

    def covered(self, session_id: str) -> int:
        """The last turn of `session_id` that an episode covers (-1 if none)."""
        with self._sessions() as db:
            last = db.scalar(select(func.max(UserEpisodeRow.last_turn)).where(UserEpisodeRow.session_id == session_id))
            return -1 if last is None else int(last)

    def export(self, scope: MemoryScope) -> MemoryExport:
        """Everything kept about the scope's user, history included."""
        return MemoryExport(
            key_id=scope.key_id,
            user=scope.user,
            persona_id=scope.persona_id,
            facts=self.facts(scope, history=True),
            episodes=self.episodes(scope),
        )

    @property
    def identity(self) -> str:
        """Which database this is (its URL without the password): whose vector indexes a process may reuse."""
        return self.store.engine.url.render_as_string(hide_password=True)

    def users(self, key_id: str | None) -> list[str]:
        """Users this key (None: the local CLI) has memory of."""
        key = UserFactRow.key_id.is_(None) if key_id is None else UserFactRow.key_id == key_id
        with self._sessions() as db:
            return sorted(set(db.scalars(select(UserFactRow.user_name).where(key).distinct())))
