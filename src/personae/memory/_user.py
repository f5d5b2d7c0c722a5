"""Memory of the user across sessions: facts that stay current, dated episodes, and their retrieval for a prompt.

`UserMemory` is the writer and reader for one (key, user, character). Writing: the facts in each user message are
extracted (rules, or the backend when asked), a fact on a single-valued topic supersedes the older value, and a
fact the relevance model puts on the same topic as an older one supersedes it when the NLI model reads the two as a
contradiction; superseded facts are kept as history. Episodes are dated summaries of stretches of a session. Reading:
the current facts and episodes most relevant to the user's message. Storage is behind `MemoryRepository` (the
session database implements it in `personae.store`).
"""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Literal, NamedTuple, Protocol
from weakref import WeakKeyDictionary

import numpy as np
from pydantic import BaseModel, Field
from rank_bm25 import BM25Okapi

from personae.backends import Backend, BackendError, GenerateConfig, Message
from personae.memory._facts import (
    MESSAGE_TOPIC,
    ExtractedFact,
    FactSource,
    MemoryScope,
    UserFact,
    extract_facts,
    extract_with_backend,
    is_state,
    message_item,
    single_valued,
)
from personae.memory._index import FactIndex
from personae.scoring import ScoringModels, mask_names

CON = 2

IDENTITY_LIFT = 0.1
"""Added to the recall score (0…1) of a fact on a single-valued topic: who the user is (home, job, name…) matters to
most replies, a small lift over a merely similar remark."""


class Episode(BaseModel):
    """A dated summary of a stretch of one session, and the events in it."""

    id: int | None = None
    """Row id once stored."""
    persona_id: str = ""
    """The character it happened with."""
    session_id: str
    """The session."""
    first_turn: int
    """First turn it covers."""
    last_turn: int
    """Last turn it covers."""
    summary: str = Field(max_length=4000)
    """What happened, in the third person."""
    events: list[str] = Field(default_factory=list, max_length=50)
    """The events and facts of the stretch, one a line."""
    happened_at: datetime | None = None
    """When the stretch began (the session's time)."""

    def dated(self) -> str:
        """The episode as the prompt shows it."""
        when = f"On {self.happened_at:%d %b %Y}: " if self.happened_at else ""
        return f"{when}{self.summary}"


class UserMemorySettings(BaseModel):
    """Whether and how a character remembers its user across sessions."""

    enabled: bool = True
    """Extract and keep facts about the user, and episodes; retrieve them into the prompt."""
    share_across_characters: bool = False
    """Every character of this key sees what the user told any of them (off: each knows what it was told)."""
    extraction: Literal["rules", "backend"] = "rules"
    """`rules`: offline patterns; `backend`: the session's model writes the facts (the rules when it fails)."""
    episode_every: int = Field(default=20, ge=2, le=1000)
    """Turns per episode: a long session is summarised in stretches of this many turns as it goes."""
    topic_probability: float = Field(default=0.9, ge=0.0, le=1.0)
    """Relevance probability above which an older fact is on the new fact's topic (then the NLI model decides).

    High: the relevance model was calibrated for statements against questions, and short facts about one person
    all look alike to it (on LoCoMo at 0.5, a third of the facts were superseded by unrelated ones)."""
    messages: bool = True
    """Keep each user message verbatim (relative times made dates) as an episodic item beside the facts read from
    it, and recall it like a fact: what the user said that is no first-person statement (what happened to others,
    plans, opinions, photos shared) is remembered too. Not listed among the facts; forgetting or correcting a fact
    forgets or retires the message it was read from."""
    lexical_weight: float = Field(default=0.5, ge=0.0, le=4.0)
    """Weight of the BM25 ranking beside the embedding ranking (1) in their reciprocal-rank fusion: names, places
    and rare words that embeddings blur; 0 ranks by embeddings alone. 0.5 was chosen on LoCoMo conversation 26
    among 0.5, 1 and 2 (bench/memory_locomo.py; the other conversations held out)."""
    fusion_k: int = Field(default=60, ge=1, le=10_000)
    """The constant of reciprocal-rank fusion, 1 / (fusion_k + rank): 60, as Cormack et al. (2009) found robust
    and most hybrid retrievers use; not tuned here."""
    contradiction: float = Field(default=0.7, ge=0.0, le=1.0)
    """NLI contradiction probability above which a new fact supersedes an older one on its topic."""
    index_above: int = Field(default=2048, ge=0, le=100_000_000)
    """Above this many current facts, recall and supersession ask a vector index (usearch HNSW, `FactIndex`) for the
    facts nearest the message instead of reading and ranking every fact (bench/memory_scale.py)."""
    index_candidates: int = Field(default=64, ge=8, le=4096)
    """Facts the index offers for a message; embeddings and BM25 rank these (and only these) as for a small memory."""
    episode_candidates: int = Field(default=50, ge=1, le=100_000)
    """Episodes recall ranks for a message: the newest this many (each turn reads and ranks them, so a character
    with years of sessions stays as fast as one with a few; bench/server_load.py)."""


class MemoryRepository(Protocol):
    """Where user memory is kept (`personae.store.UserMemoryStore` over the session database)."""

    @property
    def identity(self) -> str:
        """Which database this is: a process keeps one vector index per (database, scope)."""
        ...

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
        """Facts of the scope, oldest first; superseded ones too with `history`; narrowed by the keywords.

        Only `ids`, only on `topic`, only ids above `after`, only those told in `session_id`; the messages kept
        verbatim (topic `MESSAGE_TOPIC`) only with `messages`.
        """
        ...

    def add_fact(self, scope: MemoryScope, fact: UserFact, supersedes: Sequence[int] = ()) -> UserFact:
        """Store a fact, marking `supersedes` as replaced by it, in one transaction."""
        ...

    def episodes(
        self, scope: MemoryScope, *, newest: int | None = None, excluding_session: str | None = None
    ) -> list[Episode]:
        """Episodes of the scope, oldest first; only the `newest` so many, leaving out `excluding_session`'s."""
        ...

    def save_episode(self, scope: MemoryScope, episode: Episode) -> Episode:
        """Store an episode, replacing the one of the same session and first turn."""
        ...


class Planned(NamedTuple):
    """A fact to store and the ids of the facts it supersedes (`UserMemory.plan`).

    Until stored, the fact's id is -k, k counting the facts planned with it from 1; a fact it supersedes that was
    planned before it in the same batch is named so too.
    """

    fact: UserFact
    supersedes: list[int]


class Recalled(NamedTuple):
    """What memory offers a prompt: current facts and episodes, most relevant first, with their scores."""

    facts: list[tuple[UserFact, float]]
    episodes: list[tuple[Episode, float]]
    known: bool
    """Whether the character has met the user before this session (facts or episodes from earlier sessions)."""
    last_seen: datetime | None
    """When they last talked, before this session."""


def _words(text: str) -> list[str]:
    """Lowercase content words, for BM25."""
    return [w for w in re.findall(r"[a-z0-9']+", text.lower()) if w not in _STOP]


def _normal(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


_LOCK = threading.RLock()
"""Guards the process's memory caches (`_INDEXES`, `_DOCUMENTS`): sessions with heavy models run their memory work
in worker threads, several at once."""

MAX_INDEXES = 64
"""Vector indexes a process keeps (one per database and scope that outgrew `index_above`), least recently used
dropped first; a dropped one is rebuilt from the database when needed."""
_INDEXES: OrderedDict[tuple[str, MemoryScope], FactIndex] = OrderedDict()

MAX_DOCUMENTS = 50_000
_Document = tuple[np.ndarray, list[str]]
"""A fact, message or episode as recall ranks it: its masked embedding and its words for BM25."""
_DOCUMENTS: WeakKeyDictionary[object, OrderedDict[tuple[tuple[str, str], str], _Document]] = WeakKeyDictionary()
"""Per embedder, facts' and episodes' `_Document` by (names, text), least recently used dropped."""


class _Query(NamedTuple):
    """A user message as recall ranks memory against it (names masked): computed once for facts and episodes."""

    vector: np.ndarray
    words: list[str]


def fuse(rankings: Sequence[Sequence[int]], weights: Sequence[float], k: int = 60) -> dict[int, float]:
    """Reciprocal-rank fusion: each item's sum over rankings of weight / (k + rank), rank from 1.

    Rankings of different scorers (cosine similarities, BM25 scores) are not on one scale; their ranks are.
    Example: fuse([[2, 0, 1], [0, 2]], [1.0, 1.0]) ranks 0 and 2 (in both) above 1.
    """
    fused: dict[int, float] = defaultdict(float)
    for ranking, weight in zip(rankings, weights, strict=True):
        if weight <= 0:
            continue
        for rank, item in enumerate(ranking, start=1):
            fused[item] += weight / (k + rank)
    return fused


_STOP = frozenset(
    " ".join(
        (
            "the a an and or but to of in on at for with from that this it is was are were be been have has had do",
            "did not no so just very really about what when where who how you your i me my we our they them their",
            "he she his her yes yeah oh well like would could should will can there here then than also too much",
            "many some any all",
        )
    ).split()
)


def _one_per_message(scored: Sequence[tuple[UserFact, float]]) -> list[tuple[UserFact, float]]:
    """Ranked facts and messages with, of those read from one message (session and turn), only the first."""
    seen: set[tuple[str | None, int]] = set()
    kept: list[tuple[UserFact, float]] = []
    for fact, score in scored:
        if fact.turn is not None:
            if (fact.session_id, fact.turn) in seen:
                continue
            seen.add((fact.session_id, fact.turn))
        kept.append((fact, score))
    return kept


class UserMemory:
    """Writes and reads what one character knows about one user.

    Example:
        memory = UserMemory(UserMemoryStore(store), MemoryScope(None, "Sam", "ada"), "Ada", models)
        await memory.observe("I moved to Berlin last month.", session_id, turn=0, when=now)
        memory.recall("Where do I live now?", facts=8, episodes=2, session_id=session_id)
    """

    def __init__(
        self,
        repository: MemoryRepository,
        scope: MemoryScope,
        char: str,
        models: ScoringModels | None = None,
        settings: UserMemorySettings | None = None,
    ) -> None:
        if scope.persona_id is None:
            raise ValueError("a memory that writes needs the character (MemoryScope.persona_id)")
        self.repository = repository
        self.scope = scope
        self.char = char
        self.models = models
        self.settings = settings or UserMemorySettings()

    @property
    def user(self) -> str:
        """The user's name."""
        return self.scope.user

    @property
    def read_scope(self) -> MemoryScope:
        """Whose facts this character reads: its own, or every character's of this key and user when shared."""
        if self.settings.share_across_characters:
            return self.scope._replace(persona_id=None)
        return self.scope

    # writing ------------------------------------------------------------------------------------------------------

    async def extract(self, text: str, when: datetime, backend: Backend | None = None) -> list[ExtractedFact]:
        """The facts in one user message (by the backend when the settings ask for it and one is given)."""
        if self.settings.extraction == "backend" and backend is not None:
            return await extract_with_backend(backend, text, self.user, self.char, when.date())
        return extract_facts(text, self.user, self.char, when.date())

    def _on_topic(self, new: str, older: Sequence[UserFact]) -> list[UserFact]:
        """The older facts the relevance model puts on the new fact's topic (at most 8, most probable first).

        Their embeddings come from the kept documents (`_documents`): a fact is embedded once, not on every turn.
        """
        if self.models is None or not older:
            return []
        names = (self.user, self.char)
        documents = self._documents([new, *(f.text for f in older)], names)
        vectors = np.stack([vector for vector, _words in documents[1:]])
        probs = np.asarray(self.models.relevance.calibrate((vectors @ documents[0][0]).astype(np.float32)))
        top = [int(i) for i in np.argsort(-probs, kind="stable")[:8]]
        return [older[i] for i in top if probs[i] >= self.settings.topic_probability]

    def _state(self, fact: UserFact | ExtractedFact) -> bool:
        """Whether a fact may contradict another: a lasting state (`is_state`), not a message."""
        return fact.topic != MESSAGE_TOPIC and is_state(fact.text, self.user, fact.refers_to)

    def _subject(self, text: str) -> set[str]:
        """A fact's content words but the names: a contradiction speaks of the same thing as what it replaces."""
        names = {w.lower() for n in (self.user, self.char) for w in n.split()}
        return {w.removesuffix("'s") for w in _words(text)} - names

    def supersedes(self, new: ExtractedFact, current: Sequence[UserFact]) -> list[int] | None:
        """Ids of the current facts `new` replaces; None when it repeats one (then it is not stored again).

        A single-valued topic (home, job, `likes:coffee`…) holds one fact: a new one on it replaces the others. Any
        other older state the relevance model puts on the new fact's topic is replaced when the NLI model reads the
        new fact as contradicting it, if the two share a content word. Events, plans, moods and messages never
        contradict (`is_state`). `plan` judges a whole message's facts this way at once.
        """
        said = _normal(new.text)
        if any(_normal(f.text) == said for f in current):
            return None
        return self._replaced([new], [list(current)])[0]

    def _replaced(self, items: Sequence[ExtractedFact], pools: Sequence[Sequence[UserFact]]) -> list[list[int]]:
        """For each new item, the ids in its pool of older facts it replaces: one NLI call for all of them."""
        replaced: list[list[int]] = []
        pairs: list[tuple[str, str]] = []
        owners: list[tuple[int, int]] = []
        for n, (item, pool) in enumerate(zip(items, pools, strict=True)):
            same = [f.id for f in pool if f.id is not None and f.topic == item.topic and single_valued(item.topic)]
            replaced.append(same)
            if self.models is None or not self._state(item):
                continue
            subject = self._subject(item.text)
            others = [
                f
                for f in pool
                if f.id is not None and f.id not in same and self._state(f) and subject & self._subject(f.text)
            ]
            for older in self._on_topic(item.text, others):
                pairs.append((older.text, item.text))
                owners.append((n, older.id or 0))
        if pairs and self.models is not None:
            verdicts = self.models.nli.predict(pairs)
            for (n, older_id), row in zip(owners, verdicts, strict=True):
                if row[CON] >= self.settings.contradiction:
                    replaced[n].append(older_id)
        return replaced

    def plan(
        self,
        found: Sequence[ExtractedFact],
        session_id: str | None,
        turn: int | None,
        when: datetime,
        source: FactSource = "rules",
        message: str | None = None,
    ) -> list[Planned]:
        """Decide what storing extracted facts changes (repeats dropped, supersessions found), writing nothing.

        Reads and model calls happen here, so that `commit` only writes: a turn writes what it taught in its own
        transaction without holding the database's write lock through the models. Each fact is judged against the
        current facts and the ones planned before it, as if those were stored already; the embeddings and the NLI
        verdicts of a whole message are computed in one call each. With `message` (and `settings.messages`), the
        message itself is planned first as an episodic item; a message of which a fact is replaced is retired
        with it (what it told is no longer all true), keeping the history.
        """
        said = message_item(message, self.user, when.date()) if message and self.settings.messages else None
        items = [*([said] if said else []), *found]
        if not items:
            return []
        known = self._current_for(items)
        if self.models is not None:  # one embedding call for the message's new texts (kept for recall too)
            self._documents([i.text for i in items], (self.user, self.char))
        kept: list[tuple[int, ExtractedFact, UserFact]] = []
        seen: set[str] = set()
        for j, (item, pool) in enumerate(zip(items, known, strict=True)):
            text = _normal(item.text)
            if text in seen or any(_normal(f.text) == text for f in pool):
                continue  # said before: not stored again
            seen.add(text)
            fact = UserFact(
                id=-(len(kept) + 1),
                text=item.text,
                topic=item.topic,
                persona_id=self.scope.persona_id or "",
                session_id=session_id,
                turn=turn,
                said_at=when,
                refers_to=item.refers_to,
                source="rules" if item.topic == MESSAGE_TOPIC else source,  # a message is the user's own words
            )
            kept.append((j, item, fact))
        pools = [
            [*(f for f in known[j] if f.topic != MESSAGE_TOPIC), *(p for _, _, p in kept[:n])]
            for n, (j, _, _) in enumerate(kept)
        ]
        verdicts = self._replaced([item for _, item, _ in kept], pools)
        planned: list[Planned] = []
        gone: set[int] = set()
        for (j, _item, fact), pool, replaced in zip(kept, pools, verdicts, strict=True):
            ids = [i for i in dict.fromkeys(replaced) if i not in gone]
            if ids:
                ids += self._messages_of([f for f in pool if f.id in ids], known[j], gone)
            planned.append(Planned(fact, ids))
            gone.update(ids)
        return planned

    def _messages_of(self, facts: Sequence[UserFact], known: Sequence[UserFact], gone: set[int]) -> list[int]:
        """Ids of the current stored messages the given (stored) facts were read from: they retire with them."""
        turns = {(f.session_id, f.turn) for f in facts if f.id is not None and f.id > 0 and f.turn is not None}
        if not turns:
            return []
        pool = [f for f in known if f.topic == MESSAGE_TOPIC]
        if not {(f.session_id, f.turn) for f in pool} >= turns:  # a memory of many facts: read those sessions'
            pool = [
                f
                for sid in {sid for sid, _ in turns}
                for f in self.repository.facts(self.read_scope, session_id=sid, messages=True)
                if f.topic == MESSAGE_TOPIC
            ]
        return [
            f.id
            for f in pool
            if f.id is not None and f.id not in gone and f.current and (f.session_id, f.turn) in turns
        ]

    def commit(self, planned: Sequence[Planned], repository: MemoryRepository | None = None) -> list[UserFact]:
        """Store planned facts (in `repository`, e.g. one bound to a turn's transaction); returns them stored."""
        repository = repository or self.repository
        stored_ids: dict[int, int] = {}
        stored: list[UserFact] = []
        for fact, replaces in planned:
            replaced = [stored_ids.get(i, i) for i in replaces]  # a fact planned before this one: its stored id
            new = repository.add_fact(self.scope, fact.model_copy(update={"id": None}), replaced)
            if fact.id is not None and new.id is not None:
                stored_ids[fact.id] = new.id
            stored.append(new)
        return stored

    def unindex(self, planned: Sequence[Planned]) -> None:
        """Drop the facts `planned` superseded from the vector index, once the writes have committed."""
        with _LOCK:
            index = _INDEXES.get((self.repository.identity, self.read_scope))
            if index is not None:
                index.remove([i for p in planned for i in p.supersedes if i > 0])

    def remember(
        self,
        found: Sequence[ExtractedFact],
        session_id: str | None,
        turn: int | None,
        when: datetime,
        source: FactSource = "rules",
        message: str | None = None,
    ) -> list[UserFact]:
        """Store extracted facts (and `message`, as `plan` does), each superseding what it contradicts.

        Returns those stored (repeats are not).
        """
        planned = self.plan(found, session_id, turn, when, source, message)
        stored = self.commit(planned)
        self.unindex(planned)
        return stored

    async def observe(
        self, text: str, session_id: str | None, turn: int | None, when: datetime, backend: Backend | None = None
    ) -> list[UserFact]:
        """Extract the facts in a user message and remember them."""
        if not self.settings.enabled:
            return []
        found = await self.extract(text, when, backend)
        source: Literal["rules", "backend"] = (
            "backend" if self.settings.extraction == "backend" and backend else "rules"
        )
        return self.remember(found, session_id, turn, when, source, text)

    # episodes -----------------------------------------------------------------------------------------------------

    def summarize_offline(self, exchanges: Sequence[tuple[str, str]], facts: Sequence[str]) -> str:
        """An extractive summary: who talked, how long, about which words, and what the user told."""
        words = Counter(
            w
            for user_text, _ in exchanges
            for w in re.findall(r"[a-z][a-z'-]{3,}", user_text.lower())
            if w not in _STOP and w != self.user.lower()
        )
        topics = ", ".join(w for w, _ in words.most_common(6))
        told = " ".join(facts[:4])
        about = f" about {topics}" if topics else ""
        return f"{self.user} and {self.char} talked{about} ({len(exchanges)} exchanges). {told}".strip()

    def draft_episode(
        self,
        session_id: str,
        first_turn: int,
        exchanges: Sequence[tuple[str, str]],
        when: datetime,
        told: Sequence[str] = (),
        read_stored: bool = True,
    ) -> Episode | None:
        """The offline episode of `exchanges`, turns `first_turn…`, not stored yet.

        Its events are the facts stored for those turns, then `told`: facts of its last turn planned but not stored
        yet. Without `read_stored` the caller knows that none are stored (a session that told none since the
        stretch began), and the query is saved.
        """
        if not self.settings.enabled or not exchanges:
            return None
        last_turn = first_turn + len(exchanges) - 1
        stored = self.repository.facts(self.scope, history=True, session_id=session_id) if read_stored else []
        facts = [f.text for f in stored if f.turn is not None and first_turn <= f.turn <= last_turn]
        facts += told
        return Episode(
            persona_id=self.scope.persona_id or "",
            session_id=session_id,
            first_turn=first_turn,
            last_turn=last_turn,
            summary=self.summarize_offline(exchanges, facts)[:4000],
            events=facts[:50],
            happened_at=when,
        )

    async def episode(
        self,
        session_id: str,
        first_turn: int,
        exchanges: Sequence[tuple[str, str]],
        when: datetime,
        backend: Backend | None = None,
    ) -> Episode | None:
        """Write (or rewrite) the episode of `exchanges`, turns `first_turn…`; by the backend if asked, else offline."""
        episode = self.draft_episode(session_id, first_turn, exchanges, when)
        if episode is None:
            return None
        if self.settings.extraction == "backend" and backend is not None:
            transcript = "\n".join(f"{self.user}: {u}\n{self.char}: {r}" for u, r in exchanges)[-6000:]
            prompt = (
                f"Conversation between {self.user} and {self.char} on {when:%d %B %Y}:\n{transcript}\n\n"
                f"Summarise what happened in at most three sentences, in the third person, keeping what {self.char} "
                f"should remember about {self.user}. Reply with the summary only."
            )
            try:
                output = await backend.generate(
                    [Message(role="user", content=prompt)], GenerateConfig(temperature=0.2, max_tokens=160)
                )
                episode.summary = output.text.strip()[:4000] or episode.summary
            except BackendError:
                pass
        return self.repository.save_episode(self.scope, episode)

    # reading ------------------------------------------------------------------------------------------------------

    def recall(self, query: str, facts: int = 8, episodes: int = 2, session_id: str | None = None) -> Recalled:
        """The current facts (and messages) and the episodes most relevant to `query` (newest first without models).

        Ranking fuses the embedding ranking and the BM25 ranking (`_rank`). One item per message: a fact and the
        message it was read from say the same thing, so only the better ranked of them is offered, and the slots go
        to other turns. Episodes of `session_id` (the session asking) are left out: its own turns are in the
        prompt already.
        """
        if not self.settings.enabled:
            return Recalled([], [], False, None)
        scope = self.read_scope
        index = self._index()
        if index is not None:
            current = self._nearest(index, query, self.settings.index_candidates)
        else:
            current = [f for f in self.repository.facts(scope, messages=True) if f.current]
            self._build_index(current)
        # The asking session's own messages are in its prompt already (recent turns, summary, related exchanges).
        current = [f for f in current if f.topic != MESSAGE_TOPIC or f.session_id is None or f.session_id != session_id]
        past = self.repository.episodes(scope, newest=self.settings.episode_candidates, excluding_session=session_id)
        earlier = [f.said_at for f in current if f.session_id != session_id and f.said_at is not None]
        earlier += [e.happened_at for e in past if e.happened_at is not None]
        known = bool(past) or any(f.session_id != session_id for f in current)
        asked = self._query(query)
        scored = [
            (current[i], s + (IDENTITY_LIFT if single_valued(current[i].topic) else 0.0))
            for i, s in self._rank([f.text for f in current], asked)
        ]
        scored.sort(key=lambda pair: -pair[1])
        scored = _one_per_message(scored)
        ranked_episodes = self._rank([e.summary + " " + " ".join(e.events) for e in past], asked)
        return Recalled(
            facts=scored[:facts],
            episodes=[(self._without_superseded(past[i]), s) for i, s in ranked_episodes[:episodes]],  # a query each
            known=known,
            last_seen=max(earlier) if earlier else None,
        )

    def expand(self, recalled: Sequence[tuple[UserFact, float]]) -> list[tuple[UserFact, float]]:
        """The facts a recall offers, each message among them replaced by the current facts read from it (same score).

        A recall offers one item per message (`_one_per_message`), so "Sam said: "I now work as a baker."" may stand
        in for "Sam works as a baker.". The prompt wants the facts: quoted in the user's first person, the embedded
        model answered "What do I do for a living now?" with "I now work as a baker.", as its own. What checks
        replies against the user's facts (the guard's claim check) needs them too. A message nothing was read from
        stays (what it says may still matter). One query per recalled message.
        """
        out: dict[str, tuple[UserFact, float]] = {}
        for fact, score in recalled:
            read: list[UserFact] = []
            if fact.topic == MESSAGE_TOPIC and fact.session_id is not None and fact.turn is not None:
                read = [
                    f
                    for f in self.repository.facts(self.read_scope, session_id=fact.session_id)
                    if f.current and f.turn == fact.turn
                ]
            for item in read or [fact]:
                out.setdefault(item.text, (item, score))
        return list(out.values())

    def stated(self, recalled: Sequence[tuple[UserFact, float]]) -> list[str]:
        """The texts of the facts a recall offers (`expand`), each once; a message nothing was read from is no fact."""
        return [fact.text for fact, _score in self.expand(recalled) if fact.topic != MESSAGE_TOPIC]

    def _without_superseded(self, episode: Episode) -> Episode:
        """`episode` without the facts superseded since it was written, for the prompt (the stored one keeps them).

        An episode's offline summary repeats what the user told then ("Sam lives in Cardiff."); after a move the
        embedded model answered "Where do I live?" with that old home, read from the episode beside the current fact.
        """
        written = episode.summary + "\n" + "\n".join(episode.events)
        stale = [
            f.text
            for f in self.repository.facts(self.read_scope, history=True, session_id=episode.session_id)
            if not f.current and f.text in written
        ]
        if not stale:
            return episode
        summary = episode.summary
        for text in stale:
            summary = summary.replace(text, "")
        events = [e for e in episode.events if e not in stale]
        return episode.model_copy(update={"summary": " ".join(summary.split()), "events": events})

    # the vector index, for a memory of many facts -------------------------------------------------------------------

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        assert self.models is not None
        return self.models.embedder.embed([mask_names(t, [self.user, self.char]) for t in texts])

    def _index(self) -> FactIndex | None:
        """The read scope's vector index if it has one, caught up with the facts stored since it was last used."""
        key = (self.repository.identity, self.read_scope)
        with _LOCK:
            index = _INDEXES.get(key)
            if index is None or self.models is None:
                return None
            _INDEXES.move_to_end(key)
            new = self.repository.facts(self.read_scope, after=index.last_id)
            if new:
                ids = [f.id for f in new if f.id is not None]
                index.add(ids, self._vectors([f.text for f in new if f.id is not None]))
            return index

    def _build_index(self, current: Sequence[UserFact]) -> None:
        """Index the read scope's facts once there are more than `index_above` of them (needs an embedder)."""
        stored = [f for f in current if f.id is not None]
        if self.models is None or len(stored) <= self.settings.index_above:
            return
        vectors = self._vectors([f.text for f in stored])
        index = FactIndex(int(vectors.shape[1]))
        index.add([f.id for f in stored if f.id is not None], vectors)
        with _LOCK:
            _INDEXES[(self.repository.identity, self.read_scope)] = index
            while len(_INDEXES) > MAX_INDEXES:
                _INDEXES.popitem(last=False)

    def _nearest(self, index: FactIndex, text: str, k: int) -> list[UserFact]:
        """The current facts nearest `text` by the index, read back from the repository.

        The repository drops any fact superseded or forgotten since it was indexed; those leave the index too.
        """
        vector = self._vectors([text])[0]
        with _LOCK:
            hits = index.search(vector, k)
        found = self.repository.facts(self.read_scope, ids=[h.id for h in hits])
        gone = {h.id for h in hits} - {f.id for f in found}
        with _LOCK:
            if gone:
                index.remove(sorted(gone))
            stored = index.vectors([f.id for f in found if f.id is not None])
        # the ranking that follows needs these facts' embeddings: the index holds them (at 100,000 facts, embedding
        # the 64 candidates again was most of a recall: p99 131 ms with the shipped MiniLM)
        self._remember({f.text: stored[f.id] for f in found if f.id in stored})
        order = {h.id: i for i, h in enumerate(hits)}
        return sorted(found, key=lambda f: order.get(f.id or 0, 0))

    def _current_for(self, items: Sequence[ExtractedFact]) -> list[list[UserFact]]:
        """For each new item, the current facts and messages it may repeat or supersede.

        All of them (one read for the whole message), or, for a memory of many facts, the facts on its topic and
        its nearest by the index (a repeat or a contradiction is among those).
        """
        index = self._index()
        if index is None:
            current = self.repository.facts(self.read_scope, messages=True)
            self._build_index(current)
            return [current] * len(items)
        found: list[list[UserFact]] = []
        for item in items:
            nearest = self._nearest(index, item.text, 16)
            on_topic = self.repository.facts(self.read_scope, topic=item.topic) if single_valued(item.topic) else []
            seen = {f.id for f in nearest}
            found.append([*nearest, *(f for f in on_topic if f.id not in seen)])
        return found

    def _query(self, text: str) -> _Query | None:
        """The message's embedding and words for ranking; None without models or words (then newest first)."""
        if self.models is None or not text.strip():
            return None
        masked = mask_names(text, (self.user, self.char))
        return _Query(self.models.embedder.embed([masked])[0], _words(masked))

    def _rank(self, texts: Sequence[str], query: _Query | None) -> list[tuple[int, float]]:
        """Indexes of `texts` by relevance to `query`, best first (newest first without one), with scores in 0…1.

        Reciprocal-rank fusion of two rankings: by embedding similarity (names masked) and by BM25 over the words
        (rank-bm25's Okapi; texts sharing no word with the query are not in that ranking). The score is the fused
        value over its best possible (first in both rankings: 1).
        """
        if not texts:
            return []
        if query is None or self.models is None:
            return [(i, 0.0) for i in reversed(range(len(texts)))]
        documents = self._documents(texts, (self.user, self.char))
        sims = np.stack([vector for vector, _words in documents]) @ query.vector
        rankings = [[int(i) for i in np.argsort(-sims, kind="stable")]]
        weights = [1.0]
        if self.settings.lexical_weight > 0 and query.words:
            lexical = BM25Okapi([words for _vector, words in documents]).get_scores(query.words)
            by_words = np.argsort(-lexical, kind="stable")
            rankings.append([int(i) for i in by_words if lexical[int(i)] > 0])
            weights.append(self.settings.lexical_weight)
        k = self.settings.fusion_k
        fused = fuse(rankings, weights, k)
        best = sum(w for w, r in zip(weights, rankings, strict=True) if r) / (k + 1)
        order = sorted(range(len(texts)), key=lambda i: -fused.get(i, 0.0))  # stable: ties stay oldest first
        return [(i, fused.get(i, 0.0) / best) for i in order]

    def _remember(self, vectors: dict[str, np.ndarray]) -> None:
        """Keep embeddings computed elsewhere (the index's, of the same masked texts) as `_documents` would."""
        if self.models is None or not vectors:
            return
        names = (self.user, self.char)
        self._keep({t: (v, _words(mask_names(t, names)) or ["_"]) for t, v in vectors.items()}, names)

    def _keep(self, made: dict[str, _Document], names: tuple[str, str]) -> None:
        """Store `_Document`s in the process's cache (least recently used out past `MAX_DOCUMENTS`)."""
        assert self.models is not None
        with _LOCK:
            kept = _DOCUMENTS.setdefault(self.models.embedder, OrderedDict())
            for text, document in made.items():
                kept[(names, text)] = document
                kept.move_to_end((names, text))
            while len(kept) > MAX_DOCUMENTS:
                kept.popitem(last=False)

    def _documents(self, texts: Sequence[str], names: tuple[str, str]) -> list[_Document]:
        """Each text's `_Document`, names masked; kept per process, since every turn ranks them again."""
        assert self.models is not None
        with _LOCK:
            kept = _DOCUMENTS.setdefault(self.models.embedder, OrderedDict())
            made = {t: kept[(names, t)] for t in texts if (names, t) in kept}
        missing = [t for t in dict.fromkeys(texts) if t not in made]
        if missing:  # embedded outside the lock: other sessions' memory work goes on meanwhile
            masked = [mask_names(t, names) for t in missing]
            vectors = self.models.embedder.embed(masked)
            for text, plain, vector in zip(missing, masked, vectors, strict=True):
                made[text] = (vector, _words(plain) or ["_"])  # BM25Okapi divides by the mean length
        self._keep(made, names)
        return [made[t] for t in texts]
