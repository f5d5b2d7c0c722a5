"""A real uvicorn server on a free loopback port, in a thread, for tests that speak HTTP to it."""

from __future__ import annotations

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
import uvicorn
from fastapi import FastAPI

from personae.server import ServerConfig

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
