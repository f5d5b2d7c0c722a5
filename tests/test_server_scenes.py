"""Scenes over real HTTP: a scene streamed turn by turn, a group chat the user talks in, stored transcripts, limits.

And the key's quota slot a scene holds until its run ends, read or not: through `ServerScenes` itself where the order
of a client leaving and the scene ending has to be fixed.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.server import mock_config, running
from personae.backends import GenerateConfig, Message, RejectedRequestError
from personae.server import create_app
from personae.server._scenes import ServerScenes
from personae.server._service import Service
from personae.store import AccessStore, ApiKey, SessionStore


class Api:
    def __init__(self, url: str, keys: list[str], scenes_dir: Path) -> None:
        self.url, self.keys, self.scenes_dir = url, keys, scenes_dir

    def client(self, key: int = 0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.keys[key]}"}, timeout=60)


@contextmanager
def serve(tmp_path: Path, **extra: Any) -> Iterator[Api]:
    cfg = mock_config(tmp_path, scenes_dir=str(tmp_path / "scenes"), **extra)
    store = SessionStore(cfg.database_url)
    keys = [AccessStore(store).create_key(f"k{i}").secret for i in range(2)]
    store.close()
    with running(create_app(cfg)) as url:
        yield Api(url, keys, tmp_path / "scenes")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with serve(tmp_path, max_scene_characters=3, max_scene_turns=20) as served:
        yield served


def scene(**fields: Any) -> dict[str, Any]:
    return {
        "name": "api-scene",
        "setting": "A harbour wall in a storm.",
        "characters": [{"persona": "ada-quint"}, {"persona": "captain-iris-vega"}],
        "backend": "mock/scene",
        "stop": {"turns": 4},
        "n": 2,
        **fields,
    }


def events(response: httpx.Response) -> list[tuple[str, Any]]:
    """The (event, data) pairs of a server-sent event stream."""
    assert response.status_code == 200, response.read()
    assert response.headers["content-type"].startswith("text/event-stream")
    out = []
    for block in response.text.split("\n\n"):
        if block.strip():
            lines = dict(line.split(": ", 1) for line in block.splitlines())
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_a_scene_streams_each_turn_with_scores_then_its_results_and_is_stored(api: Api) -> None:
    with api.client() as client:
        got = events(client.post("/v1/scenes", json=scene()))
        names = [name for name, _ in got]
        assert names[0] == "scene", names
        assert names[-1] == "results", names
        head = got[0][1]
        assert [c["name"] for c in head["characters"]] == ["Ada Quint", "Captain Iris Vega"]
        assert [c["persona_id"] for c in head["characters"]] == ["ada-quint", "captain-iris-vega"]
        lines = [data for name, data in got if name == "turn" and data["kind"] == "line"]
        assert len(lines) == 4
        assert [line["speaker"] for line in lines] == ["Ada Quint", "Captain Iris Vega"] * 2  # round-robin
        for line in lines:
            assert line["text"]
            assert line["candidates"] == 2
            assert line["candidate"]["text"] == line["text"]
            assert line["candidate"]["apc_normalized"] is not None  # scored by the server's (fake) models
            assert line["persona_id"] in ("ada-quint", "captain-iris-vega")
        assert "Ada" in lines[1]["text"]  # mock/scene answers whoever spoke last: Vega heard Ada
        final = got[-1][1]
        assert final["status"] == "finished"
        assert final["results"]["turns"] == 4
        assert final["results"]["ended"] == "turns"
        end = next(data for name, data in got if name == "turn" and data["kind"] == "end")
        assert end["ended"] == "ended at its turn limit"  # in words, for the web UI to show as they are
        assert all(data["ended"] is None for name, data in got if name == "turn" and data["kind"] != "end")
        assert set(final["results"]["characters"]) == {"Ada Quint", "Captain Iris Vega"}

        stored = client.get(f"/v1/scenes/{head['id']}").raise_for_status().json()
        assert stored["status"] == "finished"
        assert [t for t in stored["turns"]] == [data for name, data in got if name == "turn"]
        on_disk = json.loads(next(api.scenes_dir.glob(f"*/{head['id']}/results.json")).read_text())
        assert stored["results"] == on_disk == final["results"]
        assert [s["id"] for s in client.get("/v1/scenes").json()] == [head["id"]]
    with api.client(1) as other:
        assert other.get(f"/v1/scenes/{head['id']}").status_code == 404
        assert other.get("/v1/scenes").json() == []
        assert other.post(f"/v1/scenes/{head['id']}/messages", json={"content": "hi"}).status_code == 404
    with httpx.Client(base_url=api.url) as anonymous:
        assert anonymous.post("/v1/scenes", json=scene()).status_code == 401
        assert anonymous.get(f"/v1/scenes/{head['id']}").status_code == 401


def test_a_group_chat_waits_for_the_user_and_each_character_answers(api: Api) -> None:
    chat = scene(user={"name": "Sam", "mode": "interactive", "first": True}, stop={"turns": 7})
    with api.client() as client:
        got = events(client.post("/v1/scenes", json=chat))
        assert [name for name, _ in got] == ["scene", "results"]  # the user opens: nothing said yet
        scene_id, final = got[0][1]["id"], got[-1][1]
        assert final["status"] == "waiting"
        assert final["results"]["ended"] is None
        assert client.get(f"/v1/scenes/{scene_id}").json()["status"] == "waiting"

        got = events(client.post(f"/v1/scenes/{scene_id}/messages", json={"content": "Hello Ada, hello Vega!"}))
        turns = [data for name, data in got if name == "turn"]
        assert [(t["kind"], t["speaker"]) for t in turns] == [
            ("user", "Sam"),
            ("line", "Ada Quint"),
            ("line", "Captain Iris Vega"),
        ]
        assert "Sam" in turns[1]["text"]  # Ada answers the user
        assert got[-1][1]["status"] == "waiting"

        got = events(client.post(f"/v1/scenes/{scene_id}/messages", json={"content": "What now?"}))
        assert [t["speaker"] for n, t in got if n == "turn"][:3] == ["Sam", "Ada Quint", "Captain Iris Vega"]
        got = events(client.post(f"/v1/scenes/{scene_id}/messages", json={"content": "Goodbye."}))
        assert got[-1][1]["status"] == "finished"  # 7 turns: three of the user's, four lines
        stored = client.get(f"/v1/scenes/{scene_id}").json()
        assert [t["text"] for t in stored["turns"] if t["kind"] == "user"] == [
            "Hello Ada, hello Vega!",
            "What now?",
            "Goodbye.",
        ]
        over = client.post(f"/v1/scenes/{scene_id}/messages", json={"content": "one more"})
        assert over.status_code == 409
        assert over.json()["error"]["type"] == "conflict_error"
        assert client.post(f"/v1/scenes/{scene_id}/messages", json={"content": ""}).status_code == 400


BAD: list[tuple[dict[str, Any], int, str]] = [
    ({"backend": "openai/gpt-4o-mini"}, 400, "backend"),
    (
        {"characters": [{"persona": "ada-quint"}, {"persona": "captain-iris-vega", "backend": "ollama/x"}]},
        400,
        "characters[1].backend",
    ),
    ({"characters": [{"persona": "ada-quint"}, {"persona": "../../etc/passwd"}]}, 400, "characters[1].persona"),
    ({"characters": [{"persona": "ada-quint"}]}, 400, "characters"),
    (
        {"characters": [{"persona": p} for p in ("ada-quint", "captain-iris-vega", "brother-anselm", "ada-quint")]},
        413,
        "characters",
    ),
    ({"stop": {"turns": 21}}, 413, "stop.turns"),
    ({"policy": "shouting"}, 400, "policy"),
    ({"surprise": 1}, 400, "surprise"),
]
"""A change to a good scene, the status it gets, and the field the error names."""


def test_bad_scenes_are_refused_in_openais_shape(api: Api) -> None:
    with api.client() as client:
        for change, status, param in BAD:
            refused = client.post("/v1/scenes", json=scene(**change))
            assert refused.status_code == status, refused.text
            error = refused.json()["error"]
            assert error["param"] == param, error
            assert error["message"]
            assert error["type"]
        assert client.get("/v1/scenes").json() == []  # nothing started, no folder left
        assert not list(api.scenes_dir.glob("*/*"))


def test_a_scene_body_over_the_limit_and_broken_yaml_are_refused(api: Api) -> None:
    with api.client() as client:
        big = scene(setting="x" * 2_000_000)
        assert client.post("/v1/scenes", json=big).status_code == 413
        broken = client.post("/v1/scenes", content="characters: [", headers={"Content-Type": "application/yaml"})
        assert broken.status_code == 400
        assert broken.json()["error"]["message"].startswith("scene:")
        inline = "characters:\n  - persona: {name: Pip, statements: [I am a cat.]}\n  - persona: ada-quint\n"
        ok = client.post("/v1/scenes", content=inline + "backend: mock/scene\nstop: {turns: 2}\n",
                         headers={"Content-Type": "application/yaml"})  # fmt: skip
        assert [n for n, _ in events(ok)][-1] == "results"


class HeldUpstream:
    """The server's upstream (a `mock/echo` with `fn=`) whose replies wait until the test releases them.

    It blocks the thread that calls it, so while it holds a reply the server answers only if the scene generates
    off the server's event loop. A reply it is never released for fails (rather than hangs) after `hang_guard`
    seconds, a bound on a broken test, not a measure of the machine.
    """

    hang_guard = 120.0

    def __init__(self) -> None:
        self.called = threading.Event()
        """Set by the first request: a scene is generating its first line and waits there."""
        self.released = threading.Event()
        """Set by the test: every reply, held or later, goes out."""

    def __call__(self, messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
        self.called.set()
        if not self.released.wait(self.hang_guard):
            raise TimeoutError("the test never released the upstream")
        return "The harbour wall holds, for now."


def test_a_scene_on_the_servers_upstream_runs_off_the_event_loop_within_the_keys_quota(tmp_path: Path) -> None:
    upstream = HeldUpstream()
    with serve(tmp_path, backend_options={"fn": upstream}, max_scenes_per_key=1) as api:
        held = scene(stop={"turns": 3}, guard="off", n=1)
        del held["backend"]  # every role speaks through the server's own upstream
        first: list[tuple[str, Any]] = []

        def run_first() -> None:
            with api.client() as client:
                first.extend(events(client.post("/v1/scenes", json=held)))

        thread = threading.Thread(target=run_first, daemon=True)
        thread.start()
        try:
            assert upstream.called.wait(HeldUpstream.hang_guard)  # the first scene is held at its first line
            with api.client() as client, api.client(1) as other:
                assert client.get("/healthz").status_code == 200  # answered while the scene's upstream blocks
                assert [s["status"] for s in client.get("/v1/scenes").json()] == ["running"]
                busy = client.post("/v1/scenes", json=held)
                assert busy.status_code == 429, busy.text
                assert busy.json()["error"]["type"] == "rate_limit_error"
                with other.stream("POST", "/v1/scenes", json=held) as started:  # the quota is the key's own
                    assert started.status_code == 200
                    upstream.released.set()
                    started.read()
                    assert events(started)[-1][1]["status"] == "finished"
                thread.join(HeldUpstream.hang_guard)
                assert not thread.is_alive()
                assert first[-1][1]["status"] == "finished", first[-1]
                lines = [d for n, d in first if n == "turn" and d["kind"] == "line"]
                assert [line["text"] for line in lines] == ["The harbour wall holds, for now."] * 3
                # The ended scene's slot is free again (its results came after the slot was given back).
                assert [n for n, _ in events(client.post("/v1/scenes", json=held))][-1] == "results"
        finally:
            upstream.released.set()
            thread.join(HeldUpstream.hang_guard)


def join_scene_threads() -> None:
    """Wait for the server's scene threads (`personae-scene`) to end; a hang guard bounds a broken test."""
    for thread in threading.enumerate():
        if thread.name == "personae-scene":
            thread.join(HeldUpstream.hang_guard)
            assert not thread.is_alive(), "a scene's thread never ended"


def assert_slot_free(api: Api, held: dict[str, Any]) -> None:
    """The key's only scene ended with its thread: listed as finished, and the key's one slot takes a new scene."""
    with api.client() as client:
        assert [s["status"] for s in client.get("/v1/scenes").json()] == ["finished"]
        again = client.post("/v1/scenes", json=held)
        assert again.status_code == 200, again.text  # not 429: the slot was given back
        assert [n for n, _ in events(again)][-1] == "results"


def test_a_scene_whose_client_left_mid_stream_gives_its_slot_back_when_it_ends(tmp_path: Path) -> None:
    upstream = HeldUpstream()
    with serve(tmp_path, backend_options={"fn": upstream}, max_scenes_per_key=1) as api:
        held = scene(stop={"turns": 3}, guard="off", n=1)
        del held["backend"]  # every role speaks through the server's own upstream
        try:
            with api.client() as client:
                with client.stream("POST", "/v1/scenes", json=held) as response:
                    assert response.status_code == 200
                    first = next(response.iter_lines())
                    assert first == "event: scene", first
                    assert upstream.called.wait(HeldUpstream.hang_guard)  # the scene is held at its first line
                # The client has left with the scene held: it goes on, recorded, and keeps the key's slot meanwhile.
                assert [s["status"] for s in client.get("/v1/scenes").json()] == ["running"]
                assert client.post("/v1/scenes", json=held).status_code == 429
            upstream.released.set()
            join_scene_threads()
            assert_slot_free(api, held)
        finally:
            upstream.released.set()
            join_scene_threads()


# The order of a client leaving and a scene ending cannot be fixed over a socket: these drive the scene's event stream
# the way the server does (`ServerScenes`, in an event loop of the test's own), reading it as far as a client would.


@contextmanager
def server_scenes(tmp_path: Path, **extra: Any) -> Iterator[tuple[ServerScenes, ApiKey]]:
    """The scenes of a server on the mock upstream with one slot per key, and a key of that server."""
    cfg = mock_config(tmp_path, scenes_dir=str(tmp_path / "scenes"), max_scenes_per_key=1, **extra)
    service = Service(cfg)
    try:
        key = service.authenticate(service.access.create_key("k0").secret)
        assert key is not None
        yield ServerScenes(service), key
    finally:
        service.close()


async def read_to_the_end(stream: AsyncIterator[str]) -> list[str]:
    """The names of a stream's events, read to its end (as a client that stays does)."""
    return [line.removeprefix("event: ") async for piece in stream for line in piece.splitlines() if "event: " in line]


def test_a_scene_whose_stream_is_closed_after_it_ended_gives_its_slot_back(tmp_path: Path) -> None:
    with server_scenes(tmp_path) as (scenes, key):
        spec, ids = scenes.parse(key, json.dumps(scene(stop={"turns": 2})).encode(), "application/json")

        async def main() -> None:
            stream = await scenes.start(key, spec, ids)
            head = await anext(stream)  # the client reads the scene's first event, then no more
            scene_id = json.loads(head.split("data: ", 1)[1])["id"]
            # The scene runs to its end. Its thread handed its end to this loop before the join returned (the
            # join's own result comes after it), so its results now wait in the stream, unread.
            await asyncio.to_thread(join_scene_threads)
            await stream.aclose()  # the client leaves before the stream passed them on
            assert scenes.view(key, scene_id).status == "finished"
            again = await scenes.start(key, spec, ids)  # the key's one slot takes a new scene: no 429
            assert (await read_to_the_end(again))[-1] == "results"

        asyncio.run(main())


def test_a_scene_whose_stream_is_never_read_gives_its_slot_back_when_it_ends(tmp_path: Path) -> None:
    with server_scenes(tmp_path) as (scenes, key):
        spec, ids = scenes.parse(key, json.dumps(scene(stop={"turns": 2})).encode(), "application/json")

        async def main() -> None:
            unread = await scenes.start(key, spec, ids)  # e.g. a response never sent: its stream never starts
            await asyncio.to_thread(join_scene_threads)
            assert [s.status for s in scenes.scenes(key)] == ["finished"]
            again = await scenes.start(key, spec, ids)
            assert (await read_to_the_end(again))[-1] == "results"
            await unread.aclose()

        asyncio.run(main())


def test_a_group_chat_whose_stream_is_never_read_waits_for_the_user(tmp_path: Path) -> None:
    chat = scene(user={"name": "Sam", "mode": "interactive", "first": True}, stop={"turns": 3})
    with server_scenes(tmp_path) as (scenes, key):
        spec, ids = scenes.parse(key, json.dumps(chat).encode(), "application/json")

        async def main() -> None:
            unread = await scenes.start(key, spec, ids)  # the user opens: it stops at once, at the user's turn
            await asyncio.to_thread(join_scene_threads)
            [waiting] = scenes.scenes(key)
            assert waiting.status == "waiting"
            answered = await scenes.say(key, waiting.id, "Hello Ada, hello Vega!")  # not a 409: it is not running
            assert (await read_to_the_end(answered))[-3:] == ["turn", "turn", "results"]
            await unread.aclose()

        asyncio.run(main())


def failing_upstream(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
    """The server's upstream (a `mock/echo` with `fn=`) failing every request."""
    raise RuntimeError("the upstream is down")


def test_a_scene_that_fails_reports_it_is_interrupted_and_gives_its_slot_back(tmp_path: Path) -> None:
    with server_scenes(tmp_path, backend_options={"fn": failing_upstream}) as (scenes, key):
        failing = scene(stop={"turns": 2}, guard="off", n=1)
        del failing["backend"]  # every role speaks through the server's own (failing) upstream
        spec, ids = scenes.parse(key, json.dumps(failing).encode(), "application/json")

        async def main() -> None:
            for _ in range(2):  # the first one's slot is free for the second
                assert (await read_to_the_end(await scenes.start(key, spec, ids)))[-1] == "error"
            await asyncio.to_thread(join_scene_threads)
            assert [s.status for s in scenes.scenes(key)] == ["interrupted"] * 2

        asyncio.run(main())


def refusing_upstream(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
    """The server's upstream refusing the server's own key, with a hint that names server settings."""
    raise RejectedRequestError(
        "openai: HTTP 401 from http://10.9.8.7/v1: set PERSONAE_OPENAI_API_KEY", 401, "invalid key"
    )


def test_a_failed_scene_tells_its_client_no_server_settings(tmp_path: Path) -> None:
    with server_scenes(tmp_path, backend_options={"fn": refusing_upstream}) as (scenes, key):
        failing = scene(stop={"turns": 2}, guard="off", n=1)
        del failing["backend"]
        spec, ids = scenes.parse(key, json.dumps(failing).encode(), "application/json")

        async def main() -> list[str]:
            return [piece async for piece in await scenes.start(key, spec, ids)]

        pieces = asyncio.run(main())
        error = json.loads(pieces[-1].split("data: ", 1)[1])
        assert "event: error" in pieces[-1]
        assert error["code"] == "upstream_error"
        assert "HTTP 401" in error["message"]
        assert "PERSONAE_OPENAI_API_KEY" not in pieces[-1]
        assert "10.9.8.7" not in pieces[-1]
