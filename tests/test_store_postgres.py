"""Storage on a real PostgreSQL: migrations, sessions with swipes and scores, keys and ownership, the server.

Runs when PERSONAE_TEST_POSTGRES_URL names a server whose user may create databases (`.ci/run` starts one on
loopback); each test gets a fresh database that is dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from helpers.runtime import fake_models, sailor
from helpers.server import running
from personae.backends import get_backend
from personae.memory import MemoryScope
from personae.server import ServerConfig, conversation_hash, conversation_hashes, create_app
from personae.session import ChatSession, SessionSettings
from personae.store import AccessStore, SessionStore, TurnConflictError, UserMemoryStore
from personae.store._migrations import MIGRATIONS
from personae.store._schema import Base

POSTGRES_ENV = "PERSONAE_TEST_POSTGRES_URL"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "personas"

pytestmark = pytest.mark.skipif(
    not os.environ.get(POSTGRES_ENV),
    reason=f"{POSTGRES_ENV} is not set (.ci/run starts a PostgreSQL on loopback and sets it)",
)


@pytest.fixture
def pg_url() -> Iterator[str]:
    admin_url = make_url(os.environ[POSTGRES_ENV])
    name = f"personae_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_migrations_apply_once_and_match_the_orm_on_postgres(pg_url: str) -> None:
    store = SessionStore(pg_url)
    assert store.engine.dialect.name == "postgresql"
    assert store.applied == [m.name for m in MIGRATIONS]
    store.close()
    again = SessionStore(pg_url)
    assert again.applied == []
    inspector = inspect(again.engine)
    for table in Base.metadata.sorted_tables:
        migrated = {c["name"]: c["nullable"] for c in inspector.get_columns(table.name)}
        modelled = {c.name: c.nullable for c in table.columns}
        assert migrated == modelled, table.name
        unique = {i["name"]: i["column_names"] for i in inspector.get_indexes(table.name) if i["unique"]}
        for index in (i for i in table.indexes if i.unique):  # the ORM's unique indexes, made by a migration
            assert unique.get(index.name) == [c.name for c in index.columns], (table.name, index.name)
    again.close()


async def test_a_turn_another_process_stored_first_is_refused_on_postgres(pg_url: str) -> None:
    settings = SessionSettings(guard="off")
    first = ChatSession.start(
        sailor(), get_backend("mock/echo", cache=None), SessionStore(pg_url), settings=settings, scoring=False
    )
    second = ChatSession.resume(first.id, get_backend("mock/echo", cache=None), SessionStore(pg_url), scoring=False)
    await first.send("Hello!")
    with pytest.raises(TurnConflictError, match="was changed by another process"):
        await second.send("Good morning!")
    assert [t.user_text for t in SessionStore(pg_url).load(first.id).turns] == ["Hello!"]


async def test_session_with_swipes_and_scores_round_trips_on_postgres(pg_url: str) -> None:
    store = SessionStore(pg_url)
    backend = get_backend("mock/scripted", outputs=["I love a steak, I am not a vegetarian.", "I am a vegetarian."])
    settings = SessionSettings(guard="best-of-n", n=2)
    chat = ChatSession.start(sailor(), backend, store, settings=settings, models=fake_models())
    turn = await chat.send("Do you eat meat?")
    assert turn.reply == "I am a vegetarian."
    chat.swipe()
    store.close()
    reopened = SessionStore(pg_url)
    resumed = ChatSession.resume(chat.id, get_backend("mock/echo", cache=None), reopened, models=fake_models())
    [stored] = resumed.turns
    assert stored.reply == "I love a steak, I am not a vegetarian."
    assert len(stored.candidates) == 2
    shown = stored.shown
    assert shown is not None
    assert shown.result is not None
    assert "Ada is a vegetarian." in [s.statement for s in shown.violations]
    assert resumed.why().violated
    reopened.close()


def test_keys_ownership_and_uploaded_personas_on_postgres(pg_url: str) -> None:
    store = SessionStore(pg_url)
    access = AccessStore(store)
    alice, bob = access.create_key("alice"), access.create_key("bob")
    found = access.find_key(alice.secret)
    assert found is not None
    assert found.id == alice.key.id
    assert access.find_key("pk-wrong") is None
    chat = ChatSession.start(sailor(), get_backend("mock/echo", cache=None), store, scoring=False)
    access.claim(chat.id, alice.key.id, "ada")
    head, swipe = conversation_hashes("ada", "User", [("Hi", "Hello")])
    assert swipe == conversation_hash("ada", "User", [("Hi", None)])
    access.set_hashes(chat.id, head, swipe)
    match = access.find_conversation(alice.key.id, "ada", head, "no-such-hash")
    assert match is not None
    assert match[0].session_id == chat.id
    assert not match[1]
    resent = access.find_conversation(alice.key.id, "ada", None, swipe)
    assert resent is not None
    assert resent[1]
    assert access.find_conversation(bob.key.id, "ada", head, swipe) is None
    assert [s.id for s in access.list_sessions(alice.key.id)] == [chat.id]
    assert access.list_sessions(bob.key.id) == []
    listed = access.list_sessions(alice.key.id, search=sailor().name.upper()[:4], limit=5, offset=0)
    assert [(s.id, s.persona_id) for s in listed] == [(chat.id, "ada")]  # the UI's search: ILIKE-style, escaped
    assert access.list_sessions(alice.key.id, search="%_no such_%") == []
    assert access.list_sessions(alice.key.id, offset=1) == []
    access.add_persona(alice.key.id, sailor(), "ada")
    access.add_persona(alice.key.id, sailor(), "ada")  # replacing keeps one row
    assert list(access.personas(alice.key.id)) == ["ada"]
    assert access.personas(bob.key.id) == {}
    assert not access.delete_persona(bob.key.id, "ada")
    assert access.delete_persona(alice.key.id, "ada")
    access.delete_session(chat.id)
    assert access.owner(chat.id) is None
    assert access.list_sessions(alice.key.id) == []
    store.close()


@pytest.mark.slow
def test_server_on_postgres_streams_a_reply_and_isolates_keys(pg_url: str) -> None:
    store = SessionStore(pg_url)
    access = AccessStore(store)
    key_a, key_b = access.create_key("a").secret, access.create_key("b").secret
    store.close()
    config = ServerConfig(backend="mock/echo", database_url=pg_url, personas_dir=EXAMPLES, scoring="fake", n=2)
    with running(create_app(config)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key_a)
        stream = client.chat.completions.create(
            model="ada-quint", messages=[{"role": "user", "content": "Good evening"}], stream=True
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text.startswith("You said: Good evening")
        sid = next(c.model_extra["personae"]["session_id"] for c in chunks if (c.model_extra or {}).get("personae"))
        mine = httpx.get(f"{url}/v1/sessions/{sid}", headers={"Authorization": f"Bearer {key_a}"})
        assert mine.status_code == 200
        assert mine.json()["turns"][0]["user_text"] == "Good evening"
        theirs = httpx.get(f"{url}/v1/sessions/{sid}", headers={"Authorization": f"Bearer {key_b}"})
        assert theirs.status_code == 404


@pytest.mark.slow
def test_two_workers_on_postgres_continue_and_swipe_each_others_conversation(pg_url: str) -> None:
    store = SessionStore(pg_url)
    headers = {"Authorization": f"Bearer {AccessStore(store).create_key('a').secret}"}
    config = ServerConfig(
        backend="mock/echo", database_url=pg_url, personas_dir=EXAMPLES, scoring="fake", n=2, workers=2
    )
    with running(create_app(config)) as url_a, running(create_app(config)) as url_b:
        messages: list[dict[str, str]] = []
        seen = []
        for t, url in enumerate([url_a, url_b, url_a, url_b]):  # each worker holds a copy the other makes stale
            messages.append({"role": "user", "content": f"Message {t}"})
            body = {"model": "ada-quint", "messages": messages}
            reply = httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers, timeout=30)
            assert reply.status_code == 200, reply.text
            ext = reply.json()["personae"]
            seen.append((ext["session_id"], ext["turn"], ext["swipe"]))
            messages.append({"role": "assistant", "content": reply.json()["choices"][0]["message"]["content"]})
        sid = seen[0][0]
        assert seen == [(sid, t, False) for t in range(4)]
        body = {"model": "ada-quint", "messages": messages[:-1]}  # the last message again, on the other worker
        swipe = httpx.post(f"{url_a}/v1/chat/completions", json=body, headers=headers, timeout=30).json()
        assert (swipe["personae"]["turn"], swipe["personae"]["swipe"]) == (3, True)
        view_a = httpx.get(f"{url_a}/v1/sessions/{sid}", headers=headers).json()
        assert view_a == httpx.get(f"{url_b}/v1/sessions/{sid}", headers=headers).json()
        last = view_a["turns"][-1]
        shown = next(c["text"] for c in last["candidates"] if c["index"] == last["chosen_index"])
        assert shown == swipe["choices"][0]["message"]["content"]
    assert [t.user_text for t in store.load(sid).turns] == [f"Message {t}" for t in range(4)]
    store.close()


async def test_user_memory_supersedes_isolates_and_forgets_on_postgres(pg_url: str) -> None:
    store = SessionStore(pg_url)
    [key_a, key_b] = [AccessStore(store).create_key(name).key.id for name in ("a", "b")]
    settings = SessionSettings(guard="off")
    for key, text in ((key_a, "I live in Paris. I moved to Leeds."), (key_b, "I live in Oslo.")):
        chat = ChatSession.start(
            sailor(),
            get_backend("mock/echo", cache=None),
            store,
            user_name="Sam",
            settings=settings,
            models=fake_models(),
            memory_scope=MemoryScope(key, "Sam", "ada"),
        )
        await chat.send(text)
    memory = UserMemoryStore(store)
    mine = MemoryScope(key_a, "Sam", None)
    assert [f.text for f in memory.facts(mine)] == ["Sam moved to Leeds."]
    history = memory.facts(mine, history=True)
    assert [f.current for f in history] == [False, True]
    assert history[0].superseded_by == history[1].id
    assert [f.text for f in memory.facts(MemoryScope(key_b, "Sam", None))] == ["Sam lives in Oslo."]
    assert len(memory.episodes(mine)) == 1
    # two facts, the message they were read from (kept verbatim beside them) and the episode; key b's Sam keeps all
    assert memory.forget(mine) == 4
    assert memory.facts(mine, history=True) == []
    assert [f.text for f in memory.facts(MemoryScope(key_b, "Sam", None))] == ["Sam lives in Oslo."]
    store.close()
