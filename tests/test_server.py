"""The server over real HTTP (uvicorn on loopback) with the mock backend: OpenAI client, REST, auth, limits."""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import shutil
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from sqlalchemy import Connection, event
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.exc import IntegrityError
from starlette.types import Receive, Send
from typer.testing import CliRunner

from helpers.cards import b64, png_with, text_chunk, v2_card
from helpers.runtime import CountingEmbedder
from helpers.server import mock_config as config
from helpers.server import running, serving
from personae.backends import BackendError, GenerateConfig, Message, get_backend
from personae.cli import app as cli_app
from personae.scoring import FakeNLI, ScoringModels, mask_names
from personae.server import CONFIG_ENV, ServerConfig, app_from_env, create_app
from personae.server._app import GC_THRESHOLDS, tune_gc
from personae.server._service import Service, TurnOutcome, parse_messages
from personae.server._sse import EventStream, LastEvents, started
from personae.store import AccessStore, ApiKey, SessionStore

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "personas"
SCOPE: dict[str, Any] = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}}


class Server:
    def __init__(self, url: str, keys: list[str]) -> None:
        self.url = url
        self.keys = keys

    def client(self, key: int = 0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.keys[key]}"}, timeout=30)


def make_keys(url: str, n: int = 2) -> list[str]:
    store = SessionStore(url)
    try:
        return [AccessStore(store).create_key(f"k{i}").secret for i in range(n)]
    finally:
        store.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    cfg = config(tmp_path)
    assert cfg.database_url is not None
    keys = make_keys(cfg.database_url)
    with running(create_app(cfg)) as url:
        yield Server(url, keys)


def test_openai_client_lists_personas_and_streams_an_in_character_reply(server: Server) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.keys[0])
    models = sorted(m.id for m in client.models.list())
    assert models == ["ada-quint", "brother-anselm", "captain-iris-vega"]
    model = "ada-quint"
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hello there"}], stream=True
    )
    pieces: list[str] = []
    extension: dict[str, Any] | None = None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        extra = (chunk.model_extra or {}).get("personae")
        if extra:
            extension = extra
    reply = "".join(pieces)
    assert reply.startswith("You said: Hello there"), reply
    assert extension is not None
    assert extension["turn"] == 0
    assert extension["candidates"] == 2
    assert extension["guard"] == "best-of-n"
    assert 0.0 <= extension["apc_normalized"] <= 1.0
    session = server.client().get(f"/v1/sessions/{extension['session_id']}").json()
    assert [t["user_text"] for t in session["turns"]] == ["Hello there"]
    shown = next(c for c in session["turns"][0]["candidates"] if c["index"] == session["turns"][0]["chosen_index"])
    assert shown["text"] == reply


def http_chunks(url: str, key: str, body: dict[str, Any]) -> list[bytes]:
    """POST a streamed chat completion over a raw socket and return the response body's HTTP chunks (one per write)."""
    host, port = url.removeprefix("http://").split(":")
    payload = json.dumps(body).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode() + payload)
        raw = b""
        while data := sock.recv(65536):
            raw += data
    headers, _, rest = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in headers.lower()
    chunks = []
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return chunks
        chunks.append(rest[:size])
        rest = rest[size + 2 :]


def test_a_guarded_reply_is_sent_whole_with_its_role_final_chunk_and_done_in_one_write(tmp_path: Path) -> None:
    for guard in ("best-of-n", "off"):
        cfg = config(tmp_path / guard, guard=guard)
        assert cfg.database_url is not None
        (tmp_path / guard).mkdir()
        [key] = make_keys(cfg.database_url, 1)
        with running(create_app(cfg)) as url:
            body = {"model": "ada-quint", "messages": [{"role": "user", "content": "Hello there"}], "stream": True}
            chunks = http_chunks(url, key, body)
        events = [
            [json.loads(line[6:]) if line != "data: [DONE]" else "[DONE]" for line in c.decode().split("\n\n") if line]
            for c in chunks
        ]
        assert events[0][0]["choices"][0]["delta"] == {"role": "assistant"}
        pieces = [e["choices"][0]["delta"].get("content", "") for c in events for e in c if e != "[DONE]"]
        assert "".join(pieces).startswith("You said: Hello there")
        assert events[-1][-1] == "[DONE]"
        assert events[-1][-2]["personae"]["guard"] == guard
        if guard == "best-of-n":  # the role chunk, the reply, the final chunk and [DONE] together
            assert [len(c) for c in events] == [4]
        else:  # streamed word by word as the backend produces them, the role chunk with the first word
            assert len(chunks) > 4
            assert len(events[0]) == 2


async def test_an_event_stream_ends_its_body_with_its_last_events() -> None:
    async def pieces(*items: str) -> AsyncIterator[str]:
        for item in items:
            yield item

    async def sent(response: EventStream) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []

        async def send(message: Any) -> None:
            messages.append(message)

        await response.stream_response(send)
        return messages

    closed = await sent(EventStream(pieces("a", LastEvents("b"))))
    assert [(m["type"], m.get("body"), m.get("more_body")) for m in closed] == [
        ("http.response.start", None, None),
        ("http.response.body", b"a", True),
        ("http.response.body", b"b", False),  # the last piece ends the body: no empty message after it
    ]
    open_ended = await sent(EventStream(pieces("a")))
    assert open_ended[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    with pytest.raises(RuntimeError, match="after its LastEvents"):
        await sent(EventStream(pieces(LastEvents("b"), "c")))


def leaving_after_first(messages: list[dict[str, Any]]) -> tuple[Receive, Send]:
    """ASGI receive and send of a client that records what it is sent and goes away once the body `first` arrives."""
    left = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await left.wait()
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        messages.append(message)
        if message.get("body") == b"first":
            left.set()

    return receive, send


async def test_an_event_stream_stops_its_producer_when_the_client_leaves() -> None:
    produced: list[str] = []

    async def slow() -> AsyncIterator[str]:
        try:
            yield "first"
            await asyncio.sleep(30)  # a turn still running when the client goes away
            yield LastEvents("never")
        finally:
            produced.append("closed")

    messages: list[dict[str, Any]] = []
    receive, send = leaving_after_first(messages)

    await asyncio.wait_for(EventStream(slow())(SCOPE, receive, send), timeout=5)  # returns, does not raise
    assert produced == ["closed"]
    assert [m.get("body") for m in messages] == [None, b"first"]

    async def never_leaves() -> dict[str, Any]:
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    stream = asyncio.ensure_future(EventStream(slow())(SCOPE, never_leaves, send))
    await asyncio.sleep(0.05)
    stream.cancel()  # the server stopping, say: not the stream's to swallow
    with pytest.raises(asyncio.CancelledError):
        await stream


async def test_a_started_stream_answers_only_once_its_first_piece_exists_and_closes_its_producer() -> None:
    async def failing() -> AsyncIterator[str]:
        raise RuntimeError("the upstream failed before the first piece")
        yield "never"

    with pytest.raises(RuntimeError, match="before the first piece"):  # raised to the route: nothing was sent
        await started(failing())

    produced: list[str] = []

    async def slow() -> AsyncIterator[str]:
        try:
            produced.append("first")
            yield "first"
            await asyncio.sleep(30)  # a turn still streaming when the client goes away
            yield LastEvents("never")
        finally:
            produced.append("closed")

    response = await started(slow())
    assert produced == ["first"]  # pulled before the response starts
    messages: list[dict[str, Any]] = []
    receive, send = leaving_after_first(messages)

    await asyncio.wait_for(response(SCOPE, receive, send), timeout=5)
    assert produced == ["first", "closed"]  # the producer ends with the response
    assert [m.get("body") for m in messages] == [None, b"first"]


def test_stateless_history_continues_the_session_and_a_resent_message_is_a_swipe(server: Server) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.keys[0])
    first = client.chat.completions.create(model="captain-iris-vega", messages=[{"role": "user", "content": "Hi"}])
    ext1 = (first.model_extra or {})["personae"]
    reply1 = first.choices[0].message.content
    assert reply1
    history = [
        {"role": "system", "content": "SillyTavern's own system prompt, ignored"},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": reply1},
        {"role": "user", "content": "Where are you from?"},
    ]
    second = client.chat.completions.create(model="captain-iris-vega", messages=history)  # type: ignore[arg-type]
    ext2 = (second.model_extra or {})["personae"]
    assert ext2["session_id"] == ext1["session_id"]
    assert ext2["turn"] == 1
    assert not ext2["swipe"]
    again = client.chat.completions.create(model="captain-iris-vega", messages=history)  # type: ignore[arg-type]
    ext3 = (again.model_extra or {})["personae"]
    assert ext3["session_id"] == ext1["session_id"]
    assert ext3["turn"] == 1
    assert ext3["swipe"]
    assert ext3["candidates"] == 4  # two more candidates joined the turn's swipes
    session = server.client().get(f"/v1/sessions/{ext1['session_id']}").json()
    assert [t["user_text"] for t in session["turns"]] == ["Hi", "Where are you from?"]
    # A history this server never produced starts a new session, seeded with that history.
    other = client.chat.completions.create(
        model="captain-iris-vega",
        messages=[
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "A reply from elsewhere."},
            {"role": "user", "content": "And then?"},
        ],
    )
    ext4 = (other.model_extra or {})["personae"]
    assert ext4["session_id"] != ext1["session_id"]
    assert ext4["turn"] == 1
    seeded = server.client().get(f"/v1/sessions/{ext4['session_id']}").json()
    assert seeded["turns"][0]["candidates"][0]["text"] == "A reply from elsewhere."


def test_a_resent_first_message_is_a_swipe_and_the_user_field_separates_conversations(server: Server) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=server.keys[0])
    opening = [{"role": "user", "content": "Good morning"}]
    first = client.chat.completions.create(model="ada-quint", messages=opening)  # type: ignore[arg-type]
    resent = client.chat.completions.create(model="ada-quint", messages=opening)  # type: ignore[arg-type]
    ext1, ext2 = (first.model_extra or {})["personae"], (resent.model_extra or {})["personae"]
    assert ext2["session_id"] == ext1["session_id"]
    assert ext2["swipe"]
    assert ext2["turn"] == 0
    other_user = client.chat.completions.create(
        model="ada-quint",
        messages=opening,  # type: ignore[arg-type]
        user="someone-else",
    )
    ext3 = (other_user.model_extra or {})["personae"]
    assert ext3["session_id"] != ext1["session_id"]
    assert not ext3["swipe"]


def test_no_key_is_401_and_another_keys_sessions_are_404(server: Server) -> None:
    anonymous = httpx.Client(base_url=server.url)
    for method, path in [("GET", "/v1/models"), ("GET", "/v1/sessions"), ("POST", "/v1/chat/completions")]:
        response = anonymous.request(method, path, json={"model": "captain-iris-vega", "messages": []})
        assert response.status_code == 401, path
        assert "personae keys create" in response.json()["error"]["message"]
    wrong = httpx.Client(base_url=server.url, headers={"Authorization": "Bearer pk-not-a-key"})
    assert wrong.get("/v1/models").status_code == 401
    a, b = server.client(0), server.client(1)
    started = a.post("/v1/sessions", json={"persona": "captain-iris-vega"})
    assert started.status_code == 201
    sid = started.json()["id"]
    assert a.get(f"/v1/sessions/{sid}").status_code == 200
    assert b.get(f"/v1/sessions/{sid}").status_code == 404
    assert b.get(f"/v1/sessions/{sid}/why").status_code == 404
    assert b.post(f"/v1/sessions/{sid}/messages", json={"content": "hi"}).status_code == 404
    assert b.post(f"/v1/sessions/{sid}/swipe").status_code == 404
    assert b.delete(f"/v1/sessions/{sid}").status_code == 404
    hijack = b.post(
        "/v1/chat/completions",
        headers={"X-Personae-Session": sid},
        json={"model": "captain-iris-vega", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert hijack.status_code == 404
    explicit = a.post(
        "/v1/chat/completions",
        headers={"X-Personae-Session": sid},
        json={"model": "captain-iris-vega", "messages": [{"role": "user", "content": "by id"}]},
    )
    assert explicit.json()["personae"]["session_id"] == sid
    wrong_model = a.post(
        "/v1/chat/completions",
        headers={"X-Personae-Session": sid},
        json={"model": "ada-quint", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert wrong_model.status_code == 400
    assert [s["id"] for s in a.get("/v1/sessions").json()] == [sid]
    assert b.get("/v1/sessions").json() == []
    assert a.delete(f"/v1/sessions/{sid}").status_code == 204
    assert a.get(f"/v1/sessions/{sid}").status_code == 404


def _sse_events(response: httpx.Response) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    name = "message"
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
    return events


def test_rest_turn_streams_then_swipes_and_explains(server: Server) -> None:
    a = server.client()
    sid = a.post("/v1/sessions", json={"persona": "captain-iris-vega", "user_name": "Ro"}).json()["id"]
    with a.stream("POST", f"/v1/sessions/{sid}/messages", json={"content": "Tell me about your ship"}) as response:
        assert response.status_code == 200
        events = _sse_events(response)
    deltas = "".join(d["text"] for name, d in events if name == "delta")
    turns = [d for name, d in events if name == "turn"]
    assert len(turns) == 1
    assert deltas
    turn = turns[0]
    shown = next(c for c in turn["candidates"] if c["index"] == turn["chosen_index"])
    assert shown["text"] == deltas
    assert turn["position"] == 1
    swiped = a.post(f"/v1/sessions/{sid}/swipe").json()
    assert swiped["chosen_index"] != turn["chosen_index"]
    assert swiped["position"] == 2
    why = a.get(f"/v1/sessions/{sid}/why").json()
    other = next(c for c in swiped["candidates"] if c["index"] == swiped["chosen_index"])
    assert why["reply"] == other["text"]
    assert set(why) >= {"supported", "violated", "apc_normalized"}
    regen = a.post(f"/v1/sessions/{sid}/regenerate").json()
    assert len(regen["candidates"]) == 4


def test_upload_a_card_png_list_it_for_its_key_only_and_delete_it(server: Server) -> None:
    a, b = server.client(0), server.client(1)
    png = png_with([text_chunk("chara", b64(v2_card()))])
    uploaded = a.post("/v1/personas", params={"filename": "mira.png"}, content=png)
    assert uploaded.status_code == 201, uploaded.text
    [info] = uploaded.json()
    assert info["name"] == "Mira Vale"
    assert info["source"] == "uploaded"
    assert info["statements"] > 0
    assert info["id"] in [m["id"] for m in a.get("/v1/models").json()["data"]]
    assert info["id"] not in [m["id"] for m in b.get("/v1/models").json()["data"]]
    assert b.get(f"/v1/personas/{info['id']}").status_code == 404
    assert a.get(f"/v1/personas/{info['id']}").json()["name"] == "Mira Vale"
    yaml_upload = a.post(
        "/v1/personas", params={"filename": "sam.yaml"}, content=b"name: Sam\nstatements: [Sam keeps bees.]\n"
    )
    assert yaml_upload.json()[0]["id"] == "sam"
    bad = a.post("/v1/personas", params={"filename": "broken.yaml"}, content=b"name: [unclosed")
    assert bad.status_code == 400
    assert "broken.yaml" in bad.json()["error"]["message"]
    assert b.delete(f"/v1/personas/{info['id']}").status_code == 404
    assert a.delete("/v1/personas/captain-iris-vega").status_code == 409
    assert a.delete(f"/v1/personas/{info['id']}").status_code == 204
    assert a.get(f"/v1/personas/{info['id']}").status_code == 404


def test_score_endpoint_explains_statements(server: Server) -> None:
    result = server.client().post(
        "/v1/score", json={"persona": "captain-iris-vega", "query": "Who are you?", "reply": "I am a captain."}
    )
    assert result.status_code == 200
    body = result.json()
    assert 0.0 <= body["apc_normalized"] <= 1.0
    assert body["statements"]
    assert server.client().post("/v1/score", json={"persona": "nobody", "query": "", "reply": "x"}).status_code == 404


def test_request_and_upload_size_limits(tmp_path: Path) -> None:
    cfg = config(tmp_path, max_request_bytes=4096, max_upload_bytes=8192)
    assert cfg.database_url is not None
    [key] = make_keys(cfg.database_url, 1)
    with running(create_app(cfg)) as url:
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"})
        big = {"model": "captain-iris-vega", "messages": [{"role": "user", "content": "x" * 5000}]}
        refused = client.post("/v1/chat/completions", json=big)
        assert refused.status_code == 413
        assert refused.json()["error"]["code"] == "request_too_large"  # OpenAI's error shape

        def chunked() -> Iterator[bytes]:  # no Content-Length: the limit must still hold
            for _ in range(20):
                yield b"x" * 1000

        assert client.post("/v1/personas", params={"filename": "a.png"}, content=chunked()).status_code == 413
        assert client.post("/v1/personas", params={"filename": "a.yaml"}, content=b"x" * 6000).status_code == 400


def test_cors_is_off_unless_configured(tmp_path: Path) -> None:
    origin = {"Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST"}
    with running(create_app(config(tmp_path))) as url:
        response = httpx.options(f"{url}/v1/chat/completions", headers=origin)
        assert "access-control-allow-origin" not in response.headers
    with running(create_app(config(tmp_path, cors_origins=["http://elsewhere.example"]))) as url:
        response = httpx.options(f"{url}/v1/chat/completions", headers=origin)
        assert response.headers["access-control-allow-origin"] == "http://elsewhere.example"


def test_sessions_survive_a_server_restart(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    assert cfg.database_url is not None
    [key] = make_keys(cfg.database_url, 1)
    messages: list[dict[str, str]] = [{"role": "user", "content": "First"}]
    with running(create_app(cfg)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key)
        first = client.chat.completions.create(model="captain-iris-vega", messages=messages)  # type: ignore[arg-type]
    sid = (first.model_extra or {})["personae"]["session_id"]
    messages += [
        {"role": "assistant", "content": first.choices[0].message.content or ""},
        {"role": "user", "content": "Second"},
    ]
    with running(create_app(cfg)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key)
        second = client.chat.completions.create(model="captain-iris-vega", messages=messages)  # type: ignore[arg-type]
        ext = (second.model_extra or {})["personae"]
        assert ext["session_id"] == sid
        assert ext["turn"] == 1
        turns = httpx.get(f"{url}/v1/sessions/{sid}", headers={"Authorization": f"Bearer {key}"}).json()["turns"]
        assert [t["user_text"] for t in turns] == ["First", "Second"]


def test_two_servers_on_one_database_never_store_a_turn_twice(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    assert cfg.database_url is not None
    [key] = make_keys(cfg.database_url, 1)
    headers = {"Authorization": f"Bearer {key}"}
    with running(create_app(cfg)) as url_a, running(create_app(cfg)) as url_b:
        a = httpx.Client(base_url=url_a, headers=headers, timeout=30)
        b = httpx.Client(base_url=url_b, headers=headers, timeout=30)
        sid = a.post("/v1/sessions", json={"persona": "ada-quint"}).json()["id"]
        assert b.get(f"/v1/sessions/{sid}").json()["turns"] == []  # server B now holds the session, no turns yet
        assert "event: turn" in a.post(f"/v1/sessions/{sid}/messages", json={"content": "From A"}).text
        body = {"model": "ada-quint", "messages": [{"role": "user", "content": "From B"}]}
        refused = b.post("/v1/chat/completions", json=body, headers={"X-Personae-Session": sid})
        assert refused.status_code == 409
        assert "was changed by another process" in refused.json()["error"]["message"]
        again = b.post("/v1/chat/completions", json=body, headers={"X-Personae-Session": sid})
        assert again.status_code == 200, again.text
        assert again.json()["personae"]["turn"] == 1  # B read the session afresh and answered after A's turn
    # The database holds each turn once. (Server A's own view still shows one turn: a server trusts the sessions it
    # holds in memory, so several servers on one database are not yet supported; see the README.)
    stored = SessionStore(cfg.database_url)
    assert [(t.index, t.user_text) for t in stored.load(sid).turns] == [(0, "From A"), (1, "From B")]
    stored.close()


def in_process(cfg: ServerConfig) -> tuple[Service, ApiKey]:
    """A service on `cfg` without HTTP, and a key of its database."""
    assert cfg.database_url is not None
    [secret] = make_keys(cfg.database_url, 1)
    service = Service(cfg)
    key = service.authenticate(secret)
    assert key is not None
    return service, key


async def test_a_stored_turn_is_found_by_its_resend_even_when_its_request_ended_early(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    service, key = in_process(cfg)
    opening = parse_messages([("user", "Hello there")])
    chat, swipe = service.match_conversation(key, "ada-quint", opening, "User")
    assert not swipe
    stream = service.turn_stream(chat, opening.user_text)
    outcome = await anext(stream)
    assert isinstance(outcome, TurnOutcome)
    reply = outcome.turn.reply
    await stream.aclose()  # the request went no further (a client gone, a stop) than the turn's outcome
    service.close()

    restarted = Service(cfg)  # nothing in memory: only the database can match the resend
    again, swipe = restarted.match_conversation(key, "ada-quint", opening, "User")
    assert (again.id, swipe) == (chat.id, True)
    assert [t.user_text for t in again.turns] == ["Hello there"]
    async with restarted.lock(again.id):
        shown = restarted.swipe(again)
    assert shown.text != reply
    restarted.close()

    later = Service(cfg)
    follow_up = parse_messages([("user", "Hello there"), ("assistant", shown.text), ("user", "And then?")])
    cont, swipe = later.match_conversation(key, "ada-quint", follow_up, "User")
    assert (cont.id, swipe) == (chat.id, False)  # the swipe moved the stored hashes with it
    later.close()


def test_a_new_conversation_is_stored_with_its_first_reply_and_not_at_all_if_that_fails(tmp_path: Path) -> None:
    down = True

    def upstream(messages: Sequence[Message], _config: GenerateConfig, index: int) -> str:
        if down:
            raise BackendError("upstream down")
        return f"Aye, {messages[-1].content} ({index})"

    cfg = config(tmp_path, workers=2)  # as beside another worker: nothing is matched from memory
    [secret] = make_keys(str(cfg.database_url), 1)
    service = Service(cfg, backend=get_backend("mock/echo", fn=upstream, cache=None))
    statements: list[tuple[int, str]] = []
    begun = [0]

    @event.listens_for(service.store.engine, "begin")
    def began(_conn: Connection) -> None:
        begun[0] += 1

    @event.listens_for(service.store.engine, "before_cursor_execute")
    def executing(_conn: Connection, _cursor: object, statement: str, *_args: object) -> None:
        statements.append((begun[0], " ".join(statement.split()[:3])))

    body = {"model": "ada-quint", "messages": [{"role": "user", "content": "Hello there"}]}
    with running(create_app(service=service)) as url, httpx.Client(base_url=url, timeout=30) as http:
        http.headers["Authorization"] = f"Bearer {secret}"
        assert http.post("/v1/chat/completions", json=body).status_code == 502
        assert http.get("/v1/sessions").json() == []  # no empty session left behind
        down = False
        statements.clear()
        answered = http.post("/v1/chat/completions", json=body).json()
        [listed] = http.get("/v1/sessions").json()
    assert (listed["id"], listed["turns"]) == (answered["personae"]["session_id"], 1)
    written = {s: tx for tx, s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))}
    assert {"INSERT INTO sessions", "INSERT INTO session_owners", "INSERT INTO turns"} <= set(written)
    assert len(set(written.values())) == 1  # the session, its owner and its first turn: one transaction


def test_a_workers_first_turns_find_their_statements_compiled_and_their_routes_prepared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(tmp_path, workers=2)
    [secret] = make_keys(str(cfg.database_url), 1)
    app = create_app(cfg)
    compiled: list[str] = []
    sources_read: list[object] = []
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as http:  # start-up has warmed the worker
        http.headers["Authorization"] = f"Bearer {secret}"

        @event.listens_for(app.state.service.store.engine, "before_cursor_execute")
        def executing(
            _conn: Connection, _cursor: object, statement: str, _params: object, context: Any, _: bool
        ) -> None:
            # Raw SQL (the app's once-a-second WAL checkpoint, on its own timer) is not compiled: only statements are.
            if context is not None and context.compiled is not None and context.cache_hit != CacheStats.CACHE_HIT:
                compiled.append(" ".join(statement.split()))

        def read_source(obj: object) -> tuple[list[str], int]:
            sources_read.append(obj)
            return [], 0

        monkeypatch.setattr(inspect, "getsourcelines", read_source)
        history = [{"role": "user", "content": "Hello there"}]
        for then in ("I live in Berlin.", "And then?"):  # a first turn, one that tells a fact, a third
            reply = http.post("/v1/chat/completions", json={"model": "ada-quint", "messages": history}).json()
            history += [reply["choices"][0]["message"], {"role": "user", "content": then}]
        http.post("/v1/chat/completions", json={"model": "ada-quint", "messages": history}).raise_for_status()
        sid = reply["personae"]["session_id"]
        sent = http.post(f"/v1/sessions/{sid}/messages", json={"content": "Still there?"})  # the web UI's route
        assert "event: turn" in sent.text
        in_turns = (list(compiled), list(sources_read))
        facts = http.get("/v1/users/User/memory").json()["facts"]
    assert ["Berlin" in f["text"] for f in facts] == [True]  # a turn wrote what it was told
    # No statement compiled in a turn (start-up ran each), no endpoint prepared (FastAPI reads its source at first).
    assert in_turns == ([], [])


def test_a_new_session_is_not_kept_when_its_ownership_cannot_be_written(tmp_path: Path) -> None:
    service, key = in_process(config(tmp_path))
    ghost = key.model_copy(update={"id": "no-such-key"})  # the ownership row's foreign key fails
    with pytest.raises(IntegrityError):
        service.start(ghost, "ada-quint")
    assert service.store.list_sessions() == []
    service.close()


def test_library_personas_are_warmed_at_start_up_not_on_their_first_turn(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    assert cfg.database_url is not None
    [key] = make_keys(cfg.database_url, 1)
    embedder = CountingEmbedder()
    service = Service(cfg, models=ScoringModels(nli=FakeNLI(), embedder=embedder, ooc_classifier=False))
    masked = {mask_names(s, [p.name]) for p in service.library.values() for s in p.statements}
    assert not masked & set(embedder.seen)
    with running(create_app(cfg, service)) as url:
        warmed = len(embedder.seen)
        assert masked <= set(embedder.seen)
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key)
        for persona in service.library:
            client.chat.completions.create(model=persona, messages=[{"role": "user", "content": "Hello there"}])
    assert len(embedder.seen) > warmed  # the turns embedded their messages and replies ...
    assert not masked & set(embedder.seen[warmed:])  # ... but no statement again


def test_personae_serve_tunes_the_garbage_collector_after_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIG_ENV, config(tmp_path).model_dump_json())
    app = app_from_env()
    assert app.router.on_startup[-1] is tune_gc  # after the app's own start-up work (warming the personas)
    thresholds = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    assert create_app(config(tmp_path)).router.on_startup[-1] is not tune_gc  # embedding apps keep their own


def test_keys_create_prints_a_key_that_is_stored_hashed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    result = CliRunner().invoke(cli_app, ["keys", "create", "--db", url, "--name", "laptop"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("pk-")
    assert len(secret) > 40
    store = SessionStore(url)
    key = AccessStore(store).find_key(secret)
    assert key is not None
    assert key.name == "laptop"
    with store.engine.connect() as conn:
        stored = [row[0] for row in conn.exec_driver_sql("SELECT key_hash FROM api_keys")]
    assert secret not in stored
    assert len(stored) == 1
    assert len(stored[0]) == 64
    store.close()


def test_web_ui_is_served_without_a_cdn(server: Server) -> None:
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200
    assert "<html" in page.text
    for asset in ("/static/app.js", "/static/app.css"):
        body = httpx.get(f"{server.url}{asset}")
        assert body.status_code == 200
        assert len(body.text) > 200
        assert "http://" not in body.text
        assert "https://" not in body.text
    assert "https://" not in page.text


@pytest.mark.slow
def test_personae_serve_runs_as_a_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    secret = runner.invoke(cli_app, ["keys", "create", "--db", url]).stdout.strip()
    args = ["--db", url, "--backend", "mock/echo", "--scoring", "off", "--personas", str(EXAMPLES)]
    with serving([*args, "--log-level", "warning"]) as (base, _proc):
        models = httpx.get(f"{base}/v1/models", headers={"Authorization": f"Bearer {secret}"})
        assert sorted(m["id"] for m in models.json()["data"]) == ["ada-quint", "brother-anselm", "captain-iris-vega"]
        reply = httpx.post(
            f"{base}/v1/chat/completions",
            headers={"Authorization": f"Bearer {secret}"},
            json={"model": "ada-quint", "messages": [{"role": "user", "content": "Hi"}]},
        ).json()
        assert reply["choices"][0]["message"]["content"] == "You said: Hi"
        assert reply["personae"]["guard"] == "off"
        assert reply["personae"]["apc_normalized"] is None
    bad = runner.invoke(cli_app, ["serve", "--scoring", "maybe", "--db", url])
    assert bad.exit_code == 2
    assert "--scoring" in bad.stderr


def test_sessions_evicted_from_memory_resume_from_the_database(tmp_path: Path) -> None:
    cfg = config(tmp_path, max_cached_sessions=1)
    assert cfg.database_url is not None
    [key] = make_keys(cfg.database_url, 1)
    with running(create_app(cfg)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key)
        histories: dict[str, list[dict[str, str]]] = {"ada-quint": [], "brother-anselm": []}
        sessions: dict[str, set[str]] = {"ada-quint": set(), "brother-anselm": set()}
        for turn in range(3):
            for persona, history in histories.items():  # alternate, so each turn evicts the other session
                history.append({"role": "user", "content": f"{persona} turn {turn}"})
                reply = client.chat.completions.create(model=persona, messages=history)  # type: ignore[arg-type]
                history.append({"role": "assistant", "content": reply.choices[0].message.content or ""})
                sessions[persona].add((reply.model_extra or {})["personae"]["session_id"])
        headers = {"Authorization": f"Bearer {key}"}
        for persona, ids in sessions.items():
            assert len(ids) == 1
            stored = httpx.get(f"{url}/v1/sessions/{ids.pop()}", headers=headers).json()["turns"]
            assert [t["user_text"] for t in stored] == [f"{persona} turn {i}" for i in range(3)]


@pytest.mark.slow
def test_sqlite_wal_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    assert cfg.database_url is not None
    [key] = make_keys(cfg.database_url, 1)
    with running(create_app(cfg)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key)
        reply = client.chat.completions.create(model="ada-quint", messages=[{"role": "user", "content": "Hi"}])
        sid = (reply.model_extra or {})["personae"]["session_id"]
        assert (tmp_path / "server.db-wal").exists()  # WAL mode is on
        time.sleep(2.5)
        # The main file alone (without its WAL) already holds the turn: a checkpoint ran, no request paid for it.
        copy = tmp_path / "main-only.db"
        shutil.copy(tmp_path / "server.db", copy)
        with sqlite3.connect(copy) as conn:
            rows = conn.execute("SELECT user_text FROM turns WHERE session_id = ?", (sid,)).fetchall()
    assert rows == [("Hi",)]


def test_warming_up_runs_a_turns_statements_and_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    service, key = in_process(config(tmp_path))
    service.warm()  # also what the app's start-up does
    assert service.store.list_sessions() == []  # the warm-up turn was rolled back
    with service.store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM turns").scalar() == 0
    chat = service.start(key, "ada-quint")  # and the store works as before
    assert [s.id for s in service.store.list_sessions()] == [chat.id]
    service.close()
