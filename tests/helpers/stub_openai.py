"""A real HTTP server on 127.0.0.1 that speaks enough of the OpenAI chat-completions API for tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class StubState:
    """What the stub does and what it saw."""

    fail_statuses: list[int] = field(default_factory=list)
    """Statuses to answer with, one per request, before answering normally."""
    fail_replies: list[tuple[int, Any]] = field(default_factory=list)
    """Error responses, (status, JSON body or raw bytes), one per request before `fail_statuses` and normal answers:
    the error bodies real servers give (OpenAI's, vLLM's, FastAPI's 422, a proxy's HTML page)."""
    garbage_bodies: int = 0
    """Requests to answer with status 200 and a body that is not JSON, before answering normally."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    """Bodies of every request received (failed ones included)."""
    headers: list[dict[str, str]] = field(default_factory=list)
    """Headers of every request received."""
    targets: list[str] = field(default_factory=list)
    """The request target of every request: a path, or an absolute URL when the stub is used as a proxy."""
    lock: threading.Lock = field(default_factory=threading.Lock)


def _reply_text(body: dict[str, Any], index: int) -> str:
    last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
    return f"stub reply {index} to: {last}"


def _choice(body: dict[str, Any], index: int) -> dict[str, Any]:
    """What a real server answers for the fields a pass-through request carries.

    With `tools` (or `functions`) and no tool result yet: a call of the first tool. After a tool result: text
    naming it. With a JSON `response_format`: an object (every string property of a `json_schema`, else `reply`).
    With `logprobs`: a log-probability per word, with `top_logprobs` alternatives.
    """
    text = _reply_text(body, index)
    last = body["messages"][-1]
    message: dict[str, Any] = {"role": "assistant", "content": text}
    finish = "stop"
    answered = last["role"] in ("tool", "function")
    if answered:
        message["content"] = f"stub reply {index} after {last['role']} result: {last['content']}"
    elif body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        call = {"id": f"call_{index}", "type": "function", "function": {"name": name, "arguments": '{"city": "Oslo"}'}}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        finish = "tool_calls"
    elif body.get("functions"):
        call = {"name": body["functions"][0]["name"], "arguments": '{"city": "Oslo"}'}
        message = {"role": "assistant", "content": None, "function_call": call}
        finish = "function_call"
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        schema = response_format["json_schema"].get("schema", {})
        props = [k for k, v in schema.get("properties", {}).items() if v.get("type") == "string"]
        message["content"] = json.dumps({k: text for k in props})
    elif response_format.get("type") == "json_object":
        message["content"] = json.dumps({"reply": text})
    choice: dict[str, Any] = {"index": index, "message": message, "finish_reason": finish}
    if body.get("logprobs"):
        top = int(body.get("top_logprobs") or 0)
        words = str(message["content"] or "").split(" ")
        choice["logprobs"] = {
            "content": [
                {
                    "token": w,
                    "logprob": -0.5 * (k + 1),
                    "bytes": list(w.encode()),
                    "top_logprobs": [
                        {"token": f"{w}~{j}", "logprob": -0.5 * (k + 1) - j, "bytes": None} for j in range(top)
                    ],
                }
                for k, w in enumerate(words)
            ],
            "refusal": None,
        }
    return choice


def _make_handler(state: StubState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
            pass

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._raw(status, json.dumps(payload).encode())

        def _raw(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            with state.lock:
                state.requests.append(body)
                state.headers.append({k.lower(): v for k, v in self.headers.items()})
                state.targets.append(self.path)
                failure = state.fail_replies.pop(0) if state.fail_replies else None
                status = state.fail_statuses.pop(0) if state.fail_statuses and failure is None else 200
                garbage = failure is None and status == 200 and state.garbage_bodies > 0
                state.garbage_bodies -= garbage
            if urlsplit(self.path).path != "/v1/chat/completions":  # absolute-form when acting as a proxy
                self._json(404, {"error": {"message": "not found"}})
                return
            if failure is not None:
                self._raw(failure[0], failure[1] if isinstance(failure[1], bytes) else json.dumps(failure[1]).encode())
                return
            if status != 200:
                self._json(status, {"error": {"message": f"stub failure {status}", "type": "server_error"}})
                return
            if garbage:
                data = b"<html>upstream proxy says hello</html>"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            n = int(body.get("n", 1))
            texts = [_reply_text(body, i) for i in range(n)]
            if body.get("stream"):
                self._stream(body, texts[0])
                return
            if any(body.get(f) for f in ("tools", "functions", "response_format", "logprobs")):
                choices = [_choice(body, i) for i in range(n)]
                usage = {"prompt_tokens": 13, "completion_tokens": 5 * n, "total_tokens": 13 + 5 * n}
                reply = {"id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": body["model"]}
                self._json(200, {**reply, "choices": choices, "usage": usage})
                return
            self._json(
                200,
                {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
                        for i, t in enumerate(texts)
                    ],
                    "usage": {"prompt_tokens": 11, "completion_tokens": 7 * n, "total_tokens": 11 + 7 * n},
                },
            )

        def _stream(self, body: dict[str, Any], text: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            words = text.split(" ")
            for i, word in enumerate(words):
                chunk = {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {"index": 0, "delta": {"content": word if i == 0 else " " + word}, "finish_reason": None}
                    ],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            final = {
                "id": "chatcmpl-stub",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 11, "completion_tokens": len(words), "total_tokens": 11 + len(words)},
            }
            self.wfile.write(f"data: {json.dumps(final)}\n\ndata: [DONE]\n\n".encode())
            self.wfile.flush()

    return Handler


@contextmanager
def stub_openai_server(state: StubState | None = None) -> Iterator[tuple[str, StubState]]:
    """Serve the stub on a free loopback port; yields (base_url, state)."""
    state = state or StubState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        server.shutdown()
        server.server_close()
