"""A real uvicorn server on a free loopback port, in a thread, for tests that speak HTTP to it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import uvicorn
from fastapi import FastAPI

from personae.server import ServerConfig
from personae.server._service import Service

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "personas"


def mock_config(tmp_path: Path, **extra: Any) -> ServerConfig:
    """A server on the mock upstream with rule-based scoring, best-of-2, a SQLite file and the example personas."""
    return ServerConfig.model_validate(
        {
            "backend": "mock/echo",
            "database_url": f"sqlite:///{tmp_path / 'server.db'}",
            "personas_dir": str(EXAMPLES),
            "scoring": "fake",
            "n": 2,
            **extra,
        }
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """Serve `app` until the block ends; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextmanager
def serving(args: list[str], timeout: float = 60) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run `personae serve --port P ARGS` as a process until the block ends; yields its base URL and the process."""
    port = free_port()
    command = [sys.executable, "-m", "personae", "serve", "--port", str(port), *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"personae serve exited: {proc.stdout.read() if proc.stdout else b''!r}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"personae serve {' '.join(args)} did not come up within {timeout} s")
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)


class Live:
    """A running server, its app (to read the upstream's own token counters) and a key."""

    def __init__(self, url: str, app: FastAPI, key: str) -> None:
        self.url = url
        self.base = f"{url}/v1"
        self.app = app
        self.key = key

    @property
    def service(self) -> Service:
        service: Service = self.app.state.service
        return service

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base, api_key=self.key, max_retries=0)

    def session(self, session_id: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.key}"}
        response = httpx.get(f"{self.url}/v1/sessions/{session_id}", headers=headers, timeout=30)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def reply_and_extension(response: httpx.Response, stream: bool) -> tuple[str, dict[str, Any]]:
    """A chat completion's text and its `personae` extension, from a plain or a streamed (SSE) answer."""
    if not stream:
        data = response.json()
        assert "error" not in data, data
        return str(data["choices"][0]["message"]["content"]), dict(data["personae"])
    text, extension = "", None
    for line in response.text.splitlines():
        if line.startswith("data: {"):
            event = json.loads(line[6:])
            assert "error" not in event, event
            text += "".join(c["delta"].get("content") or "" for c in event["choices"])
            extension = event.get("personae") or extension
    assert extension is not None, response.text
    return text, extension
