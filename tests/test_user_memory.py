"""User memory across sessions: extraction, dates, supersession, episodes, the prompt, the CLI, REST and isolation."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from helpers.runtime import fake_models, sailor
from helpers.server import mock_config
from personae.backends import GenerateConfig, Message, get_backend
from personae.cli import app as cli_app
from personae.memory import (
    MESSAGE_TOPIC,
    MemoryScope,
    UserFact,
    UserMemory,
    UserMemorySettings,
    extract_facts,
    extract_with_backend,
    fuse,
    resolve_relative_dates,
)
from personae.persona import Persona
from personae.scoring import FakeEmbedder, FakeNLI, ScoringModels
from personae.server import create_app
from personae.session import ChatSession, SessionSettings
from personae.store import AccessStore, SessionStore, TurnConflictError, UserMemoryStore

MONDAY = datetime(2023, 5, 8, 14, 0, tzinfo=UTC)


def db(tmp_path: Path) -> SessionStore:
    return SessionStore(f"sqlite:///{tmp_path / 'sessions.db'}")


def chat(
    store: SessionStore,
    user: str = "Sam",
    persona: Persona | None = None,
    models: ScoringModels | None = None,
    **settings: object,
) -> ChatSession:
    session = ChatSession.start(
        persona or sailor(),
        get_backend("mock/echo", cache=None),
        store,
        user_name=user,
        settings=SessionSettings.model_validate({"guard": "off", **settings}),
        models=models or fake_models(),
    )
    session.clock = lambda: MONDAY
    return session


def system_prompt(session: ChatSession) -> str:
    return session.turns[-1].prompt.messages[0].content


# extraction and dates --------------------------------------------------------------------------------------------


def test_relative_times_become_dates_seen_from_the_session_time() -> None:
    today = date(2023, 5, 8)  # a Monday
    cases = {
        "I went out yesterday.": ("I went out on 7 May 2023.", date(2023, 5, 7)),
        "We met 3 days ago.": ("We met on 5 May 2023.", date(2023, 5, 5)),
        "I started last week.": ("I started in the week of 1 May 2023.", date(2023, 5, 1)),
        "I moved last month.": ("I moved in April 2023.", date(2023, 4, 1)),
        "I ran last Friday.": ("I ran on Friday 5 May 2023.", date(2023, 5, 5)),
        "I fly next week.": ("I fly in the week of 15 May 2023.", date(2023, 5, 15)),
        "I retired two years ago.": ("I retired in 2021.", date(2021, 1, 1)),
    }
    for text, (rewritten, when) in cases.items():
        assert resolve_relative_dates(text, today) == (rewritten, when), text
    assert resolve_relative_dates("Nothing relative here.", today).refers_to is None


def test_facts_are_third_person_one_per_statement_with_topics() -> None:
    found = extract_facts(
        "Hi Ada! I moved to Berlin last month. I work as a nurse. Do you like trains? My dog is called Rex. "
        "I love strong coffee. I've been painting a lot, it helps me relax.",
        "Sam",
        "Ada",
        date(2023, 5, 8),
    )
    texts = {f.topic: f.text for f in found}
    assert texts["home"] == "Sam moved to Berlin (April 2023)."
    assert texts["job"] == "Sam works as a nurse."
    assert texts["pet:dog"] == "Sam has a dog named Rex."
    assert texts["likes:strong-coffee"] == "Sam loves strong coffee."
    assert "Sam has been painting a lot, it helps Sam relax." in texts.values()
    assert not any("trains" in t for t in texts.values())  # a question tells nothing about the user
    assert not any("Hi Ada" in t for t in texts.values())
    home = next(f for f in found if f.topic == "home")
    assert home.refers_to == date(2023, 4, 1)


@pytest.mark.parametrize(
    ("message", "fact"),
    [
        ("I live in Leeds, lately with my sister.", "Sam lives in Leeds."),  # not "Leeds, la"
        ("I live in Bristol, often alone.", "Sam lives in Bristol."),
        ("I live in Leeds, on my own.", "Sam lives in Leeds."),
        ("I live on the Isle of Skye.", "Sam lives on the Isle of Skye."),
        ("I live in Stratford upon Avon now.", "Sam lives in Stratford upon Avon."),
    ],
)
def test_a_place_ends_where_its_capitalised_words_do(message: str, fact: str) -> None:
    assert [f.text for f in extract_facts(message, "Sam")] == [fact]


def test_statements_about_others_and_questions_are_not_facts() -> None:
    assert extract_facts("Do you remember the storm? What happened to the ferry?", "Sam", "Ada") == []
    assert extract_facts("The weather is lovely today.", "Sam", "Ada") == []
    assert extract_facts("If I were a sailor, I would go north.", "Sam", "Ada") == []
    # Requests to the character ("me" as the object of an imperative) say nothing about the user; the embedded
    # personalization run stored "Tell Sam something about Ada Quint's week." as a fact about Sam.
    for request in ("Tell me something about your week.", "Please show me the harbour.", "Remind me to call you."):
        assert extract_facts(request, "Sam", "Ada") == [], request
    assert [f.text for f in extract_facts("Tell me about it. I sold my boat.", "Sam", "Ada")] == [
        "Sam sold Sam's boat."
    ]


async def test_backend_extraction_reads_json_lines_and_falls_back_to_the_rules() -> None:
    def fn(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
        assert "today is Monday 08 May 2023" in messages[-1].content
        return '{"fact": "Sam adopted a cat yesterday.", "topic": "pet:cat"}\nnot json\n{"nope": 1}'

    model = get_backend("mock/scripted", fn=fn, cache=None)
    facts = await extract_with_backend(model, "I adopted a cat yesterday", "Sam", "Ada", date(2023, 5, 8))
    assert [(f.text, f.topic) for f in facts] == [("Sam adopted a cat on 7 May 2023.", "pet:cat")]

    garbage = get_backend("mock/scripted", outputs=["I cannot help with that."], cache=None)
    fallback = await extract_with_backend(garbage, "I live in Leeds.", "Sam", "Ada", date(2023, 5, 8))
    assert [f.text for f in fallback] == ["Sam lives in Leeds."]


# supersession ----------------------------------------------------------------------------------------------------


def memory(store: SessionStore, user: str = "Sam", persona: str = "ada", key: str | None = None) -> UserMemory:
    return UserMemory(UserMemoryStore(store), MemoryScope(key, user, persona), "Ada", fake_models())


async def test_a_new_value_on_a_single_valued_topic_supersedes_the_old_and_history_is_kept(tmp_path: Path) -> None:
    store = db(tmp_path)
    mem = memory(store)
    await mem.observe("I live in Paris. I love coffee. I have a dog named Rex.", "s1", 0, MONDAY)
    await mem.observe("I moved to Leeds last week. I hate coffee.", "s2", 0, MONDAY)
    current = {f.text for f in mem.repository.facts(mem.scope)}
    assert current == {
        "Sam has a dog named Rex.",
        "Sam moved to Leeds (May 2023).",
        "Sam hates coffee.",
    }
    history = mem.repository.facts(mem.scope, history=True)
    paris = next(f for f in history if f.text == "Sam lives in Paris.")
    leeds = next(f for f in history if f.text.startswith("Sam moved to Leeds"))
    assert paris.superseded_by == leeds.id
    assert not paris.current
    assert leeds.said_at == MONDAY
    assert leeds.session_id == "s2"


async def test_a_contradiction_on_the_same_topic_supersedes_through_the_nli_model(tmp_path: Path) -> None:
    store = db(tmp_path)
    mem = memory(store)
    await mem.observe("I drink black tea every morning.", "s1", 0, MONDAY)
    await mem.observe("I collect old maps.", "s1", 1, MONDAY)
    # Free-form facts (no single-valued topic): the relevance model finds the older fact on the topic, and the
    # (rule-based) NLI model reads the negation as a contradiction. The unrelated fact stays.
    await mem.observe("I don't drink black tea every morning anymore.", "s2", 0, MONDAY)
    current = [f.text for f in mem.repository.facts(mem.scope)]
    assert "Sam drinks black tea every morning." not in current
    assert "Sam collects old maps." in current
    assert any("does not drink black tea" in t for t in current)


async def test_a_repeated_fact_is_not_stored_twice(tmp_path: Path) -> None:
    mem = memory(db(tmp_path))
    await mem.observe("I live in Paris.", "s1", 0, MONDAY)
    await mem.observe("I live in Paris!", "s2", 3, MONDAY)
    assert len(mem.repository.facts(mem.scope, history=True)) == 1


# sessions and the prompt -----------------------------------------------------------------------------------------


async def test_a_returning_user_is_known_and_greeted_as_known(tmp_path: Path) -> None:
    store = db(tmp_path)
    first = chat(store)
    assert first.greeting == "Come in, Sam."
    assert not first.known_user
    await first.send("I moved to Leeds last week, and I work as a baker.")
    await first.send("Tell me about the ferry.")

    second = chat(store)
    assert second.known_user
    assert second.greeting is None  # no first-meeting greeting for someone it knows
    await second.send("Where do I live now?")
    system = system_prompt(second)
    assert "What Ada knows about Sam:" in system
    assert "Sam moved to Leeds (May 2023). (told 08 May 2023)" in system
    assert "Sam works as a baker." in system
    assert "greet Sam as someone Ada knows" in system
    assert "These are facts about Sam, not about Ada." in system  # "Where do I live?" asks about Sam's life
    assert system.endswith('speaking to Sam as "you": "You live in …", "You work as …", "Your …".')
    assert "Sam is asking about Sam's own life, not about yours." in system
    await second.send("Tell me about the ferry.")
    assert "is asking about Sam's own life" not in system_prompt(second)
    assert "Earlier conversations with Sam:" in system
    assert [m.role for m in second.turns[-1].prompt.messages][:2] == ["system", "user"]  # no greeting message
    parts = {p.section for p in second.turns[-1].prompt.parts}
    assert {"user_fact", "episode"} <= parts


async def test_memory_is_per_user_and_per_character_unless_shared(tmp_path: Path) -> None:
    store = db(tmp_path)
    await chat(store, "Sam").send("I live in Leeds.")
    other_user = chat(store, "Bob")
    assert not other_user.known_user
    await other_user.send("Where do I live?")
    assert "Leeds" not in system_prompt(other_user)

    vega = Persona(name="Vega", statements=["Vega is a pilot."])
    other_char = chat(store, "Sam", vega)
    await other_char.send("Where do I live?")
    assert "Leeds" not in system_prompt(other_char)

    shared = chat(store, "Sam", vega, memory={"user": {"share_across_characters": True}})
    await shared.send("Where do I live?")
    assert "Sam lives in Leeds." in system_prompt(shared)


async def test_memory_off_keeps_and_recalls_nothing(tmp_path: Path) -> None:
    store = db(tmp_path)
    session = chat(store, memory={"user": {"enabled": False}})
    await session.send("I live in Leeds.")
    assert UserMemoryStore(store).facts(MemoryScope(None, "Sam", None)) == []


async def test_long_sessions_get_an_episode_per_stretch_and_the_last_one_follows_the_session(tmp_path: Path) -> None:
    store = db(tmp_path)
    session = chat(store, memory={"user": {"episode_every": 2}})
    for text in ("I bake bread for a living.", "The oven broke.", "I fixed the oven myself.", "Now it works."):
        await session.send(text)
    await session.send("Goodbye.")
    episodes = UserMemoryStore(store).episodes(MemoryScope(None, "Sam", session.persona.slug))
    assert [(e.first_turn, e.last_turn) for e in episodes] == [(0, 1), (2, 3), (4, 4)]
    assert episodes[0].events == ["Sam bakes bread for a living."]
    assert all(e.happened_at == MONDAY and e.session_id == session.id for e in episodes)


async def test_backend_episodes_are_written_when_a_stretch_completes_or_the_session_ends(tmp_path: Path) -> None:
    store = db(tmp_path)

    def fn(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
        text = messages[-1].content
        if text.startswith("Conversation between"):
            return "Sam told Ada about the bakery."
        if text.startswith("Read what"):
            return '{"fact": "Sam runs a bakery.", "topic": "job"}'
        return "Aye."

    session = ChatSession.start(
        sailor(),
        get_backend("mock/scripted", fn=fn, cache=None),
        store,
        user_name="Sam",
        settings=SessionSettings.model_validate({"guard": "off", "memory": {"user": {"extraction": "backend"}}}),
        models=fake_models(),
    )
    await session.send("I run a bakery.")
    scope = MemoryScope(None, "Sam", session.persona.slug)
    memories = UserMemoryStore(store)
    assert [f.text for f in memories.facts(scope)] == ["Sam runs a bakery."]
    assert memories.episodes(scope)[0].summary.startswith("Sam and Ada talked")  # offline until the end
    await session.end()
    assert memories.episodes(scope)[0].summary == "Sam told Ada about the bakery."


async def test_a_turn_and_what_it_taught_commit_together(tmp_path: Path) -> None:
    """Facts and the episode are written in the transaction of their turn: a turn refused is taught nothing."""
    store = db(tmp_path)
    first = chat(store)
    stale = ChatSession.resume(first.id, get_backend("mock/echo", cache=None), store, models=fake_models())
    await first.send("I bake bread for a living.")
    with pytest.raises(TurnConflictError):  # another copy of the session stored turn 0 first
        await stale.send("I live in Oban.")
    memories = UserMemoryStore(store)
    scope = MemoryScope(None, "Sam", first.persona.slug)
    assert [f.text for f in memories.facts(scope, history=True)] == ["Sam bakes bread for a living."]
    [episode] = memories.episodes(scope)
    assert (episode.last_turn, episode.events) == (0, ["Sam bakes bread for a living."])


async def test_a_fact_superseded_later_in_the_same_message_is_kept_as_its_history(tmp_path: Path) -> None:
    """The facts of one message are planned before any is stored: the second still supersedes the first."""
    store = db(tmp_path)
    session = chat(store)
    await session.send("I live in Paris. I moved to Leeds last week.")
    paris, leeds = UserMemoryStore(store).facts(MemoryScope(None, "Sam", None), history=True)
    assert [paris.text, leeds.text] == ["Sam lives in Paris.", "Sam moved to Leeds (May 2023)."]
    assert (paris.superseded_by, leeds.current) == (leeds.id, True)
    assert session.user_memory.recall("Where do I live?").facts[0][0].id == leeds.id


async def test_an_episode_lists_what_was_told_before_a_resume_and_drops_what_was_forgotten(tmp_path: Path) -> None:
    """A session reads the facts of its stretch unless every turn of it went through this copy and told none."""
    store = db(tmp_path)
    first = chat(store)
    await first.send("I have a cat named Tib.")
    await first.send("I bake bread for a living.")
    resumed = ChatSession.resume(first.id, get_backend("mock/echo", cache=None), store, models=fake_models())
    await resumed.send("Nice weather.")
    memories = UserMemoryStore(store)
    scope = MemoryScope(None, "Sam", first.persona.slug)
    assert memories.episodes(scope)[0].events == ["Sam has a cat named Tib.", "Sam bakes bread for a living."]
    tib = next(f for f in memories.facts(scope) if "Tib" in f.text)
    assert tib.id is not None
    memories.forget(scope, [tib.id])
    await resumed.send("Still nice.")
    assert memories.episodes(scope)[0].events == ["Sam bakes bread for a living."]


async def test_imported_history_teaches_the_character_too(tmp_path: Path) -> None:
    store = db(tmp_path)
    session = chat(store)
    session.import_turn("I live in Oban.", "A fine town.")
    assert [f.text for f in UserMemoryStore(store).facts(MemoryScope(None, "Sam", None))] == ["Sam lives in Oban."]


# control: the store, the CLI -------------------------------------------------------------------------------------


async def test_forgetting_a_fact_takes_its_history_with_it_and_forgetting_all_takes_episodes(tmp_path: Path) -> None:
    store = db(tmp_path)
    session = chat(store)
    await session.send("I live in Paris.")
    await session.send("I moved to Leeds.")
    await session.send("I have a cat named Tib.")
    memories = UserMemoryStore(store)
    scope = MemoryScope(None, "Sam", None)
    leeds = next(f for f in memories.facts(scope) if "Leeds" in f.text)
    assert leeds.id is not None
    # Leeds, the Paris it superseded and the two messages they were read from, kept verbatim
    assert memories.forget(scope, [leeds.id]) == 4
    assert [f.text for f in memories.facts(scope, history=True)] == ["Sam has a cat named Tib."]
    kept = memories.facts(scope, history=True, messages=True)
    assert [f.text for f in kept if f.topic == MESSAGE_TOPIC] == ['Sam said: "I have a cat named Tib."']
    assert memories.episodes(scope)
    memories.forget(scope)
    assert memories.facts(scope, history=True, messages=True) == []
    assert memories.episodes(scope) == []


def test_memory_cli_shows_exports_and_forgets(tmp_path: Path) -> None:
    store = db(tmp_path)
    mem = memory(store, persona="ada-quint")
    mem.remember(extract_facts("I live in Paris. I moved to Leeds.", "Sam", "Ada"), "s1", 0, MONDAY)
    memory(store, user="Bob").remember(extract_facts("I live in Oslo.", "Bob", "Ada"), "s2", 0, MONDAY)
    url = str(store.url)
    runner = CliRunner()

    shown = runner.invoke(cli_app, ["memory", "show", "--user", "Sam", "--db", url])
    assert shown.exit_code == 0, shown.output
    assert "Sam moved to Leeds." in shown.output
    assert "Paris" not in shown.output
    assert "Oslo" not in shown.output
    assert "Paris" in runner.invoke(cli_app, ["memory", "show", "--user", "Sam", "--history", "--db", url]).output

    exported = runner.invoke(cli_app, ["memory", "export", "--user", "Sam", "--persona", "ada-quint", "--db", url])
    data = json.loads(exported.stdout)
    assert data["user"] == "Sam"
    assert [f["text"] for f in data["facts"]] == ["Sam lives in Paris.", "Sam moved to Leeds."]
    assert "Oslo" not in exported.stdout
    other = runner.invoke(cli_app, ["memory", "export", "--user", "Sam", "--persona", "vega", "--db", url])
    assert json.loads(other.stdout)["facts"] == []

    usage = runner.invoke(cli_app, ["memory", "forget", "--user", "Sam", "--db", url])
    assert usage.exit_code == 2
    assert "--fact ID" in usage.output
    missing = runner.invoke(cli_app, ["memory", "forget", "--user", "Sam", "--fact", "999", "--db", url])
    assert missing.exit_code == 2
    bob_fact = UserMemoryStore(store).facts(MemoryScope(None, "Bob", None))[0].id
    crossed = runner.invoke(cli_app, ["memory", "forget", "--user", "Sam", "--fact", str(bob_fact), "--db", url])
    assert crossed.exit_code == 2  # Sam's forget never reaches Bob's facts
    gone = runner.invoke(cli_app, ["memory", "forget", "--user", "Sam", "--all", "--db", url])
    assert gone.exit_code == 0
    assert "forgot 2 items about Sam" in gone.output
    assert [f.text for f in UserMemoryStore(store).facts(MemoryScope(None, "Bob", None))] == ["Bob lives in Oslo."]


def test_profile_in_chat_shows_what_the_character_knows(tmp_path: Path, examples_dir: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    result = CliRunner().invoke(
        cli_app,
        [
            "chat",
            str(examples_dir / "ada.yaml"),
            "--backend",
            "mock/echo",
            "--guard",
            "off",
            "--user",
            "Sam",
            "--db",
            url,
        ],
        input="I live in Leeds.\n/profile\n/quit\n",
    )
    assert result.exit_code == 0, result.output
    assert "What Ada Quint knows about Sam" in result.output or "knows about Sam" in result.output
    assert "Sam lives in Leeds." in result.output


# REST ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def rest(tmp_path: Path) -> Iterator[tuple[TestClient, list[str]]]:
    cfg = mock_config(tmp_path)
    assert cfg.database_url is not None
    keys_store = SessionStore(cfg.database_url)
    keys = [AccessStore(keys_store).create_key(f"k{i}").secret for i in range(2)]
    keys_store.close()
    with TestClient(create_app(cfg)) as client:
        yield client, keys


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def say(client: TestClient, secret: str, user: str, text: str) -> str:
    started = client.post("/v1/sessions", json={"persona": "ada-quint", "user_name": user}, headers=auth(secret))
    assert started.status_code == 201, started.text
    sid = started.json()["id"]
    sent = client.post(f"/v1/sessions/{sid}/messages", json={"content": text}, headers=auth(secret))
    assert sent.status_code == 200
    assert "event: turn" in sent.text
    return str(sid)


def test_rest_memory_is_scoped_to_the_key_and_user_and_can_be_corrected_and_forgotten(
    rest: tuple[TestClient, list[str]],
) -> None:
    client, (a, b) = rest
    say(client, a, "Sam", "I live in Leeds. I have a dog named Rex.")
    say(client, b, "Sam", "I live in Oslo.")  # another key's Sam is another user

    mine = client.get("/v1/users/Sam/memory", headers=auth(a)).json()
    assert sorted(f["text"] for f in mine["facts"]) == ["Sam has a dog named Rex.", "Sam lives in Leeds."]
    assert all(f["persona_id"] == "ada-quint" for f in mine["facts"])
    assert len(mine["episodes"]) == 1
    theirs = client.get("/v1/users/Sam/memory", headers=auth(b)).json()
    assert [f["text"] for f in theirs["facts"]] == ["Sam lives in Oslo."]
    assert client.get("/v1/users/Bob/memory", headers=auth(a)).json()["facts"] == []
    assert client.get("/v1/users/Sam/memory?persona=vega", headers=auth(a)).json()["facts"] == []
    assert client.get("/v1/users/Sam/memory").status_code == 401

    # A new session of key b's Sam: nothing of key a's Sam reaches its prompt.
    sid = say(client, b, "Sam", "Where do I live?")
    prompt = client.get(f"/v1/sessions/{sid}", headers=auth(b)).json()
    assert "Leeds" not in json.dumps(prompt)

    leeds = next(f for f in mine["facts"] if "Leeds" in f["text"])
    rex = next(f for f in mine["facts"] if "Rex" in f["text"])
    oslo = theirs["facts"][0]
    crossed = client.patch("/v1/users/Sam/memory", json={"forget": [oslo["id"]]}, headers=auth(a))
    assert crossed.status_code == 404
    assert client.delete(f"/v1/users/Sam/memory?fact={oslo['id']}", headers=auth(a)).status_code == 404
    for huge in ({"forget": [2**63]}, {"correct": [{"id": 2**63, "text": "x"}]}):  # no row id; once a 500 (overflow)
        too_big = client.patch("/v1/users/Sam/memory", json=huge, headers=auth(a))
        assert too_big.status_code == 400, too_big.text
        assert too_big.json()["error"]["type"] == "invalid_request_error"
    assert client.delete(f"/v1/users/Sam/memory?fact={2**63}", headers=auth(a)).status_code == 400
    bad = client.patch("/v1/users/Sam/memory", json={"correct": [{"id": leeds["id"]}]}, headers=auth(a))
    assert bad.status_code == 400  # OpenAI's status and error shape, naming the missing field
    assert bad.json()["error"]["param"] == "correct[0].text"

    patched = client.patch(
        "/v1/users/Sam/memory",
        json={"correct": [{"id": leeds["id"], "text": "Sam lives in York."}], "forget": [rex["id"]]},
        headers=auth(a),
    )
    assert patched.status_code == 200, patched.text
    assert [f["text"] for f in patched.json()["facts"]] == ["Sam lives in York."]
    history = client.get("/v1/users/Sam/memory?history=true", headers=auth(a)).json()["facts"]
    assert [(f["text"], f["source"]) for f in history] == [
        ("Sam lives in Leeds.", "rules"),
        ("Sam lives in York.", "user"),
    ]

    assert client.delete("/v1/users/Sam/memory", headers=auth(a)).status_code == 204
    emptied = client.get("/v1/users/Sam/memory?history=true", headers=auth(a)).json()
    assert emptied["facts"] == []
    assert emptied["episodes"] == []
    assert [f["text"] for f in client.get("/v1/users/Sam/memory", headers=auth(b)).json()["facts"]] == [
        "Sam lives in Oslo."
    ]


def test_what_a_turn_taught_is_there_when_its_reply_arrives_and_after_a_restart(tmp_path: Path) -> None:
    """The OpenAI route: the reply comes after the turn and its memory are stored, and nothing waits for shutdown."""
    cfg = mock_config(tmp_path, workers=2)  # beside another worker: nothing is trusted from this process's memory
    assert cfg.database_url is not None
    keys_store = SessionStore(cfg.database_url)
    secret = AccessStore(keys_store).create_key("k").secret
    keys_store.close()
    said = [{"role": "user", "content": "I live in Oban and I have a dog named Rex.", "name": "Sam"}]
    with TestClient(create_app(cfg)) as client:
        body = {"model": "ada-quint", "messages": said}
        reply = client.post("/v1/chat/completions", json=body, headers=auth(secret)).json()
        known = client.get("/v1/users/Sam/memory", headers=auth(secret)).json()
        assert sorted(f["text"] for f in known["facts"]) == ["Sam has a dog named Rex.", "Sam lives in Oban."]
        assert [(e["last_turn"], len(e["events"])) for e in known["episodes"]] == [(0, 2)]
    with TestClient(create_app(cfg)) as client:  # a restarted server, on the same database
        again = client.get("/v1/users/Sam/memory", headers=auth(secret)).json()
        assert again["facts"] == known["facts"]
        said += [{"role": "assistant", "content": reply["choices"][0]["message"]["content"]}]
        said += [{"role": "user", "content": "Where do I live?", "name": "Sam"}]
        client.post("/v1/chat/completions", json={"model": "ada-quint", "messages": said}, headers=auth(secret))
        sid = reply["personae"]["session_id"]
        episodes = client.get("/v1/users/Sam/memory", headers=auth(secret)).json()["episodes"]
        assert [(e["session_id"], e["last_turn"]) for e in episodes] == [(sid, 1)]
    stored = SessionStore(cfg.database_url).load(sid).turns
    assert [t.user_text for t in stored] == [said[0]["content"], "Where do I live?"]
    # recalled by the next turn: the fact, or the message it was read from (one item per message)
    assert "Oban" in stored[1].prompt.messages[0].content.split("What Ada Quint knows about Sam:")[1]


class _Blind:
    """An embedder that sees no difference between texts, so only the lexical ranking can order them."""

    name = "blind"
    calibration = (1.0, 0.0)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.ones((len(texts), 4), dtype=np.float32) / 2.0


def test_recall_ranks_rare_words_lexically_beside_the_embeddings(tmp_path: Path) -> None:
    store = db(tmp_path)
    models = ScoringModels(nli=FakeNLI(), embedder=_Blind(), ooc_classifier=False)
    for weight, first in ((0.5, "Sam's cousin Ingrid teaches violin in Tromsø."), (0.0, "Sam likes tea.")):
        scope = MemoryScope(None, "Sam", f"ada-{weight}")
        mem = UserMemory(UserMemoryStore(store), scope, "Ada", models, UserMemorySettings(lexical_weight=weight))
        for text in ("Sam likes tea.", "Sam's cousin Ingrid teaches violin in Tromsø.", "Sam walks daily."):
            mem.repository.add_fact(scope, UserFact(text=text, topic=f"misc:{len(text)}", said_at=MONDAY))
        ranked = [f.text for f, _ in mem.recall("Who teaches violin?", facts=3).facts]
        assert ranked[0] == first


def test_recall_reads_only_the_newest_episodes_and_never_the_asking_sessions(tmp_path: Path) -> None:
    """Each turn ranks a bounded number of episodes, however many sessions a user has had (bench/server_load.py)."""
    from personae.memory import Episode

    store = db(tmp_path)
    scope = MemoryScope(None, "Sam", "ada")
    mem = UserMemory(UserMemoryStore(store), scope, "Ada", fake_models(), UserMemorySettings(episode_candidates=3))
    for i in range(6):
        summary = f"Sam and Ada talked about the harbour ({i})."
        episode = Episode(persona_id="ada", session_id=f"s{i}", first_turn=0, last_turn=1, summary=summary)
        mem.repository.save_episode(scope, episode)
    recalled = mem.recall("the harbour", episodes=10, session_id="s5")
    assert sorted(e.session_id for e, _ in recalled.episodes) == ["s2", "s3", "s4"]  # s0, s1: older than 3
    newest = mem.repository.episodes(scope, newest=2)
    assert [e.session_id for e in newest] == ["s4", "s5"]  # oldest first, as without the bound


def test_fusion_ranks_by_reciprocal_rank_across_rankings() -> None:
    """Items high in both rankings beat an item first in one only; a weight of 0 leaves a ranking out."""
    fused = fuse([[2, 0, 1], [0, 2]], [1.0, 1.0], k=60)
    assert sorted(fused, key=lambda i: -fused[i]) == [2, 0, 1]
    assert fused[0] == pytest.approx(1 / 62 + 1 / 61)
    assert set(fuse([[1], [0]], [1.0, 0.0])) == {1}


async def test_messages_are_kept_verbatim_and_dated_recalled_and_retired_with_their_facts(tmp_path: Path) -> None:
    """What the user says beyond statements about themselves is remembered: the message is an episodic item."""
    store = db(tmp_path)
    mem = memory(store)
    await mem.observe("Yesterday Ingrid won the chess final in Tromsø!", "s1", 0, MONDAY)
    await mem.observe("I live in Paris.", "s1", 1, MONDAY)
    assert [f.text for f in mem.repository.facts(mem.scope)] == ["Sam lives in Paris."]  # listed: facts only
    kept = [f for f in mem.repository.facts(mem.scope, messages=True) if f.topic == MESSAGE_TOPIC]
    assert [f.text for f in kept] == [
        'Sam said: "On 7 May 2023 Ingrid won the chess final in Tromsø!"',
        'Sam said: "I live in Paris."',
    ]
    assert kept[0].refers_to == date(2023, 5, 7)
    recalled = mem.recall("Who won the chess final?", facts=3).facts
    assert recalled[0][0].text == kept[0].text
    assert len({(f.session_id, f.turn) for f, _ in recalled}) == len(recalled)  # one item per message
    await mem.observe("I moved to Leeds.", "s2", 0, MONDAY)
    current = {f.text for f in mem.repository.facts(mem.scope, messages=True)}
    assert 'Sam said: "I live in Paris."' not in current  # retired with the home it told
    assert "Sam lives in Paris." not in current
    assert kept[0].text in current
    history = mem.repository.facts(mem.scope, history=True, messages=True)
    assert next(f for f in history if f.text == 'Sam said: "I live in Paris."').superseded_by is not None


class _CountingNLI(FakeNLI):
    __test__ = False

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []

    def predict(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        self.pairs += list(pairs)
        return np.tile(np.array([[0.0, 0.0, 1.0]], dtype=np.float32), (len(pairs), 1))  # all contradictions


async def test_only_states_on_one_subject_are_judged_for_contradiction_a_message_in_one_call(tmp_path: Path) -> None:
    """A later event does not make an earlier one untrue: only lasting states that share a content word go to the
    NLI model, a message's all at once."""
    nli = _CountingNLI()
    calls: list[int] = []
    predict = nli.predict

    def counted(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        calls.append(len(pairs))
        return predict(pairs)

    nli.predict = counted  # type: ignore[method-assign]
    models = ScoringModels(nli=nli, embedder=FakeEmbedder(), ooc_classifier=False)
    settings = UserMemorySettings(topic_probability=0.0)
    mem = UserMemory(UserMemoryStore(db(tmp_path)), MemoryScope(None, "Sam", "ada"), "Ada", models, settings)
    await mem.observe("I went to a support group yesterday.", "s1", 0, MONDAY)
    await mem.observe("I went to a pride parade last week.", "s1", 1, MONDAY)
    assert nli.pairs == []
    assert len(mem.repository.facts(mem.scope)) == 2  # both events stand
    await mem.observe("I drink tea every morning.", "s1", 2, MONDAY)
    assert calls == []  # no older state to contradict
    await mem.observe("I drink coffee every night. I drink milk every morning. I collect old maps.", "s1", 3, MONDAY)
    assert calls == [3]  # the message's states against the older ones they share a word with, in one call
    assert not [pair for pair in nli.pairs if "maps" in pair[0] + pair[1]]
    assert all("went" not in premise for premise, _ in nli.pairs)


def test_an_episode_rewritten_under_a_reused_row_id_is_read_as_rewritten(tmp_path: Path) -> None:
    """Episodes built once per row are found by the row's values, not its id: SQLite gives a deleted id again."""
    from personae.memory import Episode

    store = db(tmp_path)
    scope = MemoryScope(None, "Sam", "ada")
    memories = UserMemoryStore(store)
    first = memories.save_episode(scope, Episode(session_id="s1", first_turn=0, last_turn=0, summary="One."))
    assert [e.summary for e in memories.episodes(scope, newest=5)] == ["One."]
    again = Episode(session_id="s1", first_turn=0, last_turn=1, summary="Two.", events=["Sam bakes."])
    second = memories.save_episode(scope, again)
    assert second.id == first.id  # the stretch rewritten: the same id, new values
    [read] = memories.episodes(scope, newest=5)
    assert (read.summary, read.events, read.last_turn) == ("Two.", ["Sam bakes."], 1)
    memories.forget(scope)
    assert memories.episodes(scope, newest=5) == []


class _HeavyEmbedder(FakeEmbedder):
    """The fake embedder presented as a native model (not `light`): work with it belongs off the event loop."""

    light = False


async def test_memory_work_runs_off_the_event_loop_with_native_models_and_on_it_with_light_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recall and planning (embeddings, NLI) take milliseconds with ONNX models; pure-Python fakes stay on the loop."""
    threads: dict[str, set[int]] = {"recall": set(), "plan": set()}
    for name in threads:
        original = getattr(UserMemory, name)

        def spy(
            self: UserMemory, *args: object, _name: str = name, _original: object = original, **kw: object
        ) -> object:
            threads[_name].add(threading.get_ident())
            return _original(self, *args, **kw)  # type: ignore[operator]

        monkeypatch.setattr(UserMemory, name, spy)
    store = db(tmp_path)
    heavy = ScoringModels(nli=FakeNLI(), embedder=_HeavyEmbedder(), ooc_classifier=False)
    assert not heavy.light
    loop = threading.get_ident()
    sessions = [chat(store, user=f"U{i}", models=heavy) for i in range(6)]
    await asyncio.gather(*(s.send(f"I live in Town{i}. I have a dog named Rex{i}.") for i, s in enumerate(sessions)))
    await asyncio.gather(*(s.send(f"I moved to City{i}.") for i, s in enumerate(sessions)))
    assert loop not in threads["recall"] | threads["plan"]
    memories = UserMemoryStore(store)
    for i in range(6):  # every session's facts and supersessions, written from worker threads at once
        facts = memories.facts(MemoryScope(None, f"U{i}", None))
        assert sorted(f.text for f in facts) == [f"U{i} has a dog named Rex{i}.", f"U{i} moved to City{i}."]
    for seen in threads.values():
        seen.clear()
    await chat(store).send("I live in Leeds.")  # light models: on the loop
    assert threads["recall"] == threads["plan"] == {loop}


async def test_an_earlier_episode_in_the_prompt_leaves_out_what_has_been_superseded(tmp_path: Path) -> None:
    """The embedded model answered "Where do I live?" with the old home an earlier episode's summary repeated."""
    store = db(tmp_path)
    await chat(store).send("I live in Cardiff, and I work as a photographer.")
    await chat(store).send("Big news: I moved to Belfast last week.")
    third = chat(store)
    await third.send("Where do I live these days?")
    system = system_prompt(third)
    scope = MemoryScope(None, "Sam", third.persona.slug)
    stored = UserMemoryStore(store).episodes(scope)
    assert any("Sam lives in Cardiff." in e.summary for e in stored)  # the stored episode keeps its history
    assert "Sam lives in Cardiff." not in system
    assert "Sam moved to Belfast" in system
    assert "Sam works as a photographer." in system  # what is still current stays in the episode
    assert "Earlier conversations with Sam:" in system


async def test_questions_and_requests_to_the_character_are_not_kept_as_messages(tmp_path: Path) -> None:
    """'Tell me something about your week.' reached the prompt as something Sam had told (embedded run, 2026-12-01)."""
    store = db(tmp_path)
    mem = memory(store)
    for number, said in enumerate(
        ["Tell me something about your week.", "Where do I live these days?", "Please show me the harbour."]
    ):
        await mem.observe(said, "s1", number, MONDAY)
    await mem.observe("Please show me the harbour. I love boats.", "s1", 3, MONDAY)
    kept = [f.text for f in mem.repository.facts(mem.scope, messages=True) if f.topic == MESSAGE_TOPIC]
    assert kept == ['Sam said: "Please show me the harbour. I love boats."']
