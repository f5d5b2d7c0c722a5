"""Sessions persisted through SQLAlchemy: a SQLite file by default, any SQLAlchemy URL (PostgreSQL) by config."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, Select, bindparam, create_engine, event, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from personae._util.paths import home_dir
from personae.guard import Candidate
from personae.memory import MemoryItem
from personae.persona import Persona
from personae.prompting import AssembledPrompt, Exchange
from personae.scoring import APCResult, Contradiction, OOCResult
from personae.store._errors import SessionNotFoundError, StoreError
from personae.store._migrations import migrate
from personae.store._schema import CandidateRow, MemoryRow, SessionRow, TurnRow, utcnow

DATABASE_ENV = "PERSONAE_DATABASE_URL"
"""Environment variable naming the SQLAlchemy URL of the session database."""


def default_database_url() -> str:
    """`PERSONAE_DATABASE_URL`, else a SQLite file `sessions.db` in the personae home."""
    return os.environ.get(DATABASE_ENV) or f"sqlite:///{home_dir() / 'sessions.db'}"


class TurnRecord(BaseModel):
    """A stored turn: the user's message, the prompt, every candidate (swipe) and which one is shown."""

    index: int
    """Position in the session, from 0."""
    user_text: str
    """The user's message."""
    prompt: AssembledPrompt
    """The prompt the first round of candidates was generated from."""
    candidates: list[Candidate] = Field(default_factory=list)
    """All candidates, in generation order."""
    chosen_index: int | None = None
    """`Candidate.index` of the shown reply."""

    @property
    def shown(self) -> Candidate | None:
        """The candidate shown to the user."""
        return next((c for c in self.candidates if c.index == self.chosen_index), None)

    @property
    def reply(self) -> str:
        """The shown reply's text (empty if none)."""
        shown = self.shown
        return shown.text if shown else ""

    def exchange(self) -> Exchange:
        """This turn as the prompt assembler sees it."""
        return Exchange(index=self.index, user=self.user_text, reply=self.reply)


class SessionRecord(BaseModel):
    """A stored session with its turns and memories."""

    id: str
    """Session id."""
    persona: Persona
    """The persona copy the session was started with."""
    persona_hash: str
    """`Persona.content_hash()` of that copy."""
    user_name: str
    """The user's name ({{user}})."""
    backend: str
    """Backend address used."""
    settings: dict[str, Any]
    """Guard and prompt settings."""
    created_at: datetime
    """When it started."""
    updated_at: datetime
    """Last change."""
    turns: list[TurnRecord] = Field(default_factory=list)
    """Turns, oldest first."""
    memories: list[MemoryItem] = Field(default_factory=list)
    """Memories, oldest first."""


class SessionSummary(BaseModel):
    """One line of `/sessions`."""

    id: str
    persona_name: str
    user_name: str
    turns: int
    updated_at: datetime


def _candidate_values(c: Candidate) -> dict[str, Any]:
    """A candidate's column values (without `turn_id`)."""
    return {
        "index": c.index,
        "round": c.round,
        "text": c.text,
        "finish_reason": c.finish_reason,
        "apc": c.result.apc if c.result else None,
        "apc_normalized": c.result.apc_normalized if c.result else None,
        "violations": len(c.violations) if c.result else None,
        "history_contradictions": len(c.contradictions),
        "scores": {
            "result": c.result.model_dump(mode="json") if c.result else None,
            "contradictions": [x.model_dump(mode="json") for x in c.contradictions],
            "ooc": c.ooc.model_dump(mode="json") if c.ooc else None,
        },
    }


def _candidate_row(c: Candidate) -> CandidateRow:
    return CandidateRow(**_candidate_values(c))


def _candidate(row: CandidateRow) -> Candidate:
    scores = row.scores or {}
    result = scores.get("result")
    return Candidate(
        index=row.index,
        round=row.round,
        text=row.text,
        finish_reason=row.finish_reason,
        result=APCResult.model_validate(result) if result else None,
        contradictions=[Contradiction.model_validate(x) for x in scores.get("contradictions", [])],
        ooc=OOCResult.model_validate(scores["ooc"]) if scores.get("ooc") else None,
    )


_TOUCH = update(SessionRow).where(SessionRow.id == bindparam("sid")).values(updated_at=bindparam("now"))
_INSERT_TURN = insert(TurnRow).returning(TurnRow.id)
_INSERT_CANDIDATES = insert(CandidateRow)


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class SessionStore:
    """Creates, loads and updates sessions; migrates the database on open.

    Example:
        store = SessionStore()                       # ~/.local/share/personae/sessions.db or PERSONAE_HOME
        store = SessionStore("postgresql+psycopg://user@host/db")
    """

    def __init__(self, url: str | None = None, engine: Engine | None = None) -> None:
        self.url = url or default_database_url()
        try:
            self.engine = engine or create_engine(self.url)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _enable_sqlite_foreign_keys)
            with self.engine.begin() as conn:
                self.applied = migrate(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the session database {self.url}: {exc.__class__.__name__}: {exc}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def _get(self, db: Session, session_id: str) -> SessionRow:
        row = db.get(SessionRow, session_id)
        if row is None:
            raise SessionNotFoundError(f"no session {session_id!r} in {self.url}")
        return row

    def _touch(self, db: Connection, session_id: str, now: datetime | None = None) -> None:
        """Set `updated_at` without loading the session (its persona JSON is large), or raise if it is missing."""
        result = db.execute(_TOUCH, {"sid": session_id, "now": now or utcnow()})
        if not getattr(result, "rowcount", 0):
            raise SessionNotFoundError(f"no session {session_id!r} in {self.url}")

    def create(self, persona: Persona, user_name: str, backend: str, settings: dict[str, Any]) -> SessionRecord:
        """Start a session with a copy of `persona`."""
        row = SessionRow(
            id=uuid.uuid4().hex[:12],
            persona_hash=persona.content_hash(),
            persona_name=persona.name,
            persona_json=persona.model_dump(mode="json", exclude_none=True),
            user_name=user_name,
            backend=backend,
            settings=settings,
        )
        with self._sessions.begin() as db:
            db.add(row)
        # Built from what was just written rather than read back: a server starts many sessions at once.
        return SessionRecord(
            id=row.id,
            persona=persona,
            persona_hash=row.persona_hash,
            user_name=user_name,
            backend=backend,
            settings=settings,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def load(self, session_id: str) -> SessionRecord:
        """The session with its turns, candidates and memories."""
        with self._sessions() as db:
            row = db.scalar(
                select(SessionRow)
                .where(SessionRow.id == session_id)
                .options(
                    selectinload(SessionRow.turns).selectinload(TurnRow.candidates),
                    selectinload(SessionRow.memories),
                )
            )
            if row is None:
                raise SessionNotFoundError(f"no session {session_id!r} in {self.url}")
            return SessionRecord(
                id=row.id,
                persona=Persona.model_validate(row.persona_json),
                persona_hash=row.persona_hash,
                user_name=row.user_name,
                backend=row.backend,
                settings=row.settings,
                created_at=row.created_at,
                updated_at=row.updated_at,
                turns=[
                    TurnRecord(
                        index=t.index,
                        user_text=t.user_text,
                        prompt=AssembledPrompt.model_validate(t.prompt),
                        candidates=[_candidate(c) for c in t.candidates],
                        chosen_index=t.chosen_index,
                    )
                    for t in row.turns
                ],
                memories=[
                    MemoryItem(kind="summary", content=m.content, first_turn=m.first_turn, last_turn=m.last_turn)
                    for m in row.memories
                ],
            )

    def list_sessions(self, narrow: Callable[[Select[Any]], Select[Any]] | None = None) -> list[SessionSummary]:
        """All sessions, most recently updated first; `narrow` may add joins and filters (e.g. one key's sessions)."""
        with self._sessions() as db:
            counts = select(TurnRow.session_id, func.count(TurnRow.id).label("n")).group_by(TurnRow.session_id)
            sub = counts.subquery()
            query = select(SessionRow, sub.c.n).outerjoin(sub, sub.c.session_id == SessionRow.id)
            if narrow is not None:
                query = narrow(query)
            rows = db.execute(query.order_by(SessionRow.updated_at.desc())).all()
            return [
                SessionSummary(
                    id=s.id, persona_name=s.persona_name, user_name=s.user_name, turns=n or 0, updated_at=s.updated_at
                )
                for s, n in rows
            ]

    def add_turn(self, session_id: str, turn: TurnRecord) -> None:
        """Store a new turn with its candidates.

        This runs on every turn a server answers, so it uses Core statements built once on a plain connection:
        the ORM unit of work cost several times more CPU per turn than the database itself.
        """
        now = utcnow()
        values = {
            "session_id": session_id,
            "index": turn.index,
            "user_text": turn.user_text,
            "prompt": turn.prompt.model_dump(mode="json"),
            "chosen_index": turn.chosen_index,
            "created_at": now,
        }
        with self.engine.begin() as conn:
            self._touch(conn, session_id, now)
            turn_id = conn.execute(_INSERT_TURN, values).scalar_one()
            if turn.candidates:
                rows = [{**_candidate_values(c), "turn_id": turn_id, "created_at": now} for c in turn.candidates]
                conn.execute(_INSERT_CANDIDATES, rows)

    def _turn(self, db: Session, session_id: str, index: int) -> TurnRow:
        turn = db.scalar(select(TurnRow).where(TurnRow.session_id == session_id, TurnRow.index == index))
        if turn is None:
            self._get(db, session_id)
            raise StoreError(f"session {session_id!r} has no turn {index}")
        return turn

    def add_candidates(self, session_id: str, index: int, candidates: list[Candidate], chosen_index: int) -> None:
        """Append regenerated candidates to turn `index` and show `chosen_index`."""
        with self._sessions.begin() as db:
            turn = self._turn(db, session_id, index)
            turn.candidates.extend(_candidate_row(c) for c in candidates)
            turn.chosen_index = chosen_index
            turn.session.updated_at = utcnow()

    def set_chosen(self, session_id: str, index: int, chosen_index: int) -> None:
        """Show another candidate of turn `index` (a swipe)."""
        with self._sessions.begin() as db:
            turn = self._turn(db, session_id, index)
            turn.chosen_index = chosen_index
            turn.session.updated_at = utcnow()

    def add_memory(self, session_id: str, item: MemoryItem) -> None:
        """Store a memory (a new rolling summary)."""
        with self._sessions.begin() as db:
            self._get(db, session_id)
            db.add(
                MemoryRow(
                    session_id=session_id,
                    kind=item.kind,
                    content=item.content,
                    first_turn=item.first_turn,
                    last_turn=item.last_turn,
                )
            )

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()
