"""The server's tables: hashed API keys, session ownership, conversation hashes, uploaded personas and eval runs."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel
from sqlalchemy import Connection, Executable, Select, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from personae.persona import Persona
from personae.store._errors import StoreError
from personae.store._schema import (
    ApiKeyRow,
    CandidateRow,
    EvalRunRow,
    ServerPersonaRow,
    SessionOwnerRow,
    SessionRow,
    TurnRow,
    utcnow,
)
from personae.store._store import SessionStore, SessionSummary, within

KEY_PREFIX = "pk-"
"""Every personae API key starts with this, so a leaked key is recognisable."""


def hash_key(secret: str) -> str:
    """SHA-256 hex of a key: keys are 256 random bits, so a fast unsalted hash is enough to make the table useless."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class ApiKey(BaseModel):
    """A stored key, without its secret."""

    id: str
    """Public key id (safe to log)."""
    name: str
    """Label given when it was created."""
    created_at: datetime
    """When it was created."""


class KeyStatus(ApiKey):
    """A key as `personae keys list` shows it."""

    revoked: bool
    """Whether it was revoked (it then authenticates nothing)."""


REVOKED_PREFIX = "revoked:"
"""What a revoked key's hash column starts with: no hash of a secret does."""


EvalStatus = Literal["running", "finished", "failed", "interrupted"]
"""Where a server eval run stands; `interrupted` is a run the server stopped before it finished."""


class EvalRunInfo(BaseModel):
    """An eval run started through the server, as stored (progress is read from its folder)."""

    id: str
    """Run id."""
    key_id: str
    """The owning key."""
    name: str
    """The spec's name."""
    out_dir: str
    """Folder holding samples.jsonl, results.json and report.html."""
    items: int
    """Items planned."""
    status: EvalStatus
    """running, finished, failed or interrupted."""
    error: str | None = None
    """Why it failed."""
    created_at: datetime
    """When it started."""
    finished_at: datetime | None = None
    """When it ended."""
    runner: str | None = None
    """The server process running it (`host:pid:start`), if recorded."""


PREVIEW_CHARS = 160
"""A session listing's last message is cut to this many characters."""


class SessionListing(SessionSummary):
    """One line of the server's session list: the summary plus what a chat list shows."""

    persona_id: str
    """The persona (model) id the session was started for."""
    created_at: datetime
    """When the session was started."""
    preview: str | None = None
    """The last message (the shown reply, else the user's text), cut to `PREVIEW_CHARS`; None before any turn."""


class PersonaAvatar(NamedTuple):
    """A persona's picture as stored: the image bytes, their media type and their SHA-256 (hex)."""

    data: bytes
    media_type: str
    sha256: str

    @classmethod
    def of(cls, data: bytes, media_type: str) -> PersonaAvatar:
        """The picture `data` of type `media_type`, with its hash computed."""
        return cls(data, media_type, hashlib.sha256(data).hexdigest())


class NewKey(NamedTuple):
    """A freshly created key: the stored record and the secret, shown once."""

    key: ApiKey
    secret: str


class Ownership(BaseModel):
    """Who owns a session and where its conversation stands, for mapping stateless chat histories onto it."""

    session_id: str
    """The session."""
    key_id: str
    """The owning key."""
    persona_id: str
    """The persona (model) id it was started for."""
    head_hash: str | None
    """Hash of the conversation including its last turn."""
    prev_hash: str | None
    """Hash of the conversation before its last turn plus that turn's user message (a resent message is a swipe)."""
    version: int = 0
    """The session's version (`SessionRecord.version`) when this was read: current only as long as nobody writes."""


_OWNERSHIP = (
    SessionOwnerRow.session_id,
    SessionOwnerRow.key_id,
    SessionOwnerRow.persona_id,
    SessionOwnerRow.head_hash,
    SessionOwnerRow.prev_hash,
    SessionRow.version,
)
_SET_HASHES = (
    update(SessionOwnerRow)
    .where(SessionOwnerRow.session_id == bindparam("sid"))
    .values(head_hash=bindparam("head"), prev_hash=bindparam("prev"))
)
_CLAIM = insert(SessionOwnerRow)
_OWNER = (
    select(*_OWNERSHIP)
    .join(SessionRow, SessionRow.id == SessionOwnerRow.session_id)
    .where(SessionOwnerRow.session_id == bindparam("sid"))
)
_UPLOADS_STAMP = select(func.count(), func.max(ServerPersonaRow.created_at)).where(
    ServerPersonaRow.key_id == bindparam("key_id")
)


def _find_by(column: InstrumentedAttribute[str | None]) -> Executable:
    """The first ownership row of a key and persona whose `column` holds a conversation hash."""
    return (
        select(*_OWNERSHIP)
        .join(SessionRow, SessionRow.id == SessionOwnerRow.session_id)
        .where(
            SessionOwnerRow.key_id == bindparam("key_id"),
            SessionOwnerRow.persona_id == bindparam("persona_id"),
            column == bindparam("hash"),
        )
        .limit(1)
    )


_FIND_BY_HEAD = _find_by(SessionOwnerRow.head_hash)
_FIND_BY_PREV = _find_by(SessionOwnerRow.prev_hash)


class AccessStore:
    """API keys, ownership and uploaded personas, in the same database as the sessions.

    Example:
        access = AccessStore(SessionStore(url))
        new = access.create_key("alice")          # new.secret goes to the user once
        key = access.find_key(new.secret)
    """

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self._sessions = store._sessions

    def create_key(self, name: str = "default") -> NewKey:
        """Create a key; only its hash is stored."""
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(id=secrets.token_hex(6), name=name, key_hash=hash_key(secret))
        with self._sessions.begin() as db:
            db.add(row)
        return NewKey(ApiKey(id=row.id, name=row.name, created_at=row.created_at), secret)

    def list_keys(self) -> list[KeyStatus]:
        """Every key, oldest first, with whether it is revoked (secrets are never stored, so never listed)."""
        with self._sessions() as db:
            rows = db.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at))
            return [
                KeyStatus(id=r.id, name=r.name, created_at=r.created_at, revoked=r.key_hash.startswith(REVOKED_PREFIX))
                for r in rows
            ]

    def revoke_key(self, key_id: str) -> bool:
        """Make a key unusable (its hash is replaced, so no secret matches it); returns whether it was usable.

        Its sessions, uploads and eval runs are kept.
        """
        with self._sessions.begin() as db:
            result = db.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.id == key_id, ApiKeyRow.key_hash.not_like(REVOKED_PREFIX + "%"))
                .values(key_hash=REVOKED_PREFIX + key_id)
            )
            return bool(getattr(result, "rowcount", 0))

    def find_key(self, secret: str) -> ApiKey | None:
        """The key whose secret this is, or None."""
        with self._sessions() as db:
            row = db.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_key(secret)))
            return ApiKey(id=row.id, name=row.name, created_at=row.created_at) if row else None

    def claim(
        self,
        session_id: str,
        key_id: str,
        persona_id: str,
        head_hash: str | None = None,
        prev_hash: str | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Record that `key_id` owns a new session for `persona_id` (on `conn`: inside the caller's transaction)."""
        values = {
            "session_id": session_id,
            "key_id": key_id,
            "persona_id": persona_id,
            "head_hash": head_hash,
            "prev_hash": prev_hash,
        }
        with within(self.store.engine, conn) as db:
            db.execute(_CLAIM, values)

    def owner(self, session_id: str) -> Ownership | None:
        """Ownership of a session, or None when no key owns it."""
        with self.store.engine.connect() as conn:
            row = conn.execute(_OWNER, {"sid": session_id}).first()
        return Ownership.model_validate(row._asdict()) if row is not None else None

    def find_conversation(
        self, key_id: str, persona_id: str, head_hash: str | None, swipe_hash: str
    ) -> tuple[Ownership, bool] | None:
        """A session of this key and persona that a request continues, and whether the request is a swipe.

        `head_hash` matches a conversation whose turns are the request's history (the request adds a turn);
        `swipe_hash` matches one whose last turn is the request's history plus its new message (a resend: a swipe).
        """
        lookups = [(_FIND_BY_PREV, swipe_hash, True)]
        if head_hash is not None:
            lookups.insert(0, (_FIND_BY_HEAD, head_hash, False))
        # Core statements built once: a server runs this for every conversation it has not seen, e.g. each first turn
        with self.store.engine.connect() as conn:
            for statement, value, is_swipe in lookups:
                row = conn.execute(statement, {"key_id": key_id, "persona_id": persona_id, "hash": value}).first()
                if row is not None:
                    return Ownership.model_validate(row._asdict()), is_swipe
        return None

    def recent_conversations(self, key_id: str, persona_id: str, user_name: str, limit: int = 20) -> list[str]:
        """Ids of this key's most recently updated sessions with a persona and user name (newest first)."""
        query = (
            select(SessionOwnerRow.session_id)
            .join(SessionRow, SessionRow.id == SessionOwnerRow.session_id)
            .where(
                SessionOwnerRow.key_id == key_id,
                SessionOwnerRow.persona_id == persona_id,
                SessionRow.user_name == user_name,
            )
            .order_by(SessionRow.updated_at.desc())
            .limit(limit)
        )
        with self.store.engine.connect() as conn:
            return [row[0] for row in conn.execute(query)]

    def set_hashes(
        self, session_id: str, head_hash: str, prev_hash: str | None, conn: Connection | None = None
    ) -> None:
        """Move a session's conversation hashes after a turn (on `conn`: inside the transaction storing the turn)."""
        with within(self.store.engine, conn) as db:
            result = db.execute(_SET_HASHES, {"sid": session_id, "head": head_hash, "prev": prev_hash})
            if not getattr(result, "rowcount", 0):
                raise StoreError(f"session {session_id!r} has no owner")

    def list_sessions(
        self, key_id: str, search: str | None = None, limit: int | None = None, offset: int = 0
    ) -> list[SessionListing]:
        """The key's sessions, most recently updated first, with their persona id and last message.

        `search` keeps sessions whose persona name or any message (the user's, or a reply) contains it, ignoring
        case; `limit` and `offset` page through the result.
        """

        def narrow(query: Select[Any]) -> Select[Any]:
            query = query.join(SessionOwnerRow, SessionOwnerRow.session_id == SessionRow.id).where(
                SessionOwnerRow.key_id == key_id
            )
            if search:
                pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                said = (
                    select(TurnRow.id)
                    .outerjoin(CandidateRow, CandidateRow.turn_id == TurnRow.id)
                    .where(
                        TurnRow.session_id == SessionRow.id,
                        or_(
                            func.lower(TurnRow.user_text).like(pattern, escape="\\"),
                            func.lower(CandidateRow.text).like(pattern, escape="\\"),
                        ),
                    )
                    .exists()
                )
                query = query.where(or_(func.lower(SessionRow.persona_name).like(pattern, escape="\\"), said))
            return query.offset(offset).limit(limit)

        summaries = self.store.list_sessions(narrow)
        extra = self._listing_extras([s.id for s in summaries])
        return [SessionListing(**s.model_dump(), **extra[s.id]) for s in summaries]

    def _listing_extras(self, session_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Listed sessions' persona id, start time and last message (the shown reply, else the user's text).

        Two queries per 500 sessions, whatever the number of turns: the list is read on every page of the web UI.
        """
        extras: dict[str, dict[str, Any]] = {}
        with self._sessions() as db:
            for start in range(0, len(session_ids), 500):
                chunk = session_ids[start : start + 500]
                for sid, persona_id, created in db.execute(
                    select(SessionOwnerRow.session_id, SessionOwnerRow.persona_id, SessionRow.created_at)
                    .join(SessionRow, SessionRow.id == SessionOwnerRow.session_id)
                    .where(SessionOwnerRow.session_id.in_(chunk))
                ):
                    extras[sid] = {"persona_id": persona_id, "created_at": created, "preview": None}
                newest = (
                    select(TurnRow.session_id, func.max(TurnRow.index).label("last"))
                    .where(TurnRow.session_id.in_(chunk))
                    .group_by(TurnRow.session_id)
                    .subquery()
                )
                for sid, user_text, reply in db.execute(
                    select(TurnRow.session_id, TurnRow.user_text, CandidateRow.text)
                    .join(newest, (newest.c.session_id == TurnRow.session_id) & (newest.c.last == TurnRow.index))
                    .outerjoin(
                        CandidateRow,
                        (CandidateRow.turn_id == TurnRow.id) & (CandidateRow.index == TurnRow.chosen_index),
                    )
                ):
                    preview = reply or user_text
                    if len(preview) > PREVIEW_CHARS:
                        preview = preview[: PREVIEW_CHARS - 1].rstrip() + "…"
                    extras[sid]["preview"] = preview
        return extras

    def delete_session(self, session_id: str) -> None:
        """Delete a session with its turns, swipes, memories and ownership."""
        with self._sessions.begin() as db:
            db.execute(delete(SessionOwnerRow).where(SessionOwnerRow.session_id == session_id))
            row = db.get(SessionRow, session_id)
            if row is not None:
                db.delete(row)

    def add_persona(self, key_id: str, persona: Persona, persona_id: str, avatar: PersonaAvatar | None = None) -> None:
        """Store an uploaded persona (and its picture) under `persona_id` for `key_id`, replacing one with that id."""
        data = persona.model_dump(mode="json", exclude_none=True)
        row = ServerPersonaRow(key_id=key_id, persona_id=persona_id, name=persona.name, persona_json=data)
        if avatar is not None:
            row.avatar, row.avatar_type, row.avatar_hash = avatar
        try:
            with self._sessions.begin() as db:
                db.execute(
                    delete(ServerPersonaRow).where(
                        ServerPersonaRow.key_id == key_id, ServerPersonaRow.persona_id == persona_id
                    )
                )
                db.add(row)
        except IntegrityError as exc:
            raise StoreError(f"cannot store persona {persona_id!r}: {exc.orig}") from exc

    def set_avatar(self, key_id: str, persona_id: str, avatar: PersonaAvatar | None) -> bool:
        """Give the key's uploaded persona a new picture (None: none); False when it has no upload with that id.

        The row's `created_at` moves too, so processes caching the key's uploads see the change (`uploads_stamp`).
        """
        with self._sessions.begin() as db:
            data, media_type, sha256 = avatar if avatar is not None else (None, None, None)
            result = db.execute(
                update(ServerPersonaRow)
                .where(ServerPersonaRow.key_id == key_id, ServerPersonaRow.persona_id == persona_id)
                .values(avatar=data, avatar_type=media_type, avatar_hash=sha256, created_at=utcnow())
            )
            return bool(getattr(result, "rowcount", 0))

    def avatar(self, key_id: str, persona_id: str) -> PersonaAvatar | None:
        """The picture of the key's uploaded persona, or None when it has none (or no such upload)."""
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(ServerPersonaRow.avatar, ServerPersonaRow.avatar_type, ServerPersonaRow.avatar_hash).where(
                    ServerPersonaRow.key_id == key_id, ServerPersonaRow.persona_id == persona_id
                )
            ).first()
        if row is None or row.avatar is None or row.avatar_type is None or row.avatar_hash is None:
            return None
        return PersonaAvatar(bytes(row.avatar), row.avatar_type, row.avatar_hash)

    def avatar_hashes(self, key_id: str) -> dict[str, str]:
        """SHA-256 of each of the key's uploaded personas that has a picture, by persona id (the pictures unread)."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(ServerPersonaRow.persona_id, ServerPersonaRow.avatar_hash).where(
                    ServerPersonaRow.key_id == key_id, ServerPersonaRow.avatar_hash.is_not(None)
                )
            )
            return {persona_id: sha256 for persona_id, sha256 in rows if sha256 is not None}

    def personas(self, key_id: str) -> dict[str, Persona]:
        """The key's uploaded personas by id, oldest first."""
        with self._sessions() as db:
            rows = db.scalars(
                select(ServerPersonaRow).where(ServerPersonaRow.key_id == key_id).order_by(ServerPersonaRow.row_id)
            )
            return {r.persona_id: Persona.model_validate(r.persona_json) for r in rows}

    def uploads_stamp(self, key_id: str) -> tuple[int, datetime | None]:
        """How many personas the key has uploaded and when the newest was stored: changes whenever they change.

        Uploads replace by delete and insert, so any change moves the count or the newest time; a process that
        caches a key's uploads compares this instead of reading them all again.
        """
        with self.store.engine.connect() as conn:
            count, newest = conn.execute(_UPLOADS_STAMP, {"key_id": key_id}).one()
        return int(count), newest

    def delete_persona(self, key_id: str, persona_id: str) -> bool:
        """Delete the key's uploaded persona; False when it has none with that id."""
        with self._sessions.begin() as db:
            result = db.execute(
                delete(ServerPersonaRow).where(
                    ServerPersonaRow.key_id == key_id, ServerPersonaRow.persona_id == persona_id
                )
            )
            return bool(getattr(result, "rowcount", 0))

    def add_eval(
        self, run_id: str, key_id: str, name: str, out_dir: str, items: int, runner: str | None = None
    ) -> EvalRunInfo:
        """Record a run `key_id` has just started (in the server process `runner`)."""
        row = EvalRunRow(
            id=run_id, key_id=key_id, name=name, out_dir=out_dir, items=items, status="running", runner=runner
        )
        with self._sessions.begin() as db:
            db.add(row)
        return _eval_info(row)

    def eval_run(self, run_id: str) -> EvalRunInfo | None:
        """One run, or None."""
        with self._sessions() as db:
            row = db.get(EvalRunRow, run_id)
            return _eval_info(row) if row else None

    def eval_runs(self, key_id: str) -> list[EvalRunInfo]:
        """The key's runs, newest first."""
        with self._sessions() as db:
            rows = db.scalars(
                select(EvalRunRow).where(EvalRunRow.key_id == key_id).order_by(EvalRunRow.created_at.desc())
            )
            return [_eval_info(r) for r in rows]

    def end_eval(self, run_id: str, status: EvalStatus, error: str | None = None, if_running: bool = False) -> None:
        """Record how a run ended; with `if_running`, only if it is still recorded as running."""
        statement = update(EvalRunRow).where(EvalRunRow.id == run_id)
        if if_running:
            statement = statement.where(EvalRunRow.status == "running")
        with self._sessions.begin() as db:
            db.execute(statement.values(status=status, error=error, finished_at=utcnow()))

    def interrupt_running_evals(self) -> int:
        """Mark runs left `running` by a stopped server as interrupted; returns how many (called at start-up)."""
        with self._sessions.begin() as db:
            result = db.execute(update(EvalRunRow).where(EvalRunRow.status == "running").values(status="interrupted"))
            return int(getattr(result, "rowcount", 0) or 0)


def _eval_info(row: EvalRunRow) -> EvalRunInfo:
    return EvalRunInfo.model_validate(row, from_attributes=True)
