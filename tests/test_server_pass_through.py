"""`pass_through`: tools, JSON output and logprobs forwarded to an OpenAI-compatible upstream (a stub on loopback)
with the persona's prompt, seen through the official `openai` SDK and langchain against a real server."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI
from rich.console import Console

from helpers.server import Live, mock_config, running
from helpers.stub_openai import StubState, stub_openai_server
from personae.cli._render import render_explanation
from personae.server import create_app
from personae.session import Explanation
from personae.store import AccessStore

MODEL = "ada-quint"
PERSONA = "Ada Quint"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}

TOOLS: Any = [WEATHER]
"""`tools` as the SDK's typed parameter takes them (a plain dict is no `ChatCompletionFunctionToolParam` to mypy)."""


class Passing(Live):
    """A server whose upstream is the stub, its key, and what the stub saw."""

    def __init__(self, url: str, app: FastAPI, key: str, stub: StubState) -> None:
        super().__init__(url, app, key)
        self.stub = stub


@contextmanager
def through_stub(tmp_path: Path, pass_through: list[str], path: str = "") -> Iterator[Passing]:
    """A server passing `pass_through` to the stub upstream (`path` added to its base URL), with a key of its own."""
    with stub_openai_server() as (upstream, stub):
        config = mock_config(
            tmp_path,
            backend="openai/stub-model",
            base_url=upstream + path,
            backend_options={"api_key": "upstream-secret"},
            pass_through=pass_through,
        )
        app = create_app(config)
        key = AccessStore(app.state.service.store).create_key("pass").secret
        with running(app) as url:
            yield Passing(url, app, key, stub)


@pytest.fixture
def passing(tmp_path: Path) -> Iterator[Passing]:
    with through_stub(tmp_path, ["tools", "response_format", "logprobs"]) as server:
        yield server


def _persona_prompt(request: dict[str, Any]) -> str:
    first = request["messages"][0]
    assert first["role"] == "system"
    return str(first["content"])


def test_a_tool_call_comes_back_from_the_upstream_and_its_result_completes_the_same_turn(passing: Passing) -> None:
    client = passing.client()
    ask = {"role": "user", "content": "What is the weather in Oslo?"}
    called = client.chat.completions.create(
        model=MODEL,
        messages=[ask],
        tools=[WEATHER],
        tool_choice="auto",
        parallel_tool_calls=False,  # type: ignore[list-item]
    )
    choice = called.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Oslo"}  # type: ignore[union-attr]
    sent = passing.stub.requests[-1]
    assert len(passing.stub.requests) == 1  # one upstream request: no guard, no candidates
    assert sent["tools"] == [WEATHER]
    assert (sent["tool_choice"], sent["parallel_tool_calls"]) == ("auto", False)
    assert PERSONA in _persona_prompt(sent)  # the persona still speaks
    assert sent["messages"][-1] == {"role": "user", "content": ask["content"]}
    assert passing.stub.headers[-1]["authorization"] == "Bearer upstream-secret"  # the server's upstream key only
    assert passing.key not in json.dumps(sent)
    first = (called.model_extra or {})["personae"]
    assert first["pass_through"] == ["parallel_tool_calls", "tool_choice", "tools"]
    assert (first["turn"], first["swipe"], first["apc_normalized"]) == (0, False, None)

    history: list[Any] = [
        ask,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "Sleet, 2 degrees."},
    ]
    answered = client.chat.completions.create(model=MODEL, messages=history, tools=[WEATHER])  # type: ignore[list-item]
    text = answered.choices[0].message.content
    assert text == "stub reply 0 after tool result: Sleet, 2 degrees."
    assert answered.choices[0].finish_reason == "stop"
    sent = passing.stub.requests[-1]
    assert PERSONA in _persona_prompt(sent)
    assert sent["messages"][-3]["content"] == ask["content"]
    assert sent["messages"][-2]["tool_calls"] == [call.model_dump()]
    assert sent["messages"][-1] == {"role": "tool", "content": "Sleet, 2 degrees.", "tool_call_id": call.id}
    second = (answered.model_extra or {})["personae"]
    assert second["session_id"] == first["session_id"]
    assert (second["turn"], second["swipe"]) == (0, True)  # the tool result answers the same message

    [turn] = passing.session(first["session_id"])["turns"]
    assert [c["text"] for c in turn["candidates"]] == [text, ""]  # ranked: the bare tool call is empty
    assert turn["chosen_index"] == 1

    follow = client.chat.completions.create(  # back to role-play: guarded, and in the same session
        model=MODEL, messages=[*history, {"role": "assistant", "content": text}, {"role": "user", "content": "Brr."}]
    )
    extension = (follow.model_extra or {})["personae"]
    assert (extension["session_id"], extension["turn"], extension["swipe"]) == (first["session_id"], 1, False)
    assert "pass_through" not in extension
    assert "tools" not in passing.stub.requests[-1]


def test_json_output_and_logprobs_come_back_as_the_upstream_gave_them(passing: Passing) -> None:
    client = passing.client()
    before = len(passing.stub.requests)
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Your name, as JSON"}],
        response_format={"type": "json_object"},
        logprobs=True,
        top_logprobs=2,
        n=2,
        max_tokens=50,
    )
    assert len(passing.stub.requests) == before + 1
    sent = passing.stub.requests[-1]
    assert (sent["response_format"], sent["logprobs"], sent["top_logprobs"], sent["n"]) == (
        {"type": "json_object"},
        True,
        2,
        2,
    )
    assert sent["max_tokens"] == 50
    assert PERSONA in _persona_prompt(sent)
    assert [c.index for c in reply.choices] == [0, 1]
    assert json.loads(reply.choices[0].message.content or "") == {"reply": "stub reply 0 to: Your name, as JSON"}
    logprobs = reply.choices[1].logprobs
    assert logprobs is not None
    assert logprobs.content is not None
    assert logprobs.content[0].token == '{"reply":'
    assert [t.token for t in logprobs.content[0].top_logprobs] == ['{"reply":~0', '{"reply":~1']
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (13, 10)  # what the upstream reported

    with pytest.raises(openai.BadRequestError) as refused:  # no guard, but still no Continue
        client.chat.completions.create(
            model=MODEL,
            messages=[
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello."},
                {"role": "system", "content": "[Continue your last message without repeating it.]"},
            ],
            response_format={"type": "json_object"},
        )
    assert refused.value.param == "response_format"


def test_the_guard_record_of_a_pass_through_turn_says_the_guard_was_skipped_and_why(passing: Passing) -> None:
    client = passing.client()
    ask: list[Any] = [{"role": "user", "content": "Your name, as JSON"}]
    reply = client.chat.completions.create(
        model=MODEL,
        messages=ask,
        response_format={"type": "json_object"},
        logprobs=True,
    )
    record = (reply.model_extra or {})["personae"]
    assert record["guard"] == "skipped"  # not the session's "best-of-n": no candidates were scored or ranked
    assert record["guard_skipped"] == (
        "logprobs, response_format passed through: the upstream's reply as given, not scored or chosen"
    )
    assert (record["ooc"], record["apc_normalized"], record["candidates"]) == (None, None, 1)
    assert passing.session(record["session_id"])["guard"] == "best-of-n"  # the session's policy is unchanged

    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Weather?"}], tools=TOOLS, stream=True
    )
    [streamed] = [(c.model_extra or {})["personae"] for c in stream if (c.model_extra or {}).get("personae")]
    assert (streamed["guard"], streamed["ooc"]) == ("skipped", None)
    assert streamed["guard_skipped"].startswith("tools passed through: ")

    guarded = client.chat.completions.create(  # the same session, back to role-play: guarded again
        model=MODEL,
        messages=[
            *ask,
            {"role": "assistant", "content": reply.choices[0].message.content},
            {"role": "user", "content": "Hi"},
        ],
    )
    after = (guarded.model_extra or {})["personae"]
    assert (after["session_id"], after["turn"]) == (record["session_id"], 1)
    assert (after["guard"], after["ooc"], after["candidates"]) == ("best-of-n", False, 2)
    assert "guard_skipped" not in after


def test_the_stored_turn_records_that_the_guard_was_skipped_for_why_the_ui_and_exports(passing: Passing) -> None:
    client = passing.client()
    ask: list[Any] = [{"role": "user", "content": "Your name, as JSON"}]
    reply = client.chat.completions.create(model=MODEL, messages=ask, response_format={"type": "json_object"}, n=2)
    sid = (reply.model_extra or {})["personae"]["session_id"]
    reason = "response_format passed through: the upstream's reply as given, not scored or chosen"
    history = [*ask, {"role": "assistant", "content": reply.choices[0].message.content}]
    client.chat.completions.create(model=MODEL, messages=[*history, {"role": "user", "content": "Hi"}])  # guarded

    passing.service._drop(sid)  # what the server shows next comes from the database, not from memory
    passed, guarded = passing.session(sid)["turns"]  # the session view: what the web UI draws
    assert [c["guard_skipped"] for c in passed["candidates"]] == [reason, reason]
    assert [c["guard_skipped"] for c in guarded["candidates"]] == [None, None]

    record = passing.service.store.load(sid)  # the stored record, as exports (`personae export-pairs`) read it
    assert [c.guard_skipped for c in record.turns[0].candidates] == [reason, reason]
    assert [c.guard_skipped for c in record.turns[1].candidates] == [None, None]

    headers = {"Authorization": f"Bearer {passing.key}"}
    why = httpx.get(f"{passing.url}/v1/sessions/{sid}/why", headers=headers, timeout=30).json()
    assert why["guard_skipped"] is None  # the last turn was guarded
    swiped = client.chat.completions.create(  # the tool loop's answer to a resent message: a pass-through swipe
        model=MODEL, messages=[*history, {"role": "user", "content": "Hi"}], logprobs=True
    )
    assert (swiped.model_extra or {})["personae"]["swipe"] is True
    passing.service._drop(sid)
    why = httpx.get(f"{passing.url}/v1/sessions/{sid}/why", headers=headers, timeout=30).json()
    assert why["guard_skipped"] == "logprobs passed through: the upstream's reply as given, not scored or chosen"
    assert (why["apc_normalized"], why["supported"], why["violated"]) == (None, [], [])
    console = Console(record=True, width=200)
    render_explanation(Explanation.model_validate(why), console)  # `personae chat`'s /why of the same record
    assert "not scored: the guard was skipped (logprobs passed through:" in console.export_text()
    assert [c["guard_skipped"] is None for c in passing.session(sid)["turns"][1]["candidates"]] == [
        True,
        True,
        False,
    ]


def test_a_streamed_pass_through_reply_arrives_whole_with_its_tool_calls(passing: Passing) -> None:
    stream = passing.client().chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[WEATHER],  # type: ignore[list-item]
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    calls = [call for c in chunks if c.choices for call in c.choices[0].delta.tool_calls or []]
    assert [(c.index, c.id, c.function.name if c.function else None) for c in calls] == [(0, "call_0", "get_weather")]
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == 13
    assert len({c.id for c in chunks}) == 1
    assert any((c.model_extra or {}).get("personae", {}).get("pass_through") == ["tools"] for c in chunks)


def _upstream(server: Passing) -> str:
    """The upstream's base URL, as the server's config holds it."""
    return str(server.app.state.service.config.base_url)


REFUSALS = [  # (what the upstream answers, the error class, status, type and param the client gets)
    (
        400,
        {
            "error": {
                "message": "Invalid schema for response_format 'Answer': In context=(), 'required' is required.",
                "type": "invalid_request_error",
                "param": "response_format",
                "code": "invalid_json_schema",
            }
        },
        openai.BadRequestError,
        400,
        "invalid_request_error",
        "response_format",
    ),
    (  # vLLM's request validation (FastAPI): 422 where this server, as OpenAI, answers 400
        422,
        {"detail": [{"loc": ["body", "tools", 0, "type"], "msg": "Input should be 'function'", "type": "literal"}]},
        openai.BadRequestError,
        400,
        "invalid_request_error",
        None,
    ),
]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("upstream_status", "body", "error", "status", "type_", "param"), REFUSALS)
def test_an_upstream_refusal_of_a_passed_request_is_the_clients_error_not_a_502(
    passing: Passing,
    stream: bool,
    upstream_status: int,
    body: dict[str, Any],
    error: type[openai.APIStatusError],
    status: int,
    type_: str,
    param: str | None,
) -> None:
    upstream = _upstream(passing)
    said = body.get("error", {}).get("message") or "tools.0.type: Input should be 'function'"
    if "error" in body:  # an upstream that names itself and its key in its message: the client sees neither
        body = {"error": {**body["error"], "message": f"{said} ({upstream}/chat/completions, key upstream-secret)"}}
    passing.stub.fail_replies.append((upstream_status, body))
    with pytest.raises(error) as refused:
        passing.client().chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Your name, as JSON"}],
            response_format={"type": "json_object"},
            tools=TOOLS,
            stream=stream,  # the error comes as an error status before the stream starts, as without streaming
        )
    assert len(passing.stub.requests) == 1  # a refusal is final: not retried
    failure = refused.value
    assert (failure.status_code, failure.type, failure.code, failure.param) == (
        status,
        type_,
        "upstream_rejected",
        param,
    )
    code = body.get("error", {}).get("code")
    message = f"upstream model rejected the request (HTTP {upstream_status}{f', code {code}' if code else ''}): {said}"
    if "error" in body:
        message += " (<upstream>, key <key>)"
    assert isinstance(failure.body, dict)
    assert failure.body["message"] == message
    assert message in failure.message  # the SDK's message: "Error code: 400 - " and the server's
    assert not [s for s in (upstream, upstream.split("//")[1].split("/")[0], "upstream-secret") if s in str(failure)]

    reply = passing.client().chat.completions.create(  # the same request again, once the upstream takes it
        model=MODEL,
        messages=[{"role": "user", "content": "Your name, as JSON"}],
        response_format={"type": "json_object"},
    )
    assert json.loads(reply.choices[0].message.content or "") == {"reply": "stub reply 0 to: Your name, as JSON"}
    assert (reply.model_extra or {})["personae"]["turn"] == 0  # the refused request stored no turn


def _settings_fault(status: int) -> str:
    """What a client is told of an upstream refusal about the server's own settings (its key, account, ...)."""
    return (
        f"upstream model: the server's upstream refused its request (HTTP {status}), a fault in the server's own "
        "settings rather than in this request; the server's log has the details"
    )


@pytest.mark.parametrize(
    ("upstream_status", "tools"),
    # 404: the upstream's model (`--backend openai/<model>`) or `--base-url` path, no field of the client's
    [(401, TOOLS), (403, TOOLS), (404, TOOLS), (500, TOOLS), (400, None)],  # 400 of a guarded request: nothing passed
)
def test_the_upstreams_own_key_or_failure_stays_a_502(passing: Passing, upstream_status: int, tools: Any) -> None:
    backend = passing.app.state.service.backend
    backend.settings = backend.settings.model_copy(update={"max_retries": 0})  # a 500 is final at once
    upstream = _upstream(passing)
    said = f"Incorrect API key provided: upstream-secret at {upstream}"
    passing.stub.fail_replies.append((upstream_status, {"error": {"message": said, "code": "invalid_api_key"}}))
    extra = {"tools": tools} if tools else {}
    with pytest.raises(openai.InternalServerError) as failed:
        passing.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], **extra)
    assert (failed.value.status_code, failed.value.code, failed.value.type) == (502, "upstream_error", "server_error")
    if upstream_status in (401, 403, 404):  # the server's own settings: the client learns the status, nothing more
        assert isinstance(failed.value.body, dict)
        assert failed.value.body["message"] == _settings_fault(upstream_status)
    else:
        assert f"HTTP {upstream_status}: Incorrect API key provided: <key> at <upstream>" in failed.value.message
    assert "upstream-secret" not in failed.value.message
    assert upstream.split("//")[1].split("/")[0] not in failed.value.message
    assert ("tools" in passing.stub.requests[-1]) == bool(tools)


@pytest.mark.parametrize("tools", [None, TOOLS], ids=["guarded", "passed-through"])
def test_a_wrong_base_url_path_is_a_502_whether_the_request_is_guarded_or_passed_through(
    tmp_path: Path, tools: Any
) -> None:
    with through_stub(tmp_path, ["tools"], path="/wrong") as server:  # .../v1/wrong/chat/completions: 404
        extra = {"tools": tools} if tools else {}
        with pytest.raises(openai.InternalServerError) as failed:
            server.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], **extra)
        assert server.stub.targets == ["/v1/wrong/chat/completions"]  # a 404 is final: not retried
        error = {"message": _settings_fault(404), "type": "server_error", "param": None, "code": "upstream_error"}
        assert (failed.value.status_code, failed.value.body) == (502, error)


def test_an_upstream_401_tells_clients_nothing_of_the_servers_settings_and_the_log_everything(
    passing: Passing, caplog: pytest.LogCaptureFixture
) -> None:
    said = "Incorrect API key provided: upstr*****cret. You can find your API key at https://platform.openai.com."
    passing.stub.fail_replies.extend([(401, {"error": {"message": said, "code": "invalid_api_key"}})] * 3)
    error = {"message": _settings_fault(401), "type": "server_error", "param": None, "code": "upstream_error"}
    ask: list[Any] = [{"role": "user", "content": "Hi"}]
    told: list[str] = []
    with caplog.at_level(logging.WARNING, logger="personae.server"):
        for extra in ({}, {"tools": TOOLS}):  # guarded, then passed through
            with pytest.raises(openai.InternalServerError) as failed:
                passing.client().chat.completions.create(model=MODEL, messages=ask, **extra)
            assert (failed.value.status_code, failed.value.body) == (502, error)  # OpenAI's error shape
            told.append(str(failed.value))
        headers = {"Authorization": f"Bearer {passing.key}"}  # the web UI's stream: the same error, as its last event
        started = httpx.post(f"{passing.url}/v1/sessions", json={"persona": MODEL}, headers=headers, timeout=30)
        sent = f"{passing.url}/v1/sessions/{started.json()['id']}/messages"
        events = httpx.post(sent, json={"content": "Hi"}, headers=headers, timeout=30).text
        assert events == f"event: error\ndata: {json.dumps(error)}\n\n"
        told.append(events)
    assert not [t for t in told if "API_KEY" in t or "upstr*" in t or "platform.openai.com" in t]
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("upstream model failed")]
    assert len(logged) == 3
    assert all(said in m and "set PERSONAE_OPENAI_API_KEY or OPENAI_API_KEY to a valid key" in m for m in logged)


@pytest.mark.parametrize(("upstream_status", "path"), [(500, ""), (404, "/wrong")])
def test_an_upstream_failure_under_a_guarded_stream_is_an_error_status_as_without_stream(
    tmp_path: Path, upstream_status: int, path: str
) -> None:
    with through_stub(tmp_path, [], path=path) as server:
        backend = server.app.state.service.backend
        backend.settings = backend.settings.model_copy(update={"max_retries": 0})
        upstream = _upstream(server)
        if not path:  # at the wrong path, every request is a 404
            said = f"proxy {upstream} refused key upstream-secret"
            server.stub.fail_replies.append((upstream_status, {"error": {"message": said}}))
        with pytest.raises(openai.InternalServerError) as failed:  # the status line waits for the guard's reply
            server.client().chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True
            )
        message = (
            _settings_fault(404) if path else "upstream model: openai: HTTP 500: proxy <upstream> refused key <key>"
        )
        error = {"message": message, "type": "server_error", "param": None, "code": "upstream_error"}
        assert (failed.value.status_code, failed.value.body) == (502, error)
        assert len(server.stub.requests) == 1  # one sampling request for the guard's candidates, no turn stored
        assert server.service.store.list_sessions() == []  # a first turn whose reply failed leaves no session

        if path:
            return
        reply = server.client().chat.completions.create(  # then a guarded stream as usual, once the upstream is back
            model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        chunks = list(reply)
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).startswith("stub reply")
        assert (chunks[-1].model_extra or {})["personae"]["guard"] == "best-of-n"


def test_only_the_fields_the_server_passes_through_reach_the_upstream(tmp_path: Path) -> None:
    with through_stub(tmp_path, ["logprobs"]) as server:
        with pytest.raises(openai.BadRequestError) as refused:
            server.client().chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": "Hi"}],
                logprobs=True,
                tools=[WEATHER],  # type: ignore[list-item]
            )
        assert (refused.value.param, refused.value.code) == ("tools", "unsupported_parameter")
        assert "--pass-through tools" in refused.value.message
        assert server.stub.requests == []
        reply = server.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Hi"}], logprobs=True
        )
        assert reply.choices[0].logprobs is not None
        assert "tools" not in server.stub.requests[-1]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"tools": [WEATHER]}, "tools"),
        ({"extra_body": {"functions": [{"name": "f", "parameters": {}}]}}, "functions"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
    ],
)
def test_a_mock_upstream_cannot_take_what_is_passed_through(tmp_path: Path, extra: dict[str, Any], field: str) -> None:
    app = create_app(mock_config(tmp_path, pass_through=["tools", "response_format", "logprobs"]))
    key = AccessStore(app.state.service.store).create_key("pass").secret
    with running(app) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], **extra)
        assert (refused.value.param, refused.value.code) == (field, "unsupported_parameter")
        assert "upstream mock/echo cannot take it" in refused.value.message
        plain = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}])
        assert (plain.choices[0].message.content or "").startswith("You said: Hi")


def test_langchain_structured_output_and_tool_calls_through_the_pass_through(passing: Passing) -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    pydantic = pytest.importorskip("pydantic")
    chat = langchain_openai.ChatOpenAI(model=MODEL, base_url=f"{passing.url}/v1", api_key=passing.key, max_retries=0)

    class Answer(pydantic.BaseModel):  # type: ignore[name-defined,misc]
        text: str

    answer = chat.with_structured_output(Answer).invoke("Answer in JSON")
    assert answer == Answer(text="stub reply 0 to: Answer in JSON")
    assert passing.stub.requests[-1]["response_format"]["type"] == "json_schema"

    message = chat.bind_tools([WEATHER]).invoke("Weather in Oslo?")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("get_weather", {"city": "Oslo"})]


def test_personae_serve_takes_pass_through_fields_repeated_or_comma_separated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from personae.cli import app as cli
    from personae.server import CONFIG_ENV

    monkeypatch.setattr(uvicorn, "run", lambda *_args, **_kwargs: None)
    monkeypatch.setattr(os, "umask", lambda mask: mask)  # `serve` makes its files private: not this process's
    monkeypatch.setenv(CONFIG_ENV, "")  # restored when the test ends: `serve` sets it
    args = ["serve", "--backend", "mock/echo", "--scoring", "off", "--db", f"sqlite:///{tmp_path / 'cli.db'}"]
    result = CliRunner().invoke(cli, [*args, "--pass-through", "tools,logprobs", "--pass-through", "response_format"])
    assert result.exit_code == 0, result.output
    assert json.loads(os.environ[CONFIG_ENV])["pass_through"] == ["tools", "logprobs", "response_format"]
    assert "passing tools, logprobs, response_format through" in result.stderr
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert json.loads(os.environ[CONFIG_ENV])["pass_through"] == []

    bad = CliRunner().invoke(cli, [*args, "--pass-through", "tools,stream"])
    assert bad.exit_code == 2
    assert "--pass-through: 'stream' is not one of tools, response_format, logprobs" in bad.stderr
