"""The openai provider against a real HTTP server on 127.0.0.1 (no network beyond loopback)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from helpers.stub_openai import StubState, stub_openai_server
from personae.backends import (
    BackendError,
    BackendSettings,
    GenerateConfig,
    Message,
    ModelEvent,
    RejectedRequestError,
    RetryableBackendError,
    get_backend,
)
from personae.backends._providers import openai as openai_provider
from personae.backends._providers.openai import env_proxy

FAST = BackendSettings(retry_base_delay=0.01, retry_max_delay=0.05)
HELLO = [Message(role="system", content="You are Ada."), Message(role="user", content="Hello")]


@pytest.fixture(params=["aiohttp", "sdk"])
def transport(request: pytest.FixtureRequest) -> str:
    """Every test runs over both transports: the pooled aiohttp session (default) and the official SDK."""
    return str(request.param)


async def test_generate_with_n_candidates_and_usage(transport: str) -> None:
    with stub_openai_server() as (url, state):
        backend = get_backend("openai/stub-model", base_url=url, settings=FAST, cache=None, transport=transport)
        out = await backend.generate(HELLO, GenerateConfig(n=3, seed=4, max_tokens=20, stop=("\n",)))
        assert out.texts == [f"stub reply {i} to: Hello" for i in range(3)]
        assert out.usage.prompt_tokens == 11
        assert out.usage.completion_tokens == 21
        body = state.requests[0]
        assert body["model"] == "stub-model"
        assert body["n"] == 3
        assert body["seed"] == 4
        assert body["stop"] == ["\n"]
        assert body["max_tokens"] == 20
        assert body["messages"][0] == {"role": "system", "content": "You are Ada."}
        await backend.aclose()


async def test_pass_through_fields_go_upstream_and_the_choices_come_back_as_given(transport: str) -> None:
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    with stub_openai_server() as (url, state):
        backend = get_backend("openai/stub-model", base_url=url, settings=FAST, cache=None, transport=transport)
        config = GenerateConfig(n=2, pass_through={"tools": [tool], "tool_choice": "auto", "logprobs": True})
        out = await backend.generate(HELLO, config)
        assert state.requests[0]["tools"] == [tool]
        assert (state.requests[0]["tool_choice"], state.requests[0]["logprobs"]) == ("auto", True)
        assert [c.finish_reason for c in out.choices] == ["tool_calls", "tool_calls"]
        first = out.choices[0]
        assert first.text == ""
        assert first.fields["content"] is None
        assert first.fields["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Oslo"}'}
        assert first.logprobs is not None
        assert first.logprobs["content"][0]["token"] == ""

        call = Message(role="assistant", content="", fields={"content": None, "tool_calls": first.fields["tool_calls"]})
        result = Message(role="tool", content="Sleet", fields={"tool_call_id": "call_0"})
        out = await backend.generate([*HELLO, call, result], GenerateConfig(pass_through={"tools": [tool]}))
        assert out.text == "stub reply 0 after tool result: Sleet"
        assert state.requests[1]["messages"][2:] == [
            {"role": "assistant", "content": None, "tool_calls": first.fields["tool_calls"]},
            {"role": "tool", "content": "Sleet", "tool_call_id": "call_0"},
        ]
        plain = await backend.generate(HELLO, GenerateConfig())
        assert (plain.choices[0].fields, plain.choices[0].logprobs) == ({}, None)  # only pass-through keeps them
        await backend.aclose()


async def test_a_500_is_retried_and_the_retry_succeeds(transport: str) -> None:
    with stub_openai_server(StubState(fail_statuses=[500])) as (url, state):
        backend = get_backend("openai/stub-model", base_url=url, settings=FAST, cache=None, transport=transport)
        events: list[ModelEvent] = []
        backend.subscribe(events.append)
        out = await backend.generate(HELLO)
        assert out.text == "stub reply 0 to: Hello"
        assert len(state.requests) == 2
        assert events[-1].retries == 1
        await backend.aclose()


async def test_429_then_503_then_success_and_a_400_is_final(transport: str) -> None:
    with stub_openai_server(StubState(fail_statuses=[429, 503])) as (url, state):
        backend = get_backend("openai/stub-model", base_url=url, settings=FAST, cache=None, transport=transport)
        assert (await backend.generate(HELLO)).text.startswith("stub reply")
        assert len(state.requests) == 3
        state.fail_statuses.append(400)
        with pytest.raises(BackendError, match=r"HTTP 400.*stub failure 400"):
            await backend.generate(HELLO)
        assert len(state.requests) == 4
        await backend.aclose()


SCHEMA_ERROR = {
    "error": {
        "message": "Invalid schema for response_format 'Answer': 'required' is missing 'text'.",
        "type": "invalid_request_error",
        "param": "response_format",
        "code": "invalid_json_schema",
    }
}


NONE = (None, None)


@pytest.mark.parametrize(
    ("status", "body", "reason", "param", "code"),
    [
        (400, SCHEMA_ERROR, SCHEMA_ERROR["error"]["message"], "response_format", "invalid_json_schema"),
        (400, {"object": "error", "message": "bad tools", "type": "BadRequestError", "code": 400}, "bad tools", *NONE),
        (
            422,
            {"detail": [{"loc": ["body", "tools", 0, "type"], "msg": "Input should be 'function'", "type": "literal"}]},
            "tools.0.type: Input should be 'function'",
            *NONE,
        ),
        (404, {"error": "model 'nope' not found"}, "model 'nope' not found", *NONE),
        (404, b"<html><center>nginx</center></html>", "(no error message)", *NONE),
    ],
)
async def test_a_4xx_is_a_rejected_request_with_the_upstreams_own_message(
    transport: str, status: int, body: object, reason: str, param: str | None, code: str | None
) -> None:
    with stub_openai_server(StubState(fail_replies=[(status, body)])) as (url, state):
        backend = get_backend("openai/stub-model", base_url=url, settings=FAST, cache=None, transport=transport)
        with pytest.raises(RejectedRequestError) as rejected:
            await backend.generate(HELLO, GenerateConfig(pass_through={"response_format": {"type": "json_object"}}))
        assert (rejected.value.status_code, rejected.value.reason) == (status, reason)
        assert (rejected.value.param, rejected.value.code) == (param, code)
        assert rejected.value.passed_through == ("response_format",)  # what the client of a server had sent
        assert str(rejected.value).startswith(f"openai: HTTP {status}: ")
        if isinstance(body, bytes):  # the log keeps what came back; `reason` only ever holds an error message
            assert "nginx" in str(rejected.value)
        assert len(state.requests) == 1  # final: not retried
        await backend.aclose()


async def test_429_and_5xx_are_retryable_and_a_plain_refusal_passed_nothing_through(transport: str) -> None:
    failures = [(429, {"error": {"message": "slow down"}}), (503, b"")]
    with stub_openai_server(StubState(fail_replies=failures)) as (url, state):
        settings = FAST.model_copy(update={"max_retries": 0})
        backend = get_backend("openai/stub-model", base_url=url, settings=settings, cache=None, transport=transport)
        for status, message in ((429, "slow down"), (503, "(empty body)")):
            with pytest.raises(RetryableBackendError) as failed:
                await backend.generate(HELLO)
            assert not isinstance(failed.value, RejectedRequestError)
            assert (failed.value.status_code, str(failed.value)) == (status, f"openai: HTTP {status}: {message}")
        state.fail_replies.append((400, SCHEMA_ERROR))
        with pytest.raises(RejectedRequestError) as rejected:  # a request with nothing passed through
            await backend.generate(HELLO)
        assert rejected.value.passed_through == ()
        await backend.aclose()


def test_redact_hides_the_servers_address_and_the_key() -> None:
    backend = get_backend(
        "openai/m", base_url="http://bob:pw-77@llm.internal:8000/v1", api_key="sk-secret-1", cache=None
    )
    said = (
        "POST http://bob:pw-77@llm.internal:8000/v1/chat/completions failed; host llm.internal:8000 "
        "('llm.internal', 8000) with key sk-secret-1 and password pw-77; not llm.internal.example or sk-secret-10"
    )
    assert backend.api.redact(said) == (
        "POST <upstream> failed; host <upstream> ('<upstream>', 8000) with key <key> and password <upstream>; "
        "not llm.internal.example or sk-secret-10"
    )
    local = get_backend("openai/m", base_url="http://127.0.0.1:9/v1", cache=None)
    assert local.api.redact("Cannot connect to host 127.0.0.1:9 ssl:default") == (
        "Cannot connect to host <upstream> ssl:default"
    )
    assert local.api.redact("(http://127.0.0.1:9/v1/chat/completions, key x)") == "(<upstream>, key x)"
    assert get_backend("mock/echo", cache=None).api.redact("mock/echo said no") == "mock/echo said no"


async def test_streaming_over_sse(transport: str) -> None:
    with stub_openai_server(StubState(fail_statuses=[502])) as (url, state):
        backend = get_backend("openai/stub-model", base_url=url, settings=FAST, cache=None, transport=transport)
        pieces = [p async for p in backend.stream(HELLO)]
        assert "".join(pieces) == "stub reply 0 to: Hello"
        assert len(pieces) == 5
        assert state.requests[-1]["stream"] is True
        assert backend.usage.completion_tokens == 5
        await backend.aclose()


async def test_key_and_organisation_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, transport: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-42")
    with stub_openai_server() as (url, state):
        backend = get_backend("openai/stub-model", base_url=url, cache=None, transport=transport)
        await backend.generate(HELLO)
        assert state.headers[0]["authorization"] == "Bearer sk-test-123"
        assert state.headers[0]["openai-organization"] == "org-42"
        await backend.aclose()


async def test_unreachable_server_is_retried_then_reported(transport: str) -> None:
    backend = get_backend(
        "openai/x",
        base_url="http://127.0.0.1:9/v1",
        settings=FAST.model_copy(update={"max_retries": 1}),
        cache=None,
        transport=transport,
    )
    with pytest.raises(BackendError, match="APIConnectionError"):
        await backend.generate(HELLO)
    assert backend.requests == 2
    await backend.aclose()


def test_one_backend_across_several_event_loops(transport: str) -> None:
    """`asyncio.run` per call (chat turns, `generate_sync`): each loop gets a working pool, closed with the loop."""
    with stub_openai_server() as (url, state):
        backend = get_backend("openai/stub-model", base_url=url, cache=None, transport=transport)
        for turn in range(3):
            assert backend.generate_sync([Message(role="user", content=f"turn {turn}")]).text.endswith(f"turn {turn}")
            assert not openai_provider._POOLS  # the finished loop's pool was closed and dropped with it
        assert len(state.requests) == 3
        asyncio.run(backend.aclose())


def test_backends_on_one_loop_share_one_connection_pool() -> None:
    """An eval's agent and judge (two backends, one server) reuse each other's connections; the loop closes it."""
    seen: list[aiohttp.ClientSession] = []

    async def main() -> None:
        with stub_openai_server() as (url, state):
            agent = get_backend("openai/stub-model", base_url=url, cache=None)
            judge = get_backend("openai/judge-model", base_url=url, cache=None, timeout=5.0)
            for backend in (agent, judge, agent):
                await backend.generate(HELLO)
                seen.append(await openai_provider.shared_pool())
            await agent.aclose()  # a backend closing does not close the pool under the other one
            assert (await judge.generate(HELLO)).text
            assert len(state.requests) == 4

    asyncio.run(main())
    assert len({id(s) for s in seen}) == 1
    assert seen[0].closed
    assert not openai_provider._POOLS


async def test_a_200_that_is_not_a_chat_completion_is_an_error_not_a_crash(transport: str) -> None:
    with stub_openai_server(StubState(garbage_bodies=1)) as (url, _state):
        backend = get_backend("openai/stub-model", base_url=url, settings=FAST, cache=None, transport=transport)
        with pytest.raises(BackendError, match="openai"):
            await backend.generate(HELLO)
        await backend.aclose()


def test_an_unknown_transport_is_refused() -> None:
    with pytest.raises(BackendError, match=r"option 'transport' is invalid: Input should be 'aiohttp' or 'sdk'"):
        get_backend("openai/x", base_url="http://127.0.0.1:9/v1", transport="carrier-pigeon")


async def test_requests_go_through_the_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    """HTTP_PROXY is honoured like the SDK does, though it is read once and not looked up per request."""
    with stub_openai_server() as (url, state):
        proxy = url.removesuffix("/v1")
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        upstream = "http://personae-upstream.invalid/v1"
        backend = get_backend("openai/stub-model", base_url=upstream, settings=FAST, cache=None, transport=transport)
        out = await backend.generate(HELLO)
        assert out.texts == ["stub reply 0 to: Hello"]
        assert state.targets == [f"{upstream}/chat/completions"]
        await backend.aclose()


def test_env_proxy_reads_the_scheme_all_proxy_and_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for scheme in ("http", "https", "all", "no"):
        monkeypatch.delenv(f"{scheme.upper()}_PROXY", raising=False)
        monkeypatch.delenv(f"{scheme}_proxy", raising=False)
    assert env_proxy("https://api.openai.com/v1/chat/completions") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert env_proxy("https://api.openai.com/v1/chat/completions") == "http://proxy.example:3128"
    assert env_proxy("http://10.0.0.5:8000/v1/chat/completions") is None
    monkeypatch.setenv("ALL_PROXY", "http://all.example:8080")
    assert env_proxy("http://10.0.0.5:8000/v1/chat/completions") == "http://all.example:8080"
    monkeypatch.setenv("NO_PROXY", "localhost, .openai.com")
    assert env_proxy("https://api.openai.com/v1/chat/completions") is None
    assert env_proxy("https://openai.com.evil.example/v1/chat/completions") == "http://proxy.example:3128"
    assert env_proxy("http://10.0.0.5:8000/v1/chat/completions") == "http://all.example:8080"
