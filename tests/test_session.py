"""The runtime: guard policies, stored swipes, resume, memory, explanations, migrations."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from sqlalchemy import Connection, create_engine, event, inspect, text

from helpers.runtime import fake_models, sailor
from personae.backends import (
    Backend,
    BackendAPI,
    BackendError,
    BackendOutput,
    Choice,
    GenerateConfig,
    Message,
    MockBackendAPI,
    get_backend,
)
from personae.guard import Candidate, Guard
from personae.memory import MemoryItem, MemorySettings
from personae.prompting import AssembledPrompt, PromptSettings
from personae.scoring import APCScorer, FakeEmbedder, FakeNLI, ScoringModels
from personae.session import IMPORTED_REASON, ChatSession, SessionSettings, ShownTurns
from personae.store import (
    Migration,
    SessionNotFoundError,
    SessionStore,
    StoreError,
    TurnConflictError,
    TurnRecord,
    applied_migrations,
    migrate,
)
from personae.store._migrations import MIGRATIONS
from personae.store._schema import Base

BAD = "I am not a vegetarian, I love a steak."
GOOD = "I am a vegetarian and always have been."
PLAIN = "Hello to you."


def scripted(*replies: str) -> Backend:
    return get_backend("mock/scripted", outputs=list(replies), cache=None)


def settings(guard: str = "best-of-n", n: int = 2, **extra: object) -> SessionSettings:
    return SessionSettings.model_validate({"guard": guard, "n": n, **extra})


def store(tmp_path: Path) -> SessionStore:
    return SessionStore(f"sqlite:///{tmp_path / 'sessions.db'}")


async def test_best_of_n_keeps_the_candidate_that_does_not_contradict(tmp_path: Path) -> None:
    chat = ChatSession.start(sailor(), scripted(BAD, GOOD), store(tmp_path), settings=settings(), models=fake_models())
    turn = await chat.send("Do you eat meat?")
    assert turn.reply == GOOD
    assert [len(c.violations) for c in turn.candidates] == [1, 0]
    assert turn.candidates[0].violations[0].statement == "Ada is a vegetarian."
    why = chat.why()
    assert [s.statement for s in why.supported] == ["Ada is a vegetarian."]
    assert why.violated == []


async def test_guard_off_keeps_the_single_reply_but_still_explains_it(tmp_path: Path) -> None:
    chat = ChatSession.start(sailor(), scripted(BAD), store(tmp_path), settings=settings("off"), models=fake_models())
    turn = await chat.send("Do you eat meat?")
    assert turn.reply == BAD
    assert len(turn.candidates) == 1
    assert [s.statement for s in chat.why().violated] == ["Ada is a vegetarian."]


async def test_threshold_regenerates_once_naming_the_violated_statement(tmp_path: Path) -> None:
    llm = scripted(BAD, BAD, GOOD, BAD)
    chat = ChatSession.start(sailor(), llm, store(tmp_path), settings=settings("threshold"), models=fake_models())
    turn = await chat.send("Do you eat meat?")
    assert turn.reply == GOOD
    assert [c.round for c in turn.candidates] == [0, 0, 1, 1]
    history = llm.api.history  # type: ignore[attr-defined]
    assert len(history) == 2
    corrective = history[1][0][0].content
    assert "was not true to who you are" in corrective
    assert "- Ada is a vegetarian." in corrective


async def test_threshold_does_not_regenerate_when_the_best_is_clean(tmp_path: Path) -> None:
    llm = scripted(BAD, GOOD)
    chat = ChatSession.start(sailor(), llm, store(tmp_path), settings=settings("threshold"), models=fake_models())
    await chat.send("Do you eat meat?")
    assert len(llm.api.history) == 1  # type: ignore[attr-defined]


class PremiseScorer(APCScorer):
    """A scorer whose premise check knows one false premise (the fake NLI reads none)."""

    def premise_conflicts(self, query: str, sentences: bool = True) -> list[str]:
        self.asked = [*getattr(self, "asked", []), sentences]
        return ["Ada is a vegetarian."] if "meat" in query else []


def continuing(first: str, rest: str) -> Backend:
    """A mock that answers `first`, or `rest` when asked to continue a reply from a prefix."""
    return get_backend("mock/scripted", fn=lambda _m, config, _i: rest if config.prefix else first, cache=None)


def premise_guard(n: int = 2) -> Guard:
    models = fake_models()
    return Guard("threshold", n=n, scorer=PremiseScorer(sailor(), nli=models.nli, relevance=models.relevance))


async def test_threshold_opens_the_corrective_reply_with_the_fact_a_false_premise_denies() -> None:
    llm = continuing(PLAIN, " And proud of it.")
    query = "Do you eat meat?"
    judgement = await premise_guard().run(llm, [Message(role="user", content=query)], GenerateConfig(), query=query)
    history = llm.api.history  # type: ignore[attr-defined]
    assert [config.prefix for _, config in history] == [None, "I am a vegetarian."]
    assert "put the user right" in history[1][0][0].content
    assert "- Ada is a vegetarian." in history[1][0][0].content
    assert judgement.corrective_opening == "I am a vegetarian."
    assert [c.text for c in judgement.candidates][2:] == ["I am a vegetarian. And proud of it."] * 2
    assert judgement.best.round == 1


async def test_a_scene_s_guard_reads_premises_by_the_claim_rules_only() -> None:
    """In a scene the "you" of a line heard may be anyone present, so its sentences are not read whole."""
    from personae.scene import SceneSpec
    from personae.scene._runner import _Character

    spec = SceneSpec.model_validate(
        {"characters": [{"persona": {"name": n, "statements": ["x"]}} for n in ("Ada", "Bo")], "guard": "threshold"}
    )
    character = _Character(spec.characters[0], sailor(), None, spec, fake_models())
    assert character.guard("Bo").premise_sentences is False
    scorer = PremiseScorer(sailor(), nli=fake_models().nli, relevance=fake_models().relevance)
    guard = Guard("threshold", n=1, scorer=scorer, premise_sentences=False)
    query = "Do you eat meat?"
    llm = scripted("I do love a steak.", "I never eat meat.")
    await guard.run(llm, [Message(role="user", content=query)], GenerateConfig(), query=query)
    assert scorer.asked == [False]


async def test_threshold_keeps_a_draft_that_already_puts_the_premise_right() -> None:
    llm = continuing(GOOD, " Never.")
    query = "Do you eat meat?"
    judgement = await premise_guard().run(llm, [Message(role="user", content=query)], GenerateConfig(), query=query)
    assert len(llm.api.history) == 1  # type: ignore[attr-defined]
    assert judgement.best.text == GOOD
    assert judgement.corrective_opening is None


async def test_a_session_answers_a_false_premise_from_the_truth_checking_the_premise_once(tmp_path: Path) -> None:
    # the fake NLI reads "I do swim every morning" (what the question asks agreement to) against "Ada cannot swim."
    models = fake_models()
    llm = continuing(PLAIN, " I never learned.")
    chat = ChatSession.start(sailor(), llm, store(tmp_path), settings=settings("threshold"), models=models)
    scorer = chat.guard.scorer
    assert scorer is not None
    claims: list[str] = []
    score = scorer.score

    def counted(query: str, response: str) -> object:
        claims.append(response)
        return score(query, response)

    scorer.score = counted  # type: ignore[method-assign]
    turn = await chat.send("Do you swim every morning?")
    assert turn.reply == "I cannot swim. I never learned."
    assert claims == ["I do swim every morning."]  # the prompt's premise cue and the guard share one check
    assert "You cannot swim." in llm.api.history[0][0][0].content  # type: ignore[attr-defined]


def _sides(said: str, fact: str, premise: str, hypothesis: str) -> bool:
    """Whether a pair holds `said` on one side and `fact` on the other, in either order."""
    return (said in premise and fact in hypothesis) or (said in hypothesis and fact in premise)


class KeywordNLI:
    """Label probabilities by words: a pair with `said` on one side (a reply sentence or claim) and `fact` on the
    other (the statement, as the scorer phrases it)."""

    name = "keywords"

    def __init__(self, rules: list[tuple[str, str, tuple[float, float, float]]]) -> None:
        self.rules = rules

    def predict(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        def probs(premise: str, hypothesis: str) -> tuple[float, float, float]:
            hits = [p for said, fact, p in self.rules if _sides(said, fact, premise, hypothesis)]
            return hits[0] if hits else (0.05, 0.9, 0.05)

        return np.asarray([probs(*pair) for pair in pairs], dtype=np.float32).reshape(-1, 3)


async def test_a_draft_both_supporting_and_contradicting_the_fact_does_not_put_the_premise_right() -> None:
    nli = KeywordNLI(
        [
            ("do swim every morning", "cannot swim", (0.01, 0.01, 0.98)),  # what the question asks agreement to
            ("Still, I swim", "cannot swim", (0.05, 0.05, 0.9)),  # the draft's slip, weaker than its support
            ("cannot swim", "cannot swim", (0.97, 0.02, 0.01)),
        ]
    )
    scorer = APCScorer(sailor(), nli=nli, relevance=fake_models().relevance)  # type: ignore[arg-type]
    llm = continuing("I cannot swim. Still, I swim every morning.", " Not a stroke.")
    query = "Do you swim every morning?"
    guard = Guard("threshold", n=1, scorer=scorer)
    judgement = await guard.run(llm, [Message(role="user", content=query)], GenerateConfig(), query=query)
    first = judgement.candidates[0]
    assert first.result is not None
    swim = next(s for s in first.result.statements if s.statement == "Ada cannot swim.")
    assert swim.supported  # the stronger evidence wins the verdict ...
    assert judgement.corrective_opening == "I cannot swim."  # ... but the guard does not take it as a correction
    assert judgement.best.text == "I cannot swim. Not a stroke."


class NoPrefixAPI(MockBackendAPI):
    supports_prefix: ClassVar[bool] = False


async def test_a_backend_that_cannot_continue_gets_the_instruction_only() -> None:
    llm = Backend(NoPrefixAPI(model="scripted", fn=lambda _m, _c, _i: PLAIN), cache=None)
    with pytest.raises(BackendError, match="cannot continue a reply from a prefix"):
        await llm.generate([Message(role="user", content="hi")], GenerateConfig(prefix="I am"))
    query = "Do you eat meat?"
    judgement = await premise_guard().run(llm, [Message(role="user", content=query)], GenerateConfig(), query=query)
    assert [config.prefix for _, config in llm.api.history] == [None, None]  # type: ignore[attr-defined]
    assert judgement.corrective_opening is None
    assert "put the user right" in (judgement.corrective_instruction or "")


async def test_history_check_penalises_contradicting_an_earlier_reply(tmp_path: Path) -> None:
    llm = scripted("My boat is called Marie.", PLAIN, "My boat is not called Marie.", "My boat is called Marie.")
    chat = ChatSession.start(sailor(), llm, store(tmp_path), settings=settings(), models=fake_models())
    await chat.send("What is your boat called?")
    turn = await chat.send("Tell me again, what is the boat called?")
    assert turn.reply == "My boat is called Marie."
    assert len(turn.candidates[0].contradictions) == 1
    assert turn.candidates[0].contradictions[0].earlier == "My boat is called Marie."


async def test_empty_candidate_never_wins(tmp_path: Path) -> None:
    chat = ChatSession.start(sailor(), scripted("", BAD), store(tmp_path), settings=settings(), models=fake_models())
    assert (await chat.send("Do you eat meat?")).reply == BAD


async def test_session_survives_restart_with_turns_and_swipes(tmp_path: Path) -> None:
    db = store(tmp_path)
    chat = ChatSession.start(
        sailor(), scripted(BAD, GOOD, PLAIN, "Hi."), db, settings=settings(), models=fake_models(), user_name="Tom"
    )
    await chat.send("Do you eat meat?")
    await chat.send("Hello!")
    swiped = chat.swipe()
    assert swiped.text == "Hi." or swiped.text == PLAIN
    db.close()

    reopened = SessionStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    again = ChatSession.resume(chat.id, get_backend("mock/echo", cache=None), reopened, models=fake_models())
    assert again.user_name == "Tom"
    assert again.persona == sailor()
    assert [t.user_text for t in again.turns] == ["Do you eat meat?", "Hello!"]
    assert [[c.text for c in t.candidates] for t in again.turns] == [[BAD, GOOD], [PLAIN, "Hi."]]
    assert again.turns[1].reply == swiped.text
    assert again.turns[0].candidates[0].violations[0].statement == "Ada is a vegetarian."
    assert again.turns[0].prompt == chat.turns[0].prompt


async def test_swipe_cycles_in_ranking_order_and_regen_adds_candidates(tmp_path: Path) -> None:
    llm = scripted(BAD, GOOD, PLAIN, "I am a vegetarian, yes.", BAD, BAD)
    chat = ChatSession.start(sailor(), llm, store(tmp_path), settings=settings(n=3), models=fake_models())
    turn = await chat.send("Do you eat meat?")
    shown = [turn.reply, chat.swipe().text, chat.swipe().text, chat.swipe().text]
    assert shown[0] == shown[3]
    assert sorted(shown[:3]) == sorted([BAD, GOOD, PLAIN])
    assert shown[2] == BAD  # the violating candidate comes last
    turn = await chat.regenerate()
    assert len(turn.candidates) == 6
    assert [c.round for c in turn.candidates] == [0, 0, 0, 1, 1, 1]
    assert turn.reply == "I am a vegetarian, yes."
    assert chat.store.load(chat.id).turns[0].chosen_index == turn.chosen_index


async def test_rolling_summary_is_made_by_the_backend_and_stored(tmp_path: Path) -> None:
    replies = iter([f"reply {i}" for i in range(10)])

    def fn(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
        if "Write an updated summary" in messages[-1].content:
            return "Tom asked Ada many questions."
        return next(replies)

    llm = get_backend("mock/fn", fn=fn, cache=None)
    custom = settings("off", prompt=PromptSettings(recent_turns=2), memory=MemorySettings(summarize_every=2))
    chat = ChatSession.start(sailor(), llm, store(tmp_path), settings=custom, models=fake_models())
    for i in range(5):
        await chat.send(f"question {i}")
    record = chat.store.load(chat.id)
    assert [(m.first_turn, m.last_turn) for m in record.memories] == [(0, 1)]
    assert record.memories[0].content == "Tom asked Ada many questions."
    assert "Tom asked Ada many questions." in chat.turns[-1].prompt.messages[0].content


async def test_a_failing_summary_does_not_cost_the_reply(tmp_path: Path) -> None:
    def fn(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
        if "Write an updated summary" in messages[-1].content:
            raise BackendError("summariser down")
        return "fine"

    llm = get_backend("mock/fn", fn=fn, cache=None)
    custom = settings("off", prompt=PromptSettings(recent_turns=1), memory=MemorySettings(summarize_every=1))
    chat = ChatSession.start(sailor(), llm, store(tmp_path), settings=custom, models=fake_models())
    for i in range(3):
        assert (await chat.send(f"q{i}")).reply == "fine"
    assert chat.store.load(chat.id).memories == []


def test_unknown_session_id_raises_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(SessionNotFoundError, match="no session 'nope'"):
        store(tmp_path).load("nope")


async def test_swipes_and_regenerations_of_missing_sessions_or_turns_raise_typed_errors(tmp_path: Path) -> None:
    db = store(tmp_path)
    chat = ChatSession.start(sailor(), scripted(PLAIN), db, settings=settings("off"), scoring=False)
    with pytest.raises(StoreError, match="has no turn 0"):
        db.set_chosen(chat.id, 0, 1)
    with pytest.raises(SessionNotFoundError, match="no session 'nope'"):
        db.add_candidates("nope", 0, [], 0)
    await chat.send("Hello!")
    db.set_chosen(chat.id, 0, 5)
    assert db.load(chat.id).turns[0].chosen_index == 5


def test_migrations_are_recorded_once_and_match_the_orm_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    first = SessionStore(url)
    assert first.applied == [m.name for m in MIGRATIONS]
    assert SessionStore(url).applied == []
    inspector = inspect(create_engine(url))
    for table in Base.metadata.sorted_tables:
        migrated = {c["name"]: c["nullable"] for c in inspector.get_columns(table.name)}
        modelled = {c.name: c.nullable for c in table.columns}
        assert migrated == modelled, table.name
        unique = {i["name"]: i["column_names"] for i in inspector.get_indexes(table.name) if i["unique"]}
        for index in (i for i in table.indexes if i.unique):  # the ORM's unique indexes, made by a migration
            assert unique.get(index.name) == [c.name for c in index.columns], (table.name, index.name)


async def test_a_turn_another_process_stored_first_is_refused_and_nothing_is_lost(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = ChatSession.start(sailor(), scripted(PLAIN), SessionStore(url), settings=settings("off"), scoring=False)
    # A second process (its own store and engine) resumes the same session before either sends.
    second = ChatSession.resume(first.id, scripted("Good day."), SessionStore(url), scoring=False)
    await first.send("Hello!")
    with pytest.raises(TurnConflictError, match=rf"session '{first.id}' .* was changed by another process"):
        await second.send("Good morning!")
    assert second.turns == []  # its in-memory session is unchanged; a reload shows the first process's turn
    stored = SessionStore(url).load(first.id).turns
    assert [(t.index, t.user_text, t.reply) for t in stored] == [(0, "Hello!", PLAIN)]
    reloaded = ChatSession.resume(first.id, scripted("Good day."), SessionStore(url), scoring=False)
    assert (await reloaded.send("Good morning!")).index == 1


async def test_every_write_counts_a_version_and_a_stale_copy_is_refused_whatever_it_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = ChatSession.start(
        sailor(), scripted(BAD, GOOD, PLAIN, "Hi."), SessionStore(url), settings=settings(), models=fake_models()
    )
    await first.send("Do you eat meat?")
    assert first.record.version == 1
    # Another process reads the session now, then the first one swipes and regenerates.
    stale = ChatSession.resume(first.id, scripted(PLAIN, PLAIN), SessionStore(url), models=fake_models())
    assert stale.record.version == 1
    first.swipe()
    await first.regenerate()
    assert first.record.version == 3 == SessionStore(url).load(first.id).version
    with pytest.raises(TurnConflictError, match=r"this copy is at version 1, the database at 3"):
        stale.swipe()
    with pytest.raises(TurnConflictError, match="was changed by another process"):
        await stale.regenerate()
    stored = SessionStore(url).load(first.id)
    assert [c.text for c in stored.turns[0].candidates] == [BAD, GOOD, PLAIN, "Hi."]  # nothing of the stale copy
    assert stored.turns[0].chosen_index == first.turns[0].chosen_index


def test_without_a_version_the_unique_turn_index_still_refuses_a_turn_stored_twice(tmp_path: Path) -> None:
    sessions = store(tmp_path)
    record = sessions.create(sailor(), "User", "mock/echo", {})
    chat = ChatSession.resume(record.id, scripted(PLAIN), sessions, scoring=False)
    chat.import_turn("Hello!", PLAIN)
    turn = chat.turns[0].model_copy(update={"user_text": "Hello again!"})
    with pytest.raises(TurnConflictError, match=rf"session '{record.id}' .* already has a turn 0"):
        sessions.add_turn(record.id, turn)  # no version given: only the database's unique index can refuse it
    assert [t.user_text for t in sessions.load(record.id).turns] == ["Hello!"]


def _database_before_0004(url: str, turn_indexes: Sequence[int]) -> None:
    """A database as personae left it before migration 0004, with one session holding turns at `turn_indexes`."""
    engine = create_engine(url)
    with engine.begin() as conn:
        migrate(conn, MIGRATIONS[:3])
        conn.execute(
            text(
                "INSERT INTO sessions (id, persona_hash, persona_name, persona_json, user_name, backend, settings, "
                "created_at, updated_at) VALUES ('s1', 'h', 'Ada', '{}', 'User', 'mock', '{}', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        for i in turn_indexes:
            conn.execute(
                text(
                    'INSERT INTO turns (session_id, "index", user_text, prompt, created_at) '
                    "VALUES ('s1', :i, 'hi', '{}', '2026-01-01 00:00:00')"
                ),
                {"i": i},
            )
    engine.dispose()


def test_migration_0004_adds_the_unique_turn_index_to_an_older_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _database_before_0004(url, [0, 1])
    assert SessionStore(url).applied == [m.name for m in MIGRATIONS[3:]]  # 0004 onwards
    unique = [i for i in inspect(create_engine(url)).get_indexes("turns") if i["unique"]]
    assert [(i["name"], i["column_names"]) for i in unique] == [
        ("uq_turns_session_branch_index", ["session_id", "branch", "index"])  # 0007 adds the branch
    ]
    with create_engine(url).connect() as conn:  # 0005: the existing session starts counting its changes at 0
        assert conn.execute(text("SELECT id, version FROM sessions")).all() == [("s1", 0)]


def test_an_older_database_with_a_doubled_turn_is_named_and_left_unchanged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _database_before_0004(url, [0, 1, 1])
    with pytest.raises(StoreError, match=r"old\.db: migration 0004_unique_turn_index: .*session s1 turn 1 \(2 rows\)"):
        SessionStore(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM turns")).scalar() == 3
    with engine.begin() as conn:
        assert "0004_unique_turn_index" not in applied_migrations(conn)


def test_a_database_from_a_newer_personae_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = create_engine(url)
    newer = (*MIGRATIONS, Migration("9999_future", lambda conn: None))
    with engine.begin() as conn:
        migrate(conn, newer)
    with pytest.raises(StoreError, match="9999_future"):
        SessionStore(url)


def test_guard_needs_a_scorer_unless_off() -> None:
    with pytest.raises(ValueError, match="needs a scorer"):
        Guard("best-of-n")
    assert Guard("off", n=4).n == 1


class Boom(Exception):
    pass


def test_what_start_also_writes_commits_with_the_session_and_its_failure_undoes_it(tmp_path: Path) -> None:
    db = store(tmp_path)

    def refuse(conn: Connection, session_id: str) -> None:
        conn.execute(text("UPDATE sessions SET user_name = 'changed' WHERE id = :sid"), {"sid": session_id})
        raise Boom

    with pytest.raises(Boom):
        ChatSession.start(sailor(), scripted(PLAIN), db, settings=settings("off"), also=refuse, scoring=False)
    assert db.list_sessions() == []

    def rename(conn: Connection, session_id: str) -> None:
        conn.execute(text("UPDATE sessions SET user_name = 'Tom' WHERE id = :sid"), {"sid": session_id})

    chat = ChatSession.start(sailor(), scripted(PLAIN), db, settings=settings("off"), also=rename, scoring=False)
    assert db.load(chat.id).user_name == "Tom"


def _transactions_of(db: SessionStore, statements: list[tuple[int, str]]) -> None:
    """Note each statement of `db` with the number of the transaction it ran in."""
    begun = [0]

    @event.listens_for(db.engine, "begin")
    def began(_conn: Connection) -> None:
        begun[0] += 1

    @event.listens_for(db.engine, "before_cursor_execute")
    def executing(_conn: Connection, _cursor: object, statement: str, *_args: object) -> None:
        statements.append((begun[0], " ".join(statement.split()[:3])))


async def test_a_deferred_session_is_stored_with_its_first_turn_in_one_transaction(tmp_path: Path) -> None:
    db = store(tmp_path)
    owners: list[str] = []
    statements: list[tuple[int, str]] = []
    _transactions_of(db, statements)
    chat = ChatSession.start(
        sailor(),
        scripted(PLAIN, "Hi."),
        db,
        settings=settings("off"),
        scoring=False,
        also=lambda _conn, sid: owners.append(sid),
        defer=True,
    )
    assert (statements, owners) == ([], [])  # nothing written before the first turn
    assert db.list_sessions() == []
    await chat.send("Hello!")
    assert owners == [chat.id]  # `also` ran once, in the turn's transaction
    [(tx_session, _)] = [(tx, s) for tx, s in statements if s == "INSERT INTO sessions"]
    [(tx_turn, _)] = [(tx, s) for tx, s in statements if s == "INSERT INTO turns"]
    assert tx_session == tx_turn
    stored = db.load(chat.id)
    assert ([t.user_text for t in stored.turns], stored.version) == (["Hello!"], chat.record.version)
    assert stored.version == 1  # as a session written on its own and then given a turn
    await chat.send("Again!")  # later turns write as before
    assert [t.user_text for t in db.load(chat.id).turns] == ["Hello!", "Again!"]


async def test_a_deferred_session_whose_first_turn_fails_is_never_stored(tmp_path: Path) -> None:
    db = store(tmp_path)
    chat = ChatSession.start(sailor(), scripted(), db, settings=settings("off"), scoring=False, defer=True)
    with pytest.raises(BackendError):
        await chat.send("Hello?")
    assert db.list_sessions() == []
    imported = ChatSession.start(sailor(), scripted(), db, settings=settings("off"), scoring=False, defer=True)
    imported.import_turn("Earlier", "Aye.")  # an imported turn is a first turn too
    assert [t.user_text for t in db.load(imported.id).turns] == ["Earlier"]


async def test_turn_hooks_write_in_the_turns_transaction_and_a_failing_hook_undoes_the_turn(tmp_path: Path) -> None:
    db = store(tmp_path)
    seen: list[tuple[str, ShownTurns]] = []
    chat = ChatSession.start(sailor(), scripted(PLAIN, GOOD, BAD, "Hi."), db, settings=settings(), models=fake_models())
    chat.on_turn_stored = lambda conn, c, shown: seen.append((c.id, shown))
    await chat.send("Hello!")
    assert seen == [(chat.id, [("Hello!", chat.turns[0].reply)])]
    swiped = chat.swipe()
    assert seen[-1] == (chat.id, [("Hello!", swiped.text)])
    regenerated = await chat.regenerate()
    assert seen[-1] == (chat.id, [("Hello!", regenerated.reply)])

    def fail(conn: Connection, c: ChatSession, shown: ShownTurns) -> None:
        raise Boom

    chat.on_turn_stored = fail
    with pytest.raises(Boom):
        chat.import_turn("Still there?", "Aye.")
    assert [t.user_text for t in chat.turns] == ["Hello!"]
    assert [t.user_text for t in db.load(chat.id).turns] == ["Hello!"]  # rolled back with the hook
    chat.on_turn_stored = lambda conn, c, shown: seen.append((c.id, shown))
    chat.import_turn("Remember me?", "Of course.")
    assert seen[-1] == (chat.id, [("Hello!", regenerated.reply), ("Remember me?", "Of course.")])
    assert db.load(chat.id).turns[1].candidates[0].finish_reason == "imported"


def test_an_imported_reply_says_the_guard_never_judged_it(tmp_path: Path) -> None:
    db = store(tmp_path)
    chat = ChatSession.start(sailor(), scripted(), db, settings=settings(), models=fake_models())
    chat.import_turn("Remember me?", BAD)  # a reply the guard would have refused, written elsewhere
    [stored] = db.load(chat.id).turns[0].candidates
    assert (stored.finish_reason, stored.guard_skipped) == ("imported", IMPORTED_REASON)
    why = ChatSession.resume(chat.id, scripted(), db, models=fake_models()).why()
    assert (why.guard_skipped, why.apc_normalized, why.violated) == (IMPORTED_REASON, None, [])


class ThreadNoting(FakeNLI):
    """The fake NLI, noting which thread predicts; `light` as given."""

    def __init__(self, light: bool) -> None:
        self.light = light
        self.threads: set[int] = set()

    def predict(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        self.threads.add(threading.get_ident())
        return super().predict(pairs)


@pytest.mark.parametrize("light", [True, False])
async def test_light_models_are_scored_on_the_callers_thread_others_in_a_worker(tmp_path: Path, light: bool) -> None:
    nli = ThreadNoting(light)
    models = ScoringModels(nli=nli, embedder=FakeEmbedder(), ooc_classifier=False)
    assert models.light is light
    chat = ChatSession.start(sailor(), scripted(BAD, GOOD), store(tmp_path), settings=settings(), models=models)
    assert chat.guard.offload is not light
    assert (await chat.send("Do you eat meat?")).reply == GOOD
    assert (nli.threads == {threading.get_ident()}) is light


def test_scoring_models_moved_and_the_old_import_warns() -> None:
    with pytest.warns(DeprecationWarning, match=r"personae\.scoring\.ScoringModels.*removed in 0\.3"):
        from personae.session import ScoringModels as Old
    assert Old is ScoringModels
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from personae.session import ChatSession  # noqa: F401 - the names that stayed do not warn


async def test_a_regeneration_shows_a_reply_new_to_the_turn_even_from_a_repeating_upstream(tmp_path: Path) -> None:
    llm = get_backend("mock/echo", cache=None)  # the same two candidates on every call
    chat = ChatSession.start(sailor(), llm, store(tmp_path), settings=settings(n=2), models=fake_models())
    first = (await chat.send("Hello")).reply
    second = (await chat.regenerate()).reply
    third = (await chat.regenerate()).reply
    assert second != first  # no new text came back, so the other earlier candidate is shown
    assert third != second
    llm2 = scripted("One.", "Two.", "Two.", "Three.")
    chat2 = ChatSession.start(sailor(), llm2, store(tmp_path), settings=settings(n=2), models=fake_models())
    shown = (await chat2.send("Hi")).reply
    assert (await chat2.regenerate()).reply == "Three."  # the new text wins over the repeated one
    assert shown in ("One.", "Two.")


def test_rewind_sets_turns_aside_as_a_branch_and_restores_it(tmp_path: Path) -> None:
    db = store(tmp_path)
    record = db.create(sailor(), "Tom", "mock/echo", settings().model_dump(mode="json"))
    prompt = AssembledPrompt(messages=[], parts=[], budget_tokens=0)
    for i in range(3):
        candidates = [Candidate(index=0, text=f"reply {i}")]
        db.add_turn(
            record.id, TurnRecord(index=i, user_text=f"q{i}", prompt=prompt, candidates=candidates, chosen_index=0)
        )
    db.add_memory(record.id, MemoryItem(kind="summary", content="All of it.", first_turn=0, last_turn=2))
    db.rewind(record.id, 1)
    loaded = db.load(record.id)
    assert [t.user_text for t in loaded.turns] == ["q0"]
    assert loaded.memories == []  # the summary reached into the turns set aside
    assert [s.turns for s in db.list_sessions()] == [1]
    db.add_turn(record.id, TurnRecord(index=1, user_text="other", prompt=prompt, candidates=[], chosen_index=None))
    shown = db.branches([record.id])
    assert [(t.branch, t.number, t.user_text, t.reply) for t in shown] == [
        (0, 0, "q0", "reply 0"),
        (0, 1, "other", ""),
        (1, 1, "q1", "reply 1"),
        (1, 2, "q2", "reply 2"),
    ]
    db.rewind(record.id, 1, restore=1)
    assert [t.user_text for t in db.load(record.id).turns] == ["q0", "q1", "q2"]
    assert [t.reply for t in db.load(record.id).turns] == ["reply 0", "reply 1", "reply 2"]
    assert {(t.branch, t.user_text) for t in db.branches([record.id])} >= {(2, "other")}


def test_branches_list_every_candidate_and_rewind_can_show_another(tmp_path: Path) -> None:
    db = store(tmp_path)
    record = db.create(sailor(), "Tom", "mock/echo", settings().model_dump(mode="json"))
    prompt = AssembledPrompt(messages=[], parts=[], budget_tokens=0)
    for i in range(2):
        candidates = [Candidate(index=c, text=f"reply {i}.{c}") for c in range(2)]
        db.add_turn(
            record.id, TurnRecord(index=i, user_text=f"q{i}", prompt=prompt, candidates=candidates, chosen_index=1)
        )
    assert [(t.number, t.reply, t.swipes) for t in db.branches([record.id])] == [
        (0, "reply 0.1", ((0, "reply 0.0"), (1, "reply 0.1"))),
        (1, "reply 1.1", ((0, "reply 1.0"), (1, "reply 1.1"))),
    ]
    with pytest.raises(StoreError, match="keeps no turn 1"):  # a turn set aside shows nothing
        db.rewind(record.id, 1, show={1: 0})
    assert [t.reply for t in db.load(record.id).turns] == ["reply 0.1", "reply 1.1"]  # rolled back whole
    db.rewind(record.id, 2, show={0: 0})  # a client swiped back to the first reply of turn 0
    assert [t.reply for t in db.load(record.id).turns] == ["reply 0.0", "reply 1.1"]


class _ToolCaller(BackendAPI):
    """An upstream that passes requests through: a tool call first, then text once a tool result is in the prompt."""

    provider: ClassVar[str] = "tool-caller"
    supports_n: ClassVar[bool] = True
    passes_through: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__(model="m")
        self.seen: list[Sequence[Message]] = []

    async def generate(self, messages: Sequence[Message], config: GenerateConfig) -> BackendOutput:
        self.seen.append(messages)
        if messages[-1].role == "tool":
            return BackendOutput(model="m", choices=[Choice(text=f"It is {messages[-1].content}.")])
        call = {"content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "look"}}]}
        return BackendOutput(model="m", choices=[Choice(text="", finish_reason="tool_calls", fields=call)])


async def test_a_pass_through_turn_is_stored_unscored_and_its_tool_result_joins_its_swipes(tmp_path: Path) -> None:
    api = _ToolCaller()
    chat = ChatSession.start(
        sailor(), Backend(api, cache=None), store(tmp_path), settings=settings(), models=fake_models()
    )
    config = GenerateConfig(pass_through={"tools": [{"type": "function"}]})
    turn, output = await chat.pass_through("Weather?", config)
    assert output.choices[0].fields["tool_calls"][0]["id"] == "c1"
    assert (turn.reply, turn.candidates[0].finish_reason, turn.candidates[0].result) == ("", "tool_calls", None)
    assert api.seen[0][0].role == "system"  # the persona's prompt
    assert api.seen[0][-1] == Message(role="user", content="Weather?")

    call = Message(role="assistant", content="", fields=output.choices[0].fields)
    result = Message(role="tool", content="sunny", fields={"tool_call_id": "c1"})
    again, _ = await chat.pass_through("Weather?", config, [call, result], regenerate=True)
    assert again is turn
    assert [(c.index, c.round, c.text) for c in turn.candidates] == [(0, 0, ""), (1, 1, "It is sunny.")]
    assert api.seen[1] == [*api.seen[0], call, result]
    resumed = ChatSession.resume(chat.id, chat.backend, chat.store, models=fake_models())
    assert [(t.user_text, t.reply) for t in resumed.turns] == [("Weather?", "It is sunny.")]


async def test_the_session_s_prompt_sets_a_false_premise_against_the_statement_unless_switched_off(
    tmp_path: Path,
) -> None:
    chat = ChatSession.start(sailor(), scripted(GOOD), store(tmp_path), settings=settings("off"), models=fake_models())
    prompt = await chat.build_prompt("Do you swim every morning?")
    assert prompt.messages[0].content.endswith('put User right in your own voice ("I …"), in character.')
    assert "- You cannot swim." in prompt.messages[0].content.split("something your facts rule out:")[1]
    quiet = settings("off", prompt={"premise_cue": False})
    chat = ChatSession.start(sailor(), scripted(GOOD), store(tmp_path), settings=quiet, models=fake_models())
    assert "your facts rule out" not in (await chat.build_prompt("Do you swim every morning?")).messages[0].content


async def test_impersonation_carries_no_premise_cue(tmp_path: Path) -> None:
    # Impersonate's instruction is no message of the user's: no premise of it is set against the character's facts
    backend = scripted("I wave.")
    chat = ChatSession.start(sailor(), backend, store(tmp_path), settings=settings("off"), models=fake_models())
    assert "your facts rule out" in (await chat.build_prompt("Do you swim every morning?")).messages[0].content
    await chat.impersonate("Do you swim every morning?")
    assert isinstance(backend.api, MockBackendAPI)
    [(messages, _)] = backend.api.history
    assert "your facts rule out" not in messages[0].content
