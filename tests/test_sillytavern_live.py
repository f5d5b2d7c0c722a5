"""SillyTavern's everyday flows through a real SillyTavern against a real server (opt-in: SillyTavern installed).

SillyTavern's own server (node) is started on a free port with a temporary data folder, CSRF off and nothing
downloaded, and is given the server's key as its Custom (OpenAI-compatible) API key. The test then POSTs to
SillyTavern's /api/backends/chat-completions/status and /generate what its web UI posts there (the body recorded
in fixtures/sillytavern/frontend_generate.json, with the history of this chat), so SillyTavern's server builds
and sends each upstream request itself: send, swipe, Continue, Impersonate, a send after them, and one with
strict prompt post-processing. What the server stored is checked after each.

Skipped unless SillyTavern is installed (`make sillytavern`, which CI runs) at $PERSONAE_SILLYTAVERN or
.cache/sillytavern/node_modules/sillytavern and `node` is on PATH. A SillyTavern running in Docker keeps its compiled
frontend in its own folder; elsewhere it is kept in pytest's cache (the first run compiles it, some 30 s).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.server import free_port, mock_config, reply_and_extension, running
from personae.server import create_app
from personae.store import AccessStore

FIXTURES = Path(__file__).parent / "fixtures" / "sillytavern"
INSTALL = Path(
    os.environ.get("PERSONAE_SILLYTAVERN") or Path(__file__).parents[1] / ".cache/sillytavern/node_modules/sillytavern"
)
NODE = shutil.which("node")
OFFLINE = {
    "SILLYTAVERN_ENABLEDOWNLOADABLETOKENIZERS": "false",
    "SILLYTAVERN_EXTENSIONS_AUTOUPDATE": "false",
    "SILLYTAVERN_EXTENSIONS_MODELS_AUTODOWNLOAD": "false",
    "SILLYTAVERN_ENABLESERVERPLUGINSAUTOUPDATE": "false",
    "SILLYTAVERN_SKIPCONTENTCHECK": "true",
}
"""config.yaml settings (as SillyTavern's environment overrides) that keep it from fetching anything."""
START_SECONDS = 240
"""A first start compiles SillyTavern's frontend: about 30 s on 2 idle cores, over 50 s beside other work."""


def _missing() -> str | None:
    if not (INSTALL / "server.js").is_file():
        return f"SillyTavern is not installed at {INSTALL} (make sillytavern; or set PERSONAE_SILLYTAVERN)"
    if NODE is None:
        return "node is not on PATH (SillyTavern needs Node.js 18 or later)"
    return None


pytestmark = [pytest.mark.slow, pytest.mark.skipif(_missing() is not None, reason=str(_missing()))]


def recorded(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["body"]
    return body


FRONTEND = recorded("frontend_generate")
HEAD = FRONTEND["messages"][:-1]  # main prompt, card, example chat, new-chat marker, greeting
CONTINUE = recorded("04_continue")["messages"][-1]  # SillyTavern's continue nudge
IMPERSONATE = recorded("05_impersonate")["messages"][-1]  # and its impersonation prompt


@pytest.fixture
def sillytavern(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A SillyTavern server until the test ends; yields its URL."""
    data = tmp_path / "st-data"
    data.mkdir()
    cache = getattr(request.config, "cache", None)
    if cache is not None:  # outside Docker the compiled frontend lives in the data folder: keep it between runs
        (data / "_webpack").symlink_to(cache.mkdir("sillytavern-webpack"), target_is_directory=True)
    port = free_port()
    log = (tmp_path / "sillytavern.log").open("wb")
    args = ["--port", str(port), "--listen", "false", "--disableCsrf", "true", "--browserLaunchEnabled", "false"]
    args += ["--dataRoot", str(data), "--configPath", str(tmp_path / "st-config.yaml")]
    proc = subprocess.Popen(
        [str(NODE), "server.js", *args], cwd=INSTALL, env={**os.environ, **OFFLINE}, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"SillyTavern exited: {(tmp_path / 'sillytavern.log').read_text()[-2000:]}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                output = (tmp_path / "sillytavern.log").read_text()[-2000:]
                pytest.fail(f"SillyTavern did not start in {START_SECONDS} s: {output}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class Tavern:
    """SillyTavern's web UI, as far as its server sees it: the requests the UI sends, and the chat it shows."""

    def __init__(self, url: str, upstream: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.upstream = upstream
        self.chat: list[dict[str, Any]] = []  # the messages after the greeting

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        response = self.http.post(path, json=body)
        assert response.status_code == 200, response.text
        return response

    def generate(
        self, kind: str, last: list[dict[str, Any]], stream: bool = True, post_processing: str = ""
    ) -> tuple[str, dict[str, Any]]:
        """What SillyTavern's upstream answered through it: the text and the server's `personae` extension."""
        body = {
            **FRONTEND,
            "type": kind,
            "messages": [*HEAD, *self.chat, *last],
            "stream": stream,
            "custom_url": self.upstream,
            "custom_prompt_post_processing": post_processing,
        }
        response = self.post("/api/backends/chat-completions/generate", body)
        return reply_and_extension(response, stream)

    def send(self, text: str, **options: Any) -> tuple[str, dict[str, Any]]:
        self.chat.append({"role": "user", "content": text})
        reply, ext = self.generate("normal", [], **options)
        self.chat.append({"role": "assistant", "content": reply})
        return reply, ext

    def swipe(self) -> tuple[str, dict[str, Any]]:
        shown = self.chat.pop()  # the reply swiped away is not in the history
        reply, ext = self.generate("swipe", [])
        self.chat.append({**shown, "content": reply})
        return reply, ext

    def continue_(self) -> tuple[str, dict[str, Any]]:
        added, ext = self.generate("continue", [CONTINUE])
        self.chat[-1]["content"] += " " + added  # SillyTavern's continue postfix, a space, then the added text
        return added, ext

    def impersonate(self) -> tuple[str, dict[str, Any]]:
        return self.generate("impersonate", [IMPERSONATE])  # the line goes to the input box, not the chat


def test_send_swipe_continue_impersonate_through_sillytavern(sillytavern: str, tmp_path: Path) -> None:
    app = create_app(mock_config(tmp_path))
    key = AccessStore(app.state.service.store).create_key("sillytavern").secret
    with running(app) as url:
        server = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        tavern = Tavern(sillytavern, f"{url}/v1")
        tavern.post("/api/secrets/write", {"key": "api_key_custom", "value": key, "label": "personae"})
        status = tavern.post(
            "/api/backends/chat-completions/status", {"chat_completion_source": "custom", "custom_url": f"{url}/v1"}
        ).json()
        assert "ada-quint" in [m["id"] for m in status["data"]]  # Connect: the model list is the persona library

        def turns(session: str) -> list[tuple[str, str, int]]:
            view = server.get(f"/v1/sessions/{session}").json()
            return [
                (t["user_text"], t["candidates"][t["position"] - 1]["text"], len(t["candidates"]))
                for t in view["turns"]
            ]

        first, ext = tavern.send("Hello, Ada.")
        session = ext["session_id"]
        assert server.get(f"/v1/sessions/{session}").json()["user_name"] == "Alice"
        assert turns(session) == [("Hello, Ada.", first, 2)]

        reply, ext = tavern.send("Do you have a dog?")
        assert (ext["session_id"], ext["swipe"]) == (session, False)

        swiped, ext = tavern.swipe()
        assert (ext["session_id"], ext["swipe"]) == (session, True)
        assert swiped != reply
        assert turns(session)[1] == ("Do you have a dog?", swiped, 4)

        added, ext = tavern.continue_()
        assert (ext["session_id"], ext["continued"]) == (session, True)
        assert added.strip()
        assert turns(session) == [("Hello, Ada.", first, 2), ("Do you have a dog?", swiped + added, 5)]

        line, ext = tavern.impersonate()
        assert ext == {"session_id": session, "impersonation": True}
        assert line.strip()
        assert len(turns(session)) == 2  # never stored as the character's turn

        _, ext = tavern.send("Tell me about Skerry.")  # after the continued reply, as SillyTavern shows it
        assert ext["session_id"] == session
        _, ext = tavern.send("And Morag?", stream=False, post_processing="strict")  # SillyTavern merges the prompt
        assert ext["session_id"] == session
        assert [t[0] for t in turns(session)] == [
            "Hello, Ada.",
            "Do you have a dog?",
            "Tell me about Skerry.",
            "And Morag?",
        ]
        assert turns(session)[1][2] == 5  # the continued turn kept its swipes
        assert [s["id"] for s in server.get("/v1/sessions").json()] == [session]
