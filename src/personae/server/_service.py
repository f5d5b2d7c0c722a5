"""What the routes call: personas per key, owned sessions, and turns run through the role-play runtime.

The routes translate HTTP to and from these calls; role-play logic stays in `personae.session`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import itertools
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from personae.backends import (
    Backend,
    BackendOutput,
    BackendSettings,
    GenerateConfig,
    Message,
    ModelEvent,
    Usage,
    get_backend,
)
from personae.guard import Candidate
from personae.interop import Imported, read_bytes
from personae.memory import MemoryScope, UserFact, UserMemory
from personae.persona import Persona, PersonaFormatError, load_persona, parse_persona_text
from personae.prompting import AssembledPrompt
from personae.scoring import FakeEmbedder, FakeNLI, ScoringModels
from personae.server._avatars import MAX_AVATAR_BYTES, avatar_url, card_avatar, checked_avatar, folder_avatar
from personae.server._config import Markers, ServerConfig
from personae.session import ChatSession, SessionSettings, ShownTurns
from personae.store import (
    AccessStore,
    ApiKey,
    Ownership,
    PersonaAvatar,
    SessionStore,
    ShownTurn,
    StoreError,
    TurnConflictError,
    TurnRecord,
    UserMemoryStore,
)

log = logging.getLogger(__name__)

BRANCH_SCAN = 20
"""Recent sessions a history that matches no stored conversation is compared with, looking for a branch point."""

PERSONA_SUFFIXES = (".yaml", ".yml", ".json", ".png", ".charx")
"""Files in `--personas DIR` that are loaded."""


class _Spent:
    """What one request spent upstream: seconds waiting and tokens (as the backend reports them)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.usage = Usage()


_spent: contextvars.ContextVar[_Spent | None] = contextvars.ContextVar("backend_spent", default=None)


class NotFoundError(Exception):
    """A persona or session that does not exist for this key (404, never 403: existence is not leaked)."""


class ConflictError(Exception):
    """A request that cannot apply to the resource's state (409)."""


class TooLargeError(Exception):
    """A request within the body limit that asks for more work than the server's limits allow (413)."""


class PersonaInfo(BaseModel):
    """One persona as the library lists it."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    id: str
    """Persona (model) id."""
    name: str
    """Character name."""
    summary: str | None
    """One-line summary."""
    statements: int
    """How many statements it has (scoring needs at least one)."""
    source: Literal["library", "uploaded"]
    """From `--personas DIR` (shared) or uploaded by this key."""
    avatar_url: str | None = None
    """Where its picture is served (`GET /v1/personas/{id}/avatar`), None when it has none."""


class VerdictView(BaseModel):
    """A persona statement the reply decides, with the reply sentence that decided it."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    statement: str
    """The persona statement."""
    verdict: Literal["supported", "violated"]
    """The scorer's one verdict on it."""
    evidence: str | None
    """The reply sentence with the highest entailment or contradiction probability."""
    probability: float
    """P(entailment) for a supported statement, P(contradiction) for a violated one."""


class CandidateView(BaseModel):
    """A candidate reply (swipe) with its scores, as the API returns it."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    index: int
    """Candidate index within the turn."""
    text: str
    """Reply text."""
    apc_normalized: float | None
    """Normalised APC in [0, 1], None when unscored."""
    supported: list[str]
    """Persona statements the reply entails."""
    violated: list[str]
    """Persona statements it contradicts."""
    contradictions: list[str]
    """Earlier replies it contradicts."""
    claimed_user_facts: list[str] = Field(default_factory=list)
    """Facts about the user it claims as the character's own ("I work as a nurse." for "Sam works as a nurse.")."""
    ooc: bool = False
    """Whether the reply leaves the character."""
    ooc_reasons: list[str] = Field(default_factory=list)
    """How it leaves the character (`ai_disclaimer`, `assistant_voice`, ...)."""
    round: int = 0
    """Generation round: 0 for the first batch, one more for each regeneration."""
    verdicts: list[VerdictView] = Field(default_factory=list)
    """The statements in `supported` and `violated`, each with its evidence sentence."""
    guard_skipped: str | None = None
    """Why the guard never judged this reply (its request passed fields through to the upstream, whose reply it is
    as given): unscored, and not chosen among others. None when the guard ran."""


class TurnView(BaseModel):
    """A turn with every candidate and the one shown."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    index: int
    """Turn index, from 0."""
    user_text: str
    """The user's message."""
    chosen_index: int | None
    """Index of the shown candidate."""
    position: int
    """1-based position of the shown candidate in the guard's ranking (for "2/4" swipe labels)."""
    candidates: list[CandidateView]
    """Candidates in the guard's ranking order."""


class SessionView(BaseModel):
    """A session with its turns, swipes and scores."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    id: str
    """Session id."""
    persona_id: str
    """Persona (model) id it was started for."""
    persona_name: str
    """Character name."""
    user_name: str
    """The user's name."""
    guard: str
    """Guard policy in force."""
    greeting: str | None
    """The character's greeting, if any."""
    turns: list[TurnView] = Field(default_factory=list)
    """Turns, oldest first."""


class TurnOutcome(NamedTuple):
    """A finished turn: the session, the turn, the seconds and tokens spent upstream, and the text to show."""

    chat: ChatSession
    turn: TurnRecord
    backend_seconds: float
    usage: Usage = Usage()
    """Tokens of every upstream request of the turn (all candidates, memory upkeep included)."""
    added: str | None = None
    """For Continue: the text appended to the shown reply (else the client shows `turn.reply`)."""


class PassedThrough(NamedTuple):
    """A pass-through turn: stored like any turn, answered with the upstream's own choices (tool calls, logprobs)."""

    outcome: TurnOutcome
    output: BackendOutput


def candidate_view(c: Candidate) -> CandidateView:
    """The API view of a candidate."""
    return CandidateView(
        index=c.index,
        text=c.text,
        apc_normalized=c.apc_normalized,
        supported=[s.statement for s in c.result.supported] if c.result else [],
        violated=[s.statement for s in c.violations],
        contradictions=[x.earlier for x in c.contradictions],
        claimed_user_facts=c.claimed_user_facts,
        ooc=c.out_of_character,
        ooc_reasons=c.ooc.reasons if c.ooc and c.ooc.ooc else [],
        round=c.round,
        verdicts=[
            VerdictView(
                statement=s.statement,
                verdict="violated" if s.violation else "supported",
                evidence=s.evidence,
                probability=s.contradiction if s.verdict == "violated" else s.entailment,
            )
            for s in (c.result.statements if c.result else [])
            if s.verdict is not None
        ],
        guard_skipped=c.guard_skipped,
    )


def turn_view(turn: TurnRecord) -> TurnView:
    """The API view of a turn, candidates in ranking order."""
    ranked = sorted(turn.candidates, key=Candidate.rank_key)
    position = next((i + 1 for i, c in enumerate(ranked) if c.index == turn.chosen_index), 0)
    return TurnView(
        index=turn.index,
        user_text=turn.user_text,
        chosen_index=turn.chosen_index,
        position=position,
        candidates=[candidate_view(c) for c in ranked],
    )


def _normal(text: str) -> str:
    return " ".join(text.split())


def conversation_hash(persona_id: str, user_name: str, pairs: Sequence[tuple[str, str | None]]) -> str:
    """Hash of a conversation as (user, reply) pairs, whitespace-normalised; a None reply is a message not yet answered.

    Changing this format orphans every stored conversation: clients would start new sessions.
    """
    turns = [[_normal(u), None if r is None else _normal(r)] for u, r in pairs]
    canonical = json.dumps([persona_id, _normal(user_name), turns], separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ConversationHashes(NamedTuple):
    """What a session's conversation is matched by: its turns (head) and its last turn unanswered (swipe)."""

    head: str
    swipe: str | None


def conversation_hashes(persona_id: str, user_name: str, turns: Sequence[tuple[str, str]]) -> ConversationHashes:
    """The hashes stored for a session whose shown turns are `turns`."""
    head = conversation_hash(persona_id, user_name, turns)
    if not turns:
        return ConversationHashes(head, None)
    last_user = turns[-1][0]
    return ConversationHashes(head, conversation_hash(persona_id, user_name, [*turns[:-1], (last_user, None)]))


ChatMode = Literal["send", "continue", "impersonate"]
"""What a chat request asks for: a reply to a new user message, more of the last reply, or the user's next line."""


def _marked(text: str, starts: Sequence[str]) -> bool:
    folded = _normal(text).casefold()
    return any(folded.startswith(_normal(s).casefold()) for s in starts)


class ParsedChat(NamedTuple):
    """An OpenAI message list split into earlier (user, reply) pairs and the new user text, and the flow it asks for.

    For `continue`, the last pair is the reply being extended and `user_text` is its user message; for
    `impersonate`, `pairs` is the whole conversation and `user_text` is empty.
    """

    pairs: list[tuple[str, str]]
    user_text: str
    mode: ChatMode = "send"
    instruction: str | None = None
    """The client's own Continue or Impersonate instruction, used in the prompt when given."""


def _unnamed(items: list[tuple[str, str]], role: str, names: Sequence[str], markers: Markers) -> list[tuple[str, str]]:
    """`items` without the `Name: ` a client put before every message of `role`, markers aside.

    SillyTavern does so with "Character Names Behavior: Message Content". Unchanged unless all of them start with
    the same one of `names`: a user's own `Name: ` in one message stays.
    """
    starts = (*markers.new_chat, *markers.continue_, *markers.impersonate)
    said = [c for r, c in items if r == role and not _marked(c, starts)]
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        prefix = f"{name}: "
        if said and all(c.startswith(prefix) for c in said):
            return [(r, c.removeprefix(prefix) if r == role else c) for r, c in items]
    return items


def parse_messages(
    messages: Sequence[tuple[str, str]],
    markers: Markers | None = None,
    user_names: Sequence[str] = (),
    char_names: Sequence[str] = (),
) -> ParsedChat:
    """Split (role, content) messages into the conversation and the flow asked for.

    System messages, a leading greeting and chat-start markers are dropped (the persona owns them). A trailing
    Continue or Impersonate instruction (system, or user after a client's prompt post-processing) picks that flow;
    a history ending with the character's message and no instruction asks the character to speak again (empty
    user text). When every user message starts with `Name: ` for one of `user_names`, or every character message
    with one of `char_names`, that prefix is the client's (names in the message content) and is dropped.
    """
    markers = markers or Markers()
    items = [(r, c) for r, c in messages if r in ("user", "assistant", "system")]
    items = _unnamed(_unnamed(items, "user", user_names, markers), "assistant", char_names, markers)
    mode: ChatMode = "send"
    instruction: str | None = None
    while items and items[-1][0] in ("system", "user") and mode == "send":
        role, content = items[-1]
        if _marked(content, markers.impersonate):
            mode, instruction = "impersonate", content
        elif _marked(content, markers.continue_):
            mode, instruction = "continue", content
        elif role == "system":
            items.pop()
            continue
        else:
            break
        items.pop()
    pairs: list[tuple[str, str]] = []
    pending: list[str] = []
    for role, content in items:
        if role == "system":
            continue
        while _marked(content, markers.new_chat):  # a marker alone, or merged into the message after it
            end = content.find("]")
            content = content[end + 1 :].lstrip() if end >= 0 else ""
        if not content.strip():
            continue
        if role == "user":
            pending.append(content)
        elif pending or pairs:  # a character message after another one answers an empty user message
            pairs.append(("\n".join(pending), content))
            pending = []
    if mode == "continue":
        if pending or not pairs:
            raise ValueError("messages: Continue needs the character's message to extend as the last message")
        user_text, _reply = pairs[-1]
        return ParsedChat(pairs, user_text, mode, instruction)
    if mode == "impersonate":  # a user message not yet answered is the client's draft, not the conversation
        return ParsedChat(pairs, "", mode, instruction)
    if not pending:
        if not pairs:
            raise ValueError("messages: no user message (only system messages or a greeting)")
        return ParsedChat(pairs, "", "send")
    return ParsedChat(pairs, "\n".join(pending))


def load_library(
    directory: Path,
    times: dict[str, int] | None = None,
    avatars: dict[str, PersonaAvatar] | None = None,
    avatar_limit: int = MAX_AVATAR_BYTES,
) -> dict[str, Persona]:
    """Personas in a directory (YAML/JSON persona files, cards), by id; a bad file is logged and skipped.

    `times`, if given, receives each persona's file modification time (its stable `created` in /v1/models);
    `avatars` receives each picture: a card's own image or CHARX icon, else the one in the `<name>.assets/` folder
    beside a persona file (where `personae import` puts a card's picture), up to `avatar_limit` bytes.
    """
    found: dict[str, Persona] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in PERSONA_SUFFIXES or not path.is_file():
            continue
        assets: dict[str, bytes] = {}
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                personas = [load_persona(path)]
            elif path.suffix.lower() == ".json":
                try:
                    personas = [load_persona(path)]
                except PersonaFormatError:
                    personas = read_bytes(path.read_bytes(), path).personas
            else:
                imported = read_bytes(path.read_bytes(), path)
                personas, assets = imported.personas, imported.assets
        except PersonaFormatError as exc:
            log.warning("skipping %s: %s", path, exc)
            continue
        for persona in personas:
            found[persona.slug] = persona
            if times is not None:
                times[persona.slug] = int(path.stat().st_mtime)
        if avatars is not None and len(personas) == 1:
            folder = path.with_name(path.stem + ".assets")
            avatar = card_avatar(assets, avatar_limit, str(path)) or folder_avatar(folder, avatar_limit)
            if avatar is not None:
                avatars[personas[0].slug] = avatar
    return found


def parse_upload(data: bytes, filename: str) -> list[Persona]:
    """Personas in an uploaded file: a YAML/JSON persona, or any card format `personae.interop` reads."""
    return read_upload(data, filename).personas


def read_upload(data: bytes, filename: str) -> Imported:
    """What an uploaded file holds: its personas (at least one) and, for a card, its assets (the picture among them)."""
    if filename.lower().endswith((".yaml", ".yml")):
        try:
            return Imported(filename, [parse_persona_text(data, filename, aliases=False)])
        except UnicodeDecodeError:
            raise PersonaFormatError(filename, "not UTF-8 text") from None
    if filename.lower().endswith(".json"):
        try:
            return Imported(filename, [parse_persona_text(data, filename, "json", aliases=False)])
        except (PersonaFormatError, UnicodeDecodeError):
            pass  # not a persona file: try it as a character card below
    imported = read_bytes(data, filename)
    if not imported.personas:
        raise PersonaFormatError(filename, "holds no persona (a lorebook alone cannot be chatted with)")
    return imported


def make_models(config: ServerConfig) -> ScoringModels | None:
    """The scoring models the whole process shares."""
    if config.scoring == "off":
        return None
    if config.scoring == "fake":
        return ScoringModels(nli=FakeNLI(), embedder=FakeEmbedder(), ooc_classifier=False)
    return ScoringModels()


def _count_backend_time(event: ModelEvent) -> None:
    spent = _spent.get()
    if spent is not None:
        spent.seconds += event.seconds
        spent.usage = spent.usage + event.usage


class _Locks:
    """Named asyncio locks, dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def busy(self, name: str) -> bool:
        """Whether anyone holds or waits for the lock `name`."""
        return name in self._locks

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(name, (asyncio.Lock(), 0))
        self._locks[name] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[name]
            if users <= 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, users - 1)


class Service:
    """One per server process: the store, the upstream backend, shared scoring models, and live sessions."""

    def __init__(
        self,
        config: ServerConfig,
        store: SessionStore | None = None,
        backend: Backend | None = None,
        models: ScoringModels | None = None,
    ) -> None:
        self.config = config
        self.store = store or SessionStore(config.database_url)
        self.access = AccessStore(self.store)
        self.backend = backend or get_backend(
            config.backend,
            base_url=config.base_url,
            cache=None,
            settings=BackendSettings(max_concurrency=config.backend_concurrency),
            **config.backend_options,
        )
        self.backend.subscribe(_count_backend_time)
        self.models = models if models is not None else make_models(config)
        self._created: dict[str, int] = {}
        self.library_avatars: dict[str, PersonaAvatar] = {}
        """Pictures of library personas, by id, read once at start-up (each at most `max_avatar_bytes`)."""
        self.library = (
            load_library(config.personas_dir, self._created, self.library_avatars, config.max_avatar_bytes)
            if config.personas_dir
            else {}
        )
        self.started = int(time.time())
        """When this process started: the `created` time of personas without a file of their own (uploads)."""
        self.markers = Markers(
            new_chat=tuple(config.new_chat_markers),
            continue_=tuple(config.continue_markers),
            impersonate=tuple(config.impersonate_markers),
        )
        """The role-play client instructions requests are parsed with (SillyTavern's defaults unless configured)."""
        self._live: OrderedDict[str, ChatSession] = OrderedDict()
        self._locks = _Locks()
        self._keys: dict[str, tuple[ApiKey, float]] = {}
        self._owners: dict[str, Ownership] = {}
        self._uploads: dict[str, tuple[tuple[int, Any] | None, dict[str, Persona], dict[str, str]]] = {}
        self.sole_writer = config.workers == 1
        """Whether this is the only server process on the database: then what it holds in memory is current.

        With several (`personae serve --workers N`), what it holds is checked against the database on each request:
        a session by its version, a key's uploads by their count and newest time, conversations by their hashes."""
        # Conversation hashes of sessions this process has touched. As the only writer, a hit is authoritative and
        # a miss falls back to the database (e.g. after a restart); with other writers they are not used.
        self._heads: dict[tuple[str, str, str], str] = {}
        self._swipes: dict[tuple[str, str, str], str] = {}
        self._hashes_of: dict[str, tuple[tuple[str, str, str], tuple[str, str, str] | None]] = {}

    def warm(self) -> None:
        """Prepare what the first requests would pay for (called at start-up): library personas' scoring, the SQL."""
        if self.models is not None:
            for persona in self.library.values():
                self.models.warm(persona)
        self._warm_statements()

    def _warm_statements(self) -> None:
        """Run a first and a later turn's statements once, in a transaction rolled back, and their reads.

        SQLAlchemy compiles each statement on its first use: a worker's first request paid some 10-20 ms for the
        dozen it runs, while every request in flight waited. So every one a turn runs is run here: the key's
        lookups and uploads, the conversation's, the session's and its turns' with one and with several candidates,
        the conversation hashes, and what the character recalls and learns about the user. No key exists for the
        writes naming one (the session's owner, the user's facts and episodes): they run last, where their foreign
        key fails once they are compiled.
        """
        persona = next(iter(self.library.values()), None) or Persona(name="Warm", statements=["Warm is a stand-in."])
        hashes = conversation_hashes(persona.slug, "User", [("Hello", "Hello.")])
        nobody = ""  # no key has this id
        self.access.find_key("")
        self.access.uploads_stamp(nobody)
        self.access.personas(nobody)
        self.access.avatar_hashes(nobody)
        self.access.find_conversation(nobody, persona.slug, hashes.head, hashes.swipe or "")
        self.access.owner("")
        settings = self._settings()
        scope = MemoryScope(nobody, "User", persona.slug)
        repository = UserMemoryStore(self.store)
        memory = UserMemory(repository, scope, persona.name, self.models, settings.memory.user)
        memory.recall("Hello", settings.prompt.user_facts, settings.prompt.episodes, session_id="")
        repository.facts(memory.read_scope, topic="home")  # what a fact told on a single-valued topic may replace
        episode = memory.draft_episode("", 0, [("Hello", "Hello.")], datetime.now(UTC))
        prompt = AssembledPrompt(messages=[], parts=[], budget_tokens=0)
        turns = [
            TurnRecord(
                index=i,
                user_text="Hello",
                prompt=prompt,
                candidates=[Candidate(index=c, text="Hello.") for c in range(i + 1)],
            )
            for i in range(2)  # one candidate (guard off), then several (best-of-n): two forms of the insert
        ]
        with self.store.engine.connect() as conn:
            transaction = conn.begin()
            try:
                record = self.store.create(
                    persona, "User", self.backend.address, settings.model_dump(mode="json"), conn=conn
                )
                version = record.version
                for turn in turns:
                    version = self.store.add_turn(record.id, turn, conn=conn, version=version)
                self.store.load(record.id, conn=conn)
                with contextlib.suppress(StoreError):  # no owner row: the update runs (and compiles), then raises
                    self.access.set_hashes(record.id, hashes.head, hashes.swipe, conn)
                writes: list[Callable[[], object]] = [
                    lambda: self.access.claim(record.id, nobody, persona.slug, hashes.head, hashes.swipe, conn),
                    lambda: repository.bound(conn).add_fact(scope, UserFact(text="User is a stand-in.")),
                ]
                if episode is not None:  # first: its delete must succeed for its insert to run (and compile)
                    writes.insert(0, lambda: repository.bound(conn).save_episode(scope, episode))
                # The missing key fails each once compiled; on PostgreSQL the failed transaction then refuses the
                # next statement, again once compiled.
                for write in writes:
                    with contextlib.suppress(DBAPIError):
                        write()
            finally:
                transaction.rollback()

    # keys ---------------------------------------------------------------------------------------------------------

    def authenticate(self, secret: str) -> ApiKey | None:
        """The key for `secret`; a lookup is trusted for `key_cache_seconds` (1 s by default).

        So a busy client does not hit the database on each call, and a revoked key stops working in every worker
        within that time.
        """
        cached = self._keys.get(secret)
        now = time.monotonic()
        if cached is not None and now - cached[1] < self.config.key_cache_seconds:
            return cached[0]
        key = self.access.find_key(secret)
        if key is None:  # never cache a miss: a key created a moment later must work at once
            return None
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[secret] = (key, now)
        return key

    # personas -----------------------------------------------------------------------------------------------------

    def personas(self, key: ApiKey) -> dict[str, tuple[Persona, Literal["library", "uploaded"]]]:
        """Personas this key can chat with: the shared library, then its uploads (an upload shadows a library id)."""
        found: dict[str, tuple[Persona, Literal["library", "uploaded"]]] = {
            pid: (p, "library") for pid, p in self.library.items()
        }
        found.update({pid: (p, "uploaded") for pid, p in self._uploaded(key).items()})
        return found

    def _uploaded(self, key: ApiKey) -> dict[str, Persona]:
        """The key's uploads, cached: dropped on each change this process makes, checked when others may make some."""
        return self._upload_cache(key)[1]

    def _upload_cache(self, key: ApiKey) -> tuple[tuple[int, Any] | None, dict[str, Persona], dict[str, str]]:
        """The key's uploads and their pictures' hashes, with the stamp they were read at."""
        cached = self._uploads.get(key.id)
        stamp = None if self.sole_writer else self.access.uploads_stamp(key.id)
        if cached is not None and cached[0] == stamp:
            return cached
        fresh = (stamp, self.access.personas(key.id), self.access.avatar_hashes(key.id))
        self._uploads[key.id] = fresh
        return fresh

    def avatar_urls(self, key: ApiKey) -> dict[str, str]:
        """Where the picture of each persona this key sees is served, by persona id (those with a picture only).

        An upload shadows a library persona of the same id, picture included: its own picture or none.
        """
        _stamp, uploads, hashes = self._upload_cache(key)
        urls = {pid: avatar_url(pid, a.sha256) for pid, a in self.library_avatars.items() if pid not in uploads}
        urls.update({pid: avatar_url(pid, sha256) for pid, sha256 in hashes.items()})
        return urls

    def avatar(self, key: ApiKey, persona_id: str) -> PersonaAvatar:
        """A persona's picture, or NotFoundError when the key sees no such persona or it has no picture."""
        if persona_id in self._uploaded(key):
            avatar = self.access.avatar(key.id, persona_id)
        else:
            avatar = self.library_avatars.get(persona_id)
        if avatar is None:
            raise NotFoundError(f"persona {persona_id!r} has no picture")
        return avatar

    def set_avatar(self, key: ApiKey, persona_id: str, data: bytes) -> str:
        """Give one of this key's uploads a new picture; returns its URL. `AvatarError` when `data` is refused."""
        avatar = checked_avatar(data, self.config.max_avatar_bytes, "body")
        self._uploads.pop(key.id, None)
        if self.access.set_avatar(key.id, persona_id, avatar):
            return avatar_url(persona_id, avatar.sha256)
        if persona_id in self.library:
            raise ConflictError(f"persona {persona_id!r} comes from the server's --personas directory")
        raise NotFoundError(f"no persona {persona_id!r}")

    def persona(self, key: ApiKey, persona_id: str) -> Persona:
        """One persona by id, or NotFoundError."""
        persona = self._uploaded(key).get(persona_id) or self.library.get(persona_id)
        if persona is None:
            raise NotFoundError(f"no persona {persona_id!r}")
        return persona

    def created(self, persona_id: str) -> int:
        """A persona's `created` time for /v1/models: its file's modification time, else when the server started."""
        return self._created.get(persona_id, self.started)

    def persona_infos(self, key: ApiKey) -> list[PersonaInfo]:
        """The library listing for this key."""
        urls = self.avatar_urls(key)
        return [
            PersonaInfo(
                id=pid,
                name=p.name,
                summary=p.summary,
                statements=len(p.statements),
                source=source,
                avatar_url=urls.get(pid),
            )
            for pid, (p, source) in self.personas(key).items()
        ]

    def upload(self, key: ApiKey, data: bytes, filename: str) -> list[PersonaInfo]:
        """Import an uploaded card or persona file for this key (blocking: parsing a card can take a while).

        A persona with more statements than `max_persona_statements` raises `TooLargeError`.
        """
        infos = []
        imported = read_upload(data, filename)
        personas = imported.personas
        limit = self.config.max_persona_statements
        for persona in personas:
            if len(persona.statements) > limit:
                raise TooLargeError(
                    f"{filename}: persona {persona.name!r} has {len(persona.statements)} statements, over the "
                    f"server's limit of {limit}"
                )
        # A file of several personas (PersonaGym JSONL) has no picture of one of them
        limit = self.config.max_avatar_bytes
        avatar = card_avatar(imported.assets, limit, filename) if len(personas) == 1 else None
        self._uploads.pop(key.id, None)
        for persona in personas:
            self.access.add_persona(key.id, persona, persona.slug, avatar)
            infos.append(
                PersonaInfo(
                    id=persona.slug,
                    name=persona.name,
                    summary=persona.summary,
                    statements=len(persona.statements),
                    source="uploaded",
                    avatar_url=avatar_url(persona.slug, avatar.sha256) if avatar else None,
                )
            )
        return infos

    def delete_persona(self, key: ApiKey, persona_id: str) -> None:
        """Delete one of this key's uploads; library personas are files and stay."""
        self._uploads.pop(key.id, None)
        if self.access.delete_persona(key.id, persona_id):
            return
        if persona_id in self.library:
            raise ConflictError(f"persona {persona_id!r} comes from the server's --personas directory")
        raise NotFoundError(f"no persona {persona_id!r}")

    # sessions -----------------------------------------------------------------------------------------------------

    def _settings(self) -> SessionSettings:
        return SessionSettings(
            guard=self.config.guard if self.models else "off",
            n=self.config.n,
            generate=GenerateConfig(temperature=0.8, max_tokens=self.config.max_tokens),
        )

    def _remember(self, chat: ChatSession) -> ChatSession:
        self._live[chat.id] = chat
        self._live.move_to_end(chat.id)
        excess = len(self._live) - self.config.max_cached_sessions
        if excess <= 0:
            return chat
        # A session in the middle of a turn stays: a second copy resumed from the database would miss that turn.
        # Oldest first, and only as far as needed: a full server evicts on every new session.
        idle = (sid for sid in self._live if not self._locks.busy(f"session:{sid}"))
        for dropped in list(itertools.islice(idle, excess)):
            del self._live[dropped]
            self._owners.pop(dropped, None)
            self._forget_hashes(dropped)
        return chat

    def start(
        self,
        key: ApiKey,
        persona_id: str,
        user_name: str = "User",
        persona: Persona | None = None,
        defer: bool = False,
    ) -> ChatSession:
        """Start a session owned by `key`: the session and its ownership row are written in one transaction.

        `persona` is persona `persona_id` as the caller just looked it up (else it is looked up here). With `defer`
        they are written in the transaction of the session's first turn instead (`ChatSession.start`).
        """
        persona = persona or self.persona(key, persona_id)
        empty = conversation_hashes(persona_id, user_name, [])

        def claim(conn: Connection, session_id: str) -> None:
            self.access.claim(session_id, key.id, persona_id, empty.head, empty.swipe, conn)

        chat = ChatSession.start(
            persona,
            self.backend,
            self.store,
            user_name=user_name,
            settings=self._settings(),
            models=self.models,
            scoring=self.models is not None,
            also=claim,
            memory_scope=MemoryScope(key.id, user_name, persona_id),
            defer=defer,
        )
        chat.on_turn_stored = self._hash_writer(persona_id)
        self._owners[chat.id] = Ownership(
            session_id=chat.id, key_id=key.id, persona_id=persona_id, head_hash=empty.head, prev_hash=empty.swipe
        )
        return self._remember(chat)

    def _hash_writer(self, persona_id: str) -> Callable[[Connection, ChatSession, ShownTurns], None]:
        """A session's `on_turn_stored`: its conversation hashes are written in the transaction of each turn.

        Written afterwards, a turn stored by a request whose client went away before the hashes were would not be
        matched by the client's resend, which would then store the same message again.
        """

        def write(conn: Connection, chat: ChatSession, shown: ShownTurns) -> None:
            hashes = conversation_hashes(persona_id, chat.user_name, shown)
            self.access.set_hashes(chat.id, hashes.head, hashes.swipe, conn)

        return write

    def owner(self, session_id: str) -> Ownership | None:
        """Who owns a session (kept in memory while the session is: owner and persona never change)."""
        owner = self._owners.get(session_id)
        if owner is None:
            owner = self.access.owner(session_id)
        return owner

    def persona_id(self, chat: ChatSession) -> str:
        """The persona (model) id a session was started for; its persona's slug when it has no owner row."""
        owner = self.owner(chat.id)
        return owner.persona_id if owner else chat.persona.slug

    def session(self, key: ApiKey, session_id: str, read: Ownership | None = None) -> ChatSession:
        """An owned session (from memory, else resumed from the database), or NotFoundError.

        `read` is its ownership as just read from the database, if the caller has it. Beside other server
        processes, the copy in memory is used only if the database still holds the same version of the session.
        """
        if read is None and not self.sole_writer:
            read = self.access.owner(session_id)  # fresh: another process may have changed or deleted the session
            if read is None:
                self._drop(session_id)
        owner = read or self.owner(session_id)
        if owner is None or owner.key_id != key.id:
            raise NotFoundError(f"no session {session_id!r}")
        chat = self._live.get(session_id)
        if chat is not None and not self.sole_writer and chat.record.version != owner.version:
            chat = None  # changed by another process since this one last read or wrote it
        if chat is None:
            chat = ChatSession.resume(
                session_id,
                self.backend,
                self.store,
                models=self.models,
                scoring=self.models is not None,
                memory_scope=MemoryScope(owner.key_id, "", owner.persona_id),  # the user: the session's own
            )
            chat.on_turn_stored = self._hash_writer(owner.persona_id)
        self._owners[session_id] = owner
        return self._remember(chat)

    def view(self, key: ApiKey, session_id: str) -> SessionView:
        """A session with turns, swipes and scores."""
        chat = self.session(key, session_id)
        return SessionView(
            id=chat.id,
            persona_id=self.persona_id(chat),
            persona_name=chat.persona.name,
            user_name=chat.user_name,
            guard=chat.guard.policy,
            greeting=chat.greeting,
            turns=[turn_view(t) for t in chat.turns],
        )

    def _drop(self, session_id: str) -> None:
        """Forget what this process holds of a session (it is read from the database when next used)."""
        self._live.pop(session_id, None)
        self._owners.pop(session_id, None)
        self._forget_hashes(session_id)

    def delete_session(self, key: ApiKey, session_id: str) -> None:
        """Delete an owned session."""
        self.session(key, session_id)
        self._drop(session_id)
        self.access.delete_session(session_id)

    def lock(self, session_id: str) -> Any:
        """The lock serialising turns of one session."""
        return self._locks.hold(f"session:{session_id}")

    def swipe(self, chat: ChatSession, to: int | None = None) -> Candidate:
        """Show the next candidate of the last turn, or candidate `to` (the caller holds `lock(chat.id)`)."""
        if to is None:
            shown = chat.swipe()
        else:
            try:
                shown = chat.show(to)
            except ValueError as exc:
                raise NotFoundError(str(exc)) from None
        self.remember_conversation(chat)
        return shown

    # turns --------------------------------------------------------------------------------------------------------

    async def turn_stream(
        self,
        chat: ChatSession,
        text: str,
        regenerate: bool = False,
        generate: dict[str, Any] | None = None,
        mode: Literal["send", "continue"] = "send",
        n: int | None = None,
        instruction: str | None = None,
    ) -> AsyncIterator[str | TurnOutcome]:
        """Run one turn (or a regeneration, or a Continue of the last), yielding reply text pieces, then the outcome.

        With the guard off, pieces stream as the backend produces them. With the guard on the reply is known only
        once every candidate is scored, so no piece comes: the outcome's turn holds the whole reply, and the caller
        sends it together with what follows it. `n` raises the guard's candidates for this turn (never lowers
        them). The caller holds `lock(chat.id)`. The turn and its conversation hashes are stored together before
        the outcome is yielded.
        """
        spent = _Spent()
        # Each request runs in its own task context, so this is never seen by another request; it is not reset
        # because a client that disconnects closes this generator from wherever the server notices it.
        _spent.set(spent)
        original, guard_n = chat.settings.generate, chat.guard.n
        added: str | None = None
        try:
            if generate:
                chat.settings.generate = original.model_copy(update=generate)
            if n is not None and chat.guard.policy != "off":
                chat.guard.n = max(guard_n, n)
            if mode == "continue":
                turn, added = await chat.continue_reply(instruction)
            elif regenerate:
                turn = await chat.regenerate()
            elif chat.guard.policy == "off":
                async for piece in chat.stream(text):
                    yield piece
                turn = chat.turns[-1]
            else:
                turn = await chat.send(text)
            self.remember_conversation(chat)
        except TurnConflictError:
            # Another process sharing the database stored this turn first: what this one holds in memory is stale,
            # so the next request resumes the session from the database.
            self._drop(chat.id)
            raise
        finally:
            chat.settings.generate, chat.guard.n = original, guard_n
        yield TurnOutcome(chat, turn, spent.seconds, spent.usage, added)

    async def pass_through_turn(
        self,
        chat: ChatSession,
        text: str,
        fields: dict[str, Any],
        tail: Sequence[Message] = (),
        regenerate: bool = False,
        generate: dict[str, Any] | None = None,
        n: int = 1,
    ) -> PassedThrough:
        """Run a turn whose request passes `fields` through to the upstream (`ChatSession.pass_through`).

        `generate` overrides the session's sampling settings for this turn, `n` choices are asked of the upstream
        itself (no guard). The caller holds `lock(chat.id)`; the turn and its hashes are stored before returning.
        """
        spent = _Spent()
        _spent.set(spent)
        settings = chat.settings.generate.model_dump()
        config = GenerateConfig.model_validate({**settings, **(generate or {}), "n": n, "pass_through": fields})
        try:
            turn, output = await chat.pass_through(text, config, tail, regenerate)
            self.remember_conversation(chat)
        except TurnConflictError:
            self._drop(chat.id)  # as in `turn_stream`: another process stored this turn first
            raise
        return PassedThrough(TurnOutcome(chat, turn, spent.seconds, spent.usage), output)

    async def impersonate(
        self, chat: ChatSession, instruction: str | None, generate: dict[str, Any] | None = None
    ) -> tuple[str, Usage]:
        """The user's next line for `chat` (never stored) and the tokens it took; the caller holds `lock(chat.id)`."""
        spent = _Spent()
        _spent.set(spent)
        original = chat.settings.generate
        try:
            if generate:
                chat.settings.generate = original.model_copy(update=generate)
            text = await chat.impersonate(instruction)
        finally:
            chat.settings.generate = original
        return text, spent.usage

    # the OpenAI-compatible mapping ----------------------------------------------------------------------------------

    def conversation_lock(self, key: ApiKey, persona_id: str, user_name: str, parsed: ParsedChat) -> Any:
        """The lock serialising identical requests (a client's retry or swipe), never different conversations."""
        request = conversation_hash(persona_id, user_name, [*parsed.pairs, (parsed.user_text, None)])
        return self._locks.hold(f"conversation:{key.id}:{request}")

    def match_conversation(
        self, key: ApiKey, persona_id: str, parsed: ParsedChat, user_name: str, persona: Persona | None = None
    ) -> tuple[ChatSession, bool]:
        """The session a stateless request continues, and whether the request is a swipe (its last message resent).

        Conversations are matched per key, persona and user name. A history that matches no stored conversation
        starts a new session (with `persona`, if the caller has looked persona `persona_id` up already), seeded
        with that history as unscored turns so the character remembers it. The new session is stored with its
        first turn (seeded or answered), in one transaction: its id reaches the client only with a reply, and a
        first message whose reply fails leaves no empty session behind.
        """
        head = conversation_hash(persona_id, user_name, parsed.pairs) if parsed.pairs else None
        # Continue and Impersonate add no user message, so they can only continue a conversation, never swipe one.
        swipe = conversation_hash(persona_id, user_name, [*parsed.pairs, (parsed.user_text, None)])
        if parsed.mode != "send":
            swipe = ""
        if head is not None and (key.id, persona_id, head) in self._heads:
            return self.session(key, self._heads[(key.id, persona_id, head)]), False
        if (key.id, persona_id, swipe) in self._swipes:
            return self.session(key, self._swipes[(key.id, persona_id, swipe)]), True
        found = self.access.find_conversation(key.id, persona_id, head, swipe)
        if found is not None:
            ownership, is_swipe = found
            return self.session(key, ownership.session_id, read=ownership), is_swipe  # read just now: no 2nd lookup
        branched = self._branch(key, persona_id, user_name, parsed.pairs) if parsed.pairs else None
        chat, kept = branched or (self.start(key, persona_id, user_name, persona, defer=True), 0)
        for user, reply in parsed.pairs[kept:]:
            chat.import_turn(user, reply)
        self.remember_conversation(chat)
        return chat, False

    def _branch(
        self, key: ApiKey, persona_id: str, user_name: str, pairs: Sequence[tuple[str, str]]
    ) -> tuple[ChatSession, int] | None:
        """The stored conversation a history branches from, moved onto it; and how many of its turns it holds.

        This is how an edited, deleted or branched-from earlier message, or a swipe back to an earlier reply,
        reaches the server. The history is compared with every branch of this key's recent sessions with the persona
        and user; the one sharing the longest start wins (at least one turn, or the first reply when only the first
        message was edited). A turn is shared when its user message matches and the history's reply is the one it
        shows or another of its candidates: that candidate is shown from now on (a client swiped back to it, which
        it never tells the server). Turns after the shared start are set aside as a branch of the same session (a
        branch of the history's own, set aside earlier, is brought back), so the session list keeps one
        conversation.
        """
        ids = self.access.recent_conversations(key.id, persona_id, user_name, limit=BRANCH_SCAN)
        lines: dict[tuple[str, int], list[ShownTurn]] = {}
        for turn in self.store.branches(ids):
            lines.setdefault((turn.session_id, turn.branch), []).append(turn)
        wanted = [(_normal(u), _normal(r)) for u, r in pairs]
        # (shared, first reply shared, fewest swipes, session, branch, from, turn -> candidate to show)
        best: tuple[int, int, int, str, int, int, dict[int, int]] | None = None
        for (sid, branch), turns in lines.items():
            start = turns[0].number if branch else 0
            live = lines.get((sid, 0), []) if branch else []
            line = [*live[:start], *turns]
            show: dict[int, int] = {}
            shared = 0
            for i, (turn, (user, reply)) in enumerate(zip(line, wanted, strict=False)):
                if _normal(turn.user_text) != user:
                    break
                if _normal(turn.reply) != reply:
                    swiped = next((c for c, text in turn.swipes if _normal(text) == reply), None)
                    if swiped is None:
                        break
                    show[i] = swiped
                shared = i + 1
            first_reply = int(bool(line) and _normal(line[0].reply) == wanted[0][1])
            rank = (shared, first_reply, -len(show))
            if (shared or first_reply) and (best is None or rank > best[:3]):
                best = (*rank, sid, branch, start, show)
        if best is None:
            return None
        shared, _first, _swipes, sid, branch, start, show = best
        self.session(key, sid)  # owned by this key (raises otherwise)
        self._drop(sid)  # what this process holds of it is reloaded once it is moved
        if branch:  # bring the history's own branch back, setting aside what stands from its start on
            self.store.rewind(sid, start, restore=branch)
        length = start + len(lines[(sid, branch)]) if branch else len(lines[(sid, 0)])
        keep = min(shared, length)
        hashes = conversation_hashes(persona_id, user_name, list(pairs[:keep]))

        def move(conn: Connection) -> None:
            self.access.set_hashes(sid, hashes.head, hashes.swipe, conn)

        # nothing is set aside when the history holds the whole branch
        self.store.rewind(sid, keep, also=move, show={i: c for i, c in show.items() if i < keep})
        return self.session(key, sid), keep

    def remember_conversation(self, chat: ChatSession) -> None:
        """Point this process's hash lookups at the session's shown turns (stored with each turn by `_hash_writer`)."""
        if not self.sole_writer:  # beside other writers every lookup goes to the database: nothing is kept
            return
        self._forget_hashes(chat.id)
        owner = self.owner(chat.id)
        if owner is None:
            return
        persona_id = owner.persona_id
        hashes = conversation_hashes(persona_id, chat.user_name, [(t.user_text, t.reply) for t in chat.turns])
        head = (owner.key_id, persona_id, hashes.head)
        swipe = (owner.key_id, persona_id, hashes.swipe) if hashes.swipe else None
        self._heads[head] = chat.id
        if swipe is not None:
            self._swipes[swipe] = chat.id
        self._hashes_of[chat.id] = (head, swipe)

    def _forget_hashes(self, session_id: str) -> None:
        old = self._hashes_of.pop(session_id, None)
        if old is not None:
            self._heads.pop(old[0], None)
            if old[1] is not None:
                self._swipes.pop(old[1], None)

    def close(self) -> None:
        """Release the database."""
        self.store.close()
