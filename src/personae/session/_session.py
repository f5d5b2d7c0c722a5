"""The role-play runtime: one persisted session with a persona, guarded replies, swipes and explanations.

Each user message goes through: memory upkeep (rolling summary when due) → prompt assembly (retrieved statements,
lorebook, what the character knows about the user, memory, recent turns) → the guard (sample, score, choose) → the
store, in one transaction: every candidate and its scores, and what the message taught about the user (its facts,
the episode of this stretch).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Connection

from personae.backends import Backend, BackendError, BackendOutput, GenerateConfig, Message
from personae.guard import DEFAULT_SPREAD, Candidate, Guard, GuardPolicy, Judgement
from personae.memory import (
    MESSAGE_TOPIC,
    Episode,
    ExtractedFact,
    LongTermMemory,
    MemoryItem,
    MemoryScope,
    MemorySettings,
    Planned,
    UserFact,
    UserMemory,
    extract_facts,
)
from personae.persona import Persona, expand_macros
from personae.prompting import AssembledPrompt, Exchange, PromptAssembler, PromptSettings
from personae.scoring import Contradiction, OOCResult, ScoringModels, StatementScore
from personae.store import SessionRecord, SessionStore, StoreError, StoreHook, TurnRecord, UserMemoryStore

log = logging.getLogger(__name__)

T = TypeVar("T")

ShownTurns = list[tuple[str, str]]
"""A conversation as the user sees it: (user message, shown reply) per turn, oldest first."""

CONTINUE_INSTRUCTION = "[Continue your last message without repeating its original content.]"
"""What asks the model to extend the character's last reply, unless the client sends its own."""
IMPERSONATE_INSTRUCTION = (
    "[Write your next reply from the point of view of {user}, using the chat history so far as a guideline for the "
    "writing style of {user}. Don't write as {char} or system. Don't describe actions of {char}.]"
)
"""What asks the model for the user's next line, unless the client sends its own."""


IMPORTED_REASON = "imported from the client's history: written elsewhere, not generated, scored or chosen here"
"""Why the guard never judged an imported turn's reply (`Candidate.guard_skipped`)."""


def passed_through_reason(fields: Sequence[str]) -> str:
    """Why the guard skipped a reply whose request passed `fields` through (`Candidate.guard_skipped`)."""
    return f"{', '.join(sorted(fields))} passed through: the upstream's reply as given, not scored or chosen"


def _normal(text: str) -> str:
    return " ".join(text.split())


def joined(reply: str, more: str) -> str:
    """The text `more` adds to `reply` as shown: a space between them unless one side already has whitespace."""
    if reply and more and not reply[-1].isspace() and not more[0].isspace() and more[0] not in ",.;:!?)":
        return " " + more
    return more


class Lesson(NamedTuple):
    """What a turn teaches the character about its user, planned before the turn is stored and written with it."""

    facts: list[Planned]
    """The facts in the user's message, with the facts they supersede."""
    episode: Episode | None
    """The episode of the turn's stretch of the session, rewritten offline (None: none to write)."""


def _tells_facts(lesson: Lesson) -> bool:
    """Whether a lesson stores facts (beyond the message itself, kept verbatim): an episode then reads them back."""
    return any(p.fact.topic != MESSAGE_TOPIC for p in lesson.facts)


class SessionSettings(BaseModel):
    """Everything that decides how a session generates, stored with it so a resumed session behaves the same."""

    guard: GuardPolicy = "best-of-n"
    """Guard policy."""
    n: int = Field(default=4, ge=1, le=16)
    """Candidates per turn under best-of-n and threshold."""
    spread: float = Field(default=DEFAULT_SPREAD, ge=0.0, le=1.0)
    """How much hotter the last candidate of a turn samples than the first (which keeps `generate`'s settings), so
    the guard has different replies to choose among; 0: all candidates sample alike (`GenerateConfig.spread`)."""
    generate: GenerateConfig = Field(default_factory=lambda: GenerateConfig(temperature=0.8, max_tokens=200))
    """Sampling settings of replies."""
    prompt: PromptSettings = Field(default_factory=PromptSettings)
    """Prompt budget and retrieval sizes."""
    memory: MemorySettings = Field(default_factory=MemorySettings)
    """When to summarise older turns."""


class Explanation(BaseModel):
    """Why a reply is (un)faithful: the `/why` view."""

    reply: str
    """The reply explained."""
    apc_normalized: float | None
    """Its normalised APC, if scored."""
    supported: list[StatementScore]
    """Persona statements the reply entails."""
    violated: list[StatementScore]
    """Persona statements it contradicts."""
    contradictions: list[Contradiction]
    """Earlier replies of the character it contradicts."""
    claimed_user_facts: list[str] = Field(default_factory=list)
    """Facts about the user it claims as the character's own (`Candidate.claimed_user_facts`)."""
    ooc: OOCResult | None = None
    """Whether it leaves the character, and why."""
    guard_skipped: str | None = None
    """Why the guard never judged the reply (it was passed through as the upstream gave it); None when it did."""


class ChatSession:
    """A persisted conversation with one persona.

    Example:
        chat = ChatSession.start(persona, get_backend("embedded"))
        turn = await chat.send("Do you eat meat?")
        turn.reply, chat.why().violated
        chat = ChatSession.resume(chat.id, get_backend("embedded"))   # later, in another process
    """

    def __init__(
        self,
        record: SessionRecord,
        backend: Backend,
        store: SessionStore,
        models: ScoringModels | None,
        memory_scope: MemoryScope | None = None,
    ) -> None:
        self.record = record
        self.backend = backend
        self.store = store
        self.settings = SessionSettings.model_validate(record.settings)
        persona, user = record.persona, record.user_name
        scorer = models.scorer(persona) if models else None
        policy = self.settings.guard if scorer is not None else "off"
        self.guard = Guard(
            policy,
            n=self.settings.n,
            scorer=scorer,
            history=models.history() if models else None,
            ooc=models.ooc(persona, user) if models else None,
            offload=not (models and models.light),
            spread=self.settings.spread,
            embedder=models.embedder if models else None,
            claims=models.user_claims(persona, user) if models and self.settings.memory.user.enabled else None,
        )
        self.assembler = PromptAssembler(
            persona,
            user_name=user,
            settings=self.settings.prompt,
            relevance=models.relevance if models else None,
            count_tokens=backend.count_tokens,
            premises=scorer.premise_conflicts if scorer is not None else None,
        )
        self._offload = models is not None and not models.light
        """Whether model work runs in a worker thread (`_off_loop`)."""
        self.memory = LongTermMemory(
            persona.name, user, embedder=models.embedder if models else None, settings=self.settings.memory
        )
        scope = memory_scope or MemoryScope(None, user, persona.slug)
        self._memory_store = UserMemoryStore(store)
        self.user_memory = UserMemory(
            self._memory_store, scope._replace(user=user), persona.name, models, self.settings.memory.user
        )
        """What the character knows about its user across sessions, per (key, user, character)."""
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._turn_times: dict[int, datetime] = {}
        """The session's time: when a message is said (facts' dates, "yesterday"); replaceable for replays."""
        self._told_none_from = len(record.turns)
        """From this turn on, every turn went through this copy and told nothing: an episode of a stretch starting
        here or later has no stored facts to read (the query is saved on most turns)."""
        self.last_judgement: Judgement | None = None
        self._recalled: tuple[str, list[tuple[UserFact, float]]] | None = None
        """(A user message, what recall offered its prompt with messages replaced by their facts, `UserMemory.expand`):
        the guard checks replies against those facts."""
        self.on_turn_stored: Callable[[Connection, ChatSession, ShownTurns], None] | None = None
        """Called inside the transaction that stores a turn, a regeneration or a swipe, with the conversation as
        shown afterwards: what it writes (e.g. the server's conversation hashes) commits or rolls back with it."""
        self._unstored: StoreHook | None = None
        """Writes the session itself, while a session started with `defer` waits for its first turn."""

    @classmethod
    def start(
        cls,
        persona: Persona,
        backend: Backend,
        store: SessionStore | None = None,
        user_name: str = "User",
        settings: SessionSettings | None = None,
        models: ScoringModels | None = None,
        scoring: bool = True,
        also: Callable[[Connection, str], None] | None = None,
        memory_scope: MemoryScope | None = None,
        defer: bool = False,
    ) -> ChatSession:
        """Start and store a new session. Without `scoring` (or statements) the guard is off.

        `also(conn, session_id)` writes more in the transaction that creates the session (e.g. who owns it). With
        `defer` the session is stored with its first turn, in that turn's transaction (a session whose first turn
        fails is not stored at all): for callers that reveal the session's id only with a reply.
        """
        store = store or SessionStore()
        settings = settings or SessionSettings()
        if models is None and scoring:
            models = ScoringModels()
        stored = settings.model_dump(mode="json")
        record = store.create(
            persona, user_name=user_name, backend=backend.address, settings=stored, also=also, defer=defer
        )
        chat = cls(record, backend, store, models, memory_scope)
        if defer:
            chat._unstored = lambda conn: store.insert(record, also, conn)
        return chat

    @classmethod
    def resume(
        cls,
        session_id: str,
        backend: Backend,
        store: SessionStore | None = None,
        models: ScoringModels | None = None,
        scoring: bool = True,
        overrides: dict[str, Any] | None = None,
        memory_scope: MemoryScope | None = None,
    ) -> ChatSession:
        """Load a stored session; `overrides` replace stored settings (e.g. `guard="off"`).

        `memory_scope` says whose user memory it reads and writes (the server: its key and persona id); by default
        the local user's memory of the persona's slug.
        """
        store = store or SessionStore()
        record = store.load(session_id)
        if overrides:
            record.settings = {**record.settings, **overrides}
        if models is None and scoring:
            models = ScoringModels()
        return cls(record, backend, store, models, memory_scope)

    @property
    def id(self) -> str:
        """The session id."""
        return self.record.id

    @property
    def persona(self) -> Persona:
        """The session's persona copy."""
        return self.record.persona

    @property
    def user_name(self) -> str:
        """The user's name."""
        return self.record.user_name

    @property
    def turns(self) -> list[TurnRecord]:
        """Turns so far, oldest first."""
        return self.record.turns

    @property
    def known_user(self) -> bool:
        """Whether the character has talked with this user before this session (it remembers facts or episodes)."""
        try:
            return self.user_memory.recall("", facts=0, episodes=0, session_id=self.id).known
        except StoreError as exc:
            log.warning("user memory unavailable: %s", exc)
            return False

    @property
    def greeting(self) -> str | None:
        """The persona's first greeting with macros expanded; None without one, or when the user is known already.

        A first-meeting greeting would tell a returning user that they were forgotten.
        """
        if not self.persona.greetings or (not self.turns and self.known_user):
            return None
        return expand_macros(self.persona.greetings[0], char=self.persona.name, user=self.user_name)

    def _history(self) -> list[Exchange]:
        return [t.exchange() for t in self.turns]

    def _summary(self) -> MemoryItem | None:
        return self.record.memories[-1] if self.record.memories else None

    async def _update_memory(self) -> None:
        history, window = self._history(), self.settings.prompt.recent_turns
        pending = self.memory.due(history, window, self._summary())
        if not pending:
            return
        try:
            item = await self.memory.summarize(self.backend, pending, self._summary())
        except BackendError as exc:  # a failed summary must not cost the user their reply; retry next turn
            log.warning("memory summary failed, retrying next turn: %s", exc)
            return
        self.record.version = self.store.add_memory(self.id, item, version=self.record.version)
        self.record.memories.append(item)

    async def _off_loop(self, work: Callable[[], T]) -> T:
        """Run model work (embeddings, NLI) and the queries around it in a worker thread, as the guard scores.

        Native models release the GIL, so the event loop serves other sessions meanwhile. Light, pure-Python models
        (or none) run here: a thread would only add GIL hand-offs.
        """
        return await asyncio.to_thread(work) if self._offload else work()

    async def build_prompt(self, user_text: str) -> AssembledPrompt:
        """Assemble the prompt for `user_text` (updating long-term memory first when due)."""
        await self._update_memory()
        return await self._off_loop(lambda: self._assemble(user_text))

    def _assemble(self, user_text: str) -> AssembledPrompt:
        """The prompt for `user_text`: relevant statements, lorebook, what the character knows about the user."""
        history = self._history()
        context = self.memory.context(history, self.settings.prompt.recent_turns, user_text, self._summary())
        prompt_settings = self.settings.prompt
        self._recalled = None
        try:
            recalled = self.user_memory.recall(
                user_text, prompt_settings.user_facts, prompt_settings.episodes, session_id=self.id
            )
        except StoreError as exc:  # memory is a help, never a reason to fail the turn
            log.warning("user memory unavailable: %s", exc)
        else:
            offered = self.user_memory.expand(recalled.facts)  # one query per recalled message: kept for the guard
            context.user_facts = [(f.dated(), p) for f, p in offered]
            self._recalled = (user_text, offered)
            context.episodes = [(e.dated(), p) for e, p in recalled.episodes]
            context.known_user = recalled.known
            context.last_seen = f"{recalled.last_seen:%d %b %Y}" if recalled.last_seen else None
        return self.assembler.assemble(history, user_text, context)

    def _user_facts(self, user_text: str) -> list[str]:
        """The user's facts behind what recall offered the prompt for `user_text` (`UserMemory.stated`), for the guard.

        The prompt's own recall when it was for this message; else (a regeneration after a resume) a new one. Empty
        when the guard does not check them (no scoring models, or user memory off).
        """
        if self.guard.claims is None:
            return []
        try:
            if self._recalled is None or self._recalled[0] != user_text:
                recalled = self.user_memory.recall(user_text, self.settings.prompt.user_facts, 0, session_id=self.id)
                self._recalled = (user_text, self.user_memory.expand(recalled.facts))
            return self.user_memory.stated(self._recalled[1])  # already expanded: facts pass through unread
        except StoreError as exc:
            log.warning("user memory unavailable: %s", exc)
            return []

    def _stretch(self, index: int) -> tuple[int, bool]:
        """The first turn of the stretch (episode) turn `index` belongs to, and whether `index` completes it."""
        every = self.user_memory.settings.episode_every
        first = (index // every) * every
        return first, index - first + 1 == every

    async def _lesson(self, turn: TurnRecord) -> Lesson | None:
        """What `turn` (not stored yet) teaches: the facts in its message and its stretch's episode, rewritten offline.

        Offline, the episode of the stretch is rewritten each turn, so a session that simply stops has one. Nothing
        is written here: `_memory_writer` writes the lesson in the turn's transaction.
        """
        memory = self.user_memory
        if not memory.settings.enabled:
            return None
        when = self.clock()
        source: Literal["rules", "backend"] = "backend" if memory.settings.extraction == "backend" else "rules"
        first, _complete = self._stretch(turn.index)
        exchanges = [(t.user_text, t.reply) for t in [*self.turns[first : turn.index], turn]]
        began, unread = self._started(first) or when, self._told_none_from <= first

        def plan(found: list[ExtractedFact]) -> Lesson:
            planned = memory.plan(found, self.id, turn.index, when, source, message=turn.user_text)
            told = [p.fact.text for p in planned if p.fact.topic != MESSAGE_TOPIC]
            return Lesson(planned, memory.draft_episode(self.id, first, exchanges, began, told, read_stored=not unread))

        try:
            found = await memory.extract(turn.user_text, when, self.backend)
            return await self._off_loop(lambda: plan(found))
        except (StoreError, BackendError) as exc:
            log.warning("user memory not updated: %s", exc)
            return None

    def _memory_writer(self, lesson: Lesson | None) -> StoreHook | None:
        """A store hook writing `lesson` in the transaction of its turn: the turn and what it taught commit together."""
        if lesson is None:
            return None
        memory = self.user_memory

        def write(conn: Connection) -> None:
            repository = self._memory_store.bound(conn)
            memory.commit(lesson.facts, repository)
            if lesson.episode is not None:
                repository.save_episode(memory.scope, lesson.episode)

        return write

    async def _learnt(self, turn: TurnRecord, lesson: Lesson | None) -> None:
        """Finish a lesson once its turn is stored: the vector index follows the facts it superseded.

        A stretch the turn completes gets its episode written by the backend when the settings ask for it.
        """
        memory = self.user_memory
        if lesson is None:
            return
        if _tells_facts(lesson):
            self._told_none_from = turn.index + 1
        memory.unindex(lesson.facts)
        first, complete = self._stretch(turn.index)
        if complete and memory.settings.extraction == "backend":
            await self._summarize(first, turn.index)

    async def _summarize(self, first: int, last: int) -> None:
        """Rewrite the episode of turns `first…last` (by the backend when the settings ask for it)."""
        exchanges = [(t.user_text, t.reply) for t in self.turns[first : last + 1]]
        when = self._started(first) or self.clock()
        try:
            await self.user_memory.episode(self.id, first, exchanges, when, self.backend)
        except (StoreError, BackendError) as exc:
            log.warning("user memory not updated: %s", exc)

    def _started(self, first: int) -> datetime | None:
        """When turn `first` was said, as far as this copy knows (the facts of that turn carry it)."""
        return self._turn_times.get(first)

    async def end(self) -> None:
        """Close the session's current episode (summarised by the backend when the settings ask for it)."""
        if self.turns and self.user_memory.settings.enabled:
            last = self.turns[-1].index
            await self._summarize(self._stretch(last)[0], last)

    def _config(self, round_no: int) -> GenerateConfig:
        config = self.settings.generate
        if config.seed is not None and round_no:
            config = config.model_copy(update={"seed": config.seed + 1000 * round_no})
        return config

    def _stored_hook(self, turns: Sequence[TurnRecord], last_reply: str | None = None) -> StoreHook | None:
        """`on_turn_stored` for a store call after which `turns` are shown (the last with `last_reply`, if given)."""
        hook = self.on_turn_stored
        if hook is None:
            return None
        shown = [(t.user_text, t.reply) for t in turns]
        if last_reply is not None:
            shown[-1] = (shown[-1][0], last_reply)
        return lambda conn: hook(conn, self, shown)

    async def _record_turn(self, user_text: str, prompt: AssembledPrompt, judgement: Judgement) -> TurnRecord:
        turn = TurnRecord(
            index=len(self.turns),
            user_text=user_text,
            prompt=prompt,
            candidates=judgement.candidates,
            chosen_index=judgement.best.index,
        )
        await self._store_new_turn(turn)
        self.last_judgement = judgement
        return turn

    async def _store_new_turn(self, turn: TurnRecord) -> None:
        """Store a new turn together with what it teaches about the user (`_lesson`), then finish the lesson."""
        lesson = await self._lesson(turn)
        self._append(turn, self._memory_writer(lesson))
        await self._learnt(turn, lesson)

    def _append(self, turn: TurnRecord, more: StoreHook | None = None) -> None:
        """Store `turn` (with `on_turn_stored` and `more` in its transaction), then add it to the turns in memory."""
        hooks = [h for h in (self._stored_hook([*self.turns, turn]), more) if h is not None]

        def also(conn: Connection) -> None:
            for hook in hooks:
                hook(conn)

        self.record.version = self.store.add_turn(
            self.id, turn, also=also if hooks else None, version=self.record.version, first=self._unstored
        )
        self._unstored = None
        self.turns.append(turn)

    def import_turn(self, user_text: str, reply: str) -> TurnRecord:
        """Store an exchange that happened elsewhere (e.g. a client's earlier history) as an unscored turn."""
        prompt = AssembledPrompt(messages=[], parts=[], budget_tokens=0)
        candidate = Candidate(index=0, text=reply, finish_reason="imported", guard_skipped=IMPORTED_REASON)
        turn = TurnRecord(
            index=len(self.turns), user_text=user_text, prompt=prompt, candidates=[candidate], chosen_index=0
        )
        memory, lesson = self.user_memory, None
        if memory.settings.enabled:  # what a client's history tells about the user is known from now on
            try:
                found = extract_facts(user_text, memory.user, memory.char, self.clock().date())
                lesson = Lesson(memory.plan(found, self.id, turn.index, self.clock(), message=user_text), None)
            except StoreError as exc:
                log.warning("user memory not updated: %s", exc)
        self._append(turn, self._memory_writer(lesson))
        if lesson is not None:
            if _tells_facts(lesson):
                self._told_none_from = turn.index + 1
            memory.unindex(lesson.facts)
        return turn

    async def send(self, user_text: str) -> TurnRecord:
        """Reply to `user_text` under the session's guard policy; every candidate is stored."""
        self._turn_times.setdefault(len(self.turns), self.clock())
        prompt = await self.build_prompt(user_text)
        earlier, facts = [t.reply for t in self.turns], self._user_facts(user_text)
        judgement = await self.guard.run(
            self.backend, prompt.messages, self._config(0), user_text, earlier, user_facts=facts
        )
        return await self._record_turn(user_text, prompt, judgement)

    async def stream(self, user_text: str) -> AsyncIterator[str]:
        """Stream one reply (the guard needs whole candidates, so this always samples one); scored and stored."""
        self._turn_times.setdefault(len(self.turns), self.clock())
        prompt = await self.build_prompt(user_text)
        parts: list[str] = []
        async for piece in self.backend.stream(prompt.messages, self._config(0)):
            parts.append(piece)
            yield piece
        earlier, facts = [t.reply for t in self.turns], self._user_facts(user_text)
        candidates = await self.guard.score(user_text, ["".join(parts).strip()], earlier, facts)
        await self._record_turn(user_text, prompt, Judgement(policy="off", candidates=candidates, chosen=0))

    async def pass_through(
        self, user_text: str, config: GenerateConfig, tail: Sequence[Message] = (), regenerate: bool = False
    ) -> tuple[TurnRecord, BackendOutput]:
        """Answer with the upstream's own choices, the guard bypassed: tool calls, JSON and logprobs are no role-play.

        The persona's prompt for `user_text` (to `regenerate`: the last turn's prompt) goes upstream with `tail`
        after it (the tool exchange since that message) and `config.pass_through`. Every choice is stored unscored
        as a candidate, with its text (empty for a bare tool call), and the first is shown: a new turn, or one
        more round of the last turn's swipes, each recording that the guard skipped it and why (`guard_skipped`).
        The upstream's output is returned with its tool calls and logprobs.
        """
        skipped = passed_through_reason(list(config.pass_through))
        if not regenerate:
            self._turn_times.setdefault(len(self.turns), self.clock())
            prompt = await self.build_prompt(user_text)
            output = await self.backend.generate([*prompt.messages, *tail], config)
            candidates = [
                Candidate(index=i, text=c.text, finish_reason=c.finish_reason, guard_skipped=skipped)
                for i, c in enumerate(output.choices)
            ]
            turn = TurnRecord(
                index=len(self.turns), user_text=user_text, prompt=prompt, candidates=candidates, chosen_index=0
            )
            await self._store_new_turn(turn)
            return turn, output
        turn = self._last()
        output = await self.backend.generate([*self._last_prompt(), *tail], config)
        first, round_no = len(turn.candidates), max((c.round for c in turn.candidates), default=-1) + 1
        added = [
            Candidate(
                index=first + i, round=round_no, text=c.text, finish_reason=c.finish_reason, guard_skipped=skipped
            )
            for i, c in enumerate(output.choices)
        ]
        self.record.version = self.store.add_candidates(
            self.id,
            turn.index,
            added,
            first,
            also=self._stored_hook(self.turns, added[0].text),
            version=self.record.version,
        )
        turn.candidates.extend(added)
        turn.chosen_index = first
        return turn, output

    def _last(self) -> TurnRecord:
        if not self.turns:
            raise IndexError("no turn yet")
        return self.turns[-1]

    def swipe(self) -> Candidate:
        """Show the next candidate of the last turn, in the guard's ranking order (wrapping around)."""
        turn = self._last()
        ranked = sorted(turn.candidates, key=Candidate.rank_key)
        position = next((i for i, c in enumerate(ranked) if c.index == turn.chosen_index), -1)
        nxt = ranked[(position + 1) % len(ranked)]
        self.record.version = self.store.set_chosen(
            self.id, turn.index, nxt.index, also=self._stored_hook(self.turns, nxt.text), version=self.record.version
        )
        turn.chosen_index = nxt.index
        return nxt

    def show(self, candidate_index: int) -> Candidate:
        """Show the last turn's candidate `candidate_index` (a swipe to a chosen one, e.g. back); ValueError if none."""
        turn = self._last()
        chosen = next((c for c in turn.candidates if c.index == candidate_index), None)
        if chosen is None:
            raise ValueError(f"candidate: turn {turn.index} has no candidate {candidate_index}")
        self.record.version = self.store.set_chosen(
            self.id,
            turn.index,
            chosen.index,
            also=self._stored_hook(self.turns, chosen.text),
            version=self.record.version,
        )
        turn.chosen_index = chosen.index
        return chosen

    async def regenerate(self) -> TurnRecord:
        """Generate a fresh set of candidates for the last user message; they join its swipes.

        The reply shown is the best candidate whose text is new to the turn, so a swipe shows something different
        whenever the upstream gave anything different (a deterministic upstream repeats its first batch); failing
        that, the best new candidate other than the one shown (from the new round, so the UI counts it 1/N).
        """
        turn = self._last()
        round_no = max(c.round for c in turn.candidates) + 1 if turn.candidates else 0
        earlier = [t.reply for t in self.turns[:-1]]
        facts = await self._off_loop(lambda: self._user_facts(turn.user_text))
        judgement = await self.guard.run(
            self.backend,
            turn.prompt.messages,
            self._config(round_no),
            turn.user_text,
            earlier,
            round_no=round_no,
            first_index=len(turn.candidates),
            user_facts=facts,
        )
        seen = {_normal(c.text) for c in turn.candidates}
        fresh = [c for c in judgement.candidates if _normal(c.text) not in seen]
        unlike_shown = [c for c in judgement.candidates if _normal(c.text) != _normal(turn.reply)]
        chosen = min(fresh or unlike_shown or [judgement.best], key=Candidate.rank_key)
        self.record.version = self.store.add_candidates(
            self.id,
            turn.index,
            judgement.candidates,
            chosen.index,
            also=self._stored_hook(self.turns, chosen.text),
            version=self.record.version,
        )
        turn.candidates.extend(judgement.candidates)
        turn.chosen_index = chosen.index
        self.last_judgement = judgement
        return turn

    def _last_prompt(self) -> list[Message]:
        """The messages the last turn's reply was generated from (rebuilt for a turn imported without a prompt)."""
        turn = self._last()
        if turn.prompt.messages:
            return list(turn.prompt.messages)
        return self.assembler.assemble([t.exchange() for t in self.turns[:-1]], turn.user_text).messages

    async def continue_reply(self, instruction: str | None = None) -> tuple[TurnRecord, str]:
        """Extend the shown reply of the last turn (Continue); returns the turn and the text added.

        The longer reply is scored whole, joins the turn's swipes and is shown: it stays the same turn.
        """
        turn = self._last()
        shown = turn.reply
        messages = [
            *self._last_prompt(),
            Message(role="assistant", content=shown),
            Message(role="user", content=instruction or CONTINUE_INSTRUCTION),
        ]
        round_no = max((c.round for c in turn.candidates), default=-1) + 1
        earlier = [t.reply for t in self.turns[:-1]]
        facts = await self._off_loop(lambda: self._user_facts(turn.user_text))
        config = self._config(round_no)
        judgement = await self.guard.run(self.backend, messages, config, turn.user_text, earlier, user_facts=facts)
        added = joined(shown, judgement.best.text.rstrip())
        [whole] = await self.guard.score(turn.user_text, [shown + added], earlier, facts)
        candidate = whole.model_copy(
            update={"index": len(turn.candidates), "round": round_no, "finish_reason": judgement.best.finish_reason}
        )
        self.record.version = self.store.add_candidates(
            self.id,
            turn.index,
            [candidate],
            candidate.index,
            also=self._stored_hook(self.turns, candidate.text),
            version=self.record.version,
        )
        turn.candidates.append(candidate)
        turn.chosen_index = candidate.index
        return turn, added

    async def impersonate(self, instruction: str | None = None) -> str:
        """The user's next line in the user's voice (Impersonate); nothing is stored, the guard does not apply."""
        nudge = instruction or IMPERSONATE_INSTRUCTION.format(user=self.user_name, char=self.persona.name)
        history = self._history()  # no memory upkeep here: that would store a summary
        context = self.memory.context(history, self.settings.prompt.recent_turns, nudge, self._summary())
        prompt = self.assembler.assemble(history, nudge, context, premise=False)
        output = await self.backend.generate(prompt.messages, self._config(0).model_copy(update={"n": 1}))
        return output.text.strip()

    def why(self) -> Explanation:
        """Supported and violated statements (self-contradictions, user facts claimed) of the last turn's reply."""
        turn = self._last()
        shown = turn.shown
        if shown is None:
            raise IndexError("the last turn has no reply")
        return Explanation(
            reply=shown.text,
            apc_normalized=shown.apc_normalized,
            supported=shown.result.supported if shown.result else [],
            violated=shown.violations,
            contradictions=shown.contradictions,
            claimed_user_facts=shown.claimed_user_facts,
            ooc=shown.ooc,
            guard_skipped=shown.guard_skipped,
        )
