"""Several server processes on one database (`personae serve --workers N`): each sees what the others stored."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from helpers.server import mock_config, running, serving
from personae.cli import app as cli_app
from personae.server import ServerConfig, create_app
from personae.server._evals import process_tag
from personae.store import AccessStore, NewKey, SessionStore

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "personas"
PERSONA = "captain-iris-vega"


def config(tmp_path: Path, workers: int) -> ServerConfig:
    return mock_config(tmp_path, workers=workers, evals_dir=str(tmp_path / "evals"))


def new_key(url: str) -> str:
    store = SessionStore(url)
    try:
        return AccessStore(store).create_key("k").secret
    finally:
        store.close()


@contextmanager
def two_workers(tmp_path: Path) -> Iterator[tuple[httpx.Client, httpx.Client, str]]:
    """Two apps configured as workers of one server, each with its own memory, over real HTTP; and the DB URL."""
    cfg = config(tmp_path, workers=2)
    assert cfg.database_url is not None
    key = new_key(cfg.database_url)
    headers = {"Authorization": f"Bearer {key}"}
    with ExitStack() as stack:
        url_a = stack.enter_context(running(create_app(cfg)))
        url_b = stack.enter_context(running(create_app(cfg)))
        a = stack.enter_context(httpx.Client(base_url=url_a, headers=headers, timeout=30))
        b = stack.enter_context(httpx.Client(base_url=url_b, headers=headers, timeout=30))
        yield a, b, cfg.database_url


def chat(client: httpx.Client, messages: list[dict[str, str]]) -> tuple[str, dict[str, Any]]:
    response = client.post("/v1/chat/completions", json={"model": PERSONA, "messages": messages})
    assert response.status_code == 200, response.text
    body = response.json()
    return body["choices"][0]["message"]["content"], body["personae"]


def test_workers_continue_swipe_and_show_each_others_turns(tmp_path: Path) -> None:
    with two_workers(tmp_path) as (a, b, db):
        messages: list[dict[str, str]] = []
        sessions, turns = set(), []
        for t, client in enumerate([a, b, a, b, a]):  # a stateless client whose requests land on either worker
            messages.append({"role": "user", "content": f"Message {t}"})
            reply, ext = chat(client, messages)
            messages.append({"role": "assistant", "content": reply})
            sessions.add(ext["session_id"])
            turns.append((ext["turn"], ext["swipe"]))
        assert turns == [(i, False) for i in range(5)]  # never a 409, never a new session: each read the other's turn
        [sid] = sessions
        # A resend of the last message on the other worker is a swipe of the stored turn, not a sixth turn.
        swiped, ext = chat(b, messages[:-1])
        assert (ext["session_id"], ext["turn"], ext["swipe"]) == (sid, 4, True)
        # Both workers show the session as stored, swipe included, though A held it in memory before B's swipe.
        view_a, view_b = a.get(f"/v1/sessions/{sid}").json(), b.get(f"/v1/sessions/{sid}").json()
        assert view_a == view_b
        last = view_a["turns"][-1]
        assert next(c["text"] for c in last["candidates"] if c["index"] == last["chosen_index"]) == swiped
        # The REST turn and swipe routes work across workers the same way.
        assert "event: turn" in a.post(f"/v1/sessions/{sid}/messages", json={"content": "On A"}).text
        assert b.post(f"/v1/sessions/{sid}/swipe").json()["index"] == 5
        assert a.get(f"/v1/sessions/{sid}").json()["turns"][5] == b.get(f"/v1/sessions/{sid}").json()["turns"][5]
    stored = SessionStore(db).load(sid)
    assert [t.user_text for t in stored.turns] == [f"Message {i}" for i in range(5)] + ["On A"]
    assert stored.version == 5 + 1 + 1 + 1  # five turns, the resend's new candidates, a REST turn, a swipe


def test_uploads_and_deletions_on_one_worker_are_seen_by_the_other(tmp_path: Path) -> None:
    with two_workers(tmp_path) as (a, b, _db):
        before = [m["id"] for m in b.get("/v1/models").json()["data"]]  # B now caches the key's (empty) uploads
        assert "sam" not in before
        upload = a.post(
            "/v1/personas", params={"filename": "sam.yaml"}, content=b"name: Sam\nstatements: [Sam keeps bees.]\n"
        )
        assert upload.status_code == 201, upload.text
        assert "sam" in [m["id"] for m in b.get("/v1/models").json()["data"]]
        replaced = b"name: Sam\nstatements: [Sam keeps wasps.]\n"
        assert b.post("/v1/personas", params={"filename": "sam.yaml"}, content=replaced).status_code == 201
        assert a.get("/v1/personas/sam").json()["statements"] == ["Sam keeps wasps."]
        assert b.delete("/v1/personas/sam").status_code == 204
        assert a.get("/v1/personas/sam").status_code == 404
        # A session deleted on one worker is gone on the other, which held it in memory.
        sid = a.post("/v1/sessions", json={"persona": PERSONA}).json()["id"]
        assert b.get(f"/v1/sessions/{sid}").status_code == 200
        assert a.delete(f"/v1/sessions/{sid}").status_code == 204
        assert b.get(f"/v1/sessions/{sid}").status_code == 404


def stores(cfg: ServerConfig) -> tuple[SessionStore, AccessStore, NewKey]:
    """The server's database opened directly, and a new key in it."""
    assert cfg.database_url is not None
    store = SessionStore(cfg.database_url)
    access = AccessStore(store)
    return store, access, access.create_key("k")


def test_only_a_sole_server_marks_running_evals_interrupted_when_it_starts(tmp_path: Path) -> None:
    worker = config(tmp_path, workers=2)
    store, access, key = stores(worker)
    access.add_eval("run1", key.key.id, "spec", str(tmp_path / "run1"), 3)
    create_app(worker)  # a worker starting beside a running one: its run stays running
    eval_run = access.eval_run("run1")
    assert eval_run is not None
    assert eval_run.status == "running"
    create_app(config(tmp_path, workers=1))
    eval_run = access.eval_run("run1")
    assert eval_run is not None
    assert eval_run.status == "interrupted"
    store.close()


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="tells a process's start from Linux /proc")
def test_a_run_whose_worker_died_is_shown_interrupted_by_the_other_workers(tmp_path: Path) -> None:
    cfg = config(tmp_path, workers=2)
    store, access, new = stores(cfg)
    headers = {"Authorization": f"Bearer {new.secret}"}
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])  # stands in for a worker
    try:
        access.add_eval("theirs", new.key.id, "spec", str(tmp_path / "theirs"), 3, runner=process_tag(worker.pid))
        access.add_eval("remote", new.key.id, "spec", str(tmp_path / "remote"), 3, runner="another-host:1:1")
        with running(create_app(cfg)) as url, httpx.Client(base_url=url, headers=headers) as client:
            assert client.get("/v1/evals/theirs").json()["status"] == "running"  # its worker is alive
            worker.kill()
            worker.wait()
            gone = client.get("/v1/evals/theirs").json()
            assert (gone["status"], gone["error"]) == ("interrupted", "the server process running it stopped")
            listed = {run["id"]: run["status"] for run in client.get("/v1/evals").json()}
            assert listed == {"theirs": "interrupted", "remote": "running"}  # another host's process: unknowable
    finally:
        worker.kill()
        worker.wait()
        store.close()


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads worker processes from Linux /proc")
def test_personae_serve_with_two_workers_keeps_concurrent_conversations_intact(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    secret = CliRunner().invoke(cli_app, ["keys", "create", "--db", url]).stdout.strip()
    store = SessionStore(url)
    access = AccessStore(store)
    [key] = [k for k in [access.find_key(secret)] if k is not None]
    access.add_eval("left", key.id, "spec", str(tmp_path / "left"), 3)  # left running by a server that stopped
    args = ["--db", url, "--workers", "2", "--backend", "mock/echo", "--scoring", "fake", "-n", "2"]
    with serving([*args, "--personas", str(EXAMPLES), "--log-level", "warning"], timeout=90) as (base, proc):
        headers = {"Authorization": f"Bearer {secret}"}
        assert len(_children(proc.pid)) >= 2  # the two workers (uvicorn may add a helper process)
        left = access.eval_run("left")
        assert left is not None
        assert left.status == "interrupted"  # marked once, by `personae serve` itself before its workers start

        seen: dict[int, list[tuple[str, str, str]]] = {}
        errors: list[str] = []

        def converse(number: int) -> None:
            messages: list[dict[str, str]] = []
            try:
                for t in range(4):  # each request on a new connection: any worker may take it
                    messages.append({"role": "user", "content": f"Client {number} turn {t}"})
                    body = {"model": PERSONA, "messages": messages}
                    response = httpx.post(f"{base}/v1/chat/completions", json=body, headers=headers, timeout=60)
                    if response.status_code != 200:
                        errors.append(f"client {number} turn {t}: {response.status_code} {response.text}")
                        return
                    data = response.json()
                    reply = data["choices"][0]["message"]["content"]
                    seen.setdefault(number, []).append((data["personae"]["session_id"], messages[-1]["content"], reply))
                    messages.append({"role": "assistant", "content": reply})
            except httpx.HTTPError as exc:
                errors.append(f"client {number}: {exc!r}")

        threads = [threading.Thread(target=converse, args=(i,)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        for number, exchanges in seen.items():
            [sid] = {s for s, _u, _r in exchanges}
            stored = store.load(sid).turns
            assert [(t.user_text, t.reply) for t in stored] == [(u, r) for _s, u, r in exchanges], number
        assert len(seen) == 12
    store.close()
