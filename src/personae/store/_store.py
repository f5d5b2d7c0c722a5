"""Sessions persisted through SQLAlchemy: a SQLite file by default, any SQLAlchemy URL (PostgreSQL) by config."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    Connection,
    Dialect,
    Engine,
    Row,
    Select,
    Text,
    bindparam,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.types import TypeDecorator

from personae._util.paths import home_dir
from personae.guard import Candidate
from personae.memory import MemoryItem
from personae.persona import Persona
from personae.prompting import AssembledPrompt, Exchange
from personae.scoring import APCResult, Contradiction, OOCResult
from personae.store._errors import DatabaseOpenError, SessionNotFoundError, StoreError, TurnConflictError
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
    version: int = 0
    """How many changes the session had when read (or last written by this copy); each write checks it."""
    turns: list[TurnRecord] = Field(default_factory=list)
    """Turns, oldest first."""
    memories: list[MemoryItem] = Field(default_factory=list)
    """Memories, oldest first."""


class ShownTurn(NamedTuple):
    """One stored turn of a branch as a client shows it (`SessionStore.branches`)."""

    session_id: str
    branch: int
    number: int
    """The turn's index (a NamedTuple's `index` is the tuple method)."""
    user_text: str
    reply: str
    swipes: tuple[tuple[int, str], ...] = ()
    """Every candidate of the turn as (index, text), the shown one among them."""


class SessionSummary(BaseModel):
    """One line of `/sessions`."""

    id: str
    persona_name: str
    user_name: str
    turns: int
    updated_at: datetime


class _JSONText(TypeDecorator[Any]):
    """A JSON column's value handed over as JSON text already serialised (by pydantic), written without re-encoding.

    Each turn stores its prompt record and every candidate's scores; dumping those models to dicts for the column
    type to encode again cost more CPU than the insert itself.
    """

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        """No processing: the value is already JSON text (PostgreSQL still casts the parameter to json)."""
        return None


def _scores_json(c: Candidate) -> str:
    """The `scores` column of a candidate as JSON text: its APC result, self-contradictions and OOC verdict.

    A candidate the guard never judged also gets `guard_skipped`, why not, and one that claims the user's facts
    `claimed_user_facts` (others are stored as before).
    """
    result = c.result.model_dump_json() if c.result else "null"
    contradictions = ",".join(x.model_dump_json() for x in c.contradictions)
    ooc = c.ooc.model_dump_json() if c.ooc else "null"
    skipped = f',"guard_skipped":{json.dumps(c.guard_skipped)}' if c.guard_skipped is not None else ""
    claimed = f',"claimed_user_facts":{json.dumps(c.claimed_user_facts)}' if c.claimed_user_facts else ""
    return f'{{"result":{result},"contradictions":[{contradictions}],"ooc":{ooc}{skipped}{claimed}}}'


def _candidate_values(c: Candidate, turn_id: int, now: datetime) -> dict[str, Any]:
    """A candidate's column values for `_INSERT_CANDIDATES`."""
    return {
        "turn_id": turn_id,
        "index": c.index,
        "round": c.round,
        "text": c.text,
        "finish_reason": c.finish_reason,
        "apc": c.result.apc if c.result else None,
        "apc_normalized": c.result.apc_normalized if c.result else None,
        "violations": len(c.violations) if c.result else None,
        "history_contradictions": len(c.contradictions),
        "scores": _scores_json(c),
        "created_at": now,
    }


class _Scores(BaseModel):
    """The `scores` column of a candidate, read back."""

    result: APCResult | None = None
    """The APC score, None when the candidate was not scored."""
    contradictions: list[Contradiction] = Field(default_factory=list)
    """Its contradictions of the character's earlier replies."""
    ooc: OOCResult | None = None
    """The out-of-character verdict, if one was made."""
    guard_skipped: str | None = None
    """Why the guard never judged the candidate (`Candidate.guard_skipped`); absent when it did."""
    claimed_user_facts: list[str] = Field(default_factory=list)
    """The user's facts it claims as the character's own (`Candidate.claimed_user_facts`); absent when none."""


def _candidate(row: Row[Any]) -> Candidate:
    scores = _Scores.model_validate_json(row.scores) if row.scores else _Scores()
    return Candidate(index=row.number, round=row.round, text=row.text, finish_reason=row.finish_reason, **dict(scores))


def _as_text(column: Any) -> Any:
    """A JSON column read as its text, for pydantic to parse in one step (both SQLite and PostgreSQL keep it as is)."""
    return cast(column, Text).label(column.key)


# A session is read with four indexed queries, not the ORM's eager loads: after a restart every session is resumed
# by its next request, and expanding the ORM's IN lists cost more than the queries.
_LOAD_SESSION = select(
    SessionRow.id,
    SessionRow.persona_hash,
    SessionRow.user_name,
    SessionRow.backend,
    SessionRow.settings,
    SessionRow.created_at,
    SessionRow.updated_at,
    SessionRow.version,
    _as_text(SessionRow.persona_json),
).where(SessionRow.id == bindparam("sid"))
_LOAD_TURNS = (
    select(TurnRow.id, TurnRow.index.label("number"), TurnRow.user_text, TurnRow.chosen_index, _as_text(TurnRow.prompt))
    .where(TurnRow.session_id == bindparam("sid"), TurnRow.branch == 0)
    .order_by(TurnRow.index)
)
_LOAD_CANDIDATES = (
    select(
        CandidateRow.turn_id,
        CandidateRow.index.label("number"),  # a Row's `index` is the tuple method
        CandidateRow.round,
        CandidateRow.text,
        CandidateRow.finish_reason,
        _as_text(CandidateRow.scores),
    )
    .join(TurnRow, TurnRow.id == CandidateRow.turn_id)
    .where(TurnRow.session_id == bindparam("sid"), TurnRow.branch == 0)
    .order_by(CandidateRow.turn_id, CandidateRow.index)
)
_LOAD_MEMORIES = (
    select(MemoryRow.content, MemoryRow.first_turn, MemoryRow.last_turn)
    .where(MemoryRow.session_id == bindparam("sid"))
    .order_by(MemoryRow.id)
)
_TOUCH = (
    update(SessionRow)
    .where(SessionRow.id == bindparam("sid"))
    .values(updated_at=bindparam("now"), version=SessionRow.version + 1)
    .returning(SessionRow.version)
)
_TOUCH_AT = _TOUCH.where(SessionRow.version == bindparam("version"))
_VERSION = select(SessionRow.version).where(SessionRow.id == bindparam("sid"))
_INSERT_SESSION = insert(SessionRow).values(persona_json=bindparam("persona_json", type_=_JSONText()))
_INSERT_TURN = insert(TurnRow).values(prompt=bindparam("prompt", type_=_JSONText())).returning(TurnRow.id)
_INSERT_CANDIDATES = insert(CandidateRow).values(scores=bindparam("scores", type_=_JSONText()))
_TURN_ID = select(TurnRow.id).where(
    TurnRow.session_id == bindparam("sid"), TurnRow.branch == 0, TurnRow.index == bindparam("index")
)
_SET_CHOSEN = update(TurnRow).where(TurnRow.id == bindparam("tid")).values(chosen_index=bindparam("chosen"))


@contextmanager
def within(engine: Engine, conn: Connection | None) -> Iterator[Connection]:
    """`conn` (the caller's transaction) if given, else a transaction of our own, committed at the end."""
    if conn is not None:
        yield conn
        return
    with engine.begin() as own:
        yield own


StoreHook = Callable[[Connection], None]
"""More writes run inside the transaction of a store call, so they commit or roll back together with it."""


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
            raise DatabaseOpenError(
                f"cannot open the session database {self.url}: {exc.__class__.__name__}: {exc}"
            ) from exc
        except StoreError as exc:
            raise DatabaseOpenError(f"session database {self.url}: {exc}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def _touch(self, db: Connection, session_id: str, now: datetime | None = None, version: int | None = None) -> int:
        """Count a change of the session (and set `updated_at`) without loading it; returns its new version.

        With `version`, the change applies only if the session is still at that version: a process whose copy is
        older than what another process stored since gets `TurnConflictError` instead of overwriting it.
        """
        params: dict[str, Any] = {"sid": session_id, "now": now or utcnow()}
        if version is None:
            new = db.execute(_TOUCH, params).scalar()
        else:
            new = db.execute(_TOUCH_AT, {**params, "version": version}).scalar()
        if new is not None:
            return int(new)
        current = db.execute(_VERSION, {"sid": session_id}).scalar()
        if current is None:
            raise SessionNotFoundError(f"no session {session_id!r} in {self.url}")
        raise TurnConflictError(
            f"session {session_id!r} in {self.url} was changed by another process (this copy is at version "
            f"{version}, the database at {current}); reload the session and send again"
        )

    def create(
        self,
        persona: Persona,
        user_name: str,
        backend: str,
        settings: dict[str, Any],
        also: Callable[[Connection, str], None] | None = None,
        conn: Connection | None = None,
        defer: bool = False,
    ) -> SessionRecord:
        """Start a session with a copy of `persona`; `also(conn, session_id)` writes more in the same transaction.

        A Core insert, and the record is built from what was written rather than read back: a server starts many
        sessions at once (and, through `also`, records who owns each in the same commit). With `defer` nothing is
        written yet: `insert` writes the record later, e.g. in the transaction of its first turn (`add_turn`'s
        `first`), so that starting a session and answering its first message cost one commit, not two.
        """
        now = utcnow()
        record = SessionRecord(
            id=uuid.uuid4().hex[:12],
            persona=persona,
            persona_hash=persona.content_hash(),
            user_name=user_name,
            backend=backend,
            settings=settings,
            created_at=now,
            updated_at=now,
        )
        if not defer:
            self.insert(record, also, conn)
        return record

    def insert(
        self,
        record: SessionRecord,
        also: Callable[[Connection, str], None] | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Write a session `create` made with `defer` (its turns, if any, are not written); `also` as in `create`."""
        values = {
            "id": record.id,
            "persona_hash": record.persona_hash,
            "persona_name": record.persona.name,
            "persona_json": record.persona.model_dump_json(exclude_none=True),
            "user_name": record.user_name,
            "backend": record.backend,
            "settings": record.settings,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
        }
        with within(self.engine, conn) as db:
            db.execute(_INSERT_SESSION, values)
            if also is not None:
                also(db, record.id)

    def load(self, session_id: str, conn: Connection | None = None) -> SessionRecord:
        """The session with its turns, candidates and memories."""
        params = {"sid": session_id}
        with within(self.engine, conn) as db:
            row = db.execute(_LOAD_SESSION, params).first()
            if row is None:
                raise SessionNotFoundError(f"no session {session_id!r} in {self.url}")
            turns = db.execute(_LOAD_TURNS, params).all()
            candidates: dict[int, list[Candidate]] = {}
            for c in db.execute(_LOAD_CANDIDATES, params):
                candidates.setdefault(c.turn_id, []).append(_candidate(c))
            memories = db.execute(_LOAD_MEMORIES, params).all()
        return SessionRecord(
            id=row.id,
            persona=Persona.model_validate_json(row.persona_json),
            persona_hash=row.persona_hash,
            user_name=row.user_name,
            backend=row.backend,
            settings=row.settings,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            turns=[
                TurnRecord(
                    index=t.number,
                    user_text=t.user_text,
                    prompt=AssembledPrompt.model_validate_json(t.prompt),
                    candidates=candidates.get(t.id, []),
                    chosen_index=t.chosen_index,
                )
                for t in turns
            ],
            memories=[
                MemoryItem(kind="summary", content=m.content, first_turn=m.first_turn, last_turn=m.last_turn)
                for m in memories
            ],
        )

    def list_sessions(self, narrow: Callable[[Select[Any]], Select[Any]] | None = None) -> list[SessionSummary]:
        """All sessions, most recently updated first; `narrow` may add joins and filters (e.g. one key's sessions)."""
        with self._sessions() as db:
            counts = (
                select(TurnRow.session_id, func.count(TurnRow.id).label("n"))
                .where(TurnRow.branch == 0)
                .group_by(TurnRow.session_id)
            )
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

    def add_turn(
        self,
        session_id: str,
        turn: TurnRecord,
        also: StoreHook | None = None,
        conn: Connection | None = None,
        version: int | None = None,
        first: StoreHook | None = None,
    ) -> int:
        """Store a new turn with its candidates (and whatever `also` writes, in the same transaction).

        Returns the session's new version; with `version`, only a session still at it is changed (see `_touch`).
        `first` writes before the turn in the same transaction: the session's own row when it was created with
        `defer` (`insert`).

        This runs on every turn a server answers, so it uses Core statements built once on a plain connection:
        the ORM unit of work cost several times more CPU per turn than the database itself.
        """
        now = utcnow()
        values = {
            "session_id": session_id,
            "index": turn.index,
            "user_text": turn.user_text,
            "prompt": turn.prompt.model_dump_json(),
            "chosen_index": turn.chosen_index,
            "created_at": now,
        }
        with within(self.engine, conn) as db:
            if first is not None:
                first(db)
            new = self._touch(db, session_id, now, version)
            try:
                turn_id = db.execute(_INSERT_TURN, values).scalar_one()
            except IntegrityError as exc:  # the unique (session_id, index): another process stored it first
                raise TurnConflictError(
                    f"session {session_id!r} in {self.url} already has a turn {turn.index}: another process stored "
                    "it first; reload the session and send again"
                ) from exc
            if turn.candidates:
                db.execute(_INSERT_CANDIDATES, [_candidate_values(c, turn_id, now) for c in turn.candidates])
            if also is not None:
                also(db)
        return new

    def _turn_id(
        self, conn: Connection, session_id: str, index: int, now: datetime, version: int | None
    ) -> tuple[int, int]:
        """The row id of turn `index` and the session's new version, touching it; raises if either is missing."""
        new = self._touch(conn, session_id, now, version)
        turn_id = conn.execute(_TURN_ID, {"sid": session_id, "index": index}).scalar()
        if turn_id is None:
            raise StoreError(f"session {session_id!r} has no turn {index}")
        return int(turn_id), new

    def add_candidates(
        self,
        session_id: str,
        index: int,
        candidates: list[Candidate],
        chosen_index: int,
        also: StoreHook | None = None,
        version: int | None = None,
    ) -> int:
        """Append regenerated candidates to turn `index` and show `chosen_index` (`also`, `version`: see `add_turn`)."""
        now = utcnow()
        with self.engine.begin() as conn:
            turn_id, new = self._turn_id(conn, session_id, index, now, version)
            if candidates:
                conn.execute(_INSERT_CANDIDATES, [_candidate_values(c, turn_id, now) for c in candidates])
            conn.execute(_SET_CHOSEN, {"tid": turn_id, "chosen": chosen_index})
            if also is not None:
                also(conn)
        return new

    def set_chosen(
        self,
        session_id: str,
        index: int,
        chosen_index: int,
        also: StoreHook | None = None,
        version: int | None = None,
    ) -> int:
        """Show another candidate of turn `index` (a swipe; `also`, `version`: as in `add_turn`)."""
        with self.engine.begin() as conn:
            turn_id, new = self._turn_id(conn, session_id, index, utcnow(), version)
            conn.execute(_SET_CHOSEN, {"tid": turn_id, "chosen": chosen_index})
            if also is not None:
                also(conn)
        return new

    def rewind(
        self,
        session_id: str,
        keep: int,
        restore: int | None = None,
        also: StoreHook | None = None,
        version: int | None = None,
        show: Mapping[int, int] | None = None,
    ) -> int:
        """Set aside the turns from index `keep` on as a new branch and, with `restore`, bring that branch back.

        With `show`, turn index -> candidate index, those turns left in place show another of their candidates
        (a client swiped back to it). Summaries reaching into the turns set aside are dropped (the next turn writes
        them again). Returns the session's new version (`also`, `version`: as in `add_turn`). The caller reloads
        the session.
        """
        now = utcnow()
        with self.engine.begin() as conn:
            new = self._touch(conn, session_id, now, version)
            top = conn.execute(select(func.max(TurnRow.branch)).where(TurnRow.session_id == session_id)).scalar()
            live = (TurnRow.session_id == session_id) & (TurnRow.branch == 0)
            conn.execute(update(TurnRow).where(live, TurnRow.index >= keep).values(branch=(top or 0) + 1))
            if restore is not None:
                back = (TurnRow.session_id == session_id) & (TurnRow.branch == restore)
                conn.execute(update(TurnRow).where(back).values(branch=0))
            for index, chosen in sorted((show or {}).items()):
                turn_id = conn.execute(_TURN_ID, {"sid": session_id, "index": index}).scalar()
                if turn_id is None or index >= keep:
                    raise StoreError(f"session {session_id!r} keeps no turn {index}")
                conn.execute(_SET_CHOSEN, {"tid": turn_id, "chosen": chosen})
            conn.execute(delete(MemoryRow).where(MemoryRow.session_id == session_id, MemoryRow.last_turn >= keep))
            if also is not None:
                also(conn)
        return new

    def branches(self, session_ids: Sequence[str]) -> list[ShownTurn]:
        """Every turn of these sessions, of every branch, with the reply it shows and all its candidates.

        A client's history is matched against these when it edited, deleted or branched from an earlier message,
        or swiped back to an earlier reply.
        """
        if not session_ids:
            return []
        query = (
            select(
                TurnRow.session_id,
                TurnRow.branch,
                TurnRow.index,
                TurnRow.user_text,
                TurnRow.chosen_index,
                CandidateRow.index,
                CandidateRow.text,
            )
            .outerjoin(CandidateRow, CandidateRow.turn_id == TurnRow.id)
            .where(TurnRow.session_id.in_(list(session_ids)))
            .order_by(TurnRow.session_id, TurnRow.branch, TurnRow.index, CandidateRow.index)
        )
        turns: dict[tuple[str, int, int], ShownTurn] = {}
        with self.engine.connect() as conn:
            for sid, branch, index, user, chosen, candidate, text in conn.execute(query):
                turn = turns.get((sid, branch, index)) or ShownTurn(sid, branch, index, user, "")
                if candidate is not None:
                    reply = text if candidate == chosen else turn.reply
                    turn = turn._replace(reply=reply, swipes=(*turn.swipes, (candidate, text)))
                turns[(sid, branch, index)] = turn
        return list(turns.values())

    def add_memory(self, session_id: str, item: MemoryItem, version: int | None = None) -> int:
        """Store a memory (a new rolling summary); returns the session's new version (`version`: as in `add_turn`)."""
        with self.engine.begin() as conn:
            new = self._touch(conn, session_id, version=version)
            conn.execute(
                insert(MemoryRow).values(
                    session_id=session_id,
                    kind=item.kind,
                    content=item.content,
                    first_turn=item.first_turn,
                    last_turn=item.last_turn,
                    created_at=utcnow(),
                )
            )
        return new

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()
