"""User memory in the session database: facts with their history and episodes, per (key, user, character).

Every query is filtered by the scope's key and user (and character, unless the scope asks for all of them): one
key's or user's memory never comes back for another's.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from copy import copy
from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    ColumnElement,
    Connection,
    Delete,
    Row,
    Select,
    Update,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from personae.memory import MESSAGE_TOPIC, Episode, MemoryScope, UserFact
from personae.store._schema import UserEpisodeRow, UserFactRow, utcnow
from personae.store._store import SessionStore, _as_text, within


class MemoryExport(BaseModel):
    """Everything kept about one user (for one character or all): what `personae memory export` writes."""

    key_id: str | None
    """The owning key (None: the local CLI)."""
    user: str
    """The user's name."""
    persona_id: str | None
    """The character, or None for every character."""
    facts: list[UserFact] = Field(default_factory=list)
    """Facts, oldest first, superseded ones included, and the user's messages kept verbatim (topic `said`)."""
    episodes: list[Episode] = Field(default_factory=list)
    """Episodes, oldest first."""


def _where(table: type[UserFactRow] | type[UserEpisodeRow], scope: MemoryScope) -> list[ColumnElement[bool]]:
    """The filter of a scope: its key (NULL for the local CLI), its user and, if named, its character."""
    key = table.key_id.is_(None) if scope.key_id is None else table.key_id == scope.key_id
    where = [key, table.user_name == scope.user]
    if scope.persona_id is not None:
        where.append(table.persona_id == scope.persona_id)
    return where


def _scope_binds(table: type[UserFactRow] | type[UserEpisodeRow], local: bool, persona: bool) -> list[Any]:
    """`_where` with bound parameters (`kid`, `user`, `pid`), for statements built once and run on every turn."""
    where: list[Any] = [table.key_id.is_(None) if local else table.key_id == bindparam("kid")]
    where.append(table.user_name == bindparam("user"))
    if persona:
        where.append(table.persona_id == bindparam("pid"))
    return where


def _scope_params(scope: MemoryScope) -> dict[str, Any]:
    """The bound parameters of `_scope_binds` for a scope."""
    return {"kid": scope.key_id, "user": scope.user, "pid": scope.persona_id}


_Row = Row[*tuple[Any, ...]]
_Select = Select[*tuple[Any, ...]]

_FACT_COLUMNS: tuple[Any, ...] = (
    UserFactRow.id,
    UserFactRow.text,
    UserFactRow.topic,
    UserFactRow.persona_id,
    UserFactRow.session_id,
    UserFactRow.turn,
    UserFactRow.said_at,
    UserFactRow.refers_to,
    UserFactRow.source,
    UserFactRow.superseded_by,
    UserFactRow.superseded_at,
)
_EPISODE_COLUMNS: tuple[Any, ...] = (
    UserEpisodeRow.id,
    UserEpisodeRow.persona_id,
    UserEpisodeRow.session_id,
    UserEpisodeRow.first_turn,
    UserEpisodeRow.last_turn,
    UserEpisodeRow.summary,
    _as_text(UserEpisodeRow.events),
    UserEpisodeRow.happened_at,
)


@cache
def _facts_query(
    local: bool, persona: bool, history: bool, ids: bool, topic: bool, after: bool, session: bool
) -> _Select:
    """The facts query for one combination of filters, built once: recall reads facts on every turn.

    Building a statement and its cache key cost more CPU than SQLite's answer. Parameters: `_scope_params`, `ids`,
    `topic`, `after`, `sid`.
    """
    query = select(*_FACT_COLUMNS).where(*_scope_binds(UserFactRow, local, persona))
    if not history:
        query = query.where(UserFactRow.superseded_at.is_(None))
    if ids:
        query = query.where(UserFactRow.id.in_(bindparam("ids", expanding=True)))
    if topic:
        query = query.where(UserFactRow.topic == bindparam("topic"))
    if after:
        query = query.where(UserFactRow.id > bindparam("after"))
    if session:
        query = query.where(UserFactRow.session_id == bindparam("sid"))
    return query.order_by(UserFactRow.id)


@cache
def _episodes_query(local: bool, persona: bool, excluding: bool, newest: bool) -> _Select:
    """The episodes query for one combination of filters, newest first, built once (as `_facts_query`).

    Parameters: `_scope_params`, `sid` (the session left out), `newest` (how many).
    """
    query = select(*_EPISODE_COLUMNS).where(*_scope_binds(UserEpisodeRow, local, persona))
    if excluding:
        query = query.where(UserEpisodeRow.session_id != bindparam("sid"))
    query = query.order_by(UserEpisodeRow.id.desc())
    return query.limit(bindparam("newest")) if newest else query


MAX_EPISODES_KEPT = 4096
"""Episodes a process keeps built (`_EPISODES`), least recently used dropped first: recall reads at most
`episode_candidates` (50) per user and character, so this covers some eighty talking at once."""
_EPISODES: OrderedDict[tuple[Any, ...], Episode] = OrderedDict()
"""Episodes built from their rows, by the row's values: each turn's recall reads the newest fifty episodes of its
user, and between two turns only a few of them are new (the other sessions' latest stretches); building the rest
again (events parsed, model validated) cost more than reading them."""
_EPISODES_LOCK = threading.Lock()


@cache
def _replace_episode(local: bool) -> Delete:
    """Delete the key's and user's episode of one session and first turn (`sid`, `first`), before its new version."""
    return delete(UserEpisodeRow).where(
        UserEpisodeRow.session_id == bindparam("sid"),
        UserEpisodeRow.first_turn == bindparam("first"),
        *_scope_binds(UserEpisodeRow, local, False),
    )


@cache
def _supersede(local: bool) -> Update:
    """Mark the key's and user's current facts `ids` as replaced by `new` (any character: the scope's own check)."""
    return (
        update(UserFactRow)
        .where(
            UserFactRow.id.in_(bindparam("ids", expanding=True)),
            UserFactRow.superseded_at.is_(None),
            *_scope_binds(UserFactRow, local, False),
        )
        .values(superseded_by=bindparam("new"), superseded_at=bindparam("now"))
    )


_INSERT_FACT = insert(UserFactRow).returning(UserFactRow.id)
_INSERT_EPISODE = insert(UserEpisodeRow).returning(UserEpisodeRow.id)


def _utc(value: datetime | None) -> datetime | None:
    """A stored time as aware UTC: SQLite hands back naive datetimes for what was written as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _fact(row: _Row) -> UserFact:
    """The fact of a row of `_FACT_COLUMNS` (unpacked: reading a row's fields by name cost more than the model)."""
    fact_id, text, topic, persona_id, session_id, turn, said_at, refers_to, source, by, superseded_at = row
    return UserFact(
        id=fact_id,
        text=text,
        topic=topic,
        persona_id=persona_id,
        session_id=session_id,
        turn=turn,
        said_at=_utc(said_at),
        refers_to=refers_to,
        source=source,
        superseded_by=by,
        superseded_at=_utc(superseded_at),
    )


def _episode(row: _Row) -> Episode:
    """The episode of a row of `_EPISODE_COLUMNS` (its events as JSON text)."""
    episode_id, persona_id, session_id, first_turn, last_turn, summary, events, happened_at = row
    return Episode(
        id=episode_id,
        persona_id=persona_id,
        session_id=session_id,
        first_turn=first_turn,
        last_turn=last_turn,
        summary=summary,
        events=json.loads(events) if events and events != "[]" else [],
        happened_at=_utc(happened_at),
    )


def _kept_episodes(rows: Sequence[_Row]) -> list[Episode]:
    """The episodes of rows of `_EPISODE_COLUMNS`, each built once per distinct row (`_EPISODES`).

    They are shared between reads: never change them.
    """
    with _EPISODES_LOCK:  # the memory routes read from the server's thread pool
        found = []
        for row in rows:
            key = tuple(row)
            episode = _EPISODES.get(key)
            if episode is None:
                episode = _EPISODES[key] = _episode(row)
                if len(_EPISODES) > MAX_EPISODES_KEPT:
                    _EPISODES.popitem(last=False)
            else:
                _EPISODES.move_to_end(key)
            found.append(episode)
        return found


class UserMemoryStore:
    """Reads and writes user memory in a `SessionStore`'s database (implements `personae.memory.MemoryRepository`).

    Example:
        memory = UserMemoryStore(SessionStore())
        memory.facts(MemoryScope(None, "Sam", "ada-quint"))
    """

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self._conn: Connection | None = None
        """The caller's transaction every call runs in (`bound`); None: each call in one of its own."""
        self._identity = store.engine.url.render_as_string(hide_password=True)

    def bound(self, conn: Connection) -> UserMemoryStore:
        """This store reading and writing in the transaction of `conn`, to commit or roll back with the caller's writes.

        A turn stores what it taught the character about its user this way, in the transaction that stores the turn.
        """
        bound = copy(self)
        bound._conn = conn
        return bound

    def facts(
        self,
        scope: MemoryScope,
        history: bool = False,
        *,
        ids: Sequence[int] | None = None,
        topic: str | None = None,
        after: int | None = None,
        session_id: str | None = None,
        messages: bool = False,
    ) -> list[UserFact]:
        """Facts of the scope, oldest first; superseded ones too with `history`.

        `ids`, `topic` and `after` (ids above it) narrow the query: what recall and supersession read when a
        character knows too many facts to read them all (see `personae.memory.FactIndex`); `session_id` what one
        session told (its episode's events). The user's messages kept verbatim (`MESSAGE_TOPIC`) come only with
        `messages` (left out after the query, so that the statements stay the ones warmed at start-up).
        """
        query = _facts_query(
            scope.key_id is None,
            scope.persona_id is not None,
            history,
            ids is not None,
            topic is not None,
            after is not None,
            session_id is not None,
        )
        params = {**_scope_params(scope), "topic": topic, "after": after, "sid": session_id}
        if ids is not None:
            params["ids"] = list(ids)
        with within(self.store.engine, self._conn) as db:
            rows = db.execute(query, params).all()
        return [_fact(row) for row in rows if messages or row[2] != MESSAGE_TOPIC]

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
        with within(self.store.engine, self._conn) as db:
            new_id = db.execute(_INSERT_FACT, values).scalar_one()
            if supersedes:
                params = {**_scope_params(scope), "ids": list(supersedes), "new": new_id, "now": now}
                db.execute(_supersede(scope.key_id is None), params)
        return fact.model_copy(update={"id": int(new_id), "persona_id": persona_id})

    def fact(self, scope: MemoryScope, fact_id: int) -> UserFact | None:
        """One fact of the scope by id (None if it is another key's, user's or character's)."""
        with within(self.store.engine, self._conn) as db:
            query = select(*_FACT_COLUMNS).where(UserFactRow.id == fact_id, *_where(UserFactRow, scope))
            row = db.execute(query).first()
        return _fact(row) if row else None

    def correct(self, scope: MemoryScope, fact_id: int, text: str) -> UserFact | None:
        """Replace a current fact's text with the user's correction (the old one is kept as history)."""
        old = self.fact(scope, fact_id)
        if old is None or not old.current:
            return None
        new = old.model_copy(update={"id": None, "text": text, "source": "user", "said_at": utcnow()})
        retired = [fact_id, *self._messages_of(scope, [old])]  # the message it was read from says the old text
        return self.add_fact(scope._replace(persona_id=old.persona_id), new, retired)

    def _messages_of(self, scope: MemoryScope, facts: Sequence[UserFact]) -> list[int]:
        """Ids of the scope's kept messages the given facts were read from (same session and turn)."""
        turns = {(f.session_id, f.turn) for f in facts if f.topic != MESSAGE_TOPIC and f.turn is not None}
        found: list[int] = []
        for session_id in {sid for sid, _ in turns if sid is not None}:
            for fact in self.facts(scope, history=True, session_id=session_id, messages=True):
                if fact.topic == MESSAGE_TOPIC and (fact.session_id, fact.turn) in turns and fact.id is not None:
                    found.append(fact.id)
        return found

    def forget(self, scope: MemoryScope, fact_ids: Sequence[int] | None = None) -> int:
        """Delete facts for good (history too): the given ones, or all of the scope with its episodes."""
        with within(self.store.engine, self._conn) as conn:
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
                # ...and the message it was read from, kept verbatim: it says the same.
                bound = self.bound(conn)
                ids |= set(bound._messages_of(scope, bound.facts(scope, history=True, ids=list(ids))))
                query = query.where(UserFactRow.id.in_(list(ids)))
            gone = conn.execute(query).rowcount or 0
            if fact_ids is None:
                gone += conn.execute(delete(UserEpisodeRow).where(*_where(UserEpisodeRow, scope))).rowcount or 0
        return int(gone)

    def episodes(
        self,
        scope: MemoryScope,
        *,
        newest: int | None = None,
        excluding_session: str | None = None,
    ) -> list[Episode]:
        """Episodes of the scope, oldest first; only the `newest` so many, leaving out `excluding_session`'s.

        The episodes returned may be shared with other reads of the same rows: read them, never change them.
        """
        query = _episodes_query(
            scope.key_id is None, scope.persona_id is not None, excluding_session is not None, newest is not None
        )
        params = {**_scope_params(scope), "sid": excluding_session, "newest": newest}
        with within(self.store.engine, self._conn) as db:
            rows = db.execute(query, params).all()
        return _kept_episodes(rows[::-1])

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
        same = {**_scope_params(scope), "sid": episode.session_id, "first": episode.first_turn}
        with within(self.store.engine, self._conn) as db:
            db.execute(_replace_episode(scope.key_id is None), same)
            new_id = db.execute(_INSERT_EPISODE, values).scalar_one()
        return episode.model_copy(update={"id": int(new_id), "persona_id": persona_id})

    def covered(self, session_id: str) -> int:
        """The last turn of `session_id` that an episode covers (-1 if none)."""
        with within(self.store.engine, self._conn) as db:
            query = select(func.max(UserEpisodeRow.last_turn)).where(UserEpisodeRow.session_id == session_id)
            last = db.execute(query).scalar()
            return -1 if last is None else int(last)

    def export(self, scope: MemoryScope) -> MemoryExport:
        """Everything kept about the scope's user, history included."""
        return MemoryExport(
            key_id=scope.key_id,
            user=scope.user,
            persona_id=scope.persona_id,
            facts=self.facts(scope, history=True, messages=True),
            episodes=self.episodes(scope),
        )

    @property
    def identity(self) -> str:
        """Which database this is (its URL without the password): whose vector indexes a process may reuse."""
        return self._identity

    def users(self, key_id: str | None) -> list[str]:
        """Users this key (None: the local CLI) has memory of."""
        key = UserFactRow.key_id.is_(None) if key_id is None else UserFactRow.key_id == key_id
        with within(self.store.engine, self._conn) as db:
            return sorted(set(db.execute(select(UserFactRow.user_name).where(key).distinct()).scalars()))
